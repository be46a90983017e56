/**
 * KIP-1071 streams groups on the coordinator runtime, in memory with MockTime: the first member's
 * topology, internal topics asked for until they exist, tasks assigned once ready, revocation
 * before assignment when a second member joins, session timeouts, leaving, epochs and errors,
 * offset commits by member epoch, describe/list, and a reload rebuilding the group by replay.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import { TEST_GROUP_CONFIG } from '../../test-support/group-config.js';
import { GroupCoordinator } from '../group-coordinator.js';
import { MemoryCoordinatorLog } from '../runtime/memory-coordinator-log.js';
import { DEFAULT_CONSUMER_GROUP_CONFIG, type TopicsView } from './consumer-groups.js';
import type { StreamsTopology } from './streams-group.js';
import { DEFAULT_STREAMS_GROUP_CONFIG, type StreamsGroupHeartbeatParams } from './streams-groups.js';
import { StreamsStatus } from './streams-topology.js';

const config = TEST_GROUP_CONFIG;

/** A word count: subtopology 0 reads `words` and writes the repartition topic, 1 counts it. */
const REPARTITION = 'app-counts-repartition';
const CHANGELOG = 'app-counts-changelog';
const topology: StreamsTopology = {
  epoch: 0,
  subtopologies: [
    {
      subtopologyId: '0',
      sourceTopics: ['words'],
      sourceTopicRegex: [],
      stateChangelogTopics: [],
      repartitionSinkTopics: [REPARTITION],
      repartitionSourceTopics: [],
      copartitionGroups: [],
    },
    {
      subtopologyId: '1',
      sourceTopics: [],
      sourceTopicRegex: [],
      stateChangelogTopics: [
        {
          name: CHANGELOG,
          partitions: 0,
          replicationFactor: 0,
          topicConfigs: [{ key: 'cleanup.policy', value: 'compact' }],
        },
      ],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [{ name: REPARTITION, partitions: 0, replicationFactor: 0, topicConfigs: [] }],
      copartitionGroups: [],
    },
  ],
};

function setup(
  log = new MemoryCoordinatorLog(4),
  time = new MockTime(),
  timing = { initialRebalanceDelayMs: 0, assignmentIntervalMs: 0 },
) {
  const topicList = new Map<string, { topicId: string; numPartitions: number }>([
    ['words', { topicId: Buffer.alloc(16, 1).toString('base64url'), numPartitions: 3 }],
  ]);
  const topics: TopicsView = {
    topic: (name) => topicList.get(name),
    topicName: (id) => [...topicList].find(([, t]) => t.topicId === id)?.[0],
    topicNames: () => [...topicList.keys()],
  };
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
    undefined,
    { ...DEFAULT_STREAMS_GROUP_CONFIG, sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000, ...timing },
  );
  gc.startup();
  const createInternalTopics = () => {
    topicList.set(REPARTITION, { topicId: Buffer.alloc(16, 2).toString('base64url'), numPartitions: 3 });
    topicList.set(CHANGELOG, { topicId: Buffer.alloc(16, 3).toString('base64url'), numPartitions: 3 });
  };
  return { time, log, gc, topicList, createInternalTopics };
}

function hb(over: Partial<StreamsGroupHeartbeatParams>): StreamsGroupHeartbeatParams {
  const joining = (over.memberEpoch ?? 0) === 0;
  return {
    groupId: 'app',
    memberId: 'm1',
    memberEpoch: 0,
    endpointInformationEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: joining ? 30_000 : -1,
    topology: joining ? topology : null,
    activeTasks: joining ? [] : null,
    standbyTasks: joining ? [] : null,
    warmupTasks: joining ? [] : null,
    processId: joining ? `process-${over.memberId ?? 'm1'}` : null,
    userEndpoint: joining ? { host: 'localhost', port: over.memberId === 'm2' ? 8002 : 8001 } : null,
    clientTags: joining ? [] : null,
    taskOffsets: null,
    taskEndOffsets: null,
    shutdownApplication: false,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    ...over,
  };
}

/** `{subtopology: [partitions]}` of task lists. */
function tasks(list: { subtopologyId: string; partitions: number[] }[] | null) {
  return list && Object.fromEntries(list.map((t) => [t.subtopologyId, t.partitions]));
}

const ALL = { '0': [0, 1, 2], '1': [0, 1, 2] };

async function readyGroup() {
  const s = setup();
  await s.gc.streamsGroupHeartbeat(hb({}));
  s.createInternalTopics();
  const r = await s.gc.streamsGroupHeartbeat(hb({ memberEpoch: 1 }));
  return { ...s, r };
}

describe('StreamsGroupHeartbeat', () => {
  it('the first member stores the topology; missing internal topics are asked for with derived partition counts, no tasks meanwhile', async () => {
    const { gc } = setup();
    const r = await gc.streamsGroupHeartbeat(hb({}));
    expect(r.error).toBe('NONE');
    expect(r.memberEpoch).toBe(1);
    expect(r.heartbeatIntervalMs).toBe(5_000);
    expect(tasks(r.activeTasks)).toEqual({});
    expect(r.status).toEqual([
      {
        statusCode: StreamsStatus.MISSING_INTERNAL_TOPICS,
        statusDetail: `Internal topics are missing: [${REPARTITION}, ${CHANGELOG}]`,
      },
    ]);
    expect(r.creatableTopics).toEqual([
      { name: REPARTITION, numPartitions: 3, replicationFactor: -1, configs: [] },
      {
        name: CHANGELOG,
        numPartitions: 3,
        replicationFactor: -1,
        configs: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ]);
    const d = gc.streamsGroupDescribe('app', false, 0);
    expect(d).toMatchObject({
      error: 'NONE',
      groupState: 'NotReady',
      groupEpoch: 1,
      topology: { epoch: 0, subtopologies: null },
    });
  });

  it('once the internal topics exist the group epoch moves and the member gets every task; the group is Stable', async () => {
    const { gc, r } = await readyGroup();
    expect(r.error).toBe('NONE');
    expect(r.memberEpoch).toBe(2);
    expect(r.status).toEqual([]);
    expect(r.creatableTopics).toEqual([]);
    expect(tasks(r.activeTasks)).toEqual(ALL);
    const d = gc.streamsGroupDescribe('app', false, 0);
    expect(d.groupState).toBe('Stable');
    expect(d.topology!.subtopologies!.map((s) => s.subtopologyId)).toEqual(['0', '1']);
    expect(d.topology!.subtopologies![1]!.stateChangelogTopics[0]).toMatchObject({
      name: CHANGELOG,
      partitions: 3,
    });
    expect(gc.listGroups()).toEqual([
      { groupId: 'app', protocolType: 'streams', groupState: 'Stable', groupType: 'streams' },
    ]);
  });

  it('a missing source topic is a status, and no task is assigned', async () => {
    const { gc, topicList } = setup();
    topicList.delete('words');
    const r = await gc.streamsGroupHeartbeat(hb({}));
    expect(r.status).toEqual([
      { statusCode: StreamsStatus.MISSING_SOURCE_TOPICS, statusDetail: 'Source topics words are missing.' },
    ]);
    expect(r.creatableTopics).toEqual([]);
    expect(tasks(r.activeTasks)).toEqual({});
  });

  it('a second member: the first revokes before the second is given the tasks (revocation before assignment)', async () => {
    const { gc } = await readyGroup();
    const j = await gc.streamsGroupHeartbeat(hb({ memberId: 'm2' }));
    expect(j.memberEpoch).toBe(3);
    // m2's target tasks are still m1's: it waits with none.
    expect(tasks(j.activeTasks)).toEqual({});
    // m1 hears that it keeps half of them, still at its epoch: it must revoke the rest first.
    const revoke = await gc.streamsGroupHeartbeat(hb({ memberEpoch: 2 }));
    expect(revoke.memberEpoch).toBe(2);
    const kept = tasks(revoke.activeTasks)!;
    const keptCount = Object.values(kept).flat().length;
    expect(keptCount).toBe(3);
    // m2 asks again: still nothing while m1 holds them.
    const waiting = await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 3 }));
    expect(waiting.activeTasks).toBeNull();
    // m1 reports it gave them up: it moves to epoch 3.
    const owned = revoke.activeTasks!;
    const released = await gc.streamsGroupHeartbeat(
      hb({ memberEpoch: 2, activeTasks: owned, standbyTasks: [], warmupTasks: [] }),
    );
    expect(released.memberEpoch).toBe(3);
    // Now m2 gets the other half; the two halves make every task, once each.
    const got = await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 3 }));
    const second = tasks(got.activeTasks)!;
    const union: Record<string, number[]> = {};
    for (const t of [kept, second])
      for (const [s, ps] of Object.entries(t)) union[s] = [...(union[s] ?? []), ...ps].sort();
    expect(union).toEqual(ALL);
    expect(Object.values(second).flat().length).toBe(3);
    expect(gc.streamsGroupDescribe('app', false, 0).groupState).toBe('Stable');
    // IQ: a member behind on endpoint information gets the partitions by endpoint.
    expect(got.partitionsByUserEndpoint?.map((e) => e.userEndpoint.port).sort()).toEqual([8001, 8002]);
  });

  it('a member whose session expires is fenced and its tasks go to the other (MockTime)', async () => {
    const { gc, time } = await readyGroup();
    await gc.streamsGroupHeartbeat(hb({ memberId: 'm2' }));
    const revoke = await gc.streamsGroupHeartbeat(hb({ memberEpoch: 2 }));
    await gc.streamsGroupHeartbeat(
      hb({ memberEpoch: 2, activeTasks: revoke.activeTasks, standbyTasks: [], warmupTasks: [] }),
    );
    await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 3 }));
    // m1 keeps heartbeating, m2 goes silent.
    for (let i = 0; i < 10; i++) {
      await time.advanceAsync(5_000);
      await gc.streamsGroupHeartbeat(
        hb({
          memberEpoch: gc.streamsGroupDescribe('app', false, 0).members.find((m) => m.memberId === 'm1')!
            .memberEpoch,
        }),
      );
    }
    const d = gc.streamsGroupDescribe('app', false, 0);
    expect(d.members.map((m) => m.memberId)).toEqual(['m1']);
    expect(tasks(d.members[0]!.assignment.activeTasks)).toEqual(ALL);
    const late = await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 3 }));
    expect(late.error).toBe('UNKNOWN_MEMBER_ID');
  });

  it('leaving with epoch -1 removes the member at once and bumps the group epoch', async () => {
    const { gc } = await readyGroup();
    const r = await gc.streamsGroupHeartbeat(hb({ memberEpoch: -1 }));
    expect(r).toMatchObject({ error: 'NONE', memberEpoch: -1 });
    const d = gc.streamsGroupDescribe('app', false, 0);
    expect(d.members).toEqual([]);
    expect(d.groupState).toBe('Empty');
    expect(d.groupEpoch).toBe(3);
    expect(await gc.deleteGroups(['app'])).toEqual([{ groupId: 'app', error: 'NONE' }]);
    expect(gc.streamsGroupDescribe('app', false, 0).error).toBe('GROUP_ID_NOT_FOUND');
  });

  it('errors: invalid requests, topology epochs, unknown and fenced members, another kind of group', async () => {
    const { gc } = await readyGroup();
    expect((await gc.streamsGroupHeartbeat(hb({ memberId: 'm3', topology: null }))).error).toBe(
      'INVALID_REQUEST',
    );
    expect((await gc.streamsGroupHeartbeat(hb({ memberId: '' }))).error).toBe('INVALID_REQUEST');
    expect((await gc.streamsGroupHeartbeat(hb({ memberId: 'm3', instanceId: 'i' }))).errorMessage).toBe(
      'Static members are not supported yet.',
    );
    const newer = await gc.streamsGroupHeartbeat(hb({ memberId: 'm3', topology: { ...topology, epoch: 1 } }));
    expect(newer).toMatchObject({
      error: 'STREAMS_INVALID_TOPOLOGY_EPOCH',
      errorMessage: 'Topology updates are not supported yet.',
    });
    const bad = await gc.streamsGroupHeartbeat(
      hb({
        memberId: 'm3',
        topology: { epoch: 0, subtopologies: [topology.subtopologies[0]!, topology.subtopologies[0]!] },
      }),
    );
    expect(bad.error).toBe('STREAMS_INVALID_TOPOLOGY');
    expect((await gc.streamsGroupHeartbeat(hb({ memberId: 'nobody', memberEpoch: 2 }))).error).toBe(
      'UNKNOWN_MEMBER_ID',
    );
    expect((await gc.streamsGroupHeartbeat(hb({ memberEpoch: 7 }))).error).toBe('FENCED_MEMBER_EPOCH');
    expect((await gc.streamsGroupHeartbeat(hb({ groupId: 'none', memberEpoch: 3 }))).error).toBe(
      'GROUP_ID_NOT_FOUND',
    );
    await gc.consumerGroupHeartbeat({
      apiVersion: 1,
      groupId: 'consumers',
      memberId: 'c1',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ['words'],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
      clientId: 'c',
      clientHost: '/127.0.0.1',
    });
    const other = await gc.streamsGroupHeartbeat(hb({ groupId: 'consumers' }));
    expect(other).toMatchObject({
      error: 'GROUP_ID_NOT_FOUND',
      errorMessage: 'Group consumers is not a streams group.',
    });
    expect(gc.streamsGroupDescribe('consumers', false, 0).errorMessage).toBe(
      'Group consumers is not a streams group.',
    );
    expect(gc.describeGroup('app').error).toBe('GROUP_ID_NOT_FOUND');
    // The streams group's id is not another kind of group's.
    const asShare = await gc.shareGroupHeartbeat({
      groupId: 'app',
      memberId: 's1',
      memberEpoch: 0,
      rackId: null,
      subscribedTopicNames: ['words'],
      clientId: 'c',
      clientHost: '/127.0.0.1',
    });
    expect(asShare).toMatchObject({
      error: 'GROUP_ID_NOT_FOUND',
      errorMessage: 'Group app is not a share group.',
    });
    const asConsumer = await gc.consumerGroupHeartbeat({
      apiVersion: 1,
      groupId: 'app',
      memberId: 'c2',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ['words'],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
      clientId: 'c',
      clientHost: '/127.0.0.1',
    });
    expect(asConsumer).toMatchObject({
      error: 'GROUP_ID_NOT_FOUND',
      errorMessage: 'Group app is not a consumer group.',
    });
    expect(gc.consumerGroupDescribe('app', false, 0).errorMessage).toBe('Group app is not a consumer group.');
  });

  it('offset commits carry the member epoch (current or previous), else STALE_MEMBER_EPOCH / UNKNOWN_MEMBER_ID', async () => {
    const { gc } = await readyGroup();
    const entry = {
      topic: 'words',
      partition: 0,
      offset: 7,
      leaderEpoch: -1,
      metadata: null,
      expireTimestamp: null,
    };
    expect(await gc.commitOffsets('app', 'm1', null, 2, [entry], 9)).toEqual(['NONE']);
    expect(await gc.commitOffsets('app', 'm1', null, 1, [entry], 9)).toEqual(['NONE']);
    expect(await gc.commitOffsets('app', 'm1', null, 0, [entry], 9)).toEqual(['STALE_MEMBER_EPOCH']);
    expect(await gc.commitOffsets('app', 'nobody', null, 2, [entry], 9)).toEqual(['UNKNOWN_MEMBER_ID']);
    expect(
      gc.fetchOffsets('app', [{ name: 'words', partitionIndexes: [0] }]).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(7);
  });

  it('OffsetDelete keeps the offsets of the topology source topics while the group has members', async () => {
    const { gc } = await readyGroup();
    const entry = {
      topic: 'words',
      partition: 0,
      offset: 7,
      leaderEpoch: -1,
      metadata: null,
      expireTimestamp: null,
    };
    const other = { ...entry, topic: 'elsewhere' };
    expect(await gc.commitOffsets('app', 'm1', null, 2, [entry, other], 9)).toEqual(['NONE', 'NONE']);
    expect(
      await gc.deleteOffsets('app', [
        { topic: 'words', partition: 0 },
        { topic: 'elsewhere', partition: 0 },
      ]),
    ).toEqual({ error: 'NONE', partitionErrors: ['GROUP_SUBSCRIBED_TO_TOPIC', 'NONE'] });
  });

  it('a member that does not revoke within its rebalance timeout is fenced (MockTime)', async () => {
    const { gc, time } = await readyGroup();
    await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', rebalanceTimeoutMs: 60_000 }));
    // m1 (rebalance timeout 30 s) is told to revoke; it keeps heartbeating without giving the tasks up.
    const revoke = await gc.streamsGroupHeartbeat(hb({ memberEpoch: 2 }));
    expect(
      gc.streamsGroupDescribe('app', false, 0).members.find((m) => m.memberId === 'm1')!.memberEpoch,
    ).toBe(2);
    expect(revoke.activeTasks).not.toBeNull();
    for (let i = 0; i < 7; i++) {
      await time.advanceAsync(5_000);
      await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 3 }));
      if (i < 5)
        await gc.streamsGroupHeartbeat(
          hb({
            memberEpoch: 2,
            activeTasks: [
              { subtopologyId: '0', partitions: [0, 1, 2] },
              { subtopologyId: '1', partitions: [0, 1, 2] },
            ],
          }),
        );
    }
    const d = gc.streamsGroupDescribe('app', false, 0);
    expect(d.members.map((m) => m.memberId)).toEqual(['m2']);
    const got = await gc.streamsGroupHeartbeat(
      hb({ memberId: 'm2', memberEpoch: d.members[0]!.memberEpoch }),
    );
    expect(got.error).toBe('NONE');
    expect(tasks(d.members[0]!.assignment.activeTasks)).toEqual(ALL);
  });

  it('a member rejoining with epoch 0 starts over with no tasks and is given its target again', async () => {
    const { gc } = await readyGroup();
    const r = await gc.streamsGroupHeartbeat(hb({}));
    expect(r.error).toBe('NONE');
    expect(tasks(r.activeTasks)).toEqual(ALL);
  });

  it('group.streams.initial.rebalance.delay.ms: a new group assigns nothing until the delay is over, then spreads the tasks over the members that came', async () => {
    const time = new MockTime();
    const { gc, createInternalTopics } = setup(undefined, time, {
      initialRebalanceDelayMs: 3_000,
      assignmentIntervalMs: 0,
    });
    createInternalTopics();
    const first = await gc.streamsGroupHeartbeat(hb({}));
    // During the delay the member has no tasks (at the group epoch).
    expect(first).toMatchObject({ error: 'NONE', memberEpoch: 1 });
    expect(tasks(first.activeTasks)).toEqual({});
    await time.advanceAsync(1_000);
    expect(await gc.streamsGroupHeartbeat(hb({ memberId: 'm2' }))).toMatchObject({
      memberEpoch: 2,
      activeTasks: [],
    });
    expect(gc.streamsGroupDescribe('app', false, 0)).toMatchObject({ groupEpoch: 2, assignmentEpoch: 0 });
    await time.advanceAsync(2_000);
    // The end of the delay bumped the group epoch: the next heartbeats compute the first target.
    expect(gc.streamsGroupDescribe('app', false, 0).groupEpoch).toBe(3);
    const a = await gc.streamsGroupHeartbeat(hb({ memberEpoch: 1 }));
    const b = await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 2 }));
    // Neither had a task: both get their half at once, nothing to revoke.
    expect(a.memberEpoch).toBe(3);
    expect(b.memberEpoch).toBe(3);
    expect(Object.values(tasks(a.activeTasks)!).flat().length).toBe(3);
    expect(Object.values(tasks(b.activeTasks)!).flat().length).toBe(3);
  });

  it('group.streams.assignment.interval.ms: a new target at most once per interval, the next heartbeat after it computes', async () => {
    const time = new MockTime();
    time.advance(10_000);
    const { gc, createInternalTopics } = setup(undefined, time, {
      initialRebalanceDelayMs: 0,
      assignmentIntervalMs: 1_000,
    });
    createInternalTopics();
    expect(tasks((await gc.streamsGroupHeartbeat(hb({}))).activeTasks)).toEqual(ALL);
    // m2 joins within the interval: the group epoch moves, the target does not yet.
    const early = await gc.streamsGroupHeartbeat(hb({ memberId: 'm2' }));
    expect(early.memberEpoch).toBe(1);
    expect(gc.streamsGroupDescribe('app', false, 0)).toMatchObject({
      groupEpoch: 2,
      assignmentEpoch: 1,
      groupState: 'Assigning',
    });
    await time.advanceAsync(1_000);
    await gc.streamsGroupHeartbeat(hb({ memberId: 'm2', memberEpoch: 1 }));
    expect(gc.streamsGroupDescribe('app', false, 0)).toMatchObject({ groupEpoch: 2, assignmentEpoch: 2 });
  });

  it('a reload rebuilds the group, its topology, members, epochs and tasks from the records', async () => {
    const log = new MemoryCoordinatorLog(4);
    const first = setup(log);
    await first.gc.streamsGroupHeartbeat(hb({}));
    first.createInternalTopics();
    await first.gc.streamsGroupHeartbeat(hb({ memberEpoch: 1 }));
    await first.gc.streamsGroupHeartbeat(hb({ memberId: 'm2' }));
    const before = first.gc.streamsGroupDescribe('app', false, 0);
    first.gc.shutdown();
    const second = setup(log);
    second.createInternalTopics();
    expect(second.gc.streamsGroupDescribe('app', false, 0)).toEqual(before);
    // The reloaded member carries on at its epoch.
    const r = await second.gc.streamsGroupHeartbeat(hb({ memberEpoch: 2 }));
    expect(r.error).toBe('NONE');
  });
});
