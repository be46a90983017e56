// Opening a partition directory (Kafka's LogLoader): leftover and orphan files go, every `.log` becomes a
// segment, the segments from the recovery point on (all of them after an unclean leader-epoch checkpoint,
// only the active one after a clean shutdown) are re-validated with a torn tail truncated and their
// indexes rebuilt, producer state is loaded from its newest snapshot and the batches after it, and the
// leader epoch cache is trimmed to what remains. What it finds is handed to LocalLog and Log.
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointFormatError } from './checkpoint-file.js';
import { scanFileBatches } from './file-batch-scanner.js';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache } from './leader-epoch-cache.js';
import type { Clock } from './log-config.js';
import { type LogConfig, randomSegmentJitter } from './log-config.js';
import type { LogSegments } from './log-segments.js';
import type { ProducerStateManager } from './producer-state-manager.js';
import { rebuildProducerState, replayBatch } from './producer-state-replay.js';
import { filenamePrefixFromOffset, LogSegment } from './segment.js';

/** Offset after the last whole batch of a `.log` file (its base offset when it has none). */
function readNextOffset(file: string, base: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    let next = base;
    scanFileBatches(fd, 0, fs.fstatSync(fd).size, false, (b) => {
      next = b.lastOffset + 1;
      return true;
    });
    return next;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Files an interrupted operation left behind, deleted at load: `.deleted` (retention deleted the segment),
 * `.tmp`, and whatever `.cleaned` / `.swap` file completeOrRollBackSwaps left (not a segment's).
 */
const LEFTOVER_SUFFIXES = ['.deleted', '.tmp', '.cleaned', '.swap'];
const SEGMENT_FILE_RE = /^(\d{20})\.(log|index|timeindex|txnindex)$/;
const SWAP_OR_CLEANED_RE = /^(\d{20})\.(log|index|timeindex|txnindex)\.(cleaned|swap)$/;
const INDEX_SUFFIXES = ['.index', '.timeindex', '.txnindex'];

/** Where the loaded log stands (Kafka's LoadedLogOffsets). */
export interface LoadedLogOffsets {
  logStartOffset: number;
  logEndOffset: number;
  /** Everything below it is on disk and validated: the log end offset after a load. */
  recoveryPoint: number;
}

export interface LogLoaderParams {
  dir: string;
  config: LogConfig;
  clock: Clock;
  /** Filled by load(); empty before. */
  segments: LogSegments;
  leaderEpochCache: LeaderEpochCache;
  producerStateManager: ProducerStateManager;
  /** A clean-shutdown marker was found: only the active segment is re-scanned. */
  hadCleanShutdown?: boolean;
  /** Offset up to which the log is known fsynced; segments from the one holding it are recovered. */
  recoveryPoint?: number;
  /** From log-start-offset-checkpoint; the first segment's base offset when higher. */
  logStartOffset?: number;
  /** The leader-epoch-checkpoint was unreadable: every segment is recovered to rebuild the cache. */
  recoverAll?: boolean;
}

/**
 * The partition's leader-epoch-checkpoint; an unreadable one is deleted and starts empty, `corrupt` then
 * asking the loader to rebuild it from every batch.
 */
export function openLeaderEpochCache(dir: string): { cache: LeaderEpochCache; corrupt: boolean } {
  try {
    return { cache: new LeaderEpochCache(dir), corrupt: false };
  } catch (e) {
    if (!(e instanceof CheckpointFormatError)) throw e;
    fs.rmSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), { force: true });
    return { cache: new LeaderEpochCache(dir), corrupt: true };
  }
}

export class LogLoader {
  constructor(private readonly p: LogLoaderParams) {}

  load(): LoadedLogOffsets {
    const { dir, config, clock, segments, leaderEpochCache: cache, producerStateManager: psm } = this.p;
    const now = clock.now();
    const bases = this.removeTempFilesAndCollectBaseOffsets();
    const sorted = [...bases].sort((a, b) => a - b);
    const needsRebuild = sorted.map((b) => !LogSegment.indexFilesExist(dir, b));
    for (const b of sorted) segments.add(LogSegment.open(dir, b, now, randomSegmentJitter(config)));

    if (!segments.isEmpty) {
      const from = this.firstSegmentToRecover(needsRebuild);
      const all = segments.values();
      for (let i = 0; i < from; i++) all[i]!.onBecomeInactive();
      rebuildProducerState(psm, segments, all[from]!.baseOffset, clock.now());
      this.recoverFrom(from);
    }
    if (segments.isEmpty) {
      segments.add(LogSegment.open(dir, this.p.logStartOffset ?? 0, now, randomSegmentJitter(config)));
    }
    const logEndOffset = segments.activeSegment.nextOffset();
    // Snapshots beyond the recovered end describe data that is gone.
    psm.deleteSnapshotsAbove(logEndOffset);
    if (psm.mapEndOffset !== logEndOffset) rebuildProducerState(psm, segments, logEndOffset, clock.now());
    // Batches replayed above may belong to producers that had expired (Kafka would have loaded them
    // from the snapshot written at close, which leaves those out).
    psm.removeExpiredProducers(now);
    const logStartOffset = Math.min(
      Math.max(this.p.logStartOffset ?? 0, segments.firstSegment()!.baseOffset),
      logEndOffset,
    );
    cache.truncateFromEnd(logEndOffset, false);
    cache.truncateFromStart(logStartOffset, false);
    cache.flush();
    return { logStartOffset, logEndOffset, recoveryPoint: logEndOffset };
  }

  /**
   * A cleaner's swap cut short (Kafka's removeTempFilesAndCollectSwapFiles and the passes after it): a
   * `.cleaned` file is an unfinished cleaning and goes (rolled back: its sources are untouched); a
   * `<base>.log.swap` is a finished one and is completed: every segment file in [base, its next offset) is an
   * old segment it replaces and goes, then it is renamed to `<base>.log`. Index files of a swap are deleted
   * rather than trusted, so that the segment's indexes are rebuilt at load. A `.swap` at or above the first
   * `.cleaned` belongs to an operation that had not finished writing and goes too.
   */
  private completeOrRollBackSwaps(): void {
    const { dir } = this.p;
    const cleaned: number[] = [];
    const swapLogs: number[] = [];
    for (const name of fs.readdirSync(dir)) {
      const m = SWAP_OR_CLEANED_RE.exec(name);
      if (!m) continue;
      const base = Number(m[1]);
      if (m[3] === 'cleaned') {
        cleaned.push(base);
        fs.rmSync(path.join(dir, name), { force: true });
      } else if (m[2] === 'log') swapLogs.push(base);
      else fs.rmSync(path.join(dir, name), { force: true });
    }
    if (swapLogs.length === 0) return;
    const minCleaned = cleaned.length > 0 ? Math.min(...cleaned) : Number.POSITIVE_INFINITY;
    let minSwap = Number.POSITIVE_INFINITY;
    let maxSwap = Number.NEGATIVE_INFINITY;
    const valid: number[] = [];
    for (const base of swapLogs) {
      const file = path.join(dir, `${filenamePrefixFromOffset(base)}.log.swap`);
      if (base >= minCleaned) {
        fs.rmSync(file, { force: true });
        continue;
      }
      valid.push(base);
      for (const s of INDEX_SUFFIXES)
        fs.rmSync(path.join(dir, filenamePrefixFromOffset(base) + s), { force: true });
      minSwap = Math.min(minSwap, base);
      maxSwap = Math.max(maxSwap, readNextOffset(file, base));
    }
    for (const name of fs.readdirSync(dir)) {
      const m = SEGMENT_FILE_RE.exec(name);
      if (!m) continue;
      const offset = Number(m[1]);
      if (offset >= minSwap && offset < maxSwap) fs.rmSync(path.join(dir, name), { force: true });
    }
    for (const base of valid) {
      const prefix = path.join(dir, filenamePrefixFromOffset(base));
      fs.renameSync(`${prefix}.log.swap`, `${prefix}.log`);
    }
  }

  /** Deletes leftover files and index files without a `.log` (Kafka deletes those orphans too); returns the `.log` base offsets. */
  private removeTempFilesAndCollectBaseOffsets(): Set<number> {
    const { dir } = this.p;
    const bases = new Set<number>();
    this.completeOrRollBackSwaps();
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name);
      if (LEFTOVER_SUFFIXES.some((s) => name.endsWith(s))) {
        fs.rmSync(full, { force: true, recursive: true });
        continue;
      }
      const m = SEGMENT_FILE_RE.exec(name);
      if (m && m[2] === 'log') bases.add(Number(m[1]));
    }
    for (const name of fs.readdirSync(dir)) {
      const m = SEGMENT_FILE_RE.exec(name);
      if (m && m[2] !== 'log' && !bases.has(Number(m[1]))) fs.rmSync(path.join(dir, name), { force: true });
    }
    return bases;
  }

  /**
   * Index of the first segment to re-validate: every one after an unreadable epoch checkpoint, the active
   * one after a clean shutdown, else the one holding the recovery point. Below that, a segment whose indexes
   * are missing or corrupt is recovered too, and so is every later one: its transaction index needs the
   * producer state of the segments before it.
   */
  private firstSegmentToRecover(needsRebuild: readonly boolean[]): number {
    const { segments } = this.p;
    const all = segments.values();
    let from: number;
    if (this.p.recoverAll) from = 0;
    else if (this.p.hadCleanShutdown) from = all.length - 1;
    else {
      const holding = segments.floorSegment(this.p.recoveryPoint ?? 0);
      from = holding === undefined ? 0 : all.indexOf(holding);
    }
    for (let i = 0; i < from; i++) {
      const seg = all[i]!;
      if (
        needsRebuild[i] ||
        seg.offsetIndex.sanityCheck(seg.size) !== null ||
        seg.timeIndex.sanityCheck() !== null ||
        seg.txnIndex.sanityCheck() !== null
      ) {
        return i;
      }
    }
    return from;
  }

  /** Re-validates segments [from, end); at the first bad batch truncates there and drops later segments. */
  private recoverFrom(from: number): void {
    const { config, segments, leaderEpochCache: cache, producerStateManager: psm } = this.p;
    const all = segments.values();
    cache.truncateFromEnd(all[from]!.baseOffset, false);
    let prevNext = from > 0 ? all[from - 1]!.nextOffset() : -1;
    for (let i = from; i < all.length; i++) {
      const seg = all[i]!;
      const overlaps = seg.baseOffset < prevNext;
      const res = overlaps
        ? null
        : seg.recover(config.indexIntervalBytes, (b) => {
            if (b.partitionLeaderEpoch >= 0) cache.assign(b.partitionLeaderEpoch, b.baseOffset, false);
            replayBatch(psm, seg, b, true);
          });
      if (overlaps || (res !== null && res.truncatedBytes > 0)) {
        const dropFrom = overlaps ? i : i + 1;
        for (const dead of all.slice(dropFrom)) {
          segments.remove(dead.baseOffset);
          dead.deleteFiles();
        }
        if (!segments.isEmpty) segments.activeSegment.flush();
        return;
      }
      seg.flush();
      if (i < all.length - 1) {
        seg.onBecomeInactive();
        // As Kafka: a snapshot after each recovered segment spares re-reading it.
        psm.takeSnapshot(seg.nextOffset());
      }
      prevNext = seg.nextOffset();
    }
  }
}
