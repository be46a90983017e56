/**
 * Offsets by time for ListOffsets (Kafka's Partition.fetchOffsetForTimestamp and
 * UnifiedLog.fetchOffsetByTimestamp): the log start or end for the special timestamps, otherwise the
 * first record at or after the target found through the time index and then inside the batches.
 * Only records at or after the log start offset count (after DeleteRecords the batch holding the
 * log start offset still has records below it), and only offsets below the last fetchable one
 * (the high watermark, or the last stable offset under read_committed, for a consumer) are
 * answered. The leader epoch answered is the found batch's for a timestamp or max-timestamp lookup,
 * the first leader-epoch entry's for earliest (when it starts at or before the log start offset),
 * the current one for latest. Records are read without decoding keys and values, and a compressed
 * batch is decompressed within a bound (record-batch-compressed.ts findRecordTime): a stored
 * decompression bomb cannot hold the event loop.
 */
import {
  type BatchInfo,
  CONTROL_FLAG_MASK,
  iterateBatches,
  NO_PARTITION_LEADER_EPOCH,
} from '../protocol/record-batch.js';
import { findRecordTime } from '../protocol/record-batch-compressed.js';
import type { Partition } from './partition.js';

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;
export const EARLIEST_PENDING_UPLOAD_TIMESTAMP = -5;

/** ListOffsets' replica id of a consumer (other ids are followers or debugging tools). */
const CONSUMER_REPLICA_ID = -1;

export interface TimestampAndOffset {
  readonly timestamp: number;
  readonly offset: number;
  readonly leaderEpoch: number;
}

type Found = TimestampAndOffset | null;

/** How much of the log one read brings into memory while searching batches. */
const SEARCH_READ_BYTES = 64 * 1024;

/** A stored batch's partition leader epoch, or -1 (none) when it was written without one. */
const epochOf = (b: BatchInfo): number =>
  b.partitionLeaderEpoch >= 0 ? b.partitionLeaderEpoch : NO_PARTITION_LEADER_EPOCH;

/**
 * Visits the batches holding offsets [from, end), in order, reading SEARCH_READ_BYTES at a time,
 * until `visit` returns a result. `from` must be at or after the log start offset.
 */
function searchBatches(
  p: Partition,
  from: number,
  end: number,
  visit: (buf: Buffer, batch: BatchInfo) => Found,
): Found {
  let offset = from;
  while (offset < end) {
    const read = p.log.read(offset, SEARCH_READ_BYTES, true, end);
    if ('error' in read || !read.records || read.records.length === 0) return null;
    const before = offset;
    for (const b of iterateBatches(read.records)) {
      const found = visit(read.records, b);
      if (found) return found;
      offset = b.lastOffset + 1;
    }
    if (offset === before) return null;
  }
  return null;
}

/**
 * The first record at or after `timestamp` and at or after the log start offset (Kafka's
 * LogSegment.findOffsetByTimestamp): from the batch the time index points to, to the end of that
 * segment.
 */
function offsetForTimestamp(p: Partition, timestamp: number): Found {
  const logStartOffset = p.logStartOffset;
  const hit = p.log.fetchOffsetByTimestamp(timestamp);
  if (!hit) return null;
  const segmentEnd = p.log.segmentBaseOffsets().find((base) => base > hit.offset) ?? p.logEndOffset;
  return searchBatches(p, hit.offset, segmentEnd, (buf, b) => {
    if (b.maxTimestamp < timestamp || b.lastOffset < logStartOffset) return null;
    if ((b.attributes & CONTROL_FLAG_MASK) !== 0) return null;
    const r = findRecordTime(buf, b.position, b.size, (ts, off) => ts >= timestamp && off >= logStartOffset);
    // Records that cannot be read within the bound (a batch stored before compressed batches were
    // validated on produce): reading from the batch's start is where `timestamp` begins.
    if (r === 'unreadable')
      return {
        timestamp: b.maxTimestamp,
        offset: Math.max(b.baseOffset, logStartOffset),
        leaderEpoch: epochOf(b),
      };
    return r ? { timestamp: r.timestamp, offset: r.offset, leaderEpoch: epochOf(b) } : null;
  });
}

/**
 * The record with the largest timestamp (the first such record of the first batch carrying it, as
 * Kafka's RecordBatch.offsetOfMaxTimestamp), with its batch's leader epoch.
 */
function maxTimestampOffset(p: Partition): Found {
  const max = p.log.maxTimestampAndOffset();
  if (!max) return null;
  const from = Math.max(max.offset, p.logStartOffset);
  return searchBatches(p, from, from + 1, (buf, b) => {
    if (b.maxTimestamp !== max.timestamp) return null;
    const r = findRecordTime(buf, b.position, b.size, (ts) => ts === max.timestamp);
    if (r === 'unreadable')
      return { timestamp: max.timestamp, offset: Math.max(b.baseOffset, from), leaderEpoch: epochOf(b) };
    return r ? { timestamp: max.timestamp, offset: r.offset, leaderEpoch: epochOf(b) } : null;
  });
}

/** The first leader epoch when it covers the log start offset (Kafka's earliest-offset epoch). */
function earliestEpoch(p: Partition): number {
  const first = p.log.leaderEpochCache.epochEntries()[0];
  return first && first.startOffset <= p.logStartOffset ? first.epoch : NO_PARTITION_LEADER_EPOCH;
}

/**
 * The offset (with its timestamp and leader epoch) ListOffsets answers for `timestamp`, or null
 * when there is none. `replicaId` -1 is a consumer; others (followers, tools) may see up to the log
 * end.
 */
export function fetchOffsetForTimestamp(
  p: Partition,
  timestamp: number,
  isolationLevel: number,
  replicaId: number,
): TimestampAndOffset | null {
  const readCommitted = isolationLevel === 1;
  const lastFetchable =
    replicaId !== CONSUMER_REPLICA_ID ? p.logEndOffset : readCommitted ? p.lastStableOffset : p.highWatermark;
  return lookup(p, timestamp, readCommitted, lastFetchable);
}

function lookup(p: Partition, timestamp: number, readCommitted: boolean, lastFetchable: number): Found {
  switch (timestamp) {
    case LATEST_TIMESTAMP:
      return {
        timestamp: -1,
        offset: readCommitted ? p.lastStableOffset : p.highWatermark,
        leaderEpoch: p.leaderEpoch,
      };
    case EARLIEST_TIMESTAMP:
    case EARLIEST_LOCAL_TIMESTAMP:
      return { timestamp: -1, offset: p.logStartOffset, leaderEpoch: earliestEpoch(p) };
    case EARLIEST_PENDING_UPLOAD_TIMESTAMP:
      return null;
  }
  if (timestamp < 0 && timestamp !== MAX_TIMESTAMP) return null;
  const found = timestamp === MAX_TIMESTAMP ? maxTimestampOffset(p) : offsetForTimestamp(p, timestamp);
  // Kafka answers no offset when what was found is not fetchable yet.
  return found && found.offset < lastFetchable ? found : null;
}
