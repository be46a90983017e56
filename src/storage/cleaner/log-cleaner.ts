// The log cleaner of one data directory (Kafka's LogCleaner + LogCleanerManager): `log.cleaner.threads`
// cleaner loops each pick the dirtiest compacted log no other loop is cleaning (min.cleanable.dirty.ratio,
// min.compaction.lag.ms, max.compaction.lag.ms), run one cleaning round on it in a worker thread (or
// inline, for tests), swap the cleaned segments in on this thread (the one that owns the logs, so a
// fetch or an append never sees half a swap), record where the dirty part now starts in
// `cleaner-offset-checkpoint`, and wait `log.cleaner.backoff.ms` when nothing needed cleaning.
//
// Swapping checks that every source segment is still in the log with the size the round read; retention,
// DeleteRecords or a truncation that changed one in the meantime makes the round's output go instead.
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../../common/module-worker.js';
import type { Time, Timer } from '../../common/time.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint } from '../checkpoint-file.js';
import { DEFAULT_SEGMENT_INDEX_BYTES } from '../index-file.js';
import type { Log } from '../log.js';
import { compacts } from '../log-config.js';
import { LogSegment } from '../segment.js';
import {
  CLEANED_FILE_SUFFIX,
  type CleanerStats,
  CleaningAbortedError,
  type CleanResult,
  type CleanTask,
  cleanLog,
  offsetMapBytesFor,
  removeCleanedFiles,
} from './clean.js';
import type { CleanReply, CleanRequest } from './cleaner-worker.js';
import { SkimpyOffsetMap } from './offset-map.js';

export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

export interface LogCleanerOptions {
  dataDir: string;
  /** The logs of the directory (LogManager.allLogs). */
  logs: () => Iterable<Log>;
  time: Time;
  /** `log.cleaner.enable`: when false, startup() runs nothing. */
  enable: boolean;
  /** `log.cleaner.threads`. */
  threads: number;
  /** `log.cleaner.dedupe.buffer.size`, shared by the threads. */
  dedupeBufferSize: number;
  /** `log.cleaner.io.max.bytes.per.second` (Infinity: no limit). */
  ioMaxBytesPerSecond: number;
  /** `log.cleaner.backoff.ms`. */
  backoffMs: number;
  /** Byte limit of a cleaned segment's index files (segment.index.bytes). */
  maxIndexBytes?: number;
  /** Rounds in worker threads (default); false runs them on the calling thread. */
  useWorkers?: boolean;
  log?: { info(message: string): void; error(message: string, err?: unknown): void };
}

/** A compacted log as the selection sees it (Kafka's LogToClean). */
export interface LogToClean {
  log: Log;
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  needCompactionNow: boolean;
  cleanBytes: number;
  cleanableBytes: number;
  totalBytes: number;
  cleanableRatio: number;
}

const keyOf = (log: Log) => `${log.topic}-${log.partition}`;

/** Kafka's LogCleanerManager.cleanableOffsets: where the dirty part starts and where cleaning must stop. */
export function cleanableOffsets(
  log: Log,
  lastCleanOffset: number | undefined,
  now: number,
): { firstDirtyOffset: number; firstUncleanableOffset: number; forceUpdateCheckpoint: boolean } {
  const logStartOffset = log.logStartOffset;
  const checkpoint = lastCleanOffset ?? logStartOffset;
  let firstDirtyOffset = checkpoint;
  let forceUpdateCheckpoint = false;
  if (checkpoint < logStartOffset || checkpoint > log.logEndOffset) {
    firstDirtyOffset = logStartOffset;
    forceUpdateCheckpoint = true;
  }
  const minCompactionLagMs = Math.max(log.config.minCompactionLagMs, 0);
  let firstUncleanable = Math.min(log.lastStableOffset, log.activeSegment.baseOffset);
  if (minCompactionLagMs > 0) {
    for (const s of nonActiveSegmentsFrom(log, firstDirtyOffset)) {
      if (s.largestTimestamp() > now - minCompactionLagMs) {
        firstUncleanable = Math.min(firstUncleanable, s.baseOffset);
        break;
      }
    }
  }
  return {
    firstDirtyOffset,
    firstUncleanableOffset: Math.max(firstDirtyOffset, firstUncleanable),
    forceUpdateCheckpoint,
  };
}

function nonActiveSegmentsFrom(log: Log, from: number): LogSegment[] {
  const active = log.activeSegment;
  return log.logSegments(from).filter((s) => s !== active);
}

/** Kafka's maxCompactionDelay: how long past max.compaction.lag.ms the oldest dirty segment is (0 if not). */
export function maxCompactionDelay(log: Log, firstDirtyOffset: number, now: number): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const s of nonActiveSegmentsFrom(log, firstDirtyOffset)) {
    const ts = s.firstBatchTimestamp();
    if (ts !== null && ts > 0 && ts < earliest) earliest = ts;
  }
  const cleanUntil = now - Math.max(log.config.maxCompactionLagMs, 0);
  return earliest < cleanUntil ? cleanUntil - earliest : 0;
}

function sumSizes(segments: readonly LogSegment[]): number {
  let n = 0;
  for (const s of segments) n += s.size;
  return n;
}

export function logToClean(
  log: Log,
  firstDirtyOffset: number,
  firstUncleanableOffset: number,
  needNow: boolean,
): LogToClean {
  const cleanBytes = sumSizes(log.logSegments(-1, firstDirtyOffset));
  const cleanableBytes = sumSizes(
    log.logSegments(firstDirtyOffset, Math.max(firstDirtyOffset, firstUncleanableOffset)),
  );
  const totalBytes = cleanBytes + cleanableBytes;
  return {
    log,
    firstDirtyOffset,
    firstUncleanableOffset,
    needCompactionNow: needNow,
    cleanBytes,
    cleanableBytes,
    totalBytes,
    cleanableRatio: totalBytes === 0 ? 0 : cleanableBytes / totalBytes,
  };
}

/** The last round of one cleaner thread, for the gauges. */
interface ThreadState {
  busy: boolean;
  worker: Worker | null;
  map: SkimpyOffsetMap | null;
  lastStats: CleanerStats | null;
  timer: Timer | null;
  wake: (() => void) | null;
  failed: boolean;
}

export class LogCleaner {
  private readonly checkpointFile: string;
  private readonly checkpoints: Map<string, number>;
  private readonly inProgress = new Set<Log>();
  /** The Log each checkpoint entry belongs to: a topic deleted and created again starts dirty. */
  private readonly bound = new Map<string, Log>();
  private readonly threads: ThreadState[] = [];
  private stopped = true;
  /** shutdown() was called: rounds in flight stop. */
  private closing = false;
  private nextRequestId = 1;
  private readonly pending = new Map<number, (reply: CleanReply) => void>();
  private readonly aborts = new Set<Int32Array>();
  private loops: Promise<void>[] = [];
  // ---- for the gauges (Kafka's LogCleaner and LogCleanerManager metrics) ----
  /** When a thread last looked for a log to clean (time-since-last-run-ms). */
  timeOfLastRun = 0;
  /** Cleanable ratio of the dirtiest compacted log at the last look (max-dirty-percent). */
  dirtiestLogCleanableRatio = 0;
  /** max-compaction-delay-secs, in ms. */
  maxCompactionDelayMs = 0;
  /** Total bytes read and written by finished rounds (kbroker's own counters). */
  bytesCleaned = 0;
  bytesWritten = 0;
  roundsCompleted = 0;
  roundsAborted = 0;

  constructor(private readonly opts: LogCleanerOptions) {
    this.checkpointFile = path.join(opts.dataDir, CLEANER_OFFSET_CHECKPOINT);
    let loaded: Map<string, number>;
    try {
      loaded = readOffsetCheckpoint(this.checkpointFile);
    } catch (e) {
      opts.log?.error(`${this.checkpointFile} is unreadable; every compacted log is treated as dirty`, e);
      loaded = new Map();
    }
    this.checkpoints = loaded;
    for (let i = 0; i < Math.max(1, opts.threads); i++) {
      this.threads.push({
        busy: false,
        worker: null,
        map: null,
        lastStats: null,
        timer: null,
        wake: null,
        failed: false,
      });
    }
  }

  /** The first dirty offset recorded for a log (its cleaner-offset-checkpoint entry). */
  checkpointOf(log: Log): number | undefined {
    return this.checkpoints.get(keyOf(log));
  }

  /** Starts the cleaner loops (Kafka's LogCleaner.startup); nothing when log.cleaner.enable is false. */
  startup(): void {
    if (!this.opts.enable || !this.stopped) return;
    this.stopped = false;
    this.loops = this.threads.map((_, i) => this.loop(i));
  }

  /** Stops the loops, aborts rounds in flight and ends the worker threads. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    for (const flag of this.aborts) Atomics.store(flag, 0, 1);
    for (const t of this.threads) {
      t.timer?.cancel();
      t.wake?.();
    }
    await Promise.allSettled(this.loops);
    this.loops = [];
    for (const t of this.threads) {
      const w = t.worker;
      t.worker = null;
      if (w) await w.terminate();
    }
  }

  private async loop(i: number): Promise<void> {
    while (!this.stopped) {
      let cleaned = false;
      try {
        cleaned = await this.cleanFilthiestLog(i);
      } catch (e) {
        this.opts.log?.error('log cleaner round failed', e);
      }
      if (this.stopped) break;
      if (!cleaned) {
        const t = this.threads[i]!;
        await new Promise<void>((resolve) => {
          t.wake = resolve;
          t.timer = this.opts.time.setTimeout(resolve, this.opts.backoffMs);
        });
        t.timer = null;
        t.wake = null;
      }
    }
  }

  /**
   * Kafka's grabFilthiestCompactedLog: among compacted logs not being cleaned, the one with the highest
   * cleanable ratio among those above their min.cleanable.dirty.ratio or past max.compaction.lag.ms.
   * Rolls the active segment of a quiet compacted log once segment.ms has passed, so its data becomes
   * cleanable without waiting for the next append.
   */
  grabFilthiestCompactedLog(now: number): LogToClean | null {
    this.timeOfLastRun = now;
    const dirty: LogToClean[] = [];
    let maxDelay = 0;
    let checkpointsChanged = false;
    for (const log of this.opts.logs()) {
      if (!compacts(log.config) || log.isClosed || this.inProgress.has(log)) continue;
      const prev = this.bound.get(keyOf(log));
      if (prev !== undefined && prev !== log) this.checkpoints.delete(keyOf(log));
      this.bound.set(keyOf(log), log);
      this.maybeRollQuietSegment(log, now);
      const offsets = cleanableOffsets(log, this.checkpoints.get(keyOf(log)), now);
      if (offsets.forceUpdateCheckpoint) {
        this.checkpoints.set(keyOf(log), offsets.firstDirtyOffset);
        checkpointsChanged = true;
      }
      const delay = maxCompactionDelay(log, offsets.firstDirtyOffset, now);
      maxDelay = Math.max(maxDelay, delay);
      const ltc = logToClean(log, offsets.firstDirtyOffset, offsets.firstUncleanableOffset, delay > 0);
      if (ltc.totalBytes > 0) dirty.push(ltc);
    }
    if (checkpointsChanged) this.writeCheckpoints();
    this.maxCompactionDelayMs = maxDelay;
    this.dirtiestLogCleanableRatio = dirty.reduce((m, l) => Math.max(m, l.cleanableRatio), 0);
    const cleanable = dirty.filter(
      (l) =>
        (l.needCompactionNow && l.cleanableBytes > 0) ||
        l.cleanableRatio > l.log.config.minCleanableDirtyRatio,
    );
    if (cleanable.length === 0) return null;
    return cleanable.reduce((best, l) => (l.cleanableRatio > best.cleanableRatio ? l : best));
  }

  private maybeRollQuietSegment(log: Log, now: number): void {
    const active = log.activeSegment;
    if (active.size === 0) return;
    const limit = log.config.segmentMs - active.rollJitterMs;
    // Also by the segment's own age: records with old timestamps must not make it roll every pass.
    if (active.timeWaitedForRoll(now, now) > limit && now - active.created > limit) log.roll();
  }

  /** One round on thread slot `i`: picks a log, cleans it, swaps. Returns whether a log was cleaned. */
  async cleanFilthiestLog(i = 0): Promise<boolean> {
    const thread = this.threads[i]!;
    if (thread.busy) return false;
    const now = this.opts.time.now();
    const ltc = this.grabFilthiestCompactedLog(now);
    if (ltc === null) return false;
    const log = ltc.log;
    thread.busy = true;
    this.inProgress.add(log);
    try {
      const { task, sources } = this.planRound(ltc, now);
      const result = await this.run(thread, task);
      if (result === null) {
        this.roundsAborted++;
        return false;
      }
      const swapped = this.swap(log, task, result, sources);
      thread.lastStats = result.stats;
      if (swapped) {
        this.checkpoints.set(keyOf(log), result.endOffset);
        this.writeCheckpoints();
        this.bytesCleaned += result.stats.bytesRead;
        this.bytesWritten += result.stats.bytesWritten;
        this.roundsCompleted++;
        this.opts.log?.info(
          `Cleaned log ${keyOf(log)} [${ltc.firstDirtyOffset}, ${result.endOffset}): ${result.stats.bytesRead} bytes read, ${result.stats.bytesWritten} written in ${result.stats.endMs - result.stats.startMs} ms`,
        );
      } else this.roundsAborted++;
      return swapped;
    } finally {
      this.inProgress.delete(log);
      thread.busy = false;
    }
  }

  private planRound(ltc: LogToClean, now: number): { task: CleanTask; sources: Map<number, LogSegment> } {
    const log = ltc.log;
    const segments = log.logSegments(0, ltc.firstUncleanableOffset).filter((s) => s !== log.activeSegment);
    const sources = new Map(segments.map((s) => [s.baseOffset, s]));
    const all = log.logSegments();
    const nextBase = new Map<LogSegment, number>();
    for (let i = 0; i < all.length; i++) nextBase.set(all[i]!, all[i + 1]?.baseOffset ?? log.logEndOffset);
    const task: CleanTask = {
      dir: log.dir,
      name: keyOf(log),
      segments: segments.map((s) => ({
        baseOffset: s.baseOffset,
        size: s.size,
        nextBaseOffset: nextBase.get(s)!,
        offsetIndexBytes: fileSize(s.offsetIndex.file),
        timeIndexBytes: fileSize(s.timeIndex.file),
        lastModified: s.lastModified,
      })),
      firstDirtyOffset: ltc.firstDirtyOffset,
      firstUncleanableOffset: ltc.firstUncleanableOffset,
      segmentBytes: log.config.segmentBytes,
      maxIndexBytes: this.opts.maxIndexBytes ?? DEFAULT_SEGMENT_INDEX_BYTES,
      indexIntervalBytes: log.config.indexIntervalBytes,
      deleteRetentionMs: log.config.deleteRetentionMs,
      abortedTxns:
        segments.length === 0
          ? []
          : log.collectAbortedTransactions(segments[0]!.baseOffset, ltc.firstUncleanableOffset),
      activeProducers: log.lastRecordsOfActiveProducers(),
      now,
      cleanableBytes: ltc.cleanableBytes,
    };
    return { task, sources };
  }

  private get dedupeBytesPerThread(): number {
    return Math.floor(this.opts.dedupeBufferSize / Math.max(1, this.opts.threads));
  }

  /** Runs the round; null when it was aborted (its files are gone). */
  private async run(thread: ThreadState, task: CleanTask): Promise<CleanResult | null> {
    if (this.opts.useWorkers === false) {
      const want = offsetMapBytesFor(task, this.dedupeBytesPerThread);
      if (thread.map === null || thread.map.slots * 24 < want) thread.map = new SkimpyOffsetMap(want);
      try {
        return cleanLog(task, thread.map, { aborted: () => this.closing });
      } catch (e) {
        if (e instanceof CleaningAbortedError) return null;
        throw e;
      }
    }
    thread.worker ??= this.spawnWorker(thread);
    const worker = thread.worker;
    const abort = new SharedArrayBuffer(4);
    const flag = new Int32Array(abort);
    this.aborts.add(flag);
    if (this.closing) Atomics.store(flag, 0, 1);
    try {
      const id = this.nextRequestId++;
      const reply = await new Promise<CleanReply>((resolve) => {
        this.pending.set(id, resolve);
        const req: CleanRequest = {
          id,
          task,
          dedupeBufferBytes: this.dedupeBytesPerThread,
          ioMaxBytesPerSecond: this.opts.ioMaxBytesPerSecond,
          abort,
        };
        worker.postMessage(req);
      });
      if ('result' in reply) return reply.result;
      if (reply.aborted) return null;
      throw new Error(`cleaning ${task.name} failed in the cleaner thread: ${reply.error}`);
    } finally {
      this.aborts.delete(flag);
    }
  }

  private spawnWorker(thread: ThreadState): Worker {
    // Kafka's thread is kafka-log-cleaner-thread-N; a Linux thread name holds 15 characters.
    const worker = spawnModuleWorker(import.meta.url, 'cleaner-worker', {
      name: `log-cleaner-${this.threads.indexOf(thread)}`,
    });
    worker.unref();
    worker.on('message', (reply: CleanReply) => {
      const resolve = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      resolve?.(reply);
    });
    const fail = (err: unknown) => {
      thread.worker = null;
      thread.failed = true;
      for (const [id, resolve] of this.pending) {
        this.pending.delete(id);
        resolve({ id, error: String(err), aborted: false });
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (thread.worker === worker) fail(new Error(`cleaner thread exited with code ${code}`));
    });
    return worker;
  }

  /**
   * Swaps each cleaned group in, in order. Stops (deleting what is left) at the first group whose sources
   * are no longer what the round read. Returns whether every group was swapped.
   */
  private swap(log: Log, task: CleanTask, result: CleanResult, sources: Map<number, LogSegment>): boolean {
    const now = this.opts.time.now();
    for (let g = 0; g < result.groups.length; g++) {
      const group = result.groups[g]!;
      const current = new Map(log.isClosed ? [] : log.logSegments().map((s) => [s.baseOffset, s]));
      const olds = group.sources.map((b) => current.get(b));
      const intact =
        !log.isClosed &&
        olds.every(
          (s, k) =>
            s !== undefined && s === sources.get(group.sources[k]!) && s.size === group.sourceSizes[k],
        );
      if (!intact) {
        for (const rest of result.groups.slice(g)) removeCleanedFiles(task.dir, rest.baseOffset);
        return false;
      }
      const cleaned = LogSegment.open(task.dir, group.baseOffset, now, 0, CLEANED_FILE_SUFFIX);
      cleaned.onBecomeInactive();
      log.replaceSegments([cleaned], olds as LogSegment[]);
    }
    return true;
  }

  /** Writes cleaner-offset-checkpoint with the entries of the logs that still exist. */
  writeCheckpoints(): void {
    const live = new Map<string, Log>();
    for (const log of this.opts.logs()) live.set(keyOf(log), log);
    const entries = [];
    for (const [key, offset] of this.checkpoints) {
      const log = live.get(key);
      if (log === undefined) {
        this.checkpoints.delete(key);
        this.bound.delete(key);
        continue;
      }
      entries.push({ topic: log.topic, partition: log.partition, offset });
    }
    if (fs.existsSync(this.opts.dataDir)) writeOffsetCheckpoint(this.checkpointFile, entries);
  }

  // ---- gauges --------------------------------------------------------------------------------------

  /** max-buffer-utilization-percent. */
  get maxBufferUtilizationPercent(): number {
    return Math.max(0, ...this.threads.map((t) => (t.lastStats?.bufferUtilization ?? 0) * 100));
  }

  /** cleaner-recopy-percent. */
  get cleanerRecopyPercent(): number {
    let read = 0;
    let written = 0;
    for (const t of this.threads) {
      read += t.lastStats?.bytesRead ?? 0;
      written += t.lastStats?.bytesWritten ?? 0;
    }
    return Math.trunc((100 * written) / Math.max(read, 1));
  }

  /** max-clean-time-secs. */
  get maxCleanTimeSecs(): number {
    return Math.max(
      0,
      ...this.threads.map((t) => (t.lastStats ? (t.lastStats.endMs - t.lastStats.startMs) / 1000 : 0)),
    );
  }

  /** DeadThreadCount. */
  get deadThreadCount(): number {
    return this.threads.filter((t) => t.failed).length;
  }
}

/** Bytes of a file (an inactive segment's index: all of its entries are written), 0 when missing. */
function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
