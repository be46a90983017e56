/**
 * WriteShareGroupState (key 85), v0–1 (broker-to-broker, KIP-932): a share-partition leader stores
 * what changed in its share-partition (start offset, changed batches) once acknowledgements,
 * releases or lock expiries change it; answered once durable in `__share_group_state`. v1 adds
 * DeliveryCompleteCount (ignorable; the coordinator counts from the batches it holds). A leader
 * epoch older than stored is FENCED_LEADER_EPOCH, a state epoch older than stored (the state was
 * initialized again since) FENCED_STATE_EPOCH. Errors and authorization: `share-state-rpc.ts`.
 */
import {
  WriteShareGroupStateRequest,
  type WriteShareGroupStateRequestData,
  WriteShareGroupStateResponse,
  type WriteShareGroupStateResponseData,
  type WriteShareGroupStateResponsePartitionResult,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';
import { forEachSharePartition } from './share-state-rpc.js';

export const writeShareGroupStateHandler = defineHandler<
  WriteShareGroupStateRequestData,
  WriteShareGroupStateResponseData
>({
  apiKey: 85,
  name: 'WriteShareGroupState',
  minVersion: 0,
  maxVersion: 1,
  request: WriteShareGroupStateRequest,
  response: WriteShareGroupStateResponse,
  async handle(ctx, req) {
    const results = await forEachSharePartition<
      (typeof req.topics)[number]['partitions'][number],
      WriteShareGroupStateResponsePartitionResult
    >(
      ctx,
      'WriteShareGroupState',
      req,
      async (topicId, p) => {
        await ctx.shareCoordinator.writeState(
          req.groupId,
          topicId,
          p.partition,
          p.stateEpoch,
          p.leaderEpoch,
          p.startOffset,
          p.stateBatches,
        );
        return { partition: p.partition, errorCode: 0, errorMessage: null };
      },
      (e) => e,
    );
    return { results };
  },
});
