// Owns one data directory (first `log.dirs` entry): meta.properties, the clean-shutdown marker, the
// log-dir checkpoint files and every partition's Log. Mirrors Kafka's LogManager: which partitions
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
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { Logger } from '../common/logger.js';
import { CheckpointFormatError, readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint-file.js';
import { Log } from './log.js';
import { type Clock, defaultLogConfig, type LogConfig, systemClock } from './log-config.js';
import {
  isValidTopicId,
  newTopicId,
  readPartitionMetadata,
  writePartitionMetadata,
} from './partition-metadata.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const META_PROPERTIES_FILE = 'meta.properties';
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const HIGH_WATERMARK_CHECKPOINT = 'replication-offset-checkpoint';

export interface LogManagerOptions {
  /** `log.dirs`: a comma-separated string or a list; the first entry is used. */
  logDirs: string | string[];
  nodeId: number;
  /** Used only when meta.properties does not exist yet. */
  clusterId?: string;
  defaultConfig?: LogConfig;
  clock?: Clock;
  /** `producer.id.expiration.ms` of every partition's producer state (default 1 day). */
  producerIdExpirationMs?: number;
  /** Where a checkpoint that cannot be read (and is reset) is reported. */
  log?: Logger;
}

export class LogManager {
  readonly dataDir: string;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly hadCleanShutdown: boolean;
  defaultConfig: LogConfig;
  private readonly clock: Clock;
  private readonly producerIdExpirationMs: number | undefined;
  private readonly log: Logger | undefined;
  private readonly logs = new Map<string, Log>();
  /** The checkpoints found at start, for the logs opened as the metadata is first applied. */
  private startupCheckpoints:
    | { recovery: Map<string, number>; starts: Map<string, number>; hws: Map<string, number> }
    | undefined;
  private closed = false;
  /** batchUpdates nesting depth; > 0 defers the writes below to the end of the outermost batch. */
  private batchDepth = 0;
  private logStartOffsetsDue = false;
  private checkpointsDue = false;
  /** Logs of deleted topics whose directories go at the end of the batch. */
  private pendingDirDeletes: Log[] = [];

  private constructor(opts: LogManagerOptions) {
    const dirs = typeof opts.logDirs === 'string' ? opts.logDirs.split(',') : opts.logDirs;
    this.dataDir = path.resolve(dirs[0]!.trim());
    this.nodeId = opts.nodeId;
    this.defaultConfig = opts.defaultConfig ?? defaultLogConfig;
    this.clock = opts.clock ?? systemClock;
    this.producerIdExpirationMs = opts.producerIdExpirationMs;
    this.log = opts.log;
    fs.mkdirSync(this.dataDir, { recursive: true });
    this.clusterId = this.loadMetaProperties(opts.clusterId);
    const marker = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    this.hadCleanShutdown = fs.existsSync(marker);
    fs.rmSync(marker, { force: true });
  }

  /**
   * Opens the data dir; partition logs are opened (and recovered) by `getOrCreateLog` as the
   * metadata names them.
   */
  static open(opts: LogManagerOptions): LogManager {
    const m = new LogManager(opts);
    m.startupCheckpoints = {
      recovery: m.readDirCheckpoint(RECOVERY_POINT_CHECKPOINT, 'resetting the recovery checkpoint to 0'),
      starts: m.readDirCheckpoint(
        LOG_START_OFFSET_CHECKPOINT,
        'resetting to the base offset of the first segment',
      ),
      hws: m.readDirCheckpoint(HIGH_WATERMARK_CHECKPOINT, 'the high watermarks restart from the logs'),
    };
    return m;
  }

  private loadMetaProperties(clusterId: string | undefined): string {
    const file = path.join(this.dataDir, META_PROPERTIES_FILE);
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
  private readDirCheckpoint(name: string, consequence: string): Map<string, number> {
    const file = path.join(this.dataDir, name);
    try {
      return readOffsetCheckpoint(file);
    } catch (err) {
      if (!(err instanceof CheckpointFormatError)) throw err;
      this.log?.warn(`error reading ${name} of ${this.dataDir}, ${consequence}: ${err.message}`);
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
    const dir = path.join(this.dataDir, key);
    let state: { recoveryPoint?: number; logStartOffset?: number; highWatermark?: number } = {};
    if (fs.existsSync(dir)) {
      const stored = readPartitionMetadata(dir);
      if (stored === topicId && this.startupCheckpoints) {
        state = {
          recoveryPoint: this.startupCheckpoints.recovery.get(key),
          logStartOffset: this.startupCheckpoints.starts.get(key),
          highWatermark: this.startupCheckpoints.hws.get(key),
        };
      } else if (stored !== topicId) {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const log = Log.open(dir, topic, partition, config, this.clock, {
      hadCleanShutdown: this.hadCleanShutdown,
      recoveryPoint: state.recoveryPoint,
      logStartOffset: state.logStartOffset,
      highWatermark: state.highWatermark,
      onLogStartOffsetChange: (_log, reason) => {
        if (reason !== 'SegmentDeletion') this.logStartOffsetMovedByClient();
      },
      producerIdExpirationMs: this.producerIdExpirationMs,
    });
    if (readPartitionMetadata(dir) === null) writePartitionMetadata(dir, topicId);
    this.logs.set(key, log);
    return log;
  }

  /**
   * Called once the metadata loaded at start has been applied: the checkpoints read at start are
   * forgotten (a topic created later under an old name inherits nothing), and partition
   * directories whose topic id no topic of the metadata has — left by a deletion a crash cut
   * short after it was recorded — are deleted (Kafka's stray logs). Returns the directories deleted.
   */
  startupComplete(): string[] {
    this.startupCheckpoints = undefined;
    const open = new Set([...this.logs.values()].map((l) => path.basename(l.dir)));
    const deleted: string[] = [];
    for (const entry of fs.readdirSync(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || open.has(entry.name) || !/-\d+$/.test(entry.name)) continue;
      const dir = path.join(this.dataDir, entry.name);
      if (!isValidTopicId(readPartitionMetadata(dir) ?? '')) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      deleted.push(entry.name);
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
    for (const log of doomed) log.delete();
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

  private offsets(pick: (l: Log) => number) {
    return this.allLogs().map((l) => ({ topic: l.topic, partition: l.partition, offset: pick(l) }));
  }

  checkpointLogStartOffsets(): void {
    writeOffsetCheckpoint(
      path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT),
      this.offsets((l) => l.logStartOffset),
    );
  }

  /** replication-offset-checkpoint; the server may call this on a timer (Kafka: every 5 s). */
  checkpointHighWatermarks(): void {
    writeOffsetCheckpoint(
      path.join(this.dataDir, HIGH_WATERMARK_CHECKPOINT),
      this.offsets((l) => l.highWatermark),
    );
  }

  checkpointRecoveryPoints(): void {
    writeOffsetCheckpoint(
      path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT),
      this.offsets((l) => l.recoveryPoint),
    );
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
    for (const log of this.pendingDirDeletes) log.delete();
    this.pendingDirDeletes = [];
    this.closed = true;
    for (const log of this.logs.values()) log.close();
    this.checkpointAll();
    writeFileAtomic(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE), '');
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
  }
}
