/**
 * The share-partitions this broker leads and the ShareFetch / ShareAcknowledge work on them
 * (Kafka's SharePartitionManager): share sessions, acquiring records of a fetch, acknowledgements,
 * waiting for records to become acquirable, and the persistence of each share-partition's state
 * through a `ShareStatePersister` (the share coordinator on `__share_group_state`).
 *
 * A share-partition is made when a member first fetches it: its stored state if there is one
 * (acknowledged stays acknowledged, acquired comes back available), else its start offset from the
 * group's `share.auto.offset.reset` (latest = the high watermark, earliest = the log start).
 * It is dropped when its partition stops being led here or is deleted (the state stays stored).
 */
import type { Logger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import type { ErrorName } from '../protocol/generated/errors.js';
import { errorOf, KafkaError } from '../protocol/kafka-error.js';
import type { FetchPartitionResult } from './read.js';
import type { ReplicaManager } from './replica-manager.js';
import {
  type AcknowledgementBatch,
  type AcquiredRange,
  type LogBatchRange,
  type PersistedStateBatch,
  SharePartition,
  type SharePartitionConfig,
} from './share-partition.js';
import { type ShareSession, ShareSessionCache } from './share-session.js';

/** The stored state of one share-partition (ShareSnapshot + ShareUpdates folded). */
export interface StoredShareState {
  startOffset: number;
  stateEpoch: number;
  leaderEpoch?: number;
  stateBatches: PersistedStateBatch[];
}

/** Where share-partition state is kept (the share coordinator); in memory when there is none. */
export interface ShareStatePersister {
  /**
   * The stored state (undefined: never initialized). `leaderEpoch`: the reading leader's epoch
   * (ReadShareGroupState fences older leaders from then on); omitted by readers that are not the
   * share-partition's leader.
   */
  read(
    groupId: string,
    topicId: string,
    partition: number,
    leaderEpoch?: number,
  ): Promise<StoredShareState | undefined>;
  /**
   * Stores what changed: the start offset and the changed batches; resolves once durable.
   * `stateEpoch`: the one the state was read at (FENCED_STATE_EPOCH once it was re-initialized).
   */
  write(
    groupId: string,
    topicId: string,
    partition: number,
    leaderEpoch: number,
    startOffset: number,
    batches: PersistedStateBatch[],
    stateEpoch?: number,
  ): Promise<void>;
  /** AlterShareGroupOffsets: the state restarts at `startOffset`, nothing in flight. */
  alter(groupId: string, topicId: string, partition: number, startOffset: number): Promise<void>;
  /** DeleteGroups / DeleteShareGroupOffsets: the state is gone. */
  delete(groupId: string, topicId: string, partition: number): Promise<void>;
  close(): void;
}

/** State kept in memory only (tests; a broker always has the share coordinator). Epochs are not checked. */
export class MemoryPersister implements ShareStatePersister {
  readonly states = new Map<string, StoredShareState>();
  private k(g: string, t: string, p: number): string {
    return `${g}:${t}:${p}`;
  }
  read(g: string, t: string, p: number): Promise<StoredShareState | undefined> {
    const s = this.states.get(this.k(g, t, p));
    return Promise.resolve(s && { ...s, stateBatches: [...s.stateBatches] });
  }
  write(
    g: string,
    t: string,
    p: number,
    leaderEpoch: number,
    startOffset: number,
    batches: PersistedStateBatch[],
  ): Promise<void> {
    const s = this.states.get(this.k(g, t, p)) ?? {
      startOffset,
      stateEpoch: 0,
      leaderEpoch,
      stateBatches: [],
    };
    const offsets = new Map<number, PersistedStateBatch>();
    for (const b of [...s.stateBatches, ...batches])
      for (let o = b.firstOffset; o <= b.lastOffset; o++)
        offsets.set(o, { ...b, firstOffset: o, lastOffset: o });
    s.startOffset = startOffset;
    s.stateBatches = [...offsets.values()]
      .filter((b) => b.firstOffset >= startOffset)
      .sort((a, b) => a.firstOffset - b.firstOffset);
    this.states.set(this.k(g, t, p), s);
    return Promise.resolve();
  }
  alter(g: string, t: string, p: number, startOffset: number): Promise<void> {
    const old = this.states.get(this.k(g, t, p));
    this.states.set(this.k(g, t, p), {
      startOffset,
      stateEpoch: (old?.stateEpoch ?? -1) + 1,
      stateBatches: [],
    });
    return Promise.resolve();
  }
  delete(g: string, t: string, p: number): Promise<void> {
    this.states.delete(this.k(g, t, p));
    return Promise.resolve();
  }
  close(): void {}
}

export interface SharePartitionManagerConfig extends SharePartitionConfig {
  maxShareSessions: number;
}

export interface ShareFetchPartitionRequest {
  topicId: string;
  partition: number;
}

export interface ShareFetchPartitionResult {
  topicId: string;
  partition: number;
  error: ErrorName;
  errorMessage: string | null;
  records: Buffer | null;
  acquiredRecords: AcquiredRange[];
  leaderEpoch: number;
}

export interface ShareAckResult {
  topicId: string;
  partition: number;
  error: ErrorName;
  errorMessage: string | null;
}

/** Walks the batches in fetched bytes (headers only): complete batches, control ones marked. */
export function batchRanges(records: Buffer): (LogBatchRange & { control: boolean })[] {
  const out: (LogBatchRange & { control: boolean })[] = [];
  let pos = 0;
  while (pos + 61 <= records.length) {
    const length = records.readInt32BE(pos + 8);
    if (length < 49 || pos + 12 + length > records.length) break;
    const baseOffset = Number(records.readBigInt64BE(pos));
    const attributes = records.readInt16BE(pos + 21);
    const lastOffsetDelta = records.readInt32BE(pos + 23);
    out.push({ baseOffset, lastOffset: baseOffset + lastOffsetDelta, control: (attributes & 0x20) !== 0 });
    pos += 12 + length;
  }
  return out;
}

export class SharePartitionManager {
  private readonly partitions = new Map<string, Promise<SharePartition>>();
  private readonly loaded = new Map<string, SharePartition>();
  /** The last state write of each share-partition (acknowledgements answer once it is durable). */
  private readonly writes = new Map<string, Promise<void>>();
  /** Fetches waiting for records to become acquirable. */
  private readonly waiters = new Set<() => void>();
  readonly sessions: ShareSessionCache;

  constructor(
    private readonly replicas: ReplicaManager,
    private readonly time: Time,
    private readonly log: Logger,
    /** The configs, for a group when given (its share.record.lock.duration.ms). */
    private readonly config: (groupId?: string) => SharePartitionManagerConfig,
    private readonly topicName: (topicId: string) => string | undefined,
    /** The group's `share.auto.offset.reset`. */
    private readonly autoOffsetReset: (groupId: string) => 'earliest' | 'latest' = () => 'latest',
    private persister: ShareStatePersister = new MemoryPersister(),
  ) {
    this.sessions = new ShareSessionCache(config().maxShareSessions, (s) => this.releaseSession(s));
  }

  setPersister(p: ShareStatePersister): void {
    this.persister = p;
  }

  private key(groupId: string, topicId: string, partition: number): string {
    return `${groupId}\0${topicId}\0${partition}`;
  }

  /** ShareFetches waiting now for records to become acquirable (tests). */
  get waitingFetches(): number {
    return this.waiters.size;
  }

  /** The share-partitions loaded now (tests, describe). */
  loadedPartitions(): SharePartition[] {
    return [...this.loaded.values()];
  }

  /** The share-partition, made (from its stored state or the reset policy) when first used. */
  sharePartition(groupId: string, topicId: string, partition: number): Promise<SharePartition> {
    const k = this.key(groupId, topicId, partition);
    let p = this.partitions.get(k);
    if (!p) {
      p = this.load(groupId, topicId, partition);
      this.partitions.set(k, p);
      p.catch(() => {
        if (this.partitions.get(k) === p) this.partitions.delete(k);
      });
    }
    return p;
  }

  private leader(topicId: string, partition: number) {
    const name = this.topicName(topicId);
    if (name === undefined)
      throw new KafkaError('UNKNOWN_TOPIC_ID', 'This server does not host this topic ID.');
    const p = this.replicas.getPartition(name, partition);
    if (!p)
      throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition.');
    if (!p.isLeader)
      throw new KafkaError(
        'NOT_LEADER_OR_FOLLOWER',
        'This server is not the leader for that topic-partition.',
      );
    return { name, p };
  }

  private async load(groupId: string, topicId: string, partition: number): Promise<SharePartition> {
    const { p } = this.leader(topicId, partition);
    const stored = await this.persister.read(groupId, topicId, partition, p.leaderEpoch);
    const stateEpoch = stored?.stateEpoch ?? 0;
    let start: number;
    if (stored && stored.startOffset >= 0) start = Math.max(stored.startOffset, p.logStartOffset);
    else start = this.autoOffsetReset(groupId) === 'earliest' ? p.logStartOffset : p.highWatermark;
    const sp = new SharePartition(
      groupId,
      topicId,
      partition,
      this.time,
      this.config(groupId),
      start,
      stored?.stateBatches ?? [],
    );
    const k = this.key(groupId, topicId, partition);
    sp.onChange = (batches) => {
      const prev = this.writes.get(k) ?? Promise.resolve();
      const next = prev
        .catch(() => {})
        .then(() =>
          this.persister.write(
            groupId,
            topicId,
            partition,
            p.leaderEpoch,
            sp.startOffset,
            batches,
            stateEpoch,
          ),
        );
      next.catch((err: unknown) => {
        this.log.warn(
          `writing share state of ${groupId} ${topicId}-${partition} failed: ${(err as Error).message}`,
        );
        // Fenced (Kafka's SharePartitionManager): the state was initialized again since
        // (AlterShareGroupOffsets) or a newer leader read it. This copy is stale: it is dropped,
        // and the next fetch loads the stored state.
        if (
          err instanceof KafkaError &&
          (err.error === 'FENCED_STATE_EPOCH' || err.error === 'FENCED_LEADER_EPOCH') &&
          this.loaded.get(k) === sp
        ) {
          sp.close();
          this.loaded.delete(k);
          this.partitions.delete(k);
        }
      });
      this.writes.set(k, next);
      const settled = () => {
        if (this.writes.get(k) === next) this.writes.delete(k);
      };
      // Both ways (a rejected write is logged above, not left unhandled here).
      next.then(settled, settled);
    };
    sp.onAvailable = () => this.wake();
    this.loaded.set(k, sp);
    // The first state of a share-partition is stored at once (Kafka's InitializeShareGroupState).
    if (!stored) sp.onChange([]);
    return sp;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once every state write of the share-partition made so far is durable. */
  async flushed(groupId: string, topicId: string, partition: number): Promise<void> {
    await this.writes.get(this.key(groupId, topicId, partition));
  }

  /** Applies one partition's acknowledgements for `memberId`; the answer waits for the state write. */
  async acknowledge(
    groupId: string,
    memberId: string,
    topicId: string,
    partition: number,
    batches: readonly AcknowledgementBatch[],
  ): Promise<ShareAckResult> {
    try {
      const sp = await this.sharePartition(groupId, topicId, partition);
      sp.acknowledge(memberId, batches);
      await this.flushed(groupId, topicId, partition);
      return { topicId, partition, error: 'NONE', errorMessage: null };
    } catch (err) {
      const e = errorOf(err);
      if (!(err instanceof KafkaError)) this.log.error(`share acknowledge of ${groupId} failed`, err);
      return { topicId, partition, error: e.error, errorMessage: e.message };
    }
  }

  /**
   * Reads and acquires records of the session's partitions for its member: at once when some
   * are acquired or an error is met, otherwise waiting up to `maxWaitMs` for records to be
   * produced or released, or the connection to close.
   */
  async fetch(
    session: ShareSession,
    params: { maxWaitMs: number; maxBytes: number; maxRecords: number },
    signal: AbortSignal,
  ): Promise<ShareFetchPartitionResult[]> {
    const deadline = this.time.now() + Math.max(0, params.maxWaitMs);
    for (;;) {
      const results = await this.fetchOnce(session, params);
      const remaining = deadline - this.time.now();
      if (
        remaining <= 0 ||
        signal.aborted ||
        results.some((r) => r.error !== 'NONE' || r.acquiredRecords.length > 0)
      ) {
        return results.filter((r) => r.error !== 'NONE' || r.acquiredRecords.length > 0);
      }
      if (!(await this.waitForRecords(session, remaining, signal))) {
        return (await this.fetchOnce(session, params)).filter(
          (r) => r.error !== 'NONE' || r.acquiredRecords.length > 0,
        );
      }
    }
  }

  /** Waits for an append to a session partition or records released; false at the deadline. */
  private async waitForRecords(session: ShareSession, waitMs: number, signal: AbortSignal): Promise<boolean> {
    const stop = new AbortController();
    let woken = false;
    const wake = () => {
      woken = true;
      stop.abort();
    };
    const onClose = () => stop.abort();
    this.waiters.add(wake);
    signal.addEventListener('abort', onClose, { once: true });
    try {
      const requests = [];
      for (const sp of session.partitions.values()) {
        const name = this.topicName(sp.topicId);
        const shared = this.loaded.get(this.key(session.groupId, sp.topicId, sp.partition));
        if (name === undefined || !shared) continue;
        // Only partitions that may take new records wait on the log; the others wait for releases.
        if (shared.nextFetchOffset() !== shared.endOffset) continue;
        requests.push({
          topic: name,
          partition: sp.partition,
          missing: 'UNKNOWN_TOPIC_OR_PARTITION' as ErrorName,
          fetchOffset: shared.endOffset,
          partitionMaxBytes: 1,
        });
      }
      if (requests.length > 0) {
        const r = await this.replicas.fetchMessages(
          { maxWaitMs: waitMs, minBytes: 1, maxBytes: 1, isolationLevel: 0 },
          requests,
          stop.signal,
        );
        return woken || r.some((x) => x.error !== 'NONE' || (x.records?.length ?? 0) > 0);
      }
      if (woken) return true;
      await new Promise<void>((resolve) => {
        const timer = this.time.setTimeout(resolve, waitMs);
        stop.signal.addEventListener(
          'abort',
          () => {
            timer.cancel();
            resolve();
          },
          { once: true },
        );
      });
      return woken;
    } finally {
      this.waiters.delete(wake);
      signal.removeEventListener('abort', onClose);
    }
  }

  private async fetchOnce(
    session: ShareSession,
    params: { maxBytes: number; maxRecords: number },
  ): Promise<ShareFetchPartitionResult[]> {
    const out: ShareFetchPartitionResult[] = [];
    let bytesLeft = Math.max(1, params.maxBytes);
    let recordsLeft = Math.max(1, params.maxRecords);
    // Each fetch starts one partition further on, so that maxRecords/maxBytes filled by the first
    // partitions do not starve the others (Kafka rotates its share fetch partitions likewise).
    const all = [...session.partitions.values()];
    const first = all.length === 0 ? 0 : session.nextRotation() % all.length;
    for (const { topicId, partition } of [...all.slice(first), ...all.slice(0, first)]) {
      const result: ShareFetchPartitionResult = {
        topicId,
        partition,
        error: 'NONE',
        errorMessage: null,
        records: null,
        acquiredRecords: [],
        leaderEpoch: -1,
      };
      out.push(result);
      if (recordsLeft <= 0 || bytesLeft <= 0) continue;
      try {
        const { name, p } = this.leader(topicId, partition);
        result.leaderEpoch = p.leaderEpoch;
        const sp = await this.sharePartition(session.groupId, topicId, partition);
        sp.updateLogStartOffset(p.logStartOffset);
        const from = sp.nextFetchOffset();
        if (from === undefined) continue;
        const [read] = await this.replicas.fetchMessages(
          { maxWaitMs: 0, minBytes: 0, maxBytes: bytesLeft, isolationLevel: 0 },
          [
            {
              topic: name,
              partition,
              missing: 'UNKNOWN_TOPIC_OR_PARTITION',
              fetchOffset: from,
              partitionMaxBytes: bytesLeft,
            },
          ],
          new AbortController().signal,
        );
        // Read without FetchParams.dup: the records are bytes.
        const r = read as FetchPartitionResult & { records: Buffer | null };
        if (r.error !== 'NONE') {
          result.error = r.error;
          continue;
        }
        if (!r.records || r.records.length === 0) continue;
        // Control batches (transaction markers) are never delivered: archived as met.
        const acquired = sp.acquire(session.memberId, batchRanges(r.records), recordsLeft, from);
        if (acquired.length === 0) continue;
        result.acquiredRecords = acquired;
        result.records = r.records;
        bytesLeft -= r.records.length;
        for (const a of acquired) recordsLeft -= a.lastOffset - a.firstOffset + 1;
      } catch (err) {
        const e = errorOf(err);
        if (!(err instanceof KafkaError)) this.log.error(`share fetch of ${session.groupId} failed`, err);
        result.error = e.error;
        result.errorMessage = e.message;
      }
    }
    return out;
  }

  /** A session ended: its member's acquired records on its partitions are released. */
  private releaseSession(s: ShareSession): void {
    for (const { topicId, partition } of s.partitions.values()) {
      this.loaded.get(this.key(s.groupId, topicId, partition))?.releaseMember(s.memberId);
    }
  }

  /** A member left or was fenced from its share group: its records are released everywhere. */
  releaseMember(groupId: string, memberId: string): void {
    this.sessions.closeMember(groupId, memberId);
    for (const sp of this.loaded.values()) if (sp.groupId === groupId) sp.releaseMember(memberId);
  }

  /** Partitions no longer led here (or deleted): their share-partitions are dropped (state stays stored). */
  dropPartition(topicId: string, partition: number): void {
    for (const [k, sp] of this.loaded) {
      if (sp.topicId !== topicId || sp.partition !== partition) continue;
      sp.close();
      this.loaded.delete(k);
      this.partitions.delete(k);
    }
  }

  /** Forgets the share-partitions of a group (its state was deleted or reset). */
  dropGroup(groupId: string, topicId?: string, partition?: number): void {
    for (const [k, sp] of this.loaded) {
      if (sp.groupId !== groupId) continue;
      if (topicId !== undefined && sp.topicId !== topicId) continue;
      if (partition !== undefined && sp.partition !== partition) continue;
      sp.close();
      this.loaded.delete(k);
      this.partitions.delete(k);
    }
  }

  /**
   * DescribeShareGroupOffsets: the share-partition's start offset (-1 when never initialized),
   * its leader epoch and the records delivered-complete above it (for the lag).
   */
  async describeOffset(
    groupId: string,
    topicId: string,
    partition: number,
  ): Promise<{ startOffset: number; leaderEpoch: number; completeAbove: number }> {
    const live = this.loaded.get(this.key(groupId, topicId, partition));
    if (live)
      return { startOffset: live.startOffset, leaderEpoch: -1, completeAbove: live.deliveryCompleteCount };
    const s = await this.persister.read(groupId, topicId, partition);
    if (!s) return { startOffset: -1, leaderEpoch: -1, completeAbove: 0 };
    let complete = 0;
    for (const b of s.stateBatches)
      if (b.deliveryState === 2 || b.deliveryState === 4) complete += b.lastOffset - b.firstOffset + 1;
    return { startOffset: s.startOffset, leaderEpoch: s.leaderEpoch ?? -1, completeAbove: complete };
  }

  /** AlterShareGroupOffsets of one share-partition (the group is empty): restarts at `startOffset`. */
  async alterOffset(groupId: string, topicId: string, partition: number, startOffset: number): Promise<void> {
    this.dropGroup(groupId, topicId, partition);
    await this.persister.alter(groupId, topicId, partition, startOffset);
    this.dropGroup(groupId, topicId, partition);
  }

  /** DeleteShareGroupOffsets / DeleteGroups: the share-partition's state is deleted. */
  async deleteState(groupId: string, topicId: string, partition: number): Promise<void> {
    this.dropGroup(groupId, topicId, partition);
    await this.persister.delete(groupId, topicId, partition);
    this.dropGroup(groupId, topicId, partition);
  }

  shutdown(): void {
    this.persister.close();
    this.sessions.clear();
    for (const sp of this.loaded.values()) sp.close();
    this.loaded.clear();
    this.partitions.clear();
    this.wake();
  }
}
