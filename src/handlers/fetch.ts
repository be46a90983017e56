/**
 * Fetch (key 1), v4–17.
 * v4 isolation level, last stable offset and aborted transactions; v5 log start offset;
 * v7 fetch sessions (always answered with session id 0: sessionless, every request full);
 * v9 current leader epoch; v11 rack id and preferred read replica (-1); v12 flexible;
 * v13 topics named by their id (UNKNOWN_TOPIC_ID for an id this broker does not know);
 * v15 replica state (tagged; for followers); v16 node endpoints (tagged, only sent with
 * NOT_LEADER_OR_FOLLOWER: never on one node); v17 replica directory id (followers).
 *
 * A follower's fetch (replica_id >= 0 before v15, ReplicaState.replica_id from v15) reads up to the
 * log end offset, not the high watermark, whatever its isolation level, and reports the follower's
 * fetch offset and log start offset to the leader's partition (ISR and high watermark).
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
import { type FetchPartitionRequest, READ_UNCOMMITTED } from '../replication/read.js';
import { defineHandler } from './handler.js';

/** From this version on, Fetch names topics by id (KIP-516). */
const TOPIC_ID_VERSION = 13;
/** From this version on, a follower names itself in ReplicaState instead of replica_id (KIP-903). */
const REPLICA_STATE_VERSION = 15;

export const fetchHandler = defineHandler<FetchRequestData, FetchResponseData>({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 17,
  request: FetchRequest,
  response: FetchResponse,
  async handle(ctx, req) {
    const byId = ctx.apiVersion >= TOPIC_ID_VERSION;
    const requests: FetchPartitionRequest[] = [];
    const topics = req.topics.map((t) => {
      const name = byId ? ctx.metadata.topicById(t.topicId ?? '')?.name : (t.topic ?? '');
      const missing: ErrorName = name === undefined ? 'UNKNOWN_TOPIC_ID' : 'UNKNOWN_TOPIC_OR_PARTITION';
      for (const fp of t.partitions) {
        requests.push({
          topic: name,
          partition: fp.partition,
          missing,
          fetchOffset: fp.fetchOffset,
          partitionMaxBytes: fp.partitionMaxBytes,
          currentLeaderEpoch: fp.currentLeaderEpoch,
          logStartOffset: fp.logStartOffset,
        });
      }
      return t;
    });
    const results = await ctx.replicas.fetchMessages(
      {
        maxWaitMs: req.maxWaitMs,
        minBytes: req.minBytes,
        maxBytes: req.maxBytes ?? Number.MAX_SAFE_INTEGER,
        isolationLevel: req.isolationLevel ?? READ_UNCOMMITTED,
        replicaId:
          ctx.apiVersion >= REPLICA_STATE_VERSION
            ? (req.replicaState?.replicaId ?? -1)
            : (req.replicaId ?? -1),
      },
      requests,
      ctx.signal,
    );
    let i = 0;
    const responses = topics.map((t) => ({
      ...(byId ? { topicId: t.topicId } : { topic: t.topic ?? '' }),
      partitions: t.partitions.map((fp): FetchResponsePartitionData => {
        const r = results[i++]!;
        return {
          partitionIndex: fp.partition,
          errorCode: ErrorCode[r.error],
          highWatermark: r.highWatermark,
          lastStableOffset: r.lastStableOffset,
          logStartOffset: r.logStartOffset,
          abortedTransactions: r.abortedTransactions,
          preferredReadReplica: -1,
          records: r.records,
        };
      }),
    }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
  },
});
