/**
 * ReadShareGroupState (key 84), v0 (broker-to-broker, KIP-932): a share-partition leader reads
 * the state of its share-partition when it loads it — state epoch, start offset (-1 when never
 * initialized) and the in-flight batches with delivery states and counts. Its leader epoch is
 * stored when newer; an older one than stored is FENCED_LEADER_EPOCH. Errors and authorization:
 * `share-state-rpc.ts`.
 */
import {
  ReadShareGroupStateRequest,
  type ReadShareGroupStateRequestData,
  ReadShareGroupStateResponse,
  type ReadShareGroupStateResponseData,
  type ReadShareGroupStateResponsePartitionResult,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';
import { forEachSharePartition } from './share-state-rpc.js';

export const readShareGroupStateHandler = defineHandler<
  ReadShareGroupStateRequestData,
  ReadShareGroupStateResponseData
>({
  apiKey: 84,
  name: 'ReadShareGroupState',
  minVersion: 0,
  maxVersion: 0,
  request: ReadShareGroupStateRequest,
  response: ReadShareGroupStateResponse,
  async handle(ctx, req) {
    const results = await forEachSharePartition<
      (typeof req.topics)[number]['partitions'][number],
      ReadShareGroupStateResponsePartitionResult
    >(
      ctx,
      'ReadShareGroupState',
      req,
      async (topicId, p) => {
        const s = await ctx.shareCoordinator.readState(req.groupId, topicId, p.partition, p.leaderEpoch);
        return {
          partition: p.partition,
          errorCode: 0,
          errorMessage: null,
          stateEpoch: s.stateEpoch,
          startOffset: s.startOffset,
          stateBatches: s.stateBatches,
        };
      },
      (e) => ({ ...e, stateEpoch: 0, startOffset: -1, stateBatches: [] }),
    );
    return { results };
  },
});
