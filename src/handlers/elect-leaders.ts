/**
 * ElectLeaders (key 43), v0–2 (`kafka-leader-election`, Java Admin electLeaders). v0 elects the
 * preferred replica; v1 adds election_type (0 PREFERRED, 1 UNCLEAN) and the top-level error
 * code; v2 flexible. The controller elects (src/metadata/controller.ts, Kafka's
 * ReplicationControlManager.electLeader): per partition NONE, ELECTION_NOT_NEEDED (the preferred
 * replica already leads / a leader exists), PREFERRED_LEADER_NOT_AVAILABLE,
 * ELIGIBLE_LEADERS_NOT_AVAILABLE or UNKNOWN_TOPIC_OR_PARTITION, with Kafka's messages. Null
 * partitions elect every partition and leave out those that needed no election.
 * Authorization: ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED (top level from v1, and
 * on every asked partition).
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ElectLeadersRequest,
  type ElectLeadersRequestData,
  ElectLeadersResponse,
  type ElectLeadersResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const electLeadersHandler = defineHandler<ElectLeadersRequestData, ElectLeadersResponseData>({
  apiKey: 43,
  name: 'ElectLeaders',
  minVersion: 0,
  maxVersion: 2,
  request: ElectLeadersRequest,
  response: ElectLeadersResponse,
  async handle(ctx, req) {
    // v0 knows only preferred elections.
    const electionType = ctx.apiVersion >= 1 ? (req.electionType ?? 0) : 0;
    // A topic named twice is asked once, its partitions merged (Kafka keys them by topic).
    const wanted =
      req.topicPartitions === null
        ? null
        : [
            ...req.topicPartitions
              .reduce(
                (m, t) => m.set(t.topic, [...new Set([...(m.get(t.topic) ?? []), ...t.partitions])]),
                new Map<string, number[]>(),
              )
              .entries(),
          ].map(([topic, partitions]) => ({ topic, partitions }));
    if (!allowsAll(ctx) && !authorizeCluster(ctx, 'ALTER')) {
      const denied = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return {
        throttleTimeMs: 0,
        errorCode: denied,
        replicaElectionResults: (wanted ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) => ({
            partitionId,
            errorCode: denied,
            errorMessage: null,
          })),
        })),
      };
    }
    const results = await ctx.controller.electLeaders(electionType, wanted);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: results.map((r) => ({
        topic: r.topic,
        partitionResult: r.partitionResult.map((p) => ({
          partitionId: p.partitionId,
          errorCode: p.errorCode,
          errorMessage: p.errorMessage,
        })),
      })),
    };
  },
});
