import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/protocol/codec.js';
import { ProduceResponse } from '../../src/protocol/generated/messages.js';
import { startTestBroker } from '../../src/test-support/broker.js';
import { createTopic, endOffsets, fixedRateProduce } from './wire.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A server that answers every Produce v7 with no error, `delayMs` after it arrived. */
async function slowServer(delayMs: number): Promise<number> {
  const body = encode(ProduceResponse, 7, {
    responses: [
      {
        name: 't',
        partitionResponses: [
          { index: 0, errorCode: 0, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0 },
        ],
      },
    ],
    throttleTimeMs: 0,
  });
  server = createServer((s) => {
    let buffered = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const reply = Buffer.alloc(8 + body.length);
        reply.writeInt32BE(4 + body.length, 0);
        reply.writeInt32BE(buffered.readInt32BE(8), 4); // correlation id
        body.copy(reply, 8);
        buffered = buffered.subarray(4 + buffered.readInt32BE(0));
        setTimeout(() => s.write(reply), delayMs);
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

describe('fixedRateProduce (bench:kafka light-client latency)', () => {
  it('sends the records due every millisecond to a broker, all of them arriving', async () => {
    const tb = await startTestBroker();
    try {
      await createTopic(tb.port, 'fixed', 1);
      const r = await fixedRateProduce({
        port: tb.port,
        topic: 'fixed',
        rate: 5000,
        secs: 0.4,
        recordBytes: 100,
      });
      // 5 records a request, a request every millisecond for 0.4 s.
      expect(r.requests).toBe(400);
      expect(await endOffsets(tb.port, 'fixed', 1)).toEqual([2000]);
      expect(r.p50).toBeGreaterThan(0);
      expect(r.p99).toBeGreaterThanOrEqual(r.p50);
      expect(r.p999).toBeGreaterThanOrEqual(r.p99);
    } finally {
      await tb.close();
    }
  });

  it('keeps sending while answers are late (an open loop), and counts their wait', async () => {
    const port = await slowServer(150);
    const t0 = performance.now();
    const r = await fixedRateProduce({ port, topic: 't', rate: 1000, secs: 0.3, recordBytes: 100 });
    // A closed loop would send the next request only after an answer: 300 requests × 150 ms.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.requests).toBe(300);
    expect(r.p50).toBeGreaterThanOrEqual(150);
  });
});
