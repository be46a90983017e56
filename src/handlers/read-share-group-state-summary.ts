/**
 * ReadShareGroupStateSummary (key 87), v0–1 (broker-to-broker, KIP-932): a share-partition's state
 * epoch, leader epoch and start offset without its batches (AlterShareGroupOffsets reads the state
 * epoch to initialize the next one). v1 adds DeliveryCompleteCount: the offsets at or above the
 * start offset already acknowledged or archived. An older leader epoch than stored is
 * FENCED_LEADER_EPOCH (-1: not checked). Errors and authorization: `share-state-rpc.ts`.
 */
import {
  ReadShareGroupStateSummaryRequest,
  type ReadShareGroupStateSummaryRequestData,
  ReadShareGroupStateSummaryResponse,
  type ReadShareGroupStateSummaryResponseData,
  type ReadShareGroupStateSummaryResponsePartitionResult,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';
import { forEachSharePartition } from './share-state-rpc.js';

export const readShareGroupStateSummaryHandler = defineHandler<
  ReadShareGroupStateSummaryRequestData,
  ReadShareGroupStateSummaryResponseData
>({
  apiKey: 87,
  name: 'ReadShareGroupStateSummary',
  minVersion: 0,
  maxVersion: 1,
  request: ReadShareGroupStateSummaryRequest,
  response: ReadShareGroupStateSummaryResponse,
  async handle(ctx, req) {
    const results = await forEachSharePartition<
      (typeof req.topics)[number]['partitions'][number],
      ReadShareGroupStateSummaryResponsePartitionResult
    >(
      ctx,
      'ReadShareGroupStateSummary',
      req,
      (topicId, p) => {
        const s = ctx.shareCoordinator.readStateSummary(req.groupId, topicId, p.partition, p.leaderEpoch);
        return { partition: p.partition, errorCode: 0, errorMessage: null, ...s };
      },
      (e) => ({ ...e, stateEpoch: 0, leaderEpoch: -1, startOffset: -1, deliveryCompleteCount: -1 }),
    );
    return { results };
  },
});
