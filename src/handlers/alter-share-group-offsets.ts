/**
 * AlterShareGroupOffsets (key 91), v0: sets the start offset of share-partitions of an empty
 * share group (`kafka-share-groups --reset-offsets`, Admin.alterShareGroupOffsets): each one's
 * state restarts there with nothing in flight (a new ShareSnapshot, state epoch bumped), and the
 * partitions are recorded as initialized for the group. A group with members is NON_EMPTY_GROUP
 * (top-level); a missing one is made, empty, as Kafka does (so offsets can be set before the
 * first member joins); an id of another group type is GROUP_ID_NOT_FOUND. Authorization: READ on the group, READ on each topic.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  AlterShareGroupOffsetsRequest,
  type AlterShareGroupOffsetsRequestData,
  AlterShareGroupOffsetsResponse,
  type AlterShareGroupOffsetsResponseData,
} from '../protocol/generated/messages.js';
import { errorOf } from '../protocol/kafka-error.js';
import { authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { ZERO_UUID } from './topic-admin.js';

export const alterShareGroupOffsetsHandler = defineHandler<
  AlterShareGroupOffsetsRequestData,
  AlterShareGroupOffsetsResponseData
>({
  apiKey: 91,
  name: 'AlterShareGroupOffsets',
  minVersion: 0,
  maxVersion: 0,
  request: AlterShareGroupOffsetsRequest,
  response: AlterShareGroupOffsetsResponse,
  async handle(ctx, req) {
    const top = (errorCode: number, errorMessage: string | null) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      responses: [],
    });
    if (!ctx.groups.shareGroups.enabled) return top(ErrorCode.UNSUPPORTED_VERSION, null);
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return top(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    const found = ctx.groups.shareGroups.lookup(req.groupId, true, true);
    if (!found.group) return top(ErrorCode[found.error], found.message);
    const added: { topicId: string; topicName: string; partition: number }[] = [];
    const responses = await Promise.all(
      req.topics.map(async (t) => {
        const topic = ctx.metadata.topic(t.topicName);
        const each = (errorCode: number, errorMessage: string | null = null) =>
          t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage }));
        if (!authorize(ctx, 'READ', 'TOPIC', t.topicName))
          return {
            topicName: t.topicName,
            topicId: ZERO_UUID,
            partitions: each(ErrorCode.TOPIC_AUTHORIZATION_FAILED),
          };
        if (!topic)
          return {
            topicName: t.topicName,
            topicId: ZERO_UUID,
            partitions: each(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
          };
        const partitions = await Promise.all(
          t.partitions.map(async (p) => {
            if (p.partitionIndex < 0 || p.partitionIndex >= topic.partitions.length || p.startOffset < 0)
              return {
                partitionIndex: p.partitionIndex,
                errorCode:
                  p.startOffset < 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                errorMessage: null,
              };
            try {
              await ctx.shares.alterOffset(req.groupId, topic.topicId, p.partitionIndex, p.startOffset);
              added.push({ topicId: topic.topicId, topicName: t.topicName, partition: p.partitionIndex });
              return { partitionIndex: p.partitionIndex, errorCode: 0, errorMessage: null };
            } catch (err) {
              const e = errorOf(err);
              return { partitionIndex: p.partitionIndex, errorCode: e.code, errorMessage: e.message };
            }
          }),
        );
        return { topicName: t.topicName, topicId: topic.topicId, partitions };
      }),
    );
    if (added.length > 0) await ctx.groups.shareGroups.updateInitialized(req.groupId, added, []);
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses };
  },
});
