/**
 * `__transaction_state`: the internal, compacted topic holding every transactional id's state, with
 * Kafka's record layouts (../shared/kafka-protocol-4.3.1/transaction-coordinator/*.json, Kafka's
 * TransactionLog): key = int16 version 0 + TransactionLogKey (transactionalId); value = int16
 * version 0 + TransactionLogValue (producer id and epoch, timeout, state id, partitions — null
 * when Empty —, last update and start timestamps). A null value is a tombstone (the id expired).
 * A transactional id lives in partition `abs(javaStringHashCode(id)) % transaction.state.log.num.partitions`.
 */
import { decode, encode } from '../../protocol/codec.js';
import {
  TransactionLogKey,
  type TransactionLogKeyData,
  TransactionLogValue,
  type TransactionLogValueData,
} from '../../protocol/generated/messages.js';
import { partitionFor as groupPartitionFor } from '../offsets-topic.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import { versioned } from '../runtime/record-codec.js';

export const TRANSACTION_STATE_TOPIC_NAME = '__transaction_state';
export const TRANSACTION_LOG_KEY_VERSION = 0;
/** Kafka writes value version 0 for transactions V1, version 1 (ClientTransactionVersion tagged) for V2. */
export const TRANSACTION_LOG_VALUE_VERSION = 0;
const TRANSACTION_LOG_VALUE_VERSION_V2 = 1;

/** Kafka's TransactionState: the names DescribeTransactions/ListTransactions use and the ids stored. */
export const TransactionState = {
  Empty: 'Empty',
  Ongoing: 'Ongoing',
  PrepareCommit: 'PrepareCommit',
  PrepareAbort: 'PrepareAbort',
  CompleteCommit: 'CompleteCommit',
  CompleteAbort: 'CompleteAbort',
  Dead: 'Dead',
  PrepareEpochFence: 'PrepareEpochFence',
} as const;
export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState];

export const TRANSACTION_STATE_IDS: Readonly<Record<TransactionState, number>> = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
};
const STATE_BY_ID = Object.fromEntries(
  Object.entries(TRANSACTION_STATE_IDS).map(([k, v]) => [v, k]),
) as Record<number, TransactionState>;

export function transactionStateFromId(id: number): TransactionState {
  const s = STATE_BY_ID[id];
  if (!s) throw new Error(`unknown transaction state id ${id}`);
  return s;
}

export function partitionFor(transactionalId: string, numPartitions: number): number {
  return groupPartitionFor(transactionalId, numPartitions);
}

/** What one `__transaction_state` value holds (Kafka's TxnTransitMetadata as persisted). */
export interface TransactionLogEntry {
  producerId: number;
  producerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  /** "topic" → partitions. */
  topicPartitions: ReadonlyMap<string, ReadonlySet<number>>;
  txnLastUpdateTimestamp: number;
  txnStartTimestamp: number;
  /** The transaction version of the producer's client (2: transactions V2, KIP-890); 0 when absent. */
  clientTransactionVersion?: number;
}

export function transactionLogKey(transactionalId: string): Buffer {
  return versioned(
    TRANSACTION_LOG_KEY_VERSION,
    encode<TransactionLogKeyData>(TransactionLogKey, TRANSACTION_LOG_KEY_VERSION, { transactionalId }),
  );
}

export function transactionLogValue(e: TransactionLogEntry): Buffer {
  if (e.state === TransactionState.Empty && e.topicPartitions.size > 0)
    throw new Error('a transaction in state Empty cannot have partitions');
  const partitions =
    e.state === TransactionState.Empty
      ? null
      : [...e.topicPartitions].map(([topic, ps]) => ({ topic, partitionIds: [...ps].sort((a, b) => a - b) }));
  const tv = e.clientTransactionVersion ?? 0;
  const version = tv >= 2 ? TRANSACTION_LOG_VALUE_VERSION_V2 : TRANSACTION_LOG_VALUE_VERSION;
  return versioned(
    version,
    encode<TransactionLogValueData>(TransactionLogValue, version, {
      ...(version >= 1 ? { clientTransactionVersion: tv } : {}),
      producerId: e.producerId,
      producerEpoch: e.producerEpoch,
      transactionTimeoutMs: e.txnTimeoutMs,
      transactionStatus: TRANSACTION_STATE_IDS[e.state],
      transactionPartitions: partitions,
      transactionLastUpdateTimestampMs: e.txnLastUpdateTimestamp,
      transactionStartTimestampMs: e.txnStartTimestamp,
    }),
  );
}

export function decodeTransactionLogKey(buf: Buffer): string {
  const version = buf.readInt16BE(0);
  if (version !== TRANSACTION_LOG_KEY_VERSION)
    throw new Error(`unknown transaction log key version ${version}`);
  return decode<TransactionLogKeyData>(TransactionLogKey, version, buf.subarray(2)).transactionalId;
}

export function decodeTransactionLogValue(buf: Buffer): TransactionLogEntry {
  const version = buf.readInt16BE(0);
  if (version < 0) throw new Error(`negative transaction log value version ${version}`);
  const v = decode<TransactionLogValueData>(
    TransactionLogValue,
    Math.min(version, TransactionLogValue.validVersions![1]),
    buf.subarray(2),
  );
  const topicPartitions = new Map<string, Set<number>>();
  for (const t of v.transactionPartitions ?? []) {
    let set = topicPartitions.get(t.topic);
    if (!set) {
      set = new Set();
      topicPartitions.set(t.topic, set);
    }
    for (const p of t.partitionIds) set.add(p);
  }
  return {
    producerId: v.producerId,
    producerEpoch: v.producerEpoch,
    txnTimeoutMs: v.transactionTimeoutMs,
    state: transactionStateFromId(v.transactionStatus),
    topicPartitions,
    txnLastUpdateTimestamp: v.transactionLastUpdateTimestampMs,
    txnStartTimestamp: v.transactionStartTimestampMs,
    clientTransactionVersion: v.clientTransactionVersion ?? 0,
  };
}

/** The `__transaction_state` record of `transactionalId`: its state, or a tombstone (null). */
export function transactionLogRecord(
  transactionalId: string,
  entry: TransactionLogEntry | null,
): CoordinatorRecord {
  return {
    key: transactionLogKey(transactionalId),
    value: entry === null ? null : transactionLogValue(entry),
  };
}
