/**
 * Kafka's ReplicaManager for this broker: the partitions it hosts, appends from producers, reads
 * for consumers, and the purgatories (long polls woken by appends, acks=-1 produces and
 * DeleteRecords waiting for replicas). Which partitions exist and who leads them is the metadata
 * image's (src/metadata); the broker applies each change through `applyDelta` — logs created and
 * deleted in storage's LogManager, leadership taken (`makeLeaders`) or given up (`makeFollowers`).
 */

import type { Logger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { MetadataDelta, MetadataImage, PartitionState, TopicImage } from '../metadata/image.js';
import type { ErrorName } from '../protocol/generated/errors.js';
import { defaultLogConfig, deletesByRetention, logConfigFromProps } from '../storage/log-config.js';
import type { LogManager } from '../storage/log-manager.js';
import { type AppendEntry, appendFailure, appendToPartition, type PartitionAppendResult } from './append.js';
import { fetchOffsetForTimestamp, type TimestampAndOffset } from './offset-lookup.js';
import { Partition } from './partition.js';
import { partitionErrorOf } from './partition-error.js';
import { DelayedOperation, DelayedOperationPurgatory } from './purgatory.js';
import {
  type FetchParams,
  type FetchPartitionRequest,
  type FetchPartitionResult,
  leaderEpochError,
  readFromLocalLog,
} from './read.js';

/** This broker's replicas of one topic (Kafka's allPartitions, grouped by topic) and its effective configs. */
export interface HostedTopic {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition id; a hole where this broker holds no replica. */
  readonly partitions: (Partition | undefined)[];
  /** Effective topic configs: overrides over broker defaults, Kafka's topic config names. */
  effectiveConfig: Readonly<Record<string, string>>;
  overrides: Readonly<Record<string, string>>;
}

/** The counters the data path keeps (the broker's Metrics). */
export interface ReplicaMetrics {
  produced(topic: string, bytes: number, records: number): void;
  /** A fetch returned `records` of `topic` (bytes out, and records out from the batch headers). */
  fetched(topic: string, records: Buffer): void;
  topicDeleted(topic: string): void;
}

/** What the replica manager needs of the broker that builds it. */
export interface ReplicaManagerDeps {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly logManager: LogManager;
  readonly log: Logger;
  readonly metrics: ReplicaMetrics;
  readonly time: Time;
  /** Times the waits of requests in the purgatories (see BrokerOptions.purgatoryTime). */
  readonly purgatoryTime: Time;
}

/**
 * An acks=-1 produce waiting until the in-sync replicas have its batches (Kafka's DelayedProduce):
 * each appended partition is done once its high watermark passes the batch (with
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR fell below the min ISR meanwhile); what is not done
 * when the request's timeout passes is answered REQUEST_TIMED_OUT.
 */
class DelayedProduce extends DelayedOperation {
  private readonly pending: boolean[];

  constructor(
    delayMs: number,
    private readonly entries: readonly AppendEntry[],
    private readonly results: PartitionAppendResult[],
    private readonly resolve: (results: PartitionAppendResult[]) => void,
  ) {
    super(delayMs);
    this.pending = results.map((r) => r.error === 'NONE');
  }

  tryComplete(): boolean {
    let waiting = false;
    this.entries.forEach((e, i) => {
      if (!this.pending[i]) return;
      const check = e.partition.checkEnoughReplicasReachOffset(
        this.results[i]!.lastOffset + 1,
        Number(e.topicConfig['min.insync.replicas'] ?? 1),
      );
      if (!check.done) {
        waiting = true;
        return;
      }
      this.pending[i] = false;
      if (check.error !== 'NONE') this.results[i] = appendFailure(check.error);
    });
    return waiting ? false : this.forceComplete();
  }

  protected override onExpiration(): void {
    this.pending.forEach((p, i) => {
      if (!p) return;
      this.results[i] = appendFailure('REQUEST_TIMED_OUT');
      this.pending[i] = false;
    });
  }

  protected override onComplete(): void {
    // Still pending here only when completed from outside: its partition was deleted (Kafka answers
    // what getPartitionOrError does then).
    this.pending.forEach((p, i) => {
      if (p) this.results[i] = appendFailure('UNKNOWN_TOPIC_OR_PARTITION');
    });
    this.resolve(this.results);
  }
}

/** A DeleteRecords waiting for every replica's log start offset to reach its offset (Kafka's DelayedDeleteRecords). */
class DelayedDeleteRecords extends DelayedOperation {
  private error: ErrorName = 'NONE';

  constructor(
    delayMs: number,
    private readonly partition: Partition,
    private readonly requiredOffset: number,
    private readonly resolve: (r: { error: ErrorName; lowWatermark: number }) => void,
  ) {
    super(delayMs);
  }

  tryComplete(): boolean {
    return this.partition.lowWatermark >= this.requiredOffset ? this.forceComplete() : false;
  }

  protected override onExpiration(): void {
    this.error = 'REQUEST_TIMED_OUT';
  }

  protected override onComplete(): void {
    const done = this.error === 'NONE' && this.partition.lowWatermark >= this.requiredOffset;
    // Completed from outside (its topic deleted) without reaching the offset: as Kafka's
    // getPartitionOrError would answer.
    const error = done ? 'NONE' : this.error === 'NONE' ? 'UNKNOWN_TOPIC_OR_PARTITION' : this.error;
    this.resolve({ error, lowWatermark: done ? this.partition.lowWatermark : -1 });
  }
}

/**
 * A fetch waiting for data (the waiting half of Kafka's DelayedFetch; the handler reads again
 * once it completes): done when the high watermark of any of its partitions moves, resolving
 * `true`; `false` when it expires, its connection closes, its partition is deleted or the broker
 * shuts down.
 */
class DelayedFetchWait extends DelayedOperation {
  private readonly highWatermarks: number[];

  constructor(
    delayMs: number,
    private readonly partitions: readonly Partition[],
    private readonly resolve: (appended: boolean) => void,
  ) {
    super(delayMs);
    this.highWatermarks = partitions.map((p) => p.highWatermark);
  }

  private get appended(): boolean {
    return this.partitions.some((p, i) => p.highWatermark !== this.highWatermarks[i]);
  }

  tryComplete(): boolean {
    return this.appended ? this.forceComplete() : false;
  }

  protected override onComplete(): void {
    this.resolve(this.appended);
  }
}

/** A partition of the image that has a replica on this broker, with its hosted topic. */
export interface PartitionToApply {
  readonly topic: HostedTopic;
  readonly state: PartitionState;
}

/** Longest run of retention work between two turns of the event loop. */
const RETENTION_SLICE_MS = 10;

/** A partition by name, as Kafka's TopicPartition. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/**
 * Told the partitions a topic deletion removed, once they are gone (Kafka's
 * `GroupCoordinator.onPartitionsDeleted`): components holding state about partitions by name
 * (committed offsets) drop it, so a topic re-created under the same name starts clean.
 */
export type PartitionsDeletedListener = (partitions: readonly TopicPartition[]) => void;

export class ReplicaManager {
  /** The topics this broker holds replicas of, by name. */
  private readonly hosted = new Map<string, HostedTopic>();
  /** Long-poll fetches waiting for data, by partition. */
  private readonly fetchPurgatory: DelayedOperationPurgatory<Partition>;
  /** acks=-1 produces waiting for the in-sync replicas, by partition. */
  private readonly producePurgatory: DelayedOperationPurgatory<Partition>;
  /** DeleteRecords waiting for the replicas' log start offsets, by partition. */
  private readonly deleteRecordsPurgatory: DelayedOperationPurgatory<Partition>;
  private readonly partitionsDeletedListeners = new Set<PartitionsDeletedListener>();
  private retentionRunning = false;
  private stopped = false;

  constructor(private readonly broker: ReplicaManagerDeps) {
    this.fetchPurgatory = new DelayedOperationPurgatory('Fetch', broker.purgatoryTime);
    this.producePurgatory = new DelayedOperationPurgatory('Produce', broker.purgatoryTime);
    this.deleteRecordsPurgatory = new DelayedOperationPurgatory('DeleteRecords', broker.purgatoryTime);
  }

  /**
   * Acts on a metadata change (Kafka's ReplicaManager.applyDelta): deleted topics lose their logs
   * and their waiting requests; broker and topic config changes reach the logs; every new or
   * changed partition with a replica here becomes a leader (`makeLeaders`) or a follower
   * (`makeFollowers`), its log created on first sight. At start the broker applies the delta from
   * the empty image to the loaded one, which opens every log.
   */
  applyDelta(delta: MetadataDelta, image: MetadataImage): void {
    const nodeId = this.broker.nodeId;
    if (delta.deletedTopics.length > 0) this.deleteTopics(delta.deletedTopics);
    // Broker values are topic defaults: applied before new topics compute their effective configs.
    if (delta.changedConfigs.some((c) => c.resourceType === 'BROKER')) this.applyBrokerConfigs(image);
    for (const c of delta.changedConfigs) {
      if (c.resourceType !== 'TOPIC') continue;
      const hosted = this.hosted.get(c.resourceName);
      const topic = image.topic(c.resourceName);
      if (hosted && topic && hosted.topicId === topic.topicId) this.applyTopicConfigs(hosted, topic.configs);
    }
    const leaders: PartitionToApply[] = [];
    const followers: PartitionToApply[] = [];
    for (const change of delta.changedPartitions) {
      const state = change.partition;
      if (!state.replicas.includes(nodeId)) continue; // reassignment away from this broker: the replication issue
      const hosted = this.hostTopic(change.topic);
      (state.leader === nodeId ? leaders : followers).push({ topic: hosted, state });
    }
    if (leaders.length > 0) this.makeLeaders(leaders);
    if (followers.length > 0) this.makeFollowers(followers);
  }

  /** The hosted entry of `topic`, created (with its effective configs) on first sight. */
  private hostTopic(topic: TopicImage): HostedTopic {
    const existing = this.hosted.get(topic.name);
    if (existing) return existing;
    const hosted: HostedTopic = {
      name: topic.name,
      topicId: topic.topicId,
      partitions: [],
      overrides: topic.configs,
      effectiveConfig: this.broker.config.topicConfig(topic.configs),
    };
    this.hosted.set(topic.name, hosted);
    return hosted;
  }

  /** The log of a partition this broker has a replica of, opened (or created) on first sight. */
  private partitionLog(topic: HostedTopic, partitionId: number) {
    return this.broker.logManager.getOrCreateLog(
      topic.name,
      partitionId,
      topic.topicId,
      logConfigFromProps(this.broker.logManager.defaultConfig, topic.overrides),
    );
  }

  /**
   * Partitions this broker now leads (Kafka's makeLeaders): the leader epoch starts at the log end
   * (so OffsetForLeaderEpoch answers for an empty partition too), the ISR and replicas are the
   * image's, and the high watermark follows the ISR.
   */
  makeLeaders(partitions: readonly PartitionToApply[]): void {
    for (const { topic, state } of partitions) {
      const log = this.partitionLog(topic, state.partitionId);
      if (log.leaderEpochCache.latestEpoch() < state.leaderEpoch) {
        log.leaderEpochCache.assign(state.leaderEpoch, log.logEndOffset);
      }
      const existing = topic.partitions[state.partitionId];
      if (existing && existing.leaderId === this.broker.nodeId) {
        existing.leaderEpoch = state.leaderEpoch;
        existing.replicas = [...state.replicas];
        existing.updateIsr(state.isr);
        continue;
      }
      this.replacePartition(topic, this.newPartition(topic, state, log));
    }
  }

  /**
   * Partitions another broker leads and this one follows (Kafka's makeFollowers): the log exists
   * here and the partition records its leader. Fetching from the leader is the replica fetcher's
   * (the replication issue); nothing here reads from another broker.
   */
  makeFollowers(partitions: readonly PartitionToApply[]): void {
    for (const { topic, state } of partitions) {
      const existing = topic.partitions[state.partitionId];
      if (existing && existing.leaderId === state.leader && existing.leaderEpoch === state.leaderEpoch) {
        existing.replicas = [...state.replicas];
        existing.isr = [...state.isr];
        continue;
      }
      const log = this.partitionLog(topic, state.partitionId);
      this.replacePartition(topic, this.newPartition(topic, state, log));
    }
  }

  /**
   * Puts `partition` in its slot; requests waiting on the partition it replaces (a change of
   * leadership) are woken: fetches read again, produces and DeleteRecords still waiting answer as
   * for a partition that is gone (the replication issue refines this to NOT_LEADER_OR_FOLLOWER).
   */
  private replacePartition(topic: HostedTopic, partition: Partition): void {
    const old = topic.partitions[partition.partition];
    topic.partitions[partition.partition] = partition;
    if (!old) return;
    this.fetchPurgatory.completeAll(old);
    this.producePurgatory.completeAll(old);
    this.deleteRecordsPurgatory.completeAll(old);
  }

  private newPartition(
    topic: HostedTopic,
    state: PartitionState,
    log: ReturnType<LogManager['getOrCreateLog']>,
  ): Partition {
    const partition = new Partition(
      topic.name,
      state.partitionId,
      log,
      state.leader,
      state.leaderEpoch,
      [...state.replicas],
      [...state.isr],
    );
    // The high watermark moved: waiting fetches may have data, waiting acks=-1 produces their replicas.
    partition.onAppend(() => {
      this.fetchPurgatory.checkAndComplete(partition);
      this.producePurgatory.checkAndComplete(partition);
      this.deleteRecordsPurgatory.checkAndComplete(partition);
    });
    return partition;
  }

  /** New overrides of a topic: its effective configs and its logs' configs follow at once. */
  private applyTopicConfigs(topic: HostedTopic, overrides: Readonly<Record<string, string>>): void {
    topic.overrides = overrides;
    topic.effectiveConfig = this.broker.config.topicConfig(overrides);
    const cfg = logConfigFromProps(this.broker.logManager.defaultConfig, overrides);
    for (const p of topic.partitions) if (p) p.log.config = cfg;
    this.broker.log.info(`topic ${topic.name} configs set to ${JSON.stringify(overrides)}`);
  }

  /**
   * The dynamic broker configs of the image ("" the cluster default, this broker's id its own)
   * become the broker's; every topic's effective and log configs are rebuilt, since broker values
   * are topic defaults.
   */
  private applyBrokerConfigs(image: MetadataImage): void {
    const config = this.broker.config;
    config.setDynamic('default', { ...(image.brokerConfigs.get('') ?? {}) });
    config.setDynamic('broker', { ...(image.brokerConfigs.get(String(this.broker.nodeId)) ?? {}) });
    const defaults = logConfigFromProps(defaultLogConfig, config.topicConfig());
    this.broker.logManager.defaultConfig = defaults;
    for (const t of this.hosted.values()) {
      t.effectiveConfig = config.topicConfig(t.overrides);
      const cfg = logConfigFromProps(defaults, t.overrides);
      for (const p of t.partitions) if (p) p.log.config = cfg;
    }
  }

  /**
   * Deleted topics: their logs leave the disk (one checkpoint rewrite for all), every request
   * waiting on one of their partitions is woken to answer UNKNOWN_TOPIC_OR_PARTITION, and the
   * listeners (the coordinators) are told.
   */
  private deleteTopics(topics: readonly TopicImage[]): void {
    const gone: HostedTopic[] = [];
    for (const t of topics) {
      const hosted = this.hosted.get(t.name);
      if (!hosted || hosted.topicId !== t.topicId) continue;
      this.hosted.delete(t.name);
      gone.push(hosted);
    }
    const partitions = gone.flatMap((t) => t.partitions.filter((p): p is Partition => p !== undefined));
    this.broker.logManager.deleteLogs(partitions.map((p) => p.log));
    for (const p of partitions) {
      this.fetchPurgatory.completeAll(p);
      this.producePurgatory.completeAll(p);
      this.deleteRecordsPurgatory.completeAll(p);
    }
    for (const t of gone) {
      this.broker.metrics.topicDeleted(t.name);
      this.broker.log.info(`deleted topic ${t.name}`, { topic: t.name, topicId: t.topicId });
    }
    this.notifyPartitionsDeleted(partitions.map((p) => ({ topic: p.topic, partition: p.partition })));
  }

  /**
   * Appends produced batches to the partitions this broker leads (Kafka's appendRecords): each
   * entry is validated and appended independently, its failure answered with Kafka's code. With
   * this broker the only in-sync replica, acks=-1 is satisfied once appended; followers will make
   * acks=-1 wait in a purgatory for the high watermark, which is why this is asynchronous.
   */
  async appendRecords(
    requiredAcks: number,
    entries: readonly AppendEntry[],
    timeoutMs = 30_000,
  ): Promise<PartitionAppendResult[]> {
    const results = entries.map((e) => {
      const result = appendToPartition(
        e.partition,
        e.records,
        requiredAcks,
        e.topicConfig,
        this.broker.log,
        e.verify,
      );
      if (result.recordsAppended > 0) {
        this.broker.metrics.produced(e.partition.topic, e.records.length, result.recordsAppended);
      }
      return result;
    });
    if (requiredAcks !== -1 || !results.some((r) => r.error === 'NONE')) return results;
    // acks=-1: answered once every appended batch is below the high watermark (Kafka's DelayedProduce).
    return new Promise((resolve) => {
      this.producePurgatory.tryCompleteElseWatch(
        new DelayedProduce(timeoutMs, entries, results, resolve),
        entries.map((e) => e.partition),
      );
    });
  }

  /**
   * Reads for a consumer (Kafka's fetchMessages): answered at once when `minBytes` is reached, a
   * partition has an error or `maxWaitMs` is 0; otherwise the fetch waits in the purgatory until
   * one of its partitions gets data, the timeout, its connection closing (`signal`) or shutdown,
   * and is read again.
   */
  async fetchMessages(
    params: FetchParams,
    requests: readonly FetchPartitionRequest[],
    signal: AbortSignal,
  ): Promise<FetchPartitionResult[]> {
    const time = this.broker.purgatoryTime;
    const deadline = time.now() + Math.max(0, params.maxWaitMs);
    const lookup = (topic: string, partition: number) => this.getPartition(topic, partition);
    const hosted = () =>
      requests.flatMap((r) => {
        const p = r.topic === undefined ? undefined : lookup(r.topic, r.partition);
        return p ? [p] : [];
      });
    let read = readFromLocalLog(params, requests, lookup, this.broker.log);
    for (;;) {
      const waitMs = deadline - time.now();
      const partitions = hosted();
      if (read.bytes >= params.minBytes || read.hasError || waitMs <= 0 || partitions.length === 0) break;
      const appended = await this.waitForAppend(partitions, waitMs, signal);
      read = readFromLocalLog(params, requests, lookup, this.broker.log);
      if (!appended) break;
    }
    requests.forEach((r, i) => {
      const records = read.results[i]!.records;
      if (records && records.length > 0 && r.topic !== undefined)
        this.broker.metrics.fetched(r.topic, records);
    });
    return read.results;
  }

  /**
   * ListOffsets for one partition (Kafka's fetchOffsetForTimestamp): the leader epoch the client
   * knows is checked first; an unexpected failure answers Kafka's code instead of throwing.
   */
  fetchOffsetForTimestamp(
    topic: string,
    partition: number,
    timestamp: number,
    isolationLevel: number,
    replicaId: number,
    currentLeaderEpoch?: number,
  ): { error: ErrorName; found: TimestampAndOffset | null } {
    const p = this.getPartition(topic, partition);
    if (!p) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', found: null };
    const epochError = leaderEpochError(p, currentLeaderEpoch);
    if (epochError) return { error: epochError, found: null };
    try {
      return { error: 'NONE', found: fetchOffsetForTimestamp(p, timestamp, isolationLevel, replicaId) };
    } catch (err) {
      this.broker.log.error(`ListOffsets on ${topic}-${partition} failed`, err);
      return { error: partitionErrorOf(err).error, found: null };
    }
  }

  /**
   * OffsetForLeaderEpoch (Kafka's lastOffsetForLeaderEpoch): the largest epoch at or below the
   * asked one and the offset where it ends.
   */
  lastOffsetForLeaderEpoch(
    topic: string,
    partition: number,
    leaderEpoch: number,
    currentLeaderEpoch?: number,
  ): { error: ErrorName; leaderEpoch: number; endOffset: number } {
    const p = this.getPartition(topic, partition);
    if (!p) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', leaderEpoch: -1, endOffset: -1 };
    const epochError = leaderEpochError(p, currentLeaderEpoch);
    if (epochError) return { error: epochError, leaderEpoch: -1, endOffset: -1 };
    const found = p.log.leaderEpochCache.endOffsetFor(leaderEpoch, p.logEndOffset);
    return { error: 'NONE', leaderEpoch: found.epoch, endOffset: found.endOffset };
  }

  /**
   * DeleteRecords for one partition (Kafka's deleteRecords): moves the log start offset to
   * `offset` (-1: the high watermark), which may not pass the high watermark. Answers the new low
   * watermark. With followers this will wait in a purgatory for their log start offsets.
   */
  async deleteRecords(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs = 30_000,
  ): Promise<{ error: ErrorName; lowWatermark: number }> {
    const p = this.getPartition(topic, partition);
    if (!p) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', lowWatermark: -1 };
    // Kafka's Partition.deleteRecordsOnLeader: only a policy that includes `delete` allows it.
    if (!deletesByRetention(p.log.config)) return { error: 'POLICY_VIOLATION', lowWatermark: -1 };
    const target = offset === -1 ? p.highWatermark : offset;
    if (target < 0 || target > p.highWatermark) return { error: 'OFFSET_OUT_OF_RANGE', lowWatermark: -1 };
    p.log.deleteRecordsBefore(target);
    this.broker.log.info(`deleted records of ${topic}-${partition} before ${target}`);
    // Answered once every replica's log start offset has passed it (Kafka's DelayedDeleteRecords);
    // at once while this broker holds the only replica.
    return new Promise((resolve) => {
      this.deleteRecordsPurgatory.tryCompleteElseWatch(
        new DelayedDeleteRecords(timeoutMs, p, target, resolve),
        [p],
      );
    });
  }

  /** The log directory holding this broker's partitions (DescribeLogDirs). */
  get logDir(): string {
    return this.broker.logManager.dataDir;
  }

  /** A partition this broker hosts, or undefined. */
  getPartition(topic: string, partition: number): Partition | undefined {
    return this.hosted.get(topic)?.partitions[partition];
  }

  /** The effective configs of a topic hosted here (overrides over broker defaults), or undefined. */
  topicConfig(topic: string): Readonly<Record<string, string>> | undefined {
    return this.hosted.get(topic)?.effectiveConfig;
  }

  /** Every partition this broker hosts. */
  allPartitions(): Partition[] {
    const out: Partition[] = [];
    for (const t of this.hosted.values()) for (const p of t.partitions) if (p) out.push(p);
    return out;
  }

  /**
   * Registers a listener told of every topic deletion; returns a function that unregisters it.
   * The coordinators register here instead of being imported.
   */
  onPartitionsDeleted(listener: PartitionsDeletedListener): () => void {
    this.partitionsDeletedListeners.add(listener);
    return () => this.partitionsDeletedListeners.delete(listener);
  }

  private notifyPartitionsDeleted(partitions: readonly TopicPartition[]): void {
    if (partitions.length === 0) return;
    for (const listener of [...this.partitionsDeletedListeners]) {
      try {
        listener(partitions);
      } catch (err) {
        this.broker.log.error('a listener of deleted partitions failed', err);
      }
    }
  }

  /** Fetches waiting in the purgatory now (Kafka's PurgatorySize for delayedOperation=Fetch). */
  get fetchPurgatorySize(): number {
    return this.fetchPurgatory.size;
  }

  /**
   * Waits until any of `partitions` gets new data (resolves true), or the timeout passes, `signal`
   * aborts (the request's connection closed) or the broker shuts down (false): the fetch
   * purgatory. However the wait ends, it releases everything it registered — its timer, its
   * listener on each partition and on the signal, its purgatory entry — so a connection that
   * polls forever holds nothing for the polls that are over.
   */
  private waitForAppend(
    partitions: readonly Partition[],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      this.fetchPurgatory.tryCompleteElseWatch(
        new DelayedFetchWait(timeoutMs, partitions, resolve),
        partitions,
        signal,
      );
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
      for (const t of [...this.hosted.values()]) {
        for (const p of t.partitions) {
          if (!p) continue;
          if (this.stopped) return total;
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

  /** Wakes every waiting fetch so that shutdown does not wait for long polls; stops retention. */
  shutdown(): void {
    this.stopped = true;
    this.fetchPurgatory.shutdown();
    this.producePurgatory.shutdown();
    this.deleteRecordsPurgatory.shutdown();
  }
}
