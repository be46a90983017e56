import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PipelineClient } from './pipeline-client.js';

/** Size-prefixed frames of the given sizes, each filled with its own index. */
function frames(sizes: number[]): Buffer {
  return Buffer.concat(
    sizes.map((n, i) => {
      const f = Buffer.alloc(4 + n, i);
      f.writeInt32BE(n, 0);
      return f;
    }),
  );
}

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A server that answers the first request with `bytes`, written in pieces cut at `cuts`. */
async function serve(bytes: Buffer, cuts: number[]): Promise<number> {
  server = createServer((s) => {
    s.setNoDelay(true);
    s.once('data', async () => {
      let at = 0;
      for (const cut of [...cuts, bytes.length]) {
        s.write(bytes.subarray(at, cut));
        at = cut;
        // A pause between pieces, so that each reaches the client in a read of its own.
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

describe('PipelineClient framing', () => {
  it('cuts replies that arrive split inside the size prefix, inside a frame and several to a read', async () => {
    const sizes = [10, 3, 70_000, 1, 200];
    const bytes = frames(sizes);
    // a cut inside the first prefix, inside the first frame, after the 2nd frame's prefix's 2nd byte,
    // in the middle of the large frame, and one read holding the last two frames whole
    const cuts = [2, 9, 14 + 4 + 2, 14 + 7 + 35_000, 14 + 7 + 70_004];
    const c = await PipelineClient.connect(await serve(bytes, cuts));
    try {
      const replies = await Promise.all(sizes.map(() => c.send(Buffer.from([0, 0, 0, 0]))));
      expect(replies.map((r) => r.length)).toEqual(sizes);
      for (const [i, r] of replies.entries()) expect(r.every((b) => b === i)).toBe(true);
    } finally {
      c.close();
    }
  }, 10_000);
});
