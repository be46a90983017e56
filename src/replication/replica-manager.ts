/**
 * Kafka's ReplicaManager for this broker: the partitions it leads, appends from producers, reads
 * for consumers, and the fetch purgatory (long polls woken by appends). Topic metadata and the
 * logs themselves live in storage's LogManager; this layer adds leadership (leader epoch,
 * replicas, ISR, high watermark) so that followers can be added without touching handlers.
 */

import type { Logger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import { invalidTopicReason } from '../common/topic-name.js';
import type { BrokerConfig, DynamicScope } from '../config/broker-config.js';
import { loadDynamicBrokerConfigs, saveDynamicBrokerConfigs } from '../config/dynamic-broker-configs.js';
import type { ErrorName } from '../protocol/generated/errors.js';
import { defaultLogConfig, deletesByRetention, logConfigFromProps } from '../storage/log-config.js';
import type { LogManager, TopicInfo as TopicMetadata } from '../storage/log-manager.js';
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

/** A partition this broker creates is led by it from the first epoch on, until the controller says otherwise. */
const LEADER_EPOCH = 0;
/** ListOffsets replica id of a debugging consumer, allowed to read a follower (Kafka's DEBUGGING_REPLICA_ID). */
const DEBUGGING_REPLICA_ID = -2;

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

export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state']);

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
  private readonly topicsByName = new Map<string, TopicInfo>();
  private readonly topicsById = new Map<string, TopicInfo>();
  /** Long-poll fetches waiting for data, by partition. */
  private readonly fetchPurgatory: DelayedOperationPurgatory<Partition>;
  /** acks=-1 produces waiting for the in-sync replicas, by partition. */
  private readonly producePurgatory: DelayedOperationPurgatory<Partition>;
  /** DeleteRecords waiting for the replicas' log start offsets, by partition. */
  private readonly deleteRecordsPurgatory: DelayedOperationPurgatory<Partition>;
  private readonly partitionsDeletedListeners = new Set<PartitionsDeletedListener>();
  private retentionRunning = false;
  private stopped = false;
  private alterPartitionManager: AlterPartitionManager | undefined;
  /** This broker's replica fetchers, one per leader it follows partitions of. */
  readonly replicaFetcherManager: ReplicaFetcherManager;

  constructor(private readonly broker: ReplicaManagerDeps) {
    this.alterPartitionManager = broker.alterPartitionManager;
    const cfg = broker.config;
    this.replicaFetcherManager = new ReplicaFetcherManager({
      localBrokerId: broker.nodeId,
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
    });
    this.fetchPurgatory = new DelayedOperationPurgatory('Fetch', broker.purgatoryTime);
    this.producePurgatory = new DelayedOperationPurgatory('Produce', broker.purgatoryTime);
    this.deleteRecordsPurgatory = new DelayedOperationPurgatory('DeleteRecords', broker.purgatoryTime);
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
      const partition = new Partition(meta.name, p, log, nodeId, LEADER_EPOCH, [nodeId], [nodeId]);
      partition.replication = this.replicationOptions(meta.topicId);
      // The high watermark moved: waiting fetches may have data, waiting acks=-1 produces their replicas.
      partition.onAppend(() => {
        this.fetchPurgatory.checkAndComplete(partition);
        this.producePurgatory.checkAndComplete(partition);
        this.deleteRecordsPurgatory.checkAndComplete(partition);
      });
      partitions.push(partition);
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
    const fromFollower = isFromFollower(params);
    const readNow = () => readFromLocalLog(params, requests, lookup, this.broker.log, this.broker.time.now());
    let read = readNow();
    for (;;) {
      const waitMs = deadline - time.now();
      const partitions = hosted();
      if (read.bytes >= params.minBytes || read.hasError || waitMs <= 0 || partitions.length === 0) break;
      const appended = await this.waitForAppend(partitions, waitMs, signal, fromFollower);
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
    const t = this.topicsByName.get(topic);
    const p = t?.partitions[partition];
    if (!t || !p) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', lowWatermark: -1 };
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
    for (const t of this.topicsByName.values()) {
      for (const p of t.partitions) p.replication = this.replicationOptions(t.topicId);
    }
  }

  private replicationOptions(topicId: string): Partition['replication'] {
    return {
      topicId,
      ...(this.alterPartitionManager ? { alterPartitionManager: this.alterPartitionManager } : {}),
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
  makeLeaders(states: readonly PartitionLeadership[]): PartitionLeadership[] {
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
  makeFollowers(
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
        topicId: s.topicId ?? this.topicsByName.get(s.topic)?.topicId,
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
    for (const t of this.topicsByName.values()) {
      for (const p of t.partitions) {
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

  /** `topicId`: the one the controller assigned (a replica's topic carries its leader's id); new when absent. */
  createTopic(
    name: string,
    numPartitions: number,
    configs: Record<string, string> = {},
    topicId?: string,
  ): TopicInfo {
    const meta = this.broker.logManager.createTopic(name, numPartitions, configs, topicId);
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
    for (const p of t.partitions) {
      this.fetchPurgatory.completeAll(p);
      this.producePurgatory.completeAll(p);
      this.deleteRecordsPurgatory.completeAll(p);
    }
    this.broker.metrics.topicDeleted(t.name);
    this.broker.log.info(`deleted topic ${t.name}`, { topic: t.name, topicId: t.topicId });
    this.notifyPartitionsDeleted([t]);
  }

  /**
   * Registers a listener told of every topic deletion (`deleteTopic`, `deleteAllTopics`); returns
   * a function that unregisters it. The coordinators register here instead of being imported.
   */
  onPartitionsDeleted(listener: PartitionsDeletedListener): () => void {
    this.partitionsDeletedListeners.add(listener);
    return () => this.partitionsDeletedListeners.delete(listener);
  }

  private notifyPartitionsDeleted(topics: readonly TopicInfo[]): void {
    const partitions = topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partition })),
    );
    if (partitions.length === 0) return;
    for (const listener of [...this.partitionsDeletedListeners]) {
      try {
        listener(partitions);
      } catch (err) {
        this.broker.log.error('a listener of deleted partitions failed', err);
      }
    }
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
      for (const p of t.partitions) {
        this.fetchPurgatory.completeAll(p);
        this.producePurgatory.completeAll(p);
        this.deleteRecordsPurgatory.completeAll(p);
      }
      this.broker.metrics.topicDeleted(t.name);
      this.broker.log.info(`deleted topic ${t.name}`, { topic: t.name, topicId: t.topicId });
      deleted.push(t.name);
    }
    this.notifyPartitionsDeleted(doomed);
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
      for (const t of [...this.topicsByName.values()]) {
        for (const p of t.partitions) {
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
