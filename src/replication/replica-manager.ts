/**
 * Kafka's ReplicaManager for this broker: the partitions it leads, appends from producers, reads
 * for consumers, and the fetch purgatory (long polls woken by appends). Topic metadata and the
 * logs themselves live in storage's LogManager; this layer adds leadership (leader epoch,
 * replicas, ISR, high watermark) so that followers can be added without touching handlers.
 */

import type { DynamicScope } from '../config/broker-config.js';
import { loadDynamicBrokerConfigs, saveDynamicBrokerConfigs } from '../config/dynamic-broker-configs.js';
import type { Broker } from '../server/broker.js';
import { defaultLogConfig, logConfigFromProps } from '../storage/log-config.js';
import type { TopicInfo as TopicMetadata } from '../storage/log-manager.js';
import { invalidTopicReason } from '../storage/topic-name.js';
import { Partition } from './partition.js';

export interface TopicInfo {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly Partition[];
  readonly isInternal: boolean;
  /** Topic config overrides as stored. */
  readonly configs: Readonly<Record<string, string>>;
  /** Effective topic configs: overrides over broker defaults, Kafka's topic config names. */
  readonly effectiveConfig: Readonly<Record<string, string>>;
}

/** A single broker leads every partition from the first epoch on. */
const LEADER_EPOCH = 0;

/** Longest run of retention work between two turns of the event loop. */
const RETENTION_SLICE_MS = 10;

export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);

export class ReplicaManager {
  private readonly topicsByName = new Map<string, TopicInfo>();
  private readonly topicsById = new Map<string, TopicInfo>();
  private shuttingDown = false;
  private retentionRunning = false;
  private readonly shutdownListeners = new Set<() => void>();

  constructor(private readonly broker: Broker) {
    const dynamic = loadDynamicBrokerConfigs(broker.logManager.dataDir);
    for (const scope of ['default', 'broker'] as const) {
      if (Object.keys(dynamic[scope]).length > 0) broker.config.setDynamic(scope, dynamic[scope]);
    }
    if (Object.keys(dynamic.default).length + Object.keys(dynamic.broker).length > 0) {
      this.refreshLogDefaults();
    }
    for (const meta of broker.logManager.topics()) this.register(meta);
  }

  /** (Re)builds the TopicInfo of `meta`, keeping the Partition objects that already exist. */
  private register(meta: TopicMetadata, existing: readonly Partition[] = []): TopicInfo {
    const nodeId = this.broker.nodeId;
    const partitions: Partition[] = [];
    for (let p = 0; p < meta.partitions; p++) {
      const known = existing[p];
      if (known) {
        partitions.push(known);
        continue;
      }
      const log = this.broker.logManager.getLog(meta.name, p)!;
      // Becoming leader starts the leader epoch at the log end (Kafka's Partition.makeLeader),
      // so OffsetForLeaderEpoch answers for an empty partition too.
      if (log.leaderEpochCache.latestEpoch() < LEADER_EPOCH) {
        log.leaderEpochCache.assign(LEADER_EPOCH, log.logEndOffset);
      }
      partitions.push(new Partition(meta.name, p, log, nodeId, LEADER_EPOCH, [nodeId], [nodeId]));
    }
    const info: TopicInfo = {
      name: meta.name,
      topicId: meta.topicId,
      partitions,
      isInternal: INTERNAL_TOPICS.has(meta.name),
      configs: { ...meta.configs },
      effectiveConfig: this.broker.config.topicConfig(meta.configs),
    };
    this.topicsByName.set(meta.name, info);
    this.topicsById.set(meta.topicId, info);
    return info;
  }

  topics(): TopicInfo[] {
    return [...this.topicsByName.values()];
  }

  topic(name: string): TopicInfo | undefined {
    return this.topicsByName.get(name);
  }

  topicById(id: string): TopicInfo | undefined {
    return this.topicsById.get(id);
  }

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.topicsByName.get(topic)?.partitions[partition];
  }

  createTopic(name: string, numPartitions: number, configs: Record<string, string> = {}): TopicInfo {
    const meta = this.broker.logManager.createTopic(name, numPartitions, configs);
    const info = this.register(meta);
    this.broker.log.info(`created topic ${name} with ${numPartitions} partition(s), id ${meta.topicId}`);
    return info;
  }

  /**
   * Deletes a topic: its partition directories leave the disk at once, and every fetch waiting
   * on one of its partitions is woken so that it re-reads and answers UNKNOWN_TOPIC_OR_PARTITION.
   */
  deleteTopic(name: string): void {
    const t = this.topicsByName.get(name);
    if (!t) throw new Error(`unknown topic '${name}'`);
    this.topicsByName.delete(t.name);
    this.topicsById.delete(t.topicId);
    this.broker.logManager.deleteTopic(t.name);
    for (const p of t.partitions) p.notifyAppend();
    this.broker.metrics.topicDeleted(t.name);
    this.broker.log.info(`deleted topic ${t.name}`, { topic: t.name, topicId: t.topicId });
  }

  /**
   * Deletes every topic that is not internal (`__consumer_offsets` and `__transaction_state`
   * belong to their coordinators, which clear them through the broker's reset hooks) and returns
   * their names. Used by `Broker.reset()` so test suites can share one broker.
   */
  deleteAllTopics(): string[] {
    const doomed = [...this.topicsByName.values()].filter((t) => !t.isInternal);
    for (const t of doomed) {
      this.topicsByName.delete(t.name);
      this.topicsById.delete(t.topicId);
    }
    this.broker.logManager.deleteTopics(doomed.map((t) => t.name));
    const deleted: string[] = [];
    for (const t of doomed) {
      for (const p of t.partitions) p.notifyAppend();
      this.broker.metrics.topicDeleted(t.name);
      this.broker.log.info(`deleted topic ${t.name}`, { topic: t.name, topicId: t.topicId });
      deleted.push(t.name);
    }
    return deleted;
  }

  /** Grows a topic to `count` partitions (count must exceed the current number). */
  createPartitions(name: string, count: number): TopicInfo {
    const t = this.topicsByName.get(name);
    if (!t) throw new Error(`unknown topic '${name}'`);
    this.broker.logManager.addPartitions(name, count);
    const info = this.register(this.broker.logManager.topic(name)!, t.partitions);
    this.broker.log.info(`topic ${name} grew from ${t.partitions.length} to ${count} partition(s)`);
    return info;
  }

  /**
   * Replaces a topic's config overrides (validated by the caller): persisted, applied to its open
   * logs at once (retention, segment size, timestamp type...) and to `effectiveConfig`.
   */
  setTopicConfigs(name: string, configs: Record<string, string>): TopicInfo {
    const t = this.topicsByName.get(name);
    if (!t) throw new Error(`unknown topic '${name}'`);
    this.broker.logManager.setTopicConfigs(name, configs);
    const info = this.register(this.broker.logManager.topic(name)!, t.partitions);
    this.broker.log.info(`topic ${name} configs set to ${JSON.stringify(configs)}`);
    return info;
  }

  /**
   * Replaces the dynamic broker configs of `scope` (validated by the caller), persists them and
   * re-applies every topic's effective configs, since broker values are topic defaults.
   */
  setDynamicBrokerConfigs(scope: DynamicScope, configs: Record<string, string>): void {
    this.broker.config.setDynamic(scope, configs);
    saveDynamicBrokerConfigs(this.broker.logManager.dataDir, {
      default: this.broker.config.dynamicConfigs('default'),
      broker: this.broker.config.dynamicConfigs('broker'),
    });
    this.refreshLogDefaults();
    for (const t of [...this.topicsByName.values()]) {
      this.register(this.broker.logManager.topic(t.name)!, t.partitions);
    }
  }

  /** Broker values are topic defaults: every log's config is rebuilt; no topic override changes. */
  private refreshLogDefaults(): void {
    this.broker.logManager.setDefaultConfig(
      logConfigFromProps(defaultLogConfig, this.broker.config.topicConfig()),
    );
  }

  /**
   * The topic, auto-created with `num.partitions` when `auto.create.topics.enable` allows it
   * and the name is valid; undefined otherwise.
   */
  getOrAutoCreate(name: string, allowAutoCreate = true): TopicInfo | undefined {
    const existing = this.topicsByName.get(name);
    if (existing) return existing;
    if (!allowAutoCreate || !this.broker.config.bool('auto.create.topics.enable')) return undefined;
    if (invalidTopicReason(name) !== null || INTERNAL_TOPICS.has(name)) return undefined;
    return this.createTopic(name, this.broker.config.int('num.partitions'));
  }

  /**
   * Waits until any of `partitions` gets new data (resolves true), or the timeout passes, the
   * request's connection closes or the broker shuts down (false): the fetch purgatory.
   */
  waitForAppend(
    partitions: readonly Partition[],
    timeoutMs: number,
    closed: Promise<void>,
  ): Promise<boolean> {
    if (this.shuttingDown || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const unsubs: (() => void)[] = [];
      let done = false;
      const finish = (appended: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const u of unsubs) u();
        this.shutdownListeners.delete(onShutdown);
        resolve(appended);
      };
      const onShutdown = () => finish(false);
      const timer = setTimeout(onShutdown, timeoutMs);
      for (const p of partitions) unsubs.push(p.onAppend(() => finish(true)));
      this.shutdownListeners.add(onShutdown);
      closed.then(onShutdown, onShutdown);
    });
  }

  /**
   * One retention pass over every partition (Kafka's LogManager.cleanupLogs → UnifiedLog.deleteOldSegments),
   * run every log.retention.check.interval.ms. Kafka runs it on a scheduler thread; here it yields to the
   * event loop every RETENTION_SLICE_MS so that thousands of partitions do not stall the connections.
   * A pass still running when the next is due makes that one a no-op. Resolves to the segments deleted.
   */
  async applyRetention(): Promise<number> {
    if (this.retentionRunning) return 0;
    this.retentionRunning = true;
    try {
      let total = 0;
      let sliceStart = performance.now();
      for (const t of [...this.topicsByName.values()]) {
        for (const p of t.partitions) {
          if (this.shuttingDown) return total;
          if (performance.now() - sliceStart >= RETENTION_SLICE_MS) {
            await new Promise((r) => setImmediate(r));
            sliceStart = performance.now();
          }
          try {
            // A log closed meanwhile (its topic deleted) answers 0.
            const deleted = p.log.applyRetention();
            total += deleted;
            if (deleted > 0)
              this.broker.log.info(`retention deleted ${deleted} segment(s) of ${t.name}-${p.partition}`);
          } catch (err) {
            this.broker.log.error(`retention of ${t.name}-${p.partition} failed`, err);
          }
        }
      }
      return total;
    } finally {
      this.retentionRunning = false;
    }
  }

  /** Wakes every waiting fetch so that shutdown does not wait for long polls. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const l of [...this.shutdownListeners]) l();
  }
}
