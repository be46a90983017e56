/**
 * A second file sharing nothing with kafkajs-produce.test.ts but its topic names: run in
 * parallel, each against its own embedded broker, with reset() between tests.
 */
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startBroker } from '../index.js';

let kafka: EmbeddedBroker;
let producer: Producer;
let admin: Admin;

beforeAll(async () => {
  kafka = await startBroker();
  const client = new Kafka({ clientId: 'reset-suite', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  producer = client.producer();
  admin = client.admin();
  await Promise.all([producer.connect(), admin.connect()]);
});

beforeEach(async () => {
  await kafka.reset();
});

afterAll(async () => {
  await Promise.all([producer?.disconnect(), admin?.disconnect()]);
  await kafka?.close();
});

describe('reset() between tests (kafkajs)', () => {
  it('a producer connected before reset() keeps working after it', async () => {
    const first = await producer.send({ topic: 'events', messages: [{ value: 'a' }, { value: 'b' }] });
    expect(first[0]!.baseOffset).toBe('0');
    await kafka.reset();
    expect(await admin.listTopics()).toEqual([]);
    const again = await producer.send({ topic: 'events', messages: [{ value: 'c' }] });
    expect(again[0]!.baseOffset).toBe('0');
  });

  it('reset() is fast enough to run before every test', async () => {
    for (let i = 0; i < 5; i++) await producer.send({ topic: `t${i}`, messages: [{ value: 'x' }] });
    const started = performance.now();
    const deleted = await kafka.reset();
    // 'events' from the previous test may be back: kafkajs asks Metadata for every topic it has
    // sent to, and auto-create brings it back (empty), as Kafka would.
    expect(deleted).toEqual(expect.arrayContaining(['t0', 't1', 't2', 't3', 't4']));
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('sees no topic left from the previous test', async () => {
    expect(await admin.listTopics()).toEqual([]);
    const sent = await producer.send({ topic: 'events', messages: [{ value: 'fresh' }] });
    expect(sent[0]!.baseOffset).toBe('0');
  });

  // Last: it creates the internal topics, which reset() keeps.
  it('reset() with a transaction open leaves no open transaction in __consumer_offsets', async () => {
    const client = new Kafka({ clientId: 'reset-txn', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const txProducer = client.producer({
      transactionalId: 'reset-txn',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await txProducer.connect();
    await admin.createTopics({ topics: [{ topic: 'txn-in', numPartitions: 1 }] });
    const txn = await txProducer.transaction();
    await txn.send({ topic: 'txn-in', messages: [{ value: 'x' }] });
    await txn.sendOffsets({
      consumerGroupId: 'reset-group',
      topics: [{ topic: 'txn-in', partitions: [{ partition: 0, offset: '1' }] }],
    });
    const offsets = () =>
      kafka.broker.metadata
        .topic('__consumer_offsets')!
        .partitions.map(
          (p) => kafka.broker.replicaManager.getPartition('__consumer_offsets', p.partitionId)!,
        );
    expect(offsets().some((p) => p.log.producerStateManager.ongoingTransactions().length > 0)).toBe(true);
    await kafka.reset();
    for (const p of offsets()) {
      expect(p.log.producerStateManager.ongoingTransactions()).toEqual([]);
      expect(p.log.lastStableOffset).toBe(p.log.logEndOffset);
    }
    expect(kafka.broker.transactionCoordinator.transaction('reset-txn')).toBeUndefined();
    await txProducer.disconnect().catch(() => {});
  });
});
