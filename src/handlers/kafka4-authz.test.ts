// Authorization of the APIs that arrived with the metadata and Kafka 4 work (ElectLeaders,
// ConsumerGroupHeartbeat, ConsumerGroupDescribe), on fake services: with an authorizer that
// refuses, each answers Kafka's *_AUTHORIZATION_FAILED and never reaches the controller or the
// group coordinator; with one that allows, the call goes through.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import type { AclOperation, ResourceType } from '../security/authorizer.js';
import { call, fakeContext } from '../test-support/fake-services.js';
import { consumerGroupDescribeHandler } from './consumer-group-describe.js';
import { consumerGroupHeartbeatHandler } from './consumer-group-heartbeat.js';
import { electLeadersHandler } from './elect-leaders.js';

/** An authorizer allowing exactly the listed "OPERATION RESOURCE_TYPE name" triples. */
function authorizerAllowing(...allowed: string[]) {
  const set = new Set(allowed);
  return {
    authorize: (_r: unknown, op: AclOperation, type: ResourceType, name: string) =>
      set.has(`${op} ${type} ${name}`),
    authorizeByResourceType: () => false,
  };
}

const untouched = new Proxy(
  {},
  {
    get(_t, prop) {
      throw new Error(`reached ${String(prop)} although the request was not authorized`);
    },
  },
);

const heartbeat = {
  groupId: 'g',
  memberId: 'm',
  memberEpoch: 0,
  instanceId: null,
  rackId: null,
  rebalanceTimeoutMs: 30_000,
  subscribedTopicNames: ['t1', 't2'],
  subscribedTopicRegex: null,
  serverAssignor: null,
  topicPartitions: [],
};

describe('authorization of ElectLeaders, ConsumerGroupHeartbeat, ConsumerGroupDescribe', () => {
  it('ElectLeaders needs ALTER on the cluster', async () => {
    const ctx = fakeContext({ apiVersion: 2, authorizer: authorizerAllowing(), controller: untouched });
    const res = await call(electLeadersHandler, ctx, {
      electionType: 0,
      topicPartitions: [{ topic: 't', partitions: [0, 1] }],
      timeoutMs: 1000,
    });
    expect(res.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(res.replicaElectionResults[0]!.partitionResult.map((p) => p.errorCode)).toEqual([
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    ]);
    const allowed = fakeContext({
      apiVersion: 2,
      authorizer: authorizerAllowing('ALTER CLUSTER kafka-cluster'),
      controller: { electLeaders: async () => [] },
    });
    expect(
      (await call(electLeadersHandler, allowed, { electionType: 0, topicPartitions: null, timeoutMs: 1 }))
        .errorCode,
    ).toBe(ErrorCode.NONE);
  });

  it('ConsumerGroupHeartbeat needs READ on the group and DESCRIBE on every subscribed topic', async () => {
    const noGroup = fakeContext({ apiVersion: 1, authorizer: authorizerAllowing(), groups: untouched });
    expect((await call(consumerGroupHeartbeatHandler, noGroup, heartbeat)).errorCode).toBe(
      ErrorCode.GROUP_AUTHORIZATION_FAILED,
    );
    const oneTopic = fakeContext({
      apiVersion: 1,
      authorizer: authorizerAllowing('READ GROUP g', 'DESCRIBE TOPIC t1'),
      groups: untouched,
    });
    const res = await call(consumerGroupHeartbeatHandler, oneTopic, heartbeat);
    expect(res.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(res.errorMessage).toBe('The client is not authorized to describe topics: t2');
  });

  it("ConsumerGroupDescribe needs DESCRIBE on each group and answers the principal's operations", async () => {
    const seen: number[] = [];
    const ctx = fakeContext({
      apiVersion: 1,
      authorizer: authorizerAllowing('DESCRIBE GROUP a'),
      groups: {
        consumerGroupDescribe: (groupId: string, _include: boolean, ops: number) => {
          seen.push(ops);
          return {
            error: 'NONE' as const,
            errorMessage: null,
            groupId,
            groupState: 'Empty',
            groupEpoch: 0,
            assignmentEpoch: 0,
            assignorName: 'uniform',
            members: [],
            authorizedOperations: ops,
          };
        },
      },
    });
    const res = await call(consumerGroupDescribeHandler, ctx, {
      groupIds: ['a', 'b'],
      includeAuthorizedOperations: true,
    });
    expect(res.groups.map((g) => [g.groupId, g.errorCode])).toEqual([
      ['a', ErrorCode.NONE],
      ['b', ErrorCode.GROUP_AUTHORIZATION_FAILED],
    ]);
    // Only DESCRIBE (bit 8) is allowed on group a.
    expect(seen).toEqual([1 << 8]);
  });
});
