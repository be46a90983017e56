/**
 * The transaction coordinator, as Kafka's TransactionCoordinator + TransactionStateManager on a
 * single broker: transactional id → producer id and epoch, kept in `__transaction_state`.
 *
 * - InitProducerId: no transactional id → a fresh producer id at epoch 0 (idempotent producers);
 *   otherwise the epoch is bumped (fencing zombies), the producer id rotated when the epoch is
 *   exhausted, and an ongoing transaction is first aborted under a fenced epoch, answering
 *   CONCURRENT_TRANSACTIONS so the client retries.
 * - AddPartitionsToTxn / AddOffsetsToTxn: Empty/Complete* → Ongoing with the partitions.
 * - EndTxn: Ongoing → PrepareCommit/PrepareAbort (written), then the COMMIT/ABORT markers are written
 *   to every partition of the transaction, `__consumer_offsets` included (which makes the staged
 *   transactional offsets visible on commit), then CompleteCommit/CompleteAbort (written). On one
 *   broker the markers are local appends, so EndTxn answers once the transaction is complete.
 * - Transactions open longer than their timeout are aborted under a bumped epoch every
 *   `transaction.abort.timed.out.transaction.cleanup.interval.ms`; idle ids expire after
 *   `transactional.id.expiration.ms`.
 * - Startup loads `__transaction_state` and finishes what a crash interrupted: PrepareCommit /
 *   PrepareAbort get their markers again and complete; Ongoing ones are left to the timeout.
 * - It runs on the coordinator runtime (one shard per `__transaction_state` partition, loaded by
 *   replay, unloaded when leadership moves). A transition is written there and applied once the
 *   high watermark passes it; until then the id's `pendingState` is set and other requests for it
 *   get CONCURRENT_TRANSACTIONS, as in Kafka. A failed write changes nothing.
 * Errors are Kafka's; handlers map PRODUCER_FENCED to INVALID_PRODUCER_EPOCH for old versions.
 */

import type { Logger } from '../../common/logger.js';
import { type ScheduledTask, Scheduler } from '../../common/scheduler.js';
import { systemTime, type Time } from '../../common/time.js';
import type { ErrorName } from '../../protocol/generated/errors.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import type { LogManager } from '../../storage/log-manager.js';
import type { GroupCoordinator, TxnOffsetCommitPartition } from '../group-coordinator.js';
import { GROUP_METADATA_TOPIC_NAME } from '../offsets-topic.js';
import { type InternalTopics, ReplicaCoordinatorLog } from '../runtime/coordinator-log.js';
import { CoordinatorRuntime, coordinatorErrorOf } from '../runtime/coordinator-runtime.js';
import { ProducerIdManager } from './producer-id-manager.js';
import {
  TRANSACTION_STATE_TOPIC_NAME,
  TransactionState,
  transactionLogRecord,
  partitionFor as txnPartitionFor,
} from './transaction-log.js';
import {
  isEpochExhausted,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  TransactionMetadata,
  type TxnTransit,
} from './transaction-metadata.js';
import { TransactionShard } from './transaction-shard.js';

export type { TxnOffsetCommitPartition } from '../group-coordinator.js';

/** What the transaction coordinator needs of the broker that builds it. */
export interface TransactionCoordinatorDeps {
  readonly log: Logger;
  readonly logManager: Pick<LogManager, 'dataDir'>;
  readonly replicaManager: ReplicaManager;
  readonly internalTopics: InternalTopics;
  readonly groupCoordinator: GroupCoordinator;
  /**
   * Where producer ids come from when several brokers share one controller (a cluster in one
   * process): one manager for all, so no two brokers hand out the same id. Default: this broker's own.
   */
  readonly producerIds?: ProducerIdManager;
}

export interface TransactionCoordinatorConfig {
  transactionStateLogNumPartitions: number;
  transactionStateLogSegmentBytes: number;
  transactionMaxTimeoutMs: number;
  abortTimedOutTransactionCleanupIntervalMs: number;
  transactionalIdExpirationMs: number;
  removeExpiredTransactionalIdCleanupIntervalMs: number;
  offsetMetadataMaxBytes: number;
  /** The broker's message.max.bytes: the largest `__transaction_state` batch. */
  messageMaxBytes: number;
}

export type TransactionResult = 'COMMIT' | 'ABORT';

export interface InitProducerIdResult {
  error: ErrorName;
  producerId: number;
  producerEpoch: number;
}

export interface DescribedTransaction {
  error: ErrorName;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

export class TransactionCoordinator {
  readonly txnLog: ReplicaCoordinatorLog;
  private readonly runtime: CoordinatorRuntime<TransactionShard>;
  private readonly producerIds: ProducerIdManager;
  private readonly txns = new Map<string, TransactionMetadata>();
  private active = false;
  private readonly scheduler: Scheduler;
  private readonly tasks: ScheduledTask[] = [];

  constructor(
    private readonly broker: TransactionCoordinatorDeps,
    readonly config: TransactionCoordinatorConfig,
    private readonly time: Time = systemTime,
    /** The broker's scheduler for the periodic timeout and expiry checks; its own on `time` when not given. */
    scheduler?: Scheduler,
  ) {
    this.scheduler = scheduler ?? new Scheduler(time, broker.log);
    this.txnLog = new ReplicaCoordinatorLog(broker.replicaManager, broker.internalTopics, {
      topic: TRANSACTION_STATE_TOPIC_NAME,
      configuredPartitions: config.transactionStateLogNumPartitions,
      segmentBytes: config.transactionStateLogSegmentBytes,
      defaultMaxMessageBytes: config.messageMaxBytes,
      time,
    });
    this.runtime = new CoordinatorRuntime<TransactionShard>({
      name: 'TransactionCoordinator',
      log: this.txnLog,
      time,
      logger: broker.log,
      // Transaction state writes do not wait for their commit yet (see appendTransition).
      writeTimeoutMs: config.transactionMaxTimeoutMs,
      newShard: (partition) =>
        new TransactionShard(partition, this.txns, (id) => this.partitionFor(id), {
          onLoaded: (txns) => {
            if (this.active) this.completeInterrupted(txns);
          },
        }),
    });
    this.producerIds = broker.producerIds ?? new ProducerIdManager(broker.logManager.dataDir);
  }

  get isActive(): boolean {
    return this.active;
  }

  partitionFor(transactionalId: string): number {
    return txnPartitionFor(transactionalId, this.txnLog.numPartitions);
  }

  /** Whether the id's `__transaction_state` partition is loaded here. */
  private owns(transactionalId: string): boolean {
    return this.runtime.isLoaded(this.partitionFor(transactionalId));
  }

  /** The coordinator epoch stamped on markers: the leader epoch of the id's `__transaction_state` partition. */
  private coordinatorEpoch(transactionalId: string): number {
    return this.txnLog.leaderEpoch(this.partitionFor(transactionalId));
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Loads `__transaction_state`, completes interrupted commits/aborts, starts the timers. */
  startup(): void {
    for (let p = 0; p < this.txnLog.numPartitions; p++) this.runtime.load(p);
    this.active = true;
    this.completeInterrupted([...this.txns.values()]);
    this.schedule(
      'transaction.abort.timed.out.transaction.cleanup.interval.ms',
      this.config.abortTimedOutTransactionCleanupIntervalMs,
      () => this.abortTimedOutTransactions(),
    );
    this.schedule(
      'transaction.remove.expired.transaction.cleanup.interval.ms',
      this.config.removeExpiredTransactionalIdCleanupIntervalMs,
      () => this.removeExpiredTransactionalIds(),
    );
  }

  /** PrepareCommit / PrepareAbort found at load get their markers again and complete. */
  private completeInterrupted(txns: readonly TransactionMetadata[]): void {
    for (const txn of txns) {
      if (txn.state === TransactionState.PrepareCommit || txn.state === TransactionState.PrepareAbort) {
        this.broker.log.info(
          `completing ${txn.state} of transactional id ${txn.transactionalId} (producer ${txn.producerId}, epoch ${txn.producerEpoch}) after restart`,
        );
        void this.writeMarkersAndComplete(
          txn,
          txn.state === TransactionState.PrepareCommit ? 'COMMIT' : 'ABORT',
        ).then((error) => {
          if (error !== 'NONE')
            this.broker.log.warn(`completing transactional id ${txn.transactionalId} failed: ${error}`);
        });
      }
    }
  }

  /** Unloads one `__transaction_state` partition (its leadership moved): its ids leave memory. */
  unloadPartition(partition: number): void {
    this.runtime.unload(partition);
  }

  /** Whether this broker coordinates the transactional ids of `partition` now (it is loaded). */
  isPartitionLoaded(partition: number): boolean {
    return this.runtime.isLoaded(partition);
  }

  /** Loads one `__transaction_state` partition by replay, completing what was interrupted. */
  loadPartition(partition: number): void {
    this.runtime.load(partition);
  }

  private schedule(name: string, intervalMs: number, task: () => void): void {
    this.tasks.push(this.scheduler.schedule(name, intervalMs, task));
  }

  shutdown(): void {
    this.active = false;
    for (const t of this.tasks.splice(0)) t.cancel();
    this.runtime.close();
  }

  /**
   * Forgets every transactional id (tombstones written): the broker's `reset()` for tests. Open
   * transactions are aborted first (under a fenced epoch, as on timeout) and interrupted ones
   * completed, so that no partition that survives the reset (`__consumer_offsets`) is left with an
   * open transaction: its last stable offset would stay behind and its producer state would never
   * expire.
   */
  async reset(): Promise<void> {
    const ending: Promise<unknown>[] = [];
    for (const txn of [...this.txns.values()]) {
      if (txn.pendingState !== null) continue;
      if (txn.state === TransactionState.Ongoing) {
        const epoch = txn.isProducerEpochExhausted
          ? txn.producerEpoch
          : txn.prepareFenceProducerEpoch().producerEpoch;
        ending.push(
          this.endTransaction(txn.transactionalId, txn.producerId, epoch, 'ABORT', false).then((error) => {
            if (error !== 'NONE')
              this.broker.log.warn(
                `aborting transactional id ${txn.transactionalId} on reset failed: ${error}`,
              );
          }),
        );
      } else if (
        txn.state === TransactionState.PrepareCommit ||
        txn.state === TransactionState.PrepareAbort
      ) {
        ending.push(
          this.writeMarkersAndComplete(
            txn,
            txn.state === TransactionState.PrepareCommit ? 'COMMIT' : 'ABORT',
          ),
        );
      }
    }
    await Promise.all(ending);
    for (const id of [...this.txns.keys()]) {
      try {
        this.runtime.appendNow(this.partitionFor(id), [transactionLogRecord(id, null)], false);
      } catch (err) {
        this.broker.log.warn(`writing the tombstone of transactional id ${id} failed: ${err}`);
      }
    }
    this.txns.clear();
    this.broker.groupCoordinator.clearPendingTxnOffsets();
  }

  // ---- log writes ----------------------------------------------------------------------------

  /**
   * Writes the transition to `__transaction_state` and applies it once the write is committed
   * (high watermark past it); an error name when it failed. While it is written the id's
   * `pendingState` is set, so other requests for it get CONCURRENT_TRANSACTIONS.
   */
  private async appendTransition(txn: TransactionMetadata, t: TxnTransit): Promise<ErrorName | null> {
    txn.pendingState = t.state;
    try {
      await this.runtime.scheduleWriteOperation(this.partitionFor(txn.transactionalId), () => ({
        records: [transactionLogRecord(txn.transactionalId, t)],
        response: null,
        replayRecords: false,
      }));
    } catch (err) {
      const error = coordinatorErrorOf(err);
      if (error !== 'NOT_COORDINATOR')
        this.broker.log.error(`writing transaction state of ${txn.transactionalId} failed`, err);
      return error;
    } finally {
      txn.pendingState = null;
    }
    txn.completeTransitionTo(t);
    return null;
  }

  // ---- InitProducerId -------------------------------------------------------------------------

  async handleInitProducerId(
    transactionalId: string | null,
    transactionTimeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
  ): Promise<InitProducerIdResult> {
    const fail = (error: ErrorName): InitProducerIdResult => ({
      error,
      producerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
    });
    if (transactionalId === null) {
      return { error: 'NONE', producerId: this.producerIds.generateProducerId(), producerEpoch: 0 };
    }
    if (transactionalId === '') return fail('INVALID_REQUEST');
    if (!this.active) return fail('COORDINATOR_NOT_AVAILABLE');
    if (!this.owns(transactionalId)) return fail('NOT_COORDINATOR');
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.transactionMaxTimeoutMs)
      return fail('INVALID_TRANSACTION_TIMEOUT');
    const now = this.time.now();
    let txn = this.txns.get(transactionalId);
    if (!txn) {
      txn = new TransactionMetadata(
        transactionalId,
        this.producerIds.generateProducerId(),
        NO_PRODUCER_ID,
        NO_PRODUCER_EPOCH,
        NO_PRODUCER_EPOCH,
        transactionTimeoutMs,
        TransactionState.Empty,
        -1,
        now,
      );
      this.txns.set(transactionalId, txn);
    }
    if (txn.pendingState !== null) return fail('CONCURRENT_TRANSACTIONS');
    if (expected !== null) {
      const valid =
        txn.producerEpoch === NO_PRODUCER_EPOCH ||
        expected.producerId === txn.producerId ||
        (expected.producerId === txn.lastProducerId && isEpochExhausted(expected.producerEpoch));
      if (!valid) return fail('PRODUCER_FENCED');
    }
    switch (txn.state) {
      case TransactionState.PrepareAbort:
      case TransactionState.PrepareCommit:
        return fail('CONCURRENT_TRANSACTIONS');
      case TransactionState.Empty:
      case TransactionState.CompleteAbort:
      case TransactionState.CompleteCommit: {
        let t: TxnTransit | ErrorName;
        if (
          txn.isProducerEpochExhausted &&
          (expected === null || expected.producerEpoch === txn.producerEpoch)
        ) {
          t = txn.prepareProducerIdRotation(
            this.producerIds.generateProducerId(),
            transactionTimeoutMs,
            now,
            expected !== null,
          );
        } else {
          t = txn.prepareIncrementProducerEpoch(transactionTimeoutMs, expected?.producerEpoch ?? null, now);
        }
        if (typeof t === 'string') return fail(t);
        const err = await this.appendTransition(txn, t);
        if (err) return fail(err);
        this.broker.log.info(
          `initialized transactional id ${transactionalId} with producer id ${txn.producerId} and epoch ${txn.producerEpoch}`,
        );
        return { error: 'NONE', producerId: txn.producerId, producerEpoch: txn.producerEpoch };
      }
      case TransactionState.Ongoing: {
        // Abort the ongoing transaction under a fenced (bumped) epoch; the client retries and then
        // gets the epoch bumped once more.
        const fence = txn.prepareFenceProducerEpoch();
        const err = await this.endTransaction(
          transactionalId,
          txn.producerId,
          fence.producerEpoch,
          'ABORT',
          false,
        );
        return fail(err === 'NONE' ? 'CONCURRENT_TRANSACTIONS' : err);
      }
      default:
        throw new Error(`transactional id ${transactionalId} found in illegal state ${txn.state}`);
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn --------------------------------------------------

  async handleAddPartitionsToTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: ReadonlyMap<string, ReadonlySet<number>>,
  ): Promise<ErrorName> {
    if (!transactionalId) return 'INVALID_REQUEST';
    if (!this.active) return 'COORDINATOR_NOT_AVAILABLE';
    if (!this.owns(transactionalId)) return 'NOT_COORDINATOR';
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId) return 'INVALID_PRODUCER_ID_MAPPING';
    if (txn.producerEpoch !== producerEpoch) return 'PRODUCER_FENCED';
    if (
      txn.pendingState !== null ||
      txn.state === TransactionState.PrepareCommit ||
      txn.state === TransactionState.PrepareAbort
    )
      return 'CONCURRENT_TRANSACTIONS';
    if (txn.state === TransactionState.Ongoing && txn.containsAll(partitions)) return 'NONE';
    return (
      (await this.appendTransition(txn, txn.prepareAddPartitions(partitions, this.time.now()))) ?? 'NONE'
    );
  }

  /** AddOffsetsToTxn: adds the group's `__consumer_offsets` partition to the transaction. */
  handleAddOffsetsToTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): Promise<ErrorName> {
    const gc = this.broker.groupCoordinator;
    try {
      gc.ensureOffsetsTopic();
    } catch (err) {
      this.broker.log.error('creating __consumer_offsets failed', err);
      return Promise.resolve('COORDINATOR_NOT_AVAILABLE');
    }
    const partitions = new Map([[GROUP_METADATA_TOPIC_NAME, new Set([gc.partitionFor(groupId)])]]);
    return this.handleAddPartitionsToTransaction(transactionalId, producerId, producerEpoch, partitions);
  }

  // ---- EndTxn ----------------------------------------------------------------------------------

  async handleEndTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    result: TransactionResult,
  ): Promise<ErrorName> {
    if (!this.active) return 'COORDINATOR_NOT_AVAILABLE';
    if (transactionalId && !this.owns(transactionalId)) return 'NOT_COORDINATOR';
    return this.endTransaction(transactionalId, producerId, producerEpoch, result, true);
  }

  private async endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    result: TransactionResult,
    isFromClient: boolean,
  ): Promise<ErrorName> {
    if (!transactionalId) return 'INVALID_REQUEST';
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId) return 'INVALID_PRODUCER_ID_MAPPING';
    if ((isFromClient && producerEpoch !== txn.producerEpoch) || producerEpoch < txn.producerEpoch)
      return 'PRODUCER_FENCED';
    if (txn.pendingState !== null) return 'CONCURRENT_TRANSACTIONS';
    const commit = result === 'COMMIT';
    switch (txn.state) {
      case TransactionState.Ongoing: {
        const fenceEpoch = !isFromClient && producerEpoch > txn.producerEpoch ? producerEpoch : undefined;
        const t = txn.prepareAbortOrCommit(
          commit ? 'PrepareCommit' : 'PrepareAbort',
          this.time.now(),
          fenceEpoch,
        );
        const err = await this.appendTransition(txn, t);
        if (err) return err;
        return this.writeMarkersAndComplete(txn, result);
      }
      case TransactionState.CompleteCommit:
        return commit ? 'NONE' : 'INVALID_TXN_STATE';
      case TransactionState.CompleteAbort:
        return commit ? 'INVALID_TXN_STATE' : 'NONE';
      case TransactionState.PrepareCommit:
        return commit ? 'CONCURRENT_TRANSACTIONS' : 'INVALID_TXN_STATE';
      case TransactionState.PrepareAbort:
        return commit ? 'INVALID_TXN_STATE' : 'CONCURRENT_TRANSACTIONS';
      case TransactionState.Empty:
        return 'INVALID_TXN_STATE';
      default:
        throw new Error(`transactional id ${transactionalId} found in illegal state ${txn.state}`);
    }
  }

  /**
   * Writes the markers of a transaction in PrepareCommit/PrepareAbort to each of its partitions (a
   * partition that no longer exists is skipped, as Kafka drops markers for UNKNOWN_TOPIC_OR_PARTITION),
   * then records CompleteCommit/CompleteAbort.
   */
  private async writeMarkersAndComplete(
    txn: TransactionMetadata,
    result: TransactionResult,
  ): Promise<ErrorName> {
    const coordinatorEpoch = this.coordinatorEpoch(txn.transactionalId);
    const rm = this.broker.replicaManager;
    const offsetsMarkers: Promise<void>[] = [];
    // The transition to Complete* is being prepared: nothing else may start meanwhile.
    txn.pendingState = result === 'COMMIT' ? TransactionState.CompleteCommit : TransactionState.CompleteAbort;
    for (const [topic, partitions] of txn.topicPartitions) {
      for (const index of partitions) {
        const partition = rm.getPartition(topic, index);
        if (!partition) {
          this.broker.log.warn(
            `not writing the ${result} marker of transactional id ${txn.transactionalId} to ${topic}-${index}: UNKNOWN_TOPIC_OR_PARTITION`,
          );
          continue;
        }
        const failed = (err: unknown) => {
          const why = err instanceof KafkaError ? err.error : String(err);
          this.broker.log.error(
            `writing the ${result} marker of transactional id ${txn.transactionalId} to ${topic}-${index} failed: ${why}`,
          );
        };
        const producer = { producerId: txn.producerId, producerEpoch: txn.producerEpoch };
        if (topic === GROUP_METADATA_TOPIC_NAME) {
          // The group coordinator writes it through its runtime: replaying it completes the
          // transaction's offsets there.
          offsetsMarkers.push(
            this.broker.groupCoordinator
              .completeTransaction(index, producer, result, coordinatorEpoch)
              .catch(failed),
          );
          continue;
        }
        try {
          partition.appendEndTxnMarker(result, txn.producerId, txn.producerEpoch, coordinatorEpoch);
        } catch (err) {
          failed(err);
        }
      }
    }
    // Complete once the markers on __consumer_offsets are committed (the others are written).
    await Promise.all(offsetsMarkers);
    txn.pendingState = null;
    return (await this.appendTransition(txn, txn.prepareComplete(this.time.now()))) ?? 'NONE';
  }

  // ---- TxnOffsetCommit ------------------------------------------------------------------------

  /**
   * Stages offsets for the group inside the producer's transaction: checked against the transaction
   * (its `__consumer_offsets` partition must have been added) and the group, written to
   * `__consumer_offsets` in a transactional batch, made visible by the COMMIT marker.
   * Returns one error per partition, in order.
   */
  handleTxnOffsetCommit(
    transactionalId: string,
    groupId: string,
    producerId: number,
    producerEpoch: number,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    offsets: readonly TxnOffsetCommitPartition[],
  ): Promise<ErrorName[]> {
    const all = (error: ErrorName) => offsets.map(() => error);
    const gc = this.broker.groupCoordinator;
    if (!this.active || !gc.isActive) return Promise.resolve(all('COORDINATOR_NOT_AVAILABLE'));
    const inTxn = this.verifyInTransaction(
      transactionalId,
      producerId,
      producerEpoch,
      GROUP_METADATA_TOPIC_NAME,
      gc.partitionFor(groupId),
    );
    if (inTxn) return Promise.resolve(all(inTxn));
    return gc.commitTxnOffsets(
      groupId,
      { producerId, producerEpoch },
      memberId,
      groupInstanceId,
      generationId,
      offsets,
    );
  }

  // ---- verification ---------------------------------------------------------------------------

  /** Whether `topic-partition` is in this producer's ongoing transaction (null) or why not. */
  private verifyInTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): ErrorName | null {
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId) return 'INVALID_PRODUCER_ID_MAPPING';
    if (producerEpoch !== txn.producerEpoch) return 'INVALID_PRODUCER_EPOCH';
    if (txn.state !== TransactionState.Ongoing || !txn.hasPartition(topic, partition))
      return 'INVALID_TXN_STATE';
    return null;
  }

  /**
   * Produce of a transactional batch (Kafka 3.6+ transaction verification): the partition must be in
   * the producer's ongoing transaction, so no transaction is opened where no marker will follow.
   */
  verifyTransactionalProduce(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): ErrorName | null {
    return this.verifyInTransaction(transactionalId, producerId, producerEpoch, topic, partition);
  }

  // ---- timers ------------------------------------------------------------------------------------

  /** Aborts, under a bumped epoch, every transaction open longer than its timeout. */
  abortTimedOutTransactions(): void {
    if (!this.active) return;
    const now = this.time.now();
    for (const txn of [...this.txns.values()]) {
      if (txn.state !== TransactionState.Ongoing || txn.txnStartTimestamp + txn.txnTimeoutMs >= now) continue;
      if (txn.pendingState !== null) continue;
      const epoch = txn.isProducerEpochExhausted
        ? txn.producerEpoch
        : txn.prepareFenceProducerEpoch().producerEpoch;
      void this.endTransaction(txn.transactionalId, txn.producerId, epoch, 'ABORT', false).then((error) => {
        if (error === 'NONE') {
          this.broker.log.info(
            `aborted the transaction of transactional id ${txn.transactionalId} after its timeout of ${txn.txnTimeoutMs} ms`,
          );
        } else {
          this.broker.log.warn(`rollback of transactional id ${txn.transactionalId} failed: ${error}`);
        }
      });
    }
  }

  /** Removes ids idle (no transaction) for longer than `transactional.id.expiration.ms`. */
  removeExpiredTransactionalIds(): void {
    const now = this.time.now();
    for (const txn of [...this.txns.values()]) {
      const idle =
        txn.state === TransactionState.Empty ||
        txn.state === TransactionState.CompleteCommit ||
        txn.state === TransactionState.CompleteAbort;
      if (!idle || txn.pendingState !== null) continue;
      if (txn.txnLastUpdateTimestamp + this.config.transactionalIdExpirationMs > now) continue;
      try {
        txn.prepareDead();
        this.runtime.appendNow(
          this.partitionFor(txn.transactionalId),
          [transactionLogRecord(txn.transactionalId, null)],
          false,
        );
        this.txns.delete(txn.transactionalId);
      } catch (err) {
        this.broker.log.warn(`expiring transactional id ${txn.transactionalId} failed: ${err}`);
      }
    }
  }

  // ---- describe / list ---------------------------------------------------------------------------

  describeTransaction(transactionalId: string): DescribedTransaction {
    const base: DescribedTransaction = {
      error: 'NONE',
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: -1,
      producerId: -1,
      producerEpoch: -1,
      topics: [],
    };
    if (!this.active) return { ...base, error: 'COORDINATOR_NOT_AVAILABLE' };
    if (transactionalId === '') return { ...base, error: 'INVALID_REQUEST' };
    if (!this.owns(transactionalId)) return { ...base, error: 'NOT_COORDINATOR' };
    const txn = this.txns.get(transactionalId);
    if (!txn) return { ...base, error: 'TRANSACTIONAL_ID_NOT_FOUND' };
    return {
      ...base,
      transactionState: txn.state,
      transactionTimeoutMs: txn.txnTimeoutMs,
      transactionStartTimeMs: txn.txnStartTimestamp,
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      topics: [...txn.topicPartitions].map(([topic, ps]) => ({
        topic,
        partitions: [...ps].sort((a, b) => a - b),
      })),
    };
  }

  listTransactions(
    stateFilters: readonly string[],
    producerIdFilters: readonly number[],
    durationFilterMs: number,
  ): {
    error: ErrorName;
    unknownStateFilters: string[];
    transactionStates: { transactionalId: string; producerId: number; transactionState: string }[];
  } {
    if (!this.active)
      return {
        error: 'COORDINATOR_NOT_AVAILABLE',
        unknownStateFilters: [],
        transactionStates: [],
      };
    const known = new Set<string>(Object.values(TransactionState));
    const unknownStateFilters = stateFilters.filter((s) => !known.has(s));
    const states = new Set(stateFilters.filter((s) => known.has(s)));
    const pids = new Set(producerIdFilters);
    const now = this.time.now();
    const transactionStates = [...this.txns.values()]
      .filter(
        (t) =>
          (stateFilters.length === 0 || states.has(t.state)) && (pids.size === 0 || pids.has(t.producerId)),
      )
      .filter(
        (t) =>
          durationFilterMs < 0 || (t.txnStartTimestamp >= 0 && now - t.txnStartTimestamp >= durationFilterMs),
      )
      .map((t) => ({
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        transactionState: t.state,
      }));
    return { error: 'NONE', unknownStateFilters, transactionStates };
  }

  /** For tests and DescribeTransactions-like views. */
  transaction(transactionalId: string): TransactionMetadata | undefined {
    return this.txns.get(transactionalId);
  }
}

/** Partitions named by a request, as a map of sets. */
export function partitionMap(
  topics: readonly { name: string; partitions: readonly number[] }[],
): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const t of topics) {
    let set = out.get(t.name);
    if (!set) {
      set = new Set();
      out.set(t.name, set);
    }
    for (const p of t.partitions) set.add(p);
  }
  return out;
}
