// One partition's log directory `<topic>-<partition>`: leader appends, reads, timestamp lookup, retention
// and log-start-offset movement over its ordered segments (a LogSegments); opening the directory and
// recovering it is LogLoader's. Mirrors Kafka's UnifiedLog + LocalLog. High watermark, recovery point and log start offset are persisted by LogManager in the
// log-dir-level checkpoint files (replication-offset-checkpoint, recovery-point-offset-checkpoint,
// log-start-offset-checkpoint) and handed back through LogOpenOptions.
// Producer state (idempotence, open transactions, the last stable offset) lives in a ProducerStateManager
// persisted as `.snapshot` files; aborted transactions are indexed per segment in `.txnindex` files.
import fs from 'node:fs';
import path from 'node:path';
import {
  HEADER_SIZE,
  isControl,
  isTransactional,
  lastOffset,
  MAGIC_V2,
  readBaseSequence,
  readBatchSize,
  readLastOffsetDelta,
  readMagic,
  readMaxTimestamp,
  readProducerEpoch,
  readProducerId,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
} from '../protocol/record-batch.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import {
  type Clock,
  deletesByRetention,
  type LogConfig,
  randomSegmentJitter,
  systemClock,
} from './log-config.js';
import { type LoadedLogOffsets, LogLoader, openLeaderEpochCache } from './log-loader.js';
import { LogSegments } from './log-segments.js';
import {
  type AppendOrigin,
  firstOffsetOf,
  type ProducerBatch,
  ProducerStateManager,
} from './producer-state-manager.js';
import { completeTxn, readEndTxnMarker, rebuildProducerState } from './producer-state-replay.js';
import {
  filenamePrefixFromOffset,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  LogSegment,
  TIME_INDEX_FILE_SUFFIX,
} from './segment.js';
import type { AbortedTxn } from './transaction-index.js';
import { TXN_INDEX_FILE_SUFFIX } from './transaction-index.js';

export { type Clock, defaultLogConfig, type LogConfig } from './log-config.js';
export { readEndTxnMarker } from './producer-state-replay.js';

export interface LogOpenOptions {
  /** A clean-shutdown marker was found: only the active segment is re-scanned. */
  hadCleanShutdown?: boolean;
  /** Offset up to which the log is known fsynced; segments from the one holding it are recovered. */
  recoveryPoint?: number;
  logStartOffset?: number;
  highWatermark?: number;
  /**
   * Called after logStartOffset moved, with why (Kafka's LogStartOffsetIncrementReason), so the owner
   * can persist it in log-start-offset-checkpoint.
   */
  onLogStartOffsetChange?: (log: Log, reason: LogStartOffsetIncrementReason) => void;
  /** `producer.id.expiration.ms` (default 1 day). */
  producerIdExpirationMs?: number;
}

/**
 * `ClientRecordDeletion`: DeleteRecords moved it, possibly into the middle of a segment, so only the
 * checkpoint remembers it. `SegmentDeletion`: retention deleted the segments below it, so reopening the
 * log derives it again from the first remaining segment.
 */
export type LogStartOffsetIncrementReason = 'ClientRecordDeletion' | 'SegmentDeletion';

export type LogReadResult = { records: Buffer | null } | { error: 'OFFSET_OUT_OF_RANGE' };

export interface LogAppendInfo {
  baseOffset: number;
  lastOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  /** Set when a producer retried a batch already in the log: nothing was appended, these are its offsets. */
  duplicate?: true;
}

export class LogOffsetOutOfRangeError extends Error {
  override name = 'OffsetOutOfRangeException';
}

export class Log {
  config: LogConfig;
  readonly leaderEpochCache: LeaderEpochCache;
  readonly producerStateManager: ProducerStateManager;
  private leo: number;
  /** The log start offset (Kafka's logStartOffset; not the LSO, which is the last stable offset). */
  #logStartOffset: number;
  private hw: number;
  private recoveryPointOffset: number;
  private lastFlushTime: number;
  private readonly pendingDeletes = new Map<LogSegment, NodeJS.Timeout | null>();
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    config: LogConfig,
    private readonly clock: Clock,
    private readonly opts: LogOpenOptions,
    epochCache: LeaderEpochCache,
    producerStateManager: ProducerStateManager,
    private readonly segments: LogSegments,
    loaded: LoadedLogOffsets,
    openedAt: number,
  ) {
    this.config = config;
    this.leaderEpochCache = epochCache;
    this.producerStateManager = producerStateManager;
    this.lastFlushTime = openedAt;
    this.leo = loaded.logEndOffset;
    this.#logStartOffset = loaded.logStartOffset;
    this.hw = Math.min(Math.max(opts.highWatermark ?? 0, this.#logStartOffset), this.leo);
    this.recoveryPointOffset = loaded.recoveryPoint;
  }

  static open(
    dir: string,
    topic: string,
    partition: number,
    config: LogConfig,
    clock: Clock = systemClock,
    opts: LogOpenOptions = {},
  ): Log {
    fs.mkdirSync(dir, { recursive: true });
    const openedAt = clock.now();
    const { cache, corrupt } = openLeaderEpochCache(dir);
    const psm = new ProducerStateManager(dir, `${topic}-${partition}`, opts.producerIdExpirationMs);
    const segments = new LogSegments();
    const loaded = new LogLoader({
      dir,
      config,
      clock,
      segments,
      leaderEpochCache: cache,
      producerStateManager: psm,
      hadCleanShutdown: opts.hadCleanShutdown,
      recoveryPoint: opts.recoveryPoint,
      logStartOffset: opts.logStartOffset,
      recoverAll: corrupt, // the cache is rebuilt from every batch
    }).load();
    return new Log(dir, topic, partition, config, clock, opts, cache, psm, segments, loaded, openedAt);
  }

  /**
   * The last stable offset: below it every transaction is decided (Kafka: the first offset of the earliest
   * open transaction, bounded by the high watermark).
   */
  get lastStableOffset(): number {
    const firstUnstable = this.producerStateManager.firstUnstableOffset();
    return firstUnstable === null ? this.hw : Math.min(firstUnstable, this.hw);
  }

  /**
   * Aborted transactions overlapping [startOffset, upperBoundOffset), from the `.txnindex` of the segment
   * holding startOffset and later ones until an entry's LSO reaches the bound (Kafka's collectAbortedTransactions).
   */
  collectAbortedTransactions(startOffset: number, upperBoundOffset: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (const seg of this.segments.values(startOffset)) {
      const res = seg.txnIndex.collectAbortedTxns(startOffset, upperBoundOffset);
      out.push(...res.abortedTransactions);
      if (res.isComplete) break;
    }
    return out;
  }

  // ---- state ---------------------------------------------------------------------------------------

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  get logEndOffset(): number {
    return this.leo;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** Offset below which everything is fsynced (for recovery-point-offset-checkpoint). */
  get recoveryPoint(): number {
    return this.recoveryPointOffset;
  }

  get activeSegment(): LogSegment {
    return this.segments.activeSegment;
  }

  /** Total `.log` bytes across segments. */
  get size(): number {
    return this.segments.sizeInBytes();
  }

  get numberOfSegments(): number {
    return this.segments.numberOfSegments;
  }

  segmentBaseOffsets(): number[] {
    return this.segments.baseOffsets();
  }

  /** Clamped to [logStartOffset, logEndOffset]. */
  updateHighWatermark(offset: number): void {
    this.hw = Math.min(Math.max(offset, this.#logStartOffset), this.leo);
  }

  // ---- append --------------------------------------------------------------------------------------

  /**
   * Appends one batch as leader. A batch with a producer id is first checked against the producer state
   * (`origin` 'client' validates sequences and answers a retried batch with its original offsets, marked
   * `duplicate`); a refused batch throws ProducerStateError. COMMIT/ABORT markers ('coordinator') complete
   * the producer's transaction and index it in `.txnindex` when aborted.
   */
  appendAsLeader(batch: Buffer, leaderEpoch: number, origin: AppendOrigin = 'client'): LogAppendInfo {
    if (this.closed) throw new Error(`log ${this.topic}-${this.partition} is closed`);
    if (
      batch.length < HEADER_SIZE ||
      readBatchSize(batch, 0) !== batch.length ||
      readMagic(batch, 0) !== MAGIC_V2
    ) {
      throw new Error('appendAsLeader expects exactly one magic-2 batch');
    }
    const now = this.clock.now();
    const baseOffset = this.leo;
    const producerId = readProducerId(batch, 0);
    let producerBatch: ProducerBatch | null = null;
    if (producerId >= 0) {
      producerBatch = {
        producerId,
        producerEpoch: readProducerEpoch(batch, 0),
        baseSequence: readBaseSequence(batch, 0),
        baseOffset,
        lastOffset: baseOffset + readLastOffsetDelta(batch, 0),
        maxTimestamp: readMaxTimestamp(batch, 0),
        isTransactional: isTransactional(batch, 0),
        marker: isControl(batch, 0) ? readEndTxnMarker(batch) : null,
      };
      const check = this.producerStateManager.checkAppend(producerBatch, origin);
      if ('duplicate' in check) {
        const dup = check.duplicate;
        return {
          baseOffset: firstOffsetOf(dup),
          lastOffset: dup.lastOffset,
          logAppendTime: this.config.messageTimestampType === 'LogAppendTime' ? dup.timestamp : -1,
          logStartOffset: this.#logStartOffset,
          duplicate: true,
        };
      }
    }
    setBaseOffset(batch, 0, baseOffset);
    setPartitionLeaderEpoch(batch, 0, leaderEpoch);
    let logAppendTime = -1;
    if (this.config.messageTimestampType === 'LogAppendTime') {
      setLogAppendTime(batch, 0, now);
      logAppendTime = now;
    }
    const last = lastOffset(batch, 0);
    const maxTimestamp = readMaxTimestamp(batch, 0);
    const segment = this.maybeRoll(batch.length, last, maxTimestamp, now);
    segment.append(batch, last, maxTimestamp, this.config.indexIntervalBytes);
    this.leo = last + 1;
    if (producerBatch !== null) {
      producerBatch.maxTimestamp = maxTimestamp;
      const completed = this.producerStateManager.update(producerBatch);
      if (completed) completeTxn(this.producerStateManager, segment, completed, true);
    }
    this.producerStateManager.mapEndOffset = this.leo;
    if (leaderEpoch >= 0) this.leaderEpochCache.assign(leaderEpoch, baseOffset);
    if (this.leo - this.recoveryPointOffset >= this.config.flushMessages) this.flush();
    return { baseOffset, lastOffset: last, logAppendTime, logStartOffset: this.#logStartOffset };
  }

  private maybeRoll(
    incomingBytes: number,
    incomingLastOffset: number,
    maxTimestamp: number,
    now: number,
  ): LogSegment {
    const seg = this.activeSegment;
    if (seg.size === 0) return seg;
    const cfg = this.config;
    if (
      seg.size > cfg.segmentBytes - incomingBytes ||
      seg.timeWaitedForRoll(now, maxTimestamp) > cfg.segmentMs - seg.rollJitterMs ||
      seg.offsetIndex.isFull() ||
      seg.timeIndex.isFull() ||
      incomingLastOffset - seg.baseOffset > 0x7fffffff
    ) {
      this.roll();
    }
    return this.activeSegment;
  }

  /** Starts a new segment at the log end offset; the old one gets its final time-index entry and is fsynced. */
  roll(): void {
    const active = this.activeSegment;
    const newBase = this.leo;
    if (active.size === 0 && active.baseOffset === newBase) return;
    const prefix = path.join(this.dir, filenamePrefixFromOffset(newBase));
    if (fs.existsSync(prefix + LOG_FILE_SUFFIX) && fs.statSync(prefix + LOG_FILE_SUFFIX).size > 0) {
      throw new Error(`cannot roll ${this.dir}: segment ${newBase} already exists`);
    }
    for (const s of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX])
      fs.rmSync(prefix + s, { force: true });
    active.onBecomeInactive();
    active.flush();
    this.producerStateManager.takeSnapshot(newBase);
    this.recoveryPointOffset = Math.max(this.recoveryPointOffset, newBase);
    this.segments.add(LogSegment.open(this.dir, newBase, this.clock.now(), randomSegmentJitter(this.config)));
  }

  // ---- read ----------------------------------------------------------------------------------------

  read(fetchOffset: number, maxBytes: number, minOneBatch: boolean, maxOffset?: number): LogReadResult {
    if (fetchOffset < this.#logStartOffset || fetchOffset > this.leo) return { error: 'OFFSET_OUT_OF_RANGE' };
    const limit = Math.min(maxOffset ?? this.leo, this.leo);
    if (fetchOffset >= limit) return { records: null };
    for (const seg of this.segments.values(fetchOffset, limit)) {
      const records = seg.read(fetchOffset, maxBytes, minOneBatch, limit);
      if (records !== null) return { records };
    }
    return { records: null };
  }

  /** First batch (at or after logStartOffset) whose maxTimestamp >= timestamp: its base offset and maxTimestamp. */
  fetchOffsetByTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    for (const seg of this.segments.candidatesForTimestamp(timestamp, this.#logStartOffset)) {
      const b = seg.findBatchByTimestamp(timestamp, this.#logStartOffset);
      if (b !== null)
        return { offset: Math.max(b.baseOffset, this.#logStartOffset), timestamp: b.maxTimestamp };
    }
    return null;
  }

  /** Largest batch maxTimestamp and the lastOffset of the earliest batch carrying it; null when none. */
  maxTimestampAndOffset(): { timestamp: number; offset: number } | null {
    let best: { timestamp: number; offset: number } | null = null;
    for (const seg of this.segments) {
      const m = seg.maxTimestampAndOffsetSoFar();
      if (m.timestamp >= 0 && (best === null || m.timestamp > best.timestamp)) best = { ...m };
    }
    return best;
  }

  // ---- truncation, deletion, retention -------------------------------------------------------------

  /** DeleteRecords: moves logStartOffset up to offset (<= high watermark) and drops whole segments below it. */
  deleteRecordsBefore(offset: number): void {
    if (offset < 0 || offset > this.hw) {
      throw new LogOffsetOutOfRangeError(
        `cannot delete records of ${this.topic}-${this.partition} before ${offset}: high watermark is ${this.hw}`,
      );
    }
    if (offset <= this.#logStartOffset) return;
    this.#logStartOffset = offset;
    // Not fsynced here (Kafka's truncateFromStartAsyncFlush): reopening truncates the cache from the log
    // start offset again; the file is rewritten at close or with the next epoch.
    this.leaderEpochCache.truncateFromStart(offset, false);
    this.deleteOldSegments((_seg, next) => next !== undefined && next.baseOffset <= this.#logStartOffset);
    this.opts.onLogStartOffsetChange?.(this, 'ClientRecordDeletion');
  }

  /**
   * Kafka's UnifiedLog.deleteOldSegments, one retention pass; returns the number of segments deleted.
   * Whatever the cleanup.policy, whole segments below the log start offset go (DeleteRecords moves it on
   * every topic). Only when the policy includes `delete` do retention.bytes and then retention.ms delete
   * the oldest segments as well: a `compact` topic keeps every segment (compaction shrinks it).
   */
  applyRetention(): number {
    if (this.closed) return 0;
    let deleted = this.deleteOldSegments(
      (_s, next) => next !== undefined && next.baseOffset <= this.#logStartOffset,
    );
    if (!deletesByRetention(this.config)) return deleted;
    const { retentionBytes, retentionMs } = this.config;
    if (retentionBytes >= 0) {
      let diff = this.size - retentionBytes;
      if (diff > 0) {
        deleted += this.deleteOldSegments((seg) => {
          if (diff - seg.size < 0) return false;
          diff -= seg.size;
          return true;
        });
      }
    }
    if (retentionMs >= 0) {
      const now = this.clock.now();
      deleted += this.deleteOldSegments((seg) => now - seg.largestTimestamp() > retentionMs);
    }
    return deleted;
  }

  private deleteOldSegments(predicate: (seg: LogSegment, next: LogSegment | undefined) => boolean): number {
    const all = this.segments.values();
    let count = 0;
    for (let i = 0; i < all.length; i++) {
      const seg = all[i]!;
      const next = all[i + 1];
      const upperBound = next !== undefined ? next.baseOffset : this.leo;
      const lastAndEmpty = next === undefined && seg.size === 0;
      if (this.hw >= upperBound && !lastAndEmpty && predicate(seg, next)) count++;
      else break;
    }
    if (count === 0) return 0;
    if (count === all.length) this.roll();
    const removed = this.segments.values().slice(0, count);
    for (const seg of removed) this.segments.remove(seg.baseOffset);
    for (const seg of removed) this.scheduleDelete(seg);
    const start = this.segments.firstSegment()!.baseOffset;
    if (start > this.#logStartOffset) {
      this.#logStartOffset = start;
      this.hw = Math.max(this.hw, this.#logStartOffset);
      this.leaderEpochCache.truncateFromStart(start, false);
      this.opts.onLogStartOffsetChange?.(this, 'SegmentDeletion');
    }
    return count;
  }

  private scheduleDelete(seg: LogSegment): void {
    this.producerStateManager.deleteSnapshot(seg.baseOffset);
    seg.renameToDeleted();
    if (this.config.fileDeleteDelayMs <= 0) {
      seg.deleteFiles();
      return;
    }
    const timer = setTimeout(() => {
      this.pendingDeletes.delete(seg);
      // A file left behind by a failure is a `.deleted` leftover that the next load() removes.
      seg.deleteFilesAsync().catch(() => {});
    }, this.config.fileDeleteDelayMs);
    timer.unref();
    this.pendingDeletes.set(seg, timer);
  }

  private runPendingDeletes(): void {
    for (const [seg, timer] of this.pendingDeletes) {
      if (timer) clearTimeout(timer);
      seg.deleteFiles();
    }
    this.pendingDeletes.clear();
  }

  /** Follower/epoch truncation: removes everything at or after targetOffset. */
  truncateTo(targetOffset: number): void {
    if (targetOffset >= this.leo) return;
    const target = Math.max(targetOffset, this.#logStartOffset);
    while (this.segments.numberOfSegments > 1 && this.activeSegment.baseOffset >= target)
      this.segments.remove(this.activeSegment.baseOffset)!.deleteFiles();
    this.activeSegment.truncateTo(target);
    this.leo = this.activeSegment.nextOffset();
    this.hw = Math.min(this.hw, this.leo);
    this.recoveryPointOffset = Math.min(this.recoveryPointOffset, this.leo);
    this.leaderEpochCache.truncateFromEnd(this.leo);
    this.activeSegment.flush();
    this.producerStateManager.deleteSnapshotsAbove(this.leo);
    rebuildProducerState(this.producerStateManager, this.segments, this.leo, this.clock.now());
  }

  // ---- flush and lifecycle -------------------------------------------------------------------------

  /** fsyncs the active segment; everything below the log end offset is then durable. */
  flush(): void {
    this.activeSegment.flush();
    this.recoveryPointOffset = this.leo;
    this.lastFlushTime = this.clock.now();
  }

  /** flush.ms: flushes when unflushed data is older than the configured interval. */
  maybeFlushByTime(): void {
    if (this.leo > this.recoveryPointOffset && this.clock.now() - this.lastFlushTime >= this.config.flushMs) {
      this.flush();
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.leaderEpochCache.flushIfDirty();
    this.producerStateManager.takeSnapshot(this.leo);
    for (const seg of this.segments) seg.close();
    this.runPendingDeletes();
    this.closed = true;
  }

  /** Closes and removes the partition directory. */
  delete(): void {
    if (!this.closed) {
      for (const seg of this.segments) seg.close();
      this.runPendingDeletes();
      this.closed = true;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
