/**
 * Produce (key 0), advertised 0–12 (librdkafka only compresses when v0 is in range, KAFKA-18659),
 * served for v3–12: v0–2 carry message formats v0/v1, which kbroker does not store, and are
 * answered UNSUPPORTED_VERSION per partition, as a Kafka 4 broker does.
 * v3 adds transactional id and requires magic-2 batches; v5 log start offset; v7 zstd allowed;
 * v8 record errors; v9 flexible; v10 current leader and node endpoints (tagged, KIP-951: with
 * NOT_LEADER_OR_FOLLOWER, the partition's leader and epoch and its endpoint; current-leader.ts); v11 may
 * answer TRANSACTION_ABORTABLE; v12 is a transactions V2 producer (KIP-890 part 2), which sends no
 * AddPartitionsToTxn: the partition leader adds the partition to the transaction through the
 * coordinator instead of only verifying it.
 * The batch stays bytes: validate the header and CRC, patch offset and leader epoch in place,
 * append (ReplicaManager.appendRecords). acks=0 sends no response — and closes the connection when a
 * partition failed (Kafka's sendResponseCallback: the client learns of it only that way, and refreshes
 * its metadata on the reconnect); acks=1 answers after the
 * leader's append; acks=-1 waits in the produce purgatory until the high watermark passes the batch
 * (at once while this broker is the only in-sync replica; REQUEST_TIMED_OUT after `timeoutMs`,
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR fell below the min ISR meanwhile).
 * `flush.messages` decides whether the append was fsynced first. acks=-1 with the ISR below the
 * topic's effective `min.insync.replicas` (Partition.effectiveMinIsr) is answered
 * NOT_ENOUGH_REPLICAS (no error message; the reason is logged) and appends nothing, as Kafka.
 *
 * Idempotence and transactions: a batch with a producer id (-1 means none, whatever kafkajs puts in
 * epoch and sequence) is checked against the partition's producer state: a retried batch is answered
 * with its original offsets and not appended; a sequence gap gives OUT_OF_ORDER_SEQUENCE_NUMBER, an
 * old epoch INVALID_PRODUCER_EPOCH. A transactional batch needs the request's transactional id
 * (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka) and a partition the coordinator has in
 * that producer's ongoing transaction (Kafka 3.6+ verification; else INVALID_TXN_STATE), so no
 * transaction is ever left open where no marker will come.
 * An unexpected failure appending to one partition answers it UNKNOWN_SERVER_ERROR, or
 * KAFKA_STORAGE_ERROR for an I/O error (as Kafka's Errors.forException); the others are appended.
 * Authorization (KafkaApis.handleProduceRequest): WRITE on the transactional id, else every
 * partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED; WRITE on each topic, else its partitions
 * TOPIC_AUTHORIZATION_FAILED (before the topic's existence is looked at).
 */
import { INTERNAL_TOPICS } from '../common/topic-name.js';
import { ErrorCode, type ErrorName, errorName } from '../protocol/generated/errors.js';
import {
  ProduceRequest,
  type ProduceRequestData,
  ProduceResponse,
  type ProduceResponseData,
  type ProduceResponsePartitionProduceResponse,
  type ProduceResponseTopicProduceResponse,
} from '../protocol/generated/messages.js';
import {
  compression,
  isTransactional,
  HEADER_SIZE as RECORD_BATCH_HEADER_SIZE,
  readProducerEpoch,
  readProducerId,
} from '../protocol/record-batch.js';
import { ProtocolError } from '../protocol/wire.js';
import type { AppendEntry as ReplicaAppendEntry } from '../replication/append.js';
import { partitionErrorOf } from '../replication/partition-error.js';
import { allowsAll, authorize, filterAuthorized } from './authz.js';
import { CurrentLeaders } from './current-leader.js';
import { defineHandler, type RequestContext } from './handler.js';

const MIN_SUPPORTED_VERSION = 3;
const ZSTD_MIN_VERSION = 7;
/** Produce v12+: transactions V2, partitions added to the transaction by the leader. */
const TRANSACTIONS_V2_VERSION = 12;

function failed(
  index: number,
  error: ErrorName,
  message: string | null = null,
): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode: ErrorCode[error],
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage: message,
  };
}

type Outcome = ProduceResponsePartitionProduceResponse | AppendEntry;

interface AppendEntry extends ReplicaAppendEntry {
  readonly index: number;
  /** A transactional batch: what the coordinator said of its partition (set before the append). */
  readonly txn?: { verification: ErrorName | null };
}

/**
 * Verification errors as the produce path answers them (Kafka's ReplicaManager): retriable
 * coordinator errors become NOT_ENOUGH_REPLICAS, which every client retries without a metadata
 * refresh; TRANSACTION_ABORTABLE only reaches clients of v11+ (KIP-890), older ones get
 * INVALID_TXN_STATE.
 */
function verificationFailure(
  error: ErrorName,
  apiVersion: number,
): { error: ErrorName; message: string | null } {
  switch (error) {
    case 'INVALID_TXN_STATE':
      return { error, message: 'Partition was not added to the transaction' };
    case 'TRANSACTION_ABORTABLE':
      return apiVersion >= 11
        ? { error, message: null }
        : { error: 'INVALID_TXN_STATE', message: 'Partition was not added to the transaction' };
    case 'CONCURRENT_TRANSACTIONS':
    case 'NETWORK_EXCEPTION':
    case 'COORDINATOR_LOAD_IN_PROGRESS':
    case 'COORDINATOR_NOT_AVAILABLE':
    case 'NOT_COORDINATOR':
      return {
        error: 'NOT_ENOUGH_REPLICAS',
        message: `Unable to verify the partition has been added to the transaction. Underlying error: ${error}`,
      };
    default:
      return { error, message: null };
  }
}

/**
 * Asks the transaction coordinator about the transactional batches whose partition has no ongoing
 * transaction of that producer and epoch yet (Kafka's maybeStartTransactionVerification: a
 * partition already in the transaction needs no second look). The coordinator may be on another
 * broker; the answer is stored on the entry for the append to refuse it.
 */
async function verifyTransactionalEntries(
  ctx: RequestContext,
  transactionalId: string | null,
  entries: readonly AppendEntry[],
): Promise<void> {
  if (transactionalId === null) return;
  const byProducer = new Map<string, { producerId: number; producerEpoch: number; entries: AppendEntry[] }>();
  for (const e of entries) {
    if (!e.txn) continue;
    const producerId = readProducerId(e.records, 0);
    const producerEpoch = readProducerEpoch(e.records, 0);
    const state = e.partition.log.producerStateManager.lastEntry(producerId);
    if (state && state.currentTxnFirstOffset >= 0 && state.producerEpoch === producerEpoch) continue;
    const key = `${producerId}:${producerEpoch}`;
    let group = byProducer.get(key);
    if (!group) {
      group = { producerId, producerEpoch, entries: [] };
      byProducer.set(key, group);
    }
    group.entries.push(e);
  }
  await Promise.all(
    [...byProducer.values()].map(async (g) => {
      const errors = await ctx.transactions.verifyTransactionalProduce(
        transactionalId,
        g.producerId,
        g.producerEpoch,
        g.entries.map((e) => ({ topic: e.partition.topic, partition: e.partition.partition })),
        ctx.apiVersion >= TRANSACTIONS_V2_VERSION,
      );
      g.entries.forEach((e, i) => {
        const error = errors[i] ?? 'UNKNOWN_SERVER_ERROR';
        e.txn!.verification = error === 'NONE' ? null : error;
      });
    }),
  );
}

/** The checks Produce makes before the data path: version, topic, transaction membership. */
function check(
  ctx: RequestContext,
  topicName: string,
  index: number,
  records: Buffer | null,
  transactionalId: string | null,
): Outcome {
  // As this broker's metadata has it. A Produce never creates a topic (Kafka's handleProduceRequest
  // answers UNKNOWN_TOPIC_OR_PARTITION for one its metadata cache lacks): auto.create.topics.enable
  // acts on Metadata requests that allow it, which clients send first.
  const topic = ctx.metadata.topic(topicName);
  const partition =
    topic && index < topic.partitions.length ? ctx.replicas.getPartition(topicName, index) : undefined;
  const topicConfig = partition && ctx.replicas.topicConfig(topicName);
  // A partition of the metadata that has no replica here (Kafka's getPartitionOrError).
  if (topic && index >= 0 && index < topic.partitions.length && !partition)
    return failed(index, 'NOT_LEADER_OR_FOLLOWER');
  if (!partition || !topicConfig) return failed(index, 'UNKNOWN_TOPIC_OR_PARTITION');
  if (INTERNAL_TOPICS.has(topicName))
    return failed(index, 'INVALID_TOPIC_EXCEPTION', `Cannot produce to internal topic ${topicName}`);
  if (!records || records.length === 0)
    return failed(index, 'INVALID_RECORD', 'Produce request with no record batch');
  if (
    records.length >= RECORD_BATCH_HEADER_SIZE &&
    compression(records, 0) === 'zstd' &&
    ctx.apiVersion < ZSTD_MIN_VERSION
  ) {
    return failed(index, 'UNSUPPORTED_COMPRESSION_TYPE');
  }
  if (records.length < RECORD_BATCH_HEADER_SIZE || !isTransactional(records, 0))
    return { index, partition, records, topicConfig };
  // Run by the data path once the batch is known valid, before it is appended; the coordinator's
  // answer is there by then (verifyTransactionalEntries).
  const txn = { verification: null as ErrorName | null };
  const verify = (): ErrorName | null =>
    transactionalId === null ? 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' : txn.verification;
  return { index, partition, records, topicConfig, verify, txn };
}

export const produceHandler = defineHandler<ProduceRequestData, ProduceResponseData>({
  apiKey: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 12,
  request: ProduceRequest,
  response: ProduceResponse,
  async handle(ctx, req) {
    const { apiVersion } = ctx;
    // Null when no authorizer is configured: the hot path skips every check.
    let writable: Set<string> | null = null;
    let txnDenied = false;
    if (!allowsAll(ctx)) {
      txnDenied =
        req.transactionalId != null && !authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId);
      writable = filterAuthorized(ctx, 'WRITE', 'TOPIC', req.topicData, (t) => t.name!);
    }
    // Plain loops on this per-request path (it showed in CPU profiles, and the array builtins'
    // inlined code was deoptimised and recompiled as it warmed up). A partition's outcome is
    // either its answer already (refused before the data path) or an entry to append.
    const { acks } = req;
    const transactionalId = req.transactionalId ?? null;
    const outcomes: Outcome[][] = [];
    const entries: AppendEntry[] = [];
    let anyTxn = false;
    for (const t of req.topicData) {
      const name = t.name!;
      const topicOutcomes: Outcome[] = [];
      for (const p of t.partitionData) {
        let outcome: Outcome;
        if (apiVersion < MIN_SUPPORTED_VERSION) outcome = failed(p.index, 'UNSUPPORTED_VERSION');
        else if (txnDenied) outcome = failed(p.index, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
        else if (writable !== null && !writable.has(name))
          outcome = failed(p.index, 'TOPIC_AUTHORIZATION_FAILED');
        else if (acks !== 0 && acks !== 1 && acks !== -1) outcome = failed(p.index, 'INVALID_REQUIRED_ACKS');
        else {
          try {
            outcome = check(ctx, name, p.index, p.records as Buffer | null, transactionalId);
          } catch (err) {
            ctx.log.error(`Error processing append operation on partition ${name}-${p.index}`, err);
            outcome = failed(p.index, partitionErrorOf(err).error);
          }
        }
        if ('partition' in outcome) {
          entries.push(outcome);
          if (outcome.txn) anyTxn = true;
        }
        topicOutcomes.push(outcome);
      }
      outcomes.push(topicOutcomes);
    }
    if (anyTxn) await verifyTransactionalEntries(ctx, transactionalId, entries);
    const appended = await ctx.replicas.appendRecords(acks, entries, req.timeoutMs, ctx.releaseOrder);
    // `appended` is in the order of `entries`, which is the order of the outcomes that are entries.
    let next = 0;
    const responses: ProduceResponseTopicProduceResponse[] = [];
    for (let ti = 0; ti < outcomes.length; ti++) {
      const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
      for (const o of outcomes[ti]!) {
        if (!('partition' in o)) {
          partitionResponses.push(o);
          continue;
        }
        const r = appended[next++]!;
        if (o.txn?.verification && r.error === o.txn.verification) {
          const f = verificationFailure(r.error, apiVersion);
          partitionResponses.push(failed(o.index, f.error, f.message));
          continue;
        }
        partitionResponses.push({
          index: o.index,
          errorCode: ErrorCode[r.error],
          baseOffset: r.baseOffset,
          logAppendTimeMs: r.logAppendTime,
          logStartOffset: r.logStartOffset,
          recordErrors: (r.recordErrors ?? []).map((e) => ({
            batchIndex: e.batchIndex,
            batchIndexErrorMessage: e.message,
          })),
          errorMessage: r.errorMessage,
        });
      }
      // v13's topic ids are not served: v0–12 always carry names
      responses.push({ name: req.topicData[ti]!.name!, partitionResponses });
    }
    if (acks === 0) {
      // No response: a partition that failed closes the connection instead (Kafka's sendResponseCallback).
      const errors: string[] = [];
      for (const t of responses)
        for (const p of t.partitionResponses)
          if (p.errorCode !== 0)
            errors.push(`${t.name}-${p.index}: ${errorName(p.errorCode) ?? p.errorCode}`);
      if (errors.length === 0) return null;
      throw new ProtocolError(
        `error during produce request with correlation id ${ctx.correlationId} from client id ${ctx.clientId} with acks=0 (${errors.join(', ')})`,
      );
    }
    if (apiVersion < CURRENT_LEADER_VERSION) return { responses, throttleTimeMs: 0 };
    let leaders: CurrentLeaders | undefined;
    for (const t of responses) {
      for (const p of t.partitionResponses) {
        if (p.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) continue;
        leaders ??= new CurrentLeaders(ctx);
        p.currentLeader = leaders.of(t.name!, p.index);
      }
    }
    return { responses, throttleTimeMs: 0, ...(leaders ? { nodeEndpoints: leaders.nodeEndpoints } : {}) };
  },
});

/** From this version on, NOT_LEADER_OR_FOLLOWER carries the current leader (KIP-951). */
const CURRENT_LEADER_VERSION = 10;
