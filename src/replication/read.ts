/**
 * The read half of Kafka's ReplicaManager.fetchMessages (readFromLocalLog): each requested
 * partition is read from its log up to the high watermark (read_uncommitted) or the last stable
 * offset (read_committed, with the aborted transactions overlapping what is returned, from the
 * segments' `.txnindex`). `maxBytes` bounds the whole read and `partitionMaxBytes` each
 * partition, except that the first partition with data always returns at least one whole batch
 * (KIP-74). Records are slices of the segment files, never decoded or copied.
 */
import type { ErrorName } from '../protocol/generated/errors.js';
import { iterateBatches } from '../protocol/record-batch.js';
import type { Partition } from './partition.js';
import { partitionErrorOf } from './partition-error.js';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

export interface FetchPartitionRequest {
  /** Undefined when the request named a topic id this broker does not know. */
  readonly topic: string | undefined;
  readonly partition: number;
  /** What an unknown topic or partition is answered. */
  readonly missing: ErrorName;
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
  /** -1 or undefined when the client does not say. */
  readonly currentLeaderEpoch?: number | undefined;
}

export interface FetchPartitionResult {
  readonly error: ErrorName;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /** null under read_uncommitted. */
  readonly abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  readonly records: Buffer | null;
}

export interface FetchParams {
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly isolationLevel: number;
}

export interface ReadLog {
  error(message: string, err?: unknown): void;
}

/** Checks a client's `currentLeaderEpoch` (-1 = not given) against ours. */
export function leaderEpochError(
  partition: Partition,
  currentLeaderEpoch: number | undefined,
): ErrorName | null {
  if (currentLeaderEpoch === undefined || currentLeaderEpoch < 0) return null;
  if (currentLeaderEpoch > partition.leaderEpoch) return 'UNKNOWN_LEADER_EPOCH';
  if (currentLeaderEpoch < partition.leaderEpoch) return 'FENCED_LEADER_EPOCH';
  return null;
}

function failure(error: ErrorName, p?: Partition): FetchPartitionResult {
  return {
    error,
    highWatermark: p ? p.highWatermark : -1,
    lastStableOffset: p ? p.lastStableOffset : -1,
    logStartOffset: p ? p.logStartOffset : -1,
    abortedTransactions: null,
    records: null,
  };
}

/** Aborted transactions overlapping the fetched range [fetchOffset, end of the last returned batch). */
function abortedTransactions(p: Partition, fetchOffset: number, records: Buffer | null) {
  if (!records || records.length === 0) return [];
  let upperBoundOffset = fetchOffset;
  for (const b of iterateBatches(records)) upperBoundOffset = b.lastOffset + 1;
  return p.log
    .collectAbortedTransactions(fetchOffset, upperBoundOffset)
    .map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
}

export interface LocalRead {
  readonly results: FetchPartitionResult[];
  /** Record bytes read in all. */
  readonly bytes: number;
  readonly hasError: boolean;
}

/** The partitions this broker hosts, looked up again at every read (a topic may be deleted while a fetch waits). */
export type PartitionLookup = (topic: string, partition: number) => Partition | undefined;

export function readFromLocalLog(
  params: FetchParams,
  requests: readonly FetchPartitionRequest[],
  lookup: PartitionLookup,
  log: ReadLog,
): LocalRead {
  const readCommitted = params.isolationLevel === READ_COMMITTED;
  let remaining = params.maxBytes;
  let bytes = 0;
  let hasError = false;
  const results = requests.map((r): FetchPartitionResult => {
    const p = r.topic === undefined ? undefined : lookup(r.topic, r.partition);
    if (!p) {
      hasError = true;
      return failure(r.missing);
    }
    try {
      const epochError = leaderEpochError(p, r.currentLeaderEpoch);
      if (epochError) {
        hasError = true;
        return failure(epochError, p);
      }
      const highWatermark = p.highWatermark;
      const lastStableOffset = p.lastStableOffset;
      const read = p.log.read(
        r.fetchOffset,
        Math.min(r.partitionMaxBytes, remaining),
        bytes === 0,
        readCommitted ? lastStableOffset : highWatermark,
      );
      if ('error' in read) {
        hasError = true;
        return failure(read.error, p);
      }
      const records = read.records;
      const size = records ? records.length : 0;
      bytes += size;
      remaining = Math.max(0, remaining - size);
      return {
        error: 'NONE',
        highWatermark,
        lastStableOffset,
        logStartOffset: p.logStartOffset,
        abortedTransactions: readCommitted ? abortedTransactions(p, r.fetchOffset, records) : null,
        records: records ?? Buffer.alloc(0),
      };
    } catch (err) {
      hasError = true;
      log.error(`Error processing fetch on partition ${p.topic}-${p.partition}`, err);
      return failure(partitionErrorOf(err).error);
    }
  });
  return { results, bytes, hasError };
}
