// One log segment: `<20-digit base>.log` + `.index` + `.timeindex` (+ `.txnindex` once a transaction is aborted in it). Appends whole batches as received
// (fs.writeSync on an append fd, or gathered by a SegmentWriter), reads whole batches by offset, finds batches by timestamp and recovers
// (re-validates and re-indexes) its file. Mirrors Kafka's LogSegment.
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BatchInfo, BatchStopReason } from '../protocol/record-batch.js';
import {
  dataRecordsCount,
  HEADER_SIZE,
  iterateBatches,
  readBatchInfo,
  readBatchSize,
} from '../protocol/record-batch.js';
import { type ReadAt, readFully, type ScanStop, scanFileBatches, writeFully } from './file-batch-scanner.js';
import { FileRegion } from './file-region.js';
import { checkSimulatedIoFault } from './log-dir-failure.js';
import { OffsetIndex } from './offset-index.js';
import { readBuffers } from './read-buffer-pool.js';
import type { SegmentWriter, WriteOwner } from './segment-writer.js';
import { TimeIndex } from './time-index.js';
import { TransactionIndex, TXN_INDEX_FILE_SUFFIX } from './transaction-index.js';

const closeAsync = promisify(fs.close);
/** The header walk of readRegion (one event loop: never in use twice at once). */
const headerWindow = Buffer.allocUnsafeSlow(8 * 1024);

/** A background fsync's segment was closed before it finished (see LogSegment.flushInBackground). */
export class SegmentClosedError extends Error {
  override name = 'SegmentClosedError';
}

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const DELETED_FILE_SUFFIX = '.deleted';

export const filenamePrefixFromOffset = (offset: number): string => String(offset).padStart(20, '0');

export interface RecoverResult {
  validBytes: number;
  truncatedBytes: number;
  stopReason: ScanStop;
}

export class LogSegment implements WriteOwner {
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  readonly txnIndex: TransactionIndex;
  logFile: string;
  size: number;
  /** Wall-clock creation time (Kafka's LogSegment.created), used by segment.ms when batches lack timestamps. */
  readonly created: number;
  /** The file system the segment is on (SegmentWriter counts free space per file system). */
  readonly dev: number;
  private fd: number;
  private bytesSinceLastIndexEntry = 0;
  private maxTs: { timestamp: number; offset: number } | null = null;
  private rollingBasedTimestamp: number | null = null;
  private knownNextOffset: number | null = null;
  /**
   * Background writes (SegmentWriter): the `.log` holds `writtenSize` bytes; the rest up to `size` are
   * the writer's descriptors in `tail` (oldest first, from `tailHead`), read from its ring meanwhile.
   */
  private writer: SegmentWriter | null = null;
  private writtenSize = 0;
  private readonly tail: number[] = [];
  private tailHead = 0;
  /** A background write failed: the segment takes no more bytes (its directory is failing). */
  private writeError: Error | null = null;
  /** Reads the segment's bytes as appended: the file, then the writes still in the ring. */
  private readonly readAt: ReadAt = (buf, length, position) => this.readRange(buf, length, position);

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly rollJitterMs: number,
    now: number,
    fileSuffix = '',
  ) {
    const prefix = path.join(dir, filenamePrefixFromOffset(baseOffset));
    this.logFile = prefix + LOG_FILE_SUFFIX + fileSuffix;
    this.offsetIndex = new OffsetIndex(prefix + INDEX_FILE_SUFFIX + fileSuffix, baseOffset);
    this.timeIndex = new TimeIndex(prefix + TIME_INDEX_FILE_SUFFIX + fileSuffix, baseOffset);
    this.txnIndex = new TransactionIndex(prefix + TXN_INDEX_FILE_SUFFIX + fileSuffix, baseOffset);
    this.fd = fs.openSync(this.logFile, 'a+');
    const stat = fs.fstatSync(this.fd);
    this.size = stat.size;
    this.dev = stat.dev;
    this.writtenSize = this.size;
    this.created = now;
  }

  /**
   * Opens (creating when missing) the segment files for baseOffset in dir; with a `fileSuffix` (the
   * cleaner's `.cleaned`, recovery's `.swap`) every file name ends with it, as Kafka's LogSegment.open.
   */
  static open(dir: string, baseOffset: number, now: number, rollJitterMs = 0, fileSuffix = ''): LogSegment {
    const seg = new LogSegment(dir, baseOffset, rollJitterMs, now, fileSuffix);
    for (const f of [seg.offsetIndex.file, seg.timeIndex.file])
      if (!fs.existsSync(f)) fs.writeFileSync(f, '');
    if (seg.size === 0) seg.knownNextOffset = baseOffset;
    return seg;
  }

  static indexFilesExist(dir: string, baseOffset: number): boolean {
    const prefix = path.join(dir, filenamePrefixFromOffset(baseOffset));
    return fs.existsSync(prefix + INDEX_FILE_SUFFIX) && fs.existsSync(prefix + TIME_INDEX_FILE_SUFFIX);
  }

  /** Running max batch timestamp and the lastOffset of the earliest batch carrying it; (-1, base) if none. */
  maxTimestampAndOffsetSoFar(): { timestamp: number; offset: number } {
    this.maxTs ??= this.timeIndex.lastEntry();
    return this.maxTs;
  }

  /** Kafka's largestTimestamp: the max batch timestamp when > 0, else the `.log` mtime. */
  largestTimestamp(): number {
    const ts = this.maxTimestampAndOffsetSoFar().timestamp;
    return ts > 0 ? ts : fs.fstatSync(this.fd).mtimeMs;
  }

  /** maxTimestamp of the first batch (Kafka's rollingBasedTimestamp), or null when empty. */
  firstBatchTimestamp(): number | null {
    if (this.rollingBasedTimestamp === null && this.size > 0) {
      scanFileBatches(this.readAt, 0, this.size, false, (b) => {
        this.rollingBasedTimestamp = b.maxTimestamp;
        return false;
      });
    }
    return this.rollingBasedTimestamp;
  }

  /** Kafka's timeWaitedForRoll. */
  timeWaitedForRoll(now: number, incomingMaxTimestamp: number): number {
    const ts = this.firstBatchTimestamp() ?? -1;
    return ts >= 0 ? incomingMaxTimestamp - ts : now - this.created;
  }

  /** Offset after the last batch (baseOffset when empty); scans from the last index entry when unknown. */
  nextOffset(): number {
    if (this.knownNextOffset === null) {
      let next = this.baseOffset;
      const start =
        this.offsetIndex.entries > 0 ? this.offsetIndex.lookup(Number.MAX_SAFE_INTEGER).position : 0;
      scanFileBatches(this.readAt, start, this.size, false, (b) => {
        next = b.lastOffset + 1;
        return true;
      });
      this.knownNextOffset = next;
    }
    return this.knownNextOffset;
  }

  /**
   * Appends one batch (bytes as given) whose header says lastOffset/maxTimestamp. With a `writer` the
   * write happens later, at the end of the loop's turn or on its thread (the bytes are readable here at
   * once; `whenWritten` says when they are in the file); without one, or for a batch too big for its
   * ring, here.
   */
  append(
    batch: Buffer,
    lastOffset: number,
    maxTimestamp: number,
    indexIntervalBytes: number,
    writer: SegmentWriter | null = null,
  ): void {
    const rel = lastOffset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff)
      throw new Error(`offset ${lastOffset} out of range for segment ${this.baseOffset}`);
    if (this.writeError) throw this.writeError;
    const position = this.size;
    checkSimulatedIoFault(this.logFile, 'write');
    if (writer !== null && batch.length <= writer.maxBytes && writer.hasRoomFor(this, batch.length)) {
      this.writer = writer;
      this.tail.push(writer.submit(this, this.fd, position, batch));
    } else {
      this.settleWrites();
      try {
        writeFully(this.fd, batch);
      } catch (e) {
        fs.ftruncateSync(this.fd, position); // do not leave a torn batch behind a failed write
        throw e;
      }
      this.writtenSize = position + batch.length;
    }
    this.size += batch.length;
    if (position === 0) this.rollingBasedTimestamp = maxTimestamp;
    this.afterBatch(position, lastOffset, maxTimestamp, batch.length, indexIntervalBytes);
  }

  /** SegmentWriter: the oldest background write of this segment is done; true on its first failure. */
  onWritten(bytes: number, error: Error | null): boolean {
    this.tailHead++;
    if (this.tailHead === this.tail.length) {
      this.tail.length = 0;
      this.tailHead = 0;
    } else if (this.tailHead >= 1024) {
      this.tail.splice(0, this.tailHead);
      this.tailHead = 0;
    }
    if (error === null) {
      if (this.writeError === null) this.writtenSize += bytes;
      return false;
    }
    if (this.writeError !== null) return false;
    this.writeError = error;
    return true;
  }

  /** The writer's number of this segment's last background write, or 0 when none is outstanding. */
  get lastPendingWrite(): number {
    return this.tailHead < this.tail.length ? this.tail[this.tail.length - 1]! : 0;
  }

  /** Blocks until the background writes of this segment are in its file (before truncating, syncing or closing it). */
  settleWrites(): void {
    const last = this.lastPendingWrite;
    if (last !== 0) this.writer!.waitFor(last);
  }

  /** Resolves once the background writes appended so far are in the file (rejects when one failed). */
  private writesDone(): Promise<void> {
    const last = this.lastPendingWrite;
    if (last === 0) return this.writeError ? Promise.reject(this.writeError) : Promise.resolve();
    return new Promise((resolve, reject) =>
      this.writer!.whenWritten(last, () => (this.writeError ? reject(this.writeError) : resolve())),
    );
  }

  /** `length` bytes at `position` as appended: from the file up to `writtenSize`, then from the writer's ring. */
  private readRange(buf: Buffer, length: number, position: number): number {
    const end = position + length;
    let at = position;
    if (position < this.writtenSize) {
      const fromFile = Math.min(end, this.writtenSize) - position;
      const n = readFully(this.fd, buf, fromFile, position);
      if (n < fromFile || end <= this.writtenSize) return n;
      at += n;
    }
    const writer = this.writer;
    if (writer === null) return at - position;
    let entryStart = this.writtenSize;
    for (let i = this.tailHead; i < this.tail.length && at < end; i++) {
      const seq = this.tail[i]!;
      const len = writer.lengthOf(seq);
      const entryEnd = entryStart + len;
      if (entryEnd > at) {
        const from = writer.ringOffset(seq) + (at - entryStart);
        const count = Math.min(entryEnd, end) - at;
        writer.ring.copy(buf, at - position, from, from + count);
        at += count;
      }
      entryStart = entryEnd;
    }
    return at - position;
  }

  private afterBatch(
    position: number,
    lastOffset: number,
    maxTimestamp: number,
    size: number,
    interval: number,
  ): void {
    const max = this.maxTimestampAndOffsetSoFar();
    if (maxTimestamp > max.timestamp) this.maxTs = { timestamp: maxTimestamp, offset: lastOffset };
    if (this.bytesSinceLastIndexEntry > interval) {
      this.offsetIndex.append(lastOffset, position);
      const m = this.maxTimestampAndOffsetSoFar();
      this.timeIndex.maybeAppend(m.timestamp, m.offset);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.knownNextOffset = lastOffset + 1;
  }

  /**
   * Re-validates every batch (size, magic, CRC, offsets increasing and in range), rebuilds both indexes, and
   * truncates the `.log` at the first bad or partial batch. `onBatch` sees each valid batch.
   */
  recover(indexIntervalBytes: number, onBatch?: (b: BatchInfo) => void): RecoverResult {
    this.settleWrites();
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.txnIndex.reset();
    this.maxTs = { timestamp: -1, offset: this.baseOffset };
    this.bytesSinceLastIndexEntry = 0;
    this.rollingBasedTimestamp = null;
    let expectedMin = this.baseOffset;
    let stopReason: ScanStop = 'end';
    const res = scanFileBatches(this.readAt, 0, this.size, true, (b) => {
      if (
        b.baseOffset < expectedMin ||
        b.lastOffset < b.baseOffset ||
        b.lastOffset - this.baseOffset > 0x7fffffff
      ) {
        stopReason = 'invalid-size';
        return false;
      }
      if (b.position === 0) this.rollingBasedTimestamp = b.maxTimestamp;
      this.afterBatch(b.position, b.lastOffset, b.maxTimestamp, b.size, indexIntervalBytes);
      expectedMin = b.lastOffset + 1;
      onBatch?.(b);
      return true;
    });
    if (res.stopReason !== 'stopped') stopReason = res.stopReason;
    const validBytes = res.position;
    const truncatedBytes = this.size - validBytes;
    if (truncatedBytes > 0) {
      fs.ftruncateSync(this.fd, validBytes);
      this.size = validBytes;
      this.writtenSize = validBytes;
    }
    this.knownNextOffset = expectedMin;
    const m = this.maxTimestampAndOffsetSoFar();
    this.timeIndex.maybeAppend(m.timestamp, m.offset);
    return { validBytes, truncatedBytes, stopReason: truncatedBytes > 0 ? stopReason : 'end' };
  }

  /** Visits batch headers from the batch holding `fromOffset` (via the offset index) to the end; `visit` returns false to stop. */
  scanBatchesFrom(fromOffset: number, visit: (b: BatchInfo) => boolean): void {
    const start = this.offsetIndex.lookup(fromOffset).position;
    scanFileBatches(this.readAt, start, this.size, false, visit);
  }

  /** First batch with lastOffset >= offset, searching from the offset index. */
  translateOffset(offset: number): BatchInfo | null {
    const start = this.offsetIndex.lookup(offset).position;
    let found: BatchInfo | null = null;
    scanFileBatches(
      this.readAt,
      start,
      this.size,
      false,
      (b) => {
        if (b.lastOffset < offset) return true;
        found = b;
        return false;
      },
      true,
    );
    return found;
  }

  /**
   * Whole batches starting at the batch holding startOffset, up to maxBytes (at least one batch when
   * minOneBatch), excluding batches with lastOffset >= maxOffset. Null when there is nothing to return.
   */
  read(
    startOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset = Number.MAX_SAFE_INTEGER,
  ): Buffer | null {
    const start = this.readStart(startOffset, maxBytes, minOneBatch, maxOffset);
    if (start === null) return null;
    const { first, want } = start;
    // A pooled buffer: the connection gives it back once the socket has taken the bytes.
    const buf = readBuffers.take(want);
    const n = this.readRange(buf, want, first.position);
    let end = 0;
    for (const b of iterateBatches(buf, { end: n })) {
      if (b.lastOffset >= maxOffset) break;
      end = b.position + b.size;
    }
    return end === 0 ? null : buf.subarray(0, end);
  }

  /**
   * What read() returns, as a range of the file instead of bytes (Kafka's FileRecords.slice): the whole
   * batches from the one holding startOffset, found by walking their headers, to be sent with sendfile(2)
   * by `dup`'s descriptor. The bytes past what is written yet are in the writer's ring now and in the file
   * by the time the response leaves (it waits for the writes before it). Null when there is nothing.
   */
  readRegion(
    startOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset: number,
    dup: (fd: number) => number,
  ): FileRegion | null {
    const start = this.readStart(startOffset, maxBytes, minOneBatch, maxOffset);
    if (start === null) return null;
    const { first, want } = start;
    const limit = first.position + want;
    if (first.position + first.size > limit) return null;
    let end = first.position + first.size;
    let lastOffset = first.lastOffset;
    let records = dataRecordsCount(first);
    // Headers only: a window of several small batches' headers, or one header after a large batch.
    const window = headerWindow;
    let big = first.size >= window.length;
    while (end + HEADER_SIZE <= limit && lastOffset < maxOffset - 1) {
      const n = this.readRange(window, big ? HEADER_SIZE : Math.min(window.length, limit - end), end);
      let off = 0;
      while (off + HEADER_SIZE <= n) {
        const size = readBatchSize(window, off);
        if (size < HEADER_SIZE || end + size > limit)
          return this.region(dup, first.position, end, lastOffset, records);
        const b = readBatchInfo(window, off);
        if (b.lastOffset >= maxOffset) return this.region(dup, first.position, end, lastOffset, records);
        end += size;
        off += size;
        lastOffset = b.lastOffset;
        records += dataRecordsCount(b);
        big = size >= window.length;
      }
      if (off === 0 && n < HEADER_SIZE) break;
    }
    return this.region(dup, first.position, end, lastOffset, records);
  }

  /**
   * Where read() and readRegion() start: the batch holding startOffset (null when there is none below
   * maxOffset) and how many bytes from it they may take (at least that batch with minOneBatch).
   */
  private readStart(
    startOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset: number,
  ): { first: BatchInfo; want: number } | null {
    const first = this.translateOffset(startOffset);
    if (first === null || first.lastOffset >= maxOffset) return null;
    let want = Math.min(maxBytes, this.size - first.position);
    if (minOneBatch && first.size > want) want = first.size;
    if (want <= 0) return null;
    checkSimulatedIoFault(this.logFile, 'read');
    return { first, want };
  }

  private region(
    dup: (fd: number) => number,
    start: number,
    end: number,
    lastOffset: number,
    records: number,
  ): FileRegion {
    return new FileRegion(dup(this.fd), start, end - start, lastOffset, records);
  }

  /** First batch with lastOffset >= startingOffset and maxTimestamp >= timestamp (Kafka's findOffsetByTimestamp). */
  findBatchByTimestamp(timestamp: number, startingOffset: number): BatchInfo | null {
    const fromTime = this.timeIndex.lookup(timestamp).offset;
    const start = this.offsetIndex.lookup(Math.max(fromTime, startingOffset)).position;
    let found: BatchInfo | null = null;
    scanFileBatches(this.readAt, start, this.size, false, (b) => {
      if (b.lastOffset < startingOffset || b.maxTimestamp < timestamp) return true;
      found = b;
      return false;
    });
    return found;
  }

  /** Drops the batch holding offset and everything after it; returns bytes removed. */
  truncateTo(offset: number): number {
    const at = this.translateOffset(offset);
    if (at === null) return 0;
    this.settleWrites();
    const removed = this.size - at.position;
    fs.ftruncateSync(this.fd, at.position);
    this.size = at.position;
    this.writtenSize = Math.min(this.writtenSize, at.position);
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    this.txnIndex.truncateTo(offset);
    this.maxTs = null;
    this.knownNextOffset = null;
    if (this.size === 0) this.rollingBasedTimestamp = null;
    // Recompute the running max and the indexing counter from what remains after the last index entry.
    const last = this.offsetIndex.entries > 0 ? this.offsetIndex.positionAt(this.offsetIndex.entries - 1) : 0;
    let max = this.timeIndex.lastEntry();
    this.bytesSinceLastIndexEntry = 0;
    scanFileBatches(this.readAt, last, this.size, false, (b) => {
      if (b.maxTimestamp > max.timestamp) max = { timestamp: b.maxTimestamp, offset: b.lastOffset };
      this.bytesSinceLastIndexEntry += b.size;
      return true;
    });
    this.maxTs = max;
    return removed;
  }

  /** Adds the final time-index entry (Kafka's onBecomeInactiveSegment) and releases index write handles. */
  onBecomeInactive(): void {
    const m = this.maxTimestampAndOffsetSoFar();
    this.timeIndex.maybeAppend(m.timestamp, m.offset);
    this.offsetIndex.closeHandle();
    this.timeIndex.closeHandle();
    this.txnIndex.flush();
    this.txnIndex.closeHandle();
  }

  /**
   * flush() with the fsyncs in libuv's thread pool instead of on the event loop (a rolled segment's,
   * flush.messages' group commit). The indexes' pending entries are written on the loop first (an
   * inactive segment's index handles are closed: nothing more to fsync there). Rejects when it
   * fails, or with SegmentClosedError when the segment was closed meanwhile (nothing then says its
   * data is durable; a closed descriptor may even have been reused).
   */
  flushInBackground(): Promise<void> {
    let indexes: Promise<void>[];
    try {
      checkSimulatedIoFault(this.logFile, 'flush');
      indexes = [this.offsetIndex, this.timeIndex, this.txnIndex].map((i) => i.flushInBackground());
    } catch (err) {
      return Promise.reject(err);
    }
    const fd = this.fd;
    const closed = () => new SegmentClosedError(`${this.logFile} was closed during its fsync`);
    // The fsync covers what was appended so far: it starts once the writer has put that in the file.
    const log = this.writesDone().then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (this.fd !== fd) return reject(closed());
          fs.fsync(fd, (err) => {
            if (this.fd !== fd) reject(closed());
            else if (err) reject(err);
            else resolve();
          });
        }),
    );
    return Promise.all([log, ...indexes]).then(() => undefined);
  }

  get isClosed(): boolean {
    return this.fd < 0;
  }

  flush(): void {
    checkSimulatedIoFault(this.logFile, 'flush');
    this.settleWrites();
    if (this.writeError) throw this.writeError;
    fs.fsyncSync(this.fd);
    this.offsetIndex.flush();
    this.timeIndex.flush();
    this.txnIndex.flush();
  }

  /** The whole batch at `position` of the `.log` (`size` bytes as its header says). */
  readBatchAt(position: number, size: number): Buffer {
    checkSimulatedIoFault(this.logFile, 'read');
    const buf = Buffer.allocUnsafe(size);
    const n = this.readRange(buf, size, position);
    return buf.subarray(0, n);
  }

  /** Final time-index entry, then close every handle. */
  close(): void {
    if (this.fd < 0) return;
    this.settleWrites();
    this.onBecomeInactive();
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** mtime of the `.log` file (Kafka's lastModified). */
  get lastModified(): number {
    return fs.fstatSync(this.fd).mtimeMs;
  }

  /** Sets the mtime of the `.log` and index files (a cleaned segment keeps its sources' time, as in Kafka). */
  setLastModified(ms: number): void {
    const t = ms / 1000;
    fs.futimesSync(this.fd, t, t);
    for (const f of [this.offsetIndex.file, this.timeIndex.file])
      if (fs.existsSync(f)) fs.utimesSync(f, t, t);
  }

  /**
   * Renames every file from `…<oldSuffix>` to `…<newSuffix>` (Kafka's changeFileSuffixes: `.cleaned` →
   * `.swap` → ''); the indexes go first so that a `.log` under the new name means its indexes are too.
   */
  changeFileSuffixes(oldSuffix: string, newSuffix: string): void {
    const rename = (file: string) => {
      if (!file.endsWith(oldSuffix)) throw new Error(`${file} does not end with ${oldSuffix}`);
      return file.slice(0, file.length - oldSuffix.length) + newSuffix;
    };
    for (const idx of [this.offsetIndex, this.timeIndex, this.txnIndex]) idx.renameTo(rename(idx.file));
    const logFile = rename(this.logFile);
    fs.renameSync(this.logFile, logFile);
    this.logFile = logFile;
  }

  /** Renames all files to `*.deleted` (still readable through the open fd until closed). */
  renameToDeleted(): void {
    fs.renameSync(this.logFile, this.logFile + DELETED_FILE_SUFFIX);
    this.logFile += DELETED_FILE_SUFFIX;
    this.offsetIndex.renameTo(this.offsetIndex.file + DELETED_FILE_SUFFIX);
    this.timeIndex.renameTo(this.timeIndex.file + DELETED_FILE_SUFFIX);
    this.txnIndex.renameTo(this.txnIndex.file + DELETED_FILE_SUFFIX);
  }

  /** Every file of the segment with its open handle, handed over for deletion (unwritten index entries are dropped). */
  private detachForDeletion(): { file: string; fd: number | null }[] {
    if (this.fd >= 0) this.settleWrites(); // the writer must be done with the descriptor before it closes
    const fd = this.fd >= 0 ? this.fd : null;
    this.fd = -1;
    return [
      { file: this.logFile, fd },
      this.offsetIndex.detachForDeletion(),
      this.timeIndex.detachForDeletion(),
      this.txnIndex.detachForDeletion(),
    ];
  }

  deleteFiles(): void {
    for (const { file, fd } of this.detachForDeletion()) {
      if (fd !== null) fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    }
  }

  /**
   * deleteFiles with the closes and unlinks on libuv's pool, off the event loop (what file.delete.delay.ms
   * expiry uses: a retention pass over thousands of partitions makes thousands of these due at once).
   */
  async deleteFilesAsync(): Promise<void> {
    await Promise.all(
      this.detachForDeletion().map(async ({ file, fd }) => {
        if (fd !== null) await closeAsync(fd);
        await fs.promises.unlink(file).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      }),
    );
  }
}

export type { BatchStopReason };
