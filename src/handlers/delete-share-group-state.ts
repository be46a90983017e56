/**
 * DeleteShareGroupState (key 86), v0 (broker-to-broker, KIP-932): the state of share-partitions is
 * deleted (DeleteGroups of a share group, DeleteShareGroupOffsets): tombstones for their
 * ShareSnapshot and ShareUpdate keys in `__share_group_state`. Errors and authorization:
 * `share-state-rpc.ts`.
 */
import {
  DeleteShareGroupStateRequest,
  type DeleteShareGroupStateRequestData,
  DeleteShareGroupStateResponse,
  type DeleteShareGroupStateResponseData,
  type DeleteShareGroupStateResponsePartitionResult,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';
import { forEachSharePartition } from './share-state-rpc.js';

export const deleteShareGroupStateHandler = defineHandler<
  DeleteShareGroupStateRequestData,
  DeleteShareGroupStateResponseData
>({
  apiKey: 86,
  name: 'DeleteShareGroupState',
  minVersion: 0,
  maxVersion: 0,
  request: DeleteShareGroupStateRequest,
  response: DeleteShareGroupStateResponse,
  async handle(ctx, req) {
    const results = await forEachSharePartition<
      (typeof req.topics)[number]['partitions'][number],
      DeleteShareGroupStateResponsePartitionResult
    >(
      ctx,
      'DeleteShareGroupState',
      req,
      async (topicId, p) => {
        await ctx.shareCoordinator.deleteState(req.groupId, topicId, p.partition);
        return { partition: p.partition, errorCode: 0, errorMessage: null };
      },
      (e) => e,
    );
    return { results };
  },
});
