// The segments of one partition on disk (Kafka's LocalLog): the segment list and the log end offset,
// appending to and rolling the active segment, reading by offset, truncating the tail, removing and
// deleting segments (after file.delete.delay.ms), the recovery point and flushing. Offsets a client sees
// beyond these (log start offset, high watermark, last stable offset) and producer state are Log's.

import fs from 'node:fs';
import path from 'node:path';
import { fsyncFileInBackground } from '../common/atomic-file.js';
import type { Timer } from '../common/time.js';
import { CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX } from './cleaner/clean.js';
import type { FileRegion } from './file-region.js';
import { type Clock, type LogConfig, randomSegmentJitter } from './log-config.js';
import type { LogSegments } from './log-segments.js';
import {
  filenamePrefixFromOffset,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  LogSegment,
  TIME_INDEX_FILE_SUFFIX,
} from './segment.js';
import type { SegmentWriter } from './segment-writer.js';
import type { AbortedTxn } from './transaction-index.js';
import { TXN_INDEX_FILE_SUFFIX } from './transaction-index.js';

export class LocalLog {
  private lastFlushTime: number;
  private readonly pendingDeletes = new Map<LogSegment, Timer | null>();
  /** Rolled segments whose fsync runs in the background (roll); flush() finishes them first. */
  private readonly rolledUnflushed = new Set<LogSegment>();
  /**
   * Counts truncations: a background fsync that a truncation overtook must not move the recovery
   * point to its end offset (the offsets there now name other, unflushed records).
   */
  private truncations = 0;
  #closed = false;

  constructor(
    readonly dir: string,
    /** `<topic>-<partition>`, for messages. */
    readonly name: string,
    public config: LogConfig,
    private readonly clock: Clock,
    readonly segments: LogSegments,
    private recoveryPointOffset: number,
    private nextOffset: number,
    /** When the log was opened: flush.ms counts from there until the first flush. */
    openedAt: number = clock.now(),
    /** Writes appended batches later, gathered (see SegmentWriter); null: in place. */
    private readonly writer: SegmentWriter | null = null,
  ) {
    this.lastFlushTime = openedAt;
  }

  get logEndOffset(): number {
    return this.nextOffset;
  }

  /** Offset below which everything is fsynced (for recovery-point-offset-checkpoint). */
  get recoveryPoint(): number {
    return this.recoveryPointOffset;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Appends one batch, already given its offsets, to the active segment. */
  append(batch: Buffer, lastOffset: number, maxTimestamp: number): void {
    const { indexIntervalBytes } = this.config;
    this.segments.activeSegment.append(batch, lastOffset, maxTimestamp, indexIntervalBytes, this.writer);
    this.nextOffset = lastOffset + 1;
  }

  /** Whether the active segment must make way for a new one before a batch of this size, last offset and maxTimestamp. */
  shouldRoll(incomingBytes: number, incomingLastOffset: number, maxTimestamp: number, now: number): boolean {
    const seg = this.segments.activeSegment;
    if (seg.size === 0) return false;
    const cfg = this.config;
    return (
      seg.size > cfg.segmentBytes - incomingBytes ||
      seg.timeWaitedForRoll(now, maxTimestamp) > cfg.segmentMs - seg.rollJitterMs ||
      seg.offsetIndex.isFull() ||
      seg.timeIndex.isFull() ||
      incomingLastOffset - seg.baseOffset > 0x7fffffff
    );
  }

  /**
   * Starts a new segment at the log end offset; the old one gets its final time-index entry and is
   * fsynced in the background, as Kafka's roll schedules its "flush-log" task: an fsync of up to
   * segment.bytes of dirty data on the event loop would stall every connection for as long. The
   * recovery point moves to the new segment once that fsync is done; a flush() before then fsyncs
   * the rolled segment itself, so that everything below the recovery point is durable either way.
   * `snapshot` writes the producer state snapshot at the new base offset without an fsync and
   * returns its file, which the same background task fsyncs before the recovery point moves (as
   * Kafka's roll does: an fsync on the loop there cost 8 % of the loop's time under a sustained
   * load whose writeback kept the disk busy). Returns the new segment, or null when the active one
   * is already an empty segment there.
   */
  roll(snapshot?: (newBase: number) => string): LogSegment | null {
    const active = this.segments.activeSegment;
    const newBase = this.nextOffset;
    if (active.size === 0 && active.baseOffset === newBase) return null;
    const prefix = path.join(this.dir, filenamePrefixFromOffset(newBase));
    if (fs.existsSync(prefix + LOG_FILE_SUFFIX) && fs.statSync(prefix + LOG_FILE_SUFFIX).size > 0) {
      throw new Error(`cannot roll ${this.dir}: segment ${newBase} already exists`);
    }
    for (const s of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX])
      fs.rmSync(prefix + s, { force: true });
    active.onBecomeInactive();
    const segment = LogSegment.open(this.dir, newBase, this.clock.now(), randomSegmentJitter(this.config));
    this.segments.add(segment);
    // The roll is done before the snapshot is written: a snapshot that fails leaves a rolled log (as
    // before the snapshot moved here) whose old segment is still fsynced before the recovery point moves.
    let snapshotFile: string | undefined;
    try {
      snapshotFile = snapshot?.(newBase);
    } finally {
      this.flushRolledInBackground(active, newBase, snapshotFile);
    }
    return segment;
  }

  /** Whole batches from the one holding fetchOffset, below `limit` (an offset); null when there are none. */
  read(fetchOffset: number, maxBytes: number, minOneBatch: boolean, limit: number): Buffer | null {
    return this.readFirst(fetchOffset, limit, (seg) => seg.read(fetchOffset, maxBytes, minOneBatch, limit));
  }

  /** read() as a range of the segment file, sent by `dup`'s descriptor (LogSegment.readRegion). */
  readRegion(
    fetchOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    limit: number,
    dup: (fd: number) => number,
  ): FileRegion | null {
    return this.readFirst(fetchOffset, limit, (seg) =>
      seg.readRegion(fetchOffset, maxBytes, minOneBatch, limit, dup),
    );
  }

  /** The first segment's answer from the one holding fetchOffset on, below `limit`. */
  private readFirst<T>(fetchOffset: number, limit: number, read: (seg: LogSegment) => T | null): T | null {
    // Segment by segment rather than values(from, to): a fetch usually needs one, and the hot path should
    // not copy the list of a log with thousands of segments.
    const segments = this.segments;
    let seg = segments.floorSegment(fetchOffset) ?? segments.firstSegment();
    while (seg !== undefined && seg.baseOffset < limit) {
      const records = read(seg);
      if (records !== null) return records;
      seg = segments.higherSegment(seg.baseOffset);
    }
    return null;
  }

  /**
   * Aborted transactions overlapping [startOffset, upperBoundOffset), from the `.txnindex` of the segment
   * holding startOffset and later ones until an entry's LSO reaches the bound (Kafka's collectAbortedTransactions).
   */
  collectAbortedTransactions(startOffset: number, upperBoundOffset: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    const segments = this.segments;
    let seg = segments.floorSegment(startOffset) ?? segments.firstSegment();
    while (seg !== undefined) {
      const res = seg.txnIndex.collectAbortedTxns(startOffset, upperBoundOffset);
      out.push(...res.abortedTransactions);
      if (res.isComplete) break;
      seg = segments.higherSegment(seg.baseOffset);
    }
    return out;
  }

  /**
   * Removes everything at or after `target` (a segment starting there goes too, while another remains)
   * and returns the new log end offset; the active segment is not fsynced here.
   */
  truncateTo(target: number): number {
    const segments = this.segments;
    while (segments.numberOfSegments > 1 && segments.activeSegment.baseOffset >= target)
      segments.remove(segments.activeSegment.baseOffset)!.deleteFiles();
    segments.activeSegment.truncateTo(target);
    this.truncations++;
    this.nextOffset = segments.activeSegment.nextOffset();
    this.recoveryPointOffset = Math.min(this.recoveryPointOffset, this.nextOffset);
    return this.nextOffset;
  }

  /**
   * Deletes every segment and starts an empty one at `newOffset` (Kafka's LocalLog.truncateFullyAndStartAt);
   * everything below is then fsynced by definition.
   */
  truncateFullyAndStartAt(newOffset: number, now: number): void {
    for (const seg of this.segments.values()) {
      this.segments.remove(seg.baseOffset);
      seg.deleteFiles();
    }
    const prefix = path.join(this.dir, filenamePrefixFromOffset(newOffset));
    for (const s of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX])
      fs.rmSync(prefix + s, { force: true });
    this.segments.add(LogSegment.open(this.dir, newOffset, now, randomSegmentJitter(this.config)));
    this.truncations++;
    this.nextOffset = newOffset;
    this.recoveryPointOffset = newOffset;
  }

  /** Takes the `count` oldest segments out of the list (their files stay until deleteSegmentFiles). */
  removeOldestSegments(count: number): LogSegment[] {
    const removed = this.segments.values().slice(0, count);
    for (const seg of removed) this.segments.remove(seg.baseOffset);
    return removed;
  }

  /**
   * Renames a segment out of the list to `.deleted` and deletes it after file.delete.delay.ms (at once when
   * that is 0, or at close); a file left behind by a failure is a leftover the next load removes.
   */
  deleteSegmentFiles(seg: LogSegment): void {
    seg.renameToDeleted();
    if (this.config.fileDeleteDelayMs <= 0) {
      seg.deleteFiles();
      return;
    }
    const timer = this.clock.setTimeout(() => {
      this.pendingDeletes.delete(seg);
      seg.deleteFilesAsync().catch(() => {});
    }, this.config.fileDeleteDelayMs);
    this.pendingDeletes.set(seg, timer);
  }

  /**
   * The cleaner's swap (Kafka's LocalLog.replaceSegments): `newSegments`, written as `.cleaned` files, are
   * renamed `.swap`, take the place of `oldSegments` in the list at once, the old ones are renamed
   * `.deleted` (deleted after file.delete.delay.ms), then the new ones lose their suffix. A crash at any
   * step leaves files LogLoader completes (a `.swap` covers the old segments) or rolls back (a `.cleaned`).
   */
  replaceSegments(newSegments: readonly LogSegment[], oldSegments: readonly LogSegment[]): void {
    for (const seg of newSegments) seg.changeFileSuffixes(CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX);
    const gone = this.segments.replace(newSegments, oldSegments);
    for (const seg of gone) this.deleteSegmentFiles(seg);
    for (const seg of newSegments) seg.changeFileSuffixes(SWAP_FILE_SUFFIX, '');
  }

  private runPendingDeletes(): void {
    for (const [seg, timer] of this.pendingDeletes) {
      timer?.cancel();
      seg.deleteFiles();
    }
    this.pendingDeletes.clear();
  }

  private flushRolledInBackground(segment: LogSegment, endOffset: number, snapshotFile?: string): void {
    this.rolledUnflushed.add(segment);
    const truncations = this.truncations;
    Promise.all([
      segment.flushInBackground(),
      snapshotFile === undefined ? undefined : fsyncFileInBackground(snapshotFile),
    ]).then(
      () => {
        if (!this.rolledUnflushed.delete(segment) || this.#closed || truncations !== this.truncations) return;
        // Only when every earlier rolled segment is durable too.
        const earliestPending = Math.min(...[...this.rolledUnflushed].map((s) => s.baseOffset));
        if (endOffset <= earliestPending)
          this.recoveryPointOffset = Math.max(this.recoveryPointOffset, endOffset);
      },
      // Left in rolledUnflushed: the next flush() fsyncs it on the loop, where a failure is reported
      // (a failing disk takes the directory offline there).
      () => {},
    );
  }

  /** fsyncs the active segment; everything below the log end offset is then durable. */
  flush(): void {
    for (const seg of this.rolledUnflushed) if (!seg.isClosed) seg.flush();
    this.rolledUnflushed.clear();
    this.segments.activeSegment.flush();
    this.recoveryPointOffset = this.nextOffset;
    this.lastFlushTime = this.clock.now();
  }

  /**
   * flush() with its fsyncs in libuv's thread pool (flush.messages' group commit, Log.pendingFlush):
   * when it resolves, everything below the log end offset of the call is durable and the recovery
   * point has moved there (unless a truncation came in between). Rejects with SegmentClosedError
   * when a segment was closed meanwhile (then nothing says its data was fsynced), or with the I/O
   * error.
   */
  async flushInBackground(): Promise<void> {
    const end = this.nextOffset;
    const truncations = this.truncations;
    const rolled = [...this.rolledUnflushed].filter((s) => !s.isClosed);
    await Promise.all([...rolled, this.segments.activeSegment].map((s) => s.flushInBackground()));
    if (this.#closed || truncations !== this.truncations) return;
    for (const s of rolled) this.rolledUnflushed.delete(s);
    this.recoveryPointOffset = Math.max(this.recoveryPointOffset, end);
    this.lastFlushTime = this.clock.now();
  }

  /** flush.ms: flushes when unflushed data is older than the configured interval. */
  maybeFlushByTime(): void {
    if (
      this.nextOffset > this.recoveryPointOffset &&
      this.clock.now() - this.lastFlushTime >= this.config.flushMs
    ) {
      this.flush();
    }
  }

  /** Closes every segment and deletes the segments waiting for file.delete.delay.ms. */
  close(): void {
    if (this.#closed) return;
    for (const seg of this.segments) seg.close();
    this.runPendingDeletes();
    this.#closed = true;
  }

  /** Closes and removes the partition directory. */
  delete(): void {
    this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
