/**
 * DeleteRecords (key 21), v0–2 (`kafka-delete-records`, AdminClient.deleteRecords). v1 same
 * layout; v2 flexible. Moves each partition's log start offset up to the given offset (-1 means
 * the high watermark) and drops the whole segments below it; the result's low watermark is the
 * new log start offset. An offset below 0 or beyond the high watermark is OFFSET_OUT_OF_RANGE,
 * as in Kafka's UnifiedLog.maybeIncrementLogStartOffset; consumers fetching below the new start
 * get OFFSET_OUT_OF_RANGE. A topic whose cleanup.policy lacks `delete` (compact only) refuses with
 * POLICY_VIOLATION, as Kafka's Partition.deleteRecordsOnLeader.
 * Authorization: DELETE on each topic, else TOPIC_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DeleteRecordsRequest,
  type DeleteRecordsRequestData,
  DeleteRecordsResponse,
  type DeleteRecordsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';

export const deleteRecordsHandler = defineHandler<DeleteRecordsRequestData, DeleteRecordsResponseData>({
  apiKey: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  request: DeleteRecordsRequest,
  response: DeleteRecordsResponse,
  async handle(ctx, req) {
    const deletable = allowsAll(ctx)
      ? null
      : filterAuthorized(ctx, 'DELETE', 'TOPIC', req.topics, (t) => t.name);
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (dp) => {
            if (deletable !== null && !deletable.has(t.name)) {
              return {
                partitionIndex: dp.partitionIndex,
                lowWatermark: -1,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              };
            }
            const r = await ctx.replicas.deleteRecords(t.name, dp.partitionIndex, dp.offset, req.timeoutMs);
            return {
              partitionIndex: dp.partitionIndex,
              lowWatermark: r.lowWatermark,
              errorCode: ErrorCode[r.error],
            };
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});
