/**
 * ListOffsets (key 2), v1–9 (v0's old-style offset arrays are not served).
 * Timestamps: -2 earliest (log start offset), -1 latest (high watermark, or the last stable
 * offset under read_committed, v2+), -3 max timestamp (v7), -4 earliest local (v8, no tiered
 * storage: the log start offset), otherwise the first record whose timestamp is at or after
 * the target, found through the time index and then inside the batch.
 * Only records at or after the log start offset count (after DeleteRecords the batch holding the
 * log start offset still has records below it), and only offsets below the last fetchable one (the
 * high watermark, or the last stable offset under read_committed) are answered, as Kafka's
 * ReplicaManager.fetchOffset.
 * The leader epoch answered is Kafka's (UnifiedLog.fetchOffsetByTimestamp,
 * Partition.fetchOffsetForTimestamp): the epoch of the batch holding the offset for a timestamp or
 * max-timestamp lookup, the epoch of the first leader-epoch entry for earliest (when it starts at or
 * before the log start offset, else none), the current leader epoch for latest.
 * An unexpected failure on one partition answers that partition UNKNOWN_SERVER_ERROR (or
 * KAFKA_STORAGE_ERROR for an I/O error); the others are served.
 * v2 isolation level; v4 current leader epoch in, leader epoch out; v6 flexible; v9 -5
 * (earliest pending upload: nothing is pending without tiered storage, so none is found).
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ListOffsetsRequest,
  type ListOffsetsRequestData,
  ListOffsetsResponse,
  type ListOffsetsResponseData,
  type ListOffsetsResponseListOffsetsPartitionResponse,
} from '../protocol/generated/messages.js';
import { MAX_TIMESTAMP } from '../replication/offset-lookup.js';
import { allowsAll, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';

export {
  EARLIEST_LOCAL_TIMESTAMP,
  EARLIEST_PENDING_UPLOAD_TIMESTAMP,
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  MAX_TIMESTAMP,
} from '../replication/offset-lookup.js';

export const listOffsetsHandler = defineHandler<ListOffsetsRequestData, ListOffsetsResponseData>({
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 9,
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  handle(ctx, req) {
    // Authorization: DESCRIBE on each topic, else TOPIC_AUTHORIZATION_FAILED (KafkaApis.handleListOffsetRequest).
    const described = allowsAll(ctx)
      ? null
      : filterAuthorized(ctx, 'DESCRIBE', 'TOPIC', req.topics, (t) => t.name);
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((lp): ListOffsetsResponseListOffsetsPartitionResponse => {
        const base = { partitionIndex: lp.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1 };
        if (described !== null && !described.has(t.name)) {
          return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        }
        if (lp.timestamp === MAX_TIMESTAMP && ctx.apiVersion < 7) {
          return { ...base, errorCode: ErrorCode.UNSUPPORTED_VERSION };
        }
        const r = ctx.replicas.fetchOffsetForTimestamp(
          t.name,
          lp.partitionIndex,
          lp.timestamp,
          req.isolationLevel ?? 0,
          req.replicaId,
          lp.currentLeaderEpoch,
        );
        if (r.error !== 'NONE' || !r.found) return { ...base, errorCode: ErrorCode[r.error] };
        return { ...base, errorCode: ErrorCode.NONE, ...r.found };
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
