/**
 * A TCP port free on 127.0.0.1 at the time of asking (bound to port 0, then closed). Another process may
 * take it before the caller binds it: callers that can retry on EADDRINUSE do.
 */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A port with the n − 1 after it free at the time of asking (a best effort, as any free-port probe). */
export async function freePortRun(n: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base + n > 65535) continue;
    const free = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<boolean>((resolve) => {
            const s = createServer()
              .once('error', () => resolve(false))
              .listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return base;
  }
  throw new Error('no run of free ports');
}
