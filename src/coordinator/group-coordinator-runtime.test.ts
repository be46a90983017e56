/**
 * The group coordinator on the coordinator runtime: OffsetCommit answered once the high watermark
 * passes it, a failed append leaving the offsets as they were, a partition unloaded and loaded
 * again rebuilding the same groups by replay, and transactional offsets staged and completed by
 * replay — the same at load as live. In memory, with MockTime.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.js';
import { MockTime } from '../common/time.js';
import { TEST_GROUP_CONFIG } from '../test-support/group-config.js';
import {
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type OffsetCommitEntry,
} from './group-coordinator.js';
import { MemoryCoordinatorLog } from './runtime/memory-coordinator-log.js';

const config = TEST_GROUP_CONFIG;

const entry = (partition: number, offset: number): OffsetCommitEntry => ({
  topic: 't',
  partition,
  offset,
  leaderEpoch: -1,
  metadata: null,
  expireTimestamp: null,
});

function setup(over: Partial<GroupCoordinatorConfig> = {}) {
  const time = new MockTime();
  const log = new MemoryCoordinatorLog(4);
  const gc = new GroupCoordinator({ ...config, ...over }, log, createLogger('silent'), time);
  gc.startup();
  return { time, log, gc };
}

async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let out: { done: boolean; value?: T } = { done: false };
  p.then((value) => {
    out = { done: true, value };
  });
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return out;
}

const committed = (gc: GroupCoordinator, groupId: string, partition = 0) =>
  gc.fetchOffsets(groupId, [{ name: 't', partitionIndexes: [partition] }]).topics[0]!.partitions[0]!
    .committedOffset;

describe('GroupCoordinator on the coordinator runtime', () => {
  it('answers OffsetCommit once the high watermark passes the write, or times out on its Time', async () => {
    const { log, gc, time } = setup();
    const p = gc.partitionFor('g');
    log.autoCommit = false;
    const commit = gc.commitOffsets('g', '', null, -1, [entry(0, 5)], 9);
    expect((await settled(commit)).done).toBe(false);
    log.commit(p);
    expect(await commit).toEqual(['NONE']);
    expect(committed(gc, 'g')).toBe(5);

    const late = gc.commitOffsets('g', '', null, -1, [entry(0, 6)], 9);
    time.advance(5000);
    // As Kafka: a commit not replicated in time is COORDINATOR_NOT_AVAILABLE (the client retries).
    expect(await late).toEqual(['COORDINATOR_NOT_AVAILABLE']);
    gc.shutdown();
  });

  it("answers the leader's SyncGroup once the group record is committed", async () => {
    const { log, gc } = setup();
    const j = await gc.joinGroup({
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      requireKnownMemberId: false,
      supportSkippingAssignment: false,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 5000,
      sessionTimeoutMs: 3000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('x') }],
    });
    log.autoCommit = false;
    const sync = gc.syncGroup({
      groupId: 'g',
      generationId: j.generationId,
      memberId: j.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: j.memberId, assignment: Buffer.from('a') }],
    });
    expect((await settled(sync)).done).toBe(false);
    expect(gc.describeGroup('g').groupState).toBe('CompletingRebalance');
    log.commit(gc.partitionFor('g'));
    expect((await sync).assignment.toString()).toBe('a');
    expect(gc.describeGroup('g').groupState).toBe('Stable');
    gc.shutdown();
  });

  it('leaves committed offsets as they were when the append fails', async () => {
    const { log, gc } = setup();
    expect(await gc.commitOffsets('g', '', null, -1, [entry(0, 5)], 9)).toEqual(['NONE']);
    log.failNext = new Error('disk on fire');
    expect(await gc.commitOffsets('g', '', null, -1, [entry(0, 9), entry(1, 1)], 9)).toEqual([
      'COORDINATOR_NOT_AVAILABLE',
      'COORDINATOR_NOT_AVAILABLE',
    ]);
    expect(committed(gc, 'g', 0)).toBe(5);
    expect(committed(gc, 'g', 1)).toBe(-1);
    gc.shutdown();
  });

  it('deletes groups and offsets by replaying their tombstones; a failed append deletes nothing', async () => {
    const { log, gc } = setup();
    await gc.commitOffsets('g', '', null, -1, [entry(0, 5), entry(1, 6)], 9);
    log.failNext = new Error('disk on fire');
    expect(await gc.deleteOffsets('g', [{ topic: 't', partition: 0 }])).toEqual({
      error: 'COORDINATOR_NOT_AVAILABLE',
      partitionErrors: [],
    });
    log.failNext = new Error('disk on fire');
    expect(await gc.deleteGroups(['g'])).toEqual([{ groupId: 'g', error: 'COORDINATOR_NOT_AVAILABLE' }]);
    expect(committed(gc, 'g', 0)).toBe(5);
    expect(gc.group('g')).toBeDefined();

    expect((await gc.deleteOffsets('g', [{ topic: 't', partition: 0 }])).error).toBe('NONE');
    expect(committed(gc, 'g', 0)).toBe(-1);
    expect(committed(gc, 'g', 1)).toBe(6);
    // The last offset of an empty group takes the group with it.
    expect((await gc.deleteOffsets('g', [{ topic: 't', partition: 1 }])).error).toBe('NONE');
    expect(gc.group('g')).toBeUndefined();

    await gc.commitOffsets('h', '', null, -1, [entry(0, 1)], 9);
    expect(await gc.deleteGroups(['h'])).toEqual([{ groupId: 'h', error: 'NONE' }]);
    const p = gc.partitionFor('h');
    gc.unloadPartition(p);
    gc.loadPartition(p);
    expect(gc.group('h')).toBeUndefined();
    gc.shutdown();
  });

  it('expires offsets by replaying their tombstones; a failed append expires nothing', async () => {
    // Expiry runs when called here, not on its periodic timer.
    const { log, gc, time } = setup({ offsetsRetentionCheckIntervalMs: 2 * config.offsetsRetentionMs });
    await gc.commitOffsets('g', '', null, -1, [entry(0, 5)], 9);
    time.advance(config.offsetsRetentionMs + 1);
    log.failNext = new Error('disk on fire');
    gc.cleanupGroupMetadata();
    expect(committed(gc, 'g')).toBe(5);
    expect(gc.cleanupGroupMetadata()).toBe(1);
    expect(gc.group('g')).toBeUndefined();
    const p = gc.partitionFor('g');
    gc.unloadPartition(p);
    gc.loadPartition(p);
    expect(gc.group('g')).toBeUndefined();
    gc.shutdown();
  });

  it('rebuilds a partition by replay when it is unloaded and loaded again', async () => {
    const { gc } = setup();
    const j = await gc.joinGroup({
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      requireKnownMemberId: false,
      supportSkippingAssignment: false,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 5000,
      sessionTimeoutMs: 3000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('x') }],
    });
    await gc.syncGroup({
      groupId: 'g',
      generationId: j.generationId,
      memberId: j.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: j.memberId, assignment: Buffer.from('a') }],
    });
    await gc.commitOffsets('g', j.memberId, null, j.generationId, [entry(0, 42)], 9);
    const p = gc.partitionFor('g');

    gc.unloadPartition(p);
    expect(gc.group('g')).toBeUndefined();
    expect(gc.fetchOffsets('g', null).error).toBe('NOT_COORDINATOR');
    expect(await gc.commitOffsets('g', j.memberId, null, j.generationId, [entry(0, 43)], 9)).toEqual([
      'NOT_COORDINATOR',
    ]);

    gc.loadPartition(p);
    expect(committed(gc, 'g')).toBe(42);
    const described = gc.describeGroup('g');
    expect(described.groupState).toBe('Stable');
    expect(described.members.map((m) => m.memberAssignment.toString())).toEqual(['a']);
    expect(gc.heartbeat('g', j.memberId, null, j.generationId)).toBe('NONE');
    gc.shutdown();
  });

  it('stages transactional offsets by replay and makes them visible with the COMMIT marker, also after a reload', async () => {
    const { gc } = setup();
    const p = gc.partitionFor('g');
    const producer = { producerId: 11, producerEpoch: 0 };
    const other = { producerId: 12, producerEpoch: 0 };
    const offsets = (offset: number) => [
      { topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: null },
    ];
    expect(await gc.commitTxnOffsets('g', producer, '', null, -1, offsets(7))).toEqual(['NONE']);
    expect(await gc.commitTxnOffsets('h', other, '', null, -1, offsets(8))).toEqual(['NONE']);
    expect(committed(gc, 'g')).toBe(-1);
    expect(gc.hasPendingTxnOffsets('g', 't', 0)).toBe(true);

    await gc.completeTransaction(p, producer, 'COMMIT', 0);
    expect(committed(gc, 'g')).toBe(7);
    expect(gc.hasPendingTxnOffsets('g', 't', 0)).toBe(false);

    // The same replay at load: committed stays committed, open stays staged until its marker.
    const q = gc.partitionFor('h');
    gc.unloadPartition(p);
    gc.unloadPartition(q);
    gc.loadPartition(p);
    gc.loadPartition(q);
    expect(committed(gc, 'g')).toBe(7);
    expect(committed(gc, 'h')).toBe(-1);
    expect(gc.hasPendingTxnOffsets('h', 't', 0)).toBe(true);
    await gc.completeTransaction(q, other, 'ABORT', 0);
    expect(committed(gc, 'h')).toBe(-1);
    expect(gc.hasPendingTxnOffsets('h', 't', 0)).toBe(false);
    gc.shutdown();
  });

  it('a deleted topic cancels what open transactions staged for it, live and on reload', async () => {
    const { gc } = setup();
    const p = gc.partitionFor('g');
    const producer = { producerId: 21, producerEpoch: 0 };
    await gc.commitTxnOffsets('g', producer, '', null, -1, [
      { topic: 't', partition: 0, offset: 3, leaderEpoch: -1, metadata: null },
    ]);
    gc.onPartitionsDeleted([{ topic: 't', partition: 0 }]);
    expect(gc.hasPendingTxnOffsets('g', 't', 0)).toBe(false);
    gc.unloadPartition(p);
    gc.loadPartition(p);
    expect(gc.hasPendingTxnOffsets('g', 't', 0)).toBe(false);
    await gc.completeTransaction(p, producer, 'COMMIT', 0);
    expect(committed(gc, 'g')).toBe(-1);
    gc.shutdown();
  });
});
