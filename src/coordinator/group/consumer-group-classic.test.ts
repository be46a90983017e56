/**
 * Classic members in KIP-848 consumer groups and the conversions between the two protocols
 * (Kafka's online migration), on the coordinator runtime in memory with MockTime: a classic
 * member joining a consumer group (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), a classic group
 * upgraded when a consumer-protocol member joins, a consumer group downgraded when its last
 * consumer-protocol member leaves, the members' deadlines, commits, and a reload.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import { TEST_GROUP_CONFIG } from '../../test-support/group-config.js';
import { GroupCoordinator, type JoinGroupParams } from '../group-coordinator.js';
import { MemoryCoordinatorLog } from '../runtime/memory-coordinator-log.js';
import {
  type ConsumerGroupHeartbeatParams,
  DEFAULT_CONSUMER_GROUP_CONFIG,
  migrationPolicy,
  type TopicsView,
} from './consumer-groups.js';
import { decodeAssignment, encodeAssignment, encodeSubscription } from './consumer-protocol.js';

const config = TEST_GROUP_CONFIG;

const ORDERS = Buffer.alloc(16, 1).toString('base64url');
const topics: TopicsView = {
  topic: (name) => (name === 'orders' ? { topicId: ORDERS, numPartitions: 4 } : undefined),
  topicName: (id) => (id === ORDERS ? 'orders' : undefined),
  topicNames: () => ['orders'],
};

function setup(policy = 'bidirectional', log = new MemoryCoordinatorLog(4), time = new MockTime()) {
  const gc = new GroupCoordinator(config, log, createLogger('silent'), time, undefined, {
    config: { ...DEFAULT_CONSUMER_GROUP_CONFIG, migrationPolicy: migrationPolicy(policy) },
    topics,
  });
  gc.startup();
  return { gc, log, time };
}

/** A classic consumer's subscription (v1: with its owned partitions). */
function subscription(owned: number[] = []): Buffer {
  return encodeSubscription(1, {
    topics: ['orders'],
    userData: null,
    ownedPartitions: owned.length > 0 ? [{ topic: 'orders', partitions: owned }] : [],
  });
}

function join(over: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: 'classic',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 5000,
    sessionTimeoutMs: 3000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription() }],
    ...over,
  };
}

function hb(over: Partial<ConsumerGroupHeartbeatParams> = {}): ConsumerGroupHeartbeatParams {
  return {
    apiVersion: 1,
    groupId: 'g',
    memberId: 'new',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ['orders'],
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
    clientId: 'kip848',
    clientHost: '/127.0.0.1',
    ...over,
  };
}

/**
 * A KIP-848 member at epoch 1 holding all of `orders` reports it, is told its (smaller) target,
 * gives up the rest and reports only that; returns the partitions it kept.
 */
async function revokeToTarget(gc: GroupCoordinator, memberId: string): Promise<number[]> {
  const all = [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }];
  const r = await gc.consumerGroupHeartbeat(hb({ memberId, memberEpoch: 1, topicPartitions: all }));
  const kept = r.assignment!.topicPartitions[0]!.partitions;
  await gc.consumerGroupHeartbeat(
    hb({ memberId, memberEpoch: 1, topicPartitions: [{ topicId: ORDERS, partitions: kept }] }),
  );
  return kept;
}

/** The partitions of `orders` a SyncGroup assignment carries. */
function assigned(buf: Buffer): number[] {
  return decodeAssignment(buf).assignedPartitions.flatMap((t) => t.partitions);
}

async function syncOf(gc: GroupCoordinator, memberId: string, generationId: number) {
  return gc.syncGroup({
    groupId: 'g',
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [],
  });
}

const orders = (partitions: number[]) =>
  encodeAssignment(0, { assignedPartitions: [{ topic: 'orders', partitions }], userData: null });

/** A classic group of two members, Stable, each holding two partitions (the first assigns). */
async function classicGroup(gc: GroupCoordinator) {
  // The first member alone: generation 1.
  // Sessions longer than the tests' clock moves: only what a test times out goes.
  const long = { sessionTimeoutMs: 120_000 };
  const a = await gc.joinGroup(join({ clientId: 'a', ...long }));
  await gc.syncGroup({
    groupId: 'g',
    generationId: a.generationId,
    memberId: a.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: a.memberId, assignment: orders([0, 1, 2, 3]) }],
  });
  // A second joins; the first rejoins; generation 2 with both.
  const pending = gc.joinGroup(join({ clientId: 'b', ...long }));
  const a2 = await gc.joinGroup(join({ memberId: a.memberId, clientId: 'a', ...long }));
  const b = await pending;
  expect(a2.leader).toBe(a.memberId);
  const [sa, sb] = await Promise.all([
    gc.syncGroup({
      groupId: 'g',
      generationId: a2.generationId,
      memberId: a.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: a.memberId, assignment: orders([0, 1]) },
        { memberId: b.memberId, assignment: orders([2, 3]) },
      ],
    }),
    syncOf(gc, b.memberId, b.generationId),
  ]);
  expect([sa.error, sb.error]).toEqual(['NONE', 'NONE']);
  expect(gc.group('g')!.state).toBe('Stable');
  return { leader: a.memberId, other: b.memberId, generation: a2.generationId };
}

describe('classic members in a consumer group', () => {
  it('a classic consumer joins a group of a KIP-848 member: partitions split after the other revokes, epochs as generations', async () => {
    const { gc } = setup();
    const first = await gc.consumerGroupHeartbeat(hb({ memberId: 'c1' }));
    expect(first.memberEpoch).toBe(1);
    // JoinGroup v4+: a member id first (not kept until the member joins with it).
    const required = await gc.joinGroup(join({ requireKnownMemberId: true }));
    expect(required.error).toBe('MEMBER_ID_REQUIRED');
    expect(gc.consumerGroup('g')!.members.size).toBe(1);
    const j = await gc.joinGroup(join({ memberId: required.memberId, requireKnownMemberId: true }));
    expect(j).toMatchObject({
      error: 'NONE',
      memberId: required.memberId,
      generationId: 2,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: '',
      members: [],
    });
    // c1 still owns every partition: the classic member waits for its two.
    const s = await syncOf(gc, j.memberId, 2);
    expect(s.error).toBe('NONE');
    expect(assigned(s.assignment)).toEqual([]);
    expect(gc.heartbeat('g', j.memberId, null, 2)).toBe('NONE');
    // c1 revokes two, then reports only its own; the classic member is told to rejoin for the rest.
    const kept = await revokeToTarget(gc, 'c1');
    expect(kept).toHaveLength(2);
    expect(gc.heartbeat('g', j.memberId, null, 2)).toBe('REBALANCE_IN_PROGRESS');
    const again = await gc.joinGroup(join({ memberId: j.memberId }));
    expect(again.generationId).toBe(2);
    const s2 = await syncOf(gc, j.memberId, 2);
    expect(assigned(s2.assignment).sort()).toEqual([0, 1, 2, 3].filter((p) => !kept.includes(p)));
    expect(gc.heartbeat('g', j.memberId, null, 2)).toBe('NONE');
    const d = gc.consumerGroupDescribe('g', false, 0);
    expect(d.groupState).toBe('Stable');
    expect(d.members.map((m) => [m.clientId, m.memberType]).sort()).toEqual([
      ['classic', 0],
      ['kip848', 1],
    ]);
    // Wrong generation, unknown member, a consumer-protocol member on the classic APIs.
    expect(gc.heartbeat('g', j.memberId, null, 1)).toBe('ILLEGAL_GENERATION');
    expect(gc.heartbeat('g', 'ghost', null, 2)).toBe('UNKNOWN_MEMBER_ID');
    expect(gc.heartbeat('g', 'c1', null, 2)).toBe('UNKNOWN_MEMBER_ID');
    expect((await syncOf(gc, j.memberId, 1)).error).toBe('ILLEGAL_GENERATION');
    // A protocol no classic member here supports; one it does.
    const other = await gc.joinGroup(join({ protocols: [{ name: 'roundrobin', metadata: subscription() }] }));
    expect(other.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    // Commits: the generation is the member epoch.
    const c = [
      { topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: '', expireTimestamp: null },
    ];
    expect(await gc.commitOffsets('g', j.memberId, null, 2, c, 8)).toEqual(['NONE']);
    expect(await gc.commitOffsets('g', j.memberId, null, 1, c, 8)).toEqual(['ILLEGAL_GENERATION']);
    // LeaveGroup: the member goes, the group epoch moves for the other.
    const left = await gc.leaveGroup('g', [{ memberId: j.memberId, groupInstanceId: null }]);
    expect(left.members).toEqual([{ memberId: j.memberId, groupInstanceId: null, error: 'NONE' }]);
    expect(gc.consumerGroup('g')!.members.size).toBe(1);
    expect(gc.consumerGroup('g')!.groupEpoch).toBe(3);
  });

  it('a classic member that stops heartbeating is fenced after its own session timeout; one that does not sync, after its rebalance timeout', async () => {
    const { gc, time } = setup();
    await gc.consumerGroupHeartbeat(hb({ memberId: 'c1' }));
    const j = await gc.joinGroup(join({ sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 2000 }));
    expect(j.error).toBe('NONE');
    // No SyncGroup within the rebalance timeout.
    time.advance(2001);
    await Promise.resolve();
    expect(gc.consumerGroup('g')!.members.has(j.memberId)).toBe(false);
    const k = await gc.joinGroup(join({ sessionTimeoutMs: 3000 }));
    await syncOf(gc, k.memberId, k.generationId);
    time.advance(2000);
    expect(gc.heartbeat('g', k.memberId, null, k.generationId)).not.toBe('UNKNOWN_MEMBER_ID');
    time.advance(2999);
    expect(gc.consumerGroup('g')!.members.has(k.memberId)).toBe(true);
    time.advance(2);
    await Promise.resolve();
    expect(gc.consumerGroup('g')!.members.has(k.memberId)).toBe(false);
  });
});

describe('online migration', () => {
  it('upgrade: a KIP-848 member joining a classic group converts it; the classic members keep their partitions until they rejoin', async () => {
    const { gc } = setup();
    const cg = await classicGroup(gc);
    const c = [
      { topic: 'orders', partition: 1, offset: 7, leaderEpoch: -1, metadata: '', expireTimestamp: null },
    ];
    expect(await gc.commitOffsets('g', cg.leader, null, cg.generation, c, 8)).toEqual(['NONE']);
    const r = await gc.consumerGroupHeartbeat(hb());
    expect(r.error).toBe('NONE');
    const group = gc.consumerGroup('g')!;
    expect(group.members.size).toBe(3);
    // The classic group's members were converted at its generation, holding what SyncGroup gave them.
    const leader = group.members.get(cg.leader)!;
    expect(leader.memberEpoch).toBe(cg.generation);
    expect([...leader.assignedPartitions.get(ORDERS)!]).toEqual([0, 1]);
    expect(leader.classicMemberMetadata?.sessionTimeoutMs).toBe(120_000);
    expect(group.groupEpoch).toBe(cg.generation + 1);
    // The new member waits; the classic members are told to rejoin.
    expect(r.assignment!.topicPartitions).toEqual([]);
    expect(gc.heartbeat('g', cg.leader, null, cg.generation)).toBe('REBALANCE_IN_PROGRESS');
    expect(gc.listGroups()).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Reconciling', groupType: 'consumer' },
    ]);
    // Committed offsets stay with the group id.
    const fetched = gc.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [1] }]);
    expect(JSON.stringify(fetched)).toContain('"committedOffset":7');
    // An eager member rejoins having revoked everything: the new member gets its share.
    const rejoin = await gc.joinGroup(join({ memberId: cg.leader }));
    expect(rejoin.error).toBe('NONE');
    expect(rejoin.generationId).toBe(cg.generation + 1);
  });

  it('upgrade refused when the policy says so (GROUP_ID_NOT_FOUND, the classic group untouched)', async () => {
    for (const policy of ['disabled', 'downgrade']) {
      const { gc } = setup(policy);
      await classicGroup(gc);
      const r = await gc.consumerGroupHeartbeat(hb());
      expect(r).toMatchObject({
        error: 'GROUP_ID_NOT_FOUND',
        errorMessage: 'Group g is not a consumer group.',
      });
      expect(gc.group('g')!.state).toBe('Stable');
      expect(gc.consumerGroup('g')).toBeUndefined();
    }
  });

  it('downgrade: the last KIP-848 member leaving turns the group classic; its members rejoin and take every partition', async () => {
    const { gc, log, time } = setup();
    const cg = await classicGroup(gc);
    await gc.consumerGroupHeartbeat(hb());
    const c = [
      { topic: 'orders', partition: 3, offset: 9, leaderEpoch: -1, metadata: '', expireTimestamp: null },
    ];
    expect(await gc.commitOffsets('g', cg.other, null, cg.generation, c, 8)).toEqual(['NONE']);
    const left = await gc.consumerGroupHeartbeat(hb({ memberEpoch: -1 }));
    expect(left.error).toBe('NONE');
    expect(gc.consumerGroup('g')).toBeUndefined();
    const classic = gc.group('g')!;
    expect(classic.state).toBe('PreparingRebalance');
    expect(classic.size).toBe(2);
    expect(classic.protocolName).toBe('range');
    expect(classic.get(cg.leader).supportedProtocols.map((p) => p.name)).toEqual(['range']);
    expect(JSON.stringify(gc.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [3] }]))).toContain(
      '"committedOffset":9',
    );
    // Both rejoin and sync through the classic protocol; the leader assigns.
    const [ja, jb] = await Promise.all([
      gc.joinGroup(join({ memberId: cg.leader })),
      gc.joinGroup(join({ memberId: cg.other })),
    ]);
    expect([ja.error, jb.error]).toEqual(['NONE', 'NONE']);
    expect(ja.members.length + jb.members.length).toBe(2);
    expect(gc.listGroups()[0]).toMatchObject({ groupType: 'classic' });
    // The stored records replay to the same classic group.
    const reloaded = setup('bidirectional', log, time).gc;
    expect(reloaded.consumerGroup('g')).toBeUndefined();
    expect(reloaded.group('g')!.size).toBe(2);
  });

  it('downgrade also when the KIP-848 member times out; not while another KIP-848 member remains, nor when the policy forbids it', async () => {
    const { gc, time } = setup();
    await classicGroup(gc);
    await gc.consumerGroupHeartbeat(hb());
    time.advance(45_001);
    await Promise.resolve();
    expect(gc.consumerGroup('g')).toBeUndefined();
    expect(gc.group('g')!.size).toBe(2);

    const two = setup().gc;
    await classicGroup(two);
    await two.consumerGroupHeartbeat(hb());
    await two.consumerGroupHeartbeat(hb({ memberId: 'new2' }));
    await two.consumerGroupHeartbeat(hb({ memberEpoch: -1 }));
    expect(two.consumerGroup('g')!.members.size).toBe(3);

    const upgradeOnly = setup('upgrade').gc;
    await classicGroup(upgradeOnly);
    await upgradeOnly.consumerGroupHeartbeat(hb());
    await upgradeOnly.consumerGroupHeartbeat(hb({ memberEpoch: -1 }));
    expect(upgradeOnly.consumerGroup('g')!.members.size).toBe(2);
  });

  it('downgrade without a rebalance: a classic static member replacing the last KIP-848 member takes its partitions', async () => {
    const { gc } = setup();
    await gc.consumerGroupHeartbeat(hb({ memberId: 'k1', instanceId: 'inst' }));
    const j = await gc.joinGroup(join({ sessionTimeoutMs: 120_000 }));
    await syncOf(gc, j.memberId, j.generationId);
    // k1 revokes what the classic member is to get; both settle.
    const kept = await revokeToTarget(gc, 'k1');
    const epoch = gc.consumerGroup('g')!.groupEpoch;
    // The instance restarts as a classic consumer with the same group.instance.id.
    const r = await gc.joinGroup(join({ groupInstanceId: 'inst', sessionTimeoutMs: 120_000 }));
    expect(r).toMatchObject({ error: 'NONE', generationId: epoch, protocolName: 'range' });
    expect(gc.consumerGroup('g')).toBeUndefined();
    const classic = gc.group('g')!;
    expect([classic.state, classic.generationId, classic.size]).toEqual(['Stable', epoch, 2]);
    // It syncs into the classic group and gets what k1 was given; nobody rebalances.
    const s = await syncOf(gc, r.memberId, epoch);
    expect(s.error).toBe('NONE');
    expect(assigned(s.assignment).sort()).toEqual([...kept].sort());
    expect(gc.heartbeat('g', j.memberId, null, epoch)).toBe('NONE');
  });

  it('a reload keeps classic members in a consumer group with their protocols', async () => {
    const { gc, log, time } = setup();
    await gc.consumerGroupHeartbeat(hb({ memberId: 'c1' }));
    const j = await gc.joinGroup(join({ sessionTimeoutMs: 12_345 }));
    const reloaded = setup('bidirectional', log, time).gc;
    const m = reloaded.consumerGroup('g')!.members.get(j.memberId)!;
    expect(m.classicMemberMetadata?.sessionTimeoutMs).toBe(12_345);
    expect(m.classicMemberMetadata?.supportedProtocols.map((p) => p.name)).toEqual(['range']);
    expect(reloaded.heartbeat('g', j.memberId, null, j.generationId)).not.toBe('UNKNOWN_MEMBER_ID');
  });
});
