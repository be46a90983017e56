/**
 * InitializeShareGroupState (key 83), v0 (broker-to-broker, KIP-932): a share-partition's state
 * starts again at a start offset and state epoch, nothing in flight (AlterShareGroupOffsets sends
 * the stored state epoch + 1). The share coordinator of each key answers for it; a state epoch
 * older than the stored one is FENCED_STATE_EPOCH. Errors and authorization: `share-state-rpc.ts`.
 */
import {
  InitializeShareGroupStateRequest,
  type InitializeShareGroupStateRequestData,
  InitializeShareGroupStateResponse,
  type InitializeShareGroupStateResponseData,
  type InitializeShareGroupStateResponsePartitionResult,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';
import { forEachSharePartition } from './share-state-rpc.js';

export const initializeShareGroupStateHandler = defineHandler<
  InitializeShareGroupStateRequestData,
  InitializeShareGroupStateResponseData
>({
  apiKey: 83,
  name: 'InitializeShareGroupState',
  minVersion: 0,
  maxVersion: 0,
  request: InitializeShareGroupStateRequest,
  response: InitializeShareGroupStateResponse,
  async handle(ctx, req) {
    const results = await forEachSharePartition<
      (typeof req.topics)[number]['partitions'][number],
      InitializeShareGroupStateResponsePartitionResult
    >(
      ctx,
      'InitializeShareGroupState',
      req,
      async (topicId, p) => {
        await ctx.shareCoordinator.initializeState(
          req.groupId,
          topicId,
          p.partition,
          p.stateEpoch,
          p.startOffset,
        );
        return { partition: p.partition, errorCode: 0, errorMessage: null };
      },
      (e) => e,
    );
    return { results };
  },
});
