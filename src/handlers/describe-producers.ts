/**
 * DescribeProducers (key 61), v0: the active producers of each partition from its producer state
 * (id, epoch, last sequence and timestamp, coordinator epoch, first offset of the open transaction
 * or -1), what `kafka-transactions describe-producers` prints. Unknown partitions get
 * UNKNOWN_TOPIC_OR_PARTITION.
 * Authorization: READ on each topic, else TOPIC_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeProducersRequest,
  type DescribeProducersRequestData,
  DescribeProducersResponse,
  type DescribeProducersResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';

export const describeProducersHandler = defineHandler<
  DescribeProducersRequestData,
  DescribeProducersResponseData
>({
  apiKey: 61,
  name: 'DescribeProducers',
  minVersion: 0,
  maxVersion: 0,
  request: DescribeProducersRequest,
  response: DescribeProducersResponse,
  handle(ctx, req) {
    const rm = ctx.replicas;
    const readable = allowsAll(ctx)
      ? null
      : filterAuthorized(ctx, 'READ', 'TOPIC', req.topics, (t) => t.name);
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((index) => {
          if (readable !== null && !readable.has(t.name)) {
            return {
              partitionIndex: index,
              errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              errorMessage: null,
              activeProducers: [],
            };
          }
          const p = rm.getPartition(t.name, index);
          if (!p) {
            return {
              partitionIndex: index,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              errorMessage: null,
              activeProducers: [],
            };
          }
          return {
            partitionIndex: index,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            activeProducers: p.log.producerStateManager.activeProducers().map((e) => ({
              producerId: e.producerId,
              producerEpoch: e.producerEpoch,
              lastSequence: e.lastSeq,
              lastTimestamp: e.lastTimestamp,
              coordinatorEpoch: e.coordinatorEpoch,
              currentTxnStartOffset: e.currentTxnFirstOffset,
            })),
          };
        }),
      })),
    };
  },
});
