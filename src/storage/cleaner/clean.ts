// One cleaning round of one log (Kafka's Cleaner.doClean), over the files of its directory and nothing else,
// so that it runs the same inline or in a worker thread: build the key → latest offset map over the dirty
// range (as far as the dedupe buffer allows), then rewrite the segments from the log start up to the end
// of what was mapped, grouped as Kafka groups them, each group into one `<base>.log.cleaned` segment with
// fresh `.index.cleaned` / `.timeindex.cleaned` / `.txnindex.cleaned` files. The swap into the log is the
// caller's (LogCleaner, on the thread that owns the log).
//
// What is kept, as Kafka's cleaner keeps it: the latest record of every key; a tombstone until
// delete.retention.ms after the round that first kept it (its batch then carries that delete horizon);
// nothing of aborted transactions; a COMMIT/ABORT marker until no batch of its transaction is left and its
// own delete horizon passed; the last batch of every active producer (emptied when its records go) so that
// duplicate detection survives; and the last batch of the round, so its end offset is not lost.
import fs from 'node:fs';
import path from 'node:path';
import { checkBatchAt, LOG_OVERHEAD, readBatchSize } from '../../protocol/record-batch.js';
import { LogSegment } from '../segment.js';
import type { AbortedTxn, TransactionIndex } from '../transaction-index.js';
import {
  buildEmptyBatch,
  buildRetainedBatch,
  type CleanerBatch,
  controlType,
  deleteHorizonMs,
  hasProducerId,
  isControlBatch,
  isTransactionalBatch,
  readCleanerBatch,
  readCleanerRecords,
} from './batch-rewrite.js';
import type { SkimpyOffsetMap } from './offset-map.js';

export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';

const ABORT = 0;
const COMMIT = 1;

/** A segment of the log as the round sees it when it starts. */
export interface CleanSegmentInfo {
  baseOffset: number;
  /** `.log` bytes when the round was planned: the round reads no further. */
  size: number;
  /** Base offset of the segment after it (the end of its offsets). */
  nextBaseOffset: number;
  offsetIndexBytes: number;
  timeIndexBytes: number;
  lastModified: number;
}

/** An active producer's last entry (Kafka's LastRecord). */
export interface ActiveProducer {
  producerId: number;
  /** Offset of its last data batch's last record, -1 when it has none (its last write was a marker). */
  lastDataOffset: number;
  producerEpoch: number;
}

/** Everything a round needs, plain data (it crosses to a worker thread). */
export interface CleanTask {
  dir: string;
  /** `<topic>-<partition>`, for messages. */
  name: string;
  /** The segments below firstUncleanableOffset, from the first, in order; never the active one. */
  segments: CleanSegmentInfo[];
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  /** segment.bytes: a group's `.log` bytes stay within it. */
  segmentBytes: number;
  /** A group's index bytes stay within it (segment.index.bytes). */
  maxIndexBytes: number;
  indexIntervalBytes: number;
  deleteRetentionMs: number;
  abortedTxns: AbortedTxn[];
  activeProducers: ActiveProducer[];
  /** The round's time: delete horizons are set from it and compared with it. */
  now: number;
  /** `.log` bytes of the dirty range, to size the offset map no larger than it can need. */
  cleanableBytes: number;
}

/** Smallest magic-2 record with a key (length, attributes, two deltas, a 1-byte key, a null value, no headers). */
const MIN_KEYED_RECORD_BYTES = 7;

/**
 * Bytes of offset map a round can use: the dedupe buffer, but no more than every record of the dirty range
 * could fill (so that a small log does not allocate the whole buffer, which stays the bound).
 */
export function offsetMapBytesFor(task: CleanTask, dedupeBufferBytes: number): number {
  const maxKeys = Math.ceil(task.cleanableBytes / MIN_KEYED_RECORD_BYTES / 0.9) + 1;
  return Math.min(dedupeBufferBytes, Math.max(64 * 1024, maxKeys * 24));
}

export interface CleanerStats {
  bytesRead: number;
  bytesWritten: number;
  messagesRead: number;
  messagesWritten: number;
  invalidMessages: number;
  mapMessagesRead: number;
  mapBytesRead: number;
  bufferUtilization: number;
  startMs: number;
  mapCompleteMs: number;
  endMs: number;
}

export interface CleanedGroup {
  /** Base offset of the cleaned segment, the first source segment's. */
  baseOffset: number;
  /** Base offsets of the segments it replaces, in order. */
  sources: number[];
  /** Their `.log` sizes when read: the swap checks nothing changed since. */
  sourceSizes: number[];
  lastModified: number;
}

export interface CleanResult {
  /** The first offset not cleaned: the next round's first dirty offset (cleaner-offset-checkpoint). */
  endOffset: number;
  groups: CleanedGroup[];
  stats: CleanerStats;
}

/** Thrown when the round cannot finish (a source segment went, the owner asked it to stop). */
export class CleaningAbortedError extends Error {
  override name = 'LogCleaningAbortedException';
}

export interface CleanHooks {
  /** Called with the bytes read or written, for log.cleaner.io.max.bytes.per.second. */
  throttle?: (bytes: number) => void;
  /** Returns true when the round must stop (checked between batches). */
  aborted?: () => boolean;
  /** The clock for the stats. */
  clock?: () => number;
}

/** Runs one round; writes `.cleaned` segments and returns what to swap. Deletes what it wrote on failure. */
export function cleanLog(task: CleanTask, map: SkimpyOffsetMap, hooks: CleanHooks = {}): CleanResult {
  const clock = hooks.clock ?? Date.now;
  const stats: CleanerStats = {
    bytesRead: 0,
    bytesWritten: 0,
    messagesRead: 0,
    messagesWritten: 0,
    invalidMessages: 0,
    mapMessagesRead: 0,
    mapBytesRead: 0,
    bufferUtilization: 0,
    startMs: clock(),
    mapCompleteMs: 0,
    endMs: 0,
  };
  const checkDone = () => {
    if (hooks.aborted?.()) throw new CleaningAbortedError(`cleaning of ${task.name} was aborted`);
  };
  buildOffsetMap(task, map, stats, hooks, checkDone);
  stats.mapCompleteMs = clock();
  const endOffset = map.latestOffset + 1;
  const toClean = task.segments.filter((s) => s.baseOffset < endOffset);
  const groups = groupSegmentsBySize(
    toClean,
    task.segmentBytes,
    task.maxIndexBytes,
    task.firstUncleanableOffset,
  );
  const txn = new CleanedTransactionMetadata();
  const written: LogSegment[] = [];
  const out: CleanedGroup[] = [];
  try {
    for (const group of groups) {
      // Only a cleaner writes `.cleaned` files, one round per log at a time: one left here by a round that
      // died (a worker thread that crashed) is garbage.
      removeCleanedFiles(task.dir, group[0]!.baseOffset);
      const cleaned = LogSegment.open(task.dir, group[0]!.baseOffset, task.now, 0, CLEANED_FILE_SUFFIX);
      written.push(cleaned);
      txn.cleanedIndex = cleaned.txnIndex;
      for (const seg of group) {
        txn.addAbortedTransactions(
          task.abortedTxns.filter(
            (t) => t.lastOffset >= seg.baseOffset && t.firstOffset < seg.nextBaseOffset,
          ),
        );
        cleanInto(task, seg, cleaned, map, txn, stats, hooks, checkDone);
      }
      cleaned.onBecomeInactive();
      cleaned.flush();
      const lastModified = group.at(-1)!.lastModified;
      cleaned.setLastModified(lastModified);
      cleaned.close();
      out.push({
        baseOffset: cleaned.baseOffset,
        sources: group.map((s) => s.baseOffset),
        sourceSizes: group.map((s) => s.size),
        lastModified,
      });
    }
  } catch (e) {
    for (const seg of written) seg.deleteFiles();
    throw e;
  }
  stats.bufferUtilization = map.utilization;
  stats.endMs = clock();
  return { endOffset, groups: out, stats };
}

/** Removes the `.cleaned` files of the segment at baseOffset. */
export function removeCleanedFiles(dir: string, baseOffset: number): void {
  const prefix = path.join(dir, String(baseOffset).padStart(20, '0'));
  for (const s of ['.log', '.index', '.timeindex', '.txnindex'])
    fs.rmSync(prefix + s + CLEANED_FILE_SUFFIX, { force: true });
}

/** Kafka's groupSegmentsBySize: consecutive segments whose `.log` and index bytes fit one segment. */
export function groupSegmentsBySize<T extends CleanSegmentInfo>(
  segments: readonly T[],
  maxSize: number,
  maxIndexSize: number,
  firstUncleanableOffset: number,
): T[][] {
  const grouped: T[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]!];
    let logSize = segments[i]!.size;
    let indexSize = segments[i]!.offsetIndexBytes;
    let timeIndexSize = segments[i]!.timeIndexBytes;
    i++;
    while (i < segments.length) {
      const next = segments[i]!;
      const lastOffsetOfNext =
        i + 1 < segments.length ? segments[i + 1]!.baseOffset - 1 : firstUncleanableOffset - 1;
      if (
        logSize + next.size <= maxSize &&
        indexSize + next.offsetIndexBytes <= maxIndexSize &&
        timeIndexSize + next.timeIndexBytes <= maxIndexSize &&
        (next.size === 0 || lastOffsetOfNext - group.at(-1)!.baseOffset <= 0x7fffffff)
      ) {
        group.push(next);
        logSize += next.size;
        indexSize += next.offsetIndexBytes;
        timeIndexSize += next.timeIndexBytes;
        i++;
      } else break;
    }
    grouped.push(group);
  }
  return grouped;
}

function buildOffsetMap(
  task: CleanTask,
  map: SkimpyOffsetMap,
  stats: CleanerStats,
  hooks: CleanHooks,
  checkDone: () => void,
): void {
  map.clear();
  const start = task.firstDirtyOffset;
  const end = task.firstUncleanableOffset;
  const dirty = task.segments.filter((s) => s.nextBaseOffset > start && s.baseOffset < end);
  const txn = new CleanedTransactionMetadata();
  txn.addAbortedTransactions(task.abortedTxns.filter((t) => t.lastOffset >= start && t.firstOffset < end));
  const maxDesiredMapSize = Math.floor(map.slots * 0.9);
  for (let i = 0; i < dirty.length; i++) {
    const seg = dirty[i]!;
    const nextStart = i + 1 < dirty.length ? dirty[i + 1]!.baseOffset : end;
    let full = false;
    forEachBatch(task.dir, seg, hooks, (buf, pos, size, batch) => {
      checkDone();
      stats.mapBytesRead += size;
      if (isControlBatch(batch)) {
        txn.onControlBatchRead(batch, controlType(buf, pos, size, batch));
        stats.mapMessagesRead += 1;
      } else if (txn.onBatchRead(batch)) {
        stats.mapMessagesRead += batch.recordsCount;
      } else {
        for (const r of readCleanerRecords(buf, pos, size, batch)) {
          if (r.key !== null && r.offset >= start) {
            if (map.size >= maxDesiredMapSize) {
              full = true;
              return false;
            }
            map.put(r.key, r.offset);
          }
          stats.mapMessagesRead += 1;
        }
      }
      if (batch.lastOffset >= start) map.updateLatestOffset(batch.lastOffset);
      return true;
    });
    if (full) {
      if (map.size === 0 || map.latestOffset < start)
        throw new Error(`the dedupe buffer (${map.slots} slots) cannot hold even one key of ${task.name}`);
      return;
    }
    // Offsets missing at the end of the segment (cleaned away earlier) are passed over too.
    map.updateLatestOffset(nextStart - 1);
  }
}

type BatchVisitor = (buf: Buffer, pos: number, size: number, batch: CleanerBatch) => boolean;

const READ_WINDOW = 1024 * 1024;

/** Reads the segment's `.log` up to its planned size, batch by batch; stops when `visit` returns false. */
function forEachBatch(dir: string, seg: CleanSegmentInfo, hooks: CleanHooks, visit: BatchVisitor): void {
  const file = path.join(dir, `${String(seg.baseOffset).padStart(20, '0')}.log`);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CleaningAbortedError(`${file} is gone`);
    throw e;
  }
  try {
    let buf = Buffer.allocUnsafe(Math.min(READ_WINDOW, Math.max(seg.size, LOG_OVERHEAD)));
    let filePos = 0;
    while (filePos < seg.size) {
      const want = Math.min(buf.length, seg.size - filePos);
      let n = 0;
      while (n < want) {
        const r = fs.readSync(fd, buf, n, want - n, filePos + n);
        if (r === 0) break;
        n += r;
      }
      if (n < want) throw new CleaningAbortedError(`${file} is shorter than ${seg.size} bytes`);
      hooks.throttle?.(n);
      let off = 0;
      while (off < n) {
        const bad = checkBatchAt(buf, off, n, false);
        if (bad === 'partial') break;
        if (bad !== null) throw new Error(`${file}: invalid batch at position ${filePos + off} (${bad})`);
        const size = readBatchSize(buf, off);
        if (!visit(buf, off, size, readCleanerBatch(buf, off))) return;
        off += size;
      }
      if (off === 0) {
        // One batch larger than the window: grow to it (bounded by the file, checked here).
        const size = n >= LOG_OVERHEAD ? readBatchSize(buf, 0) : -1;
        if (size <= buf.length || filePos + size > seg.size)
          throw new Error(`${file}: invalid batch at position ${filePos}`);
        buf = Buffer.allocUnsafe(size);
        continue;
      }
      filePos += off;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Kafka's Cleaner.cleanInto with its RecordFilter and MemoryRecords.filterTo, batch by batch. */
function cleanInto(
  task: CleanTask,
  seg: CleanSegmentInfo,
  dest: LogSegment,
  map: SkimpyOffsetMap,
  txn: CleanedTransactionMetadata,
  stats: CleanerStats,
  hooks: CleanHooks,
  checkDone: () => void,
): void {
  const now = task.now;
  const producers = new Map(task.activeProducers.map((p) => [p.producerId, p]));
  const upperBoundOffsetOfCleaningRound = task.firstUncleanableOffset;
  forEachBatch(task.dir, seg, hooks, (buf, pos, size, batch) => {
    checkDone();
    stats.bytesRead += size;
    const control = isControlBatch(batch);
    const canDiscardBatch = control
      ? txn.onControlBatchRead(batch, controlType(buf, pos, size, batch))
      : txn.onBatchRead(batch);
    const horizon = deleteHorizonMs(batch);
    const discardBatchRecords = control
      ? canDiscardBatch && horizon !== null && horizon <= now
      : canDiscardBatch;
    const last = producers.get(batch.producerId);
    const isLastOfProducer =
      last !== undefined &&
      (last.lastDataOffset >= 0
        ? batch.lastOffset === last.lastDataOffset
        : control && batch.producerEpoch === last.producerEpoch);
    let retention: 'DELETE' | 'RETAIN_EMPTY' | 'DELETE_EMPTY';
    if (hasProducerId(batch) && isLastOfProducer) retention = 'RETAIN_EMPTY';
    else if (batch.lastOffset + 1 === upperBoundOffsetOfCleaningRound) retention = 'RETAIN_EMPTY';
    else if (discardBatchRecords) retention = 'DELETE';
    else retention = 'DELETE_EMPTY';
    const containsMarkerForEmptyTxn = canDiscardBatch && control;
    if (retention === 'DELETE') {
      stats.messagesRead += batch.recordsCount;
      return true;
    }
    const records = readCleanerRecords(buf, pos, size, batch);
    stats.messagesRead += records.length;
    const retained = [];
    let writeOriginal = true;
    let containsTombstones = false;
    for (const r of records) {
      let keep: boolean;
      if (discardBatchRecords) keep = false;
      else if (control) keep = true;
      else keep = shouldRetainRecord(map, batch, r, stats, now);
      if (keep) {
        retained.push(r);
        if (r.value === null) containsTombstones = true;
      } else writeOriginal = false;
    }
    let output: Buffer | null = null;
    if (retained.length > 0) {
      const needToSetDeleteHorizon = (containsTombstones || containsMarkerForEmptyTxn) && horizon === null;
      if (writeOriginal && !needToSetDeleteHorizon) output = buf.subarray(pos, pos + size);
      else
        output = buildRetainedBatch(
          batch,
          retained,
          needToSetDeleteHorizon ? now + task.deleteRetentionMs : horizon,
        );
    } else if (retention === 'RETAIN_EMPTY') {
      output = buildEmptyBatch(batch);
    }
    if (output !== null) {
      const maxTimestamp = output.readBigInt64BE(35);
      dest.append(output, batch.lastOffset, Number(maxTimestamp), task.indexIntervalBytes);
      stats.bytesWritten += output.length;
      stats.messagesWritten += retained.length;
      hooks.throttle?.(output.length);
    }
    return true;
  });
}

/** Kafka's Cleaner.shouldRetainRecord for magic-2 records. */
function shouldRetainRecord(
  map: SkimpyOffsetMap,
  batch: CleanerBatch,
  r: { offset: number; key: Buffer | null; value: Buffer | null },
  stats: CleanerStats,
  now: number,
): boolean {
  if (r.offset > map.latestOffset) return true;
  if (r.key === null) {
    stats.invalidMessages++;
    return false;
  }
  const foundOffset = map.get(r.key);
  const latestOffsetForKey = r.offset >= foundOffset;
  const horizon = deleteHorizonMs(batch);
  const shouldRetainDeletes = horizon === null || now < horizon;
  return latestOffsetForKey && (r.value !== null || shouldRetainDeletes);
}

interface AbortedTxnMetadata {
  txn: AbortedTxn;
  lastObservedBatchOffset: number | null;
}

/**
 * Kafka's CleanedTransactionMetadata: which transactions the batches being read belong to, aborted ones
 * known from the transaction indexes, so that aborted data goes and markers stay while data of theirs does.
 */
export class CleanedTransactionMetadata {
  private aborted: AbortedTxn[] = [];
  private readonly seen = new Set<string>();
  private readonly ongoingCommittedTxns = new Set<number>();
  private readonly ongoingAbortedTxns = new Map<number, AbortedTxnMetadata>();
  /** The cleaned segment's `.txnindex`, which gets the aborted transactions whose data is kept. */
  cleanedIndex: TransactionIndex | null = null;

  addAbortedTransactions(txns: readonly AbortedTxn[]): void {
    for (const t of txns) {
      const key = `${t.producerId}:${t.firstOffset}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.aborted.push(t);
    }
    this.aborted.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Returns whether the control batch may be discarded. */
  onControlBatchRead(batch: CleanerBatch, type: number | null): boolean {
    this.consumeAbortedTxnsUpTo(batch.lastOffset);
    if (type === null) return true; // an empty control batch was already cleaned
    const producerId = batch.producerId;
    if (type === ABORT) {
      const meta = this.ongoingAbortedTxns.get(producerId);
      this.ongoingAbortedTxns.delete(producerId);
      if (meta !== undefined && meta.lastObservedBatchOffset !== null) {
        // Retain the marker until all batches of the transaction have been removed.
        this.cleanedIndex?.append(meta.txn);
        return false;
      }
      return true;
    }
    if (type === COMMIT) {
      const had = this.ongoingCommittedTxns.delete(producerId);
      return !had;
    }
    return false;
  }

  /** Returns whether the data batch belongs to an aborted transaction (and may be discarded). */
  onBatchRead(batch: CleanerBatch): boolean {
    this.consumeAbortedTxnsUpTo(batch.lastOffset);
    if (!isTransactionalBatch(batch)) return false;
    const meta = this.ongoingAbortedTxns.get(batch.producerId);
    if (meta !== undefined) {
      meta.lastObservedBatchOffset = batch.lastOffset;
      return true;
    }
    this.ongoingCommittedTxns.add(batch.producerId);
    return false;
  }

  private consumeAbortedTxnsUpTo(offset: number): void {
    while (this.aborted.length > 0 && this.aborted[0]!.firstOffset <= offset) {
      const t = this.aborted.shift()!;
      if (!this.ongoingAbortedTxns.has(t.producerId))
        this.ongoingAbortedTxns.set(t.producerId, { txn: t, lastObservedBatchOffset: null });
    }
  }
}
