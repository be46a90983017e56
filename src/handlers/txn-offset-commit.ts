/**
 * TxnOffsetCommit (key 28), v0–4: offsets committed inside the producer's transaction, visible to
 * the group only once the transaction commits. v1 same; v2 committed leader epoch; v3 flexible,
 * generation id, member id and group instance id (checked like an OffsetCommit: UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, FENCED_INSTANCE_ID); v4 same; v5 transactions V2 (KIP-890 part 2): the
 * client sends no AddOffsetsToTxn, the group's `__consumer_offsets` partition is added to the
 * transaction through its coordinator (on whichever broker).
 * Before v5 the group's `__consumer_offsets` partition must be in the transaction (AddOffsetsToTxn first):
 * otherwise INVALID_TXN_STATE; a stale epoch INVALID_PRODUCER_EPOCH; an unknown producer id
 * INVALID_PRODUCER_ID_MAPPING. Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION. v0–1
 * get COORDINATOR_NOT_AVAILABLE for COORDINATOR_LOAD_IN_PROGRESS, as Kafka's KafkaApis sends them.
 * Authorization: WRITE on the transactional id and READ on the group (every partition answers the
 * failure), READ on each topic (TOPIC_AUTHORIZATION_FAILED).
 */

import type { TxnOffsetCommitPartition } from '../coordinator/transaction/transaction-coordinator.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  TxnOffsetCommitRequest,
  type TxnOffsetCommitRequestData,
  TxnOffsetCommitResponse,
  type TxnOffsetCommitResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';

/** TxnOffsetCommit v5+: a transactions V2 client (no AddOffsetsToTxn). */
const TRANSACTIONS_V2_VERSION = 5;

export const txnOffsetCommitHandler = defineHandler<TxnOffsetCommitRequestData, TxnOffsetCommitResponseData>({
  apiKey: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 5,
  request: TxnOffsetCommitRequest,
  response: TxnOffsetCommitResponse,
  async handle(ctx, req) {
    const codes = new Map<string, number>();
    const key = (t: string, p: number) => `${t}\u0000${p}`;
    const accepted: TxnOffsetCommitPartition[] = [];
    let refuseAll: number | null = null;
    let readable: Set<string> | null = null;
    if (!allowsAll(ctx)) {
      if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) {
        refuseAll = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      } else if (!authorize(ctx, 'READ', 'GROUP', req.groupId))
        refuseAll = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      readable = filterAuthorized(ctx, 'READ', 'TOPIC', req.topics, (t) => t.name);
    }
    for (const t of req.topics) {
      const topic = ctx.metadata.topic(t.name);
      for (const p of t.partitions) {
        if (refuseAll !== null) {
          codes.set(key(t.name, p.partitionIndex), refuseAll);
          continue;
        }
        if (readable !== null && !readable.has(t.name)) {
          codes.set(key(t.name, p.partitionIndex), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          continue;
        }
        if (!topic?.partitions[p.partitionIndex]) {
          codes.set(key(t.name, p.partitionIndex), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          continue;
        }
        accepted.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch ?? -1,
          metadata: p.committedMetadata,
        });
      }
    }
    if (!req.groupId) {
      for (const a of accepted) codes.set(key(a.topic, a.partition), ErrorCode.INVALID_GROUP_ID);
    } else if (accepted.length > 0) {
      const results = await ctx.transactions.handleTxnOffsetCommit(
        req.transactionalId,
        req.groupId,
        req.producerId,
        req.producerEpoch,
        req.memberId ?? '',
        req.groupInstanceId ?? null,
        req.generationId ?? -1,
        accepted,
        ctx.apiVersion >= TRANSACTIONS_V2_VERSION,
      );
      accepted.forEach((a, i) => {
        let error = results[i]!;
        // As Kafka (KAFKA-7296): producers before 2.0 (v0–1) may crash on a loading error.
        if (ctx.apiVersion < 2 && error === 'COORDINATOR_LOAD_IN_PROGRESS')
          error = 'COORDINATOR_NOT_AVAILABLE';
        codes.set(key(a.topic, a.partition), ErrorCode[error]);
      });
    }
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: codes.get(key(t.name, p.partitionIndex)) ?? ErrorCode.NONE,
        })),
      })),
    };
  },
});
