/**
 * Fetch (key 1), v4–17.
 * v4 isolation level, last stable offset and aborted transactions; v5 log start offset;
 * v7 fetch sessions (always answered with session id 0: sessionless, every request full);
 * v9 current leader epoch; v11 rack id and preferred read replica (-1); v12 flexible;
 * v13 topics named by their id (UNKNOWN_TOPIC_ID for an id this broker does not know);
 * v15 replica state (tagged; for followers); v16 node endpoints (tagged, only sent with
 * NOT_LEADER_OR_FOLLOWER: never on one node); v17 replica directory id (followers).
 *
 * Long poll: answered at once when `minBytes` is reached, any partition has an error, or
 * `maxWaitMs` is 0; otherwise the request waits in the fetch purgatory until an append to one
 * of its partitions, the timeout, or shutdown. `maxBytes` bounds the response and
 * `partitionMaxBytes` each partition, except that the first partition with data always returns
 * at least one whole batch (KIP-74). Records are slices of segment files, written with writev.
 * Every requested partition is in the response, with empty records when there is no data.
 *
 * isolation_level=1 (read_committed) reads only up to the last stable offset and lists the aborted
 * transactions (producer id, first offset) overlapping the returned batches, from the segments'
 * `.txnindex` files, so the consumer can drop aborted records; read_uncommitted reads up to the high
 * watermark and sends a null list.
 *
 * An unexpected failure reading one partition answers it UNKNOWN_SERVER_ERROR, or KAFKA_STORAGE_ERROR
 * for an I/O error, with unknown offsets (-1) as Kafka's ReplicaManager.readFromLocalLog; the other
 * partitions are served and, as for any partition error, the fetch answers without waiting.
 */
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import {
  FetchRequest,
  type FetchRequestData,
  FetchResponse,
  type FetchResponseData,
  type FetchResponsePartitionData,
} from '../protocol/generated/messages.js';
import { iterateBatches } from '../protocol/record-batch.js';
import type { Partition } from '../replication/partition.js';
import { defineHandler, type RequestContext } from '../server/handler.js';
import { unexpectedPartitionError } from '../replication/partition-error.js';

export const READ_COMMITTED = 1;

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

function partitionError(partitionIndex: number, error: ErrorName, p?: Partition): FetchResponsePartitionData {
  return {
    partitionIndex,
    errorCode: ErrorCode[error],
    highWatermark: p ? p.highWatermark : -1,
    lastStableOffset: p ? p.lastStableOffset : -1,
    logStartOffset: p ? p.logStartOffset : -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
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

interface Attempt {
  response: FetchResponseData;
  bytes: number;
  hasError: boolean;
  partitions: Partition[];
}

/** From this version on, Fetch names topics by id (KIP-516). */
const TOPIC_ID_VERSION = 13;

function readOnce(ctx: RequestContext, req: FetchRequestData): Attempt {
  const rm = ctx.broker.replicaManager;
  const byId = ctx.apiVersion >= TOPIC_ID_VERSION;
  const readCommitted = req.isolationLevel === READ_COMMITTED;
  let remaining = ctx.apiVersion >= 3 && req.maxBytes !== undefined ? req.maxBytes : Number.MAX_SAFE_INTEGER;
  let bytes = 0;
  let hasError = false;
  const partitions: Partition[] = [];
  const responses = req.topics.map((t) => {
    const name = byId ? rm.topicById(t.topicId ?? '')?.name : (t.topic ?? '');
    const missing: ErrorName = name === undefined ? 'UNKNOWN_TOPIC_ID' : 'UNKNOWN_TOPIC_OR_PARTITION';
    return {
      ...(byId ? { topicId: t.topicId } : { topic: t.topic ?? '' }),
      partitions: t.partitions.map((fp): FetchResponsePartitionData => {
        const p = name === undefined ? undefined : rm.getPartition(name, fp.partition);
        if (!p) {
          hasError = true;
          return partitionError(fp.partition, missing);
        }
        partitions.push(p);
        try {
          const epochError = leaderEpochError(p, fp.currentLeaderEpoch);
          if (epochError) {
            hasError = true;
            return partitionError(fp.partition, epochError, p);
          }
          const highWatermark = p.highWatermark;
          const lastStableOffset = p.lastStableOffset;
          const result = p.log.read(
            fp.fetchOffset,
            Math.min(fp.partitionMaxBytes, remaining),
            bytes === 0,
            readCommitted ? lastStableOffset : highWatermark,
          );
          if ('error' in result) {
            hasError = true;
            return partitionError(fp.partition, result.error, p);
          }
          const records = result.records;
          const aborted = readCommitted ? abortedTransactions(p, fp.fetchOffset, records) : null;
          const size = records ? records.length : 0;
          bytes += size;
          remaining = Math.max(0, remaining - size);
          if (size > 0) ctx.broker.metrics.fetched(p.topic, size);
          return {
            partitionIndex: fp.partition,
            errorCode: ErrorCode.NONE,
            highWatermark,
            lastStableOffset,
            logStartOffset: p.logStartOffset,
            abortedTransactions: aborted,
            preferredReadReplica: -1,
            records: records ?? Buffer.alloc(0),
          };
        } catch (err) {
          hasError = true;
          ctx.broker.log.error(`Error processing fetch on partition ${p.topic}-${p.partition}`, err);
          return partitionError(fp.partition, unexpectedPartitionError(err));
        }
      }),
    };
  });
  return {
    response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses },
    bytes,
    hasError,
    partitions,
  };
}

export const fetchHandler = defineHandler<FetchRequestData, FetchResponseData>({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 17,
  request: FetchRequest,
  response: FetchResponse,
  async handle(ctx, req) {
    const time = ctx.broker.time;
    const deadline = time.now() + Math.max(0, req.maxWaitMs);
    for (;;) {
      const attempt = readOnce(ctx, req);
      const waitMs = deadline - time.now();
      if (
        attempt.bytes >= req.minBytes ||
        attempt.hasError ||
        waitMs <= 0 ||
        attempt.partitions.length === 0
      ) {
        return attempt.response;
      }
      const appended = await ctx.broker.replicaManager.waitForAppend(attempt.partitions, waitMs, ctx.signal);
      if (!appended) return readOnce(ctx, req).response;
    }
  },
});
