/**
 * The partition state as its leader keeps it (Kafka's Partition), over a real log in a temporary
 * directory: the high watermark kept apart from the log end and moved only for what the ISR has,
 * the effective min ISR, transaction markers, reading an internal topic back, append listeners.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorName } from '../protocol/generated/errors.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { Log } from '../storage/log.js';
import { ManualClock, testConfig, tmpDir } from '../storage/test-helpers.js';
import type {
  AlterPartitionManager,
  AlterPartitionResult,
  LeaderAndIsr,
  TopicIdPartition,
} from './alter-partition-manager.js';
import {
  NotEnoughReplicasError,
  NotLeaderOrFollowerError,
  Partition,
  type PartitionState,
} from './partition.js';
import { ReplicaState } from './replica-state.js';

let dir: string;
let log: Log;

beforeEach(() => {
  dir = tmpDir();
  log = Log.open(dir, 't', 0, testConfig(), new ManualClock());
});

afterEach(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

const records = (n: number, opts: { producerId?: number; epoch?: number; transactional?: boolean } = {}) =>
  buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      timestamp: 1_700_000_000_000 + i,
    })),
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.epoch ?? -1,
    baseSequence: opts.producerId !== undefined ? 0 : -1,
    transactional: opts.transactional ?? false,
  });

describe('Partition', () => {
  it('as the only in-sync replica, moves the high watermark with every append and tells its listeners', () => {
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    let appends = 0;
    const unsubscribe = p.onAppend(() => appends++);
    const info = p.appendRecordsToLeader(records(3));
    expect(info.baseOffset).toBe(0);
    expect([p.logEndOffset, p.highWatermark]).toEqual([3, 3]);
    expect(appends).toBe(1);
    unsubscribe();
    p.appendRecordsToLeader(records(2));
    expect(p.highWatermark).toBe(5);
    expect(appends).toBe(1);
  });

  it('with followers in the ISR, keeps the high watermark where it was: the log end moves alone', () => {
    const p = new Partition('t', 0, log, 1, 0, [1, 2], [1, 2]);
    p.appendRecordsToLeader(records(4));
    expect(p.logEndOffset).toBe(4);
    expect(p.highWatermark).toBe(0);
  });

  it('refuses acks=-1 below the effective min ISR (min(min.insync.replicas, replicas)) before appending', () => {
    const p = new Partition('t', 0, log, 1, 0, [1, 2, 3], [1]);
    expect(p.effectiveMinIsr(2)).toBe(2);
    expect(() => p.appendRecordsToLeader(records(1), 'client', -1, 2)).toThrow(NotEnoughReplicasError);
    expect(p.logEndOffset).toBe(0);
    // acks=1 is not checked; a topic of one replica accepts acks=-1 whatever it sets.
    p.appendRecordsToLeader(records(1), 'client', 1, 2);
    expect(p.logEndOffset).toBe(1);
    const single = new Partition('t', 0, log, 1, 0, [1], [1]);
    expect(single.effectiveMinIsr(3)).toBe(1);
    single.appendRecordsToLeader(records(1), 'client', -1, 3);
    expect(single.logEndOffset).toBe(2);
  });

  it('a transaction holds the last stable offset until its marker; readBatches returns everything below the high watermark', () => {
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    p.appendRecordsToLeader(records(2));
    p.appendRecordsToLeader(records(3, { producerId: 7, epoch: 0, transactional: true }));
    expect(p.highWatermark).toBe(5);
    expect(p.lastStableOffset).toBe(2);
    p.appendEndTxnMarker('COMMIT', 7, 0, 0);
    expect(p.lastStableOffset).toBe(6);
    const batches = [...p.readBatches(64)];
    expect(batches.map((b) => [b.baseOffset, b.lastOffset, b.isControl])).toEqual([
      [0, 1, false],
      [2, 4, false],
      [5, 5, true],
    ]);
  });
});

/** An AlterPartitionManager that answers when told to, recording what it was asked. */
class ScriptedAlterPartition implements AlterPartitionManager {
  readonly asked: LeaderAndIsr[] = [];
  private readonly answers: ((r: AlterPartitionResult) => void)[] = [];

  submit(_tp: TopicIdPartition, proposed: LeaderAndIsr): Promise<AlterPartitionResult> {
    this.asked.push(proposed);
    return new Promise((resolve) => this.answers.push(resolve));
  }

  /** Commits the oldest open proposal as asked (partition epoch + 1), or refuses it with `error`. */
  async answer(error: ErrorName = 'NONE'): Promise<void> {
    const proposed = this.asked[this.asked.length - this.answers.length]!;
    const resolve = this.answers.shift()!;
    resolve(
      error === 'NONE'
        ? { error, leaderAndIsr: { ...proposed, partitionEpoch: proposed.partitionEpoch + 1 } }
        : { error },
    );
    await Promise.resolve();
    await Promise.resolve();
  }
}

const registration = (o: Partial<PartitionState> = {}): PartitionState => ({
  leader: 1,
  leaderEpoch: 1,
  isr: [1, 2, 3],
  replicas: [1, 2, 3],
  partitionEpoch: 5,
  ...o,
});

describe('Partition leadership (makeLeader / makeFollower)', () => {
  it('a new leader epoch starts at the log end in the epoch cache; followers hold the high watermark until they fetch', () => {
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    p.appendRecordsToLeader(records(3));
    expect(p.makeLeader(registration(), 1000)).toBe(false); // was already leader
    expect([p.leaderEpoch, p.partitionEpoch, p.isr]).toEqual([1, 5, [1, 2, 3]]);
    expect(log.leaderEpochCache.epochEntries().at(-1)).toEqual({ epoch: 1, startOffset: 3 });
    p.appendRecordsToLeader(records(2));
    expect(p.highWatermark).toBe(3);
    p.updateFollowerFetchState(2, 5, 0, 1000);
    expect(p.highWatermark).toBe(3);
    p.updateFollowerFetchState(3, 4, 0, 1000);
    expect(p.highWatermark).toBe(4);
    // A broker that is not a replica changes nothing.
    expect(p.updateFollowerFetchState(9, 5)).toBe(false);
    // An older registration is ignored.
    expect(p.makeLeader(registration({ leaderEpoch: 0 }), 1000)).toBe(false);
    expect(p.leaderEpoch).toBe(1);
  });

  it('a follower refuses appends and client reads, answers epochs in Kafka order, and fails waiting acks=-1', () => {
    const p = new Partition('t', 0, log, 1, 0, [1, 2], [1, 2]);
    p.appendRecordsToLeader(records(2));
    expect(p.checkEnoughReplicasReachOffset(2, 1)).toEqual({ done: false });
    let told = 0;
    p.onAppend(() => told++);
    expect(p.makeFollower(registration({ leader: 2, leaderEpoch: 3, isr: [1, 2], replicas: [1, 2] }))).toBe(
      true,
    );
    expect(told).toBe(1);
    expect([p.isLeader, p.leaderId, p.leaderEpoch]).toEqual([false, 2, 3]);
    expect(p.checkEnoughReplicasReachOffset(2, 1)).toEqual({ done: true, error: 'NOT_LEADER_OR_FOLLOWER' });
    expect(() => p.appendRecordsToLeader(records(1))).toThrow(NotLeaderOrFollowerError);
    expect(p.logEndOffset).toBe(2);
    expect(p.checkLeaderEpochAndLeadership(-1, true)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(p.checkLeaderEpochAndLeadership(3, true)).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(p.checkLeaderEpochAndLeadership(2, true)).toBe('FENCED_LEADER_EPOCH');
    expect(p.checkLeaderEpochAndLeadership(4, true)).toBe('UNKNOWN_LEADER_EPOCH');
    expect(p.checkLeaderEpochAndLeadership(3, false)).toBeNull();
    // The same registration again is no change.
    expect(p.makeFollower(registration({ leader: 2, leaderEpoch: 3, isr: [1, 2], replicas: [1, 2] }))).toBe(
      false,
    );
  });
});

describe('Partition ISR changes (through the AlterPartitionManager)', () => {
  it('expands the ISR once a follower reaches the high watermark and the leader epoch start; one change at a time', async () => {
    const apm = new ScriptedAlterPartition();
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    p.replication = { topicId: 'id', alterPartitionManager: apm };
    p.appendRecordsToLeader(records(4));
    p.makeLeader(registration({ isr: [1], replicas: [1, 2, 3] }), 0);
    p.appendRecordsToLeader(records(2)); // the epoch starts at 4; HW 6 (the leader alone)
    expect(p.highWatermark).toBe(6);
    p.updateFollowerFetchState(2, 5, 0, 10);
    expect(apm.asked).toHaveLength(0); // behind the high watermark
    p.updateFollowerFetchState(2, 6, 0, 20);
    expect(apm.asked).toEqual([
      {
        leader: 1,
        leaderEpoch: 1,
        isr: [1, 2],
        partitionEpoch: 5,
        isrWithEpochs: [
          { brokerId: 1, brokerEpoch: -1 },
          { brokerId: 2, brokerEpoch: -1 },
        ],
      },
    ]);
    expect(p.isrChangePending).toBe(true);
    p.updateFollowerFetchState(3, 6, 0, 20);
    expect(apm.asked).toHaveLength(1); // waits for the pending one
    // While pending, the high watermark waits for the joining follower too (maximal ISR).
    p.appendRecordsToLeader(records(1));
    expect(p.highWatermark).toBe(6);
    await apm.answer();
    expect([p.isr, p.partitionEpoch, p.isrChangePending]).toEqual([[1, 2], 6, false]);
    p.updateFollowerFetchState(3, 7, 0, 30);
    expect(apm.asked.at(-1)).toMatchObject({ leader: 1, leaderEpoch: 1, isr: [1, 2, 3], partitionEpoch: 6 });
    await apm.answer('INELIGIBLE_REPLICA'); // rolled back: proposed again at the next fetch
    expect([p.isr, p.isrChangePending]).toEqual([[1, 2], false]);
    p.updateFollowerFetchState(3, 7, 0, 40);
    expect(apm.asked).toHaveLength(3);
    await apm.answer('INVALID_UPDATE_VERSION'); // stale: stays pending until the next registration
    p.updateFollowerFetchState(3, 7, 0, 50);
    expect([apm.asked.length, p.isrChangePending]).toEqual([3, true]);
    p.makeLeader(registration({ isr: [1, 2, 3], replicas: [1, 2, 3], partitionEpoch: 9 }), 60);
    expect([p.isr, p.partitionEpoch, p.isrChangePending]).toEqual([[1, 2, 3], 9, false]);
  });

  it('does not propose a fenced broker for the ISR, however caught up (Kafka isReplicaIsrEligible)', () => {
    const apm = new ScriptedAlterPartition();
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    const alive = new Set([1, 3]);
    p.replication = { topicId: 'id', alterPartitionManager: apm, isBrokerAlive: (id) => alive.has(id) };
    p.makeLeader(registration({ isr: [1], replicas: [1, 2, 3] }), 0);
    p.appendRecordsToLeader(records(2));
    p.updateFollowerFetchState(2, 2, 0, 10); // fenced (shutting down), still fetching
    expect(apm.asked).toHaveLength(0);
    alive.add(2); // registered again: eligible at its next fetch
    p.updateFollowerFetchState(2, 2, 0, 20);
    expect(apm.asked.map((a) => a.isr)).toEqual([[1, 2]]);
  });

  it('shrinks the ISR of followers not caught up for replica.lag.time.max.ms; the high watermark then passes', async () => {
    const apm = new ScriptedAlterPartition();
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    p.replication = { alterPartitionManager: apm };
    p.makeLeader(registration(), 0);
    p.appendRecordsToLeader(records(3));
    p.updateFollowerFetchState(2, 3, 0, 100);
    p.updateFollowerFetchState(3, 1, 0, 100); // behind
    expect(p.highWatermark).toBe(1);
    // In-sync members count as caught up from when this leader started (0).
    expect(p.maybeShrinkIsr(30_000, 30_000)).toEqual([]);
    expect(p.maybeShrinkIsr(30_001, 30_000)).toEqual([3]);
    expect(apm.asked).toEqual([
      {
        leader: 1,
        leaderEpoch: 1,
        isr: [1, 2],
        partitionEpoch: 5,
        isrWithEpochs: [
          { brokerId: 1, brokerEpoch: -1 },
          { brokerId: 2, brokerEpoch: -1 },
        ],
      },
    ]);
    expect(p.highWatermark).toBe(1); // the pending shrink does not count until committed
    let told = 0;
    p.onAppend(() => told++);
    await apm.answer();
    expect([p.isr, p.highWatermark]).toEqual([[1, 2], 3]);
    expect(told).toBeGreaterThan(0);
    // A follower with everything stays however long it has not fetched.
    expect(p.maybeShrinkIsr(1_000_000, 30_000)).toEqual([]);
  });

  it('a follower caught up at its previous fetch counts as caught up since then (Kafka Replica.updateFetchState)', () => {
    const r = new ReplicaState(2);
    r.updateFetchState(0, 0, 100, 10); // behind the leader's 10
    expect(r.lastCaughtUpTimeMs).toBe(0);
    r.updateFetchState(10, 0, 200, 15); // reached what the leader had at the previous fetch
    expect(r.lastCaughtUpTimeMs).toBe(100);
    r.updateFetchState(15, 0, 300, 15); // at the leader's end
    expect(r.lastCaughtUpTimeMs).toBe(300);
    expect(r.isCaughtUp(20, 30_300, 30_000)).toBe(true);
    expect(r.isCaughtUp(20, 30_301, 30_000)).toBe(false);
    expect(r.isCaughtUp(15, 99_999, 30_000)).toBe(true);
  });
});
