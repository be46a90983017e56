/**
 * Unit tests of the classic-group handlers over fake services (no TCP, no disk): what each
 * version of the wire request becomes as a GroupCoordinator call, and what the coordinator's
 * answer becomes on the wire at that version. The coordinator itself is tested in
 * src/coordinator; the TCP round trip in group-apis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import type {
  GroupCoordinator,
  GroupSummary,
  JoinGroupParams,
  OffsetCommitEntry,
  SyncGroupParams,
} from '../coordinator/group-coordinator.js';
import type { JoinGroupResult } from '../coordinator/group-metadata.js';
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import type {
  JoinGroupRequestData,
  OffsetCommitRequestData,
  OffsetFetchRequestData,
} from '../protocol/generated/messages.js';
import {
  call,
  fakeContext,
  fakeMetadata,
  fakeReplicas,
  fakeTopic,
  recordingLog,
} from '../test-support/fake-services.js';
import { deleteGroupsHandler } from './delete-groups.js';
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  describeGroupsHandler,
  GROUP_AUTHORIZED_OPERATIONS,
} from './describe-groups.js';
import { heartbeatHandler } from './heartbeat.js';
import { clientHost, joinGroupHandler } from './join-group.js';
import { leaveGroupHandler } from './leave-group.js';
import { listGroupsHandler } from './list-groups.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetDeleteHandler } from './offset-delete.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { syncGroupHandler } from './sync-group.js';

const joined = (o: Partial<JoinGroupResult> = {}): JoinGroupResult => ({
  error: 'NONE',
  generationId: 1,
  protocolType: 'consumer',
  protocolName: 'range',
  leader: 'm-1',
  skipAssignment: false,
  memberId: 'm-1',
  members: [{ memberId: 'm-1', groupInstanceId: null, metadata: Buffer.from([1, 2]) }],
  ...o,
});

const joinRequest = (o: Partial<JoinGroupRequestData> = {}): JoinGroupRequestData => ({
  groupId: 'g',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 60_000,
  memberId: '',
  groupInstanceId: 'instance-1',
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.from([9]) }],
  reason: null,
  ...o,
});

function joinWith(apiVersion: number, result: JoinGroupResult = joined()) {
  const calls: JoinGroupParams[] = [];
  const ctx = fakeContext({
    apiVersion,
    clientId: 'client-a',
    remote: '10.0.0.7:40123',
    groups: {
      joinGroup: async (p) => {
        calls.push(p);
        return result;
      },
    },
    log: recordingLog(),
  });
  return { ctx, calls };
}

describe('JoinGroup', () => {
  it('v0 uses the session timeout as the rebalance timeout and never asks for a known member id', async () => {
    const { ctx, calls } = joinWith(0);
    await call(joinGroupHandler, ctx, joinRequest());
    expect(calls[0]).toMatchObject({
      groupId: 'g',
      memberId: '',
      rebalanceTimeoutMs: 10_000,
      sessionTimeoutMs: 10_000,
      requireKnownMemberId: false,
      groupInstanceId: null,
      supportSkippingAssignment: false,
      clientId: 'client-a',
      clientHost: '/10.0.0.7',
      protocolType: 'consumer',
    });
    expect(calls[0]!.protocols).toEqual([{ name: 'range', metadata: Buffer.from([9]) }]);
  });

  it('v1 sends its own rebalance timeout; v4 requires a known member id (KIP-394)', async () => {
    const v1 = joinWith(1);
    await call(joinGroupHandler, v1.ctx, joinRequest());
    expect(v1.calls[0]).toMatchObject({ rebalanceTimeoutMs: 60_000, requireKnownMemberId: false });
    const v3 = joinWith(3);
    await call(joinGroupHandler, v3.ctx, joinRequest());
    expect(v3.calls[0]!.requireKnownMemberId).toBe(false);
    const v4 = joinWith(4);
    await call(joinGroupHandler, v4.ctx, joinRequest());
    expect(v4.calls[0]).toMatchObject({ requireKnownMemberId: true, groupInstanceId: null });
  });

  it('passes the group instance id from v5 and skip-assignment support from v9', async () => {
    const v5 = joinWith(5);
    await call(joinGroupHandler, v5.ctx, joinRequest());
    expect(v5.calls[0]).toMatchObject({ groupInstanceId: 'instance-1', supportSkippingAssignment: false });
    const v9 = joinWith(9, joined({ skipAssignment: true }));
    const res = await call(joinGroupHandler, v9.ctx, joinRequest());
    expect(v9.calls[0]!.supportSkippingAssignment).toBe(true);
    expect(res.skipAssignment).toBe(true);
  });

  it('answers MEMBER_ID_REQUIRED with the id to rejoin with and no members', async () => {
    const { ctx } = joinWith(
      4,
      joined({
        error: 'MEMBER_ID_REQUIRED',
        memberId: 'client-a-uuid',
        generationId: -1,
        leader: '',
        protocolName: null,
      }),
    );
    const res = await call(joinGroupHandler, ctx, joinRequest());
    expect(res).toMatchObject({
      errorCode: ErrorCode.MEMBER_ID_REQUIRED,
      memberId: 'client-a-uuid',
      generationId: -1,
      members: [],
      protocolName: '',
    });
  });

  it('sends the members to the leader, protocolType only from v7, a null protocol name only from v7', async () => {
    const v6 = await call(joinGroupHandler, joinWith(6).ctx, joinRequest());
    expect(v6).toMatchObject({ throttleTimeMs: 0, protocolName: 'range', leader: 'm-1', memberId: 'm-1' });
    expect(v6.protocolType).toBeNull(); // absent before v7: the codec's default
    expect(v6.members.map((m) => m.memberId)).toEqual(['m-1']);
    const v7 = await call(joinGroupHandler, joinWith(7).ctx, joinRequest());
    expect(v7.protocolType).toBe('consumer');
    const v7Null = await call(
      joinGroupHandler,
      joinWith(7, joined({ error: 'UNKNOWN_MEMBER_ID', protocolName: null })).ctx,
      joinRequest(),
    );
    expect(v7Null.protocolName).toBeNull();
    const v6Null = await call(
      joinGroupHandler,
      joinWith(6, joined({ error: 'UNKNOWN_MEMBER_ID', protocolName: null })).ctx,
      joinRequest(),
    );
    expect(v6Null).toMatchObject({ protocolName: '', members: [] });
  });

  it('logs the v8 reason', async () => {
    const log = recordingLog();
    const ctx = fakeContext({ apiVersion: 8, groups: { joinGroup: async () => joined() }, log });
    await call(joinGroupHandler, ctx, joinRequest({ reason: 'rebalance needed', memberId: 'm-1' }));
    expect(log.lines).toEqual([{ level: 'debug', msg: 'JoinGroup g from m-1: rebalance needed' }]);
  });

  it('derives Kafka clientHost from the peer address', () => {
    expect(clientHost('10.1.2.3:5555')).toBe('/10.1.2.3');
    expect(clientHost('::1:5555')).toBe('/::1');
  });
});

describe('SyncGroup', () => {
  const syncRequest = {
    groupId: 'g',
    generationId: 3,
    memberId: 'm-1',
    groupInstanceId: 'i-1',
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: 'm-1', assignment: Buffer.from([7]) }],
  };
  function syncWith(apiVersion: number) {
    const calls: SyncGroupParams[] = [];
    const ctx = fakeContext({
      apiVersion,
      groups: {
        syncGroup: async (p) => {
          calls.push(p);
          return {
            error: 'NONE',
            protocolType: 'consumer',
            protocolName: 'range',
            assignment: Buffer.from([7]),
          };
        },
      },
    });
    return { ctx, calls };
  }

  it('passes instance id from v3 and protocol type/name from v5', async () => {
    const v2 = syncWith(2);
    const r2 = await call(syncGroupHandler, v2.ctx, syncRequest);
    expect(v2.calls[0]).toMatchObject({
      groupId: 'g',
      generationId: 3,
      memberId: 'm-1',
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
    });
    expect(v2.calls[0]!.assignments).toEqual([{ memberId: 'm-1', assignment: Buffer.from([7]) }]);
    expect(r2).toMatchObject({ errorCode: ErrorCode.NONE, assignment: Buffer.from([7]) });
    const v3 = syncWith(3);
    await call(syncGroupHandler, v3.ctx, syncRequest);
    expect(v3.calls[0]).toMatchObject({ groupInstanceId: 'i-1', protocolType: null });
    const v5 = syncWith(5);
    const r5 = await call(syncGroupHandler, v5.ctx, syncRequest);
    expect(v5.calls[0]).toMatchObject({ protocolType: 'consumer', protocolName: 'range' });
    expect(r5).toMatchObject({ protocolType: 'consumer', protocolName: 'range' });
  });

  it('v5 without protocol type or name is INCONSISTENT_GROUP_PROTOCOL, the coordinator untouched', async () => {
    const ctx = fakeContext({ apiVersion: 5, groups: {} });
    for (const missing of [{ protocolType: null }, { protocolName: null }]) {
      const res = await call(syncGroupHandler, ctx, { ...syncRequest, ...missing });
      expect(res).toMatchObject({
        errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        assignment: Buffer.alloc(0),
      });
    }
  });
});

describe('Heartbeat', () => {
  it('passes group, member, generation and (v3+) instance id; answers the coordinator code', async () => {
    for (const [v, instance] of [
      [0, null],
      [2, null],
      [3, 'i-1'],
      [4, 'i-1'],
    ] as const) {
      const calls: unknown[][] = [];
      const ctx = fakeContext({
        apiVersion: v,
        groups: {
          heartbeat: (...args) => {
            calls.push(args);
            return 'REBALANCE_IN_PROGRESS';
          },
        },
      });
      const res = await call(heartbeatHandler, ctx, {
        groupId: 'g',
        generationId: 4,
        memberId: 'm-1',
        groupInstanceId: 'i-1',
      });
      expect(calls).toEqual([['g', 'm-1', instance, 4]]);
      expect(res.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
  });
});

describe('LeaveGroup', () => {
  function leaveWith(apiVersion: number, result: ReturnType<GroupCoordinator['leaveGroup']>) {
    const calls: unknown[][] = [];
    const ctx = fakeContext({
      apiVersion,
      groups: {
        leaveGroup: (...args) => {
          calls.push(args);
          return result;
        },
      },
    });
    return { ctx, calls };
  }

  it('v0–2: the one member id; its error goes to the top level unless the group failed', async () => {
    const { ctx, calls } = leaveWith(2, {
      error: 'NONE',
      members: [{ memberId: 'm-1', groupInstanceId: null, error: 'UNKNOWN_MEMBER_ID' }],
    });
    const res = await call(leaveGroupHandler, ctx, { groupId: 'g', memberId: 'm-1', members: [] });
    expect(calls).toEqual([['g', [{ memberId: 'm-1', groupInstanceId: null }]]]);
    expect(res.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(res.members).toEqual([]);
    const failed = leaveWith(0, { error: 'COORDINATOR_NOT_AVAILABLE', members: [] });
    const r0 = await call(leaveGroupHandler, failed.ctx, { groupId: 'g', memberId: 'm-1', members: [] });
    expect(r0.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('v3+: batched members with instance ids and per-member errors', async () => {
    const members: { memberId: string; groupInstanceId: string | null; error: ErrorName }[] = [
      { memberId: '', groupInstanceId: 'i-1', error: 'NONE' },
      { memberId: 'm-2', groupInstanceId: null, error: 'UNKNOWN_MEMBER_ID' },
    ];
    const { ctx, calls } = leaveWith(5, { error: 'NONE', members });
    const res = await call(leaveGroupHandler, ctx, {
      groupId: 'g',
      memberId: 'ignored',
      members: [
        { memberId: '', groupInstanceId: 'i-1', reason: 'admin' },
        { memberId: 'm-2', groupInstanceId: null, reason: null },
      ],
    });
    expect(calls).toEqual([
      [
        'g',
        [
          { memberId: '', groupInstanceId: 'i-1' },
          { memberId: 'm-2', groupInstanceId: null },
        ],
      ],
    ]);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.members).toEqual([
      { memberId: '', groupInstanceId: 'i-1', errorCode: ErrorCode.NONE },
      { memberId: 'm-2', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
    ]);
  });
});

describe('DescribeGroups', () => {
  const summary: GroupSummary = {
    error: 'NONE',
    groupId: 'g',
    groupState: 'Stable',
    protocolType: 'consumer',
    protocolData: 'range',
    members: [
      {
        memberId: 'm-1',
        groupInstanceId: 'i-1',
        clientId: 'c',
        clientHost: '/1.2.3.4',
        memberMetadata: Buffer.from([1]),
        memberAssignment: Buffer.from([2]),
      },
    ],
  };
  it('describes each group; authorized operations only when asked (v3+)', async () => {
    const asked: string[] = [];
    const groups = {
      describeGroup: (id: string) => {
        asked.push(id);
        return { ...summary, groupId: id };
      },
    };
    const v5 = await call(describeGroupsHandler, fakeContext({ apiVersion: 5, groups }), {
      groups: ['a', 'b'],
      includeAuthorizedOperations: true,
    });
    expect(asked).toEqual(['a', 'b']);
    expect(v5.groups.map((g) => [g.groupId, g.authorizedOperations])).toEqual([
      ['a', GROUP_AUTHORIZED_OPERATIONS],
      ['b', GROUP_AUTHORIZED_OPERATIONS],
    ]);
    expect(v5.groups[0]!.members[0]).toMatchObject({ memberId: 'm-1', groupInstanceId: 'i-1' });
    const notAsked = await call(describeGroupsHandler, fakeContext({ apiVersion: 3, groups }), {
      groups: ['a'],
      includeAuthorizedOperations: false,
    });
    expect(notAsked.groups[0]!.authorizedOperations).toBe(AUTHORIZED_OPERATIONS_OMITTED);
    // v3 has no groupInstanceId on the wire.
    expect(notAsked.groups[0]!.members[0]!.groupInstanceId).toBeNull();
  });
});

describe('ListGroups', () => {
  const listed = [
    { groupId: 'a', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
    { groupId: 'b', protocolType: 'consumer', groupState: 'Empty', groupType: 'classic' },
  ];
  const groups = { listGroups: () => listed };

  it('lists every group without filters; state only from v4', async () => {
    const v3 = await call(listGroupsHandler, fakeContext({ apiVersion: 3, groups }), {
      statesFilter: ['Empty'],
      typesFilter: [],
    });
    // v3 has no statesFilter on the wire: the filter is absent, both groups are listed.
    expect(v3.groups.map((g) => g.groupId)).toEqual(['a', 'b']);
    expect(v3.errorCode).toBe(ErrorCode.NONE);
  });

  it('filters by state (v4+) and type (v5+), case-insensitively', async () => {
    const v4 = await call(listGroupsHandler, fakeContext({ apiVersion: 4, groups }), {
      statesFilter: ['empty'],
      typesFilter: [],
    });
    expect(v4.groups).toEqual([
      { groupId: 'b', protocolType: 'consumer', groupState: 'Empty', groupType: '' },
    ]);
    const v5 = await call(listGroupsHandler, fakeContext({ apiVersion: 5, groups }), {
      statesFilter: [],
      typesFilter: ['Consumer'],
    });
    expect(v5.groups).toEqual([]);
    const classic = await call(listGroupsHandler, fakeContext({ apiVersion: 5, groups }), {
      statesFilter: [],
      typesFilter: ['CLASSIC'],
    });
    expect(classic.groups.map((g) => g.groupType)).toEqual(['classic', 'classic']);
  });
});

describe('DeleteGroups', () => {
  it('passes the names and answers the per-group results', async () => {
    const results: { groupId: string; error: ErrorName }[] = [
      { groupId: 'a', error: 'NONE' },
      { groupId: 'b', error: 'NON_EMPTY_GROUP' },
    ];
    const asked: (readonly string[])[] = [];
    const ctx = fakeContext({
      apiVersion: 2,
      groups: {
        deleteGroups: (ids) => {
          asked.push(ids);
          return Promise.resolve(results);
        },
      },
    });
    const res = await call(deleteGroupsHandler, ctx, { groupsNames: ['a', 'b'] });
    expect(asked).toEqual([['a', 'b']]);
    expect(res).toEqual({
      throttleTimeMs: 0,
      results: [
        { groupId: 'a', errorCode: ErrorCode.NONE },
        { groupId: 'b', errorCode: ErrorCode.NON_EMPTY_GROUP },
      ],
    });
  });
});

describe('OffsetCommit', () => {
  const topics = [fakeTopic('t', { partitions: 2 })];
  const request = (o: Partial<OffsetCommitRequestData> = {}): OffsetCommitRequestData => ({
    groupId: 'g',
    generationIdOrMemberEpoch: 5,
    memberId: 'm-1',
    groupInstanceId: 'i-1',
    retentionTimeMs: -1,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 3, committedMetadata: 'md' },
          { partitionIndex: 7, committedOffset: 11, committedLeaderEpoch: 3, committedMetadata: null },
        ],
      },
      {
        name: 'missing',
        partitions: [
          { partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' },
        ],
      },
    ],
    ...o,
  });
  function commitWith(apiVersion: number, errors: (n: number) => ErrorName[], time = new MockTime()) {
    const calls: {
      groupId: string;
      memberId: string;
      instance: string | null;
      generation: number;
      entries: readonly OffsetCommitEntry[];
      version: number;
    }[] = [];
    const ctx = fakeContext({
      apiVersion,
      time,
      replicas: fakeReplicas(topics),
      metadata: fakeMetadata(topics),
      groups: {
        commitOffsets: (groupId, memberId, instance, generation, entries, version) => {
          calls.push({ groupId, memberId, instance, generation, entries, version });
          return Promise.resolve(errors(entries.length));
        },
      },
    });
    return { ctx, calls };
  }

  it('commits known partitions in one call; unknown ones are UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { ctx, calls } = commitWith(8, (n) => new Array(n).fill('NONE'));
    const res = await call(offsetCommitHandler, ctx, request());
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      groupId: 'g',
      memberId: 'm-1',
      instance: 'i-1',
      generation: 5,
      version: 8,
    });
    expect(calls[0]!.entries).toEqual([
      { topic: 't', partition: 0, offset: 10, leaderEpoch: 3, metadata: 'md', expireTimestamp: null },
    ]);
    expect(res.topics).toEqual([
      {
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA', // v10's field, its default below v10
        partitions: [
          { partitionIndex: 0, errorCode: ErrorCode.NONE },
          { partitionIndex: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
      {
        name: 'missing',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
      },
    ]);
  });

  it('maps the coordinator codes back to their partitions', async () => {
    const { ctx } = commitWith(8, () => ['ILLEGAL_GENERATION']);
    const res = await call(offsetCommitHandler, ctx, request());
    expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('does not call the coordinator when no partition is known', async () => {
    const ctx = fakeContext({
      apiVersion: 8,
      replicas: fakeReplicas(topics),
      metadata: fakeMetadata(topics),
      groups: {},
    });
    const res = await call(offsetCommitHandler, ctx, request({ topics: [request().topics[1]!] }));
    expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('v2–4: retentionTimeMs sets the expire timestamp on the broker clock; -1 means none', async () => {
    const time = new MockTime(1_000_000);
    const { ctx, calls } = commitWith(4, (n) => new Array(n).fill('NONE'), time);
    await call(offsetCommitHandler, ctx, request({ retentionTimeMs: 60_000 }));
    expect(calls[0]!.entries[0]).toMatchObject({ expireTimestamp: 1_060_000, leaderEpoch: -1 });
    expect(calls[0]!.instance).toBeNull();
    const v5 = commitWith(5, (n) => new Array(n).fill('NONE'), time);
    await call(offsetCommitHandler, v5.ctx, request({ retentionTimeMs: 60_000 }));
    expect(v5.calls[0]!.entries[0]!.expireTimestamp).toBeNull();
  });

  it('v6 carries the committed leader epoch; v7 the group instance id', async () => {
    const v6 = commitWith(6, (n) => new Array(n).fill('NONE'));
    await call(offsetCommitHandler, v6.ctx, request());
    expect(v6.calls[0]!.entries[0]!.leaderEpoch).toBe(3);
    expect(v6.calls[0]!.instance).toBeNull();
    const v7 = commitWith(7, (n) => new Array(n).fill('NONE'));
    await call(offsetCommitHandler, v7.ctx, request());
    expect(v7.calls[0]!.instance).toBe('i-1');
  });

  it('v10 names topics by id: a known id commits under its name, an unknown one is UNKNOWN_TOPIC_ID', async () => {
    const { ctx, calls } = commitWith(10, (n) => new Array(n).fill('NONE'));
    const withIds = fakeContext({ ...ctx, metadata: fakeMetadata(topics) });
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const res = await call(
      offsetCommitHandler,
      withIds,
      request({
        topics: [
          { ...request().topics[0]!, name: '', topicId: topics[0]!.topicId },
          { ...request().topics[1]!, name: '', topicId: unknownId },
        ],
      }),
    );
    expect(calls[0]!.entries.map((e) => [e.topic, e.partition])).toEqual([['t', 0]]);
    expect(res.topics.map((t) => [t.topicId, t.partitions.map((p) => p.errorCode)])).toEqual([
      [topics[0]!.topicId, [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
      [unknownId, [ErrorCode.UNKNOWN_TOPIC_ID]],
    ]);
  });
});

describe('OffsetFetch', () => {
  type Topics = { name: string; partitionIndexes: readonly number[] }[] | null;
  const committed = (offset: number) => ({
    partitionIndex: 0,
    committedOffset: offset,
    committedLeaderEpoch: 2,
    metadata: 'md',
    error: 'NONE' as ErrorName,
  });
  function fetchWith(
    apiVersion: number,
    result: { error: ErrorName; topics: { name: string; partitions: ReturnType<typeof committed>[] }[] },
    pendingFor: string[] = [],
  ) {
    const calls: [string, Topics][] = [];
    const ctx = fakeContext({
      apiVersion,
      groups: {
        fetchOffsets: (groupId, topics) => {
          calls.push([groupId, topics === null ? null : topics.map((t) => ({ ...t }))]);
          return result;
        },
        hasPendingTxnOffsets: (groupId: string, topic: string, partition: number) =>
          pendingFor.includes(`${groupId}/${topic}/${partition}`),
      },
    });
    return { ctx, calls };
  }
  const ok = { error: 'NONE' as const, topics: [{ name: 't', partitions: [committed(5)] }] };
  const req = (o: Partial<OffsetFetchRequestData>): OffsetFetchRequestData => ({
    groupId: 'g',
    topics: [{ name: 't', partitionIndexes: [0] }],
    groups: [],
    requireStable: false,
    ...o,
  });

  it('v1: topics as given; a group error is put on every requested partition', async () => {
    const { ctx, calls } = fetchWith(1, { error: 'COORDINATOR_LOAD_IN_PROGRESS', topics: [] });
    const res = await call(offsetFetchHandler, ctx, req({}));
    expect(calls).toEqual([['g', [{ name: 't', partitionIndexes: [0] }]]]);
    expect(res.errorCode).toBe(0); // v1 has no top-level error
    expect(res.topics).toEqual([
      {
        name: 't',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
          },
        ],
      },
    ]);
  });

  it('v2+: topics=null asks for every committed offset, group errors at the top level', async () => {
    const { ctx, calls } = fetchWith(2, { error: 'NOT_COORDINATOR', topics: [] });
    const res = await call(offsetFetchHandler, ctx, req({ topics: null }));
    expect(calls).toEqual([['g', null]]);
    expect(res).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR, topics: [] });
  });

  it('answers the committed offsets; the leader epoch only from v5', async () => {
    const v4 = await call(offsetFetchHandler, fetchWith(4, ok).ctx, req({}));
    expect(v4.topics![0]!.partitions[0]).toMatchObject({ committedOffset: 5, committedLeaderEpoch: -1 });
    const v5 = await call(offsetFetchHandler, fetchWith(5, ok).ctx, req({}));
    expect(v5.topics![0]!.partitions[0]).toMatchObject({ committedOffset: 5, committedLeaderEpoch: 2 });
  });

  it('v7 requireStable: a pending transactional commit is UNSTABLE_OFFSET_COMMIT; without it, untouched', async () => {
    const stable = await call(
      offsetFetchHandler,
      fetchWith(7, ok, ['g/t/0']).ctx,
      req({ requireStable: true }),
    );
    expect(stable.topics![0]!.partitions[0]).toEqual({
      partitionIndex: 0,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
    });
    const notAsked = await call(
      offsetFetchHandler,
      fetchWith(7, ok, ['g/t/0']).ctx,
      req({ requireStable: false }),
    );
    expect(notAsked.topics![0]!.partitions[0]!.committedOffset).toBe(5);
    // Before v7 the flag is not on the wire.
    const v6 = await call(offsetFetchHandler, fetchWith(6, ok, ['g/t/0']).ctx, req({ requireStable: true }));
    expect(v6.topics![0]!.partitions[0]!.committedOffset).toBe(5);
  });

  it('v8+: one result per group', async () => {
    const { ctx, calls } = fetchWith(8, ok);
    const res = await call(offsetFetchHandler, ctx, {
      groupId: '',
      topics: [],
      requireStable: false,
      groups: [
        { groupId: 'g1', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] },
        { groupId: 'g2', memberId: null, memberEpoch: -1, topics: null },
      ],
    });
    expect(calls).toEqual([
      ['g1', [{ name: 't', partitionIndexes: [0] }]],
      ['g2', null],
    ]);
    expect(
      res.groups!.map((g) => [g.groupId, g.errorCode, g.topics[0]!.partitions[0]!.committedOffset]),
    ).toEqual([
      ['g1', ErrorCode.NONE, 5],
      ['g2', ErrorCode.NONE, 5],
    ]);
  });

  it('v10: topics by id; unknown ids are UNKNOWN_TOPIC_ID, an all-topics answer carries ids', async () => {
    const t = fakeTopic('t');
    const { ctx, calls } = fetchWith(10, {
      error: 'NONE',
      topics: [
        { name: 't', partitions: [committed(5)] },
        { name: 'deleted', partitions: [committed(7)] },
      ],
    });
    const withIds = fakeContext({ ...ctx, metadata: fakeMetadata([t]) });
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const res = await call(offsetFetchHandler, withIds, {
      groupId: '',
      topics: [],
      requireStable: false,
      groups: [
        {
          groupId: 'g1',
          memberId: null,
          memberEpoch: -1,
          topics: [
            { topicId: t.topicId, partitionIndexes: [0] },
            { topicId: unknownId, partitionIndexes: [3] },
          ],
        },
        { groupId: 'g2', memberId: null, memberEpoch: -1, topics: null },
      ],
    });
    expect(calls).toEqual([
      ['g1', [{ name: 't', partitionIndexes: [0] }]],
      ['g2', null],
    ]);
    const [g1, g2] = res.groups!;
    expect(
      g1!.topics.map((x) => [x.topicId, x.partitions.map((p) => [p.committedOffset, p.errorCode])]),
    ).toEqual([
      [t.topicId, [[5, ErrorCode.NONE]]],
      [unknownId, [[-1, ErrorCode.UNKNOWN_TOPIC_ID]]],
    ]);
    // 'deleted' has no id in the image: left out, as it cannot be named.
    expect(g2!.topics.map((x) => x.topicId)).toEqual([t.topicId]);
  });
});

describe('OffsetDelete', () => {
  const topics = [fakeTopic('t', { partitions: 1 })];
  const request = {
    groupId: 'g',
    topics: [
      { name: 't', partitions: [{ partitionIndex: 0 }, { partitionIndex: 3 }] },
      { name: 'missing', partitions: [{ partitionIndex: 0 }] },
    ],
  };

  it('deletes known partitions; unknown ones are UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const asked: unknown[] = [];
    const ctx = fakeContext({
      replicas: fakeReplicas(topics),
      metadata: fakeMetadata(topics),
      groups: {
        deleteOffsets: (groupId, partitions) => {
          asked.push([groupId, partitions]);
          return Promise.resolve({
            error: 'NONE' as const,
            partitionErrors: ['GROUP_SUBSCRIBED_TO_TOPIC' as const],
          });
        },
      },
    });
    const res = await call(offsetDeleteHandler, ctx, request);
    expect(asked).toEqual([['g', [{ topic: 't', partition: 0 }]]]);
    expect(res).toEqual({
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC },
            { partitionIndex: 3, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
        {
          name: 'missing',
          partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
        },
      ],
    });
  });

  it('a group-level error leaves the topics empty', async () => {
    const ctx = fakeContext({
      replicas: fakeReplicas(topics),
      metadata: fakeMetadata(topics),
      groups: {
        deleteOffsets: () => Promise.resolve({ error: 'GROUP_ID_NOT_FOUND' as const, partitionErrors: [] }),
      },
    });
    const res = await call(offsetDeleteHandler, ctx, request);
    expect(res).toEqual({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, throttleTimeMs: 0, topics: [] });
  });
});
