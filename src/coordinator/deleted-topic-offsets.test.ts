/**
 * A deleted topic takes its committed offsets with it (Kafka's GroupCoordinator
 * `onPartitionsDeleted`): with kafkajs, offsets committed by a consumer group, set by the admin
 * client and staged by a transaction are gone once the topic is deleted; the topic re-created
 * under the same name (and grown by CreatePartitions) answers -1 to OffsetFetch, the group lists
 * only the offsets of topics that still exist, and all of it holds after a restart (the
 * tombstones are in `__consumer_offsets`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { until } from '../test-support/until.js';

const FAST = {
  'group.initial.rebalance.delay.ms': '0',
  'offsets.topic.num.partitions': '3',
  'transaction.state.log.num.partitions': '3',
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('offsets of a deleted topic', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(dataDir: string): Promise<{ tb: TestBroker; kafka: Kafka; admin: Admin }> {
    const tb = await startTestBroker(FAST, dataDir);
    const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await admin.disconnect();
      await tb.close();
    };
    cleanups.push(close);
    return { tb, kafka, admin: Object.assign(admin, { close }) };
  }

  async function committed(admin: Admin, groupId: string, topic: string): Promise<Record<number, string>> {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]));
  }

  async function topicsWithOffsets(admin: Admin, groupId: string): Promise<string[]> {
    // No topics named: OffsetFetch for every offset of the group (what kafka-consumer-groups --describe shows).
    const all = await admin.fetchOffsets({ groupId });
    return all.map((t) => t.topic).sort();
  }

  it('removes committed, admin-set and transactional offsets; the re-created topic starts at -1, also after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-deleted-offsets-'));
    dirs.push(dataDir);
    let { kafka, admin } = await start(dataDir);
    await admin.createTopics({
      topics: [
        { topic: 'doomed', numPartitions: 2 },
        { topic: 'kept', numPartitions: 1 },
      ],
    });

    // A consumer group that consumed and committed.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'doomed',
      messages: Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, value: `m${i}` })),
    });
    await producer.send({ topic: 'kept', messages: [{ value: 'k' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'readers' });
    await consumer.connect();
    await consumer.subscribe({ topics: ['doomed', 'kept'], fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachMessage: async () => {
        seen++;
      },
    });
    await until(() => seen >= 7, 20_000, '7 records consumed');
    expect(seen).toBe(7);
    await consumer.disconnect(); // commits on the way out
    expect(await committed(admin, 'readers', 'doomed')).toEqual({ 0: '3', 1: '3' });
    expect(await topicsWithOffsets(admin, 'readers')).toEqual(['doomed', 'kept']);

    // A group that only ever had offsets of the doomed topic, set by the admin client.
    await admin.setOffsets({
      groupId: 'only-doomed',
      topic: 'doomed',
      partitions: [
        { partition: 0, offset: '2' },
        { partition: 1, offset: '1' },
      ],
    });
    expect(await committed(admin, 'only-doomed', 'doomed')).toEqual({ 0: '2', 1: '1' });

    // A transaction stages offsets of the doomed topic and commits only after the deletion.
    const txProducer = kafka.producer({
      transactionalId: 'tx-offsets',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await txProducer.connect();
    const txn = await txProducer.transaction();
    await txn.sendOffsets({
      consumerGroupId: 'txn-group',
      topics: [{ topic: 'doomed', partitions: [{ partition: 1, offset: '5' }] }],
    });
    await txn.sendOffsets({
      consumerGroupId: 'txn-group',
      topics: [{ topic: 'kept', partitions: [{ partition: 0, offset: '1' }] }],
    });

    await admin.deleteTopics({ topics: ['doomed'] });
    await txn.commit();
    await txProducer.disconnect();

    // Re-created with one partition, then grown to two as CreatePartitions does.
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'doomed', count: 2 }] });

    const check = async () => {
      for (const groupId of ['readers', 'only-doomed', 'txn-group']) {
        expect(await committed(admin, groupId, 'doomed')).toEqual({ 0: '-1', 1: '-1' });
      }
      expect(await topicsWithOffsets(admin, 'readers')).toEqual(['kept']);
      expect(await committed(admin, 'readers', 'kept')).toEqual({ 0: '1' });
      expect(await topicsWithOffsets(admin, 'only-doomed')).toEqual([]);
      expect(await topicsWithOffsets(admin, 'txn-group')).toEqual(['kept']);
      expect(await committed(admin, 'txn-group', 'kept')).toEqual({ 0: '1' });
      // The group that had nothing else is gone, as Kafka removes an Empty group without offsets.
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
      expect(groups).toEqual(['readers', 'txn-group']);
    };
    await check();

    // The tombstones are in __consumer_offsets: a restart replays them.
    await (admin as Admin & { close(): Promise<void> }).close();
    ({ kafka, admin } = await start(dataDir));
    await check();
  });

  it('an offset staged by a transaction still open across a restart does not come back with its COMMIT', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-deleted-offsets-'));
    dirs.push(dataDir);
    let { tb, kafka, admin } = await start(dataDir);
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }] });
    const txProducer = kafka.producer({
      transactionalId: 'tx-open',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await txProducer.connect();
    const txn = await txProducer.transaction();
    await txn.sendOffsets({
      consumerGroupId: 'open-txn-group',
      topics: [{ topic: 'doomed', partitions: [{ partition: 0, offset: '9' }] }],
    });
    await admin.deleteTopics({ topics: ['doomed'] });
    const { producerId, producerEpoch } = tb.broker.transactionCoordinator.transaction('tx-open')!;
    await txProducer.disconnect(); // the transaction stays open: kafkajs does not abort on disconnect
    await (admin as Admin & { close(): Promise<void> }).close();

    ({ tb, kafka, admin } = await start(dataDir));
    // The restarted coordinator completes the transaction as the producer would.
    expect(
      await tb.broker.transactionCoordinator.handleEndTransaction(
        'tx-open',
        producerId,
        producerEpoch,
        'COMMIT',
      ),
    ).toBe('NONE');
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }] });
    expect(await committed(admin, 'open-txn-group', 'doomed')).toEqual({ 0: '-1' });
  });
});
