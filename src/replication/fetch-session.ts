/**
 * Incremental fetch sessions (KIP-227), as Kafka's FetchManager / FetchSessionCache.
 *
 * A fetcher's request carries a session id and epoch:
 * - id 0, epoch -1: a sessionless full fetch (every partition named, every partition answered);
 * - epoch 0: a full fetch asking for a new session (an id ≠ 0 closes that session first); the
 *   answer carries the new session's id, or 0 when the cache has no room for it;
 * - id X, epoch -1: closes session X, then a sessionless full fetch;
 * - id X, epoch N > 0: an incremental fetch of session X. It names only the partitions that are
 *   new or whose fetch position changed, and `forgotten topics` those to drop; every other
 *   partition of the session is read from what the session remembers. The answer leaves out the
 *   partitions with nothing new: no records, the same high watermark and log start offset, no
 *   error. Partitions that returned records move to the end of the session's order, so the next
 *   reads start elsewhere (fairness under `maxBytes`). An unknown id answers
 *   FETCH_SESSION_ID_NOT_FOUND, an epoch other than the session's next one
 *   INVALID_FETCH_SESSION_EPOCH, a session created with topic names used by a v13+ request (topic
 *   ids) or the other way round FETCH_SESSION_TOPIC_ID_ERROR. A session left with no partition
 *   is closed and the request served sessionless.
 *
 * The cache holds at most `max.incremental.fetch.session.cache.slots` sessions. When it is full, a
 * new session may evict (Kafka's FetchSessionCacheShard.tryEvict): the least recently used
 * session if it has not been used for 120 s (Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS),
 * else the "smallest" evictable session — ordered by (privileged, partition count, id) — when the
 * new one sorts after it (more partitions, or privileged against unprivileged). Sessions of followers are privileged; a session becomes evictable by
 * anyone once it is older than 120 s, and by a follower's new session from the start when it is a
 * consumer's. Kafka splits the slots over 8 shards for lock contention; one event loop has none,
 * so here there is one cache of all the slots.
 *
 * Only fetch positions and the last answered high watermark / log start offset are kept per
 * partition; records stay bytes on the read path. Unlike Kafka, a session keeps at most
 * MAX_UNKNOWN_PARTITIONS_PER_SESSION partitions this broker does not have, so made-up topic names
 * or ids cannot grow it without end.
 */
import type { ErrorName } from '../protocol/generated/errors.js';
import type { FetchPartitionRequest } from './read.js';

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
/** Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS. */
export const FETCH_SESSION_EVICTION_MS = 120_000;
const INT32_MAX = 2147483647;
/**
 * Most partitions this broker does not have that one session keeps (answered as errors every
 * time). Kafka keeps them all, so a client naming made-up topics could grow a session without
 * end; the partitions of real topics are bounded by the topics themselves.
 */
export const MAX_UNKNOWN_PARTITIONS_PER_SESSION = 1000;

/** Kafka's FetchMetadata.nextEpoch. */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch === INT32_MAX ? 1 : epoch + 1;
}

/** What a fetch request says about one partition. */
export interface SessionPartitionRequest {
  /** The topic's name; undefined when the request named a topic id this broker does not know. */
  readonly topic: string | undefined;
  /** The topic id (v13+), or the zero id when the request names topics. */
  readonly topicId: string;
  readonly partition: number;
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
  readonly currentLeaderEpoch: number;
  /** The follower's log start offset (-1 from consumers). */
  readonly logStartOffset: number;
  readonly lastFetchedEpoch: number;
}

/** What a fetch answered for one partition, as far as a session cares. */
export interface SessionPartitionResult {
  readonly error: ErrorName;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Only its size matters here (bytes, or a range of a segment file). */
  readonly records: { readonly length: number } | null;
}

/**
 * One partition of a session: the request parameters a later incremental fetch reuses, and the
 * high watermark / log start offset last answered. It is also the read's request, as is.
 */
export class CachedPartition implements FetchPartitionRequest {
  topic: string | undefined;
  readonly topicId: string;
  readonly partition: number;
  partitionMaxBytes: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  logStartOffset: number;
  lastFetchedEpoch: number;
  /** The high watermark last answered; -1 after an error, so the partition is answered again. */
  highWatermark = -1;
  /** This broker's log start offset last answered. */
  localLogStartOffset = -1;

  constructor(req: SessionPartitionRequest) {
    this.topic = req.topic;
    this.topicId = req.topicId;
    this.partition = req.partition;
    this.partitionMaxBytes = req.partitionMaxBytes;
    this.fetchOffset = req.fetchOffset;
    this.currentLeaderEpoch = req.currentLeaderEpoch;
    this.logStartOffset = req.logStartOffset;
    this.lastFetchedEpoch = req.lastFetchedEpoch;
  }

  get missing(): ErrorName {
    return this.topic === undefined ? 'UNKNOWN_TOPIC_ID' : 'UNKNOWN_TOPIC_OR_PARTITION';
  }

  updateRequestParams(req: SessionPartitionRequest): void {
    this.partitionMaxBytes = req.partitionMaxBytes;
    this.fetchOffset = req.fetchOffset;
    this.currentLeaderEpoch = req.currentLeaderEpoch;
    this.logStartOffset = req.logStartOffset;
    this.lastFetchedEpoch = req.lastFetchedEpoch;
  }

  /**
   * Whether the answer must include this partition (Kafka's maybeUpdateResponseData): records,
   * a changed high watermark or log start offset, or an error. `update` records what was answered.
   */
  mustRespond(r: SessionPartitionResult, update: boolean): boolean {
    let must = r.records !== null && r.records.length > 0;
    if (this.highWatermark !== r.highWatermark) {
      must = true;
      if (update) this.highWatermark = r.highWatermark;
    }
    if (this.localLogStartOffset !== r.logStartOffset) {
      must = true;
      if (update) this.localLogStartOffset = r.logStartOffset;
    }
    if (r.error !== 'NONE') {
      if (update) this.highWatermark = -1;
      must = true;
    }
    return must;
  }
}

/** The key of a partition in a session: by topic id when the session uses ids, else by name. */
function partitionKey(
  usesTopicIds: boolean,
  p: { topic: string | undefined; topicId: string; partition: number },
) {
  return `${p.partition}:${usesTopicIds ? p.topicId : p.topic}`;
}

export class FetchSession {
  /** The epoch the next incremental request must carry. */
  epoch: number;
  lastUsedMs: number;
  /** Partition count when last touched (Kafka's cachedSize), -1 before. */
  cachedSize = -1;
  evictableByAll = false;
  evictableByPrivileged = false;
  /** The session's partitions in their order (a Map keeps insertion order; moving = delete + set). */
  readonly partitions = new Map<string, CachedPartition>();

  constructor(
    readonly id: number,
    readonly privileged: boolean,
    readonly usesTopicIds: boolean,
    readonly creationMs: number,
  ) {
    this.lastUsedMs = creationMs;
    this.epoch = nextEpoch(INITIAL_EPOCH);
  }

  get size(): number {
    return this.partitions.size;
  }

  add(p: CachedPartition): void {
    this.partitions.set(partitionKey(this.usesTopicIds, p), p);
  }

  /** Applies an incremental request: new partitions added, known ones updated, forgotten ones removed. */
  update(partitions: readonly SessionPartitionRequest[], forgotten: readonly ForgottenPartition[]): void {
    for (const req of partitions) {
      const key = partitionKey(this.usesTopicIds, req);
      const cached = this.partitions.get(key);
      if (cached) cached.updateRequestParams(req);
      else this.partitions.set(key, new CachedPartition(req));
    }
    for (const f of forgotten) this.partitions.delete(partitionKey(this.usesTopicIds, f));
  }

  /** Drops a partition from the session (over the unknown-partition bound). */
  forget(p: CachedPartition): void {
    this.partitions.delete(partitionKey(this.usesTopicIds, p));
  }

  /** Moves a partition that returned records to the end of the session's order. */
  moveToEnd(p: CachedPartition): void {
    const key = partitionKey(this.usesTopicIds, p);
    this.partitions.delete(key);
    this.partitions.set(key, p);
  }
}

export interface ForgottenPartition {
  readonly topic: string | undefined;
  readonly topicId: string;
  readonly partition: number;
}

export interface FetchSessionRequest {
  readonly version: number;
  readonly sessionId: number;
  readonly epoch: number;
  /** A follower's fetch (replica id ≥ 0): its sessions are privileged. */
  readonly isFollower: boolean;
  readonly partitions: readonly SessionPartitionRequest[];
  readonly forgotten: readonly ForgottenPartition[];
  /** The name of a topic id, for partitions a session holds by an id unknown when added. */
  resolveTopic(topicId: string): string | undefined;
}

/** From this version on, Fetch names topics by id, and so do the sessions it creates. */
const TOPIC_ID_VERSION = 13;

export type FetchContext =
  | { readonly kind: 'error'; readonly error: ErrorName }
  /** Full fetch, no session (epoch -1, a v4–6 request, or a session left empty). */
  | { readonly kind: 'sessionless' }
  /** Full fetch; `createSession` afterwards tries to cache it. */
  | { readonly kind: 'full'; readonly privileged: boolean; readonly usesTopicIds: boolean }
  | {
      readonly kind: 'incremental';
      readonly session: FetchSession;
      /** The epoch the request carried. */
      readonly requestEpoch: number;
      /** The session's partitions in order when the request came: what to read. */
      readonly partitions: readonly CachedPartition[];
    };

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private numPartitions = 0;
  /** Sessions evicted to make room (Kafka's IncrementalFetchSessionEvictionsPerSec, as a count). */
  evictions = 0;
  /** Fetch requests that were incremental fetches of a cached session. */
  incrementalFetches = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly evictionMs = FETCH_SESSION_EVICTION_MS,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Partitions cached over all sessions (Kafka's NumIncrementalFetchPartitionsCached). */
  get totalPartitions(): number {
    return this.numPartitions;
  }

  get(sessionId: number): FetchSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** Kafka's FetchManager.newContext: what this request is, and for an incremental one its session. */
  newContext(req: FetchSessionRequest, now: number): FetchContext {
    const usesTopicIds = req.version >= TOPIC_ID_VERSION;
    if (req.epoch === INITIAL_EPOCH || req.epoch === FINAL_EPOCH) {
      // Any session named by a full fetch is closed.
      if (req.sessionId !== INVALID_SESSION_ID) this.remove(req.sessionId);
      if (req.epoch === FINAL_EPOCH) return { kind: 'sessionless' };
      return { kind: 'full', privileged: req.isFollower, usesTopicIds };
    }
    const session = this.sessions.get(req.sessionId);
    if (!session) return { kind: 'error', error: 'FETCH_SESSION_ID_NOT_FOUND' };
    if (session.epoch !== req.epoch) return { kind: 'error', error: 'INVALID_FETCH_SESSION_EPOCH' };
    if (session.usesTopicIds !== usesTopicIds)
      return { kind: 'error', error: 'FETCH_SESSION_TOPIC_ID_ERROR' };
    session.update(req.partitions, req.forgotten);
    if (session.size === 0) {
      this.remove(session.id);
      return { kind: 'sessionless' };
    }
    this.touch(session, now);
    session.epoch = nextEpoch(session.epoch);
    this.incrementalFetches++;
    const partitions = [...session.partitions.values()];
    if (session.usesTopicIds) {
      for (const p of partitions) if (p.topic === undefined) p.topic = req.resolveTopic(p.topicId);
    }
    return { kind: 'incremental', session, requestEpoch: req.epoch, partitions };
  }

  /**
   * After a full fetch: caches its partitions with what was answered, when there is room (or an
   * eviction makes some). Returns the new session's id, or 0.
   */
  createSession(
    context: FetchContext & { kind: 'full' },
    partitions: readonly SessionPartitionRequest[],
    results: readonly SessionPartitionResult[],
    now: number,
  ): number {
    const size = partitions.length;
    if (this.sessions.size >= this.maxEntries && !this.tryEvict(context.privileged, size, now)) {
      return INVALID_SESSION_ID;
    }
    const session = new FetchSession(this.newSessionId(), context.privileged, context.usesTopicIds, now);
    let unknown = 0;
    for (let i = 0; i < size; i++) {
      const r = results[i]!;
      if (isUnknown(r) && ++unknown > MAX_UNKNOWN_PARTITIONS_PER_SESSION) continue;
      const cached = new CachedPartition(partitions[i]!);
      cached.highWatermark = r.highWatermark;
      cached.localLogStartOffset = r.logStartOffset;
      session.add(cached);
    }
    this.sessions.set(session.id, session);
    this.touch(session, now);
    return session.id;
  }

  /**
   * After an incremental fetch: which of `context.partitions` the answer includes (updating what
   * the session remembers), or null when the session moved on meanwhile (a duplicate request),
   * which Kafka answers INVALID_FETCH_SESSION_EPOCH.
   */
  completeIncremental(
    context: FetchContext & { kind: 'incremental' },
    results: readonly SessionPartitionResult[],
  ): boolean[] | null {
    const { session } = context;
    if (session.epoch !== nextEpoch(context.requestEpoch)) return null;
    const include = new Array<boolean>(results.length);
    let unknown = 0;
    for (let i = 0; i < results.length; i++) {
      const p = context.partitions[i]!;
      const r = results[i]!;
      include[i] = p.mustRespond(r, true);
      if (include[i] && r.records !== null && r.records.length > 0) session.moveToEnd(p);
      if (isUnknown(r) && ++unknown > MAX_UNKNOWN_PARTITIONS_PER_SESSION) session.forget(p);
    }
    // The partition count changed: touch again at the time of this request.
    if (unknown > MAX_UNKNOWN_PARTITIONS_PER_SESSION) this.touch(session, session.lastUsedMs);
    return include;
  }

  /**
   * Which of `context.partitions` an incremental fetch's answer would include, the session left as
   * it is (Kafka's PartitionIterator without updates, for getResponseSize); null when the session
   * moved on meanwhile.
   */
  previewIncremental(
    context: FetchContext & { kind: 'incremental' },
    results: readonly SessionPartitionResult[],
  ): boolean[] | null {
    if (context.session.epoch !== nextEpoch(context.requestEpoch)) return null;
    const include = new Array<boolean>(results.length);
    for (let i = 0; i < results.length; i++)
      include[i] = context.partitions[i]!.mustRespond(results[i]!, false);
    return include;
  }

  remove(sessionId: number): FetchSession | undefined {
    const session = this.sessions.get(sessionId);
    if (!session) return undefined;
    this.sessions.delete(sessionId);
    if (session.cachedSize > 0) this.numPartitions -= session.cachedSize;
    return session;
  }

  /** Kafka's touch: last use, partition count and evictability as of now. */
  private touch(session: FetchSession, now: number): void {
    session.lastUsedMs = now;
    if (session.cachedSize !== -1) this.numPartitions -= session.cachedSize;
    session.cachedSize = session.size;
    this.numPartitions += session.cachedSize;
    const old = now - session.creationMs > this.evictionMs;
    session.evictableByPrivileged = !session.privileged || old;
    session.evictableByAll = old;
  }

  /**
   * Kafka's tryEvict: the least recently used session if stale; else the first evictable one
   * (by privileged, size, id) unless the new session would sort before it.
   */
  private tryEvict(privileged: boolean, size: number, now: number): boolean {
    let lru: FetchSession | undefined;
    let victim: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      if (!lru || s.lastUsedMs < lru.lastUsedMs || (s.lastUsedMs === lru.lastUsedMs && s.id < lru.id))
        lru = s;
      if (privileged ? s.evictableByPrivileged : s.evictableByAll) {
        if (!victim || compareEvictable(s, victim) < 0) victim = s;
      }
    }
    if (!lru) return false;
    if (now - lru.lastUsedMs > this.evictionMs) {
      this.remove(lru.id);
      this.evictions++;
      return true;
    }
    if (!victim) return false;
    // The new session's key has id 0: it sorts before an equal (privileged, size).
    const key = { privileged, cachedSize: size, id: 0 };
    if (compareEvictable(key, victim) < 0) return false;
    this.remove(victim.id);
    this.evictions++;
    return true;
  }

  /** A random positive id not in use (Kafka's newSessionId). */
  private newSessionId(): number {
    for (;;) {
      const id = 1 + Math.floor(this.random() * (INT32_MAX - 1));
      if (!this.sessions.has(id)) return id;
    }
  }
}

/** A partition this broker does not have (a topic or partition unknown here). */
function isUnknown(r: SessionPartitionResult): boolean {
  return r.error === 'UNKNOWN_TOPIC_OR_PARTITION' || r.error === 'UNKNOWN_TOPIC_ID';
}

/** Kafka's EvictableKey order: unprivileged first, then fewer partitions, then lower id. */
function compareEvictable(
  a: { privileged: boolean; cachedSize: number; id: number },
  b: { privileged: boolean; cachedSize: number; id: number },
): number {
  if (a.privileged !== b.privileged) return a.privileged ? 1 : -1;
  if (a.cachedSize !== b.cachedSize) return a.cachedSize - b.cachedSize;
  return a.id - b.id;
}
