/**
 * One of several files that each embed a broker with startBroker() and share it between their
 * tests through reset(); vitest runs the files in parallel (one process each), and every file
 * uses the same topic names, so any leak between brokers or between tests shows as wrong offsets.
 */
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startBroker } from '../index.js';

let kafka: EmbeddedBroker;
let producer: Producer;
let admin: Admin;

beforeAll(async () => {
  kafka = await startBroker({ 'num.partitions': 3 });
  const client = new Kafka({ clientId: 'produce-suite', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  producer = client.producer({ allowAutoTopicCreation: true });
  admin = client.admin();
  await Promise.all([producer.connect(), admin.connect()]);
});

afterEach(async () => {
  await kafka.reset();
});

afterAll(async () => {
  await Promise.all([producer?.disconnect(), admin?.disconnect()]);
  await kafka?.close();
});

async function endOffsets(topic: string): Promise<number[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
}

describe('kafkajs against an embedded broker (produce)', () => {
  it('auto-creates a topic with num.partitions and appends to each partition', async () => {
    await producer.send({
      topic: 'events',
      messages: [0, 1, 2, 0, 1, 0].map((partition, i) => ({ partition, value: `v${i}` })),
    });
    expect(await endOffsets('events')).toEqual([3, 2, 1]);
  });

  it('starts from a clean broker after reset(): same topic, offsets from 0 again', async () => {
    expect(kafka.topics()).toEqual([]);
    await producer.send({ topic: 'events', messages: [{ partition: 2, value: 'only' }] });
    expect(await endOffsets('events')).toEqual([0, 0, 1]);
  });

  it('topics made with createTopic() are visible to clients', async () => {
    await kafka.createTopic('made-here', { partitions: 5 });
    const meta = await admin.fetchTopicMetadata({ topics: ['made-here'] });
    expect(meta.topics[0]!.partitions).toHaveLength(5);
    expect(await admin.listTopics()).toEqual(['made-here']);
  });

  it('sends 1,000 records in batches and counts them all', async () => {
    for (let b = 0; b < 10; b++) {
      await producer.send({
        topic: 'bulk',
        messages: Array.from({ length: 100 }, (_, i) => ({ partition: i % 3, value: `r${b}-${i}` })),
      });
    }
    const offsets = await endOffsets('bulk');
    expect(offsets.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(kafka.broker.metrics.messagesIn.get('bulk')).toBe(1000);
  });
});
