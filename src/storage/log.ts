// One partition's log directory `<topic>-<partition>`: ordered segments, recovery at open, leader appends,
// reads, timestamp lookup, retention and log-start-offset movement. Mirrors Kafka's UnifiedLog + LocalLog +
// LogLoader. High watermark, recovery point and log start offset are persisted by LogManager in the
// log-dir-level checkpoint files (replication-offset-checkpoint, recovery-point-offset-checkpoint,
// log-start-offset-checkpoint) and handed back through LogOpenOptions.
// Producer state (idempotence, open transactions, the last stable offset) lives in a ProducerStateManager
// persisted as `.snapshot` files; aborted transactions are indexed per segment in `.txnindex` files.
import fs from 'node:fs';
import path from 'node:path';
import {
  type BatchInfo,
  CONTROL_FLAG_MASK,
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
  TRANSACTIONAL_FLAG_MASK,
} from '../protocol/record-batch.js';
import { decodeRecordBatch } from '../protocol/records.js';
import { CheckpointFormatError } from './checkpoint-file.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { type Clock, deletesByRetention, type LogConfig, systemClock } from './log-config.js';
import {
  type AppendOrigin,
  type CompletedTxn,
  firstOffsetOf,
  type ProducerBatch,
  ProducerStateManager,
} from './producer-state-manager.js';
import { INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX, LogSegment, TIME_INDEX_FILE_SUFFIX } from './segment.js';
import type { AbortedTxn } from './transaction-index.js';
import { TXN_INDEX_FILE_SUFFIX } from './transaction-index.js';

export { type Clock, defaultLogConfig, type LogConfig } from './log-config.js';

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

type Marker = ProducerBatch['marker'];

/** The COMMIT/ABORT marker of a control batch (whole batch bytes), or null for other control records. */
export function readEndTxnMarker(batch: Buffer): Marker {
  const control = decodeRecordBatch(batch, 0, { verifyCrc: false }).controlRecord;
  if (!control || (control.typeName !== 'COMMIT' && control.typeName !== 'ABORT')) return null;
  return { type: control.typeName, coordinatorEpoch: control.coordinatorEpoch ?? -1 };
}

export class LogOffsetOutOfRangeError extends Error {
  override name = 'OffsetOutOfRangeException';
}

const LEFTOVER_SUFFIXES = ['.deleted', '.cleaned', '.swap', '.tmp'];
const SEGMENT_FILE_RE = /^(\d{20})\.(log|index|timeindex|txnindex)$/;

export class Log {
  config: LogConfig;
  readonly leaderEpochCache: LeaderEpochCache;
  readonly producerStateManager: ProducerStateManager;
  private segments: LogSegment[] = [];
  private leo = 0;
  /** The log start offset (Kafka's logStartOffset; not the LSO, which is the last stable offset). */
  #logStartOffset = 0;
  private hw = 0;
  private recoveryPointOffset = 0;
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
  ) {
    this.config = config;
    this.leaderEpochCache = epochCache;
    this.producerStateManager = new ProducerStateManager(
      dir,
      `${topic}-${partition}`,
      opts.producerIdExpirationMs,
    );
    this.lastFlushTime = clock.now();
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
    let epochCache: LeaderEpochCache;
    let epochCacheCorrupt = false;
    try {
      epochCache = new LeaderEpochCache(dir);
    } catch (e) {
      if (!(e instanceof CheckpointFormatError)) throw e;
      fs.rmSync(path.join(dir, 'leader-epoch-checkpoint'), { force: true });
      epochCache = new LeaderEpochCache(dir);
      epochCacheCorrupt = true; // rebuilt from every batch below
    }
    const log = new Log(dir, topic, partition, config, clock, opts, epochCache);
    log.load(epochCacheCorrupt);
    return log;
  }

  // ---- loading and recovery ------------------------------------------------------------------------

  private load(recoverAll: boolean): void {
    const now = this.clock.now();
    const bases = new Set<number>();
    for (const name of fs.readdirSync(this.dir)) {
      const full = path.join(this.dir, name);
      if (LEFTOVER_SUFFIXES.some((s) => name.endsWith(s))) {
        fs.rmSync(full, { force: true, recursive: true });
        continue;
      }
      const m = SEGMENT_FILE_RE.exec(name);
      if (m && m[2] === 'log') bases.add(Number(m[1]));
    }
    // Index files without a .log are orphans (Kafka deletes them too).
    for (const name of fs.readdirSync(this.dir)) {
      const m = SEGMENT_FILE_RE.exec(name);
      if (m && m[2] !== 'log' && !bases.has(Number(m[1])))
        fs.rmSync(path.join(this.dir, name), { force: true });
    }
    const sorted = [...bases].sort((a, b) => a - b);
    const needsRebuild = sorted.map((b) => !LogSegment.indexFilesExist(this.dir, b));
    this.segments = sorted.map((b) => LogSegment.open(this.dir, b, now, this.rollJitter()));

    if (this.segments.length > 0) {
      const last = this.segments.length - 1;
      let from: number;
      if (recoverAll) from = 0;
      else if (this.opts.hadCleanShutdown) from = last;
      else from = Math.max(0, this.floorSegmentIndex(this.opts.recoveryPoint ?? 0));
      // Below the recovery point, a segment whose indexes are missing or corrupt is rebuilt, and so is every
      // later one: its transaction index needs the producer state of the segments before it.
      for (let i = 0; i < from; i++) {
        const seg = this.segments[i]!;
        if (
          needsRebuild[i] ||
          seg.offsetIndex.sanityCheck(seg.size) !== null ||
          seg.timeIndex.sanityCheck() !== null ||
          seg.txnIndex.sanityCheck() !== null
        ) {
          from = i;
          break;
        }
      }
      for (let i = 0; i < from; i++) this.segments[i]!.onBecomeInactive();
      this.rebuildProducerState(this.segments[from]!.baseOffset);
      this.recoverFrom(from);
    }
    if (this.segments.length === 0) {
      this.segments.push(LogSegment.open(this.dir, this.opts.logStartOffset ?? 0, now, this.rollJitter()));
    }
    this.leo = this.activeSegment.nextOffset();
    // Snapshots beyond the recovered end describe data that is gone.
    this.producerStateManager.deleteSnapshotsAbove(this.leo);
    if (this.producerStateManager.mapEndOffset !== this.leo) this.rebuildProducerState(this.leo);
    // Batches replayed above may belong to producers that had expired (Kafka would have loaded them
    // from the snapshot written at close, which leaves those out).
    this.producerStateManager.removeExpiredProducers(now);
    this.#logStartOffset = Math.min(
      Math.max(this.opts.logStartOffset ?? 0, this.segments[0]!.baseOffset),
      this.leo,
    );
    this.hw = Math.min(Math.max(this.opts.highWatermark ?? 0, this.#logStartOffset), this.leo);
    this.recoveryPointOffset = this.leo;
    this.leaderEpochCache.truncateFromEnd(this.leo, false);
    this.leaderEpochCache.truncateFromStart(this.#logStartOffset, false);
    this.leaderEpochCache.flush();
  }

  /** Re-validates segments [from, end); at the first bad batch truncates there and drops later segments. */
  private recoverFrom(from: number): void {
    const cache = this.leaderEpochCache;
    cache.truncateFromEnd(this.segments[from]!.baseOffset, false);
    let prevNext = from > 0 ? this.segments[from - 1]!.nextOffset() : -1;
    for (let i = from; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const overlaps = seg.baseOffset < prevNext;
      const res = overlaps
        ? null
        : seg.recover(this.config.indexIntervalBytes, (b) => {
            if (b.partitionLeaderEpoch >= 0) cache.assign(b.partitionLeaderEpoch, b.baseOffset, false);
            this.replayBatch(seg, b, true);
          });
      if (overlaps || (res !== null && res.truncatedBytes > 0)) {
        const dropFrom = overlaps ? i : i + 1;
        for (const dead of this.segments.splice(dropFrom)) dead.deleteFiles();
        if (this.segments.length > 0) this.activeSegment.flush();
        return;
      }
      seg.flush();
      if (i < this.segments.length - 1) {
        seg.onBecomeInactive();
        // As Kafka: a snapshot after each recovered segment spares re-reading it.
        this.producerStateManager.takeSnapshot(seg.nextOffset());
      }
      prevNext = seg.nextOffset();
    }
  }

  // ---- producer state --------------------------------------------------------------------------------

  /**
   * Producer state as of `targetOffset`: the newest snapshot at or below it, then the batches from there on
   * (Kafka's rebuildProducerState). Transaction indexes are not touched.
   */
  private rebuildProducerState(targetOffset: number): void {
    const psm = this.producerStateManager;
    const from = psm.loadLatestSnapshot(targetOffset, this.clock.now());
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const next = this.segments[i + 1];
      if (next !== undefined && next.baseOffset <= from) continue;
      if (seg.baseOffset >= targetOffset) break;
      let done = false;
      seg.scanBatchesFrom(Math.max(from, seg.baseOffset), (b) => {
        if (b.lastOffset < from) return true;
        if (b.baseOffset >= targetOffset) {
          done = true;
          return false;
        }
        this.replayBatch(seg, b, false);
        return true;
      });
      if (done) break;
    }
    psm.mapEndOffset = targetOffset;
  }

  /** Applies one stored batch to the producer state; with `indexTxns`, aborted transactions go to its segment's `.txnindex`. */
  private replayBatch(seg: LogSegment, b: BatchInfo, indexTxns: boolean): void {
    const psm = this.producerStateManager;
    psm.mapEndOffset = b.lastOffset + 1;
    if (b.producerId < 0) return;
    let marker: Marker = null;
    if ((b.attributes & CONTROL_FLAG_MASK) !== 0) {
      marker = readEndTxnMarker(seg.readBatchAt(b.position, b.size));
      if (marker === null) return;
    }
    const completed = psm.update({
      producerId: b.producerId,
      producerEpoch: b.producerEpoch,
      baseSequence: b.baseSequence,
      baseOffset: b.baseOffset,
      lastOffset: b.lastOffset,
      maxTimestamp: b.maxTimestamp,
      isTransactional: (b.attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
      marker,
    });
    if (completed) this.completeTxn(seg, completed, indexTxns);
  }

  private completeTxn(seg: LogSegment, completed: CompletedTxn, indexTxns: boolean): void {
    const psm = this.producerStateManager;
    const lastStableOffset = psm.lastStableOffset(completed);
    if (indexTxns && completed.isAborted) {
      seg.txnIndex.append({
        producerId: completed.producerId,
        firstOffset: completed.firstOffset,
        lastOffset: completed.lastOffset,
        lastStableOffset,
      });
    }
    psm.completeTxn(completed);
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
    for (let i = Math.max(0, this.floorSegmentIndex(startOffset)); i < this.segments.length; i++) {
      const res = this.segments[i]!.txnIndex.collectAbortedTxns(startOffset, upperBoundOffset);
      out.push(...res.abortedTransactions);
      if (res.isComplete) break;
    }
    return out;
  }

  private rollJitter(): number {
    const max = Math.min(this.config.segmentJitterMs, this.config.segmentMs);
    return max > 0 ? Math.floor(Math.random() * max) : 0;
  }

  private floorSegmentIndex(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
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
    return this.segments.at(-1)!;
  }

  /** Total `.log` bytes across segments. */
  get size(): number {
    let s = 0;
    for (const seg of this.segments) s += seg.size;
    return s;
  }

  get numberOfSegments(): number {
    return this.segments.length;
  }

  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
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
      if (completed) this.completeTxn(segment, completed, true);
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
    const prefix = path.join(this.dir, String(newBase).padStart(20, '0'));
    if (fs.existsSync(prefix + LOG_FILE_SUFFIX) && fs.statSync(prefix + LOG_FILE_SUFFIX).size > 0) {
      throw new Error(`cannot roll ${this.dir}: segment ${newBase} already exists`);
    }
    for (const s of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX])
      fs.rmSync(prefix + s, { force: true });
    active.onBecomeInactive();
    active.flush();
    this.producerStateManager.takeSnapshot(newBase);
    this.recoveryPointOffset = Math.max(this.recoveryPointOffset, newBase);
    this.segments.push(LogSegment.open(this.dir, newBase, this.clock.now(), this.rollJitter()));
  }

  // ---- read ----------------------------------------------------------------------------------------

  read(fetchOffset: number, maxBytes: number, minOneBatch: boolean, maxOffset?: number): LogReadResult {
    if (fetchOffset < this.#logStartOffset || fetchOffset > this.leo) return { error: 'OFFSET_OUT_OF_RANGE' };
    const limit = Math.min(maxOffset ?? this.leo, this.leo);
    if (fetchOffset >= limit) return { records: null };
    for (let i = Math.max(0, this.floorSegmentIndex(fetchOffset)); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.baseOffset >= limit) break;
      const records = seg.read(fetchOffset, maxBytes, minOneBatch, limit);
      if (records !== null) return { records };
    }
    return { records: null };
  }

  /** First batch (at or after logStartOffset) whose maxTimestamp >= timestamp: its base offset and maxTimestamp. */
  fetchOffsetByTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const next = this.segments[i + 1];
      if (next !== undefined && next.baseOffset <= this.#logStartOffset) continue;
      if (seg.maxTimestampAndOffsetSoFar().timestamp < timestamp) continue;
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
    let count = 0;
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const next = this.segments[i + 1];
      const upperBound = next !== undefined ? next.baseOffset : this.leo;
      const lastAndEmpty = next === undefined && seg.size === 0;
      if (this.hw >= upperBound && !lastAndEmpty && predicate(seg, next)) count++;
      else break;
    }
    if (count === 0) return 0;
    if (count === this.segments.length) this.roll();
    for (const seg of this.segments.splice(0, count)) this.scheduleDelete(seg);
    const start = this.segments[0]!.baseOffset;
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
    while (this.segments.length > 1 && this.activeSegment.baseOffset >= target)
      this.segments.pop()!.deleteFiles();
    this.activeSegment.truncateTo(target);
    this.leo = this.activeSegment.nextOffset();
    this.hw = Math.min(this.hw, this.leo);
    this.recoveryPointOffset = Math.min(this.recoveryPointOffset, this.leo);
    this.leaderEpochCache.truncateFromEnd(this.leo);
    this.activeSegment.flush();
    this.producerStateManager.deleteSnapshotsAbove(this.leo);
    this.rebuildProducerState(this.leo);
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
