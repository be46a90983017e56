/**
 * One transactional id's state, as Kafka's TransactionMetadata: producer id and epoch (with the
 * previous ones, so a retried epoch bump is recognised), timeout, state, partitions and timestamps.
 * Transitions are prepared as a new TransactionLogEntry (Kafka's TxnTransitMetadata), written to
 * `__transaction_state`, and only then applied with `completeTransitionTo`; an illegal transition
 * (not in Kafka's valid previous states) throws.
 */
import type { ErrorName } from '../../protocol/generated/errors.js';
import { type TransactionLogEntry, TransactionState } from './transaction-log.js';

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 32767;

/** Kafka's TransactionState.validPreviousStates. */
const VALID_PREVIOUS_STATES: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  // Empty/Complete*: a transactions V2 abort of a transaction nothing was added to (KIP-890).
  PrepareAbort: ['Ongoing', 'PrepareEpochFence', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteAbort', 'CompleteCommit'],
  PrepareEpochFence: ['Ongoing'],
};

export function isEpochExhausted(epoch: number): boolean {
  return epoch >= SHORT_MAX - 1;
}

export interface TxnTransit extends TransactionLogEntry {
  lastProducerId: number;
  lastProducerEpoch: number;
}

const copyPartitions = (m: ReadonlyMap<string, ReadonlySet<number>>): Map<string, Set<number>> =>
  new Map([...m].map(([t, ps]) => [t, new Set(ps)]));

export class TransactionMetadata {
  topicPartitions = new Map<string, Set<number>>();
  /** A failed epoch-fence write leaves the bumped epoch; the next fence reuses it (Kafka's hasFailedEpochFence). */
  hasFailedEpochFence = false;
  /**
   * The state a transition being written moves to, until its write is committed or fails (Kafka's
   * pendingState): meanwhile requests for the id get CONCURRENT_TRANSACTIONS.
   */
  pendingState: TransactionState | null = null;
  /** The client's transaction version (2: V2, the epoch bumped at every commit/abort); persisted. */
  clientTransactionVersion = 0;

  constructor(
    readonly transactionalId: string,
    public producerId: number,
    public lastProducerId: number,
    public producerEpoch: number,
    public lastProducerEpoch: number,
    public txnTimeoutMs: number,
    public state: TransactionState,
    public txnStartTimestamp: number,
    public txnLastUpdateTimestamp: number,
  ) {}

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  hasPartition(topic: string, partition: number): boolean {
    return this.topicPartitions.get(topic)?.has(partition) ?? false;
  }

  containsAll(partitions: ReadonlyMap<string, ReadonlySet<number>>): boolean {
    for (const [t, ps] of partitions) for (const p of ps) if (!this.hasPartition(t, p)) return false;
    return true;
  }

  private transit(
    state: TransactionState,
    over: Partial<Omit<TxnTransit, 'state'>> & { txnLastUpdateTimestamp: number },
  ): TxnTransit {
    if (!VALID_PREVIOUS_STATES[state].includes(this.state)) {
      throw new Error(
        `transactionalId ${this.transactionalId}: illegal transition from ${this.state} to ${state}`,
      );
    }
    return {
      producerId: this.producerId,
      lastProducerId: this.lastProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      topicPartitions: copyPartitions(this.topicPartitions),
      txnStartTimestamp: this.txnStartTimestamp,
      clientTransactionVersion: this.clientTransactionVersion,
      ...over,
      state,
    };
  }

  /** InitProducerId on a completed transaction: bump the epoch (or recognise a retried bump). */
  prepareIncrementProducerEpoch(
    newTxnTimeoutMs: number,
    expectedProducerEpoch: number | null,
    now: number,
  ): TxnTransit | ErrorName {
    if (this.isProducerEpochExhausted)
      throw new Error(`cannot bump the exhausted epoch of producer ${this.producerId}`);
    const bumped = this.producerEpoch + 1;
    let epoch: number;
    let lastEpoch: number;
    if (expectedProducerEpoch === null) {
      epoch = bumped;
      lastEpoch = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedProducerEpoch === this.producerEpoch) {
      epoch = bumped;
      lastEpoch = this.producerEpoch;
    } else if (expectedProducerEpoch === this.lastProducerEpoch) {
      epoch = this.producerEpoch;
      lastEpoch = this.lastProducerEpoch;
    } else {
      return 'PRODUCER_FENCED';
    }
    return this.transit(TransactionState.Empty, {
      producerEpoch: epoch,
      lastProducerEpoch: lastEpoch,
      txnTimeoutMs: newTxnTimeoutMs,
      topicPartitions: new Map(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** The epoch is exhausted: continue under a new producer id at epoch 0. */
  prepareProducerIdRotation(
    newProducerId: number,
    newTxnTimeoutMs: number,
    now: number,
    recordLastEpoch: boolean,
  ): TxnTransit {
    return this.transit(TransactionState.Empty, {
      producerId: newProducerId,
      lastProducerId: this.producerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      txnTimeoutMs: newTxnTimeoutMs,
      topicPartitions: new Map(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** Fencing an ongoing transaction (new InitProducerId, or timeout): a bumped epoch, never written as such. */
  prepareFenceProducerEpoch(): TxnTransit {
    if (this.isProducerEpochExhausted)
      throw new Error(`cannot fence producer ${this.producerId}: its epoch is exhausted`);
    const epoch = this.hasFailedEpochFence ? this.producerEpoch : this.producerEpoch + 1;
    return this.transit(TransactionState.PrepareEpochFence, {
      producerEpoch: epoch,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
    });
  }

  prepareAddPartitions(
    added: ReadonlyMap<string, ReadonlySet<number>>,
    now: number,
    clientTransactionVersion = this.clientTransactionVersion,
  ): TxnTransit {
    const starting =
      this.state === TransactionState.Empty ||
      this.state === TransactionState.CompleteAbort ||
      this.state === TransactionState.CompleteCommit;
    const partitions = copyPartitions(this.topicPartitions);
    for (const [t, ps] of added) {
      let set = partitions.get(t);
      if (!set) {
        set = new Set();
        partitions.set(t, set);
      }
      for (const p of ps) set.add(p);
    }
    return this.transit(TransactionState.Ongoing, {
      topicPartitions: partitions,
      txnStartTimestamp: starting ? now : this.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
      clientTransactionVersion,
    });
  }

  /**
   * Ongoing → PrepareCommit/PrepareAbort. Under a fence the fenced epoch is written; a transactions
   * V2 client (`clientTransactionVersion` 2, EndTxn v5+) gets its epoch bumped here, so the markers
   * and the producer's next transaction carry the new one (KIP-890).
   */
  prepareAbortOrCommit(
    state: 'PrepareCommit' | 'PrepareAbort',
    now: number,
    fenceEpoch?: number,
    clientTransactionVersion = this.clientTransactionVersion,
  ): TxnTransit {
    const epochs =
      fenceEpoch !== undefined
        ? { producerEpoch: fenceEpoch, lastProducerEpoch: NO_PRODUCER_EPOCH }
        : clientTransactionVersion >= 2
          ? { producerEpoch: this.producerEpoch + 1, lastProducerEpoch: this.producerEpoch }
          : {};
    return this.transit(state, { ...epochs, txnLastUpdateTimestamp: now, clientTransactionVersion });
  }

  prepareComplete(now: number): TxnTransit {
    const state =
      this.state === TransactionState.PrepareCommit
        ? TransactionState.CompleteCommit
        : TransactionState.CompleteAbort;
    return this.transit(state, { topicPartitions: new Map(), txnLastUpdateTimestamp: now });
  }

  prepareDead(): TxnTransit {
    return this.transit(TransactionState.Dead, {
      topicPartitions: new Map(),
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
    });
  }

  /** Applies a transition once it is durable. */
  completeTransitionTo(t: TxnTransit): void {
    this.producerId = t.producerId;
    this.lastProducerId = t.lastProducerId;
    this.producerEpoch = t.producerEpoch;
    this.lastProducerEpoch = t.lastProducerEpoch;
    this.txnTimeoutMs = t.txnTimeoutMs;
    this.state = t.state;
    this.topicPartitions = copyPartitions(t.topicPartitions);
    this.txnStartTimestamp = t.txnStartTimestamp;
    this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.clientTransactionVersion = t.clientTransactionVersion ?? 0;
    if (t.state === TransactionState.CompleteCommit || t.state === TransactionState.CompleteAbort)
      this.hasFailedEpochFence = false;
  }
}
