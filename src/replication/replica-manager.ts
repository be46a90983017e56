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
import type {
  MetadataDelta,
  MetadataImage,
  PartitionState as PartitionImage,
  TopicImage,
} from '../metadata/image.js';
import type { ErrorName } from '../protocol/generated/errors.js';
import { type Records, releaseRegion } from '../storage/file-region.js';
import { defaultLogConfig, deletesByRetention, logConfigFromProps } from '../storage/log-config.js';
import type { LogManager } from '../storage/log-manager.js';
import type { AlterPartitionManager } from './alter-partition-manager.js';
import { type AppendEntry, appendFailure, appendToPartition, type PartitionAppendResult } from './append.js';
import type { BrokerEndpoint } from './broker-client.js';
import { fetchOffsetForTimestamp, type TimestampAndOffset } from './offset-lookup.js';
import { Partition, type PartitionState } from './partition.js';
import { partitionErrorOf } from './partition-error.js';
import { DelayedOperation, DelayedOperationPurgatory } from './purgatory.js';
import {
  type FetchParams,
  type FetchPartitionRequest,
  type FetchPartitionResult,
  isFromFollower,
  leaderEpochError,
  readFromLocalLog,
} from './read.js';
import type { InitialFetchState } from './replica-fetcher.js';
import { ReplicaFetcherManager } from './replica-fetcher-manager.js';
import { type ReplicaSelector, replicaSelectorOf } from './replica-selector.js';

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

/** ListOffsets replica id of a debugging consumer, allowed to read a follower (Kafka's DEBUGGING_REPLICA_ID). */
const DEBUGGING_REPLICA_ID = -2;

/** The counters the data path keeps (the broker's Metrics). */
export interface ReplicaMetrics {
  produced(topic: string, bytes: number, records: number): void;
  /** A fetch returned `records` of `topic` (bytes out, and records out from the batch headers). */
  fetched(topic: string, records: Records): void;
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
  /** Where partition leaders propose ISR changes (the controller); without one the ISR never changes. */
  readonly alterPartitionManager?: AlterPartitionManager;
}

/**
 * A partition's registration as the controller publishes it, for makeLeaders / makeFollowers (Kafka's
 * PartitionRegistration in a metadata delta, with its topic).
 */
export interface PartitionLeadership extends PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly topicId?: string;
}

/** The address of a broker on the listener followers fetch over (Kafka's inter-broker listener). */
export type BrokerEndpointLookup = (brokerId: number) => BrokerEndpoint | undefined;

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
  private readonly positions: string[];

  constructor(
    delayMs: number,
    private readonly partitions: readonly Partition[],
    private readonly resolve: (appended: boolean) => void,
    /** A follower's fetch also wakes for data past the high watermark. */
    private readonly fromFollower = false,
  ) {
    super(delayMs);
    this.positions = partitions.map((p) => this.position(p));
  }

  /** What the fetch waits to change: the high watermark (and log end for a follower), or leadership. */
  private position(p: Partition): string {
    const end = this.fromFollower ? p.logEndOffset : '';
    return `${p.highWatermark}/${end}/${p.leaderEpoch}/${p.isLeader}`;
  }

  private get appended(): boolean {
    return this.partitions.some((p, i) => this.position(p) !== this.positions[i]);
  }

  tryComplete(): boolean {
    return this.appended ? this.forceComplete() : false;
  }

  protected override onComplete(): void {
    this.resolve(this.appended);
  }
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

/**
 * Told, after a metadata change was applied, whether this broker now leads each changed partition
 * (Kafka's BrokerMetadataPublisher telling the coordinators onElection / onResignation).
 */
export type LeadershipListener = (topic: string, partition: number, isLeader: boolean) => void;

export class ReplicaManager {
  /** The topics this broker holds replicas of, by name. */
  private readonly hosted = new Map<string, HostedTopic>();
  /** The live brokers' racks, from the last image applied (fetch from followers, KIP-392). */
  private brokerRacks = new Map<number, string | null>();
  /** `replica.selector.class`: which replica consumers are pointed at; undefined: the leader. */
  private readonly replicaSelector: ReplicaSelector | undefined;
  /** Long-poll fetches waiting for data, by partition. */
  private readonly fetchPurgatory: DelayedOperationPurgatory<Partition>;
  /** acks=-1 produces waiting for the in-sync replicas, by partition. */
  private readonly producePurgatory: DelayedOperationPurgatory<Partition>;
  /** DeleteRecords waiting for the replicas' log start offsets, by partition. */
  private readonly deleteRecordsPurgatory: DelayedOperationPurgatory<Partition>;
  private readonly partitionsDeletedListeners = new Set<PartitionsDeletedListener>();
  private readonly leadershipListeners = new Set<LeadershipListener>();
  /** Registered, unfenced brokers as of the last applied image (undefined: none applied yet). */
  private liveBrokers: ReadonlySet<number> | undefined;
  private retentionRunning = false;
  private stopped = false;
  private alterPartitionManager: AlterPartitionManager | undefined;
  /** This broker's registration epoch (set once it registered; -1 before), sent by its fetchers. */
  brokerEpoch = -1;
  /** This broker's replica fetchers, one per leader it follows partitions of. */
  readonly replicaFetcherManager: ReplicaFetcherManager;

  constructor(private readonly broker: ReplicaManagerDeps) {
    this.alterPartitionManager = broker.alterPartitionManager;
    const cfg = broker.config;
    this.replicaSelector = replicaSelectorOf(cfg.string('replica.selector.class'));
    this.replicaFetcherManager = new ReplicaFetcherManager({
      localBrokerId: broker.nodeId,
      localBrokerEpoch: () => this.brokerEpoch,
      time: broker.purgatoryTime,
      log: broker.log,
      config: {
        fetchBackoffMs: cfg.int('replica.fetch.backoff.ms'),
        fetchMaxBytes: cfg.int('replica.fetch.max.bytes'),
        fetchResponseMaxBytes: cfg.int('replica.fetch.response.max.bytes'),
        fetchWaitMaxMs: cfg.int('replica.fetch.wait.max.ms'),
        fetchMinBytes: cfg.int('replica.fetch.min.bytes'),
        socketTimeoutMs: cfg.int('replica.socket.timeout.ms'),
        messageMaxBytes: cfg.int('message.max.bytes'),
      },
      partition: (topic, partition) => this.getPartition(topic, partition),
      settleWrites: () => {
        const writer = broker.logManager.segmentWriter;
        writer?.waitFor(writer.lastSubmitted);
      },
    });
    this.fetchPurgatory = new DelayedOperationPurgatory('Fetch', broker.purgatoryTime);
    this.producePurgatory = new DelayedOperationPurgatory('Produce', broker.purgatoryTime);
    this.deleteRecordsPurgatory = new DelayedOperationPurgatory('DeleteRecords', broker.purgatoryTime);
  }

  /**
   * Acts on a metadata change (Kafka's ReplicaManager.applyDelta): deleted topics lose their logs
   * and their waiting requests; broker and topic config changes reach the logs; every new or
   * changed partition with a replica here becomes a leader (`makeLeaders`) or a follower
   * (`makeFollowers`, fetching from the leader at its address in the image), its log created on
   * first sight. At start the broker applies the delta from the empty image to the loaded one,
   * which opens every log.
   */
  applyDelta(delta: MetadataDelta, image: MetadataImage): void {
    const nodeId = this.broker.nodeId;
    this.brokerRacks = new Map(image.liveBrokers().map((b) => [b.brokerId, b.rack]));
    if (delta.deletedTopics.length > 0) this.deleteTopics(delta.deletedTopics);
    // Broker values are topic defaults: applied before new topics compute their effective configs.
    if (delta.changedConfigs.some((c) => c.resourceType === 'BROKER')) this.applyBrokerConfigs(image);
    for (const c of delta.changedConfigs) {
      if (c.resourceType !== 'TOPIC') continue;
      const hosted = this.hosted.get(c.resourceName);
      const topic = image.topic(c.resourceName);
      if (hosted && topic && hosted.topicId === topic.topicId) this.applyTopicConfigs(hosted, topic.configs);
    }
    const live = new Set(image.liveBrokers().map((b) => b.brokerId));
    const liveChanged =
      this.liveBrokers !== undefined &&
      (live.size !== this.liveBrokers.size || [...live].some((id) => !this.liveBrokers!.has(id)));
    this.liveBrokers = live;
    // A broker fenced or back: DeleteRecords waiting on its replicas' log start offsets re-check.
    if (liveChanged) for (const p of this.allPartitions()) this.deleteRecordsPurgatory.checkAndComplete(p);
    const leaders: PartitionLeadership[] = [];
    const followers: PartitionLeadership[] = [];
    const gone: TopicPartition[] = [];
    for (const change of delta.changedPartitions) {
      const state = change.partition;
      const hosted = this.hosted.get(change.topic.name);
      if (!state.replicas.includes(nodeId)) {
        // Moved away from this broker (a reassignment ended): stopped and deleted below.
        if (hosted?.partitions[state.partitionId])
          gone.push({ topic: hosted.name, partition: state.partitionId });
        continue;
      }
      const topic = this.hostTopic(change.topic);
      this.hostPartition(topic, state);
      const leadership: PartitionLeadership = {
        topic: topic.name,
        partition: state.partitionId,
        topicId: topic.topicId,
        leader: state.leader,
        leaderEpoch: state.leaderEpoch,
        isr: state.isr,
        replicas: state.replicas,
        partitionEpoch: state.partitionEpoch,
      };
      (state.leader === nodeId ? leaders : followers).push(leadership);
    }
    if (gone.length > 0) this.stopReplicas(gone);
    if (leaders.length > 0) this.makeLeaders(leaders);
    if (followers.length > 0) this.makeFollowers(followers, (id) => this.endpointOf(image, id));
    if (this.leadershipListeners.size === 0) return;
    for (const change of delta.changedPartitions) {
      const isLeader = change.partition.leader === nodeId;
      for (const listener of [...this.leadershipListeners]) {
        try {
          listener(change.topic.name, change.partition.partitionId, isLeader);
        } catch (err) {
          this.broker.log.error('a leadership listener failed', err);
        }
      }
    }
  }

  /**
   * Replicas a reassignment took off this broker (Kafka's stopPartitions with deleteLocalLog): no
   * longer fetched, requests waiting on them answered as for a partition not hosted here
   * (UNKNOWN_TOPIC_OR_PARTITION; clients refresh their metadata and find the new replicas), and
   * their logs deleted. Committed offsets and other state kept by name stay: the partition lives on
   * on other brokers.
   */
  private stopReplicas(partitions: readonly TopicPartition[]): void {
    this.replicaFetcherManager.removeFetcherForPartitions(partitions);
    const stopped: Partition[] = [];
    for (const tp of partitions) {
      const hosted = this.hosted.get(tp.topic);
      const p = hosted?.partitions[tp.partition];
      if (!hosted || !p) continue;
      hosted.partitions[tp.partition] = undefined;
      stopped.push(p);
    }
    for (const p of stopped) {
      this.fetchPurgatory.completeAll(p);
      this.producePurgatory.completeAll(p);
      this.deleteRecordsPurgatory.completeAll(p);
    }
    this.broker.logManager.deleteLogs(stopped.map((p) => p.log));
    for (const p of stopped) {
      this.broker.log.info(`${p.topic}-${p.partition}: no longer a replica here; its log is deleted`);
    }
    void this.replicaFetcherManager.shutdownIdleFetcherThreads();
  }

  /** Registers a listener of leadership changes (the coordinators); returns its unregister. */
  onLeadershipChange(listener: LeadershipListener): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  /**
   * Where followers fetch from broker `brokerId`: its registered endpoint on this broker's own
   * listener name (the inter-broker listener), else its first one.
   */
  private endpointOf(image: MetadataImage, brokerId: number): BrokerEndpoint | undefined {
    const registration = image.brokers.get(brokerId);
    if (!registration) return undefined;
    const name = this.broker.config.listeners[0]?.name;
    const e = registration.endpoints.find((x) => x.name === name) ?? registration.endpoints[0];
    return e ? { host: e.host, port: e.port } : undefined;
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

  /**
   * The Partition of a replica this broker holds, created on first sight over its log (opened or
   * created). A new one has no leader and no leader epoch yet: makeLeader / makeFollower then
   * apply the registration as a change of leadership (a new leader epoch starts at the log end).
   */
  private hostPartition(topic: HostedTopic, state: PartitionImage): Partition {
    const existing = topic.partitions[state.partitionId];
    if (existing) return existing;
    const log = this.broker.logManager.getOrCreateLog(
      topic.name,
      state.partitionId,
      topic.topicId,
      logConfigFromProps(this.broker.logManager.defaultConfig, topic.overrides),
    );
    const partition = new Partition(
      topic.name,
      state.partitionId,
      log,
      this.broker.nodeId,
      -1,
      [...state.replicas],
      [...state.isr],
    );
    partition.leaderId = -1;
    partition.replication = this.replicationOptions(topic.topicId);
    // The high watermark moved: waiting fetches may have data, waiting acks=-1 produces their replicas.
    partition.onAppend(() => this.completeDelayedRequests(partition));
    topic.partitions[state.partitionId] = partition;
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
    /**
     * Called once the batches are in their logs, when the answer will still wait (for the fsync of
     * flush.messages, or for the replicas of acks=-1): what follows needs nothing to stay in order.
     */
    onAppended?: () => void,
  ): Promise<PartitionAppendResult[]> {
    // A plain loop: this runs for every Produce request.
    const results: PartitionAppendResult[] = [];
    let anyAppended = false;
    let anyFlushPending = false;
    for (const e of entries) {
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
      if (result.error === 'NONE') {
        anyAppended = true;
        if (e.partition.log.pendingFlush !== null) anyFlushPending = true;
      }
      results.push(result);
    }
    if (onAppended && (anyFlushPending || (requiredAcks === -1 && anyAppended))) onAppended();
    // flush.messages: what was appended is acknowledged once fsynced (one fsync per log for every
    // batch of this turn of the event loop, Log.pendingFlush); a failed fsync is a storage error.
    if (anyFlushPending) {
      for (let i = 0; i < entries.length; i++) {
        const flush = results[i]!.error === 'NONE' ? entries[i]!.partition.log.pendingFlush : null;
        const err = flush && (await flush);
        if (!err) continue;
        const p = entries[i]!.partition;
        this.broker.log.error(`Error flushing ${p.topic}-${p.partition} after a produce`, err);
        results[i] = appendFailure('KAFKA_STORAGE_ERROR');
      }
    }
    if (requiredAcks !== -1 || !anyAppended) return results;
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
    const fromFollower = isFromFollower(params);
    const selection = this.replicaSelector && {
      selector: this.replicaSelector,
      rackOf: (id: number) => this.brokerRacks.get(id),
    };
    const readNow = () =>
      readFromLocalLog(params, requests, lookup, this.broker.log, this.broker.time.now(), selection);
    let read = readNow();
    for (;;) {
      const waitMs = deadline - time.now();
      const partitions = hosted();
      if (
        read.bytes >= params.minBytes ||
        read.hasError ||
        read.hasPreferredReadReplica ||
        waitMs <= 0 ||
        partitions.length === 0
      )
        break;
      const appended = await this.waitForAppend(partitions, waitMs, signal, fromFollower);
      // What was read before the wait is read again: its file ranges' descriptors go now.
      for (const r of read.results) releaseRegion(r.records);
      read = readNow();
      if (!appended) break;
    }
    // Replication traffic is not counted as consumers' (Kafka counts it apart).
    if (fromFollower) return read.results;
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
    // A debugging consumer (replica id -2) may read a follower (Kafka's fetchOnlyFromLeader).
    const epochError = leaderEpochError(p, currentLeaderEpoch, replicaId !== DEBUGGING_REPLICA_ID);
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
    if (!p.isLeader) return { error: 'NOT_LEADER_OR_FOLLOWER', lowWatermark: -1 };
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

  // ---- leadership (applied from the controller's registrations) -----------------------------------

  /**
   * Where leaders propose ISR changes from now on (the controller's AlterPartition). Given at
   * construction normally; set later by a broker that builds its controller after its replica manager.
   */
  setAlterPartitionManager(manager: AlterPartitionManager | undefined): void {
    this.alterPartitionManager = manager;
    for (const t of this.hosted.values()) {
      for (const p of t.partitions) if (p) p.replication = this.replicationOptions(t.topicId);
    }
  }

  private replicationOptions(topicId: string): Partition['replication'] {
    return {
      topicId,
      ...(this.alterPartitionManager ? { alterPartitionManager: this.alterPartitionManager } : {}),
      isBrokerAlive: (id) => this.liveBrokers?.has(id) ?? true,
      onIsrChange: (p, result) => {
        if (result.error === 'NONE') {
          this.broker.log.info(
            `ISR of ${p.topic}-${p.partition} is now [${p.isr.join(',')}] (partition epoch ${p.partitionEpoch})`,
          );
        } else {
          this.broker.log.warn(`ISR change of ${p.topic}-${p.partition} refused: ${result.error}`);
        }
      },
    };
  }

  /**
   * This broker leads these partitions from now on (Kafka's ReplicaManager.makeLeaders, from
   * applyLocalLeadersDelta): their fetchers stop, each Partition.makeLeader starts the new leader
   * epoch, and waiting requests on them re-check. Returns the partitions this broker does not host
   * (not changed).
   */
  private makeLeaders(states: readonly PartitionLeadership[]): PartitionLeadership[] {
    const now = this.broker.time.now();
    const missing: PartitionLeadership[] = [];
    this.replicaFetcherManager.removeFetcherForPartitions(states);
    for (const s of states) {
      const p = this.getPartition(s.topic, s.partition);
      if (!p) {
        missing.push(s);
        continue;
      }
      if (p.makeLeader(s, now)) {
        this.broker.log.info(`leading ${s.topic}-${s.partition} at leader epoch ${s.leaderEpoch}`);
      }
      this.completeDelayedRequests(p);
    }
    void this.replicaFetcherManager.shutdownIdleFetcherThreads();
    return missing;
  }

  /**
   * This broker follows these partitions from now on (Kafka's ReplicaManager.makeFollowers, from
   * applyLocalFollowersDelta): each Partition.makeFollower refuses clients from then on (waiting
   * acks=-1 produces answer NOT_LEADER_OR_FOLLOWER), and a partition whose leader or leader epoch
   * changed gets a fetcher to its leader at `endpoints(leader)`, starting at its log end offset after
   * truncating with OffsetForLeaderEpoch. A leader of -1 or one without an endpoint stops fetching.
   * Returns the partitions this broker does not host (not changed).
   */
  private makeFollowers(
    states: readonly PartitionLeadership[],
    endpoints: BrokerEndpointLookup,
  ): PartitionLeadership[] {
    const missing: PartitionLeadership[] = [];
    const byLeader = new Map<number, { endpoint: BrokerEndpoint; partitions: InitialFetchState[] }>();
    for (const s of states) {
      const p = this.getPartition(s.topic, s.partition);
      if (!p) {
        missing.push(s);
        continue;
      }
      const changed = p.makeFollower(s);
      this.completeDelayedRequests(p);
      const endpoint = s.leader >= 0 && s.leader !== this.broker.nodeId ? endpoints(s.leader) : undefined;
      const fetching = this.replicaFetcherManager.fetcher(s.leader)?.fetchState(s.topic, s.partition);
      if (!changed && endpoint && fetching?.currentLeaderEpoch === s.leaderEpoch) continue;
      this.replicaFetcherManager.removeFetcherForPartitions([s]);
      if (!endpoint) {
        // No leader (every replica's broker fenced, as in a whole cluster's controlled shutdown):
        // nothing to fetch until one is elected. A leader without an endpoint is not expected.
        if (s.leader < 0) this.broker.log.debug(`${s.topic}-${s.partition}: no leader; not fetching`);
        else
          this.broker.log.warn(`${s.topic}-${s.partition}: leader ${s.leader} has no endpoint; not fetching`);
        continue;
      }
      this.broker.log.info(
        `following ${s.topic}-${s.partition} on broker ${s.leader} at leader epoch ${s.leaderEpoch}`,
      );
      let group = byLeader.get(s.leader);
      if (!group) {
        group = { endpoint, partitions: [] };
        byLeader.set(s.leader, group);
      }
      group.partitions.push({
        topic: s.topic,
        partition: s.partition,
        topicId: s.topicId ?? this.hosted.get(s.topic)?.topicId,
        leaderEpoch: s.leaderEpoch,
        fetchOffset: p.log.logEndOffset,
      });
    }
    this.replicaFetcherManager.addFetcherForPartitions(
      [...byLeader].map(([leaderId, g]) => ({ leaderId, endpoint: g.endpoint, partitions: g.partitions })),
    );
    void this.replicaFetcherManager.shutdownIdleFetcherThreads();
    return missing;
  }

  /** Waiting fetches, produces and DeleteRecords on `p` re-check (leadership or ISR changed). */
  private completeDelayedRequests(p: Partition): void {
    this.fetchPurgatory.checkAndComplete(p);
    this.producePurgatory.checkAndComplete(p);
    this.deleteRecordsPurgatory.checkAndComplete(p);
  }

  /**
   * Proposes to drop followers that have lagged longer than `replica.lag.time.max.ms` from the ISR
   * of every partition this broker leads (Kafka's isr-expiration task, run every half lag time).
   * Returns how many partitions proposed a change.
   */
  maybeShrinkIsr(): number {
    const now = this.broker.time.now();
    const maxLagMs = this.broker.config.int('replica.lag.time.max.ms');
    let proposed = 0;
    for (const t of this.hosted.values()) {
      for (const p of t.partitions) {
        if (!p) continue;
        const out = p.maybeShrinkIsr(now, maxLagMs);
        if (out.length > 0) {
          proposed++;
          this.broker.log.info(
            `shrinking ISR of ${t.name}-${p.partition}: [${out.join(',')}] not caught up for ${maxLagMs} ms`,
          );
        }
      }
    }
    return proposed;
  }

  /** The log directory holding this broker's partitions (DescribeLogDirs). */
  get logDir(): string {
    return this.broker.logManager.dataDir;
  }

  /**
   * Every log directory (log.dirs) with whether it is offline (a failed disk) or full, for
   * DescribeLogDirs and the metrics.
   */
  logDirStates(): { dir: string; offline: boolean; full: boolean }[] {
    const channel = this.broker.logManager.failureChannel;
    return this.broker.logManager.logDirs.map((dir) => {
      const s = channel.state(dir);
      return { dir, offline: s.offline !== null, full: s.fullSince !== null };
    });
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
    fromFollower = false,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      this.fetchPurgatory.tryCompleteElseWatch(
        new DelayedFetchWait(timeoutMs, partitions, resolve, fromFollower),
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

  /** Wakes every waiting fetch so that shutdown does not wait for long polls; stops retention and the fetchers. */
  shutdown(): void {
    this.stopped = true;
    void this.replicaFetcherManager.shutdown();
    this.fetchPurgatory.shutdown();
    this.producePurgatory.shutdown();
    this.deleteRecordsPurgatory.shutdown();
  }
}
