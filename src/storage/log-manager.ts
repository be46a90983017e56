// Owns the data directories (`log.dirs`; the first is also where the metadata log lives): in each,
// meta.properties, the clean-shutdown marker, the log-dir checkpoint files; and every partition's Log. Mirrors Kafka's LogManager: which partitions
// exist is the cluster metadata's (src/metadata, kept in `__cluster_metadata/`); the replica manager
// opens or creates a partition's log when the metadata gives this broker a replica of it
// (`getOrCreateLog`) and deletes it when its topic goes (`deleteLogs`).
//
// Writes, as Kafka's LogManager does: the recovery-point and log-start-offset checkpoints are written by
// the broker's scheduler (log.flush.offset.checkpoint.interval.ms, log.flush.start.offset.checkpoint
// .interval.ms), one file per pass for every partition, and at clean shutdown; never once per partition.
// A recovery point that is behind only means more recovery; a log start offset moved by retention is
// derived again from the first remaining segment. One moved by DeleteRecords lives only in the checkpoint,
// so it is written before the request is answered (once per request, see batchUpdates) — stricter than
// Kafka, whose other replicas keep it; a single broker has none.
// Deleted logs: their directories go and the checkpoints are rewritten without them, once per request
// inside batchUpdates().
// Several log.dirs, as Kafka's: a new partition goes to the online directory holding the fewest; a
// directory whose disk fails goes offline (LogDirFailureChannel, log-dir-failure.ts) — its partitions
// answer KAFKA_STORAGE_ERROR, its files are no longer written, the other directories keep serving.

import fs from 'node:fs';
import path from 'node:path';
import { replaceFileInBackground, writeFileAtomic } from '../common/atomic-file.js';
import type { Logger } from '../common/logger.js';
import {
  CheckpointFormatError,
  offsetCheckpointText,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from './checkpoint-file.js';
import { Log } from './log.js';
import { type Clock, defaultLogConfig, type LogConfig, systemClock } from './log-config.js';
import { KafkaStorageError, LogDirFailureChannel } from './log-dir-failure.js';
import {
  isValidTopicId,
  newTopicId,
  readPartitionMetadata,
  writePartitionMetadata,
} from './partition-metadata.js';
import { DEFAULT_RING_BYTES, DEFAULT_SLOTS, SegmentWriter } from './segment-writer.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const META_PROPERTIES_FILE = 'meta.properties';
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const HIGH_WATERMARK_CHECKPOINT = 'replication-offset-checkpoint';

export interface LogManagerOptions {
  /** `log.dirs`: a comma-separated string or a list; the first also holds the metadata. */
  logDirs: string | string[];
  nodeId: number;
  /** Used only when meta.properties does not exist yet. */
  clusterId?: string;
  defaultConfig?: LogConfig;
  clock?: Clock;
  /** `producer.id.expiration.ms` of every partition's producer state (default 1 day). */
  producerIdExpirationMs?: number;
  /**
   * How appends reach their segment files: `direct`, one write(2) per batch as it is appended; `tick`,
   * gathered and written by the loop at the end of its turn, one writev per segment
   * (log.segment.write.coalesce.enable); `thread`, the same on a SegmentWriter thread
   * (log.segment.write.thread.enable); `auto`, on the loop or the thread, whichever the writes' cost says
   * (log.segment.write.thread.auto.enable; SegmentWriteMode). Default `direct`.
   */
  segmentWrites?: 'direct' | 'tick' | 'thread' | 'auto';
  /** Where a checkpoint that cannot be read (and is reset) is reported. */
  log?: Logger;
}

/** The INFO lines that say auto mode moved the segment writes (bench:kafka counts them per run). */
export const SEGMENT_WRITES_TO_THREAD = 'segment writes move to the writer thread';
export const SEGMENT_WRITES_TO_LOOP = 'segment writes move back to the event loop';

type DirCheckpoints = {
  recovery: Map<string, number>;
  starts: Map<string, number>;
  hws: Map<string, number>;
};

export class LogManager {
  /** The first log directory: also home of the metadata log and the other broker-wide files. */
  readonly dataDir: string;
  /** Every log directory (log.dirs), resolved, the first being dataDir. */
  readonly logDirs: readonly string[];
  /** Which directories failed or are full, and who hears of it (Kafka's LogDirFailureChannel). */
  readonly failureChannel: LogDirFailureChannel;
  readonly clusterId: string;
  readonly nodeId: number;
  /** Whether every log directory had its clean-shutdown marker. */
  readonly hadCleanShutdown: boolean;
  private readonly cleanShutdownDirs = new Set<string>();
  defaultConfig: LogConfig;
  private readonly clock: Clock;
  private readonly producerIdExpirationMs: number | undefined;
  private readonly log: Logger | undefined;
  private readonly logs = new Map<string, Log>();
  /** The checkpoints found at start, for the logs opened as the metadata is first applied. */
  private startupCheckpoints: Map<string, DirCheckpoints> | undefined;
  private closed = false;
  /** batchUpdates nesting depth; > 0 defers the writes below to the end of the outermost batch. */
  private batchDepth = 0;
  private logStartOffsetsDue = false;
  private checkpointsDue = false;
  /** Logs of deleted topics whose directories go at the end of the batch. */
  private pendingDirDeletes: Log[] = [];
  /** Synchronous writes per checkpoint file so far (a background write they overtook is dropped). */
  private readonly checkpointWrites = new Map<string, number>();
  /** Checkpoint files with a background write running (at most one each). */
  private readonly backgroundCheckpointFiles = new Set<string>();
  /** Background checkpoint writes running now: close waits for them (their temp files go first). */
  private readonly backgroundWrites = new Set<Promise<void>>();
  /** Unless segmentWrites is `direct`: every log's appends go through it (SegmentWriter). */
  readonly segmentWriter: SegmentWriter | null;

  private constructor(opts: LogManagerOptions) {
    const dirs = typeof opts.logDirs === 'string' ? opts.logDirs.split(',') : opts.logDirs;
    this.logDirs = [
      ...new Set(
        dirs
          .map((d) => d.trim())
          .filter((d) => d !== '')
          .map((d) => path.resolve(d)),
      ),
    ];
    this.dataDir = this.logDirs[0]!;
    this.nodeId = opts.nodeId;
    this.defaultConfig = opts.defaultConfig ?? defaultLogConfig;
    this.clock = opts.clock ?? systemClock;
    this.failureChannel = new LogDirFailureChannel(() => this.clock.now());
    const writes = opts.segmentWrites ?? 'direct';
    this.segmentWriter =
      writes === 'direct'
        ? null
        : new SegmentWriter(DEFAULT_RING_BYTES, DEFAULT_SLOTS, writes === 'tick' ? 'loop' : writes);
    // A background write that failed leaves its log ahead of its file (the append was counted): the
    // directory goes offline as Kafka's does on any write error, and a restart recovers the file.
    if (this.segmentWriter)
      this.segmentWriter.onWriteFailed = (segment, err) =>
        this.failureChannel.maybeAddOfflineLogDir(
          path.dirname(segment.dir),
          `a background write to ${segment.dir}`,
          err,
        );
    this.producerIdExpirationMs = opts.producerIdExpirationMs;
    this.log = opts.log;
    if (this.segmentWriter)
      this.segmentWriter.onModeChange = (onThread, w) => {
        const share = Math.round((100 * w.writeMs) / w.wallMs);
        const cost = w.bytes > 0 ? ((w.writeMs * 1e6) / w.bytes).toFixed(2) : '0';
        // The window was spent where the writes were before the move.
        const [move, where] = onThread
          ? [SEGMENT_WRITES_TO_THREAD, 'the event loop']
          : [SEGMENT_WRITES_TO_LOOP, 'the writer thread'];
        this.log?.info(
          `${move}: they took ${share} % of ${where}'s last ${Math.round(w.wallMs)} ms at ${cost} ns a byte`,
        );
      };
    let clusterId = opts.clusterId;
    for (const dir of this.logDirs) {
      fs.mkdirSync(dir, { recursive: true });
      // Every directory names the same cluster (the first one found decides a new directory's).
      clusterId = this.loadMetaProperties(dir, clusterId);
      const marker = path.join(dir, CLEAN_SHUTDOWN_FILE);
      if (fs.existsSync(marker)) this.cleanShutdownDirs.add(dir);
      fs.rmSync(marker, { force: true });
    }
    this.clusterId = clusterId!;
    this.hadCleanShutdown = this.cleanShutdownDirs.size === this.logDirs.length;
    this.failureChannel.listen({
      offline: (dir, reason, err) => this.logDirFailed(dir, reason, err),
      full: (dir, reason, err) =>
        this.log?.warn(
          `log directory ${dir} is full (${(err as NodeJS.ErrnoException).code}) on ${reason}: writes to it fail with KAFKA_STORAGE_ERROR until space is freed`,
        ),
      notFull: (dir) => this.log?.info(`log directory ${dir} accepts writes again`),
    });
  }

  /**
   * Kafka's LogDirFailureHandler: one ERROR line naming the directory and what failed, then its
   * logs are let go. With a single log directory Kafka stops the broker; kbroker stays up (see
   * log-dir-failure.ts): the admin API, the metrics and DescribeLogDirs tell what happened, and a
   * restart once the disk is fixed brings the directory back.
   */
  private logDirFailed(dir: string, reason: string, err: unknown): void {
    const lost = this.handleLogDirFailure(dir);
    const left = this.liveLogDirs().length;
    this.log?.error(
      `log directory ${dir} is offline after an I/O error on ${reason}: ${lost.length} partition(s) in it now answer KAFKA_STORAGE_ERROR` +
        (left > 0
          ? `; ${left} other log director${left === 1 ? 'y keeps' : 'ies keep'} serving`
          : '; no log directory is left online (Kafka would stop the broker; kbroker stays up for inspection — restart it once the disk is fixed)'),
      err,
      { logDir: dir, partitions: lost.length },
    );
  }

  /**
   * Opens the data dir; partition logs are opened (and recovered) by `getOrCreateLog` as the
   * metadata names them.
   */
  static open(opts: LogManagerOptions): LogManager {
    const m = new LogManager(opts);
    m.startupCheckpoints = new Map();
    for (const dir of m.logDirs) {
      m.startupCheckpoints.set(dir, {
        recovery: m.readDirCheckpoint(
          dir,
          RECOVERY_POINT_CHECKPOINT,
          'resetting the recovery checkpoint to 0',
        ),
        starts: m.readDirCheckpoint(
          dir,
          LOG_START_OFFSET_CHECKPOINT,
          'resetting to the base offset of the first segment',
        ),
        hws: m.readDirCheckpoint(dir, HIGH_WATERMARK_CHECKPOINT, 'the high watermarks restart from the logs'),
      });
    }
    return m;
  }

  private loadMetaProperties(dir: string, clusterId: string | undefined): string {
    const file = path.join(dir, META_PROPERTIES_FILE);
    if (fs.existsSync(file)) {
      const props = new Map<string, string>();
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const t = line.trim();
        if (t === '' || t.startsWith('#')) continue;
        const eq = t.indexOf('=');
        if (eq > 0) props.set(t.slice(0, eq), t.slice(eq + 1));
      }
      const storedNode = props.get('node.id');
      if (storedNode !== undefined && Number(storedNode) !== this.nodeId) {
        throw new Error(`${file}: node.id ${storedNode} does not match configured node.id ${this.nodeId}`);
      }
      const id = props.get('cluster.id');
      if (!id) throw new Error(`${file}: missing cluster.id`);
      if (clusterId !== undefined && dir !== this.dataDir && id !== clusterId)
        throw new Error(`${file}: cluster.id ${id} does not match ${clusterId} of ${this.dataDir}`);
      return id;
    }
    const id = clusterId ?? newTopicId();
    const lines = [
      '#',
      `#${new Date(this.clock.now()).toString()}`,
      `cluster.id=${id}`,
      `directory.id=${newTopicId()}`,
      `node.id=${this.nodeId}`,
      'version=1',
    ];
    writeFileAtomic(file, `${lines.join('\n')}\n`);
    return id;
  }

  /**
   * Kafka's LogManager.loadLogs: a recovery-point or log-start-offset checkpoint that cannot be
   * read (torn, garbage) is reset with a warning instead of stopping the broker — recovery then
   * starts from the logs themselves. The high-watermark checkpoint is treated alike: on one
   * broker the high watermark is the log end once the partition is led again.
   */
  private readDirCheckpoint(dir: string, name: string, consequence: string): Map<string, number> {
    const file = path.join(dir, name);
    try {
      return readOffsetCheckpoint(file);
    } catch (err) {
      if (!(err instanceof CheckpointFormatError)) throw err;
      this.log?.warn(`error reading ${name} of ${dir}, ${consequence}: ${err.message}`);
      return new Map();
    }
  }

  /**
   * The log of a partition the metadata gives this broker a replica of: the open one, else the
   * directory on disk when its `partition.metadata` names this topic id (recovered, with the
   * checkpoints found at start), else a new empty log — a directory left by an earlier topic of
   * the same name (a deletion cut short by a crash) is a stray and goes first, as in Kafka.
   */
  getOrCreateLog(topic: string, partition: number, topicId: string, config: LogConfig): Log {
    const key = `${topic}-${partition}`;
    const open = this.logs.get(key);
    if (open) return open;
    // A directory of this name still waiting for its deletion in this batch must go before it is reused.
    if (this.pendingDirDeletes.some((l) => l.topic === topic && l.partition === partition))
      this.writePending();
    const logDir = this.logDirOf(key);
    const dir = path.join(logDir, key);
    let state: { recoveryPoint?: number; logStartOffset?: number; highWatermark?: number } = {};
    if (fs.existsSync(dir)) {
      const stored = readPartitionMetadata(dir);
      const checkpoints = this.startupCheckpoints?.get(logDir);
      if (stored === topicId && checkpoints) {
        state = {
          recoveryPoint: checkpoints.recovery.get(key),
          logStartOffset: checkpoints.starts.get(key),
          highWatermark: checkpoints.hws.get(key),
        };
      } else if (stored !== topicId) {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const log = this.openLog(logDir, dir, topic, partition, config, {
      segmentWriter: this.segmentWriter ?? undefined,
      hadCleanShutdown: this.cleanShutdownDirs.has(logDir),
      recoveryPoint: state.recoveryPoint,
      logStartOffset: state.logStartOffset,
      highWatermark: state.highWatermark,
      onLogStartOffsetChange: (_log, reason) => {
        if (reason !== 'SegmentDeletion') this.logStartOffsetMovedByClient();
      },
      producerIdExpirationMs: this.producerIdExpirationMs,
      dirState: this.failureChannel.state(logDir),
    });
    if (readPartitionMetadata(dir) === null) writePartitionMetadata(dir, topicId);
    this.logs.set(key, log);
    return log;
  }

  /**
   * The log directory of partition `key`: the online one already holding it (a directory found
   * only in an offline one is refused), else the online one holding the fewest partitions (Kafka's
   * LogManager.nextLogDirs); KAFKA_STORAGE_ERROR when every directory is offline.
   */
  private logDirOf(key: string): string {
    for (const dir of this.logDirs) {
      if (!fs.existsSync(path.join(dir, key))) continue;
      this.failureChannel.state(dir).checkOnline(`opening ${key}`);
      return dir;
    }
    const online = this.liveLogDirs();
    if (online.length === 0) throw new KafkaStorageError(`creating ${key}: every log directory is offline`);
    if (online.length === 1) return online[0]!;
    const counts = new Map(online.map((d) => [d, 0]));
    for (const l of this.logs.values()) {
      const d = path.dirname(l.dir);
      if (counts.has(d)) counts.set(d, counts.get(d)! + 1);
    }
    return online.reduce((best, d) => (counts.get(d)! < counts.get(best)! ? d : best));
  }

  /** Log.open, with an I/O error of a failing disk taking the directory offline. */
  private openLog(
    logDir: string,
    dir: string,
    topic: string,
    partition: number,
    config: LogConfig,
    opts: Parameters<typeof Log.open>[5],
  ): Log {
    try {
      return Log.open(dir, topic, partition, config, this.clock, opts);
    } catch (err) {
      this.failureChannel.state(logDir).failed(`opening ${topic}-${partition}`, err);
      throw err;
    }
  }

  /** The log directories not offline. */
  liveLogDirs(): string[] {
    return this.logDirs.filter((d) => !this.failureChannel.isOffline(d));
  }

  /** The log directory holding `log`. */
  logDirOfLog(log: Log): string {
    return path.dirname(log.dir);
  }

  /**
   * Kafka's LogManager.handleLogDirFailure, after the channel took `dir` offline: its logs are
   * closed without writing (their handles let go) and forgotten; the partitions that held them
   * answer KAFKA_STORAGE_ERROR (their Log refuses every operation). Returns the partitions lost.
   */
  handleLogDirFailure(dir: string): string[] {
    const lost: string[] = [];
    for (const [key, log] of this.logs) {
      if (path.dirname(log.dir) !== dir) continue;
      log.close(); // an offline directory's log only lets go of its handles
      this.logs.delete(key);
      lost.push(key);
    }
    return lost;
  }

  /**
   * Called once the metadata loaded at start has been applied: the checkpoints read at start are
   * forgotten (a topic created later under an old name inherits nothing), and partition
   * directories whose topic id no topic of the metadata has — left by a deletion a crash cut
   * short after it was recorded — are deleted (Kafka's stray logs). Returns the directories deleted.
   */
  startupComplete(): string[] {
    this.startupCheckpoints = undefined;
    const open = new Set([...this.logs.values()].map((l) => l.dir));
    const deleted: string[] = [];
    for (const logDir of this.liveLogDirs()) {
      for (const entry of fs.readdirSync(logDir, { withFileTypes: true })) {
        const dir = path.join(logDir, entry.name);
        if (!entry.isDirectory() || open.has(dir) || !/-\d+$/.test(entry.name)) continue;
        if (!isValidTopicId(readPartitionMetadata(dir) ?? '')) continue;
        fs.rmSync(dir, { recursive: true, force: true });
        deleted.push(this.logDirs.length > 1 ? dir : entry.name);
      }
    }
    return deleted;
  }

  private logStartOffsetMovedByClient(): void {
    if (this.batchDepth > 0) this.logStartOffsetsDue = true;
    else this.checkpointLogStartOffsets();
  }

  /**
   * Runs `fn` (one request's work) writing the topic registry and the checkpoints it makes due once, when
   * it returns: N topics created, altered or deleted cost one write, not N. Batches nest; the outermost
   * one writes. For an async `fn`, what it does after its first await is written at once, as outside.
   */
  batchUpdates<T>(fn: () => T): T {
    this.batchDepth++;
    try {
      return fn();
    } finally {
      this.batchDepth--;
      if (this.batchDepth === 0) this.writePending();
    }
  }

  /** The writes a batch deferred, in the order that keeps the disk consistent after a crash. */
  private writePending(): void {
    if (this.closed) return;
    const doomed = this.pendingDirDeletes;
    this.pendingDirDeletes = [];
    // A log of an offline directory stays on its disk; the next start deletes it as a stray.
    for (const log of doomed) if (!log.dirState?.offline) log.delete();
    if (this.checkpointsDue) {
      this.checkpointsDue = false;
      this.logStartOffsetsDue = false;
      this.checkpointAll();
    } else if (this.logStartOffsetsDue) {
      this.logStartOffsetsDue = false;
      this.checkpointLogStartOffsets();
    }
  }

  /**
   * Deletes logs (their topic is gone): closed at once, directories removed and the checkpoints
   * rewritten without them — inside a batch once, at its end.
   */
  deleteLogs(logs: readonly Log[]): void {
    if (logs.length === 0) return;
    for (const log of logs) {
      this.logs.delete(`${log.topic}-${log.partition}`);
      this.pendingDirDeletes.push(log);
    }
    this.checkpointsDue = true;
    if (this.batchDepth === 0) this.writePending();
  }

  getLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(`${topic}-${partition}`);
  }

  allLogs(): Log[] {
    return [...this.logs.values()];
  }

  /**
   * Kafka's PeriodicProducerExpirationCheck (run every `producer.id.expiration.check.interval.ms`):
   * every partition forgets producers idle past `producer.id.expiration.ms` without an open
   * transaction. Returns how many entries were removed.
   */
  removeExpiredProducers(): number {
    const now = this.clock.now();
    let removed = 0;
    for (const log of this.logs.values()) removed += log.producerStateManager.removeExpiredProducers(now);
    return removed;
  }

  /**
   * Writes checkpoint `name` of every online log directory with its logs' offsets. A directory
   * whose disk fails on the write goes offline (the others are still written); a full one keeps
   * its previous checkpoint (recovery then starts earlier).
   */
  private writeDirCheckpoints(name: string, pick: (l: Log) => number): void {
    for (const dir of this.liveLogDirs()) {
      const offsets = this.allLogs()
        .filter((l) => path.dirname(l.dir) === dir)
        .map((l) => ({ topic: l.topic, partition: l.partition, offset: pick(l) }));
      const file = path.join(dir, name);
      // A background write of this file that began before now must not rename older values over these.
      this.checkpointWrites.set(file, (this.checkpointWrites.get(file) ?? 0) + 1);
      try {
        writeOffsetCheckpoint(file, offsets);
      } catch (err) {
        const state = this.failureChannel.state(dir);
        state.failed(`writing ${name}`, err);
        if (state.offline === null && state.fullSince === null) throw err;
      }
    }
  }

  /**
   * The scheduler's writes of checkpoint `name` (Kafka's scheduler thread writes these): the same
   * file as writeDirCheckpoints, with the offsets of the moment of the call, but the write and its
   * fsyncs run in libuv's thread pool, not on the event loop. An fsync of even a tiny file waits
   * for the journal commit of everything written before it, which under a steady produce load took
   * 30–120 ms here, stalling every connection every replica.high.watermark.checkpoint.interval.ms.
   * The rename stays on the loop, so it is ordered with synchronous writes of the same file (a
   * request's, shutdown's): a background write that a synchronous one overtook is dropped, as is
   * one still running when the manager closes. A pass over a file whose previous background write
   * is still running is skipped (the next pass writes newer offsets). Never rejects: a failure is
   * logged and reported to the directory's state as a synchronous write's would be.
   */
  private async writeDirCheckpointsInBackground(name: string, pick: (l: Log) => number): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const dir of this.liveLogDirs()) {
      const file = path.join(dir, name);
      if (this.backgroundCheckpointFiles.has(file)) continue;
      const offsets = this.allLogs()
        .filter((l) => path.dirname(l.dir) === dir)
        .map((l) => ({ topic: l.topic, partition: l.partition, offset: pick(l) }));
      this.backgroundCheckpointFiles.add(file);
      const write: Promise<void> = this.writeCheckpointInBackground(
        dir,
        file,
        offsetCheckpointText(offsets),
      ).finally(() => {
        this.backgroundCheckpointFiles.delete(file);
        this.backgroundWrites.delete(write);
      });
      this.backgroundWrites.add(write);
      writes.push(write);
    }
    await Promise.all(writes);
  }

  /**
   * Resolves once no background checkpoint write is running (after close() or abandon(), those still
   * running drop their temp file and stop): until then a test removing the data directory, or a
   * restart on it, could meet a `.background.tmp` being written.
   */
  async backgroundSettled(): Promise<void> {
    while (this.backgroundWrites.size > 0) await Promise.all(this.backgroundWrites);
    if (this.closed) await this.segmentWriter?.close();
  }

  private async writeCheckpointInBackground(dir: string, file: string, text: string): Promise<void> {
    const generation = this.checkpointWrites.get(file) ?? 0;
    // Not writeFileAtomic's `.tmp`: a synchronous write of the same file may run meanwhile.
    const tmp = `${file}.background.tmp`;
    const overtaken = () => this.closed || (this.checkpointWrites.get(file) ?? 0) !== generation;
    try {
      await replaceFileInBackground(file, tmp, text, overtaken);
    } catch (err) {
      if (this.closed) return;
      this.failureChannel.state(dir).failed(`writing ${path.basename(file)}`, err);
      this.log?.error(`writing ${file} failed`, err);
    }
  }

  /** The high-watermark checkpoint for the scheduler (replica.high.watermark.checkpoint.interval.ms), off the loop. */
  checkpointHighWatermarksInBackground(): Promise<void> {
    return this.writeDirCheckpointsInBackground(HIGH_WATERMARK_CHECKPOINT, (l) => l.highWatermark);
  }

  /** The recovery-point checkpoint for the scheduler (log.flush.offset.checkpoint.interval.ms), off the loop. */
  checkpointRecoveryPointsInBackground(): Promise<void> {
    return this.writeDirCheckpointsInBackground(RECOVERY_POINT_CHECKPOINT, (l) => l.recoveryPoint);
  }

  /** The log-start-offset checkpoint for the scheduler (log.flush.start.offset.checkpoint.interval.ms), off the loop. */
  checkpointLogStartOffsetsInBackground(): Promise<void> {
    return this.writeDirCheckpointsInBackground(LOG_START_OFFSET_CHECKPOINT, (l) => l.logStartOffset);
  }

  checkpointLogStartOffsets(): void {
    this.writeDirCheckpoints(LOG_START_OFFSET_CHECKPOINT, (l) => l.logStartOffset);
  }

  /** replication-offset-checkpoint; the server may call this on a timer (Kafka: every 5 s). */
  checkpointHighWatermarks(): void {
    this.writeDirCheckpoints(HIGH_WATERMARK_CHECKPOINT, (l) => l.highWatermark);
  }

  checkpointRecoveryPoints(): void {
    this.writeDirCheckpoints(RECOVERY_POINT_CHECKPOINT, (l) => l.recoveryPoint);
  }

  checkpointAll(): void {
    this.checkpointRecoveryPoints();
    this.checkpointLogStartOffsets();
    this.checkpointHighWatermarks();
  }

  /** Flushes every log, then records the new recovery points. */
  flushAll(): void {
    for (const log of this.logs.values()) log.flush();
    this.checkpointAll();
  }

  /**
   * flush.ms handling for a periodic timer (log.flush.scheduler.interval.ms). The recovery points it
   * moves are written by checkpointRecoveryPoints on its own schedule, as in Kafka.
   */
  flushDirtyLogs(): void {
    for (const log of this.logs.values()) log.maybeFlushByTime();
  }

  /** Clean shutdown: flush, checkpoint, close every log, then write the clean-shutdown marker. */
  close(): void {
    if (this.closed) return;
    for (const log of this.pendingDirDeletes) if (!log.dirState?.offline) log.delete();
    this.pendingDirDeletes = [];
    this.closed = true;
    for (const log of this.logs.values()) log.close();
    this.segmentWriter?.close().catch(() => undefined); // every log's writes are done: this stops the thread
    this.checkpointAll();
    // An offline directory gets no marker: the next start recovers it.
    for (const dir of this.liveLogDirs()) writeFileAtomic(path.join(dir, CLEAN_SHUTDOWN_FILE), '');
  }

  /**
   * A crash, for tests and `Cluster.killBroker`: the files are let go without a flush, checkpoint
   * or clean-shutdown marker, so the next open recovers as after a killed process.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.pendingDirDeletes = [];
    for (const log of this.logs.values()) log.abandon();
    this.segmentWriter?.close().catch(() => undefined);
  }
}
