/**
 * Share groups on the coordinator runtime, in memory with MockTime: joining with the simple
 * assignor (members sharing partitions), epochs, leaving, session timeouts releasing a member,
 * group id conflicts with consumer groups, ListGroups/DescribeGroups/DeleteGroups, and a reload
 * rebuilding the same groups from Kafka's share group records.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import { TEST_GROUP_CONFIG } from '../../test-support/group-config.js';
import { DEFAULT_CONSUMER_GROUP_CONFIG, type TopicsView } from '../group/consumer-groups.js';
import { GroupCoordinator } from '../group-coordinator.js';
import { MemoryCoordinatorLog } from '../runtime/memory-coordinator-log.js';
import { simpleAssign } from './share-assignor.js';
import type { ShareGroupHeartbeatParams } from './share-groups.js';

const config = TEST_GROUP_CONFIG;

const ORDERS = Buffer.alloc(16, 1).toString('base64url');
const ONE = Buffer.alloc(16, 2).toString('base64url');
const topicList = new Map([
  ['orders', { topicId: ORDERS, numPartitions: 3 }],
  ['one', { topicId: ONE, numPartitions: 1 }],
]);
const topics: TopicsView = {
  topic: (name) => topicList.get(name),
  topicName: (id) => [...topicList].find(([, t]) => t.topicId === id)?.[0],
  topicNames: () => [...topicList.keys()],
};

function setup(log = new MemoryCoordinatorLog(4), time = new MockTime(), maxSize = 3) {
  const gc = new GroupCoordinator(
    config,
    log,
    createLogger('silent'),
    time,
    undefined,
    {
      config: { ...DEFAULT_CONSUMER_GROUP_CONFIG, maxSize: 10, assignors: ['uniform'] },
      topics,
    },
    { enabled: true, sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000, maxSize },
  );
  gc.startup();
  const removed: string[] = [];
  gc.shareGroups.onMemberRemoved = (g, m) => removed.push(`${g}/${m}`);
  return { time, log, gc, removed };
}

function hb(over: Partial<ShareGroupHeartbeatParams>): ShareGroupHeartbeatParams {
  return {
    groupId: 'sg',
    memberId: 'm1',
    memberEpoch: 0,
    rackId: null,
    subscribedTopicNames: ['one'],
    clientId: 'c',
    clientHost: '/127.0.0.1',
    ...over,
  };
}

function parts(a: { topicPartitions: { topicId: string; partitions: number[] }[] } | null) {
  return a && Object.fromEntries(a.topicPartitions.map((t) => [t.topicId, t.partitions]));
}

describe('simple assignor', () => {
  it('deals partitions round-robin; more members than partitions share them', () => {
    const subs = new Map([
      ['a', new Set([ONE])],
      ['b', new Set([ONE])],
      ['c', new Set([ONE])],
    ]);
    const out = simpleAssign(subs, new Map([[ONE, 1]]));
    for (const m of ['a', 'b', 'c']) expect([...out.get(m)!.get(ONE)!]).toEqual([0]);
    const two = simpleAssign(
      new Map([
        ['a', new Set([ORDERS])],
        ['b', new Set([ORDERS])],
      ]),
      new Map([[ORDERS, 3]]),
    );
    expect([...two.get('a')!.get(ORDERS)!]).toEqual([0, 2]);
    expect([...two.get('b')!.get(ORDERS)!]).toEqual([1]);
  });
});

describe('ShareGroupHeartbeat', () => {
  it('members join at the new group epoch and all share the one partition; Stable', async () => {
    const { gc } = setup();
    const r1 = await gc.shareGroupHeartbeat(hb({}));
    expect(r1).toMatchObject({ error: 'NONE', memberId: 'm1', memberEpoch: 1, heartbeatIntervalMs: 5000 });
    expect(parts(r1.assignment)).toEqual({ [ONE]: [0] });
    const r2 = await gc.shareGroupHeartbeat(hb({ memberId: 'm2' }));
    expect(r2.memberEpoch).toBe(2);
    expect(parts(r2.assignment)).toEqual({ [ONE]: [0] });
    // m1's next heartbeat at its epoch moves it to the group's epoch, same partition.
    const r1b = await gc.shareGroupHeartbeat(hb({ memberEpoch: 1, subscribedTopicNames: null }));
    expect(r1b).toMatchObject({ error: 'NONE', memberEpoch: 2, assignment: null });
    const d = gc.shareGroupDescribe('sg', false, 0);
    expect(d).toMatchObject({
      error: 'NONE',
      groupState: 'Stable',
      groupEpoch: 2,
      assignmentEpoch: 2,
      assignorName: 'simple',
    });
    expect(d.members.map((m) => m.assignment.topicPartitions[0]!.topicName)).toEqual(['one', 'one']);
  });

  it('refuses invalid requests, wrong epochs and unknown members with Kafka errors', async () => {
    const { gc } = setup();
    expect((await gc.shareGroupHeartbeat(hb({ memberId: '' }))).error).toBe('INVALID_REQUEST');
    expect((await gc.shareGroupHeartbeat(hb({ subscribedTopicNames: [] }))).error).toBe('INVALID_REQUEST');
    expect((await gc.shareGroupHeartbeat(hb({ memberEpoch: -2 }))).error).toBe('INVALID_REQUEST');
    expect((await gc.shareGroupHeartbeat(hb({ memberEpoch: 3 }))).error).toBe('GROUP_ID_NOT_FOUND');
    await gc.shareGroupHeartbeat(hb({}));
    expect((await gc.shareGroupHeartbeat(hb({ memberEpoch: 7 }))).error).toBe('FENCED_MEMBER_EPOCH');
    expect((await gc.shareGroupHeartbeat(hb({ memberId: 'x', memberEpoch: 1 }))).error).toBe(
      'UNKNOWN_MEMBER_ID',
    );
    await gc.shareGroupHeartbeat(hb({ memberId: 'm2' }));
    await gc.shareGroupHeartbeat(hb({ memberId: 'm3' }));
    expect((await gc.shareGroupHeartbeat(hb({ memberId: 'm4' }))).error).toBe('GROUP_MAX_SIZE_REACHED');
  });

  it('a share group id is not a consumer group and the other way round', async () => {
    const { gc } = setup();
    await gc.shareGroupHeartbeat(hb({}));
    const c = await gc.consumerGroupHeartbeat({
      apiVersion: 1,
      groupId: 'sg',
      memberId: 'c1',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ['orders'],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
      clientId: 'c',
      clientHost: 'h',
    });
    expect(c.error).toBe('GROUP_ID_NOT_FOUND');
    expect(gc.consumerGroupDescribe('sg', false, 0).errorMessage).toBe('Group sg is not a consumer group.');
    expect(gc.describeGroup('sg').error).toBe('GROUP_ID_NOT_FOUND');
    expect(gc.shareGroupDescribe('nope', false, 0).error).toBe('GROUP_ID_NOT_FOUND');
    expect(gc.listGroups()).toContainEqual({
      groupId: 'sg',
      protocolType: 'share',
      groupState: 'Stable',
      groupType: 'share',
    });
  });

  it('leaving (epoch -1) and a session timeout remove the member, release its records, bump the epoch', async () => {
    const { gc, time, removed } = setup();
    await gc.shareGroupHeartbeat(hb({}));
    await gc.shareGroupHeartbeat(hb({ memberId: 'm2' }));
    const left = await gc.shareGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: -1 }));
    expect(left).toMatchObject({ error: 'NONE', memberEpoch: -1 });
    expect(removed).toEqual(['sg/m2']);
    expect(gc.shareGroupDescribe('sg', false, 0)).toMatchObject({ groupEpoch: 3 });
    time.advance(44_999);
    await new Promise((r) => setImmediate(r));
    expect(gc.shareGroupDescribe('sg', false, 0).members).toHaveLength(1);
    time.advance(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(removed).toEqual(['sg/m2', 'sg/m1']);
    expect(gc.shareGroupDescribe('sg', false, 0)).toMatchObject({ groupState: 'Empty', members: [] });
    // An empty share group can be deleted; a non-empty one cannot.
    expect(await gc.deleteGroups(['sg'])).toEqual([{ groupId: 'sg', error: 'NONE' }]);
    expect(gc.shareGroupDescribe('sg', false, 0).error).toBe('GROUP_ID_NOT_FOUND');
  });

  it('a reload rebuilds the share group from its records', async () => {
    const log = new MemoryCoordinatorLog(4);
    const first = setup(log);
    await first.gc.shareGroupHeartbeat(hb({ subscribedTopicNames: ['orders'] }));
    await first.gc.shareGroupHeartbeat(hb({ memberId: 'm2', subscribedTopicNames: ['orders', 'one'] }));
    const before = first.gc.shareGroupDescribe('sg', false, 0);
    first.gc.shutdown();
    const second = setup(log);
    expect(second.gc.shareGroupDescribe('sg', false, 0)).toEqual(before);
    expect(second.gc.shareGroups.get('sg')?.initialized.get(ORDERS)?.partitions).toEqual(new Set([0, 1, 2]));
  });
});
