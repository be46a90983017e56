/**
 * Exactly-once with kafkajs 2.2.4 over TCP: a transactional producer commits and aborts; a
 * read_committed consumer (kafkajs' default) sees exactly the committed records; `sendOffsets`
 * inside a transaction moves the group's offset only when the transaction commits; two producers
 * with the same transactional id — the older is fenced.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test-support/broker.js';
import { until as waitUntil } from '../../test-support/until.js';

const until = (what: string, check: () => boolean | Promise<boolean>, ms = 20_000) =>
  waitUntil(check, ms, what);

describe('kafkajs transactions', () => {
  let tb: TestBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    tb = await startTestBroker({
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '3',
      'transaction.state.log.num.partitions': '5',
    });
    kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'txn-test', logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await tb.close();
  });

  async function createTopic(topic: string, numPartitions = 2): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
    await admin.disconnect();
  }

  async function consumeAll(topic: string, groupId: string, expected: number, readUncommitted = false) {
    const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    // Next offset per partition after each batch (also batches of only markers or aborted records).
    const position = new Map<number, number>();
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      position.set(
        payload.partition,
        Math.max(position.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1),
      );
    });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
      },
    });
    await until(`${expected} messages`, () => seen.length >= expected);
    // Anything unexpected (an aborted record) would show up before the consumer reaches the end of
    // each partition (its LSO read_committed, else its high watermark): wait for that, not a guess.
    await until('the consumer at the end of every partition', () => {
      for (let i = 0; ; i++) {
        const p = tb.broker.replicaManager.getPartition(topic, i);
        if (!p) return true;
        const end = readUncommitted ? p.highWatermark : p.lastStableOffset;
        if ((position.get(i) ?? 0) < end) return false;
      }
    });
    await consumer.disconnect();
    return seen;
  }

  it('commits and aborts; a read_committed consumer sees only committed records', async () => {
    const topic = 'txn-commit-abort';
    await createTopic(topic);
    const producer = kafka.producer({ transactionalId: 'tx-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let t = await producer.transaction();
    await t.send({
      topic,
      messages: [
        { value: 'c1', partition: 0 },
        { value: 'c2', partition: 1 },
      ],
    });
    await t.commit();
    t = await producer.transaction();
    await t.send({
      topic,
      messages: [
        { value: 'a1', partition: 0 },
        { value: 'a2', partition: 1 },
      ],
    });
    await t.abort();
    t = await producer.transaction();
    await t.send({
      topic,
      messages: [
        { value: 'c3', partition: 0 },
        { value: 'c4', partition: 1 },
      ],
    });
    await t.commit();
    await producer.disconnect();

    const committed = await consumeAll(topic, 'g-committed', 4);
    expect(committed.sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
    const uncommitted = await consumeAll(topic, 'g-uncommitted', 6, true);
    expect(uncommitted.sort()).toEqual(['a1', 'a2', 'c1', 'c2', 'c3', 'c4']);

    const desc = tb.broker.transactionCoordinator.describeTransaction('tx-1');
    expect(desc.transactionState).toBe('CompleteCommit');
  });

  it('read_committed stops at an open transaction (LSO) until it commits', async () => {
    const topic = 'txn-lso';
    await createTopic(topic, 1);
    const producer = kafka.producer({ transactionalId: 'tx-lso', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic, messages: [{ value: 'open' }] });
    const p = tb.broker.replicaManager.getPartition(topic, 0)!;
    expect(p.highWatermark).toBe(1);
    expect(p.lastStableOffset).toBe(0);
    const admin = kafka.admin();
    await admin.connect();
    // ListOffsets latest: kafkajs asks read_committed (isolation level 1) → the LSO.
    expect(await admin.fetchTopicOffsets(topic)).toEqual([
      expect.objectContaining({ partition: 0, offset: '0', high: '0' }),
    ]);
    await t.commit();
    expect(p.lastStableOffset).toBe(2); // data + COMMIT marker
    expect(await admin.fetchTopicOffsets(topic)).toEqual([
      expect.objectContaining({ partition: 0, offset: '2' }),
    ]);
    await admin.disconnect();
    await producer.disconnect();
  });

  it('sendOffsets moves the group offset only on commit', async () => {
    const input = 'txn-sendoffsets-in';
    await createTopic(input, 1);
    const groupId = 'txn-sendoffsets-group';
    const producer = kafka.producer({
      transactionalId: 'tx-offsets',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const committedOffset = async () =>
      (await admin.fetchOffsets({ groupId, topics: [input] }))[0]!.partitions[0]!.offset;

    let t = await producer.transaction();
    await t.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '5' }] }],
    });
    expect(await committedOffset()).toBe('-1');
    await t.abort();
    expect(await committedOffset()).toBe('-1');

    t = await producer.transaction();
    await t.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '7' }] }],
    });
    expect(await committedOffset()).toBe('-1');
    await t.commit();
    expect(await committedOffset()).toBe('7');
    await admin.disconnect();
    await producer.disconnect();
  });

  it('fences the older of two producers with the same transactional id', async () => {
    const topic = 'txn-zombie';
    await createTopic(topic, 1);
    const older = kafka.producer({
      transactionalId: 'tx-zombie',
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 1 },
    });
    await older.connect();
    const t1 = await older.transaction();
    await t1.send({ topic, messages: [{ value: 'zombie' }] });

    const newer = kafka.producer({ transactionalId: 'tx-zombie', idempotent: true, maxInFlightRequests: 1 });
    await newer.connect(); // InitProducerId: aborts the older's transaction and bumps the epoch
    const t2 = await newer.transaction();
    await t2.send({ topic, messages: [{ value: 'live' }] });
    await t2.commit();

    await expect(t1.commit()).rejects.toThrow(/fenced|epoch/i);
    await older.disconnect().catch(() => {});
    await newer.disconnect();
    const seen = await consumeAll(topic, 'g-zombie', 1);
    expect(seen).toEqual(['live']);
  });
});
