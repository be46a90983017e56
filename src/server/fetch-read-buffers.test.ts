// Pooled segment reads (storage/read-buffer-pool.ts) over real TCP: the connection gives a read
// buffer back only once the socket has taken its bytes, so a client reading many large fetches
// on one connection, where every fetch reuses a store, still gets every byte as produced. Large
// Produce frames are joined into pooled request buffers too, given back once handled: producers
// sending many of them at once, acks=1 and acks=all, find every value as sent. (Fetches read into
// buffers unless socket.sendfile.enable=true, said here so; zero-copy-sender.test.ts covers sendfile.)
import { createHash } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readBuffers, requestBuffers } from '../storage/read-buffer-pool.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { until } from '../test-support/until.js';

let tb: TestBroker;
let kafka: Kafka;

beforeAll(async () => {
  tb = await startTestBroker({
    'num.partitions': '2',
    'group.initial.rebalance.delay.ms': '0',
    'socket.sendfile.enable': 'false',
  });
  kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'read-buffers', logLevel: logLevel.NOTHING });
});
afterAll(async () => {
  await tb.close();
});

/** 100 KiB of bytes that differ from one message to the next. */
function value(i: number): Buffer {
  const out = Buffer.allocUnsafe(100 * 1024);
  for (let pos = 0; pos < out.length; pos += 32) {
    createHash('sha256').update(`${i}:${pos}`).digest().copy(out, pos);
  }
  return out;
}

it('a consumer reading 8 MB in fetches of pooled reads gets every value byte-identical, in order', async () => {
  const topic = 'pooled-reads';
  const producer = kafka.producer();
  await producer.connect();
  const n = 80;
  for (let i = 0; i < n; i += 2) {
    await producer.send({
      topic,
      messages: [
        { partition: i % 4 === 0 ? 0 : 1, key: String(i), value: value(i) },
        { partition: i % 4 === 0 ? 0 : 1, key: String(i + 1), value: value(i + 1) },
      ],
    });
  }
  await producer.disconnect();
  const consumer = kafka.consumer({
    groupId: 'pooled',
    maxBytesPerPartition: 300 * 1024,
    maxWaitTimeInMs: 100,
  });
  const seen = new Map<number, number[]>();
  let mismatches = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const i = Number(message.key!.toString());
      if (!message.value!.equals(value(i))) mismatches++;
      seen.set(partition, [...(seen.get(partition) ?? []), i]);
    },
  });
  try {
    await until(() => (seen.get(0)?.length ?? 0) + (seen.get(1)?.length ?? 0) >= n, 20_000);
  } finally {
    await consumer.disconnect();
  }
  expect(mismatches).toBe(0);
  const expected = (p: number) =>
    Array.from({ length: n }, (_, i) => i).filter((i) => (Math.floor(i / 2) % 2 === 0 ? 0 : 1) === p);
  expect(seen.get(0)).toEqual(expected(0));
  expect(seen.get(1)).toEqual(expected(1));
  // The reads came back to the pool after being written.
  expect(readBuffers.freeByteCount).toBeGreaterThan(0);
}, 30_000);

it('large Produce frames joined in pooled request buffers: concurrent producers, acks=1 and all, every value as sent', async () => {
  const topic = 'pooled-requests';
  const admin = kafka.admin();
  await admin.connect();
  // flush.messages=1: each answer waits for an fsync off the loop, so the frames a producer sends
  // meanwhile queue up, each in its own pooled buffer, until their turn.
  await admin.createTopics({
    topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'flush.messages', value: '1' }] }],
  });
  await admin.disconnect();
  const taken = { pooled: 0 };
  const take = requestBuffers.take.bind(requestBuffers);
  requestBuffers.take = (size: number) => {
    taken.pooled++;
    return take(size);
  };
  const per = 24;
  const producers = await Promise.all(
    [1, -1, 1, -1].map(async (acks, k) => {
      const p = kafka.producer({ maxInFlightRequests: 5 });
      await p.connect();
      return { p, acks, k };
    }),
  );
  try {
    // Every producer sends its batches without waiting for the previous answer (several frames in
    // flight per connection, queued behind the one being handled).
    await Promise.all(
      producers.map(({ p, acks, k }) =>
        Promise.all(
          Array.from({ length: per / 2 }, (_, j) => {
            const i = k * per + 2 * j;
            return p.send({
              topic,
              acks,
              messages: [
                { partition: i % 3, key: String(i), value: value(i) },
                { partition: i % 3, key: String(i + 1), value: value(i + 1) },
              ],
            });
          }),
        ),
      ),
    );
  } finally {
    requestBuffers.take = take;
    for (const { p } of producers) await p.disconnect();
  }
  expect(taken.pooled).toBeGreaterThan(0);
  const consumer = kafka.consumer({
    groupId: 'pooled-requests',
    maxBytesPerPartition: 1 << 20,
    maxWaitTimeInMs: 100,
  });
  const seen = new Set<number>();
  let mismatches = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const i = Number(message.key!.toString());
      if (!message.value!.equals(value(i))) mismatches++;
      seen.add(i);
    },
  });
  try {
    await until(() => seen.size >= producers.length * per, 20_000);
  } finally {
    await consumer.disconnect();
  }
  expect(mismatches).toBe(0);
  expect(seen.size).toBe(producers.length * per);
  expect(requestBuffers.freeByteCount).toBeGreaterThan(0);
}, 30_000);
