/**
 * Offsets committed inside transactions (TxnOffsetCommit), all in one place, as Kafka's
 * OffsetMetadataManager does them: written to `__consumer_offsets` as a transactional batch of
 * the producer, staged per producer in the shard of that partition by replay, and made the group's
 * committed offsets when the COMMIT marker is replayed there (dropped on ABORT). Load and live
 * writes go through the same replay (group-shard.ts), so the open transactions of a partition
 * are staged again after a restart and their markers still complete them. A non-transactional
 * offset tombstone (a deleted topic) cancels what was staged for that group and partition.
 */

import type { Logger } from '../../common/logger.js';
import type { Time } from '../../common/time.js';
import type { ErrorName } from '../../protocol/generated/errors.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import type { ClassicGroup } from '../group-metadata.js';
import { GroupState, UNKNOWN_MEMBER_ID } from '../group-metadata.js';
import { type OffsetAndMetadata, offsetCommitRecord } from '../offsets-topic.js';
import type { TransactionalProducer } from '../runtime/coordinator-log.js';
import {
  type CoordinatorRuntime,
  type CoordinatorShard,
  coordinatorErrorOf,
  offsetCommitErrorOf,
} from '../runtime/coordinator-runtime.js';
import { type ConsumerGroup, validateConsumerGroupCommit } from './consumer-group.js';
import { type StreamsGroup, validateStreamsGroupCommit } from './streams-group.js';

export interface TxnOffset {
  topic: string;
  partition: number;
  value: OffsetAndMetadata;
}

export interface TxnOffsetCommitPartition {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The offsets open transactions staged in one `__consumer_offsets` partition. */
export class PendingTxnOffsets {
  /** producerId → groupId → "topic\0partition" → offset. */
  private readonly byProducer = new Map<number, Map<string, Map<string, TxnOffset>>>();

  stage(producerId: number, groupId: string, offset: TxnOffset): void {
    let groups = this.byProducer.get(producerId);
    if (!groups) {
      groups = new Map();
      this.byProducer.set(producerId, groups);
    }
    let byKey = groups.get(groupId);
    if (!byKey) {
      byKey = new Map();
      groups.set(groupId, byKey);
    }
    byKey.set(tpKey(offset.topic, offset.partition), offset);
  }

  /** Whether a transaction has offsets staged for this group partition (KIP-447 requireStable). */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    for (const groups of this.byProducer.values())
      if (groups.get(groupId)?.has(tpKey(topic, partition))) return true;
    return false;
  }

  /** The producer's transaction ended here: what it staged, by group (forgotten either way). */
  end(producerId: number): Map<string, TxnOffset[]> {
    const groups = this.byProducer.get(producerId);
    this.byProducer.delete(producerId);
    const out = new Map<string, TxnOffset[]>();
    for (const [groupId, byKey] of groups ?? []) out.set(groupId, [...byKey.values()]);
    return out;
  }

  /** An offset tombstone for `groupId` on topic-partition drops what open transactions staged for it. */
  drop(groupId: string, topic: string, partition: number): void {
    for (const [producerId, groups] of this.byProducer) {
      const byKey = groups.get(groupId);
      if (!byKey?.delete(tpKey(topic, partition))) continue;
      if (byKey.size === 0) groups.delete(groupId);
      if (groups.size === 0) this.byProducer.delete(producerId);
    }
  }

  /** Drops what was staged for `partitions` (a topic deletion); returns what was dropped. */
  removePartitions(
    partitions: readonly { topic: string; partition: number }[],
  ): { groupId: string; topic: string; partition: number }[] {
    const removed: { groupId: string; topic: string; partition: number }[] = [];
    if (this.byProducer.size === 0) return removed;
    const keys = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
    for (const [producerId, groups] of this.byProducer) {
      for (const [groupId, byKey] of groups) {
        for (const [k, o] of byKey) {
          if (!keys.has(k)) continue;
          byKey.delete(k);
          removed.push({ groupId, topic: o.topic, partition: o.partition });
        }
        if (byKey.size === 0) groups.delete(groupId);
      }
      if (groups.size === 0) this.byProducer.delete(producerId);
    }
    return removed;
  }

  clear(): void {
    this.byProducer.clear();
  }
}

/** What transactional offsets need of the group coordinator (its GroupContext). */
export interface TxnOffsetsHost {
  readonly config: { readonly offsetMetadataMaxBytes: number };
  readonly time: Time;
  readonly log: Logger;
  readonly runtime: CoordinatorRuntime<CoordinatorShard & { readonly pendingTxnOffsets: PendingTxnOffsets }>;
  partitionFor(groupId: string): number;
  validateGroupStatus(groupId: string | null, membershipApi: boolean): ErrorName;
  getOrCreateGroup(groupId: string): ClassicGroup;
  /** KIP-848 consumer groups: their members commit with their member epoch. */
  readonly consumerGroups: ReadonlyMap<string, ConsumerGroup>;
  /** KIP-1071 streams groups: their members commit with their member epoch too. */
  readonly streamsGroups: ReadonlyMap<string, StreamsGroup>;
}

/** TxnOffsetCommit and transaction completion on `__consumer_offsets`. */
export class TxnOffsets {
  constructor(private readonly ctx: TxnOffsetsHost) {}

  /**
   * Kafka's `doTxnCommitOffsets` checks: a group that does not exist is created (Empty) so a
   * producer can stage offsets for it; a known member id must be in the group (UNKNOWN_MEMBER_ID),
   * a static member must not be fenced and a generation (>= 0) must be current (ILLEGAL_GENERATION).
   */
  validate(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): ErrorName {
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return status;
    const streamsGroup = this.ctx.streamsGroups.get(groupId);
    if (streamsGroup) return validateStreamsGroupCommit(streamsGroup, memberId, generationId, true);
    const consumerGroup = this.ctx.consumerGroups.get(groupId);
    if (consumerGroup) {
      return validateConsumerGroupCommit(consumerGroup, memberId, groupInstanceId, generationId, true, 0);
    }
    const group = this.ctx.getOrCreateGroup(groupId);
    if (group.is(GroupState.Dead)) return 'COORDINATOR_NOT_AVAILABLE';
    const staticMember = group.currentStaticMemberId(groupInstanceId);
    if (staticMember !== undefined && staticMember !== memberId) return 'FENCED_INSTANCE_ID';
    if (memberId !== UNKNOWN_MEMBER_ID && !group.has(memberId)) return 'UNKNOWN_MEMBER_ID';
    if (generationId >= 0 && generationId !== group.generationId) return 'ILLEGAL_GENERATION';
    return 'NONE';
  }

  /**
   * Stages `offsets` for the group in the producer's transaction (the transaction coordinator has
   * checked that the group's partition is in it): one error per partition, in order, once
   * the transactional batch is committed.
   */
  commit(
    groupId: string,
    producer: TransactionalProducer,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    offsets: readonly TxnOffsetCommitPartition[],
  ): Promise<ErrorName[]> {
    const all = (error: ErrorName) => offsets.map(() => error);
    const error = this.validate(groupId, memberId, groupInstanceId, generationId);
    if (error !== 'NONE') return Promise.resolve(all(error));
    const now = this.ctx.time.now();
    const errors = all('NONE');
    const records = offsets.flatMap((o, i) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata) > this.ctx.config.offsetMetadataMaxBytes) {
        errors[i] = 'OFFSET_METADATA_TOO_LARGE';
        return [];
      }
      const value = {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: now,
        expireTimestamp: null,
      };
      return [offsetCommitRecord(groupId, o.topic, o.partition, value)];
    });
    const partition = this.ctx.partitionFor(groupId);
    return this.ctx.runtime
      .scheduleWriteOperation(partition, () => ({
        records,
        response: errors,
        producer,
        onAppendError: (err: unknown) => {
          // A ProducerStateError (the producer's epoch or sequence) is its own answer.
          const error = offsetCommitErrorOf(err);
          if (!(err instanceof KafkaError)) this.ctx.log.error('storing transactional offsets failed', err);
          return errors.map((e) => (e === 'NONE' ? error : e));
        },
      }))
      .catch((err: unknown) => all(coordinatorErrorOf(err)));
  }

  /**
   * The transaction coordinator ends `producer`'s transaction on `__consumer_offsets-<partition>`:
   * writes the marker there and replays it (COMMIT makes the staged offsets the group's).
   */
  completeTransaction(
    partition: number,
    producer: TransactionalProducer,
    result: 'COMMIT' | 'ABORT',
    coordinatorEpoch: number,
  ): Promise<void> {
    return this.ctx.runtime.scheduleTransactionCompletion(partition, producer, result, coordinatorEpoch);
  }

  /** Whether an open transaction staged an offset for this group partition. */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    return (
      this.ctx.runtime
        .shard(this.ctx.partitionFor(groupId))
        ?.pendingTxnOffsets.hasPending(groupId, topic, partition) ?? false
    );
  }

  /** Drops, in every partition, what open transactions staged for `partitions` (a topic deletion). */
  removePartitions(
    partitions: readonly { topic: string; partition: number }[],
  ): { groupId: string; topic: string; partition: number }[] {
    const removed: { groupId: string; topic: string; partition: number }[] = [];
    for (const p of this.ctx.runtime.loadedPartitions())
      removed.push(...(this.ctx.runtime.shard(p)?.pendingTxnOffsets.removePartitions(partitions) ?? []));
    return removed;
  }

  /** Forgets every staged offset (the broker's reset). */
  clear(): void {
    for (const p of this.ctx.runtime.loadedPartitions()) this.ctx.runtime.shard(p)?.pendingTxnOffsets.clear();
  }
}
