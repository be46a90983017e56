// Owns one data directory (first `log.dirs` entry): meta.properties, the clean-shutdown marker, the
// log-dir checkpoint files, the topic registry `kbroker-topics.json`, and every partition's Log.
// Mirrors Kafka's LogManager (plus the topic metadata a KRaft broker would get from __cluster_metadata).
//
// Writes, as Kafka's LogManager does: the recovery-point and log-start-offset checkpoints are written by
// the broker's scheduler (log.flush.offset.checkpoint.interval.ms, log.flush.start.offset.checkpoint
// .interval.ms), one file per pass for every partition, and at clean shutdown; never once per partition.
// A recovery point that is behind only means more recovery; a log start offset moved by retention is
// derived again from the first remaining segment. One moved by DeleteRecords lives only in the checkpoint,
// so it is written before the request is answered (once per request, see batchUpdates) — stricter than
// Kafka, whose other replicas keep it; a single broker has none.
// Topic registry changes are written once per request: inside batchUpdates(), createTopic,
// setTopicConfigs, addPartitions and deleteTopics only mark the registry, and the end of the batch writes
// it (then removes the directories of deleted topics, then rewrites the checkpoints without them).
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { invalidTopicReason } from '../common/topic-name.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint-file.js';
import { Log } from './log.js';
import {
  type Clock,
  defaultLogConfig,
  type LogConfig,
  logConfigFromProps,
  systemClock,
} from './log-config.js';
import {
  isValidTopicId,
  newTopicId,
  readPartitionMetadata,
  writePartitionMetadata,
} from './partition-metadata.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const META_PROPERTIES_FILE = 'meta.properties';
export const TOPICS_FILE = 'kbroker-topics.json';
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const HIGH_WATERMARK_CHECKPOINT = 'replication-offset-checkpoint';

export interface TopicInfo {
  name: string;
  topicId: string;
  partitions: number;
  /** Kafka-named topic config overrides, e.g. {"retention.ms": "1000"}. */
  configs: Record<string, string>;
}

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
}

export class LogManager {
  readonly dataDir: string;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly hadCleanShutdown: boolean;
  defaultConfig: LogConfig;
  private readonly clock: Clock;
  private readonly producerIdExpirationMs: number | undefined;
  private readonly topicMap = new Map<string, TopicInfo>();
  private readonly logs = new Map<string, Log>();
  private closed = false;
  /** batchUpdates nesting depth; > 0 defers the writes below to the end of the outermost batch. */
  private batchDepth = 0;
  private topicsDirty = false;
  private logStartOffsetsDue = false;
  private checkpointsDue = false;
  /** Logs of deleted topics whose directories go once the registry no longer lists them. */
  private pendingDirDeletes: Log[] = [];

  private constructor(opts: LogManagerOptions) {
    const dirs = typeof opts.logDirs === 'string' ? opts.logDirs.split(',') : opts.logDirs;
    this.dataDir = path.resolve(dirs[0]!.trim());
    this.nodeId = opts.nodeId;
    this.defaultConfig = opts.defaultConfig ?? defaultLogConfig;
    this.clock = opts.clock ?? systemClock;
    this.producerIdExpirationMs = opts.producerIdExpirationMs;
    fs.mkdirSync(this.dataDir, { recursive: true });
    this.clusterId = this.loadMetaProperties(opts.clusterId);
    const marker = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    this.hadCleanShutdown = fs.existsSync(marker);
    fs.rmSync(marker, { force: true });
  }

  /** Opens the data dir and every partition log (recovering them), synchronously. */
  static open(opts: LogManagerOptions): LogManager {
    const m = new LogManager(opts);
    m.loadTopics();
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

  private loadTopics(): void {
    const file = path.join(this.dataDir, TOPICS_FILE);
    if (!fs.existsSync(file)) return;
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { topics: TopicInfo[] };
    const recovery = readOffsetCheckpoint(path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT));
    const starts = readOffsetCheckpoint(path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT));
    const hws = readOffsetCheckpoint(path.join(this.dataDir, HIGH_WATERMARK_CHECKPOINT));
    for (const t of parsed.topics) {
      this.topicMap.set(t.name, t);
      for (let p = 0; p < t.partitions; p++) {
        const key = `${t.name}-${p}`;
        this.openLog(t, p, {
          recoveryPoint: recovery.get(key),
          logStartOffset: starts.get(key),
          highWatermark: hws.get(key),
        });
      }
    }
  }

  private openLog(
    t: TopicInfo,
    partition: number,
    state: {
      recoveryPoint?: number | undefined;
      logStartOffset?: number | undefined;
      highWatermark?: number | undefined;
    },
  ): Log {
    const dir = path.join(this.dataDir, `${t.name}-${partition}`);
    const log = Log.open(
      dir,
      t.name,
      partition,
      logConfigFromProps(this.defaultConfig, t.configs),
      this.clock,
      {
        hadCleanShutdown: this.hadCleanShutdown,
        recoveryPoint: state.recoveryPoint,
        logStartOffset: state.logStartOffset,
        highWatermark: state.highWatermark,
        onLogStartOffsetChange: (_log, reason) => {
          if (reason !== 'SegmentDeletion') this.logStartOffsetMovedByClient();
        },
        producerIdExpirationMs: this.producerIdExpirationMs,
      },
    );
    const stored = readPartitionMetadata(dir);
    if (stored !== null && stored !== t.topicId)
      throw new Error(`${dir}: topic id ${stored} != ${t.topicId}`);
    if (stored === null) writePartitionMetadata(dir, t.topicId);
    this.logs.set(`${t.name}-${partition}`, log);
    return log;
  }

  private persistTopics(): void {
    if (this.batchDepth > 0) {
      this.topicsDirty = true;
      return;
    }
    this.writeTopics();
  }

  private writeTopics(): void {
    this.topicsDirty = false;
    writeFileAtomic(
      path.join(this.dataDir, TOPICS_FILE),
      `${JSON.stringify({ version: 0, topics: [...this.topicMap.values()] }, null, 2)}\n`,
    );
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
    if (this.topicsDirty) this.writeTopics();
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

  createTopic(
    name: string,
    partitions: number,
    configs: Record<string, string> = {},
    topicId?: string,
  ): TopicInfo {
    const invalid = invalidTopicReason(name);
    if (invalid !== null) throw new Error(invalid);
    if (this.topicMap.has(name)) throw new Error(`topic '${name}' already exists`);
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new Error(`invalid partition count ${partitions}`);
    if (topicId !== undefined && !isValidTopicId(topicId)) throw new Error(`invalid topic id ${topicId}`);
    logConfigFromProps(this.defaultConfig, configs); // validates values
    const info: TopicInfo = { name, topicId: topicId ?? newTopicId(), partitions, configs: { ...configs } };
    // A directory of this name still waiting for its deletion in this batch must go before it is reused.
    if (this.pendingDirDeletes.some((l) => l.topic === name)) this.writePending();
    for (let p = 0; p < partitions; p++)
      fs.rmSync(path.join(this.dataDir, `${name}-${p}`), { recursive: true, force: true });
    this.topicMap.set(name, info);
    this.persistTopics();
    for (let p = 0; p < partitions; p++) this.openLog(info, p, {});
    return info;
  }

  /** Replaces a topic's config overrides and applies them to its open logs. */
  setTopicConfigs(name: string, configs: Record<string, string>): void {
    const t = this.topicMap.get(name);
    if (!t) throw new Error(`unknown topic '${name}'`);
    const cfg = logConfigFromProps(this.defaultConfig, configs);
    t.configs = { ...configs };
    this.persistTopics();
    for (let p = 0; p < t.partitions; p++) this.logs.get(`${name}-${p}`)!.config = cfg;
  }

  /**
   * New broker defaults (a dynamic broker config changed): every log's config is rebuilt from them and
   * its topic's overrides. The overrides themselves do not change, so nothing is written.
   */
  setDefaultConfig(config: LogConfig): void {
    this.defaultConfig = config;
    for (const t of this.topicMap.values()) {
      const cfg = logConfigFromProps(config, t.configs);
      for (let p = 0; p < t.partitions; p++) {
        const log = this.logs.get(`${t.name}-${p}`);
        if (log) log.config = cfg;
      }
    }
  }

  addPartitions(name: string, newCount: number): void {
    const t = this.topicMap.get(name);
    if (!t) throw new Error(`unknown topic '${name}'`);
    if (!Number.isInteger(newCount) || newCount <= t.partitions) {
      throw new Error(`topic '${name}' has ${t.partitions} partitions; cannot change to ${newCount}`);
    }
    const old = t.partitions;
    // As createTopic: a directory left by an earlier topic of this name (a deletion cut short by a
    // crash) must not become the new partition, whose topic id would not match.
    for (let p = old; p < newCount; p++)
      fs.rmSync(path.join(this.dataDir, `${name}-${p}`), { recursive: true, force: true });
    t.partitions = newCount;
    this.persistTopics();
    for (let p = old; p < newCount; p++) this.openLog(t, p, {});
  }

  deleteTopic(name: string): void {
    this.deleteTopics([name]);
  }

  /**
   * Deletes several topics with one write of the topics file and of each checkpoint (the checkpoints are
   * rewritten without them, so that a topic created again under the same name inherits nothing). The
   * registry is written before the directories go; inside a batch both wait for its end.
   */
  deleteTopics(names: readonly string[]): void {
    const found = names.map((name) => {
      const t = this.topicMap.get(name);
      if (!t) throw new Error(`unknown topic '${name}'`);
      return t;
    });
    for (const t of found) this.topicMap.delete(t.name);
    for (const t of found) {
      for (let p = 0; p < t.partitions; p++) {
        const log = this.logs.get(`${t.name}-${p}`);
        this.logs.delete(`${t.name}-${p}`);
        if (log) this.pendingDirDeletes.push(log);
      }
    }
    this.topicsDirty = true;
    this.checkpointsDue = true;
    if (this.batchDepth === 0) this.writePending();
  }

  getLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(`${topic}-${partition}`);
  }

  topic(name: string): TopicInfo | undefined {
    return this.topicMap.get(name);
  }

  topics(): TopicInfo[] {
    return [...this.topicMap.values()];
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
    if (this.topicsDirty) this.writeTopics();
    for (const log of this.pendingDirDeletes) log.delete();
    this.pendingDirDeletes = [];
    this.closed = true;
    for (const log of this.logs.values()) log.close();
    this.checkpointAll();
    writeFileAtomic(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE), '');
  }
}
