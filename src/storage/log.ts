// One partition's log as the replica manager sees it (Kafka's UnifiedLog): leader appends with producer
// state checks, reads bounded by the log start offset, timestamp lookup, the high watermark and last stable
// offset, DeleteRecords, retention and truncation. The segments on disk are LocalLog's (over LogSegments),
// opening the directory is LogLoader's. High watermark, recovery point and log start offset are persisted
// by LogManager in the log-dir-level checkpoint files (replication-offset-checkpoint,
// recovery-point-offset-checkpoint, log-start-offset-checkpoint) and handed back through LogOpenOptions.
// Producer state (idempotence, open transactions, the last stable offset) lives in a ProducerStateManager
// persisted as `.snapshot` files; aborted transactions are indexed per segment in `.txnindex` files.
import fs from 'node:fs';
import { isDescriptorShortage } from '../common/native.js';
import { KafkaError } from '../protocol/kafka-error.js';
import {
  type BatchInfo,
  checkBatchAt,
  HEADER_SIZE,
  isControl,
  isTransactional,
  lastOffset,
  MAGIC_V2,
  readBaseSequence,
  readBatchInfo,
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
import type { Records } from './file-region.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import { LocalLog } from './local-log.js';
import { type Clock, compacts, deletesByRetention, type LogConfig, systemClock } from './log-config.js';
import type { LogDirState } from './log-dir-failure.js';
import { LogLoader, openLeaderEpochCache } from './log-loader.js';
import { LogSegments } from './log-segments.js';
import {
  type AppendOrigin,
  firstOffsetOf,
  type ProducerBatch,
  ProducerStateManager,
} from './producer-state-manager.js';
import { completeTxn, readEndTxnMarker, rebuildProducerState } from './producer-state-replay.js';
import { validateKeysForCompactedTopic } from './record-validation.js';
import { type LogSegment, SegmentClosedError } from './segment.js';
import type { SegmentWriter } from './segment-writer.js';
import type { AbortedTxn } from './transaction-index.js';

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
  /**
   * The state of the log directory holding this log (LogManager's LogDirFailureChannel): once it is
   * offline every file operation answers KAFKA_STORAGE_ERROR; an I/O error of a failing disk takes it
   * offline (see guardLogDirIo below).
   */
  dirState?: LogDirState;
  /** Gathers appends' writes (LogManager's: at the end of the loop's turn or on a thread); without one they write in place. */
  segmentWriter?: SegmentWriter;
}

/**
 * `ClientRecordDeletion`: DeleteRecords moved it, possibly into the middle of a segment, so only the
 * checkpoint remembers it. `SegmentDeletion`: retention deleted the segments below it, so reopening the
 * log derives it again from the first remaining segment. `LeaderOffsetIncremented`: a follower took its
 * leader's log start offset (remembered by the checkpoint, as a client deletion).
 */
export type LogStartOffsetIncrementReason =
  | 'ClientRecordDeletion'
  | 'SegmentDeletion'
  | 'LeaderOffsetIncremented';

export type LogReadResult<R = Buffer> = { records: R | null } | { error: 'OFFSET_OUT_OF_RANGE' };

export interface LogAppendInfo {
  baseOffset: number;
  lastOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  /** Set when a producer retried a batch already in the log: nothing was appended, these are its offsets. */
  duplicate?: true;
}

export class LogOffsetOutOfRangeError extends KafkaError {
  override name = 'OffsetOutOfRangeException';
  constructor(message: string) {
    super('OFFSET_OUT_OF_RANGE', message);
  }
}

/** Records a follower fetched are not whole valid magic-2 batches (Kafka's CorruptRecordException). */
export class CorruptRecordError extends KafkaError {
  override name = 'CorruptRecordException';
  constructor(message: string) {
    super('CORRUPT_MESSAGE', message);
  }
}

/** Fetched records start below the follower's log end offset (Kafka's UnexpectedAppendOffsetException). */
export class UnexpectedAppendOffsetError extends Error {
  override name = 'UnexpectedAppendOffsetException';
}

/** What a follower append wrote (offsets as the leader assigned them). */
export interface FollowerAppendInfo {
  firstOffset: number;
  lastOffset: number;
  batches: number;
  bytes: number;
}

export class Log {
  readonly leaderEpochCache: LeaderEpochCache;
  readonly producerStateManager: ProducerStateManager;
  private readonly local: LocalLog;
  /** The log start offset (Kafka's logStartOffset; not the LSO, which is the last stable offset). */
  #logStartOffset: number;
  private hw: number;

  private constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly clock: Clock,
    private readonly opts: LogOpenOptions,
    local: LocalLog,
    epochCache: LeaderEpochCache,
    producerStateManager: ProducerStateManager,
    logStartOffset: number,
  ) {
    this.local = local;
    this.leaderEpochCache = epochCache;
    this.producerStateManager = producerStateManager;
    this.#logStartOffset = logStartOffset;
    this.hw = Math.min(Math.max(opts.highWatermark ?? 0, logStartOffset), local.logEndOffset);
  }

  /** Opens (creating when missing) and recovers the partition directory `dir` (see LogLoader). */
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
    const name = `${topic}-${partition}`;
    const psm = new ProducerStateManager(dir, name, opts.producerIdExpirationMs);
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
    const local = new LocalLog(
      dir,
      name,
      config,
      clock,
      segments,
      loaded.recoveryPoint,
      loaded.logEndOffset,
      openedAt,
      opts.segmentWriter ?? null,
    );
    return new Log(topic, partition, clock, opts, local, cache, psm, loaded.logStartOffset);
  }

  // ---- state ---------------------------------------------------------------------------------------

  get dir(): string {
    return this.local.dir;
  }

  get config(): LogConfig {
    return this.local.config;
  }

  set config(config: LogConfig) {
    this.local.config = config;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  get logEndOffset(): number {
    return this.local.logEndOffset;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** Offset below which everything is fsynced (for recovery-point-offset-checkpoint). */
  get recoveryPoint(): number {
    return this.local.recoveryPoint;
  }

  get activeSegment(): LogSegment {
    return this.local.segments.activeSegment;
  }

  /** Total `.log` bytes across segments. */
  get size(): number {
    return this.local.segments.sizeInBytes();
  }

  get numberOfSegments(): number {
    return this.local.segments.numberOfSegments;
  }

  segmentBaseOffsets(): number[] {
    return this.local.segments.baseOffsets();
  }

  /** Clamped to [logStartOffset, logEndOffset]. */
  updateHighWatermark(offset: number): void {
    this.hw = Math.min(Math.max(offset, this.#logStartOffset), this.logEndOffset);
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
    return this.local.collectAbortedTransactions(startOffset, upperBoundOffset);
  }

  // ---- append --------------------------------------------------------------------------------------

  /**
   * Appends one batch as leader. A batch with a producer id is first checked against the producer state
   * (`origin` 'client' validates sequences and answers a retried batch with its original offsets, marked
   * `duplicate`); a refused batch throws ProducerStateError. COMMIT/ABORT markers ('coordinator') complete
   * the producer's transaction and index it in `.txnindex` when aborted.
   */
  appendAsLeader(batch: Buffer, leaderEpoch: number, origin: AppendOrigin = 'client'): LogAppendInfo {
    if (this.local.isClosed) throw new Error(`log ${this.topic}-${this.partition} is closed`);
    if (
      batch.length < HEADER_SIZE ||
      readBatchSize(batch, 0) !== batch.length ||
      readMagic(batch, 0) !== MAGIC_V2
    ) {
      throw new Error('appendAsLeader expects exactly one magic-2 batch');
    }
    // Kafka's LogValidator: a compacted topic refuses records without a key (the only record-level check
    // here, so only compacted topics decode what clients produce).
    if (origin === 'client' && compacts(this.config))
      validateKeysForCompactedTopic(batch, `${this.topic}-${this.partition}`);
    const now = this.clock.now();
    const baseOffset = this.logEndOffset;
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
    if (this.local.shouldRoll(batch.length, last, maxTimestamp, now)) this.roll();
    const segment = this.activeSegment;
    this.local.append(batch, last, maxTimestamp);
    const leo = this.logEndOffset;
    if (producerBatch !== null) {
      producerBatch.maxTimestamp = maxTimestamp;
      const completed = this.producerStateManager.update(producerBatch);
      if (completed) completeTxn(this.producerStateManager, segment, completed, true);
    }
    this.producerStateManager.mapEndOffset = leo;
    if (leaderEpoch >= 0) this.leaderEpochCache.assign(leaderEpoch, baseOffset);
    if (leo - this.recoveryPoint >= this.config.flushMessages) {
      // Group commit: a produced batch is fsynced with every other batch appended here in this turn
      // of the event loop, once (the producers' answers wait for it, see pendingFlush); markers and
      // coordinator writes are fsynced before append returns, as Kafka does for every append.
      if (origin === 'client') this.scheduleFlush();
      else this.flush();
    }
    return { baseOffset, lastOffset: last, logAppendTime, logStartOffset: this.#logStartOffset };
  }

  /**
   * Appends what a follower fetched from its leader (Kafka's UnifiedLog.appendAsFollower): the batches
   * keep the leader's offsets, leader epochs and timestamps, byte for byte. Every batch is checked first
   * (size, magic 2, CRC, offsets increasing from at least the log end offset: gaps are allowed, as a
   * compacted leader has them), so a bad set appends nothing; a partial batch at the end (a fetch cut by
   * its byte limit) is left for the next fetch. The leader-epoch cache takes each batch's epoch, the
   * producer state each producer batch (not validated: the leader did). Returns null when there was no
   * whole batch.
   */
  appendAsFollower(records: Buffer): FollowerAppendInfo | null {
    if (this.local.isClosed) throw new Error(`log ${this.topic}-${this.partition} is closed`);
    const batches: BatchInfo[] = [];
    let expected = this.logEndOffset;
    for (let pos = 0; pos < records.length; ) {
      const bad = checkBatchAt(records, pos, records.length, true);
      if (bad === 'partial') break;
      if (bad !== null) {
        throw new CorruptRecordError(
          `${this.topic}-${this.partition}: fetched batch at byte ${pos} is invalid (${bad})`,
        );
      }
      const info = readBatchInfo(records, pos);
      if (info.baseOffset < expected) {
        throw new UnexpectedAppendOffsetError(
          `${this.topic}-${this.partition}: fetched batch starts at ${info.baseOffset}, expected at least ${expected}`,
        );
      }
      if (info.lastOffset < info.baseOffset) {
        throw new CorruptRecordError(
          `${this.topic}-${this.partition}: batch at ${info.baseOffset} ends before it starts`,
        );
      }
      expected = info.lastOffset + 1;
      batches.push(info);
      pos += info.size;
    }
    if (batches.length === 0) return null;
    const now = this.clock.now();
    let bytes = 0;
    for (const info of batches) {
      const batch = records.subarray(info.position, info.position + info.size);
      if (this.local.shouldRoll(info.size, info.lastOffset, info.maxTimestamp, now)) this.roll();
      const segment = this.activeSegment;
      this.local.append(batch, info.lastOffset, info.maxTimestamp);
      bytes += info.size;
      if (info.producerId >= 0) {
        const producerBatch: ProducerBatch = {
          producerId: info.producerId,
          producerEpoch: info.producerEpoch,
          baseSequence: info.baseSequence,
          baseOffset: info.baseOffset,
          lastOffset: info.lastOffset,
          maxTimestamp: info.maxTimestamp,
          isTransactional: isTransactional(batch, 0),
          marker: isControl(batch, 0) ? readEndTxnMarker(batch) : null,
        };
        if (!isControl(batch, 0) || producerBatch.marker !== null) {
          const completed = this.producerStateManager.update(producerBatch);
          if (completed) completeTxn(this.producerStateManager, segment, completed, true);
        }
      }
      this.producerStateManager.mapEndOffset = this.logEndOffset;
      if (info.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch()) {
        this.leaderEpochCache.assign(info.partitionLeaderEpoch, info.baseOffset);
      }
    }
    if (this.logEndOffset - this.recoveryPoint >= this.config.flushMessages) this.flush();
    return {
      firstOffset: batches[0]!.baseOffset,
      lastOffset: batches.at(-1)!.lastOffset,
      batches: batches.length,
      bytes,
    };
  }

  /**
   * Starts a new segment at the log end offset (the old one gets its final time-index entry and is
   * fsynced) and snapshots the producer state there.
   */
  roll(): void {
    this.local.roll((newBase) => this.producerStateManager.takeSnapshot(newBase, false));
  }

  // ---- read ----------------------------------------------------------------------------------------

  /**
   * Whole batches from the one holding fetchOffset, below maxOffset (default: the log end). With `dup`,
   * a range of the segment file to send with sendfile(2) (a FileRegion holding `dup`'s descriptor).
   */
  read(fetchOffset: number, maxBytes: number, minOneBatch: boolean, maxOffset?: number): LogReadResult;
  read(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset: number | undefined,
    dup: ((fd: number) => number) | undefined,
  ): LogReadResult<Records>;
  read(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset?: number,
    dup?: (fd: number) => number,
  ): LogReadResult<Records> {
    const leo = this.logEndOffset;
    if (fetchOffset < this.#logStartOffset || fetchOffset > leo) return { error: 'OFFSET_OUT_OF_RANGE' };
    const limit = Math.min(maxOffset ?? leo, leo);
    if (fetchOffset >= limit) return { records: null };
    if (dup !== undefined) {
      try {
        return { records: this.local.readRegion(fetchOffset, maxBytes, minOneBatch, limit, dup) };
      } catch (err) {
        if (!isDescriptorShortage(err)) throw err; // else the same bytes from a buffer
      }
    }
    return { records: this.local.read(fetchOffset, maxBytes, minOneBatch, limit) };
  }

  /** First batch (at or after logStartOffset) whose maxTimestamp >= timestamp: its base offset and maxTimestamp. */
  fetchOffsetByTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    const start = this.#logStartOffset;
    for (const seg of this.local.segments.candidatesForTimestamp(timestamp, start)) {
      const b = seg.findBatchByTimestamp(timestamp, start);
      if (b !== null) return { offset: Math.max(b.baseOffset, start), timestamp: b.maxTimestamp };
    }
    return null;
  }

  /** Largest batch maxTimestamp and the lastOffset of the earliest batch carrying it; null when none. */
  maxTimestampAndOffset(): { timestamp: number; offset: number } | null {
    let best: { timestamp: number; offset: number } | null = null;
    for (const seg of this.local.segments) {
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
    this.maybeIncrementLogStartOffset(offset, 'ClientRecordDeletion');
  }

  /**
   * Moves the log start offset up to `offset` (never past the high watermark; nothing when it is not
   * higher) and drops the whole segments below it (Kafka's maybeIncrementLogStartOffset). A follower
   * calls it with its leader's log start offset.
   */
  maybeIncrementLogStartOffset(offset: number, reason: LogStartOffsetIncrementReason): void {
    const target = Math.min(offset, this.hw);
    if (target <= this.#logStartOffset) return;
    this.#logStartOffset = target;
    // Not fsynced here (Kafka's truncateFromStartAsyncFlush): reopening truncates the cache from the log
    // start offset again; the file is rewritten at close or with the next epoch.
    this.leaderEpochCache.truncateFromStart(target, false);
    this.deleteOldSegments((_seg, next) => next !== undefined && next.baseOffset <= this.#logStartOffset);
    this.opts.onLogStartOffsetChange?.(this, reason);
  }

  /**
   * Kafka's UnifiedLog.deleteOldSegments, one retention pass; returns the number of segments deleted.
   * Whatever the cleanup.policy, whole segments below the log start offset go (DeleteRecords moves it on
   * every topic). Only when the policy includes `delete` do retention.bytes and then retention.ms delete
   * the oldest segments as well: a `compact` topic keeps every segment (compaction shrinks it).
   */
  applyRetention(): number {
    if (this.local.isClosed) return 0;
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

  /**
   * Deletes the oldest segments while `predicate` holds and the high watermark is past them (never an empty
   * active segment; rolls first when every segment goes), then moves the log start offset to the first
   * remaining one.
   */
  private deleteOldSegments(predicate: (seg: LogSegment, next: LogSegment | undefined) => boolean): number {
    const all = this.local.segments.values();
    let count = 0;
    for (let i = 0; i < all.length; i++) {
      const seg = all[i]!;
      const next = all[i + 1];
      const upperBound = next !== undefined ? next.baseOffset : this.logEndOffset;
      const lastAndEmpty = next === undefined && seg.size === 0;
      if (this.hw >= upperBound && !lastAndEmpty && predicate(seg, next)) count++;
      else break;
    }
    if (count === 0) return 0;
    if (count === all.length) this.roll();
    for (const seg of this.local.removeOldestSegments(count)) {
      this.producerStateManager.deleteSnapshot(seg.baseOffset);
      this.local.deleteSegmentFiles(seg);
    }
    const start = this.local.segments.firstSegment()!.baseOffset;
    if (start > this.#logStartOffset) {
      this.#logStartOffset = start;
      this.hw = Math.max(this.hw, this.#logStartOffset);
      this.leaderEpochCache.truncateFromStart(start, false);
      this.opts.onLogStartOffsetChange?.(this, 'SegmentDeletion');
    }
    return count;
  }

  /**
   * Follower/epoch truncation (Kafka's UnifiedLog.truncateTo): removes everything at or after
   * targetOffset — segments, index entries, leader epochs starting there, producer state (rebuilt from
   * the newest snapshot below) — and lowers the high watermark to the new log end offset. Returns
   * whether anything was removed.
   */
  truncateTo(targetOffset: number): boolean {
    if (targetOffset < 0)
      throw new Error(`cannot truncate ${this.topic}-${this.partition} to ${targetOffset}`);
    if (targetOffset >= this.logEndOffset) return false;
    if (targetOffset < this.#logStartOffset) {
      this.truncateFullyAndStartAt(targetOffset);
      return true;
    }
    const leo = this.local.truncateTo(Math.max(targetOffset, this.#logStartOffset));
    this.hw = Math.min(this.hw, leo);
    this.leaderEpochCache.truncateFromEnd(leo);
    this.activeSegment.flush();
    this.producerStateManager.deleteSnapshotsAbove(leo);
    rebuildProducerState(this.producerStateManager, this.local.segments, leo, this.clock.now());
    return true;
  }

  /**
   * Deletes every segment and starts the log empty at `newOffset` (Kafka's truncateFullyAndStartAt): a
   * follower whose fetch offset fell outside its leader's log. Log start offset, high watermark and
   * recovery point all move there; the epoch cache and producer state are emptied.
   */
  truncateFullyAndStartAt(newOffset: number): void {
    if (this.local.isClosed) throw new Error(`log ${this.topic}-${this.partition} is closed`);
    this.local.truncateFullyAndStartAt(newOffset, this.clock.now());
    this.leaderEpochCache.clear();
    this.producerStateManager.deleteSnapshotsAbove(-1);
    this.producerStateManager.clear();
    this.producerStateManager.mapEndOffset = newOffset;
    const moved = newOffset !== this.#logStartOffset;
    this.#logStartOffset = newOffset;
    this.hw = newOffset;
    if (moved) this.opts.onLogStartOffsetChange?.(this, 'LeaderOffsetIncremented');
  }

  // ---- for the log cleaner ------------------------------------------------------------------------

  get isClosed(): boolean {
    return this.local.isClosed;
  }

  /** The segments that may hold offsets in [from, to) (Kafka's logSegments(from, to)); every one without arguments. */
  logSegments(from?: number, to?: number): LogSegment[] {
    return this.local.segments.values(from, to);
  }

  /** Each active producer's last data offset (-1 when its last write was a marker) and epoch (Kafka's lastRecordsOfActiveProducers). */
  lastRecordsOfActiveProducers(): { producerId: number; lastDataOffset: number; producerEpoch: number }[] {
    return this.producerStateManager.activeProducers().map((e) => ({
      producerId: e.producerId,
      lastDataOffset: e.lastDataOffset,
      producerEpoch: e.producerEpoch,
    }));
  }

  /** Swaps cleaned segments in for the segments they were made from (see LocalLog.replaceSegments). */
  replaceSegments(newSegments: readonly LogSegment[], oldSegments: readonly LogSegment[]): void {
    if (this.local.isClosed) throw new Error(`log ${this.topic}-${this.partition} is closed`);
    this.local.replaceSegments(newSegments, oldSegments);
  }

  // ---- flush and lifecycle -------------------------------------------------------------------------

  /** fsyncs the active segment; everything below the log end offset is then durable. */
  flush(): void {
    this.local.flush();
  }

  #pendingFlush: Promise<Error | null> | null = null;
  /** The group-commit fsync running in libuv's pool, if any (resolves, never rejects). */
  #flushing: Promise<Error | null> | null = null;

  /**
   * The fsync `flush.messages` asked for by client appends not yet covered by a running one:
   * resolves (null, or the error the fsync failed with) once what they appended is durable; null
   * when nothing waits. An acknowledgement of those appends waits for it.
   */
  get pendingFlush(): Promise<Error | null> | null {
    return this.#pendingFlush;
  }

  /**
   * Group commit: the appends of this turn of the event loop share one fsync, run in libuv's pool
   * so the loop goes on serving other connections meanwhile; the appends that arrive while it runs
   * share the next one, started when it ends. The more producers, the more batches per fsync.
   */
  private scheduleFlush(): void {
    if (this.#pendingFlush) return;
    const running = this.#flushing;
    this.#pendingFlush = new Promise((resolve) => {
      const start = () => {
        this.#pendingFlush = null;
        const done = this.flushForAppends().then(
          () => null,
          (err: Error) => err,
        );
        this.#flushing = done;
        void done.then((err) => {
          if (this.#flushing === done) this.#flushing = null;
          resolve(err);
        });
      };
      if (running) void running.then(start);
      else setImmediate(start);
    });
  }

  /** One group-commit fsync; an I/O error is shown to the directory's state as a flush()'s would be. */
  private async flushForAppends(): Promise<void> {
    if (this.local.isClosed) return; // close() flushed (or a crash let go: nothing was answered)
    const state = this.dirState;
    const what = `flush on ${this.topic}-${this.partition}`;
    state?.checkOnline(what);
    try {
      await this.local.flushInBackground();
    } catch (err) {
      if (err instanceof SegmentClosedError) {
        // A roll, retention or truncation closed a segment under the fsync: finish on the loop.
        if (!this.local.isClosed) this.flush();
        return;
      }
      state?.failed(what, err);
      throw err;
    }
  }

  /** flush.ms: flushes when unflushed data is older than the configured interval. */
  maybeFlushByTime(): void {
    this.local.maybeFlushByTime();
  }

  /** The state of the log directory holding this log, when its owner tracks it. */
  get dirState(): LogDirState | undefined {
    return this.opts.dirState;
  }

  close(): void {
    if (this.local.isClosed) return;
    if (this.opts.dirState?.offline) {
      // Nothing more is written to a failed directory: the handles are let go, as Kafka's closeHandlers.
      try {
        this.local.close();
      } catch {
        // the disk is failing; the next start recovers this log
      }
      return;
    }
    this.flush();
    this.leaderEpochCache.flushIfDirty();
    this.producerStateManager.takeSnapshot(this.logEndOffset);
    this.local.close();
  }

  /**
   * Lets go of the files as a crashed process would (`Cluster.killBroker`): nothing flushed beyond
   * what was written, no producer snapshot, no epoch cache flush; the next open recovers.
   */
  abandon(): void {
    this.local.close();
  }

  /** Closes and removes the partition directory. */
  delete(): void {
    this.local.delete();
  }
}

/**
 * Kafka's UnifiedLog.maybeHandleIOException around every Log operation that touches the files, put
 * around the methods below rather than written into each: an offline log directory refuses the
 * operation with KAFKA_STORAGE_ERROR before any file is touched; an error thrown by it is shown to
 * the directory's state (a failing disk takes the directory offline, a full one flags it full) and
 * rethrown; a successful append clears the full flag. Logs opened without a `dirState` are as before.
 */
const GUARDED_LOG_METHODS: Record<string, 'append' | 'other'> = {
  appendAsLeader: 'append',
  appendAsFollower: 'append',
  roll: 'other',
  read: 'other',
  fetchOffsetByTimestamp: 'other',
  maxTimestampAndOffset: 'other',
  collectAbortedTransactions: 'other',
  deleteRecordsBefore: 'other',
  applyRetention: 'other',
  truncateTo: 'other',
  truncateFullyAndStartAt: 'other',
  replaceSegments: 'other',
  flush: 'other',
  maybeFlushByTime: 'other',
};

/**
 * Background work the broker runs over every partition it hosts (retention, flush.ms): on an
 * offline directory it has nothing to do, as Kafka's LogManager no longer lists those logs; it
 * answers this instead of an error every pass.
 */
const SKIPPED_WHEN_OFFLINE: Record<string, unknown> = { applyRetention: 0, maybeFlushByTime: undefined };

function guardLogDirIo(): void {
  const proto = Log.prototype as unknown as Record<string, (this: Log, ...args: unknown[]) => unknown>;
  for (const [name, kind] of Object.entries(GUARDED_LOG_METHODS)) {
    const method = proto[name]!;
    proto[name] = function guarded(this: Log, ...args: unknown[]): unknown {
      const state = this.dirState;
      if (state === undefined) return method.apply(this, args);
      if (state.offline !== null && name in SKIPPED_WHEN_OFFLINE) return SKIPPED_WHEN_OFFLINE[name];
      const what = `${name} on ${this.topic}-${this.partition}`;
      state.checkOnline(what);
      try {
        const result = method.apply(this, args);
        if (kind === 'append') state.written();
        return result;
      } catch (err) {
        state.failed(what, err);
        throw err;
      }
    };
  }
}
guardLogDirIo();
