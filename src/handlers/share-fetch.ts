/**
 * ShareFetch (key 78), v1–2: a share group member's fetch (KIP-932). Records come from the
 * partition leader's share-partitions (replication/share-partition-manager.ts): each answer
 * carries the log batches read and the AcquiredRecords ranges this member now holds under an
 * acquisition lock (AcquisitionLockTimeoutMs), with their delivery counts; acknowledgements of
 * records acquired earlier ride on the same request (AcknowledgeErrorCode per partition).
 * Share sessions (ShareSessionEpoch): 0 opens one (no acknowledgements allowed), N continues it
 * (partitions added, ForgottenTopicsData removed), -1 closes it after its acknowledgements and
 * releases what the member still holds. v2 adds ShareAcquireMode and renew acknowledgements
 * (KIP-1206, KIP-1222). v0 was Kafka 4.0's early access.
 * Session errors are top-level (SHARE_SESSION_NOT_FOUND, INVALID_SHARE_SESSION_EPOCH,
 * SHARE_SESSION_LIMIT_REACHED, INVALID_REQUEST); partition errors per partition.
 * Authorization: READ on the group (top-level GROUP_AUTHORIZATION_FAILED), READ on each topic.
 */

import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import {
  ShareFetchRequest,
  type ShareFetchRequestData,
  ShareFetchResponse,
  type ShareFetchResponseData,
  type ShareFetchResponsePartitionData,
} from '../protocol/generated/messages.js';
import { errorOf, KafkaError } from '../protocol/kafka-error.js';
import type { ShareSession } from '../replication/share-session.js';
import { authorize } from './authz.js';
import { responseBytes } from './fetch.js';
import { defineHandler, type RequestContext } from './handler.js';

type AckPlan = Map<
  string,
  {
    topicId: string;
    partition: number;
    batches: { firstOffset: number; lastOffset: number; acknowledgeTypes: number[] }[];
  }
>;

/** Applies acknowledgements (ShareFetch and ShareAcknowledge); returns each partition's outcome by `topicId:partition`. */
export async function applyAcknowledgements(
  ctx: RequestContext,
  groupId: string,
  memberId: string,
  plan: AckPlan,
  allowRenew: boolean,
): Promise<Map<string, { error: ErrorName; message: string | null }>> {
  const out = new Map<string, { error: ErrorName; message: string | null }>();
  await Promise.all(
    [...plan].map(async ([k, p]) => {
      if (!allowRenew && p.batches.some((b) => b.acknowledgeTypes.includes(4))) {
        out.set(k, { error: 'INVALID_REQUEST', message: 'Renew acknowledgements need IsRenewAck.' });
        return;
      }
      const name = ctx.metadata.topicById(p.topicId)?.name;
      if (name === undefined) {
        out.set(k, { error: 'UNKNOWN_TOPIC_ID', message: null });
        return;
      }
      if (!authorize(ctx, 'READ', 'TOPIC', name)) {
        out.set(k, { error: 'TOPIC_AUTHORIZATION_FAILED', message: null });
        return;
      }
      const r = await ctx.shares.acknowledge(groupId, memberId, p.topicId, p.partition, p.batches);
      out.set(k, { error: r.error, message: r.errorMessage });
    }),
  );
  return out;
}

/** A top-level answer of ShareFetch or ShareAcknowledge: an error and no partitions. */
interface ShareTopLevel {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  acquisitionLockTimeoutMs: number;
  responses: [];
  nodeEndpoints: [];
}

/**
 * What ShareFetch and ShareAcknowledge check first: share groups on (else UNSUPPORTED_VERSION), a
 * group and member id (INVALID_REQUEST), READ on the group (GROUP_AUTHORIZATION_FAILED). Returns the
 * refusal, if any, and the way to answer with a top-level error.
 */
export function sharePrelude(
  ctx: RequestContext,
  req: { groupId?: string | null; memberId?: string | null },
): {
  top: (error: ErrorName, message: string | null) => ShareTopLevel;
  refusal: ShareTopLevel | null;
  groupId: string;
  memberId: string;
  lockMs: number;
} {
  const lockMs = ctx.configs.int('group.share.record.lock.duration.ms');
  const top = (error: ErrorName, message: string | null): ShareTopLevel => ({
    throttleTimeMs: 0,
    errorCode: ErrorCode[error],
    errorMessage: message,
    acquisitionLockTimeoutMs: lockMs,
    responses: [],
    nodeEndpoints: [],
  });
  const groupId = req.groupId ?? '';
  const memberId = req.memberId ?? '';
  const refusal = !ctx.groups.shareGroups.enabled
    ? top('UNSUPPORTED_VERSION', null)
    : groupId === '' || memberId === ''
      ? top('INVALID_REQUEST', 'Missing group id or member id.')
      : !authorize(ctx, 'READ', 'GROUP', groupId)
        ? top('GROUP_AUTHORIZATION_FAILED', null)
        : null;
  return { top, refusal, groupId, memberId, lockMs };
}

export const shareFetchHandler = defineHandler<ShareFetchRequestData, ShareFetchResponseData>({
  apiKey: 78,
  name: 'ShareFetch',
  minVersion: 1,
  maxVersion: 2,
  request: ShareFetchRequest,
  response: ShareFetchResponse,
  async handle(ctx, req) {
    const { top, refusal, groupId, memberId, lockMs } = sharePrelude(ctx, req);
    if (refusal) return refusal;

    const acks: AckPlan = new Map();
    for (const t of req.topics)
      for (const p of t.partitions)
        if (p.acknowledgementBatches.length > 0)
          acks.set(`${t.topicId}:${p.partitionIndex}`, {
            topicId: t.topicId,
            partition: p.partitionIndex,
            batches: p.acknowledgementBatches,
          });

    let session: ShareSession;
    try {
      if (req.shareSessionEpoch === 0) {
        if (acks.size > 0) return top('INVALID_REQUEST', 'Acknowledge data present on initial fetch.');
        session = ctx.shares.sessions.open(groupId, memberId, ctx.signal);
      } else if (req.shareSessionEpoch === -1) {
        session = ctx.shares.sessions.existing(groupId, memberId);
        if (req.topics.some((t) => t.partitions.some((p) => p.acknowledgementBatches.length === 0))) {
          return top('INVALID_REQUEST', 'A final share fetch must not fetch.');
        }
      } else session = ctx.shares.sessions.next(groupId, memberId, req.shareSessionEpoch);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      const e = errorOf(err);
      return top(e.error, e.message);
    }

    const ackResults = await applyAcknowledgements(
      ctx,
      groupId,
      memberId,
      acks,
      ctx.apiVersion >= 2 && req.isRenewAck === true,
    );
    const partitions = new Map<string, ShareFetchResponsePartitionData & { topicId: string }>();
    const entry = (topicId: string, partition: number) => {
      const k = `${topicId}:${partition}`;
      let e = partitions.get(k);
      if (!e) {
        e = {
          topicId,
          partitionIndex: partition,
          errorCode: 0,
          errorMessage: null,
          acknowledgeErrorCode: 0,
          acknowledgeErrorMessage: null,
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
          records: null,
          acquiredRecords: [],
        };
        partitions.set(k, e);
      }
      return e;
    };
    for (const [k, r] of ackResults) {
      const p = acks.get(k)!;
      const e = entry(p.topicId, p.partition);
      e.acknowledgeErrorCode = ErrorCode[r.error];
      e.acknowledgeErrorMessage = r.message;
    }

    if (req.shareSessionEpoch === -1) {
      ctx.shares.sessions.close(session);
    } else {
      // The session's partitions: those named now (authorized and known), less the forgotten ones.
      for (const t of req.topics) {
        const name = ctx.metadata.topicById(t.topicId)?.name;
        for (const p of t.partitions) {
          if (name === undefined) {
            entry(t.topicId, p.partitionIndex).errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
            continue;
          }
          if (!authorize(ctx, 'READ', 'TOPIC', name)) {
            entry(t.topicId, p.partitionIndex).errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
            continue;
          }
          session.add(t.topicId, p.partitionIndex);
        }
      }
      for (const f of req.forgottenTopicsData) for (const p of f.partitions) session.forget(f.topicId, p);
      const maxRecords = req.maxRecords !== undefined && req.maxRecords > 0 ? req.maxRecords : 500;
      // Acknowledgements answered with no fetch wait: the member is waiting for their outcome.
      const maxWaitMs = acks.size > 0 ? 0 : req.maxWaitMs;
      const results = await ctx.shares.fetch(
        session,
        { maxWaitMs, maxBytes: req.maxBytes, maxRecords },
        ctx.signal,
      );
      const throttleTimeMs = ctx.fetchThrottle?.(responseBytes(results)) ?? 0;
      if (throttleTimeMs > 0) {
        // Over the client's consumer_byte_rate or request_percentage (Kafka's ShareFetch shares the
        // fetch quota): no records this time, and what was acquired for them goes back at once
        // rather than waiting out its acquisition lock as Kafka's would (delivery counts stay).
        await Promise.all(
          results
            .filter((r) => r.acquiredRecords.length > 0)
            .map((r) =>
              ctx.shares.acknowledge(
                groupId,
                memberId,
                r.topicId,
                r.partition,
                r.acquiredRecords.map((a) => ({
                  firstOffset: a.firstOffset,
                  lastOffset: a.lastOffset,
                  acknowledgeTypes: [RELEASE],
                })),
              ),
            ),
        );
        return shareResponse(throttleTimeMs, lockMs, partitions);
      }
      for (const r of results) {
        const e = entry(r.topicId, r.partition);
        e.errorCode = ErrorCode[r.error];
        e.errorMessage = r.errorMessage;
        e.records = r.records;
        e.acquiredRecords = r.acquiredRecords;
        e.currentLeader = {
          leaderId: r.leaderEpoch >= 0 ? ctx.configs.nodeId : -1,
          leaderEpoch: r.leaderEpoch,
        };
      }
    }
    return shareResponse(0, lockMs, partitions);
  },
});

/** Kafka's AcknowledgeType RELEASE. */
const RELEASE = 2;

function shareResponse(
  throttleTimeMs: number,
  lockMs: number,
  partitions: ReadonlyMap<string, ShareFetchResponsePartitionData & { topicId: string }>,
): ShareFetchResponseData {
  const byTopic = new Map<string, ShareFetchResponsePartitionData[]>();
  for (const { topicId, ...p } of partitions.values()) {
    if (p.records === null) p.records = Buffer.alloc(0);
    const list = byTopic.get(topicId) ?? [];
    list.push(p);
    byTopic.set(topicId, list);
  }
  return {
    throttleTimeMs,
    errorCode: 0,
    errorMessage: null,
    acquisitionLockTimeoutMs: lockMs,
    responses: [...byTopic].map(([topicId, ps]) => ({ topicId, partitions: ps })),
    nodeEndpoints: [],
  };
}
