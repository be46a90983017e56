/**
 * The group APIs over TCP with raw requests through our codec: every advertised layout
 * (FindCoordinator v0/v4 batched, OffsetFetch v1/v8 groups, LeaveGroup v0/v3), Kafka's errors for
 * bad input, and many joins without a crash or unbounded state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies of many message types, checked field by field
type Body = Record<string, any>;

let tb: TestBroker;
let c: TestClient;

beforeAll(async () => {
  tb = await startTestBroker({
    'group.initial.rebalance.delay.ms': '0',
    'group.min.session.timeout.ms': '100',
    'group.max.size': '100',
  });
  tb.broker.controller.createTopic('t', 2);
  c = await TestClient.connect(tb.port);
});
afterAll(async () => {
  c.close();
  await tb.close();
});

const join = (version: number, over: Body = {}) =>
  c.request<Body>(11, version, {
    groupId: 'raw',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from([0, 0]) }],
    reason: null,
    ...over,
  });

describe('group APIs over TCP', () => {
  it('advertises exactly the versions served, KIP-848 ConsumerGroupHeartbeat/Describe v0-1 included', async () => {
    const r = await c.request<Body>(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    const range = (k: number) => {
      const e = r.apiKeys.find((x: Body) => x.apiKey === k);
      return e ? [e.minVersion, e.maxVersion] : null;
    };
    expect(range(10)).toEqual([0, 6]);
    expect(range(11)).toEqual([0, 9]);
    expect(range(14)).toEqual([0, 5]);
    expect(range(12)).toEqual([0, 4]);
    expect(range(13)).toEqual([0, 5]);
    expect(range(8)).toEqual([2, 10]);
    expect(range(9)).toEqual([1, 10]);
    expect(range(15)).toEqual([0, 5]);
    expect(range(16)).toEqual([0, 5]);
    expect(range(42)).toEqual([0, 2]);
    expect(range(47)).toEqual([0, 0]);
    expect(range(68)).toEqual([0, 1]);
    expect(range(69)).toEqual([0, 1]);
  });

  it('FindCoordinator answers this broker in both layouts, for groups and transactions', async () => {
    const v0 = await c.request<Body>(10, 0, { key: 'g' });
    expect(v0).toMatchObject({ errorCode: 0, nodeId: tb.broker.nodeId, port: tb.port });
    const v6 = await c.request<Body>(10, 6, { keyType: 1, coordinatorKeys: ['txn-a', 'txn-b'] });
    expect(v6.coordinators.map((x: Body) => [x.key, x.errorCode, x.port])).toEqual([
      ['txn-a', 0, tb.port],
      ['txn-b', 0, tb.port],
    ]);
    const bad = await c.request<Body>(10, 4, { keyType: 9, coordinatorKeys: ['x'] });
    expect(bad.coordinators[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);
    // The lookup created the internal, compacted offsets topic.
    const topic = tb.broker.metadata.topic('__consumer_offsets')!;
    expect(topic.partitions).toHaveLength(50);
    expect(topic.configs['cleanup.policy']).toBe('compact');
    const md = await c.request<Body>(3, 12, {
      topics: [{ name: '__consumer_offsets', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(md.topics[0].isInternal).toBe(true);
  });

  it('JoinGroup v0–v3 need no member id; v4+ get MEMBER_ID_REQUIRED first', async () => {
    for (const v of [0, 1, 2, 3]) {
      const r = await join(v, { groupId: `old-${v}` });
      expect(r.errorCode).toBe(0);
      expect(r.generationId).toBe(1);
      // The lone member leaves (v0-2: top-level error; unknown member → UNKNOWN_MEMBER_ID).
      const l = await c.request<Body>(13, 0, { groupId: `old-${v}`, memberId: r.memberId });
      expect(l.errorCode).toBe(0);
      expect((await c.request<Body>(13, 0, { groupId: `old-${v}`, memberId: r.memberId })).errorCode).toBe(
        ErrorCode.UNKNOWN_MEMBER_ID,
      );
    }
    for (const v of [4, 7, 9]) {
      const first = await join(v, { groupId: `new-${v}` });
      expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
      const second = await join(v, { groupId: `new-${v}`, memberId: first.memberId });
      expect(second.errorCode).toBe(0);
      expect(second.protocolName).toBe('range');
      if (v >= 7) expect(second.protocolType).toBe('consumer');
      const sync = await c.request<Body>(14, 5, {
        groupId: `new-${v}`,
        generationId: second.generationId,
        memberId: second.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [{ memberId: second.memberId, assignment: Buffer.from('x') }],
      });
      expect(sync).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' });
      expect(
        (
          await c.request<Body>(12, 4, {
            groupId: `new-${v}`,
            generationId: 99,
            memberId: second.memberId,
            groupInstanceId: null,
          })
        ).errorCode,
      ).toBe(ErrorCode.ILLEGAL_GENERATION);
      const l = await c.request<Body>(13, 5, {
        groupId: `new-${v}`,
        members: [
          { memberId: second.memberId, groupInstanceId: null, reason: null },
          { memberId: 'who', groupInstanceId: null, reason: null },
        ],
      });
      expect(l.members.map((m: Body) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
    }
    // SyncGroup v5 without protocol type/name.
    const s = await c.request<Body>(14, 5, {
      groupId: 'x',
      generationId: 1,
      memberId: 'm',
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect(s.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('OffsetCommit: unknown topics and partitions per partition, stale generations, admin commits', async () => {
    const r = await c.request<Body>(8, 8, {
      groupId: 'commits',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, committedOffset: 4, committedLeaderEpoch: -1, committedMetadata: 'hi' },
            { partitionIndex: 7, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
        {
          name: 'no-such-topic',
          partitions: [
            { partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    expect(r.topics.map((t: Body) => t.partitions.map((p: Body) => p.errorCode))).toEqual([
      [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    const stale = await c.request<Body>(8, 2, {
      groupId: 'nobody',
      generationIdOrMemberEpoch: 5,
      memberId: 'm',
      retentionTimeMs: -1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: '' }] }],
    });
    expect(stale.topics[0].partitions[0].errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    // OffsetFetch in the v1 layout and the v8 groups layout.
    const v1 = await c.request<Body>(9, 1, {
      groupId: 'commits',
      topics: [{ name: 't', partitionIndexes: [0, 1] }],
    });
    expect(v1.topics[0].partitions.map((p: Body) => [p.committedOffset, p.metadata, p.errorCode])).toEqual([
      [4, 'hi', 0],
      [-1, '', 0],
    ]);
    const v8 = await c.request<Body>(9, 8, {
      groups: [
        { groupId: 'commits', topics: null },
        { groupId: 'unknown-group', topics: [{ name: 't', partitionIndexes: [0] }] },
      ],
      requireStable: true,
    });
    expect(v8.groups[0].topics).toEqual([
      {
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA', // v10's field, its default below v10
        partitions: [
          { partitionIndex: 0, committedOffset: 4, committedLeaderEpoch: -1, metadata: 'hi', errorCode: 0 },
        ],
      },
    ]);
    expect(v8.groups[1].topics[0].partitions[0].committedOffset).toBe(-1);
  });

  it('ListGroups filters by state and type; DescribeGroups, DeleteGroups and OffsetDelete as Kafka', async () => {
    const first = await join(5, { groupId: 'busy' });
    const member = await join(5, { groupId: 'busy', memberId: first.memberId });
    await c.request<Body>(14, 3, {
      groupId: 'busy',
      generationId: member.generationId,
      memberId: member.memberId,
      groupInstanceId: null,
      assignments: [],
    });
    await c.request<Body>(8, 8, {
      groupId: 'busy',
      generationIdOrMemberEpoch: member.generationId,
      memberId: member.memberId,
      groupInstanceId: null,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 1, committedOffset: 9, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    const stable = await c.request<Body>(16, 5, { statesFilter: ['stable'], typesFilter: [] });
    expect(stable.groups.map((g: Body) => g.groupId)).toEqual(['busy']);
    expect(stable.groups[0]).toMatchObject({
      groupState: 'Stable',
      groupType: 'classic',
      protocolType: 'consumer',
    });
    expect((await c.request<Body>(16, 5, { statesFilter: [], typesFilter: ['consumer'] })).groups).toEqual(
      [],
    );
    const d = await c.request<Body>(15, 5, { groups: ['busy', 'none'], includeAuthorizedOperations: true });
    expect(d.groups[0].members).toHaveLength(1);
    expect(d.groups[0].members[0].memberId).toBe(member.memberId);
    expect(d.groups[1]).toMatchObject({ errorCode: 0, groupState: 'Dead' });
    const del = await c.request<Body>(42, 2, { groupsNames: ['busy', 'none'] });
    expect(del.results.map((r: Body) => r.errorCode)).toEqual([
      ErrorCode.NON_EMPTY_GROUP,
      ErrorCode.GROUP_ID_NOT_FOUND,
    ]);
    // Metadata [0,0] does not parse as a subscription: Kafka 4 then counts the topic as subscribed.
    const od = await c.request<Body>(47, 0, {
      groupId: 'busy',
      topics: [
        { name: 't', partitions: [{ partitionIndex: 1 }] },
        { name: 'gone', partitions: [{ partitionIndex: 0 }] },
      ],
    });
    expect(od.errorCode).toBe(0);
    expect(od.topics.map((t: Body) => t.partitions[0].errorCode)).toEqual([
      ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect((await c.request<Body>(47, 0, { groupId: 'none', topics: [] })).errorCode).toBe(
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
  });

  it('thousands of joins: GROUP_MAX_SIZE_REACHED past group.max.size, and the broker keeps serving', async () => {
    const codes = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const r = await join(5, { groupId: 'crowd', sessionTimeoutMs: 100_000 });
      codes.set(r.errorCode, (codes.get(r.errorCode) ?? 0) + 1);
    }
    expect(codes.get(ErrorCode.MEMBER_ID_REQUIRED)).toBe(100);
    expect(codes.get(ErrorCode.GROUP_MAX_SIZE_REACHED)).toBe(1900);
    expect(tb.broker.groupCoordinator.group('crowd')!.pendingMembers.size).toBe(100);
    // Oversized metadata is refused before it is kept.
    const huge = await join(5, {
      groupId: 'huge',
      protocols: [{ name: 'range', metadata: Buffer.alloc(2_000_000) }],
    });
    expect(huge.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect((await c.request<Body>(18, 0, {})).errorCode).toBe(0);
  });
});
