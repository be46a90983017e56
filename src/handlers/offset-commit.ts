/**
 * OffsetCommit (key 8), v2–10 (v0–1 were removed in Kafka 4).
 * v2–4 retentionTimeMs (-1 = broker retention; otherwise the offset expires that long after the
 * commit); v3 throttle time; v5 drops retentionTimeMs; v6 committedLeaderEpoch; v7
 * groupInstanceId; v8 flexible; v9 GROUP_ID_NOT_FOUND for a member commit to a missing group;
 * v10 names topics by id (KIP-848): an id the metadata image does not know answers every partition
 * of it UNKNOWN_TOPIC_ID, as Kafka's KafkaApis. Offsets are still stored by topic name.
 * A generation of -1 with an empty member id (admin, standalone consumer) commits only to an
 * Empty group. A partition of a topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION; the
 * others are committed together in one `__consumer_offsets` batch.
 * Authorization: READ on the group (else every partition GROUP_AUTHORIZATION_FAILED) and READ on
 * each topic (else TOPIC_AUTHORIZATION_FAILED).
 */

import type { OffsetCommitEntry } from '../coordinator/group-coordinator.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  OffsetCommitRequest,
  type OffsetCommitRequestData,
  OffsetCommitResponse,
  type OffsetCommitResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, filterAuthorized } from './authz.js';
import { defineHandler, type RequestContext } from './handler.js';
import { ZERO_UUID } from './topic-admin.js';

const DEFAULT_RETENTION_TIME = -1;
/** The first version naming topics by id instead of by name. */
export const TOPIC_ID_VERSION = 10;

/** A request topic's name: its name before v10, the image's name for its id from v10 (undefined if unknown). */
export function topicNameOf(
  ctx: Pick<RequestContext, 'metadata'>,
  apiVersion: number,
  t: { name?: string | null; topicId?: string },
): string | undefined {
  if (apiVersion < TOPIC_ID_VERSION) return t.name ?? '';
  return ctx.metadata.topicById(t.topicId ?? ZERO_UUID)?.name;
}

export const offsetCommitHandler = defineHandler<OffsetCommitRequestData, OffsetCommitResponseData>({
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 10,
  request: OffsetCommitRequest,
  response: OffsetCommitResponse,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const retention = v <= 4 ? (req.retentionTimeMs ?? DEFAULT_RETENTION_TIME) : DEFAULT_RETENTION_TIME;
    const expireTimestamp = retention === DEFAULT_RETENTION_TIME ? null : ctx.time.now() + retention;
    const entries: OffsetCommitEntry[] = [];
    const slots: { topic: number; partition: number }[] = [];
    let groupDenied = false;
    let readable: Set<string> | null = null;
    const names = req.topics.map((t) => topicNameOf(ctx, v, t));
    if (!allowsAll(ctx)) {
      groupDenied = !authorize(ctx, 'READ', 'GROUP', req.groupId);
      readable = filterAuthorized(ctx, 'READ', 'TOPIC', names, (n) => n ?? '');
    }
    const topics = req.topics.map((t, ti) => ({
      name: names[ti] ?? '',
      topicId: t.topicId ?? ZERO_UUID,
      partitions: t.partitions.map((p, pi) => {
        const name = names[ti];
        if (name === undefined) {
          return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_ID as number };
        }
        if (groupDenied || (readable !== null && !readable.has(name))) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: (groupDenied
              ? ErrorCode.GROUP_AUTHORIZATION_FAILED
              : ErrorCode.TOPIC_AUTHORIZATION_FAILED) as number,
          };
        }
        // Any partition of the cluster's metadata, hosted here or not (Kafka: metadataCache.contains).
        if (!ctx.metadata.topic(name)?.partitions[p.partitionIndex]) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION as number,
          };
        }
        entries.push({
          topic: name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: v >= 6 ? (p.committedLeaderEpoch ?? -1) : -1,
          metadata: p.committedMetadata,
          expireTimestamp,
        });
        slots.push({ topic: ti, partition: pi });
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number };
      }),
    }));
    if (entries.length > 0) {
      const errors = await ctx.groups.commitOffsets(
        req.groupId,
        req.memberId ?? '',
        v >= 7 ? (req.groupInstanceId ?? null) : null,
        req.generationIdOrMemberEpoch ?? -1,
        entries,
        v,
      );
      errors.forEach((error, i) => {
        const s = slots[i]!;
        topics[s.topic]!.partitions[s.partition]!.errorCode = ErrorCode[error];
      });
    }
    return { throttleTimeMs: 0, topics };
  },
});
