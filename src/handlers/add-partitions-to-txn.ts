/**
 * AddPartitionsToTxn (key 24), v0–3 (v4+ batch several transactions and are broker-to-broker:
 * not advertised). v1 same; v2 PRODUCER_FENCED (v0–1 get INVALID_PRODUCER_EPOCH); v3 flexible.
 * As Kafka's KafkaApis: a partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and the
 * others OPERATION_NOT_ATTEMPTED, without touching the transaction; otherwise the coordinator's
 * answer goes to every partition.
 * Authorization: WRITE on the transactional id (every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
 * and on each topic (TOPIC_AUTHORIZATION_FAILED, the others OPERATION_NOT_ATTEMPTED).
 */

import { partitionMap } from '../coordinator/transaction/transaction-coordinator.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  AddPartitionsToTxnRequest,
  type AddPartitionsToTxnRequestData,
  AddPartitionsToTxnResponse,
  type AddPartitionsToTxnResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';
import { txnErrorCode } from './txn-errors.js';

export const addPartitionsToTxnHandler = defineHandler<
  AddPartitionsToTxnRequestData,
  AddPartitionsToTxnResponseData
>({
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 3,
  request: AddPartitionsToTxnRequest,
  response: AddPartitionsToTxnResponse,
  async handle(ctx, req) {
    const topics = req.v3AndBelowTopics ?? [];
    const unknown = new Set<string>();
    let writable: Set<string> | null = null;
    let txnDenied = false;
    if (!allowsAll(ctx)) {
      txnDenied = !authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.v3AndBelowTransactionalId ?? '');
      writable = filterAuthorized(ctx, 'WRITE', 'TOPIC', topics, (t) => t.name);
    }
    const denied = new Set<string>();
    for (const t of topics) {
      for (const p of t.partitions) {
        if (writable !== null && !writable.has(t.name) && !t.name.startsWith('__'))
          denied.add(`${t.name}\u0000${p}`);
        else if (!ctx.replicas.getPartition(t.name, p)) unknown.add(`${t.name}\u0000${p}`);
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
    } else {
      const error = await ctx.transactions.handleAddPartitionsToTransaction(
        req.v3AndBelowTransactionalId ?? '',
        req.v3AndBelowProducerId ?? -1,
        req.v3AndBelowProducerEpoch ?? -1,
        partitionMap(topics),
      );
      const code = txnErrorCode(error, ctx.apiVersion, 2);
      codeFor = () => code;
    }
    return {
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: topics.map((t) => ({
        name: t.name,
        resultsByPartition: t.partitions.map((p) => ({
          partitionIndex: p,
          partitionErrorCode: codeFor(t.name, p),
        })),
      })),
    };
  },
});
