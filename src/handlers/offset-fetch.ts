/**
 * OffsetFetch (key 9), v1–9 (v0 read offsets from ZooKeeper and was removed in Kafka 4).
 * v1: per-partition errors only; v2 top-level errorCode and topics=null for every committed
 * offset of the group; v3 throttle time; v5 committedLeaderEpoch; v6 flexible; v7 requireStable;
 * v8+ batched `groups` layout, one result per group; v9 memberId/memberEpoch (KIP-848 members
 * only: a consumer group answers UNKNOWN_MEMBER_ID / STALE_MEMBER_EPOCH for a member not at its
 * epoch; a classic group does not check them, as Kafka's ClassicGroup.validateOffsetFetch); v10
 * names topics by id (KIP-848): an unknown id answers its partitions UNKNOWN_TOPIC_ID, and an
 * all-topics answer carries each topic's id, leaving out offsets of topics no longer in the image
 * (they have no id to name them by).
 * A partition without a committed offset answers -1 with no error. requireStable (KIP-447, v7+,
 * sent by read_committed consumers): a partition of the group with a transactional offset commit
 * still pending (TxnOffsetCommit whose transaction has no marker yet) answers
 * UNSTABLE_OFFSET_COMMIT with offset -1, as Kafka's GroupMetadataManager.getOffsets; the client
 * retries until the transaction completes. With topics=null only committed partitions are listed,
 * so the check applies to those.
 * Authorization: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED) and on each topic.
 */
import type { GroupCoordinator } from '../coordinator/group-coordinator.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  OffsetFetchRequest,
  type OffsetFetchRequestData,
  OffsetFetchResponse,
  type OffsetFetchResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { TOPIC_ID_VERSION, topicNameOf } from './offset-commit.js';

type FetchResult = ReturnType<GroupCoordinator['fetchOffsets']>;

/** Marks partitions with pending transactional offsets UNSTABLE_OFFSET_COMMIT (requireStable). */
function markUnstable(
  groupId: string,
  r: FetchResult,
  pending: Pick<GroupCoordinator, 'hasPendingTxnOffsets'>,
): FetchResult {
  if (r.error !== 'NONE') return r;
  return {
    error: r.error,
    topics: r.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) =>
        pending.hasPendingTxnOffsets(groupId, t.name, p.partitionIndex)
          ? {
              partitionIndex: p.partitionIndex,
              committedOffset: -1,
              committedLeaderEpoch: -1,
              metadata: '',
              error: 'UNSTABLE_OFFSET_COMMIT' as const,
            }
          : p,
      ),
    })),
  };
}

/** The topics of a fetch result as they go on the wire: each partition's error as its code. */
function wireTopics(topics: FetchResult['topics']) {
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map(({ error, ...p }) => ({ ...p, errorCode: ErrorCode[error] })),
  }));
}

export const offsetFetchHandler = defineHandler<OffsetFetchRequestData, OffsetFetchResponseData>({
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 10,
  request: OffsetFetchRequest,
  response: OffsetFetchResponse,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const coordinator = ctx.groups;
    const requireStable = v >= 7 && req.requireStable === true;
    const fetch = (
      groupId: string,
      topics: Parameters<GroupCoordinator['fetchOffsets']>[1],
      member?: { memberId: string | null; memberEpoch: number },
    ): FetchResult => {
      if (!allowsAll(ctx) && !authorize(ctx, 'DESCRIBE', 'GROUP', groupId)) {
        return { error: 'GROUP_AUTHORIZATION_FAILED', topics: [] };
      }
      const r = coordinator.fetchOffsets(groupId, topics, member);
      const described = requireStable ? markUnstable(groupId, r, coordinator) : r;
      if (allowsAll(ctx)) return described;
      // Offsets of topics the principal may not describe are not shown: left out of an all-topics
      // answer, TOPIC_AUTHORIZATION_FAILED for a named topic.
      return {
        ...described,
        topics: described.topics
          .filter((t) => topics !== null || authorize(ctx, 'DESCRIBE', 'TOPIC', t.name))
          .map((t) =>
            authorize(ctx, 'DESCRIBE', 'TOPIC', t.name)
              ? t
              : {
                  ...t,
                  partitions: t.partitions.map((p) => ({
                    ...p,
                    committedOffset: -1,
                    committedLeaderEpoch: -1,
                    metadata: '',
                    error: 'TOPIC_AUTHORIZATION_FAILED' as const,
                  })),
                },
          ),
      };
    };
    if (v >= 8) {
      return {
        throttleTimeMs: 0,
        groups: (req.groups ?? []).map((g) => {
          const requested = g.topics?.map((t) => ({ t, name: topicNameOf(ctx, v, t) }));
          const topics = requested?.flatMap(({ t, name }) =>
            name === undefined ? [] : [{ name, partitionIndexes: t.partitionIndexes }],
          );
          const member =
            v >= 9 ? { memberId: g.memberId ?? null, memberEpoch: g.memberEpoch ?? -1 } : undefined;
          const r = fetch(g.groupId, topics ?? null, member);
          if (v < TOPIC_ID_VERSION) {
            return { groupId: g.groupId, errorCode: ErrorCode[r.error], topics: wireTopics(r.topics) };
          }
          const answered = wireTopics(r.topics).flatMap((t) => {
            const topicId = ctx.metadata.topic(t.name)?.topicId;
            return topicId === undefined ? [] : [{ ...t, topicId }];
          });
          const unknown = (requested ?? [])
            .filter(({ name }) => name === undefined)
            .map(({ t }) => ({
              name: '',
              topicId: t.topicId,
              partitions: t.partitionIndexes.map((partitionIndex) => ({
                partitionIndex,
                committedOffset: -1,
                committedLeaderEpoch: -1,
                metadata: '',
                errorCode: ErrorCode.UNKNOWN_TOPIC_ID as number,
              })),
            }));
          return { groupId: g.groupId, errorCode: ErrorCode[r.error], topics: [...answered, ...unknown] };
        }),
      };
    }
    const topics = v >= 2 ? (req.topics ?? null) : (req.topics ?? []);
    const r = fetch(req.groupId ?? '', topics);
    if (v < 2 && r.error !== 'NONE') {
      // v1 has no top-level error: every requested partition carries it.
      return {
        throttleTimeMs: 0,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: ErrorCode[r.error],
          })),
        })),
      };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode[r.error], topics: wireTopics(r.topics) };
  },
});
