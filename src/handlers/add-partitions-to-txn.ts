/**
 * AddPartitionsToTxn (key 24), v0–5. v1 same; v2 PRODUCER_FENCED (v0–1 get INVALID_PRODUCER_EPOCH);
 * v3 flexible. v4+ are broker-to-broker (Kafka 3.6+ transaction verification, KIP-890): several
 * transactions per request, each either VerifyOnly (are these partitions in the producer's ongoing
 * transaction? TRANSACTION_ABORTABLE per partition when not) or an add on behalf of a transactions V2
 * producer, which sends no AddPartitionsToTxn itself; a top-level error code. v5 may answer
 * TRANSACTION_ABORTABLE (v4 gets INVALID_TXN_STATE).
 * As Kafka's KafkaApis: a partition that does not exist in the cluster gets
 * UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, without touching the
 * transaction; otherwise the coordinator's answer goes to every partition.
 * Authorization: v4+ CLUSTER_ACTION on the cluster (else the top-level
 * CLUSTER_AUTHORIZATION_FAILED); WRITE on the transactional id (every partition
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and on each topic (TOPIC_AUTHORIZATION_FAILED, the others
 * OPERATION_NOT_ATTEMPTED).
 */

import { partitionMap } from '../coordinator/transaction/transaction-coordinator.js';
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import {
  AddPartitionsToTxnRequest,
  type AddPartitionsToTxnRequestAddPartitionsToTxnTopic,
  type AddPartitionsToTxnRequestData,
  AddPartitionsToTxnResponse,
  type AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
  type AddPartitionsToTxnResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizeCluster, filterAuthorized } from './authz.js';
import { defineHandler, type RequestContext } from './handler.js';
import { txnErrorCode } from './txn-errors.js';

const FIRST_BROKER_VERSION = 4;
const TRANSACTION_ABORTABLE_VERSION = 5;

/** One transaction's partitions checked, then added (or verified) by the coordinator. */
async function handleTransaction(
  ctx: RequestContext,
  transactionalId: string,
  producerId: number,
  producerEpoch: number,
  topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[],
  verifyOnly: boolean,
): Promise<AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[]> {
  const unknown = new Set<string>();
  let writable: Set<string> | null = null;
  let txnDenied = false;
  if (!allowsAll(ctx)) {
    txnDenied = !authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', transactionalId);
    writable = filterAuthorized(ctx, 'WRITE', 'TOPIC', topics, (t) => t.name);
  }
  const denied = new Set<string>();
  for (const t of topics) {
    const topic = ctx.metadata.topic(t.name);
    for (const p of t.partitions) {
      if (writable !== null && !writable.has(t.name) && !t.name.startsWith('__'))
        denied.add(`${t.name}\u0000${p}`);
      // The partition exists in the cluster (the coordinator need not host it).
      else if (!topic || p < 0 || p >= topic.partitions.length) unknown.add(`${t.name}\u0000${p}`);
    }
  }
  let codeFor: (topic: string, partition: number) => number;
  if (txnDenied) {
    codeFor = () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  } else if (unknown.size > 0 || denied.size > 0) {
    codeFor = (t, p) =>
      denied.has(`${t}\u0000${p}`)
        ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
        : unknown.has(`${t}\u0000${p}`)
          ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : ErrorCode.OPERATION_NOT_ATTEMPTED;
  } else if (verifyOnly) {
    const targets = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
    const errors = ctx.transactions.handleVerifyPartitionsInTransaction(
      transactionalId,
      producerId,
      producerEpoch,
      targets,
    );
    const codes = new Map(
      targets.map((tp, i) => [`${tp.topic}\u0000${tp.partition}`, code(ctx, errors[i]!)]),
    );
    codeFor = (t, p) => codes.get(`${t}\u0000${p}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
  } else {
    const error = await ctx.transactions.handleAddPartitionsToTransaction(
      transactionalId,
      producerId,
      producerEpoch,
      partitionMap(topics),
      // An add from a partition leader is for a transactions V2 producer (KIP-890).
      ctx.apiVersion >= FIRST_BROKER_VERSION ? 2 : undefined,
    );
    const c = code(ctx, error);
    codeFor = () => c;
  }
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((p) => ({
      partitionIndex: p,
      partitionErrorCode: codeFor(t.name, p),
    })),
  }));
}

function code(ctx: RequestContext, error: ErrorName): number {
  if (error === 'TRANSACTION_ABORTABLE' && ctx.apiVersion < TRANSACTION_ABORTABLE_VERSION)
    return ErrorCode.INVALID_TXN_STATE;
  return txnErrorCode(error, ctx.apiVersion, 2);
}

export const addPartitionsToTxnHandler = defineHandler<
  AddPartitionsToTxnRequestData,
  AddPartitionsToTxnResponseData
>({
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 5,
  request: AddPartitionsToTxnRequest,
  response: AddPartitionsToTxnResponse,
  async handle(ctx, req) {
    if (ctx.apiVersion >= FIRST_BROKER_VERSION) {
      if (!authorizeCluster(ctx, 'CLUSTER_ACTION'))
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          resultsByTransaction: [],
        };
      const results = await Promise.all(
        (req.transactions ?? []).map(async (t) => ({
          transactionalId: t.transactionalId,
          topicResults: await handleTransaction(
            ctx,
            t.transactionalId,
            t.producerId,
            t.producerEpoch,
            t.topics,
            t.verifyOnly,
          ),
        })),
      );
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction: results };
    }
    return {
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: await handleTransaction(
        ctx,
        req.v3AndBelowTransactionalId ?? '',
        req.v3AndBelowProducerId ?? -1,
        req.v3AndBelowProducerEpoch ?? -1,
        req.v3AndBelowTopics ?? [],
        false,
      ),
    };
  },
});
