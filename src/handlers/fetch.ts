/**
 * Fetch (key 1), v4–17.
 * v4 isolation level, last stable offset and aborted transactions; v5 log start offset;
 * v7 incremental fetch sessions (KIP-227, src/replication/fetch-session.ts): a full fetch with
 * epoch 0 gets a session id when the cache has room; later requests name only what changed and
 * are answered only what changed; FETCH_SESSION_ID_NOT_FOUND / INVALID_FETCH_SESSION_EPOCH /
 * FETCH_SESSION_TOPIC_ID_ERROR answer a session the broker does not have, a wrong epoch, or
 * names mixed with ids;
 * v9 current leader epoch; v11 rack id and preferred read replica (-1); v12 flexible;
 * v13 topics named by their id (UNKNOWN_TOPIC_ID for an id this broker does not know; a session
 * keeps such a partition and resolves it when the topic appears);
 * v15 replica state (tagged; for followers); v16 current leader and node endpoints (tagged,
 * KIP-951: a partition answered NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carries its leader
 * and epoch, the response the leader's endpoint; current-leader.ts); v17 replica directory id
 * (followers).
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
 * Authorization: READ on each topic (a follower's fetch: CLUSTER_ACTION), else the topic's
 * partitions answer TOPIC_AUTHORIZATION_FAILED without being read.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  FetchRequest,
  type FetchRequestData,
  FetchResponse,
  type FetchResponseData,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from '../protocol/generated/messages.js';
import {
  type CachedPartition,
  FINAL_EPOCH,
  type ForgottenPartition,
  INVALID_SESSION_ID,
  type SessionPartitionRequest,
} from '../replication/fetch-session.js';
import {
  type FetchPartitionRequest,
  type FetchPartitionResult,
  READ_UNCOMMITTED,
} from '../replication/read.js';
import { releaseRegion } from '../storage/file-region.js';
import { allowsAll, authorize, authorizeCluster, filterAuthorized } from './authz.js';
import { CurrentLeaders } from './current-leader.js';
import { defineHandler } from './handler.js';

/** From this version on, Fetch carries the consumer's rack (KIP-392). */
const CLIENT_METADATA_VERSION = 11;
/** From this version on, NOT_LEADER_OR_FOLLOWER and FENCED_LEADER_EPOCH carry the current leader (KIP-951). */
const CURRENT_LEADER_VERSION = 16;
/** From this version on, Fetch names topics by id (KIP-516). */
const TOPIC_ID_VERSION = 13;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A request's partition, named as the request named it, and readable as it is. */
class RequestedPartition implements SessionPartitionRequest, FetchPartitionRequest {
  constructor(
    readonly topic: string | undefined,
    readonly topicId: string,
    readonly partition: number,
    readonly fetchOffset: number,
    readonly partitionMaxBytes: number,
    readonly currentLeaderEpoch: number,
    readonly logStartOffset: number,
    readonly lastFetchedEpoch: number,
    private readonly absent: 'UNKNOWN_TOPIC_ID' | 'UNKNOWN_TOPIC_OR_PARTITION' | 'TOPIC_AUTHORIZATION_FAILED',
    /** The topic name the answer carries before v13 (kept when `topic` is withheld as denied). */
    readonly wireName: string,
    /** Whether the metadata has this partition now. */
    private readonly inMetadata: () => boolean = () => false,
  ) {}

  /**
   * The error of a partition not hosted here, when it is read: NOT_LEADER_OR_FOLLOWER for one the
   * metadata has (Kafka's getPartitionOrError), else why it is unknown.
   */
  get missing():
    | 'UNKNOWN_TOPIC_ID'
    | 'UNKNOWN_TOPIC_OR_PARTITION'
    | 'TOPIC_AUTHORIZATION_FAILED'
    | 'NOT_LEADER_OR_FOLLOWER' {
    return this.absent === 'UNKNOWN_TOPIC_OR_PARTITION' && this.inMetadata()
      ? 'NOT_LEADER_OR_FOLLOWER'
      : this.absent;
  }

  /** A session's cached partition whose topic the principal may no longer read: answered denied, unread. */
  static denied(p: CachedPartition): RequestedPartition {
    return new RequestedPartition(
      undefined,
      p.topicId,
      p.partition,
      p.fetchOffset,
      p.partitionMaxBytes,
      p.currentLeaderEpoch,
      p.logStartOffset,
      p.lastFetchedEpoch,
      'TOPIC_AUTHORIZATION_FAILED',
      p.topic ?? '',
    );
  }
}

export const fetchHandler = defineHandler<FetchRequestData, FetchResponseData>({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 17,
  request: FetchRequest,
  response: FetchResponse,
  async handle(ctx, req) {
    const byId = ctx.apiVersion >= TOPIC_ID_VERSION;
    const nameOf = (topicId: string) => ctx.metadata.topicById(topicId)?.name;
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
        const names = req.topics.map((t) => (byId ? nameOf(t.topicId ?? ZERO_UUID) : t.topic) ?? '');
        const allowed = filterAuthorized(ctx, 'READ', 'TOPIC', names, (n) => n);
        // Topics already in an incremental session are authorized again on every fetch, as Kafka
        // authorizes the whole fetch context: an ACL removed since is seen at the next fetch.
        const decided = new Map<string, boolean>();
        readable = (topic) => {
          if (allowed.has(topic)) return true;
          let ok = decided.get(topic);
          if (ok === undefined) {
            ok = !names.includes(topic) && authorize(ctx, 'READ', 'TOPIC', topic);
            decided.set(topic, ok);
          }
          return ok;
        };
      }
    }
    const requested: RequestedPartition[] = [];
    for (const t of req.topics) {
      const topicId = byId ? (t.topicId ?? ZERO_UUID) : ZERO_UUID;
      let name = byId ? nameOf(topicId) : (t.topic ?? '');
      let missing: RequestedPartition['missing'] =
        name === undefined ? 'UNKNOWN_TOPIC_ID' : 'UNKNOWN_TOPIC_OR_PARTITION';
      if (readable !== null && name !== undefined && !readable(name)) {
        name = undefined;
        missing = 'TOPIC_AUTHORIZATION_FAILED';
      }
      for (const fp of t.partitions) {
        requested.push(
          new RequestedPartition(
            name,
            topicId,
            fp.partition,
            fp.fetchOffset,
            fp.partitionMaxBytes,
            fp.currentLeaderEpoch ?? -1,
            fp.logStartOffset ?? -1,
            fp.lastFetchedEpoch ?? -1,
            missing,
            t.topic ?? '',
            () => name !== undefined && ctx.metadata.topic(name)?.partitions[fp.partition] !== undefined,
          ),
        );
      }
    }
    const forgotten: ForgottenPartition[] = [];
    for (const t of req.forgottenTopicsData ?? []) {
      const topicId = byId ? (t.topicId ?? ZERO_UUID) : ZERO_UUID;
      const topic = byId ? undefined : (t.topic ?? '');
      for (const partition of t.partitions) forgotten.push({ topic, topicId, partition });
    }
    const replicaId = req.replicaState?.replicaId ?? req.replicaId ?? -1;
    const sessions = ctx.fetchSessions;
    const context = sessions.newContext(
      {
        version: ctx.apiVersion,
        sessionId: req.sessionId ?? INVALID_SESSION_ID,
        epoch: req.sessionEpoch ?? FINAL_EPOCH,
        isFollower: replicaId >= 0,
        partitions: requested,
        forgotten,
        resolveTopic: nameOf,
      },
      ctx.time.now(),
    );
    if (context.kind === 'error') {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode[context.error],
        sessionId: INVALID_SESSION_ID,
        responses: [],
      };
    }
    let reading: readonly (RequestedPartition | CachedPartition)[] =
      context.kind === 'incremental' ? context.partitions : requested;
    if (readable !== null && context.kind === 'incremental') {
      const canRead = readable;
      reading = reading.map((p) =>
        !(p instanceof RequestedPartition) && p.topic !== undefined && !canRead(p.topic)
          ? RequestedPartition.denied(p)
          : p,
      );
    }
    const results = await ctx.replicas.fetchMessages(
      {
        maxWaitMs: req.maxWaitMs,
        minBytes: req.minBytes,
        maxBytes: req.maxBytes ?? Number.MAX_SAFE_INTEGER,
        isolationLevel: req.isolationLevel ?? READ_UNCOMMITTED,
        // A follower (replica_id before v15, ReplicaState from v15, KIP-903) reads to the log end
        // and reports its fetch offset and log start offset to the leader's partition.
        replicaId,
        replicaEpoch: req.replicaState?.replicaEpoch ?? -1,
        // Kafka's ClientMetadata (v11+): such a consumer may read from a follower (KIP-392).
        clientRackId: ctx.apiVersion >= CLIENT_METADATA_VERSION ? (req.rackId ?? '') : undefined,
        // The connection sends file ranges itself (sendfile): records stay in their segment files.
        dup: ctx.dup,
      },
      reading,
      ctx.signal,
    );
    if (ctx.fetchThrottle) {
      // Client quotas see the size of the answer before the session moves (Kafka's getResponseSize);
      // a throttled fetch answers empty and leaves the session as it was (getThrottledResponse).
      const preview = context.kind === 'incremental' ? sessions.previewIncremental(context, results) : null;
      const throttleTimeMs = ctx.fetchThrottle(
        context.kind === 'incremental' && preview === null ? 0 : responseBytes(results, preview),
      );
      if (throttleTimeMs > 0) {
        for (const r of results) releaseRegion(r.records);
        const incremental = context.kind === 'incremental';
        return {
          throttleTimeMs,
          errorCode: incremental && preview === null ? ErrorCode.INVALID_FETCH_SESSION_EPOCH : ErrorCode.NONE,
          sessionId: incremental ? context.session.id : INVALID_SESSION_ID,
          responses: [],
        };
      }
    }
    let sessionId = INVALID_SESSION_ID;
    let include: boolean[] | null = null;
    if (context.kind === 'full') {
      sessionId = sessions.createSession(context, requested, results, ctx.time.now());
      if (sessionId !== INVALID_SESSION_ID) {
        ctx.log.debug('created fetch session', {
          sessionId,
          partitions: requested.length,
          client: ctx.clientId,
        });
      }
    } else if (context.kind === 'incremental') {
      sessionId = context.session.id;
      include = sessions.completeIncremental(context, results);
      if (include === null) {
        for (const r of results) releaseRegion(r.records);
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
          sessionId,
          responses: [],
        };
      }
    }
    const responses = group(reading, results, include, byId);
    let leaders: CurrentLeaders | undefined;
    if (ctx.apiVersion >= CURRENT_LEADER_VERSION) {
      for (const t of responses) {
        for (const p of t.partitions) {
          if (
            p.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER &&
            p.errorCode !== ErrorCode.FENCED_LEADER_EPOCH
          )
            continue;
          const name = byId ? nameOf(t.topicId!) : t.topic;
          if (name === undefined) continue;
          leaders ??= new CurrentLeaders(ctx);
          p.currentLeader = leaders.of(name, p.partitionIndex);
        }
      }
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId,
      responses,
      ...(leaders ? { nodeEndpoints: leaders.nodeEndpoints } : {}),
    };
  },
});

/** A partition's fields around its records in a Fetch response (id or name, offsets, lengths). */
const PARTITION_OVERHEAD_BYTES = 60;

/** About the size of the answer's partitions (`include`: those an incremental answer carries). */
export function responseBytes(
  results: readonly { readonly records: { readonly length: number } | null }[],
  include: readonly boolean[] | null = null,
): number {
  let bytes = 0;
  for (let i = 0; i < results.length; i++) {
    if (include !== null && !include[i]) continue;
    bytes += PARTITION_OVERHEAD_BYTES + (results[i]!.records?.length ?? 0);
  }
  return bytes;
}

/**
 * The answer's topics: consecutive partitions of one topic under one entry, as Kafka's
 * FetchResponse.of; `include` (incremental fetches) leaves out partitions with nothing new.
 */
function group(
  reading: readonly (RequestedPartition | CachedPartition)[],
  results: readonly FetchPartitionResult[],
  include: readonly boolean[] | null,
  byId: boolean,
): FetchResponseFetchableTopicResponse[] {
  const topics: FetchResponseFetchableTopicResponse[] = [];
  let current: FetchResponseFetchableTopicResponse | undefined;
  let currentKey: string | undefined;
  for (let i = 0; i < reading.length; i++) {
    if (include !== null && !include[i]) continue;
    const p = reading[i]!;
    const r = results[i]!;
    const key = byId ? p.topicId : p instanceof RequestedPartition ? p.wireName : (p.topic ?? '');
    if (current === undefined || key !== currentKey) {
      current = byId ? { topicId: key, partitions: [] } : { topic: key, partitions: [] };
      currentKey = key;
      topics.push(current);
    }
    current.partitions.push({
      partitionIndex: p.partition,
      errorCode: ErrorCode[r.error],
      highWatermark: r.highWatermark,
      lastStableOffset: r.lastStableOffset,
      logStartOffset: r.logStartOffset,
      abortedTransactions: r.abortedTransactions,
      preferredReadReplica: r.preferredReadReplica ?? -1,
      records: r.records,
    } satisfies FetchResponsePartitionData);
  }
  return topics;
}
