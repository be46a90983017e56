/**
 * KIP-848 consumer groups on the coordinator runtime, in memory with MockTime: joining, the
 * target assignment and reconciliation with revocation before assignment, epochs, leaving,
 * session timeouts, static members, regular expressions, offset commits by member epoch, and a
 * reload rebuilding the same groups by replay.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import { TEST_GROUP_CONFIG } from '../../test-support/group-config.js';
import { GroupCoordinator } from '../group-coordinator.js';
import { MemoryCoordinatorLog } from '../runtime/memory-coordinator-log.js';
import { rangeAssignor, uniformAssignor } from './assignors.js';
import {
  type ConsumerGroupHeartbeatParams,
  DEFAULT_CONSUMER_GROUP_CONFIG,
  type TopicsView,
} from './consumer-groups.js';

const config = TEST_GROUP_CONFIG;

/** Topic ids as the wire has them (16 bytes, base64url). */
const ORDERS = Buffer.alloc(16, 1).toString('base64url');
const PAYMENTS = Buffer.alloc(16, 2).toString('base64url');
const OTHER = Buffer.alloc(16, 3).toString('base64url');

const topicList = new Map([
  ['orders', { topicId: ORDERS, numPartitions: 4 }],
  ['payments', { topicId: PAYMENTS, numPartitions: 2 }],
  ['other', { topicId: OTHER, numPartitions: 1 }],
]);

const topics: TopicsView = {
  topic: (name) => topicList.get(name),
  topicName: (id) => [...topicList].find(([, t]) => t.topicId === id)?.[0],
  topicNames: () => [...topicList.keys()],
};

function setup(assignors = ['uniform', 'range'], log = new MemoryCoordinatorLog(4), time = new MockTime()) {
  const gc = new GroupCoordinator(config, log, createLogger('silent'), time, undefined, {
    config: { ...DEFAULT_CONSUMER_GROUP_CONFIG, maxSize: 10, assignors },
    topics,
  });
  gc.startup();
  return { time, log, gc };
}

function hb(over: Partial<ConsumerGroupHeartbeatParams>): ConsumerGroupHeartbeatParams {
  return {
    apiVersion: 1,
    groupId: 'g',
    memberId: 'm1',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ['orders'],
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
    clientId: 'c',
    clientHost: '/127.0.0.1',
    ...over,
  };
}

/** `{topicId: [partitions]}` of a response's assignment. */
function parts(a: { topicPartitions: { topicId: string; partitions: number[] }[] } | null) {
  return a && Object.fromEntries(a.topicPartitions.map((t) => [t.topicId, t.partitions]));
}

describe('ConsumerGroupHeartbeat', () => {
  it('a first member joins and gets every partition at epoch 1; the group is Stable', async () => {
    const { gc } = setup();
    const r = await gc.consumerGroupHeartbeat(hb({}));
    expect(r).toMatchObject({ error: 'NONE', memberId: 'm1', memberEpoch: 1, heartbeatIntervalMs: 5000 });
    expect(parts(r.assignment)).toEqual({ [ORDERS]: [0, 1, 2, 3] });
    const d = gc.consumerGroupDescribe('g', false, 0);
    expect(d).toMatchObject({
      error: 'NONE',
      groupState: 'Stable',
      groupEpoch: 1,
      assignmentEpoch: 1,
      assignorName: 'uniform',
    });
    expect(gc.listGroups()).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' },
    ]);
  });

  it('a second member: the first revokes before the second is given anything (revocation before assignment)', async () => {
    const { gc } = setup();
    await gc.consumerGroupHeartbeat(hb({}));
    const m2 = await gc.consumerGroupHeartbeat(hb({ memberId: 'm2' }));
    // Target epoch 2 splits the partitions, but m1 still owns them: m2 waits with nothing.
    expect(m2).toMatchObject({ error: 'NONE', memberEpoch: 2 });
    expect(parts(m2.assignment)).toEqual({});
    expect(gc.consumerGroupDescribe('g', false, 0).groupState).toBe('Reconciling');
    // m1 still reports all four: it is asked to keep only its target, same epoch.
    const owned = [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }];
    const m1 = await gc.consumerGroupHeartbeat(hb({ memberEpoch: 1, topicPartitions: owned }));
    expect(m1.memberEpoch).toBe(1);
    const kept = parts(m1.assignment)![ORDERS]!;
    expect(kept).toHaveLength(2);
    // Still owning them: nothing moves.
    const again = await gc.consumerGroupHeartbeat(hb({ memberEpoch: 1, topicPartitions: owned }));
    expect(again.memberEpoch).toBe(1);
    // Revoked: m1 moves to epoch 2; m2 then gets the released partitions.
    const done = await gc.consumerGroupHeartbeat(
      hb({ memberEpoch: 1, topicPartitions: [{ topicId: ORDERS, partitions: kept }] }),
    );
    expect(done.memberEpoch).toBe(2);
    const m2b = await gc.consumerGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 2, topicPartitions: [] }));
    const got = parts(m2b.assignment)![ORDERS]!;
    expect([...got, ...kept].sort()).toEqual([0, 1, 2, 3]);
    expect(gc.consumerGroupDescribe('g', false, 0).groupState).toBe('Stable');
  });

  it('epochs: a greater one is FENCED_MEMBER_EPOCH, an unknown member UNKNOWN_MEMBER_ID, bad requests INVALID_REQUEST', async () => {
    const { gc } = setup();
    await gc.consumerGroupHeartbeat(hb({}));
    expect((await gc.consumerGroupHeartbeat(hb({ memberEpoch: 5, topicPartitions: null }))).error).toBe(
      'FENCED_MEMBER_EPOCH',
    );
    expect((await gc.consumerGroupHeartbeat(hb({ memberId: 'x', memberEpoch: 1 }))).error).toBe(
      'UNKNOWN_MEMBER_ID',
    );
    expect((await gc.consumerGroupHeartbeat(hb({ rebalanceTimeoutMs: -1 }))).error).toBe('INVALID_REQUEST');
    expect((await gc.consumerGroupHeartbeat(hb({ memberId: '' }))).error).toBe('INVALID_REQUEST');
    expect((await gc.consumerGroupHeartbeat(hb({ serverAssignor: 'sticky' }))).error).toBe(
      'UNSUPPORTED_ASSIGNOR',
    );
    expect((await gc.consumerGroupHeartbeat(hb({ subscribedTopicRegex: '(' }))).error).toBe(
      'INVALID_REGULAR_EXPRESSION',
    );
    // v0: the coordinator names the member.
    const v0 = await gc.consumerGroupHeartbeat(hb({ apiVersion: 0, memberId: '' }));
    expect(v0.memberId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('leaving (-1) bumps the group epoch and frees the partitions; a silent member is fenced after its session', async () => {
    const { gc, time } = setup();
    await gc.consumerGroupHeartbeat(hb({}));
    await gc.consumerGroupHeartbeat(hb({ memberId: 'm2', subscribedTopicNames: ['payments'] }));
    const left = await gc.consumerGroupHeartbeat(hb({ memberEpoch: -1, topicPartitions: null }));
    expect(left).toMatchObject({ error: 'NONE', memberEpoch: -1 });
    expect(gc.consumerGroup('g')!.members.has('m1')).toBe(false);
    expect(gc.consumerGroup('g')!.groupEpoch).toBe(3);
    await time.advanceAsync(45_001);
    expect(gc.consumerGroup('g')!.members.size).toBe(0);
    expect(gc.consumerGroupDescribe('g', false, 0).groupState).toBe('Empty');
  });

  it('a static member leaving with -2 keeps its partitions; its instance id rejoins under a new member id', async () => {
    const { gc } = setup();
    await gc.consumerGroupHeartbeat(hb({ instanceId: 'i1' }));
    const bye = await gc.consumerGroupHeartbeat(
      hb({ memberEpoch: -2, instanceId: 'i1', topicPartitions: null }),
    );
    expect(bye.memberEpoch).toBe(-2);
    // Another member cannot take those partitions meanwhile; the instance id is not free either.
    const other = await gc.consumerGroupHeartbeat(hb({ memberId: 'm3', instanceId: 'i1' }));
    expect(other.error).toBe('NONE');
    expect(parts(other.assignment)).toEqual({ [ORDERS]: [0, 1, 2, 3] });
    expect(gc.consumerGroup('g')!.members.has('m1')).toBe(false);
    const dup = await gc.consumerGroupHeartbeat(hb({ memberId: 'm4', instanceId: 'i1' }));
    expect(dup.error).toBe('UNRELEASED_INSTANCE_ID');
  });

  it('a regular expression subscribes to every matching topic (whole names)', async () => {
    const { gc } = setup();
    const r = await gc.consumerGroupHeartbeat(
      hb({ subscribedTopicNames: null, subscribedTopicRegex: 'pay.*|oth' }),
    );
    expect(parts(r.assignment)).toEqual({ [PAYMENTS]: [0, 1] });
  });

  it('offsets: a member commits with its epoch; an old epoch is STALE_MEMBER_EPOCH', async () => {
    const { gc } = setup();
    await gc.consumerGroupHeartbeat(hb({}));
    const entry = {
      topic: 'orders',
      partition: 0,
      offset: 7,
      leaderEpoch: -1,
      metadata: null,
      expireTimestamp: null,
    };
    expect(await gc.commitOffsets('g', 'm1', null, 1, [entry], 9)).toEqual(['NONE']);
    expect(await gc.commitOffsets('g', 'm1', null, 0, [entry], 9)).toEqual(['STALE_MEMBER_EPOCH']);
    expect(await gc.commitOffsets('g', 'nobody', null, 1, [entry], 9)).toEqual(['UNKNOWN_MEMBER_ID']);
    expect(await gc.commitOffsets('g', 'm1', null, 1, [entry], 8)).toEqual(['UNSUPPORTED_VERSION']);
    expect(
      gc.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0] }]).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(7);
    expect(gc.listGroups().map((g) => g.groupType)).toEqual(['consumer']);
    // OffsetDelete: not the offsets of a subscribed topic while the group has members.
    const other = { ...entry, topic: 'payments' };
    expect(await gc.commitOffsets('g', 'm1', null, 1, [other], 9)).toEqual(['NONE']);
    expect(
      await gc.deleteOffsets('g', [
        { topic: 'orders', partition: 0 },
        { topic: 'payments', partition: 0 },
      ]),
    ).toEqual({ error: 'NONE', partitionErrors: ['GROUP_SUBSCRIBED_TO_TOPIC', 'NONE'] });
    // OffsetFetch v9: a member at its epoch, an admin (no member), a stale or unknown member.
    const orders = [{ name: 'orders', partitionIndexes: [0] }];
    expect(gc.fetchOffsets('g', orders, { memberId: 'm1', memberEpoch: 1 }).error).toBe('NONE');
    expect(gc.fetchOffsets('g', orders, { memberId: null, memberEpoch: -1 }).error).toBe('NONE');
    expect(gc.fetchOffsets('g', orders, { memberId: 'm1', memberEpoch: 0 }).error).toBe('STALE_MEMBER_EPOCH');
    expect(gc.fetchOffsets('g', orders, { memberId: 'x', memberEpoch: 1 }).error).toBe('UNKNOWN_MEMBER_ID');
  });

  it('a reload rebuilds the group, members, epochs and assignments from the records', async () => {
    const log = new MemoryCoordinatorLog(4);
    const first = setup(undefined, log);
    await first.gc.consumerGroupHeartbeat(hb({}));
    await first.gc.consumerGroupHeartbeat(hb({ memberId: 'm2' }));
    const before = first.gc.consumerGroupDescribe('g', false, 0);
    first.gc.shutdown();
    const second = setup(undefined, log);
    expect(second.gc.consumerGroupDescribe('g', false, 0)).toEqual(before);
  });

  it('DescribeGroups shows a consumer group with protocol type consumer; a classic group is not a consumer group', async () => {
    const { gc } = setup();
    await gc.consumerGroupHeartbeat(hb({}));
    const d = gc.describeGroup('g');
    expect(d).toMatchObject({ error: 'NONE', groupState: 'Stable', protocolType: 'consumer' });
    expect(d.members[0]!.memberAssignment.length).toBeGreaterThan(2);
    expect(gc.consumerGroupDescribe('nope', false, 0).error).toBe('GROUP_ID_NOT_FOUND');
  });

  it('conversions: an empty classic group with offsets becomes a consumer group, an empty consumer group classic again', async () => {
    const { gc } = setup();
    const entry = {
      topic: 'orders',
      partition: 1,
      offset: 4,
      leaderEpoch: -1,
      metadata: null,
      expireTimestamp: null,
    };
    expect(await gc.commitOffsets('g', '', null, -1, [entry], 9)).toEqual(['NONE']);
    const r = await gc.consumerGroupHeartbeat(hb({}));
    expect(r.error).toBe('NONE');
    expect(
      gc.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [1] }]).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(4);
    await gc.consumerGroupHeartbeat(hb({ memberEpoch: -1, topicPartitions: null }));
    const join = {
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      requireKnownMemberId: false,
      supportSkippingAssignment: false,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 1000,
      sessionTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    };
    const joined = await gc.joinGroup(join);
    expect(joined.error).toBe('NONE');
    expect(gc.consumerGroup('g')).toBeUndefined();
    expect(
      gc.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [1] }]).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(4);
    // A classic group with members is not a consumer group.
    expect((await gc.consumerGroupHeartbeat(hb({ memberId: 'm9' }))).error).toBe('GROUP_ID_NOT_FOUND');
  });

  it('DeleteGroups: NON_EMPTY_GROUP with members; an empty consumer group is deleted', async () => {
    const { gc } = setup();
    await gc.consumerGroupHeartbeat(hb({}));
    expect(await gc.deleteGroups(['g'])).toEqual([{ groupId: 'g', error: 'NON_EMPTY_GROUP' }]);
    await gc.consumerGroupHeartbeat(hb({ memberEpoch: -1, topicPartitions: null }));
    expect(await gc.deleteGroups(['g'])).toEqual([{ groupId: 'g', error: 'NONE' }]);
    expect(gc.consumerGroup('g')).toBeUndefined();
  });
});

describe('server-side assignors', () => {
  const member = (memberId: string, ids: string[]) => ({
    memberId,
    subscribedTopicIds: new Set(ids),
    current: new Map(),
  });
  const counts = new Map([
    ['a', 5],
    ['b', 2],
  ]);

  it('range: per topic, consecutive ranges in member-id order, the first ones one more', () => {
    const out = rangeAssignor.assign([member('y', ['a', 'b']), member('x', ['a'])], counts);
    expect([...out.get('x')!.get('a')!]).toEqual([0, 1, 2]);
    expect([...out.get('y')!.get('a')!]).toEqual([3, 4]);
    expect([...out.get('y')!.get('b')!]).toEqual([0, 1]);
  });

  it('uniform at scale: 200 members, 2,000 partitions, every partition once, shares within one', () => {
    const many = new Map(Array.from({ length: 20 }, (_, t) => [`t${t}`, 100] as [string, number]));
    const ids = [...many.keys()];
    const members = Array.from({ length: 200 }, (_, i) => member(`m${String(i).padStart(3, '0')}`, ids));
    const t0 = performance.now();
    const out = uniformAssignor.assign(members, many);
    const ms = performance.now() - t0;
    const sizes = [...out.values()].map((a) => [...a.values()].reduce((n, s) => n + s.size, 0));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    const seen = new Set<string>();
    for (const a of out.values()) for (const [t, ps] of a) for (const p of ps) seen.add(`${t}:${p}`);
    expect(seen.size).toBe(2000);
    console.log(`uniform: 200 members x 2,000 partitions in ${ms.toFixed(1)} ms`);
  });

  it('uniform: balanced, and sticky when a member joins', () => {
    const one = uniformAssignor.assign([member('x', ['a', 'b'])], counts);
    expect([...one.get('x')!.values()].reduce((n, s) => n + s.size, 0)).toBe(7);
    const two = uniformAssignor.assign(
      [{ ...member('x', ['a', 'b']), current: one.get('x')! }, member('y', ['a', 'b'])],
      counts,
    );
    const size = (id: string) => [...two.get(id)!.values()].reduce((n, s) => n + s.size, 0);
    expect([size('x'), size('y')].sort()).toEqual([3, 4]);
    // x kept only what it had.
    for (const [t, ps] of two.get('x')!) for (const p of ps) expect(one.get('x')!.get(t)!.has(p)).toBe(true);
  });
});
