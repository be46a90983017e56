/**
 * DescribeShareGroupOffsets (key 90), v0–1: each share-partition's start offset (SPSO) and leader
 * epoch as the share coordinator stores them — `kafka-share-groups --describe` and
 * Admin.listShareGroupOffsets. Topics null: every partition whose share state the group
 * initialized (ShareGroupStatePartitionMetadata). A partition never initialized answers start
 * offset -1. v1 adds the lag: high watermark − SPSO − records already done with above SPSO.
 * Group errors: GROUP_ID_NOT_FOUND (no share group of that id), NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE. Authorization: DESCRIBE on the group; topics the principal may not
 * describe are TOPIC_AUTHORIZATION_FAILED.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeShareGroupOffsetsRequest,
  type DescribeShareGroupOffsetsRequestData,
  DescribeShareGroupOffsetsResponse,
  type DescribeShareGroupOffsetsResponseData,
} from '../protocol/generated/messages.js';
import { authorize } from './authz.js';
import { defineHandler, type RequestContext } from './handler.js';
import { ZERO_UUID } from './topic-admin.js';

type GroupResult = DescribeShareGroupOffsetsResponseData['groups'][number];

async function describeGroup(
  ctx: RequestContext,
  groupId: string,
  topics: DescribeShareGroupOffsetsRequestData['groups'][number]['topics'],
): Promise<GroupResult> {
  const fail = (errorCode: number, errorMessage: string | null): GroupResult => ({
    groupId,
    topics: [],
    errorCode,
    errorMessage,
  });
  if (!ctx.groups.shareGroups.enabled) return fail(ErrorCode.UNSUPPORTED_VERSION, null);
  if (!authorize(ctx, 'DESCRIBE', 'GROUP', groupId)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
  const found = ctx.groups.shareGroups.lookup(groupId, false);
  if (!found.group) return fail(ErrorCode[found.error], found.message);
  const wanted =
    topics ??
    [...found.group.initialized].map(([topicId, t]) => ({
      topicName: ctx.metadata.topicById(topicId)?.name ?? t.topicName,
      partitions: [...t.partitions].sort((a, b) => a - b),
    }));
  const out: GroupResult['topics'] = [];
  for (const t of wanted) {
    const topic = ctx.metadata.topic(t.topicName);
    const partition = (partitionIndex: number, errorCode: number) => ({
      partitionIndex,
      startOffset: -1,
      leaderEpoch: -1,
      lag: -1,
      errorCode,
      errorMessage: null,
    });
    if (!authorize(ctx, 'DESCRIBE', 'TOPIC', t.topicName)) {
      out.push({
        topicName: t.topicName,
        topicId: ZERO_UUID,
        partitions: t.partitions.map((p) => partition(p, ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
      });
      continue;
    }
    if (!topic) {
      out.push({
        topicName: t.topicName,
        topicId: ZERO_UUID,
        partitions: t.partitions.map((p) => partition(p, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)),
      });
      continue;
    }
    const partitions = await Promise.all(
      t.partitions.map(async (p) => {
        if (p < 0 || p >= topic.partitions.length) return partition(p, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        const d = await ctx.shares.describeOffset(groupId, topic.topicId, p);
        const hw = ctx.replicas.getPartition(t.topicName, p)?.highWatermark;
        const lag =
          d.startOffset < 0 || hw === undefined ? -1 : Math.max(0, hw - d.startOffset - d.completeAbove);
        return {
          partitionIndex: p,
          startOffset: d.startOffset,
          leaderEpoch: d.leaderEpoch,
          lag,
          errorCode: 0,
          errorMessage: null,
        };
      }),
    );
    out.push({ topicName: t.topicName, topicId: topic.topicId, partitions });
  }
  return { groupId, topics: out, errorCode: 0, errorMessage: null };
}

export const describeShareGroupOffsetsHandler = defineHandler<
  DescribeShareGroupOffsetsRequestData,
  DescribeShareGroupOffsetsResponseData
>({
  apiKey: 90,
  name: 'DescribeShareGroupOffsets',
  minVersion: 0,
  maxVersion: 1,
  request: DescribeShareGroupOffsetsRequest,
  response: DescribeShareGroupOffsetsResponse,
  async handle(ctx, req) {
    return {
      throttleTimeMs: 0,
      groups: await Promise.all(req.groups.map((g) => describeGroup(ctx, g.groupId, g.topics))),
    };
  },
});
