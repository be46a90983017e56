import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../common/logger.js';
import { MockTime } from '../common/time.js';
import { encode } from '../protocol/codec.js';
import {
  ConsumerProtocolSubscription,
  type ConsumerProtocolSubscriptionData,
} from '../protocol/generated/messages.js';
import { TEST_GROUP_CONFIG } from '../test-support/group-config.js';
import {
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type JoinGroupParams,
  NEW_MEMBER_JOIN_TIMEOUT_MS,
} from './group-coordinator.js';
import type { JoinGroupResult } from './group-metadata.js';
import { decodeCoordinatorKey } from './offsets-topic.js';
import { MemoryCoordinatorLog } from './runtime/memory-coordinator-log.js';

/** The coordinator's log in memory: the same records it would write to __consumer_offsets. */
class MemoryOffsetsLog extends MemoryCoordinatorLog {}

const config = TEST_GROUP_CONFIG;

const silent = createLogger('silent');

function subscription(...topics: string[]): Buffer {
  const body = encode<ConsumerProtocolSubscriptionData>(ConsumerProtocolSubscription, 1, {
    topics,
    userData: null,
    ownedPartitions: [],
  });
  const out = Buffer.alloc(2 + body.length);
  out.writeInt16BE(1, 0);
  body.copy(out, 2);
  return out;
}

function joinParams(over: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 5000,
    sessionTimeoutMs: 3000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('t') }],
    ...over,
  };
}

/** Whether a promise has settled yet (after pending microtasks ran). */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let out: { done: boolean; value?: T } = { done: false };
  p.then((value) => {
    out = { done: true, value };
  });
  await Promise.resolve();
  await Promise.resolve();
  return out;
}

describe('GroupCoordinator', () => {
  let log: MemoryOffsetsLog;
  let gc: GroupCoordinator;

  const make = (over: Partial<GroupCoordinatorConfig> = {}) => {
    const c = new GroupCoordinator({ ...config, ...over }, log, silent);
    c.startup();
    return c;
  };

  beforeEach(() => {
    log = new MemoryOffsetsLog();
    gc = make();
  });
  afterEach(() => {
    gc.shutdown();
    vi.useRealTimers();
  });

  async function joinAndSync(memberId = '', over: Partial<JoinGroupParams> = {}) {
    const j = await gc.joinGroup(joinParams({ memberId, ...over }));
    expect(j.error).toBe('NONE');
    const s = await gc.syncGroup({
      groupId: 'g',
      generationId: j.generationId,
      memberId: j.memberId,
      groupInstanceId: over.groupInstanceId ?? null,
      protocolType: null,
      protocolName: null,
      assignments: j.members.map((m) => ({
        memberId: m.memberId,
        assignment: Buffer.from(`a-${m.memberId}`),
      })),
    });
    return { j, s };
  }

  it('answers MEMBER_ID_REQUIRED on v4+ joins only, then lets the member in with that id', async () => {
    const first = await gc.joinGroup(joinParams({ requireKnownMemberId: true }));
    expect(first.error).toBe('MEMBER_ID_REQUIRED');
    expect(first.memberId).toMatch(/^client-/);
    expect(first.generationId).toBe(-1);
    const second = await gc.joinGroup(joinParams({ memberId: first.memberId, requireKnownMemberId: true }));
    expect(second.error).toBe('NONE');
    expect(second.memberId).toBe(first.memberId);
    expect(second.generationId).toBe(1);
    expect(second.leader).toBe(first.memberId);
    expect(second.protocolName).toBe('range');
    expect(second.members.map((m) => m.memberId)).toEqual([first.memberId]);

    const old = await gc.joinGroup(joinParams({ groupId: 'old-client' }));
    expect(old.error).toBe('NONE');
    expect(old.generationId).toBe(1);
  });

  it('goes Empty → PreparingRebalance → CompletingRebalance → Stable, the leader hands out assignments', async () => {
    const j = await gc.joinGroup(joinParams());
    expect(gc.group('g')!.state).toBe('CompletingRebalance');
    const s = await gc.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: j.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: j.memberId, assignment: Buffer.from('mine') }],
    });
    expect(s.error).toBe('NONE');
    expect(s.assignment.toString()).toBe('mine');
    expect(gc.group('g')!.state).toBe('Stable');
    expect(gc.heartbeat('g', j.memberId, null, 1)).toBe('NONE');
    const d = gc.describeGroup('g');
    expect(d.groupState).toBe('Stable');
    expect(d.protocolData).toBe('range');
    expect(d.members[0]!.memberAssignment.toString()).toBe('mine');
  });

  it('rebalances when a second member joins: the first learns by heartbeat, both get generation 2', async () => {
    const a = await joinAndSync();
    const bJoin = gc.joinGroup(joinParams({ clientId: 'b' }));
    expect((await settled(bJoin)).done).toBe(false);
    expect(gc.group('g')!.state).toBe('PreparingRebalance');
    expect(gc.heartbeat('g', a.j.memberId, null, 1)).toBe('REBALANCE_IN_PROGRESS');
    expect(
      (
        await gc.syncGroup({
          groupId: 'g',
          generationId: 1,
          memberId: a.j.memberId,
          groupInstanceId: null,
          protocolType: null,
          protocolName: null,
          assignments: [],
        })
      ).error,
    ).toBe('REBALANCE_IN_PROGRESS');
    // Commits still go through while preparing (Kafka relies on the heartbeat to tell).
    expect(
      await gc.commitOffsets(
        'g',
        a.j.memberId,
        null,
        1,
        [{ topic: 't', partition: 0, offset: 5, leaderEpoch: -1, metadata: null, expireTimestamp: null }],
        8,
      ),
    ).toEqual(['NONE']);
    const aRejoin = await gc.joinGroup(joinParams({ memberId: a.j.memberId }));
    const b = await bJoin;
    expect(aRejoin.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    expect(aRejoin.leader).toBe(a.j.memberId);
    expect(aRejoin.members).toHaveLength(2);
    expect(b.members).toHaveLength(0);
    // Old generation now fenced.
    expect(gc.heartbeat('g', a.j.memberId, null, 1)).toBe('ILLEGAL_GENERATION');
    expect(
      await gc.commitOffsets(
        'g',
        a.j.memberId,
        null,
        1,
        [{ topic: 't', partition: 0, offset: 6, leaderEpoch: -1, metadata: null, expireTimestamp: null }],
        8,
      ),
    ).toEqual(['ILLEGAL_GENERATION']);
    // CompletingRebalance: a commit of the current generation is told to wait.
    expect(
      await gc.commitOffsets(
        'g',
        b.memberId,
        null,
        2,
        [{ topic: 't', partition: 0, offset: 6, leaderEpoch: -1, metadata: null, expireTimestamp: null }],
        8,
      ),
    ).toEqual(['REBALANCE_IN_PROGRESS']);
    // The follower's SyncGroup waits for the leader's.
    const bSync = gc.syncGroup({
      groupId: 'g',
      generationId: 2,
      memberId: b.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect((await settled(bSync)).done).toBe(false);
    await gc.syncGroup({
      groupId: 'g',
      generationId: 2,
      memberId: a.j.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: b.memberId, assignment: Buffer.from('b-part') }],
    });
    const bs = await bSync;
    expect(bs.error).toBe('NONE');
    expect(bs.assignment.toString()).toBe('b-part');
  });

  it('returns Kafka errors for unknown members, groups and generations', async () => {
    expect(gc.heartbeat('nope', 'm', null, 1)).toBe('UNKNOWN_MEMBER_ID');
    expect((await gc.joinGroup(joinParams({ groupId: 'nope', memberId: 'm' }))).error).toBe(
      'UNKNOWN_MEMBER_ID',
    );
    expect((await gc.joinGroup(joinParams({ groupId: '' }))).error).toBe('INVALID_GROUP_ID');
    expect((await gc.joinGroup(joinParams({ sessionTimeoutMs: 1 }))).error).toBe('INVALID_SESSION_TIMEOUT');
    const a = await joinAndSync();
    expect(gc.heartbeat('g', 'stranger', null, 1)).toBe('UNKNOWN_MEMBER_ID');
    expect(gc.heartbeat('g', a.j.memberId, null, 7)).toBe('ILLEGAL_GENERATION');
    expect((await gc.joinGroup(joinParams({ protocolType: 'connect' }))).error).toBe(
      'INCONSISTENT_GROUP_PROTOCOL',
    );
    expect(
      (await gc.joinGroup(joinParams({ protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] })))
        .error,
    ).toBe('INCONSISTENT_GROUP_PROTOCOL');
    expect(
      (
        await gc.syncGroup({
          groupId: 'g',
          generationId: 1,
          memberId: a.j.memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocolName: 'roundrobin',
          assignments: [],
        })
      ).error,
    ).toBe('INCONSISTENT_GROUP_PROTOCOL');
    // Member commits to a group that does not exist.
    const c = [
      { topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null, expireTimestamp: null },
    ];
    expect(await gc.commitOffsets('missing', 'm', null, 3, c, 8)).toEqual(['ILLEGAL_GENERATION']);
    expect(await gc.commitOffsets('missing', 'm', null, 3, c, 9)).toEqual(['GROUP_ID_NOT_FOUND']);
    // Admin commits (generation -1, no member) only to an Empty group.
    expect(await gc.commitOffsets('g', '', null, -1, c, 9)).toEqual(['UNKNOWN_MEMBER_ID']);
    expect(await gc.commitOffsets('simple', '', null, -1, c, 9)).toEqual(['NONE']);
    expect(gc.fetchOffsets('simple', null).topics[0]!.partitions[0]!.committedOffset).toBe(1);
  });

  it('picks the protocol every member supports with the most first-choice votes', async () => {
    const p = (...names: string[]) => names.map((name) => ({ name, metadata: subscription('t') }));
    const a = await gc.joinGroup(joinParams({ protocols: p('range', 'roundrobin') }));
    expect(a.protocolName).toBe('range');
    const bJoin = gc.joinGroup(joinParams({ clientId: 'b', protocols: p('roundrobin', 'range') }));
    const cJoin = gc.joinGroup(joinParams({ clientId: 'c', protocols: p('roundrobin', 'sticky') }));
    const aRe = await gc.joinGroup(joinParams({ memberId: a.memberId, protocols: p('range', 'roundrobin') }));
    await Promise.all([bJoin, cJoin]);
    // Only roundrobin is common to all three.
    expect(aRe.protocolName).toBe('roundrobin');
  });

  it('removes a member whose session times out and rebalances the rest', async () => {
    vi.useFakeTimers();
    const a = await joinAndSync();
    const bJoin = gc.joinGroup(joinParams({ clientId: 'b' }));
    await gc.joinGroup(joinParams({ memberId: a.j.memberId }));
    const b = await bJoin;
    await Promise.all([
      gc.syncGroup({
        groupId: 'g',
        generationId: 2,
        memberId: b.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
      gc.syncGroup({
        groupId: 'g',
        generationId: 2,
        memberId: a.j.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    ]);
    expect(gc.group('g')!.state).toBe('Stable');
    // b keeps heartbeating, a goes silent.
    for (let i = 0; i < 2; i++) {
      vi.advanceTimersByTime(1000);
      expect(gc.heartbeat('g', b.memberId, null, 2)).toBe('NONE');
    }
    expect(gc.group('g')!.has(a.j.memberId)).toBe(true);
    vi.advanceTimersByTime(1100); // a's 3 s session timeout passes
    expect(gc.group('g')!.has(a.j.memberId)).toBe(false);
    expect(gc.heartbeat('g', b.memberId, null, 2)).toBe('REBALANCE_IN_PROGRESS');
    const bRe = await gc.joinGroup(joinParams({ memberId: b.memberId }));
    expect(bRe.generationId).toBe(3);
    expect(bRe.members.map((m) => m.memberId)).toEqual([b.memberId]);
  });

  it('drops members that do not rejoin within the rebalance timeout', async () => {
    vi.useFakeTimers();
    const a = await joinAndSync();
    const bJoin = gc.joinGroup(joinParams({ clientId: 'b', rebalanceTimeoutMs: 2000 }));
    // a keeps heartbeating (gets REBALANCE_IN_PROGRESS) but never rejoins.
    vi.advanceTimersByTime(1000);
    expect(gc.heartbeat('g', a.j.memberId, null, 1)).toBe('REBALANCE_IN_PROGRESS');
    vi.advanceTimersByTime(4100);
    const b = await bJoin;
    expect(b.error).toBe('NONE');
    expect(b.generationId).toBe(2);
    expect(gc.group('g')!.has(a.j.memberId)).toBe(false);
  });

  it('waits group.initial.rebalance.delay.ms for an empty group, extending it while members arrive', async () => {
    vi.useFakeTimers();
    gc.shutdown();
    gc = make({ groupInitialRebalanceDelayMs: 3000 });
    const a = gc.joinGroup(joinParams({ rebalanceTimeoutMs: 60_000 }));
    vi.advanceTimersByTime(2000);
    expect((await settled(a)).done).toBe(false);
    const b = gc.joinGroup(joinParams({ clientId: 'b', rebalanceTimeoutMs: 60_000 }));
    vi.advanceTimersByTime(1000); // the first delay ends, but b arrived: wait another 3 s
    expect((await settled(a)).done).toBe(false);
    vi.advanceTimersByTime(3000);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.generationId).toBe(1);
    expect(rb.generationId).toBe(1);
    expect(ra.members.length + rb.members.length).toBe(2);
  });

  it('a lone member joins at once with delay 0', async () => {
    const r = await settled(gc.joinGroup(joinParams()));
    expect(r.done).toBe(true);
    expect((r.value as JoinGroupResult).generationId).toBe(1);
  });

  it('static membership: a rejoin with the same group.instance.id replaces the member and fences the old id', async () => {
    const a = await joinAndSync('', { groupInstanceId: 'inst-1' });
    expect(a.j.memberId).toMatch(/^inst-1-/);
    expect(gc.group('g')!.state).toBe('Stable');
    // The same instance restarts: no member id, same instance id, same protocols → no rebalance.
    const again = await gc.joinGroup(joinParams({ groupInstanceId: 'inst-1' }));
    expect(again.error).toBe('NONE');
    expect(again.memberId).not.toBe(a.j.memberId);
    expect(again.generationId).toBe(1);
    expect(gc.group('g')!.state).toBe('Stable');
    expect(gc.heartbeat('g', a.j.memberId, 'inst-1', 1)).toBe('FENCED_INSTANCE_ID');
    expect(gc.heartbeat('g', again.memberId, 'inst-1', 1)).toBe('NONE');
    // Its assignment survived.
    const s = await gc.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: again.memberId,
      groupInstanceId: 'inst-1',
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect(s.assignment.toString()).toBe(`a-${a.j.memberId}`);
    // An admin removes it by instance id.
    const left = await gc.leaveGroup('g', [
      { memberId: '', groupInstanceId: 'inst-1' },
      { memberId: '', groupInstanceId: 'ghost' },
    ]);
    expect(left.members.map((m) => m.error)).toEqual(['NONE', 'UNKNOWN_MEMBER_ID']);
    expect(gc.group('g')!.state).toBe('Empty');
  });

  it('LeaveGroup makes the group Empty and lets an admin commit, delete offsets and delete it', async () => {
    const a = await joinAndSync();
    const c = [
      { topic: 't', partition: 0, offset: 42, leaderEpoch: 3, metadata: 'm', expireTimestamp: null },
    ];
    expect(await gc.commitOffsets('g', a.j.memberId, null, 1, c, 8)).toEqual(['NONE']);
    expect(await gc.deleteGroups(['g'])).toEqual([{ groupId: 'g', error: 'NON_EMPTY_GROUP' }]);
    // Subscribed topic: GROUP_SUBSCRIBED_TO_TOPIC; other topics go.
    await gc.commitOffsets('g', a.j.memberId, null, 1, [{ ...c[0]!, topic: 'other' }], 8);
    const od = await gc.deleteOffsets('g', [
      { topic: 't', partition: 0 },
      { topic: 'other', partition: 0 },
    ]);
    expect(od).toEqual({
      error: 'NONE',
      partitionErrors: ['GROUP_SUBSCRIBED_TO_TOPIC', 'NONE'],
    });
    const left = await gc.leaveGroup('g', [{ memberId: a.j.memberId, groupInstanceId: null }]);
    expect(left.members[0]!.error).toBe('NONE');
    expect(gc.group('g')!.state).toBe('Empty');
    expect(gc.listGroups()).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Empty', groupType: 'classic' },
    ]);
    expect(await gc.commitOffsets('g', '', null, -1, [{ ...c[0]!, offset: 50 }], 9)).toEqual(['NONE']);
    expect(gc.fetchOffsets('g', [{ name: 't', partitionIndexes: [0, 1] }]).topics[0]!.partitions).toEqual([
      { partitionIndex: 0, committedOffset: 50, committedLeaderEpoch: 3, metadata: 'm', error: 'NONE' },
      { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', error: 'NONE' },
    ]);
    expect(await gc.deleteGroups(['g', 'never'])).toEqual([
      { groupId: 'g', error: 'NONE' },
      { groupId: 'never', error: 'GROUP_ID_NOT_FOUND' },
    ]);
    expect(gc.describeGroup('g').groupState).toBe('Dead');
    expect(gc.fetchOffsets('g', null).topics).toEqual([]);
    expect((await gc.deleteOffsets('g', [{ topic: 't', partition: 0 }])).error).toBe('GROUP_ID_NOT_FOUND');
  });

  it('rejects oversized offset metadata per partition and maps a failed append', async () => {
    const big = 'x'.repeat(4097);
    expect(
      await gc.commitOffsets(
        's',
        '',
        null,
        -1,
        [
          { topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: big, expireTimestamp: null },
          { topic: 't', partition: 1, offset: 1, leaderEpoch: -1, metadata: 'ok', expireTimestamp: null },
        ],
        9,
      ),
    ).toEqual(['OFFSET_METADATA_TOO_LARGE', 'NONE']);
    log.failNext = new Error('disk on fire');
    expect(
      await gc.commitOffsets(
        's',
        '',
        null,
        -1,
        [{ topic: 't', partition: 2, offset: 1, leaderEpoch: -1, metadata: null, expireTimestamp: null }],
        9,
      ),
    ).toEqual(['COORDINATOR_NOT_AVAILABLE']);
    expect(
      gc.fetchOffsets('s', [{ name: 't', partitionIndexes: [2] }]).topics[0]!.partitions[0]!.committedOffset,
    ).toBe(-1);
  });

  it('bounds members: thousands of joins get GROUP_MAX_SIZE_REACHED, pending member ids too', async () => {
    gc.shutdown();
    gc = make({ groupMaxSize: 50, groupInitialRebalanceDelayMs: 3000 });
    const results = await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        Promise.race([gc.joinGroup(joinParams({ clientId: `c${i}` })), Promise.resolve(null)]),
      ),
    );
    const rejected = results.filter((r) => r?.error === 'GROUP_MAX_SIZE_REACHED').length;
    expect(rejected).toBe(3000 - 50);
    expect(gc.group('g')!.size).toBe(50);
    const pending = await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        gc.joinGroup(joinParams({ groupId: 'p', clientId: `c${i}`, requireKnownMemberId: true })),
      ),
    );
    expect(pending.filter((r) => r.error === 'MEMBER_ID_REQUIRED')).toHaveLength(50);
    expect(pending.filter((r) => r.error === 'GROUP_MAX_SIZE_REACHED')).toHaveLength(2950);
    expect(gc.group('p')!.pendingMembers.size).toBe(50);
  });

  it('rejects protocol metadata a group could never store, before keeping it', async () => {
    gc.shutdown();
    gc = make({ maxGroupMetadataBytes: 10_000 });
    const huge = await gc.joinGroup(
      joinParams({ protocols: [{ name: 'range', metadata: Buffer.alloc(20_000) }] }),
    );
    expect(huge.error).toBe('GROUP_MAX_SIZE_REACHED');
    expect(gc.group('g')!.size).toBe(0);
  });

  it('expires pending member ids and new members that never complete their join', async () => {
    vi.useFakeTimers();
    const r = await gc.joinGroup(joinParams({ requireKnownMemberId: true }));
    expect(gc.group('g')!.pendingMembers.has(r.memberId)).toBe(true);
    vi.advanceTimersByTime(3001);
    expect(gc.group('g')!.pendingMembers.size).toBe(0);
    expect((await gc.joinGroup(joinParams({ memberId: r.memberId, requireKnownMemberId: true }))).error).toBe(
      'UNKNOWN_MEMBER_ID',
    );
    expect(NEW_MEMBER_JOIN_TIMEOUT_MS).toBe(300_000);
  });

  it('persists offsets and groups in Kafka layouts and loads them back after a restart', async () => {
    const a = await joinAndSync();
    await gc.commitOffsets(
      'g',
      a.j.memberId,
      null,
      1,
      [{ topic: 't', partition: 3, offset: 77, leaderEpoch: 2, metadata: 'meta', expireTimestamp: null }],
      8,
    );
    await gc.commitOffsets(
      'simple',
      '',
      null,
      -1,
      [{ topic: 'u', partition: 0, offset: 9, leaderEpoch: -1, metadata: null, expireTimestamp: null }],
      8,
    );
    const kinds = log.all().map((r) => decodeCoordinatorKey(r.key).type);
    expect(kinds).toContain('group');
    expect(kinds).toContain('offset');
    gc.shutdown();

    const restarted = make();
    expect(restarted.fetchOffsets('g', null).topics).toEqual([
      {
        name: 't',
        partitions: [
          {
            partitionIndex: 3,
            committedOffset: 77,
            committedLeaderEpoch: 2,
            metadata: 'meta',
            error: 'NONE',
          },
        ],
      },
    ]);
    expect(restarted.fetchOffsets('simple', null).topics[0]!.partitions[0]!.committedOffset).toBe(9);
    const g = restarted.describeGroup('g');
    expect(g.groupState).toBe('Stable');
    expect(g.members.map((m) => m.memberId)).toEqual([a.j.memberId]);
    expect(g.members[0]!.memberAssignment.toString()).toBe(`a-${a.j.memberId}`);
    // The member may carry on with its generation.
    expect(restarted.heartbeat('g', a.j.memberId, null, 1)).toBe('NONE');

    // Deleting writes tombstones: after another restart the group is gone.
    restarted.leaveGroup('g', [{ memberId: a.j.memberId, groupInstanceId: null }]);
    expect((await restarted.deleteGroups(['g']))[0]!.error).toBe('NONE');
    restarted.shutdown();
    const third = make();
    expect(third.describeGroup('g').groupState).toBe('Dead');
    expect(third.fetchOffsets('g', null).topics).toEqual([]);
    expect(third.fetchOffsets('simple', null).topics).toHaveLength(1);
    third.shutdown();
  });

  it('expires offsets of empty groups after offsets.retention.minutes, then the group itself', async () => {
    const time = new MockTime(1_000_000);
    gc.shutdown();
    gc = new GroupCoordinator({ ...config, offsetsRetentionMs: 60_000 }, log, silent, time);
    gc.startup();
    await gc.commitOffsets(
      's',
      '',
      null,
      -1,
      [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null, expireTimestamp: null }],
      9,
    );
    await gc.commitOffsets(
      's',
      '',
      null,
      -1,
      [
        {
          topic: 't',
          partition: 1,
          offset: 1,
          leaderEpoch: -1,
          metadata: null,
          expireTimestamp: time.now() + 10_000,
        },
      ],
      9,
    );
    time.advance(10_000);
    expect(gc.cleanupGroupMetadata()).toBe(1); // the explicit expire timestamp passed
    time.advance(50_000);
    expect(gc.cleanupGroupMetadata()).toBe(1);
    expect(gc.group('s')).toBeUndefined();
    const last = log.all().at(-1)!;
    expect(decodeCoordinatorKey(last.key)).toEqual({ type: 'group', group: 's' });
    expect(last.value).toBeNull();
  });

  it('shutdown answers waiting joins with NOT_COORDINATOR instead of leaving them hanging', async () => {
    gc.shutdown();
    gc = make({ groupInitialRebalanceDelayMs: 3000 });
    const waiting = gc.joinGroup(joinParams());
    gc.shutdown();
    expect((await waiting).error).toBe('NOT_COORDINATOR');
  });
});
