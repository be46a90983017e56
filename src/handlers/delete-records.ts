/**
 * DeleteRecords (key 21), v0–2 (`kafka-delete-records`, AdminClient.deleteRecords). v1 same
 * layout; v2 flexible. Moves each partition's log start offset up to the given offset (-1 means
 * the high watermark) and drops the whole segments below it; the result's low watermark is the
 * new log start offset. An offset below 0 or beyond the high watermark is OFFSET_OUT_OF_RANGE,
 * as in Kafka's UnifiedLog.maybeIncrementLogStartOffset; consumers fetching below the new start
 * get OFFSET_OUT_OF_RANGE. A topic whose cleanup.policy lacks `delete` (compact only) refuses with
 * POLICY_VIOLATION, as Kafka's Partition.deleteRecordsOnLeader.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DeleteRecordsRequest,
  type DeleteRecordsRequestData,
  DeleteRecordsResponse,
  type DeleteRecordsResponseData,
} from '../protocol/generated/messages.js';
import { defineHandler } from '../server/handler.js';

const HIGH_WATERMARK = -1;

/** Kafka's LogConfig.delete: the cleanup policy includes `delete` (the default). */
function deletesRecords(cleanupPolicy: string | undefined): boolean {
  return (cleanupPolicy ?? 'delete')
    .split(',')
    .map((s) => s.trim())
    .includes('delete');
}

export const deleteRecordsHandler = defineHandler<DeleteRecordsRequestData, DeleteRecordsResponseData>({
  apiKey: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  request: DeleteRecordsRequest,
  response: DeleteRecordsResponse,
  handle(ctx, req) {
    const rm = ctx.replicas;
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((dp) => {
        const result = (errorCode: number, lowWatermark = -1) => ({
          partitionIndex: dp.partitionIndex,
          lowWatermark,
          errorCode,
        });
        const p = rm.getPartition(t.name, dp.partitionIndex);
        if (!p) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (!deletesRecords(rm.topic(t.name)?.effectiveConfig['cleanup.policy'])) {
          return result(ErrorCode.POLICY_VIOLATION);
        }
        const offset = dp.offset === HIGH_WATERMARK ? p.highWatermark : dp.offset;
        if (offset < 0 || offset > p.highWatermark) return result(ErrorCode.OFFSET_OUT_OF_RANGE);
        p.log.deleteRecordsBefore(offset);
        ctx.log.info(`deleted records of ${t.name}-${dp.partitionIndex} before ${offset}`);
        return result(ErrorCode.NONE, p.logStartOffset);
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
