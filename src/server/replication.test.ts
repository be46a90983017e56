/**
 * Replication between three brokers of one in-process cluster (src/server/cluster.ts), over real
 * TCP: leadership comes from the shared controller's metadata image (ReplicaManager.applyDelta →
 * makeLeaders / makeFollowers), ISR changes go through its AlterPartition. Brokers are killed
 * (crash, not fenced: their session outlives the test) or stopped (controlled shutdown). kafkajs produces to
 * the leader; the followers' replica fetchers pull with Kafka's Fetch and OffsetForLeaderEpoch.
 * Checked: the followers' logs are byte-identical to the leader's up to the high watermark; acks=-1
 * waits for every ISR member (REQUEST_TIMED_OUT while one is cut off); after replica.lag.time.max.ms
 * on the brokers' MockTime the lagging follower leaves the ISR, and below min.insync.replicas acks=-1
 * is refused with NOT_ENOUGH_REPLICAS; a follower that catches up rejoins; after a leader change the
 * old leader's uncommitted tail is truncated and a produce waiting on it answers NOT_LEADER_OR_FOLLOWER.
 */
import fs from 'node:fs';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { iterateBatches } from '../protocol/record-batch.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import type { Partition } from '../replication/partition.js';
import { TestClient } from '../test-support/client.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';

const time = new MockTime(Date.now());
const CONFIG = {
  'replica.fetch.wait.max.ms': '50',
  'replica.fetch.backoff.ms': '20',
  'replica.lag.time.max.ms': '30000',
  'offsets.topic.num.partitions': '1',
  // A killed broker stays registered (not fenced) for the whole test: only the leader's ISR
  // shrink (replica.lag.time.max.ms) takes it out of the ISR.
  'broker.session.timeout.ms': String(24 * 3600_000),
};
const IDS = [1, 2, 3];
let tc: TestCluster;
const producers: Producer[] = [];

const port = (id: number) => tc.cluster.broker(id)!.port;
const partitionOn = (id: number, topic: string): Partition => tc.partitionOn(id, topic);
const controller = () => tc.cluster.controller;

beforeAll(async () => {
  tc = await startTestCluster(3, CONFIG, { time });
});

afterAll(async () => {
  for (const p of producers) await p.disconnect().catch(() => {});
  await tc.close();
});

/** A one-partition topic on all three brokers, led by `leader` (at leader epoch 0). */
async function createReplicated(
  topic: string,
  configs: Record<string, string> = {},
  leader = 1,
): Promise<void> {
  await tc.createTopic(topic, [[leader, ...IDS.filter((id) => id !== leader)]], configs);
}

async function producerFor(id: number): Promise<Producer> {
  const kafka = new Kafka({
    brokers: [tc.bootstrap(id)],
    clientId: `repl-${id}`,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer({ retry: { retries: 0 }, allowAutoTopicCreation: false });
  await producer.connect();
  producers.push(producer);
  return producer;
}

/** The error type kafkajs reports (its own or the broker's code name; kafkajs calls code 6 NOT_LEADER_FOR_PARTITION). */
function errorType(err: unknown): string {
  const e = err as { type?: string; cause?: { type?: string }; originalError?: { type?: string } };
  return e.type ?? e.cause?.type ?? e.originalError?.type ?? String(err);
}

async function sendError(producer: Producer, topic: string, acks: number, values: string[], timeout = 300) {
  try {
    await producer.send({ topic, acks, timeout, messages: values.map((value) => ({ value })) });
    return 'NONE';
  } catch (err) {
    return errorType(err);
  }
}

/** Every batch of the partition's log below `end`, as stored. */
function logBytes(p: Partition, end: number): Buffer {
  const parts: Buffer[] = [];
  for (let offset = p.logStartOffset; offset < end; ) {
    const r = p.log.read(offset, 1 << 30, true, end);
    if ('error' in r || r.records === null)
      throw new Error(`nothing at ${offset} of ${p.topic} below ${end}`);
    parts.push(r.records);
    for (const b of iterateBatches(r.records)) offset = b.lastOffset + 1;
  }
  return Buffer.concat(parts);
}

/** Waits until the leader's high watermark is its log end and every replica has both. */
async function replicated(topic: string, leader: number, ids = IDS): Promise<void> {
  const lp = partitionOn(leader, topic);
  await until(
    () =>
      lp.highWatermark === lp.logEndOffset &&
      ids.every((id) => {
        const p = partitionOn(id, topic);
        return p.logEndOffset === lp.logEndOffset && p.highWatermark === lp.highWatermark;
      }),
    10_000,
    `replicas of ${topic} caught up with broker ${leader}`,
  );
}

/** Moves the brokers' clock past replica.lag.time.max.ms, firing the isr-expiration task on the way. */
async function lagTimePasses(): Promise<void> {
  await time.advanceAsync(30_001 + 15_000, 5_000);
}

describe('replication between three brokers', () => {
  it("acks=-1 to the leader: the followers' logs are byte-identical to the leader's up to the high watermark", async () => {
    await createReplicated('orders');
    const leader = partitionOn(1, 'orders');
    expect([leader.isLeader, partitionOn(2, 'orders').isLeader, partitionOn(3, 'orders').isLeader]).toEqual([
      true,
      false,
      false,
    ]);
    const producer = await producerFor(1);
    for (let i = 0; i < 5; i++) {
      const [r] = await producer.send({
        topic: 'orders',
        acks: -1,
        messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${j}`, value: `order-${i}-${j}` })),
      });
      expect(r).toMatchObject({ errorCode: 0, baseOffset: String(i * 10) });
      // Answered only once the in-sync replicas have it: the high watermark is past the batch.
      expect(leader.highWatermark).toBeGreaterThanOrEqual((i + 1) * 10);
    }
    await replicated('orders', 1);
    const hw = leader.highWatermark;
    expect(hw).toBe(50);
    const bytes = logBytes(leader, hw);
    for (const id of [2, 3]) {
      const follower = partitionOn(id, 'orders');
      expect(logBytes(follower, hw).equals(bytes)).toBe(true);
      expect(follower.log.leaderEpochCache.epochEntries()).toEqual(
        leader.log.leaderEpochCache.epochEntries(),
      );
    }
    expect(leader.log.leaderEpochCache.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    expect(tc.cluster.broker(2)!.replicaManager.replicaFetcherManager.fetcher(1)!.requests).toBeGreaterThan(
      0,
    );
    // A follower refuses clients; a stale or future current_leader_epoch is fenced / unknown (Kafka's order).
    const c = await TestClient.connect(port(2));
    try {
      const produce = await c.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(
        0,
        9,
        {
          transactionalId: null,
          acks: 1,
          timeoutMs: 1000,
          topicData: [
            {
              name: 'orders',
              partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ value: 'x' }] }) }],
            },
          ],
        },
      );
      expect(produce.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(partitionOn(2, 'orders').logEndOffset).toBe(50);
      // Fetch v10: no client metadata (v11+ lets a consumer read a follower, KIP-392).
      const fetchError = async (currentLeaderEpoch: number) =>
        (
          await c.request<{ responses: { partitions: { errorCode: number }[] }[] }>(1, 10, {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 1,
            maxBytes: 1 << 20,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              {
                topic: 'orders',
                partitions: [
                  {
                    partition: 0,
                    currentLeaderEpoch,
                    fetchOffset: 0,
                    logStartOffset: -1,
                    partitionMaxBytes: 1 << 20,
                  },
                ],
              },
            ],
            forgottenTopicsData: [],
          })
        ).responses[0]!.partitions[0]!.errorCode;
      expect(await fetchError(-1)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(await fetchError(0)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(await fetchError(1)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
      const listOffsets = await c.request<{ topics: { partitions: { errorCode: number }[] }[] }>(2, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          { name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] },
        ],
      });
      expect(listOffsets.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    } finally {
      c.close();
    }
    // DeleteRecords is answered once every replica's log start offset has passed it.
    const l = await TestClient.connect(port(1));
    const deleted = await l.request<{
      topics: { partitions: { errorCode: number; lowWatermark: bigint | number }[] }[];
    }>(21, 2, {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 20 }] }],
      timeoutMs: 5000,
    });
    expect(deleted.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0 });
    expect(Number(deleted.topics[0]!.partitions[0]!.lowWatermark)).toBe(20);
    for (const id of [2, 3]) expect(partitionOn(id, 'orders').logStartOffset).toBe(20);
    try {
      const epochError = async (currentLeaderEpoch: number) =>
        (
          await l.request<{
            topics: { partitions: { errorCode: number; leaderEpoch: number; endOffset: number }[] }[];
          }>(23, 4, {
            replicaId: -1,
            topics: [{ topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch: 0 }] }],
          })
        ).topics[0]!.partitions[0]!;
      expect(await epochError(0)).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 50 });
      expect((await epochError(1)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    } finally {
      l.close();
    }
  });

  it('acks=-1 waits for every ISR member; a lagging follower leaves the ISR; below min.insync.replicas acks=-1 is refused', async () => {
    await createReplicated('payments', { 'min.insync.replicas': '2' });
    const leader = partitionOn(1, 'payments');
    const producer = await producerFor(1);
    await producer.send({ topic: 'payments', acks: -1, messages: [{ value: 'p0' }] });
    await replicated('payments', 1);

    await tc.cluster.killBroker(3);
    expect(await sendError(producer, 'payments', -1, ['p1'])).toBe('REQUEST_TIMED_OUT');
    expect([leader.logEndOffset, leader.highWatermark]).toEqual([2, 1]);
    expect(leader.isr).toEqual([1, 2, 3]);

    await lagTimePasses();
    await until(() => leader.isr.length === 2, 5000, 'ISR shrink to [1,2]');
    expect(leader.isr).toEqual([1, 2]);
    expect(controller().image.partition('payments', 0)!.isr).toEqual([1, 2]);
    // Broker 2 had p1 all along: with 3 out, the high watermark passes it.
    await until(() => leader.highWatermark === 2, 5000, 'high watermark after the shrink');
    expect(await sendError(producer, 'payments', -1, ['p2'])).toBe('NONE');

    // A follower that stops fetching stays in the ISR while it has everything (Kafka's isCaughtUp);
    // it falls out once the leader has data it lacks for longer than the lag time.
    await tc.cluster.killBroker(2);
    await lagTimePasses();
    expect(leader.isr).toEqual([1, 2]);
    expect(await sendError(producer, 'payments', -1, ['p3'])).toBe('REQUEST_TIMED_OUT');
    await lagTimePasses();
    await until(() => leader.isr.length === 1, 5000, 'ISR shrink to [1]');
    expect(leader.highWatermark).toBe(4);
    expect(await sendError(producer, 'payments', -1, ['p4'])).toBe('NOT_ENOUGH_REPLICAS');
    expect(leader.logEndOffset).toBe(4); // nothing appended
    expect(await sendError(producer, 'payments', 1, ['p5'])).toBe('NONE'); // acks=1 is not checked

    // The followers come back, catch up and rejoin the ISR, one AlterPartition each.
    const epochBefore = controller().image.partition('payments', 0)!.partitionEpoch;
    await tc.cluster.startBroker(2);
    await tc.cluster.startBroker(3);
    await until(() => leader.isr.length === 3, 10_000, 'ISR expansion');
    expect([...leader.isr].sort()).toEqual([1, 2, 3]);
    await replicated('payments', 1);
    expect(await sendError(producer, 'payments', -1, ['p6'])).toBe('NONE');
    await replicated('payments', 1);
    const bytes = logBytes(leader, leader.highWatermark);
    for (const id of [2, 3])
      expect(logBytes(partitionOn(id, 'payments'), leader.highWatermark).equals(bytes)).toBe(true);
    // Two expansions, each its own AlterPartition (a new partition epoch), the leader unchanged.
    const after = controller().image.partition('payments', 0)!;
    expect([after.leader, after.leaderEpoch, after.partitionEpoch - epochBefore]).toEqual([1, 0, 2]);
  });

  it("a leader change truncates the old leader's uncommitted tail; a produce waiting on it answers NOT_LEADER_OR_FOLLOWER", async () => {
    await createReplicated('failover');
    const old = partitionOn(1, 'failover');
    const producer = await producerFor(1);
    await producer.send({
      topic: 'failover',
      acks: -1,
      messages: [1, 2, 3, 4, 5].map((i) => ({ value: `c${i}` })),
    });
    await replicated('failover', 1);

    // The followers are cut off (isolated: their sessions outlive the test); the leader takes
    // writes the ISR never gets.
    tc.cluster.isolate(2);
    tc.cluster.isolate(3);
    await producer.send({ topic: 'failover', acks: 1, messages: [{ value: 'lost-1' }, { value: 'lost-2' }] });
    const waiting = sendError(producer, 'failover', -1, ['lost-3'], 30_000);
    await until(() => old.logEndOffset === 8, 5000, 'the acks=-1 batch on the old leader');
    expect(old.highWatermark).toBe(5);

    // Broker 1 is cut off from the controller (fenced): it elects broker 2 (in the ISR: it has
    // everything committed) at leader epoch 1. Broker 1 hears it and follows.
    controller().fenceBroker(1);
    expect(controller().image.partition('failover', 0)).toMatchObject({
      leader: 2,
      leaderEpoch: 1,
      isr: [2, 3],
    });
    expect(await waiting).toBe('NOT_LEADER_FOR_PARTITION'); // NOT_LEADER_OR_FOLLOWER (6)
    expect([old.isLeader, old.leaderEpoch]).toEqual([false, 1]);
    // Healed, broker 2 learns it leads; broker 3 follows it.
    tc.cluster.heal(2);
    tc.cluster.heal(3);
    controller().unfenceBroker(1);
    const leader = partitionOn(2, 'failover');
    expect([leader.isLeader, leader.leaderEpoch]).toEqual([true, 1]);

    const producer2 = await producerFor(2);
    await producer2.send({ topic: 'failover', acks: -1, messages: [{ value: 'n1' }, { value: 'n2' }] });
    await replicated('failover', 2);
    expect(leader.highWatermark).toBe(7);
    // Broker 1 dropped offsets 5-7 (its epoch-1 tail past where epoch 1 ended on the new leader).
    expect(old.logEndOffset).toBe(7);
    const bytes = logBytes(leader, 7);
    expect(logBytes(old, 7).equals(bytes)).toBe(true);
    expect(logBytes(partitionOn(3, 'failover'), 7).equals(bytes)).toBe(true);
    expect(old.log.leaderEpochCache.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 5 },
    ]);
    expect(bytes.includes('lost-')).toBe(false);
    // The follower that is back joins the new leader's ISR.
    await until(() => leader.isr.length === 3, 10_000, 'broker 1 rejoins the ISR');
  });

  it('a follower restarted from its data directory recovers and catches up from its log end', async () => {
    await createReplicated('restart');
    const producer = await producerFor(1);
    await producer.send({ topic: 'restart', acks: -1, messages: [1, 2, 3].map((i) => ({ value: `r${i}` })) });
    await replicated('restart', 1);

    await tc.cluster.stopBroker(3); // a controlled shutdown: out of the ISR; the directory stays
    expect(controller().image.partition('restart', 0)!.isr).toEqual([1, 2]);
    await producer.send({ topic: 'restart', acks: -1, messages: [4, 5].map((i) => ({ value: `r${i}` })) });
    await tc.cluster.startBroker(3);
    expect(partitionOn(3, 'restart').logEndOffset).toBeGreaterThanOrEqual(3); // recovered from its log
    expect(partitionOn(3, 'restart').isLeader).toBe(false);
    await replicated('restart', 1);
    const leader = partitionOn(1, 'restart');
    expect(leader.highWatermark).toBe(5);
    expect(logBytes(partitionOn(3, 'restart'), 5).equals(logBytes(leader, 5))).toBe(true);
    await until(() => leader.isr.length === 3, 10_000, 'broker 3 rejoins the ISR');
    // Its other partitions follow their leaders again too.
    await replicated('orders', 1);
    await replicated('failover', 2);
  });

  it("acks=-1 counts a follower only once its copy is in its segment file, not still in its writer's buffer", async () => {
    await createReplicated('written');
    const followers = [2, 3].map((id) => tc.cluster.broker(id)!.segmentWriter!);
    // The followers write nothing at the end of the loop's turn: only a write forced before the next
    // fetch (the one that tells the leader their log end) puts their copy in the file.
    for (const w of followers) w.setPaused(true);
    try {
      const producer = await producerFor(1);
      await producer.send({ topic: 'written', acks: -1, messages: [{ value: 'w1' }, { value: 'w2' }] });
      const fileSize = (id: number) => fs.statSync(partitionOn(id, 'written').log.activeSegment.logFile).size;
      expect(fileSize(1)).toBeGreaterThan(0);
      expect([fileSize(2), fileSize(3)]).toEqual([fileSize(1), fileSize(1)]);
    } finally {
      for (const w of followers) w.setPaused(false);
    }
  });
});
