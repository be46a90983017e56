/**
 * A partition as this broker hosts it (Kafka's `Partition`), as leader or follower: the local log,
 * the leader and leader epoch, the partition epoch, the replica set and ISR, and the high watermark,
 * which the leader keeps apart from the log end offset and advances only when every in-sync replica
 * has the data (the smallest log end offset in the ISR); a follower takes it from its leader.
 * On a single node the ISR is this broker alone, so an append that reached the local log moves the
 * high watermark at once; with followers, their fetches report how far they are
 * (`updateFollowerFetchState`) and waiting acks=-1 produces complete as it moves.
 *
 * `min.insync.replicas`, as Kafka's Partition.appendRecordsToLeader: an acks=-1 append is refused
 * with NOT_ENOUGH_REPLICAS (nothing appended) while the ISR is smaller than the effective min ISR,
 * which since Kafka 3.7 (KAFKA-15583) is min(min.insync.replicas, replica count) — so a topic with
 * replication factor 1 accepts acks=-1 whatever its min.insync.replicas, and the check bites when
 * replicas have fallen out of the ISR. acks=0/1 are not checked.
 */
import type { ErrorName } from '../protocol/generated/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { readBatchSize } from '../protocol/record-batch.js';
import { type DecodedRecordBatch, decodeRecordBatch, encodeControlBatch } from '../protocol/records.js';
import type { Log, LogAppendInfo } from '../storage/log.js';
import type { AppendOrigin } from '../storage/producer-state-manager.js';
import type { AlterPartitionManager, AlterPartitionResult, LeaderAndIsr } from './alter-partition-manager.js';
import { ReplicaState } from './replica-state.js';

export type AppendListener = () => void;

/** An acks=-1 append refused because the ISR is below the effective `min.insync.replicas`. */
export class NotEnoughReplicasError extends KafkaError {
  override name = 'NotEnoughReplicasError';
  constructor(message: string) {
    super('NOT_ENOUGH_REPLICAS', message);
  }
}

/** AlterPartition refusals that mean the leader's state is stale: wait for the next registration. */
const STALE_STATE_ERRORS: ReadonlySet<ErrorName> = new Set([
  'FENCED_LEADER_EPOCH',
  'INVALID_UPDATE_VERSION',
  'NOT_LEADER_OR_FOLLOWER',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'UNKNOWN_TOPIC_ID',
]);

/** A client append or read on a partition this broker does not lead. */
export class NotLeaderOrFollowerError extends KafkaError {
  override name = 'NotLeaderOrFollowerError';
  constructor(message: string) {
    super('NOT_LEADER_OR_FOLLOWER', message);
  }
}

/**
 * A partition registration as the controller publishes it (Kafka's PartitionRegistration, the
 * fields a broker acts on): handed to makeLeader / makeFollower.
 */
export interface PartitionState {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  readonly replicas: readonly number[];
  readonly partitionEpoch: number;
}

/** What a leader needs to change its ISR (given by the ReplicaManager). */
export interface PartitionReplicationOptions {
  readonly topicId?: string;
  readonly alterPartitionManager?: AlterPartitionManager;
  /**
   * Whether a broker is alive (registered and not fenced) in the metadata: replicas on dead
   * brokers do not hold back the low watermark (Kafka's metadataCache.hasAliveBroker). Default: all alive.
   */
  readonly isBrokerAlive?: (brokerId: number) => boolean;
  /** Told when an ISR change was committed or refused (logging, metrics). */
  readonly onIsrChange?: (p: Partition, result: AlterPartitionResult) => void;
}

export class Partition {
  private readonly listeners = new Set<AppendListener>();
  /** The followers, as the leader tracks them (empty on a follower). */
  private readonly remoteReplicas = new Map<number, ReplicaState>();
  /** This broker's node id. */
  readonly localBrokerId: number;
  /** The leader's node id (-1: none known). */
  leaderId: number;
  /** Kafka's partition epoch: the version of the registration this broker last applied. */
  partitionEpoch = 0;
  /** The log end offset when this broker became leader at this epoch (Kafka's leaderEpochStartOffsetOpt). */
  private leaderEpochStartOffset: number;
  /** An ISR change proposed to the controller and not answered yet (Kafka's PendingPartitionChange). */
  private pendingIsr: readonly number[] | null = null;
  replication: PartitionReplicationOptions = {};
  #replicas: number[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    /** This broker, which starts as the leader (makeFollower changes that). */
    localBrokerId: number,
    public leaderEpoch: number,
    replicas: number[],
    public isr: number[],
  ) {
    this.localBrokerId = localBrokerId;
    this.leaderId = localBrokerId;
    this.leaderEpochStartOffset = log.logEndOffset;
    this.replicas = replicas;
    // Becoming leader: as in Kafka, the high watermark catches up to what the ISR has (after a
    // crash the checkpointed high watermark may lag the recovered log end offset).
    this.maybeIncrementHighWatermark();
  }

  /** The replica set (Kafka's assignment); the leader tracks a ReplicaState for each other member. */
  get replicas(): number[] {
    return this.#replicas;
  }

  set replicas(ids: readonly number[]) {
    this.#replicas = [...ids];
    for (const id of [...this.remoteReplicas.keys()]) if (!ids.includes(id)) this.remoteReplicas.delete(id);
    for (const id of ids) {
      if (id !== this.localBrokerId && !this.remoteReplicas.has(id))
        this.remoteReplicas.set(id, new ReplicaState(id));
    }
  }

  get isLeader(): boolean {
    return this.leaderId === this.localBrokerId;
  }

  /** The ISR the high watermark waits for: the committed one with a pending change's members (Kafka's maximalIsr). */
  get maximalIsr(): readonly number[] {
    if (this.pendingIsr === null) return this.isr;
    return [...new Set([...this.isr, ...this.pendingIsr])];
  }

  /** Whether an ISR change is waiting for the controller. */
  get isrChangePending(): boolean {
    return this.pendingIsr !== null;
  }

  /**
   * This broker leads the partition from `state` on (Kafka's Partition.makeLeader). A new leader
   * epoch starts at the log end offset in the leader-epoch cache; the followers' fetch state is
   * reset (unknown offsets; the in-sync ones count as caught up now). Returns whether this broker
   * was not the leader before. Leader epochs older than the current one are ignored.
   */
  makeLeader(state: PartitionState, nowMs: number): boolean {
    if (state.leader !== this.localBrokerId) throw new Error(`makeLeader for leader ${state.leader}`);
    const wasLeader = this.isLeader;
    if (state.leaderEpoch < this.leaderEpoch) return false;
    const isNewLeaderEpoch = state.leaderEpoch > this.leaderEpoch || !wasLeader;
    this.applyRegistration(state);
    this.leaderId = this.localBrokerId;
    const leo = this.log.logEndOffset;
    if (isNewLeaderEpoch) {
      this.log.leaderEpochCache.assign(state.leaderEpoch, leo);
      this.leaderEpochStartOffset = leo;
    }
    for (const r of this.remoteReplicas.values()) {
      r.reset(nowMs, leo, isNewLeaderEpoch, this.isr.includes(r.brokerId));
    }
    // The ISR may be this broker alone now, or followers have it all.
    this.maybeIncrementHighWatermark();
    this.notifyAppend();
    return !wasLeader;
  }

  /**
   * This broker follows `state.leader` from now on (Kafka's Partition.makeFollower): client appends
   * and reads are refused, waiting acks=-1 produces fail (their listeners are told), the followers'
   * state is dropped. The log is not truncated here: the replica fetcher does it with
   * OffsetForLeaderEpoch before fetching. Returns whether the leader or leader epoch changed.
   */
  makeFollower(state: PartitionState): boolean {
    if (state.leaderEpoch < this.leaderEpoch) return false;
    const changed = state.leader !== this.leaderId || state.leaderEpoch !== this.leaderEpoch;
    this.applyRegistration(state);
    this.leaderId = state.leader;
    for (const r of this.remoteReplicas.values()) r.reset(0, -1, true, false);
    this.notifyAppend();
    return changed;
  }

  private applyRegistration(state: PartitionState): void {
    this.leaderEpoch = state.leaderEpoch;
    this.partitionEpoch = state.partitionEpoch;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.pendingIsr = null;
    for (const id of [...this.remoteReplicas.keys()])
      if (!state.replicas.includes(id)) this.remoteReplicas.delete(id);
    for (const id of state.replicas) {
      if (id !== this.localBrokerId && !this.remoteReplicas.has(id))
        this.remoteReplicas.set(id, new ReplicaState(id));
    }
  }

  /**
   * Checks a request's `current_leader_epoch` (-1: not given) and leadership, in Kafka's order
   * (Partition.localLogWithEpochOrThrow): an older epoch is FENCED_LEADER_EPOCH, a newer one
   * UNKNOWN_LEADER_EPOCH, then a follower asked for the leader's data NOT_LEADER_OR_FOLLOWER.
   */
  checkLeaderEpochAndLeadership(
    currentLeaderEpoch: number | undefined,
    requireLeader: boolean,
  ): ErrorName | null {
    if (currentLeaderEpoch !== undefined && currentLeaderEpoch >= 0) {
      if (currentLeaderEpoch > this.leaderEpoch) return 'UNKNOWN_LEADER_EPOCH';
      if (currentLeaderEpoch < this.leaderEpoch) return 'FENCED_LEADER_EPOCH';
    }
    if (requireLeader && !this.isLeader) return 'NOT_LEADER_OR_FOLLOWER';
    return null;
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /**
   * The last stable offset: below it every transaction is decided (the first offset of the
   * earliest open transaction, bounded by the high watermark). read_committed fetches stop here.
   */
  get lastStableOffset(): number {
    return this.log.lastStableOffset;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /**
   * Appends one validated batch as leader and returns where it landed (a producer's retried batch
   * returns its original offsets, `duplicate`, and appends nothing). Producer-state refusals throw
   * ProducerStateError; an acks=-1 (`requiredAcks`) append with the ISR below the effective
   * `minInsyncReplicas` throws NotEnoughReplicasError before anything is written.
   */
  appendRecordsToLeader(
    batch: Buffer,
    origin: AppendOrigin = 'client',
    requiredAcks = 1,
    minInsyncReplicas = 1,
  ): LogAppendInfo {
    if (!this.isLeader) {
      throw new NotLeaderOrFollowerError(
        `Leader not local for partition ${this.topic}-${this.partition} on broker ${this.localBrokerId}`,
      );
    }
    const minIsr = this.effectiveMinIsr(minInsyncReplicas);
    if (requiredAcks === -1 && this.isr.length < minIsr) {
      throw new NotEnoughReplicasError(
        `The size of the current ISR Set(${this.isr.join(', ')}) is insufficient to satisfy the ` +
          `min.isr requirement of ${minIsr} for partition ${this.topic}-${this.partition}`,
      );
    }
    const info = this.log.appendAsLeader(batch, this.leaderEpoch, origin);
    // Listeners hear of it also when the high watermark stays: waiting follower fetches want the data.
    if (!info.duplicate && !this.maybeIncrementHighWatermark() && this.remoteReplicas.size > 0)
      this.notifyAppend();
    return info;
  }

  /**
   * Writes a COMMIT or ABORT marker for the producer's transaction here (what WriteTxnMarkers does on
   * a partition leader); it closes the producer's open transaction and moves the last stable offset.
   */
  appendEndTxnMarker(
    type: 'COMMIT' | 'ABORT',
    producerId: number,
    producerEpoch: number,
    coordinatorEpoch: number,
  ): LogAppendInfo {
    const batch = encodeControlBatch({ type, producerId, producerEpoch, coordinatorEpoch });
    return this.appendRecordsToLeader(batch, 'coordinator');
  }

  /** min(min.insync.replicas, replica count), as Kafka's Partition.effectiveMinIsr (3.7+). */
  effectiveMinIsr(minInsyncReplicas: number): number {
    return Math.min(minInsyncReplicas, this.replicas.length);
  }

  /**
   * A follower fetched from `logEndOffset` (its log end) while the leader's log ended at
   * `leaderEndOffset` (Kafka's updateFollowerFetchState): its caught-up time moves, it may join the
   * ISR, and what the ISR has may now be past the high watermark. Returns false for a broker that is
   * not a replica of this partition (nothing changes).
   */
  updateFollowerFetchState(
    replicaId: number,
    logEndOffset: number,
    logStartOffset = -1,
    fetchTimeMs = 0,
    leaderEndOffset = this.log.logEndOffset,
    brokerEpoch = -1,
  ): boolean {
    const replica = this.remoteReplicas.get(replicaId);
    if (replica === undefined) return false;
    // A fetch from before the follower restarted (an older broker epoch, KIP-903; e.g. a long poll
    // of its previous incarnation completing late) does not move its state back (Kafka's
    // Replica.updateFetchStateOrThrow refuses it).
    if (brokerEpoch !== -1 && brokerEpoch < replica.brokerEpoch) return false;
    replica.brokerEpoch = brokerEpoch;
    const startMoved = replica.logStartOffset !== logStartOffset;
    replica.updateFetchState(logEndOffset, logStartOffset, fetchTimeMs, leaderEndOffset);
    this.maybeExpandIsr(replica);
    // Listeners hear of it once: from a high watermark that moved, else from a log start offset
    // that did (waiting DeleteRecords follow the followers' log start offsets).
    if (!this.maybeIncrementHighWatermark() && startMoved) this.notifyAppend();
    return true;
  }

  /** What the leader knows of follower `replicaId` (undefined for a broker that is not one). */
  followerState(replicaId: number): Readonly<ReplicaState> | undefined {
    return this.remoteReplicas.get(replicaId);
  }

  /**
   * The smallest log start offset among the replicas (Kafka's lowWatermarkIfLeader): what
   * DeleteRecords answers, and waits for. A follower not heard from yet counts as -1 (unknown).
   */
  get lowWatermark(): number {
    let low = this.logStartOffset;
    const alive = this.replication.isBrokerAlive;
    for (const id of this.replicas) {
      if (id === this.localBrokerId || (alive && !alive(id))) continue;
      low = Math.min(low, this.remoteReplicas.get(id)?.logStartOffset ?? -1);
    }
    return low;
  }

  /** The ISR changed (Kafka's AlterPartition outcome): the high watermark follows the new set. */
  updateIsr(isr: readonly number[]): void {
    this.isr = [...isr];
    this.maybeIncrementHighWatermark();
  }

  /**
   * A follower not in the ISR joins it once it has everything up to the high watermark and since
   * this leader's epoch began (Kafka's maybeExpandIsr / isFollowerInSync): proposed to the controller.
   * Not a fenced broker (Kafka's isReplicaIsrEligible): one shutting down still fetches until it
   * stops, and the controller would refuse it (INELIGIBLE_REPLICA).
   */
  private maybeExpandIsr(replica: ReplicaState): void {
    if (!this.isLeader || this.pendingIsr !== null || this.isr.includes(replica.brokerId)) return;
    if (this.replication.isBrokerAlive && !this.replication.isBrokerAlive(replica.brokerId)) return;
    if (replica.logEndOffset < this.highWatermark || replica.logEndOffset < this.leaderEpochStartOffset)
      return;
    this.proposeIsr([...this.isr, replica.brokerId]);
  }

  /**
   * The in-sync followers that have not caught up with the leader's log end for longer than
   * `maxLagMs` (Kafka's getOutOfSyncReplicas; `replica.lag.time.max.ms`).
   */
  outOfSyncReplicas(nowMs: number, maxLagMs: number): number[] {
    const leo = this.log.logEndOffset;
    return this.isr.filter((id) => {
      if (id === this.localBrokerId) return false;
      const r = this.remoteReplicas.get(id);
      return r === undefined || !r.isCaughtUp(leo, nowMs, maxLagMs);
    });
  }

  /**
   * Drops the lagging followers from the ISR (Kafka's maybeShrinkIsr, run every half lag time):
   * proposed to the controller; returns the replicas proposed out (empty when nothing changes).
   */
  maybeShrinkIsr(nowMs: number, maxLagMs: number): number[] {
    if (!this.isLeader || this.pendingIsr !== null) return [];
    const out = this.outOfSyncReplicas(nowMs, maxLagMs);
    if (out.length === 0) return [];
    this.proposeIsr(this.isr.filter((id) => !out.includes(id)));
    return out;
  }

  /**
   * Sends an ISR change to the controller (one at a time) and applies its answer if this broker still
   * leads at the same epoch. A refusal for stale state keeps the change pending until the next
   * registration; any other clears it, so that a later fetch or shrink check proposes again. Without
   * an AlterPartitionManager the ISR cannot change.
   */
  private proposeIsr(newIsr: number[]): void {
    const manager = this.replication.alterPartitionManager;
    if (manager === undefined) return;
    this.pendingIsr = newIsr;
    const proposed: LeaderAndIsr = {
      leader: this.localBrokerId,
      leaderEpoch: this.leaderEpoch,
      isr: newIsr,
      partitionEpoch: this.partitionEpoch,
      // KIP-903: each follower with the broker epoch it fetched with, so the controller refuses a
      // member that has restarted since (INELIGIBLE_REPLICA); this broker's own epoch is the request's.
      isrWithEpochs: newIsr.map((brokerId) => ({
        brokerId,
        brokerEpoch: this.remoteReplicas.get(brokerId)?.brokerEpoch ?? -1,
      })),
    };
    const tp = { topicId: this.replication.topicId ?? '', topic: this.topic, partition: this.partition };
    manager.submit(tp, proposed).then(
      (result) => this.onAlterPartitionResult(proposed, result),
      (err: unknown) =>
        this.onAlterPartitionResult(proposed, { error: 'UNKNOWN_SERVER_ERROR', message: String(err) }),
    );
  }

  private onAlterPartitionResult(proposed: LeaderAndIsr, result: AlterPartitionResult): void {
    // Another registration was applied meanwhile (makeLeader/makeFollower): this answer is stale.
    if (this.pendingIsr === null || proposed.leaderEpoch !== this.leaderEpoch || !this.isLeader) return;
    if (STALE_STATE_ERRORS.has(result.error)) {
      // Kafka's handleAlterPartitionError: this broker's view is stale; the change stays pending (no
      // retries) until the controller's next registration reaches makeLeader / makeFollower.
      this.replication.onIsrChange?.(this, result);
      return;
    }
    this.pendingIsr = null;
    if ('leaderAndIsr' in result) {
      const committed = result.leaderAndIsr;
      if (committed.leaderEpoch === this.leaderEpoch && committed.partitionEpoch > this.partitionEpoch) {
        this.partitionEpoch = committed.partitionEpoch;
        this.isr = [...committed.isr];
      }
    }
    this.replication.onIsrChange?.(this, result);
    // The high watermark may pass now (a shrink), and waiting acks=-1 produces re-check the min ISR.
    if (!this.maybeIncrementHighWatermark()) this.notifyAppend();
  }

  /**
   * Whether an acks=-1 append that ends before `requiredOffset` is replicated (Kafka's
   * checkEnoughReplicasReachOffset): done once the high watermark reaches it, with
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below the effective min ISR meanwhile.
   */
  checkEnoughReplicasReachOffset(
    requiredOffset: number,
    minInsyncReplicas: number,
  ):
    | {
        done: false;
      }
    | { done: true; error: 'NONE' | 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' | 'NOT_LEADER_OR_FOLLOWER' } {
    // Leadership lost while waiting: the follower it became may truncate the batch away.
    if (!this.isLeader) return { done: true, error: 'NOT_LEADER_OR_FOLLOWER' };
    if (this.highWatermark < requiredOffset) return { done: false };
    const enough = this.isr.length >= this.effectiveMinIsr(minInsyncReplicas);
    return { done: true, error: enough ? 'NONE' : 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' };
  }

  /**
   * The high watermark moves to the smallest log end offset among the in-sync replicas (the
   * leader's own included; a follower not heard from yet holds it back; while an ISR change is
   * pending, its members too), never backwards. Only on the leader.
   * Returns whether it moved (its listeners were told).
   */
  private maybeIncrementHighWatermark(): boolean {
    if (!this.isLeader) return false;
    let candidate = this.log.logEndOffset;
    for (const id of this.maximalIsr) {
      if (id === this.localBrokerId) continue;
      candidate = Math.min(candidate, this.remoteReplicas.get(id)?.logEndOffset ?? 0);
    }
    if (candidate <= this.log.highWatermark) return false;
    this.log.updateHighWatermark(candidate);
    this.notifyAppend();
    return true;
  }

  /**
   * Every batch from the log start to `end` (default the high watermark), decoded, oldest first.
   * Reads `bufferSize` bytes at a time.
   */
  *readBatches(bufferSize = 5 * 1024 * 1024, end = this.highWatermark): Iterable<DecodedRecordBatch> {
    let offset = this.logStartOffset;
    while (offset < end) {
      const result = this.log.read(offset, bufferSize, true, end);
      if ('error' in result || !result.records || result.records.length === 0) return;
      const buf = result.records;
      let pos = 0;
      const before = offset;
      while (pos + 12 <= buf.length) {
        const size = readBatchSize(buf, pos);
        if (pos + size > buf.length) break;
        const batch = decodeRecordBatch(buf, pos);
        pos += size;
        offset = batch.lastOffset + 1;
        yield batch;
      }
      if (offset === before) return;
    }
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notifyAppend(): void {
    for (const l of [...this.listeners]) l();
  }
}
