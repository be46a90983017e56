/**
 * OffsetCommit (key 8), v2–9 (v0–1 were removed in Kafka 4).
 * v2–4 retentionTimeMs (-1 = broker retention; otherwise the offset expires that long after the
 * commit); v3 throttle time; v5 drops retentionTimeMs; v6 committedLeaderEpoch; v7
 * groupInstanceId; v8 flexible; v9 GROUP_ID_NOT_FOUND for a member commit to a missing group.
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
import { defineHandler } from './handler.js';

const DEFAULT_RETENTION_TIME = -1;

export const offsetCommitHandler = defineHandler<OffsetCommitRequestData, OffsetCommitResponseData>({
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 9,
  request: OffsetCommitRequest,
  response: OffsetCommitResponse,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const rm = ctx.replicas;
    const retention = v <= 4 ? (req.retentionTimeMs ?? DEFAULT_RETENTION_TIME) : DEFAULT_RETENTION_TIME;
    const expireTimestamp = retention === DEFAULT_RETENTION_TIME ? null : ctx.time.now() + retention;
    const entries: OffsetCommitEntry[] = [];
    const slots: { topic: number; partition: number }[] = [];
    let groupDenied = false;
    let readable: Set<string> | null = null;
    if (!allowsAll(ctx)) {
      groupDenied = !authorize(ctx, 'READ', 'GROUP', req.groupId);
      readable = filterAuthorized(ctx, 'READ', 'TOPIC', req.topics, (t) => t.name!);
    }
    const topics = req.topics.map((t, ti) => ({
      name: t.name!, // v10's topic ids are not served: v2–9 always carry names
      partitions: t.partitions.map((p, pi) => {
        if (groupDenied || (readable !== null && !readable.has(t.name!))) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: (groupDenied
              ? ErrorCode.GROUP_AUTHORIZATION_FAILED
              : ErrorCode.TOPIC_AUTHORIZATION_FAILED) as number,
          };
        }
        if (!rm.getPartition(t.name!, p.partitionIndex)) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION as number,
          };
        }
        entries.push({
          topic: t.name!,
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
