/**
 * The transaction coordinator, as Kafka's TransactionCoordinator + TransactionStateManager:
 * transactional id → producer id and epoch, kept in `__transaction_state`.
 *
 * - InitProducerId: no transactional id → a fresh producer id at epoch 0 (idempotent producers);
 *   otherwise the epoch is bumped (fencing zombies), the producer id rotated when the epoch is
 *   exhausted, and an ongoing transaction is first aborted under a fenced epoch, answering
 *   CONCURRENT_TRANSACTIONS so the client retries.
 * - AddPartitionsToTxn / AddOffsetsToTxn: Empty/Complete* → Ongoing with the partitions.
 * - EndTxn: Ongoing → PrepareCommit/PrepareAbort (written), then the COMMIT/ABORT markers are written
 *   to every partition of the transaction, `__consumer_offsets` included (which makes the staged
 *   transactional offsets visible on commit), then CompleteCommit/CompleteAbort (written). Markers
 *   go to each partition's current leader (WriteTxnMarkers, txn-marker-channel.ts; in place for this
 *   broker's own), retried until written; EndTxn answers once the transaction is complete.
 * - Transactions V2 (KIP-890 part 2; EndTxn v5, the client's version stored with the transaction):
 *   the producer epoch is bumped with PrepareCommit/PrepareAbort and returned; partitions are added
 *   by their leaders (AddPartitionsToTxn v4+ without VerifyOnly) instead of the client.
 * - Produce verification (Kafka 3.6+): a partition leader asks whether its partition is in the
 *   producer's transaction, here or on the coordinator's broker (AddPartitionsToTxn v5, VerifyOnly).
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
import { type ErrorName, errorName } from '../../protocol/generated/errors.js';
import type {
  AddPartitionsToTxnRequestData,
  AddPartitionsToTxnResponseData,
} from '../../protocol/generated/messages.js';
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
import {
  type InterBrokerView,
  type TopicPartitionRef,
  type TxnMarker,
  TxnMarkerChannel,
} from './txn-marker-channel.js';

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
  /**
   * The cluster as the coordinator sees it: partition leaders and requests to other brokers (markers
   * to the leaders of a transaction's partitions, verification by the coordinator of a transactional
   * id on another broker). Without it the broker is alone and leads every partition it has.
   */
  readonly interBroker?: InterBrokerView;
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
  /** request.timeout.ms: how long a marker waits for its replication, and a request to another broker. */
  requestTimeoutMs?: number;
}

/** Kafka's retry.backoff.ms default: the pause before markers are sent again to partitions that failed. */
const MARKER_RETRY_BACKOFF_MS = 100;
const ADD_PARTITIONS_TO_TXN = 24;
/** The broker-to-broker AddPartitionsToTxn: v4 batches transactions and may verify only; v5 may answer TRANSACTION_ABORTABLE. */
const ADD_PARTITIONS_TO_TXN_BROKER_VERSION = 5;

export type TransactionResult = 'COMMIT' | 'ABORT';

export interface InitProducerIdResult {
  error: ErrorName;
  producerId: number;
  producerEpoch: number;
}

export interface EndTxnResult {
  error: ErrorName;
  /** The producer id and epoch the producer continues with (bumped for transactions V2). */
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
  private readonly markers: TxnMarkerChannel;

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
    this.markers = new TxnMarkerChannel({
      view: broker.interBroker,
      nodeId: broker.interBroker?.nodeId ?? -1,
      writeLocal: (marker, targets) => this.writeTxnMarkersAsLeader(marker, targets),
      topicExists: (topic) =>
        broker.interBroker ? broker.interBroker.leaderOf(topic, 0) !== undefined : true,
      time,
      log: broker.log,
      retryBackoffMs: MARKER_RETRY_BACKOFF_MS,
    });
  }

  private get requestTimeoutMs(): number {
    return this.config.requestTimeoutMs ?? 30_000;
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

  /** Settles once the producer id block being reserved in the background (if any) is written. */
  backgroundSettled(): Promise<void> {
    return this.producerIds.settled();
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

  /**
   * `clientTransactionVersion` 2 when a partition leader adds the partitions for a transactions V2
   * producer (AddPartitionsToTxn v4+ without VerifyOnly): recorded with the transaction, so that
   * its EndTxn bumps the epoch.
   */
  async handleAddPartitionsToTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: ReadonlyMap<string, ReadonlySet<number>>,
    clientTransactionVersion?: number,
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
      (await this.appendTransition(
        txn,
        txn.prepareAddPartitions(partitions, this.time.now(), clientTransactionVersion),
      )) ?? 'NONE'
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
    return (await this.handleEndTransactionVersioned(transactionalId, producerId, producerEpoch, result, 0))
      .error;
  }

  /**
   * EndTxn with the client's transaction version (2 from EndTxn v5+, KIP-890): a V2 transaction
   * gets its producer epoch bumped with PrepareCommit/PrepareAbort, and the answer carries the
   * producer id and epoch to use next (a retried V2 EndTxn, presenting the epoch before the bump,
   * is recognised).
   */
  async handleEndTransactionVersioned(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    result: TransactionResult,
    clientTransactionVersion: number,
  ): Promise<EndTxnResult> {
    const fail = (error: ErrorName): EndTxnResult => ({
      error,
      producerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
    });
    if (!this.active) return fail('COORDINATOR_NOT_AVAILABLE');
    if (transactionalId && !this.owns(transactionalId)) return fail('NOT_COORDINATOR');
    const error = await this.endTransaction(
      transactionalId,
      producerId,
      producerEpoch,
      result,
      true,
      clientTransactionVersion,
    );
    const txn = this.txns.get(transactionalId);
    if (error !== 'NONE' || !txn) return fail(error);
    return { error, producerId: txn.producerId, producerEpoch: txn.producerEpoch };
  }

  private async endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    result: TransactionResult,
    isFromClient: boolean,
    clientTransactionVersion?: number,
  ): Promise<ErrorName> {
    if (!transactionalId) return 'INVALID_REQUEST';
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId) return 'INVALID_PRODUCER_ID_MAPPING';
    const commit = result === 'COMMIT';
    // Transactions V2 (the stored client version): the epoch moved on with the last EndTxn, so a
    // retry of it presents the epoch before the bump (Kafka's endTxnEpochBumped).
    const v2 = isFromClient && txn.clientTransactionVersion >= 2;
    const retryOnEpochBump = v2 && txn.producerEpoch === producerEpoch + 1;
    // Transactions V2: aborting a transaction nothing was added to is legal and bumps the epoch (a
    // V2 client does so when all its produces failed, clearing what a leader may have registered).
    const idle =
      txn.state === TransactionState.Empty ||
      txn.state === TransactionState.CompleteCommit ||
      txn.state === TransactionState.CompleteAbort;
    if (
      isFromClient &&
      (clientTransactionVersion ?? 0) >= 2 &&
      !commit &&
      idle &&
      producerEpoch === txn.producerEpoch &&
      txn.pendingState === null
    ) {
      if (txn.isProducerEpochExhausted) return 'PRODUCER_FENCED';
      const err = await this.appendTransition(
        txn,
        txn.prepareAbortOrCommit('PrepareAbort', this.time.now(), undefined, 2),
      );
      if (err) return err;
      return this.writeMarkersAndComplete(txn, result);
    }
    if (v2) {
      const valid =
        txn.state === TransactionState.Ongoing || txn.state === TransactionState.Empty
          ? producerEpoch === txn.producerEpoch
          : retryOnEpochBump;
      if (!valid) return 'PRODUCER_FENCED';
    } else if ((isFromClient && producerEpoch !== txn.producerEpoch) || producerEpoch < txn.producerEpoch) {
      return 'PRODUCER_FENCED';
    }
    if (txn.pendingState !== null) return 'CONCURRENT_TRANSACTIONS';
    switch (txn.state) {
      case TransactionState.Ongoing: {
        const fenceEpoch = !isFromClient && producerEpoch > txn.producerEpoch ? producerEpoch : undefined;
        // A V2 epoch bump past the last usable epoch would need a new producer id (Kafka rotates
        // it); refused here instead, the producer then re-initializes.
        const tv = clientTransactionVersion ?? txn.clientTransactionVersion;
        if (fenceEpoch === undefined && tv >= 2 && txn.isProducerEpochExhausted) return 'PRODUCER_FENCED';
        const t = txn.prepareAbortOrCommit(
          commit ? 'PrepareCommit' : 'PrepareAbort',
          this.time.now(),
          fenceEpoch,
          fenceEpoch === undefined ? tv : txn.clientTransactionVersion,
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
   * Writes the markers of a transaction in PrepareCommit/PrepareAbort to each of its partitions'
   * leaders (this broker's own in place, the others with WriteTxnMarkers; a partition that no longer
   * exists is skipped, as Kafka drops markers for deleted topics), then records
   * CompleteCommit/CompleteAbort. When this broker stops coordinating the id meanwhile (its
   * `__transaction_state` partition moved), nothing completes here: the new coordinator finds the
   * transaction prepared when it loads and sends the markers again.
   */
  private async writeMarkersAndComplete(
    txn: TransactionMetadata,
    result: TransactionResult,
  ): Promise<ErrorName> {
    const id = txn.transactionalId;
    const coordinatorEpoch = this.coordinatorEpoch(id);
    const targets: TopicPartitionRef[] = [];
    for (const [topic, partitions] of txn.topicPartitions)
      for (const partition of partitions) targets.push({ topic, partition });
    // The transition to Complete* is being prepared: nothing else may start meanwhile.
    txn.pendingState = result === 'COMMIT' ? TransactionState.CompleteCommit : TransactionState.CompleteAbort;
    let outcome: Awaited<ReturnType<TxnMarkerChannel['send']>>;
    try {
      outcome = await this.markers.send(
        {
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          result,
          coordinatorEpoch,
          transactionVersion: txn.clientTransactionVersion,
        },
        targets,
        () =>
          this.active &&
          this.txns.get(id) === txn &&
          this.owns(id) &&
          this.coordinatorEpoch(id) === coordinatorEpoch,
        `transactional id ${id}`,
      );
    } finally {
      txn.pendingState = null;
    }
    if (outcome !== 'written') return 'NOT_COORDINATOR';
    return (await this.appendTransition(txn, txn.prepareComplete(this.time.now()))) ?? 'NONE';
  }

  /**
   * WriteTxnMarkers on a partition leader (Kafka's KafkaApis.handleWriteTxnMarkersRequest): each
   * partition gets the COMMIT/ABORT control batch, `__consumer_offsets` through the group
   * coordinator (which makes the transaction's offsets visible or drops them); the answer waits for
   * the marker to be replicated to the ISR (acks=all), so a marker acknowledged to the coordinator
   * survives a leader change. One error per target, in order.
   */
  async writeTxnMarkersAsLeader(
    marker: TxnMarker,
    targets: readonly TopicPartitionRef[],
  ): Promise<ErrorName[]> {
    const rm = this.broker.replicaManager;
    const producer = { producerId: marker.producerId, producerEpoch: marker.producerEpoch };
    return Promise.all(
      targets.map(async ({ topic, partition: index }): Promise<ErrorName> => {
        const partition = rm.getPartition(topic, index);
        if (!partition) return 'UNKNOWN_TOPIC_OR_PARTITION';
        if (!partition.isLeader) return 'NOT_LEADER_OR_FOLLOWER';
        try {
          if (topic === GROUP_METADATA_TOPIC_NAME) {
            // The group coordinator writes it through its runtime: replaying it completes the
            // transaction's offsets there (and its write waits for the high watermark).
            await this.broker.groupCoordinator.completeTransaction(
              index,
              producer,
              marker.result,
              marker.coordinatorEpoch,
            );
            return 'NONE';
          }
          const info = partition.appendEndTxnMarker(
            marker.result,
            marker.producerId,
            marker.producerEpoch,
            marker.coordinatorEpoch,
          );
          const minIsr = Number(rm.topicConfig(topic)?.['min.insync.replicas'] ?? 1);
          return await this.awaitReplicated(partition, info.lastOffset + 1, minIsr);
        } catch (err) {
          const error = err instanceof KafkaError ? err.error : coordinatorErrorOf(err);
          if (error === 'UNKNOWN_SERVER_ERROR')
            this.broker.log.error(`writing the ${marker.result} marker to ${topic}-${index} failed`, err);
          return error;
        }
      }),
    );
  }

  /** Waits until the high watermark reaches `offset` with enough in-sync replicas (acks=all), or request.timeout.ms. */
  private awaitReplicated(
    partition: NonNullable<ReturnType<ReplicaManager['getPartition']>>,
    offset: number,
    minIsr: number,
  ): Promise<ErrorName> {
    const first = partition.checkEnoughReplicasReachOffset(offset, minIsr);
    if (first.done) return Promise.resolve(first.error);
    return new Promise((resolve) => {
      let stop: () => void = () => {};
      const timer = this.time.setTimeout(() => {
        stop();
        resolve('REQUEST_TIMED_OUT');
      }, this.requestTimeoutMs);
      stop = partition.onAppend(() => {
        const r = partition.checkEnoughReplicasReachOffset(offset, minIsr);
        if (!r.done) return;
        stop();
        timer.cancel();
        resolve(r.error);
      });
    });
  }

  // ---- TxnOffsetCommit ------------------------------------------------------------------------

  /**
   * Stages offsets for the group inside the producer's transaction: checked against the transaction
   * (its `__consumer_offsets` partition must have been added) and the group, written to
   * `__consumer_offsets` in a transactional batch, made visible by the COMMIT marker.
   * Returns one error per partition, in order.
   */
  async handleTxnOffsetCommit(
    transactionalId: string,
    groupId: string,
    producerId: number,
    producerEpoch: number,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    offsets: readonly TxnOffsetCommitPartition[],
    add = false,
  ): Promise<ErrorName[]> {
    const all = (error: ErrorName) => offsets.map(() => error);
    const gc = this.broker.groupCoordinator;
    if (!this.active || !gc.isActive) return all('COORDINATOR_NOT_AVAILABLE');
    // The transaction's coordinator may be another broker (this one is the group's): it is asked
    // whether the group's partition is in the transaction, or (transactions V2) to add it.
    const [verified] = await this.verifyOrAdd(
      transactionalId,
      producerId,
      producerEpoch,
      [{ topic: GROUP_METADATA_TOPIC_NAME, partition: gc.partitionFor(groupId) }],
      add,
    );
    switch (verified) {
      case 'NONE':
        break;
      case 'PRODUCER_FENCED':
        return all('INVALID_PRODUCER_EPOCH');
      case 'TRANSACTION_ABORTABLE':
        return all('INVALID_TXN_STATE');
      case 'NETWORK_EXCEPTION':
      case 'NOT_COORDINATOR':
      case 'COORDINATOR_NOT_AVAILABLE':
        // The transaction coordinator is moving: the client retries (not a group coordinator change).
        return all('COORDINATOR_LOAD_IN_PROGRESS');
      default:
        return all(verified ?? 'UNKNOWN_SERVER_ERROR');
    }
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

  /**
   * AddPartitionsToTxn v4+ with VerifyOnly, on the coordinator (Kafka's
   * handleVerifyPartitionsInTransaction): whether each partition is in the producer's transaction
   * (TRANSACTION_ABORTABLE when not), or one error for all (unknown id or producer id, fenced epoch,
   * a transaction being completed).
   */
  handleVerifyPartitionsInTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    targets: readonly TopicPartitionRef[],
  ): ErrorName[] {
    const all = (error: ErrorName) => targets.map(() => error);
    if (!transactionalId) return all('INVALID_REQUEST');
    if (!this.active) return all('COORDINATOR_NOT_AVAILABLE');
    if (!this.owns(transactionalId)) return all('NOT_COORDINATOR');
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId) return all('INVALID_PRODUCER_ID_MAPPING');
    if (txn.producerEpoch !== producerEpoch) return all('PRODUCER_FENCED');
    if (txn.state === TransactionState.PrepareCommit || txn.state === TransactionState.PrepareAbort)
      return all('CONCURRENT_TRANSACTIONS');
    return targets.map(({ topic, partition }) =>
      txn.state === TransactionState.Ongoing && txn.hasPartition(topic, partition)
        ? 'NONE'
        : 'TRANSACTION_ABORTABLE',
    );
  }

  /**
   * Produce of a transactional batch on a partition leader (Kafka 3.6+ verification, the
   * AddPartitionsToTxnManager): asks the coordinator of the transactional id — this broker's own, or
   * another broker with AddPartitionsToTxn v5 — whether the partitions are in the producer's ongoing
   * transaction (`add`: adds them, for transactions V2 producers, which send no AddPartitionsToTxn).
   * One error per target, as the AddPartitionsToTxnManager hands them to the produce path:
   * PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH, a failed request NETWORK_EXCEPTION, no
   * coordinator known COORDINATOR_NOT_AVAILABLE.
   */
  async verifyTransactionalProduce(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    targets: readonly TopicPartitionRef[],
    add = false,
  ): Promise<ErrorName[]> {
    const errors = await this.verifyOrAdd(transactionalId, producerId, producerEpoch, targets, add);
    return errors.map((e) => (e === 'PRODUCER_FENCED' ? 'INVALID_PRODUCER_EPOCH' : e));
  }

  private async verifyOrAdd(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    targets: readonly TopicPartitionRef[],
    add: boolean,
  ): Promise<ErrorName[]> {
    const all = (error: ErrorName) => targets.map(() => error);
    const view = this.broker.interBroker;
    const coordinator = view?.leaderOf(TRANSACTION_STATE_TOPIC_NAME, this.partitionFor(transactionalId));
    if (view === undefined || coordinator === view.nodeId || this.owns(transactionalId)) {
      if (!add)
        return this.handleVerifyPartitionsInTransaction(transactionalId, producerId, producerEpoch, targets);
      const partitions = new Map<string, Set<number>>();
      for (const { topic, partition } of targets) {
        const set = partitions.get(topic) ?? new Set<number>();
        set.add(partition);
        partitions.set(topic, set);
      }
      return all(
        await this.handleAddPartitionsToTransaction(
          transactionalId,
          producerId,
          producerEpoch,
          partitions,
          2,
        ),
      );
    }
    if (coordinator === undefined || coordinator < 0) return all('COORDINATOR_NOT_AVAILABLE');
    const topics = new Map<string, number[]>();
    for (const { topic, partition } of targets) topics.set(topic, [...(topics.get(topic) ?? []), partition]);
    let response: AddPartitionsToTxnResponseData;
    try {
      response = await view.send<AddPartitionsToTxnResponseData>(
        coordinator,
        ADD_PARTITIONS_TO_TXN,
        ADD_PARTITIONS_TO_TXN_BROKER_VERSION,
        {
          transactions: [
            {
              transactionalId,
              producerId,
              producerEpoch,
              verifyOnly: !add,
              topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
            },
          ],
        } satisfies AddPartitionsToTxnRequestData,
      );
    } catch (err) {
      this.broker.log.warn(`AddPartitionsToTxn to broker ${coordinator} failed: ${err}`);
      return all('NETWORK_EXCEPTION');
    }
    const top = response.errorCode ?? 0;
    if (top !== 0) {
      // The client is not told the brokers' own authorization failed: the verification did not complete.
      const name = errorName(top) ?? 'UNKNOWN_SERVER_ERROR';
      return all(name === 'CLUSTER_AUTHORIZATION_FAILED' ? 'INVALID_TXN_STATE' : name);
    }
    const codes = new Map<string, number>();
    for (const r of response.resultsByTransaction ?? [])
      if (r.transactionalId === transactionalId)
        for (const t of r.topicResults)
          for (const p of t.resultsByPartition)
            codes.set(`${t.name}\u0000${p.partitionIndex}`, p.partitionErrorCode);
    return targets.map(({ topic, partition }) => {
      const code = codes.get(`${topic}\u0000${partition}`);
      return code === undefined ? 'UNKNOWN_SERVER_ERROR' : (errorName(code) ?? 'UNKNOWN_SERVER_ERROR');
    });
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
