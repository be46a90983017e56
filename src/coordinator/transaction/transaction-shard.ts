/**
 * The runtime's shard of one `__transaction_state` partition: replaying its records rebuilds the
 * transactional ids that hash there (Kafka's TransactionStateManager loading a partition). A
 * record holds an id's latest state; a tombstone, or the Dead state, forgets the id.
 *
 * Live transitions are written without replay: the coordinator applies them to the id's
 * in-memory metadata once the append succeeded (`completeTransitionTo`), which also keeps what is
 * not persisted (the previous producer id a retried InitProducerId may present).
 */
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import type { CoordinatorShard } from '../runtime/coordinator-runtime.js';
import { decodeTransactionLogKey, decodeTransactionLogValue, TransactionState } from './transaction-log.js';
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TransactionMetadata } from './transaction-metadata.js';

export interface TransactionShardHooks {
  /** The partition is loaded with these ids (the coordinator completes interrupted commits/aborts). */
  onLoaded(txns: TransactionMetadata[]): void;
}

export class TransactionShard implements CoordinatorShard {
  constructor(
    readonly partition: number,
    private readonly txns: Map<string, TransactionMetadata>,
    private readonly partitionFor: (transactionalId: string) => number,
    private readonly hooks: TransactionShardHooks,
  ) {}

  /** The ids that live in this partition. */
  transactions(): TransactionMetadata[] {
    return [...this.txns.values()].filter((t) => this.partitionFor(t.transactionalId) === this.partition);
  }

  replay(record: CoordinatorRecord): void {
    const id = decodeTransactionLogKey(record.key);
    const e = record.value === null ? null : decodeTransactionLogValue(record.value);
    if (e === null || e.state === TransactionState.Dead) {
      this.txns.delete(id);
      return;
    }
    const txn = new TransactionMetadata(
      id,
      e.producerId,
      NO_PRODUCER_ID,
      e.producerEpoch,
      NO_PRODUCER_EPOCH,
      e.txnTimeoutMs,
      e.state,
      e.txnStartTimestamp,
      e.txnLastUpdateTimestamp,
    );
    txn.clientTransactionVersion = e.clientTransactionVersion ?? 0;
    for (const [t, ps] of e.topicPartitions) txn.topicPartitions.set(t, new Set(ps));
    this.txns.set(id, txn);
  }

  replayEndTransactionMarker(): void {
    // `__transaction_state` holds no transactional batches.
  }

  onLoaded(): void {
    this.hooks.onLoaded(this.transactions());
  }

  onUnloaded(): void {
    for (const t of this.transactions()) this.txns.delete(t.transactionalId);
  }
}
