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
 * Authorization: READ on each topic (a follower's fetch: CLUSTER_ACTION), else the topic's
 * partitions answer TOPIC_AUTHORIZATION_FAILED without being read.
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
import { allowsAll, authorizeCluster, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';

/** From this version on, Fetch names topics by id (KIP-516). */
const TOPIC_ID_VERSION = 13;

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
    // Authorization (KafkaApis.handleFetchRequest): a follower's fetch needs CLUSTER_ACTION, a
    // consumer's READ on each topic; denied partitions are TOPIC_AUTHORIZATION_FAILED, unread.
    // Null when no authorizer is configured: the hot path skips every check.
    let readable: ((topic: string) => boolean) | null = null;
    if (!allowsAll(ctx)) {
      const replicaId = req.replicaState?.replicaId ?? req.replicaId ?? -1;
      if (replicaId >= 0) {
        const allowed = authorizeCluster(ctx, 'CLUSTER_ACTION');
        readable = () => allowed;
      } else {
        const names = req.topics.map(
          (t) => (byId ? ctx.metadata.topicById(t.topicId ?? '')?.name : t.topic) ?? '',
        );
        const allowed = filterAuthorized(ctx, 'READ', 'TOPIC', names, (n) => n);
        readable = (topic) => allowed.has(topic);
      }
    }
    const topics = req.topics.map((t) => {
      let name = byId ? ctx.metadata.topicById(t.topicId ?? '')?.name : (t.topic ?? '');
      let missing: ErrorName = name === undefined ? 'UNKNOWN_TOPIC_ID' : 'UNKNOWN_TOPIC_OR_PARTITION';
      if (readable !== null && name !== undefined && !readable(name)) {
        name = undefined;
        missing = 'TOPIC_AUTHORIZATION_FAILED';
      }
      for (const fp of t.partitions) {
        requests.push({
          topic: name,
          partition: fp.partition,
          missing,
          fetchOffset: fp.fetchOffset,
          partitionMaxBytes: fp.partitionMaxBytes,
          currentLeaderEpoch: fp.currentLeaderEpoch,
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
