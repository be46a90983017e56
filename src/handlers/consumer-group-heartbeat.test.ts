/**
 * ConsumerGroupHeartbeat and ConsumerGroupDescribe over TCP with our codec: a member joins (v1,
 * its own member id; v0, the coordinator's), gets the partitions by topic id, is described with
 * topic names; ListGroups v5 filters by type; a bad request is INVALID_REQUEST with Kafka's message.
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
  tb = await startTestBroker();
  await tb.broker.controller.createTopic('cgh', 3);
  c = await TestClient.connect(tb.port);
});
afterAll(async () => {
  c.close();
  await tb.close();
});

const heartbeat = (version: number, over: Body) =>
  c.request<Body>(68, version, {
    groupId: 'wire',
    memberId: 'member-a',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ['cgh'],
    subscribedTopicRegex: null,
    serverAssignor: 'range',
    topicPartitions: [],
    ...over,
  });

describe('ConsumerGroupHeartbeat / ConsumerGroupDescribe over TCP', () => {
  it('joins, is assigned by topic id, and is described with topic names', async () => {
    const topicId = tb.broker.metadata.topic('cgh')!.topicId;
    const r = await heartbeat(1, {});
    expect(r).toMatchObject({
      errorCode: 0,
      memberId: 'member-a',
      memberEpoch: 1,
      heartbeatIntervalMs: 5000,
    });
    expect(r.assignment.topicPartitions).toEqual([{ topicId, partitions: [0, 1, 2] }]);
    // A heartbeat with nothing changed carries no assignment.
    const again = await heartbeat(1, {
      memberEpoch: 1,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      serverAssignor: null,
      topicPartitions: null,
    });
    expect(again).toMatchObject({ errorCode: 0, memberEpoch: 1, assignment: null });
    const d = await c.request<Body>(69, 1, {
      groupIds: ['wire', 'missing'],
      includeAuthorizedOperations: false,
    });
    expect(d.groups[0]).toMatchObject({
      errorCode: 0,
      groupId: 'wire',
      groupState: 'Stable',
      groupEpoch: 1,
      assignmentEpoch: 1,
      assignorName: 'range',
    });
    expect(d.groups[0].members[0]).toMatchObject({
      memberId: 'member-a',
      memberEpoch: 1,
      clientId: 'kbroker-test',
      subscribedTopicNames: ['cgh'],
      memberType: 1,
      assignment: { topicPartitions: [{ topicId, topicName: 'cgh', partitions: [0, 1, 2] }] },
    });
    expect(d.groups[1]).toMatchObject({ groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
    const consumer = await c.request<Body>(16, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(consumer.groups.map((g: Body) => [g.groupId, g.groupType, g.protocolType])).toEqual([
      ['wire', 'consumer', 'consumer'],
    ]);
    const classic = await c.request<Body>(16, 5, { statesFilter: [], typesFilter: ['classic'] });
    expect(classic.groups.map((g: Body) => g.groupId)).not.toContain('wire');
  });

  it('v0 without a member id gets one from the coordinator; v1 without one is INVALID_REQUEST', async () => {
    const v0 = await heartbeat(0, { groupId: 'wire0', memberId: '' });
    expect(v0.errorCode).toBe(0);
    expect(v0.memberId).toMatch(/^[0-9a-f-]{36}$/);
    const v1 = await heartbeat(1, { groupId: 'wire1', memberId: '' });
    expect(v1).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: "MemberId can't be empty.",
    });
  });
});
