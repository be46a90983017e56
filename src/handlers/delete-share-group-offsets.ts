/**
 * DeleteShareGroupOffsets (key 92), v0: deletes the share state of whole topics of an empty
 * share group (`kafka-share-groups --delete-offsets`, Admin.deleteShareGroupOffsets): the share
 * coordinator writes tombstones for each initialized partition and the group forgets the topic
 * (ShareGroupStatePartitionMetadata); a later member starts it afresh by share.auto.offset.reset.
 * A group with members is NON_EMPTY_GROUP, a missing one GROUP_ID_NOT_FOUND (top-level).
 * Authorization: DELETE on the group, READ on each topic.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DeleteShareGroupOffsetsRequest,
  type DeleteShareGroupOffsetsRequestData,
  DeleteShareGroupOffsetsResponse,
  type DeleteShareGroupOffsetsResponseData,
} from '../protocol/generated/messages.js';
import { errorOf } from '../protocol/kafka-error.js';
import { authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { ZERO_UUID } from './topic-admin.js';

export const deleteShareGroupOffsetsHandler = defineHandler<
  DeleteShareGroupOffsetsRequestData,
  DeleteShareGroupOffsetsResponseData
>({
  apiKey: 92,
  name: 'DeleteShareGroupOffsets',
  minVersion: 0,
  maxVersion: 0,
  request: DeleteShareGroupOffsetsRequest,
  response: DeleteShareGroupOffsetsResponse,
  async handle(ctx, req) {
    const top = (errorCode: number, errorMessage: string | null) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      responses: [],
    });
    if (!ctx.groups.shareGroups.enabled) return top(ErrorCode.UNSUPPORTED_VERSION, null);
    if (!authorize(ctx, 'DELETE', 'GROUP', req.groupId))
      return top(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    const found = ctx.groups.shareGroups.lookup(req.groupId, true);
    if (!found.group) return top(ErrorCode[found.error], found.message);
    const group = found.group;
    const removed: string[] = [];
    const responses = await Promise.all(
      req.topics.map(async (t) => {
        const answer = (topicId: string, errorCode: number, errorMessage: string | null = null) => ({
          topicName: t.topicName,
          topicId,
          errorCode,
          errorMessage,
        });
        if (!authorize(ctx, 'READ', 'TOPIC', t.topicName))
          return answer(ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const topic = ctx.metadata.topic(t.topicName);
        if (!topic) return answer(ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        const init = group.initialized.get(topic.topicId);
        try {
          for (const p of init?.partitions ?? []) await ctx.shares.deleteState(req.groupId, topic.topicId, p);
          removed.push(topic.topicId);
          return answer(topic.topicId, 0);
        } catch (err) {
          const e = errorOf(err);
          return answer(topic.topicId, e.code, e.message);
        }
      }),
    );
    if (removed.length > 0) await ctx.groups.shareGroups.updateInitialized(req.groupId, [], removed);
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses };
  },
});
