/**
 * Transactions across brokers, with kafkajs 2.2.4 on `startCluster({ brokers: 3 })`: the partitions
 * of one transaction are led by different brokers, so the coordinator writes most markers with
 * WriteTxnMarkers to the other leaders, and the leaders verify transactional produce by asking the
 * coordinator on its broker (AddPartitionsToTxn v5, verify only). Commits and aborts reach every
 * partition; a read_committed consumer sees exactly the committed records. Then the coordinator's
 * broker is killed in the middle of a transaction: the new leader of its `__transaction_state`
 * partition loads the open transaction, the producer finds it and commits. A transaction left open
 * when its coordinator dies is aborted by the new coordinator once its timeout passes.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedCluster, startCluster } from '../../index.js';
import { until as waitUntil } from '../../test-support/until.js';
import { TRANSACTION_STATE_TOPIC_NAME } from './transaction-log.js';

const until = (what: string, check: () => boolean | Promise<boolean>, ms = 30_000) =>
  waitUntil(check, ms, what);

let kafka: EmbeddedCluster;
let client: Kafka;
let admin: Admin;

beforeAll(async () => {
  kafka = await startCluster({
    brokers: 3,
    config: {
      'broker.session.timeout.ms': 1000,
      'replica.fetch.wait.max.ms': 100,
      'replica.fetch.backoff.ms': 100,
      'transaction.state.log.num.partitions': 6,
      'offsets.topic.num.partitions': 3,
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500,
    },
  });
  client = new Kafka({
    clientId: 'txn-cluster',
    brokers: kafka.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  admin = client.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await kafka?.close();
});

/** Leader of each partition, from the controller's image. */
function leaders(topic: string, partitions: number): number[] {
  return Array.from(
    { length: partitions },
    (_, p) => kafka.cluster.controller.image.partition(topic, p)!.leader,
  );
}

/** The broker coordinating `transactionalId`: the leader of its `__transaction_state` partition. */
function coordinatorOf(transactionalId: string): number {
  const any = kafka.cluster.brokers[0]!;
  const p = any.transactionCoordinator.partitionFor(transactionalId);
  return kafka.cluster.controller.image.partition(TRANSACTION_STATE_TOPIC_NAME, p)!.leader;
}

/** Every value a read_committed (or read_uncommitted) consumer group reads from `topic`, once it reached `expected`. */
async function consume(topic: string, groupId: string, expected: number, readUncommitted = false) {
  const consumer = client.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
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
  try {
    await until(`${expected} records of ${topic}`, () => seen.length >= expected);
    // An aborted record would arrive before the consumer reaches each partition's end (its LSO
    // read_committed): wait for that rather than a guessed pause.
    await until(`the consumer at the end of every partition of ${topic}`, () => {
      const partitions = kafka.cluster.controller.image.topic(topic)!.partitions.length;
      for (let p = 0; p < partitions; p++) {
        const state = kafka.cluster.controller.image.partition(topic, p)!;
        const leader = kafka.broker(state.leader)?.replicaManager.getPartition(topic, p);
        if (!leader) return false;
        const end = readUncommitted ? leader.highWatermark : leader.lastStableOffset;
        if ((position.get(p) ?? 0) < end) return false;
      }
      return true;
    });
  } finally {
    await consumer.disconnect();
  }
  return seen.sort();
}

describe('transactions across three brokers (kafkajs)', () => {
  it('commits and aborts over partitions led by different brokers', async () => {
    const topic = 'txn-spread';
    // One replica each: every partition lives on its leader only, so markers must travel.
    await admin.createTopics({
      topics: [{ topic, numPartitions: 6, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(new Set(leaders(topic, 6)).size).toBe(3);
    const producer = client.producer({
      transactionalId: 'spread-1',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const round = async (tag: string, commit: boolean) => {
      const t = await producer.transaction();
      for (let p = 0; p < 6; p++) await t.send({ topic, messages: [{ partition: p, value: `${tag}-${p}` }] });
      if (commit) await t.commit();
      else await t.abort();
    };
    await round('c1', true);
    const coordinator = coordinatorOf('spread-1');
    // Most partitions are led by a broker that is not the coordinator.
    expect(leaders(topic, 6).filter((l) => l !== coordinator).length).toBeGreaterThanOrEqual(2);
    await round('a1', false);
    await round('c2', true);
    await round('a2', false);
    await producer.disconnect();
    expect(
      kafka.broker(coordinator)!.transactionCoordinator.describeTransaction('spread-1').transactionState,
    ).toBe('CompleteAbort');
    // Every partition has both markers of each transaction: nothing is left open.
    for (let p = 0; p < 6; p++) {
      const partition = kafka.broker(leaders(topic, 6)[p]!)!.replicaManager.getPartition(topic, p)!;
      expect(partition.lastStableOffset).toBe(partition.highWatermark);
      expect(partition.highWatermark).toBe(8); // 4 records + 4 markers
    }
    const committed = await consume(topic, 'spread-committed', 12);
    expect(committed).toEqual(
      ['c1', 'c2'].flatMap((tag) => Array.from({ length: 6 }, (_, p) => `${tag}-${p}`)).sort(),
    );
    const all = await consume(topic, 'spread-uncommitted', 24, true);
    expect(all.length).toBe(24);
  });

  it('refuses a transactional produce to a partition not in the transaction, asking a coordinator on another broker', async () => {
    const topic = 'txn-verify';
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const producer = client.producer({
      transactionalId: 'verify-1',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic, messages: [{ partition: 0, value: 'in' }] });
    const coordinator = coordinatorOf('verify-1');
    // A partition outside the transaction so far, led by a broker that is not the coordinator.
    const other = leaders(topic, 3).findIndex((l, p) => p > 0 && l !== coordinator);
    expect(other).toBeGreaterThan(0);
    const leader = kafka.broker(leaders(topic, 3)[other]!)!;
    const txn = kafka.broker(coordinator)!.transactionCoordinator.transaction('verify-1')!;
    // What a partition leader asks of a coordinator elsewhere: the partition is not in the transaction.
    expect(
      await leader.transactionCoordinator.verifyTransactionalProduce(
        'verify-1',
        txn.producerId,
        txn.producerEpoch,
        [{ topic, partition: other }],
      ),
    ).toEqual(['TRANSACTION_ABORTABLE']);
    expect(
      await leader.transactionCoordinator.verifyTransactionalProduce(
        'verify-1',
        txn.producerId,
        txn.producerEpoch + 1,
        [{ topic, partition: 0 }],
      ),
    ).toEqual(['INVALID_PRODUCER_EPOCH']);
    // Added by the producer (AddPartitionsToTxn to the coordinator): verified from any leader.
    await t.send({ topic, messages: [{ partition: other, value: 'in-too' }] });
    expect(
      await leader.transactionCoordinator.verifyTransactionalProduce(
        'verify-1',
        txn.producerId,
        txn.producerEpoch,
        [{ topic, partition: other }],
      ),
    ).toEqual(['NONE']);
    await t.commit();
    await producer.disconnect();
    expect(await consume(topic, 'verify-committed', 2)).toEqual(['in', 'in-too']);
  });

  it('keeps an open transaction when its coordinator broker is killed, and commits it on the new coordinator', async () => {
    const topic = 'txn-failover';
    await admin.createTopics({
      topics: [{ topic, numPartitions: 6, replicationFactor: 3 }],
      waitForLeaders: true,
    });
    const id = 'failover-1';
    const producer = client.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const t0 = await producer.transaction();
    await t0.send({ topic, messages: [{ partition: 0, value: 'before-0' }] });
    await t0.commit();
    const t = await producer.transaction();
    for (let p = 0; p < 6; p++) await t.send({ topic, messages: [{ partition: p, value: `open-${p}` }] });
    const coordinator = coordinatorOf(id);
    await kafka.killBroker(coordinator);
    await until('another broker coordinates the transactional id', () => {
      const now = coordinatorOf(id);
      return (
        now !== coordinator &&
        now >= 0 &&
        kafka.broker(now)!.transactionCoordinator.transaction(id) !== undefined
      );
    });
    const successor = kafka.broker(coordinatorOf(id))!;
    const loaded = successor.transactionCoordinator.describeTransaction(id);
    expect(loaded.transactionState).toBe('Ongoing');
    expect(loaded.topics).toEqual([{ topic, partitions: [0, 1, 2, 3, 4, 5] }]);
    // The producer finds the new coordinator (and the partitions' new leaders) and commits.
    for (let p = 0; p < 6; p++) await t.send({ topic, messages: [{ partition: p, value: `after-${p}` }] });
    await t.commit();
    expect(successor.transactionCoordinator.describeTransaction(id).transactionState).toBe('CompleteCommit');
    await producer.disconnect();
    const seen = await consume(topic, 'failover-committed', 13);
    expect(seen).toEqual(
      [
        'before-0',
        ...Array.from({ length: 6 }, (_, p) => `open-${p}`),
        ...Array.from({ length: 6 }, (_, p) => `after-${p}`),
      ].sort(),
    );
    await kafka.startBroker(coordinator);
  });

  it('aborts a transaction whose coordinator died once its timeout passes on the new coordinator', async () => {
    const topic = 'txn-orphan';
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 3 }],
      waitForLeaders: true,
    });
    await until('every broker back in the ISRs', () =>
      [0, 1, 2].every((p) => kafka.cluster.controller.image.partition(topic, p)!.isr.length === 3),
    );
    const id = 'orphan-1';
    const producer = client.producer({
      transactionalId: id,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 3000,
    });
    await producer.connect();
    const t = await producer.transaction();
    for (let p = 0; p < 3; p++) await t.send({ topic, messages: [{ partition: p, value: `orphan-${p}` }] });
    const coordinator = coordinatorOf(id);
    // The producer goes away with its coordinator: nobody will end the transaction.
    await kafka.killBroker(coordinator);
    await producer.disconnect().catch(() => {});
    await until(
      'the new coordinator aborts the transaction after its timeout',
      () => {
        const now = coordinatorOf(id);
        if (now === coordinator || now < 0) return false;
        return (
          kafka.broker(now)!.transactionCoordinator.describeTransaction(id).transactionState ===
          'CompleteAbort'
        );
      },
      30_000,
    );
    // Every partition's last stable offset moved past the aborted records.
    await until('no partition left with an open transaction', () =>
      [0, 1, 2].every((p) => {
        const leader = kafka.broker(kafka.cluster.controller.image.partition(topic, p)!.leader);
        const partition = leader?.replicaManager.getPartition(topic, p);
        return partition !== undefined && partition.lastStableOffset === partition.highWatermark;
      }),
    );
    // Back, so that every topic has its leaders again (kafkajs asks for the metadata of all).
    await kafka.startBroker(coordinator);
    const writer = client.producer({ idempotent: true });
    await writer.connect();
    await writer.send({ topic, acks: -1, messages: [{ partition: 0, value: 'plain' }] });
    await writer.disconnect();
    expect(await consume(topic, 'orphan-committed', 1)).toEqual(['plain']);
  });
});
