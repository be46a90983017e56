/**
 * The one writer and loader of the coordinators' internal topics (`__consumer_offsets`,
 * `__transaction_state`; Kafka's `CoordinatorPartitionWriter` and `CoordinatorLoaderImpl`).
 *
 * A coordinator writes key/value records (a null value is a tombstone) as one batch, optionally
 * as a transactional batch of a producer (TxnOffsetCommit), and ends transactions with markers.
 * It loads a partition by reading back every committed batch — up to the high watermark — oldest
 * first, control batches included, so that one replay function rebuilds its state. The topic is
 * created, compacted, on first write (Kafka creates `__consumer_offsets` on the first
 * FindCoordinator; kbroker answers that at once and creates the topic when there is something to
 * store). Once it exists, its partition count wins over the configured one: keys must keep
 * hashing to where they live.
 */
import type { Time } from '../../common/time.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import { encodeRecordBatch } from '../../protocol/records.js';
import type { Partition } from '../../replication/partition.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';

export interface CoordinatorRecord {
  key: Buffer;
  /** null = tombstone. */
  value: Buffer | null;
  /**
   * What key and value say, when the record was just built from it: replay after a write reads this
   * instead of decoding the bytes it was encoded to a moment ago. Records read from the log lack it.
   */
  decoded?: unknown;
}

/** A batch as the loader reads it back. */
export interface CoordinatorBatch {
  /** Offset of the batch's last record: the high watermark must pass it for the batch to count. */
  lastOffset: number;
  producerId: number;
  producerEpoch: number;
  isTransactional: boolean;
  /** A transaction marker (no records) ends the producer's transaction here. */
  control: 'COMMIT' | 'ABORT' | null;
  records: CoordinatorRecord[];
}

/** The producer of a transactional batch. */
export interface TransactionalProducer {
  producerId: number;
  producerEpoch: number;
}

export interface CoordinatorLog {
  readonly topic: string;
  readonly numPartitions: number;
  /** Creates the topic if it does not exist yet. */
  ensureCreated(): void;
  /**
   * Appends `records` as one batch to `partition` (a transactional batch of `txn` when given);
   * returns the offset after the batch: it is committed once the high watermark reaches it.
   * Throws when the append fails (nothing is written then).
   */
  append(partition: number, records: readonly CoordinatorRecord[], txn?: TransactionalProducer): number;
  /** Writes a transaction marker for `txn`; returns the offset after it. */
  appendEndTxnMarker(
    partition: number,
    result: 'COMMIT' | 'ABORT',
    txn: TransactionalProducer,
    coordinatorEpoch: number,
  ): number;
  /** Every committed batch of `partition` (up to its high watermark), oldest first. */
  read(partition: number): Iterable<CoordinatorBatch>;
  /** The partition's high watermark (0 when it does not exist). */
  highWatermark(partition: number): number;
  /** The partition's leader epoch (0 when it does not exist): the coordinator epoch. */
  leaderEpoch(partition: number): number;
  /**
   * Calls `listener` whenever the high watermark of `partition` may have moved; returns the
   * unsubscribe, or null while the partition does not exist (the topic is created on first write).
   */
  onHighWatermarkChange(partition: number, listener: () => void): (() => void) | null;
}

/** Kafka's RecordTooLargeException: a batch above the topic's max.message.bytes. */
export class RecordTooLargeError extends KafkaError {
  override name = 'RecordTooLargeError';
  constructor(message: string) {
    super('MESSAGE_TOO_LARGE', message);
  }
}

/**
 * What the coordinators need of the cluster metadata (the broker's controller and image): how many
 * partitions their internal topic has, and its creation on first write.
 */
export interface InternalTopics {
  partitionCount(topic: string): number | undefined;
  createTopic(name: string, numPartitions: number, configs: Record<string, string>): unknown;
}

export interface ReplicaCoordinatorLogOptions {
  topic: string;
  configuredPartitions: number;
  segmentBytes: number;
  /** The broker's message.max.bytes, for a topic without its own max.message.bytes. */
  defaultMaxMessageBytes: number;
  time: Time;
}

/** An internal topic on this broker's partitions. */
export class ReplicaCoordinatorLog implements CoordinatorLog {
  readonly topic: string;
  readonly numPartitions: number;

  constructor(
    private readonly replicaManager: ReplicaManager,
    private readonly internalTopics: InternalTopics,
    private readonly options: ReplicaCoordinatorLogOptions,
  ) {
    this.topic = options.topic;
    this.numPartitions = internalTopics.partitionCount(options.topic) ?? options.configuredPartitions;
  }

  partition(p: number, create: boolean): Partition | undefined {
    if (create && this.internalTopics.partitionCount(this.topic) === undefined) {
      this.internalTopics.createTopic(this.topic, this.numPartitions, {
        'cleanup.policy': 'compact',
        'segment.bytes': String(this.options.segmentBytes),
      });
    }
    return this.replicaManager.getPartition(this.topic, p);
  }

  /** Largest batch the topic accepts (its max.message.bytes). */
  maxBatchBytes(): number {
    const v = this.replicaManager.topicConfig(this.topic)?.['max.message.bytes'];
    return v ? Number(v) : this.options.defaultMaxMessageBytes;
  }

  ensureCreated(): void {
    this.partition(0, true);
  }

  private existing(partition: number): Partition {
    const p = this.partition(partition, true);
    if (!p) throw new Error(`${this.topic}-${partition} does not exist`);
    return p;
  }

  append(partition: number, records: readonly CoordinatorRecord[], txn?: TransactionalProducer): number {
    const p = this.existing(partition);
    if (records.length === 0) return p.logEndOffset;
    const now = this.options.time.now();
    const batch = encodeRecordBatch({
      ...(txn
        ? {
            producerId: txn.producerId,
            producerEpoch: txn.producerEpoch,
            baseSequence: 0,
            isTransactional: true,
          }
        : {}),
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
    });
    if (batch.length > this.maxBatchBytes()) {
      throw new RecordTooLargeError(`a ${batch.length}-byte batch exceeds ${this.topic}'s max.message.bytes`);
    }
    return p.appendRecordsToLeader(batch, 'coordinator').lastOffset + 1;
  }

  appendEndTxnMarker(
    partition: number,
    result: 'COMMIT' | 'ABORT',
    txn: TransactionalProducer,
    coordinatorEpoch: number,
  ): number {
    const p = this.existing(partition);
    return p.appendEndTxnMarker(result, txn.producerId, txn.producerEpoch, coordinatorEpoch).lastOffset + 1;
  }

  *read(partition: number): Iterable<CoordinatorBatch> {
    const p = this.partition(partition, false);
    if (!p) return;
    // To the log end, as Kafka's CoordinatorLoaderImpl: a new leader's high watermark lags until
    // its followers fetch again, but everything in its log is what it leads with (never truncated).
    for (const batch of p.readBatches(undefined, p.logEndOffset)) {
      const records: CoordinatorRecord[] = [];
      if (!batch.isControl)
        for (const r of batch.records) if (r.key !== null) records.push({ key: r.key, value: r.value });
      const type = batch.controlRecord?.typeName;
      yield {
        lastOffset: batch.lastOffset,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        isTransactional: batch.isTransactional,
        control: batch.isControl ? (type === 'COMMIT' ? 'COMMIT' : 'ABORT') : null,
        records,
      };
    }
  }

  highWatermark(partition: number): number {
    return this.partition(partition, false)?.highWatermark ?? 0;
  }

  leaderEpoch(partition: number): number {
    return this.partition(partition, false)?.leaderEpoch ?? 0;
  }

  onHighWatermarkChange(partition: number, listener: () => void): (() => void) | null {
    const p = this.partition(partition, false);
    return p ? p.onAppend(listener) : null;
  }
}
