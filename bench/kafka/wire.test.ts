import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/protocol/codec.js';
import { MetadataResponse, ProduceResponse } from '../../src/protocol/generated/messages.js';
import { startTestBroker } from '../../src/test-support/broker.js';
import { startTestCluster } from '../../src/test-support/cluster.js';
import {
  createTopic,
  endOffsets,
  fixedRateProduce,
  partitionsByLeader,
  pipelinedConsume,
  pipelinedProduce,
} from './wire.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/**
 * A server that answers every Produce v7 with no error, `delayMs` after it arrived, and a Metadata v1
 * at once: topic t's one partition led by itself.
 */
async function slowServer(delayMs: number): Promise<number> {
  const metadata = (port: number) =>
    encode(MetadataResponse, 1, {
      brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 't',
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    });
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
        const isMetadata = buffered.readInt16BE(4) === 3;
        const answer = isMetadata ? metadata((server!.address() as { port: number }).port) : body;
        const reply = Buffer.alloc(8 + answer.length);
        reply.writeInt32BE(4 + answer.length, 0);
        reply.writeInt32BE(buffered.readInt32BE(8), 4); // correlation id
        answer.copy(reply, 8);
        buffered = buffered.subarray(4 + buffered.readInt32BE(0));
        if (isMetadata) s.write(reply);
        else setTimeout(() => s.write(reply), delayMs);
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

describe('routing by partition leader (bench:kafka against kbroker --threads N)', () => {
  it("sends each partition's produce, fetch and ListOffsets to its leader", async () => {
    const tc = await startTestCluster(2);
    try {
      const port = Number(tc.bootstrap(1).split(':')[1]);
      await createTopic(port, 'spread', 6);
      const leaders = await partitionsByLeader(port, 'spread', 6);
      // Both brokers lead some of the six partitions (a request to the wrong one is NOT_LEADER).
      expect(leaders.size).toBe(2);
      expect([...leaders.values()].flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
      // 13 requests of 100 records: partition i % 6 gets request i, so partition 0 has three.
      await pipelinedProduce({
        port,
        topic: 'spread',
        partitions: 6,
        records: 1300,
        recordBytes: 10,
        acks: 1,
      });
      expect(await endOffsets(port, 'spread', 6)).toEqual([300, 200, 200, 200, 200, 200]);
      await pipelinedProduce({
        port,
        topic: 'spread',
        partitions: 6,
        records: 1200,
        recordBytes: 10,
        acks: -1,
        connections: 3,
      });
      expect(await endOffsets(port, 'spread', 6)).toEqual([500, 400, 400, 400, 400, 400]);
      expect(await pipelinedConsume({ port, topic: 'spread', partitions: 6, records: 2500 })).toBeGreaterThan(
        0,
      );
      // Fewer asked for than the leaders hold together: the surplus fails the run (a broker serving extra).
      await expect(pipelinedConsume({ port, topic: 'spread', partitions: 6, records: 2400 })).rejects.toThrow(
        /2500 records, expected 2400/,
      );
    } finally {
      await tc.close();
    }
  });
});
