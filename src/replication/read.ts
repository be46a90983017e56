/**
 * The read half of Kafka's ReplicaManager.fetchMessages (readFromLocalLog): each requested
 * partition is read from its log up to the high watermark (read_uncommitted) or the last stable
 * offset (read_committed, with the aborted transactions overlapping what is returned, from the
 * segments' `.txnindex`). A follower's fetch (replica id >= 0) reads up to the log end offset and
 * reports the follower's position to the partition (Partition.updateFollowerFetchState), which may
 * move the high watermark and the ISR. Only the leader serves either (NOT_LEADER_OR_FOLLOWER),
 * except that a consumer sending its client metadata (Fetch v11+) may read a follower up to the
 * follower's high watermark, and is pointed at one by `replica.selector.class` (KIP-392,
 * replica-selector.ts). `maxBytes` bounds the whole read and `partitionMaxBytes` each
 * partition, except that the first partition with data always returns at least one whole batch
 * (KIP-74). Records are slices of the segment files, never decoded or copied.
 */
import type { ErrorName } from '../protocol/generated/errors.js';
import { iterateBatches } from '../protocol/record-batch.js';
import { FileRegion, type Records } from '../storage/file-region.js';
import type { Partition } from './partition.js';
import { partitionErrorOf } from './partition-error.js';
import { preferredReadReplica, type ReplicaSelector } from './replica-selector.js';

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
  /** A follower's log start offset (Fetch v5+); -1 or undefined from consumers. */
  readonly logStartOffset?: number | undefined;
}

export interface FetchPartitionResult {
  readonly error: ErrorName;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /** null under read_uncommitted. */
  readonly abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  /** A range of a segment file when the fetch asked for one (FetchParams.dup). */
  readonly records: Records | null;
  /** The replica the consumer should fetch this partition from instead (KIP-392); -1 or absent: none. */
  readonly preferredReadReplica?: number;
}

export interface FetchParams {
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly isolationLevel: number;
  /** The fetching follower's broker id (Fetch replica_id, or ReplicaState in v15+); -1 or undefined: a consumer. */
  readonly replicaId?: number | undefined;
  /** The follower's broker epoch (Fetch v15+ ReplicaState.replica_epoch); -1 or undefined: not given. */
  readonly replicaEpoch?: number | undefined;
  /**
   * A consumer's `client.rack` (Fetch v11+: Kafka's ClientMetadata; '' when it sets none); such a
   * consumer may read from a follower. Undefined before v11: only the leader serves it.
   */
  readonly clientRackId?: string | undefined;
  /**
   * Given, records come as ranges of the segment files (FileRegion, holding a descriptor from `dup`)
   * for the connection to send with sendfile(2); the response's writer must release them.
   */
  readonly dup?: ((fd: number) => number) | undefined;
}

/** Whether the fetch comes from a follower replica (Kafka's FetchParams.isFromFollower). */
export function isFromFollower(params: FetchParams): boolean {
  return params.replicaId !== undefined && params.replicaId >= 0;
}

export interface ReadLog {
  error(message: string, err?: unknown): void;
}

/**
 * Checks a client's `currentLeaderEpoch` (-1 = not given) against ours, then that this broker leads
 * the partition (when `requireLeader`, the default).
 */
export function leaderEpochError(
  partition: Partition,
  currentLeaderEpoch: number | undefined,
  requireLeader = true,
): ErrorName | null {
  return partition.checkLeaderEpochAndLeadership(currentLeaderEpoch, requireLeader);
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
function abortedTransactions(p: Partition, fetchOffset: number, records: Records | null) {
  if (!records || records.length === 0) return [];
  let upperBoundOffset = fetchOffset;
  if (records instanceof FileRegion) upperBoundOffset = records.lastOffset + 1;
  else for (const b of iterateBatches(records)) upperBoundOffset = b.lastOffset + 1;
  return p.log
    .collectAbortedTransactions(fetchOffset, upperBoundOffset)
    .map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
}

export interface LocalRead {
  readonly results: FetchPartitionResult[];
  /** Record bytes read in all. */
  readonly bytes: number;
  readonly hasError: boolean;
  /** A partition was answered with a preferred read replica: the fetch is answered at once. */
  readonly hasPreferredReadReplica: boolean;
}

/** Where consumers are pointed (KIP-392): the configured selector and the live brokers' racks. */
export interface ReadReplicaSelection {
  readonly selector: ReplicaSelector;
  /** A live broker's rack (null: none); undefined for a broker not registered or fenced. */
  readonly rackOf: (brokerId: number) => string | null | undefined;
}

/** The partitions this broker hosts, looked up again at every read (a topic may be deleted while a fetch waits). */
export type PartitionLookup = (topic: string, partition: number) => Partition | undefined;

export function readFromLocalLog(
  params: FetchParams,
  requests: readonly FetchPartitionRequest[],
  lookup: PartitionLookup,
  log: ReadLog,
  /** The broker's clock now: when a follower's fetch happened. */
  nowMs = 0,
  selection?: ReadReplicaSelection,
): LocalRead {
  const fromFollower = isFromFollower(params);
  const replicaId = params.replicaId ?? -1;
  const readCommitted = !fromFollower && params.isolationLevel === READ_COMMITTED;
  // Kafka's FetchParams.fetchOnlyLeader: a consumer that sent its client metadata may read a follower.
  const fetchOnlyLeader = fromFollower || params.clientRackId === undefined;
  const clientRackId = fromFollower ? undefined : params.clientRackId;
  let remaining = params.maxBytes;
  let bytes = 0;
  let hasError = false;
  let hasPreferredReadReplica = false;
  const results = requests.map((r): FetchPartitionResult => {
    const p = r.topic === undefined ? undefined : lookup(r.topic, r.partition);
    if (!p) {
      hasError = true;
      return failure(r.missing);
    }
    try {
      const epochError =
        leaderEpochError(p, r.currentLeaderEpoch, fetchOnlyLeader) ??
        // Kafka: "Received fetch request from follower X which is not a known replica".
        (fromFollower && p.followerState(replicaId) === undefined ? 'NOT_LEADER_OR_FOLLOWER' : null);
      if (epochError) {
        hasError = true;
        return failure(epochError, p);
      }
      if (selection !== undefined && clientRackId !== undefined && p.isLeader) {
        const preferred = preferredReadReplica(
          p,
          selection.selector,
          clientRackId,
          r.fetchOffset,
          selection.rackOf,
          nowMs,
        );
        if (preferred >= 0) {
          // Not read here: the consumer is pointed at the replica, with the leader's offsets.
          hasPreferredReadReplica = true;
          return {
            error: 'NONE',
            highWatermark: p.highWatermark,
            lastStableOffset: p.lastStableOffset,
            logStartOffset: p.logStartOffset,
            abortedTransactions: readCommitted ? [] : null,
            records: Buffer.alloc(0),
            preferredReadReplica: preferred,
          };
        }
      }
      const leaderEndOffset = p.logEndOffset;
      const read = p.log.read(
        r.fetchOffset,
        Math.min(r.partitionMaxBytes, remaining),
        bytes === 0,
        fromFollower ? undefined : readCommitted ? p.lastStableOffset : p.highWatermark,
        params.dup,
      );
      if ('error' in read) {
        hasError = true;
        return failure(read.error, p);
      }
      if (fromFollower) {
        p.updateFollowerFetchState(
          replicaId,
          r.fetchOffset,
          r.logStartOffset ?? -1,
          nowMs,
          leaderEndOffset,
          params.replicaEpoch ?? -1,
        );
      }
      // After the follower's report, which may have moved them.
      const highWatermark = p.highWatermark;
      const lastStableOffset = p.lastStableOffset;
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
  return { results, bytes, hasError, hasPreferredReadReplica };
}
