/**
 * A partition as its leader sees it (Kafka's `Partition`): the local log, the leader epoch, the
 * replica set and ISR, and the high watermark, which is kept apart from the log end offset and
 * advanced only when every in-sync replica has the data (the smallest log end offset in the ISR).
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

import { KafkaError } from '../protocol/kafka-error.js';
import { readBatchSize } from '../protocol/record-batch.js';
import { type DecodedRecordBatch, decodeRecordBatch, encodeControlBatch } from '../protocol/records.js';
import type { Log, LogAppendInfo } from '../storage/log.js';
import type { AppendOrigin } from '../storage/producer-state-manager.js';

export type AppendListener = () => void;

/** An acks=-1 append refused because the ISR is below the effective `min.insync.replicas`. */
export class NotEnoughReplicasError extends KafkaError {
  override name = 'NotEnoughReplicasError';
  constructor(message: string) {
    super('NOT_ENOUGH_REPLICAS', message);
  }
}

export class Partition {
  private readonly listeners = new Set<AppendListener>();
  /** Followers' log end and start offsets as their fetches report them. */
  private readonly followerEndOffsets = new Map<number, number>();
  private readonly followerStartOffsets = new Map<number, number>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    readonly leaderId: number,
    public leaderEpoch: number,
    public replicas: number[],
    public isr: number[],
  ) {
    // Becoming leader: as in Kafka, the high watermark catches up to what the ISR has (after a
    // crash the checkpointed high watermark may lag the recovered log end offset).
    this.maybeIncrementHighWatermark();
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
    const minIsr = this.effectiveMinIsr(minInsyncReplicas);
    if (requiredAcks === -1 && this.isr.length < minIsr) {
      throw new NotEnoughReplicasError(
        `The size of the current ISR Set(${this.isr.join(', ')}) is insufficient to satisfy the ` +
          `min.isr requirement of ${minIsr} for partition ${this.topic}-${this.partition}`,
      );
    }
    const info = this.log.appendAsLeader(batch, this.leaderEpoch, origin);
    if (!info.duplicate) this.maybeIncrementHighWatermark();
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
   * A follower fetched up to `logEndOffset` (Kafka's updateFollowerFetchState): what the ISR has
   * may now be past the high watermark.
   */
  updateFollowerFetchState(replicaId: number, logEndOffset: number, logStartOffset = -1): void {
    this.followerEndOffsets.set(replicaId, logEndOffset);
    const startMoved = this.followerStartOffsets.get(replicaId) !== logStartOffset;
    this.followerStartOffsets.set(replicaId, logStartOffset);
    // Listeners hear of it once: from a high watermark that moved, else from a log start offset
    // that did (waiting DeleteRecords follow the followers' log start offsets).
    if (!this.maybeIncrementHighWatermark() && startMoved) this.notifyAppend();
  }

  /**
   * The smallest log start offset among the replicas (Kafka's lowWatermarkIfLeader): what
   * DeleteRecords answers, and waits for. A follower not heard from yet counts as -1 (unknown).
   */
  get lowWatermark(): number {
    let low = this.logStartOffset;
    for (const id of this.replicas) {
      if (id === this.leaderId) continue;
      low = Math.min(low, this.followerStartOffsets.get(id) ?? -1);
    }
    return low;
  }

  /** The ISR changed (Kafka's AlterPartition outcome): the high watermark follows the new set. */
  updateIsr(isr: readonly number[]): void {
    this.isr = [...isr];
    this.maybeIncrementHighWatermark();
  }

  /**
   * Whether an acks=-1 append that ends before `requiredOffset` is replicated (Kafka's
   * checkEnoughReplicasReachOffset): done once the high watermark reaches it, with
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below the effective min ISR meanwhile.
   */
  checkEnoughReplicasReachOffset(
    requiredOffset: number,
    minInsyncReplicas: number,
  ): { done: false } | { done: true; error: 'NONE' | 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' } {
    if (this.highWatermark < requiredOffset) return { done: false };
    const enough = this.isr.length >= this.effectiveMinIsr(minInsyncReplicas);
    return { done: true, error: enough ? 'NONE' : 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' };
  }

  /**
   * The high watermark moves to the smallest log end offset among the in-sync replicas (the
   * leader's own included; a follower not heard from yet holds it back), never backwards.
   * Returns whether it moved (its listeners were told).
   */
  private maybeIncrementHighWatermark(): boolean {
    let candidate = this.log.logEndOffset;
    for (const id of this.isr) {
      if (id === this.leaderId) continue;
      candidate = Math.min(candidate, this.followerEndOffsets.get(id) ?? 0);
    }
    if (candidate <= this.log.highWatermark) return false;
    this.log.updateHighWatermark(candidate);
    this.notifyAppend();
    return true;
  }

  /**
   * Every batch from the log start to the high watermark, decoded, oldest first: how the
   * coordinators load their internal topics. Reads `bufferSize` bytes at a time.
   */
  *readBatches(bufferSize = 5 * 1024 * 1024): Iterable<DecodedRecordBatch> {
    let offset = this.logStartOffset;
    const end = this.highWatermark;
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
