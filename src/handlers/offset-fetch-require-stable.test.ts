/**
 * OffsetFetch `requireStable` (KIP-447) over TCP: while a kafkajs transaction holds a pending
 * transactional offset commit (sendOffsets → TxnOffsetCommit) for a group partition, OffsetFetch
 * v7+ with requireStable=true answers UNSTABLE_OFFSET_COMMIT (88) for that partition — in the
 * v1–7 layout and in the v8+ groups layout — while requireStable=false (and v6) still answers the
 * last committed offset. Once the transaction commits the new offset is answered; once one aborts
 * the old one is.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { until as waitUntil } from '../test-support/until.js';

interface Partition {
  partitionIndex: number;
  committedOffset: bigint | number;
  errorCode: number;
}
interface Topic {
  name: string;
  partitions: Partition[];
}
interface V7 {
  errorCode: number;
  topics: Topic[];
}
interface V8 {
  groups: { groupId: string; errorCode: number; topics: Topic[] }[];
}

const until = (what: string, check: () => Promise<boolean>, ms = 10_000) => waitUntil(check, ms, what, 50);

const row = (p: Partition) => [p.partitionIndex, Number(p.committedOffset), p.errorCode];

describe('OffsetFetch requireStable', () => {
  let tb: TestBroker;
  let kafka: Kafka;
  let c: TestClient;

  beforeAll(async () => {
    tb = await startTestBroker({
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '3',
      'transaction.state.log.num.partitions': '3',
    });
    kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'rs-test', logLevel: logLevel.NOTHING });
    c = await TestClient.connect(tb.port);
  });
  afterAll(async () => {
    c?.socket.destroy();
    await tb?.close();
  });

  it('answers UNSTABLE_OFFSET_COMMIT for partitions with pending transactional offsets', async () => {
    const topic = 'rs-in';
    const groupId = 'rs-group';
    await tb.broker.controller.createTopic(topic, 2);
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '3' }] });
    await admin.disconnect();

    const v7 = async (requireStable: boolean) =>
      (
        await c.request<V7>(9, 7, {
          groupId,
          topics: [{ name: topic, partitionIndexes: [0, 1] }],
          requireStable,
        })
      ).topics[0]!.partitions.map(row);
    const v8 = async (requireStable: boolean) =>
      (
        await c.request<V8>(9, 8, {
          groups: [
            { groupId, topics: [{ name: topic, partitionIndexes: [0, 1] }] },
            { groupId, topics: null },
          ],
          requireStable,
        })
      ).groups.map((g) => [g.errorCode, g.topics.flatMap((t) => t.partitions.map(row))]);

    const producer = kafka.producer({ transactionalId: 'rs-txn', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      // An open transaction with offset 7 for partition 0 of the group.
      let txn = await producer.transaction();
      await txn.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }],
      });
      expect(await v7(true)).toEqual([
        [0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
        [1, -1, ErrorCode.NONE],
      ]);
      const top = await c.request<V7>(9, 7, {
        groupId,
        topics: [{ name: topic, partitionIndexes: [0] }],
        requireStable: true,
      });
      expect(top.errorCode).toBe(ErrorCode.NONE);
      expect(await v8(true)).toEqual([
        [
          0,
          [
            [0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
            [1, -1, ErrorCode.NONE],
          ],
        ],
        [0, [[0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT]]],
      ]);
      // Without requireStable (and before v7) the last committed offset is answered.
      expect(await v7(false)).toEqual([
        [0, 3, 0],
        [1, -1, 0],
      ]);
      expect(await v8(false)).toEqual([
        [
          0,
          [
            [0, 3, 0],
            [1, -1, 0],
          ],
        ],
        [0, [[0, 3, 0]]],
      ]);
      const v6 = await c.request<V7>(9, 6, { groupId, topics: [{ name: topic, partitionIndexes: [0] }] });
      expect(v6.topics[0]!.partitions.map(row)).toEqual([[0, 3, 0]]);
      // Another group is not affected.
      const other = await c.request<V7>(9, 7, {
        groupId: 'rs-other',
        topics: [{ name: topic, partitionIndexes: [0] }],
        requireStable: true,
      });
      expect(other.topics[0]!.partitions.map(row)).toEqual([[0, -1, 0]]);

      // Commit: the new offset becomes stable.
      await txn.commit();
      await until('the committed transactional offset', async () => (await v7(true))[0]![2] === 0);
      expect(await v7(true)).toEqual([
        [0, 7, 0],
        [1, -1, 0],
      ]);

      // Abort: pending while open, then the previous offset again.
      txn = await producer.transaction();
      await txn.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: [{ partition: 1, offset: '9' }] }],
      });
      expect(await v7(true)).toEqual([
        [0, 7, 0],
        [1, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      ]);
      await txn.abort();
      await until('the aborted offset dropped', async () => (await v7(true))[1]![2] === 0);
      expect(await v7(true)).toEqual([
        [0, 7, 0],
        [1, -1, 0],
      ]);
    } finally {
      await producer.disconnect();
    }
  });
});
