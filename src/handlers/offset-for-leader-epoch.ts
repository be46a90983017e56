/**
 * OffsetForLeaderEpoch (key 23), v2–4 (the Java consumer validates its position with it after a
 * leader change, if the broker advertises v3+). v2 current leader epoch and throttle time; v3
 * replica id; v4 flexible. For each partition: the largest epoch at or below the requested one
 * and the offset where the next epoch starts (the log end offset for the current epoch), from
 * the leader-epoch-checkpoint cache as Kafka's LeaderEpochFileCache.endOffsetFor; an epoch
 * above every known one gives -1/-1. A stale or future current_leader_epoch is
 * FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH.
 * Authorization: CLUSTER_ACTION on the cluster, else DESCRIBE on each topic (TOPIC_AUTHORIZATION_FAILED).
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochRequestData,
  OffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorizeCluster, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';

export const offsetForLeaderEpochHandler = defineHandler<
  OffsetForLeaderEpochRequestData,
  OffsetForLeaderEpochResponseData
>({
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 2,
  maxVersion: 4,
  request: OffsetForLeaderEpochRequest,
  response: OffsetForLeaderEpochResponse,
  handle(ctx, req) {
    const described =
      allowsAll(ctx) || authorizeCluster(ctx, 'CLUSTER_ACTION')
        ? null
        : filterAuthorized(ctx, 'DESCRIBE', 'TOPIC', req.topics, (t) => t.topic);
    const topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((op) => {
        if (described !== null && !described.has(t.topic)) {
          return {
            partition: op.partition,
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            leaderEpoch: -1,
            endOffset: -1,
          };
        }
        const r = ctx.replicas.lastOffsetForLeaderEpoch(
          t.topic,
          op.partition,
          op.leaderEpoch,
          op.currentLeaderEpoch,
        );
        return {
          partition: op.partition,
          errorCode: ErrorCode[r.error],
          leaderEpoch: r.leaderEpoch,
          endOffset: r.endOffset,
        };
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
