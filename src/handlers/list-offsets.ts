/**
 * ListOffsets (key 2), v1–9 (v0's old-style offset arrays are not served).
 * Timestamps: -2 earliest (log start offset), -1 latest (high watermark, or the last stable
 * offset under read_committed, v2+), -3 max timestamp (v7), -4 earliest local (v8, no tiered
 * storage: the log start offset), otherwise the first record whose timestamp is at or after
 * the target, found through the time index and then inside the batch.
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
import { decodeRecordBatch } from '../protocol/records.js';
import type { Partition } from '../replication/partition.js';
import { defineHandler } from '../server/handler.js';
import { leaderEpochError } from './fetch.js';

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;
export const EARLIEST_PENDING_UPLOAD_TIMESTAMP = -5;

type Found = { timestamp: number; offset: number } | null;

/** The first record at or after `timestamp`, refined inside the batch the time index points to. */
function offsetForTimestamp(p: Partition, timestamp: number): Found {
  const hit = p.log.fetchOffsetByTimestamp(timestamp);
  if (!hit) return null;
  const read = p.log.read(hit.offset, 1, true, p.highWatermark);
  if ('error' in read || !read.records) return null;
  let pos = 0;
  const buf = read.records;
  while (pos < buf.length) {
    const batch = decodeRecordBatch(buf, pos);
    if (!batch.isControl) {
      for (const r of batch.records)
        if (r.timestamp >= timestamp) return { timestamp: r.timestamp, offset: r.offset };
    }
    pos += batch.sizeInBytes;
  }
  return null;
}

function lookup(p: Partition, timestamp: number, readCommitted: boolean): Found {
  switch (timestamp) {
    case LATEST_TIMESTAMP:
      return { timestamp: -1, offset: readCommitted ? p.lastStableOffset : p.highWatermark };
    case EARLIEST_TIMESTAMP:
    case EARLIEST_LOCAL_TIMESTAMP:
      return { timestamp: -1, offset: p.logStartOffset };
    case MAX_TIMESTAMP:
      return p.log.maxTimestampAndOffset();
    case EARLIEST_PENDING_UPLOAD_TIMESTAMP:
      return null;
    default:
      return timestamp < 0 ? null : offsetForTimestamp(p, timestamp);
  }
}

export const listOffsetsHandler = defineHandler<ListOffsetsRequestData, ListOffsetsResponseData>({
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 9,
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  handle(ctx, req) {
    const rm = ctx.broker.replicaManager;
    const readCommitted = req.isolationLevel === 1;
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((lp): ListOffsetsResponseListOffsetsPartitionResponse => {
        const base = { partitionIndex: lp.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1 };
        const p = rm.getPartition(t.name, lp.partitionIndex);
        if (!p) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        const epochError = leaderEpochError(p, lp.currentLeaderEpoch);
        if (epochError) return { ...base, errorCode: ErrorCode[epochError] };
        if (lp.timestamp === MAX_TIMESTAMP && ctx.apiVersion < 7) {
          return { ...base, errorCode: ErrorCode.UNSUPPORTED_VERSION };
        }
        const found = lookup(p, lp.timestamp, readCommitted);
        if (!found) return { ...base, errorCode: ErrorCode.NONE };
        return { ...base, errorCode: ErrorCode.NONE, ...found, leaderEpoch: p.leaderEpoch };
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});
