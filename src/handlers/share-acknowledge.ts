/**
 * ShareAcknowledge (key 79), v1–2: acknowledgements of records a share group member acquired,
 * sent without fetching (KIP-932) — accept, release, reject, a gap (offsets with no record) and,
 * from v2, renew (KIP-1222, with IsRenewAck). It continues the member's share session (its epoch
 * checked as ShareFetch does; 0 is INVALID_SHARE_SESSION_EPOCH, -1 closes the session after the
 * acknowledgements). Each partition's outcome answers once its share state is written.
 * Authorization: READ on the group (top-level), READ on each topic.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ShareAcknowledgeRequest,
  type ShareAcknowledgeRequestData,
  ShareAcknowledgeResponse,
  type ShareAcknowledgeResponseData,
} from '../protocol/generated/messages.js';
import { errorOf, KafkaError } from '../protocol/kafka-error.js';
import type { ShareSession } from '../replication/share-session.js';
import { defineHandler } from './handler.js';
import { applyAcknowledgements, sharePrelude } from './share-fetch.js';

export const shareAcknowledgeHandler = defineHandler<
  ShareAcknowledgeRequestData,
  ShareAcknowledgeResponseData
>({
  apiKey: 79,
  name: 'ShareAcknowledge',
  minVersion: 1,
  maxVersion: 2,
  request: ShareAcknowledgeRequest,
  response: ShareAcknowledgeResponse,
  async handle(ctx, req) {
    const { top, refusal, groupId, memberId, lockMs } = sharePrelude(ctx, req);
    if (refusal) return refusal;
    let session: ShareSession;
    try {
      if (req.shareSessionEpoch === 0)
        throw new KafkaError('INVALID_SHARE_SESSION_EPOCH', 'The share session epoch is invalid.');
      session =
        req.shareSessionEpoch === -1
          ? ctx.shares.sessions.existing(groupId, memberId)
          : ctx.shares.sessions.next(groupId, memberId, req.shareSessionEpoch);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      const e = errorOf(err);
      return top(e.error, e.message);
    }
    const plan = new Map<
      string,
      {
        topicId: string;
        partition: number;
        batches: { firstOffset: number; lastOffset: number; acknowledgeTypes: number[] }[];
      }
    >();
    for (const t of req.topics)
      for (const p of t.partitions)
        plan.set(`${t.topicId}:${p.partitionIndex}`, {
          topicId: t.topicId,
          partition: p.partitionIndex,
          batches: p.acknowledgementBatches,
        });
    const results = await applyAcknowledgements(
      ctx,
      groupId,
      memberId,
      plan,
      ctx.apiVersion >= 2 && req.isRenewAck === true,
    );
    if (req.shareSessionEpoch === -1) ctx.shares.sessions.close(session);
    const byTopic = new Map<string, ShareAcknowledgeResponseData['responses'][number]['partitions']>();
    for (const [k, r] of results) {
      const p = plan.get(k)!;
      const list = byTopic.get(p.topicId) ?? [];
      list.push({
        partitionIndex: p.partition,
        errorCode: ErrorCode[r.error],
        errorMessage: r.message,
        currentLeader: { leaderId: ctx.configs.nodeId, leaderEpoch: -1 },
      });
      byTopic.set(p.topicId, list);
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      acquisitionLockTimeoutMs: lockMs,
      responses: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })),
      nodeEndpoints: [],
    };
  },
});
