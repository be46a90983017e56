/**
 * DescribeTransactions (key 65), v0: state, timeout, start time, producer id/epoch and partitions of
 * each transactional id (`kafka-transactions describe`). An unknown id gets TRANSACTIONAL_ID_NOT_FOUND.
 * Authorization: DESCRIBE on each transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); its
 * topics the principal may not describe are left out.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeTransactionsRequest,
  type DescribeTransactionsRequestData,
  DescribeTransactionsResponse,
  type DescribeTransactionsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';

export const describeTransactionsHandler = defineHandler<
  DescribeTransactionsRequestData,
  DescribeTransactionsResponseData
>({
  apiKey: 65,
  name: 'DescribeTransactions',
  minVersion: 0,
  maxVersion: 0,
  request: DescribeTransactionsRequest,
  response: DescribeTransactionsResponse,
  handle(ctx, req) {
    const tc = ctx.transactions;
    return {
      throttleTimeMs: 0,
      transactionStates: req.transactionalIds.map((id) => {
        if (!allowsAll(ctx) && !authorize(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', id)) {
          return {
            errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            transactionalId: id,
            transactionState: '',
            transactionTimeoutMs: 0,
            transactionStartTimeMs: -1,
            producerId: -1,
            producerEpoch: -1,
            topics: [],
          };
        }
        const { error, ...described } = tc.describeTransaction(id);
        if (allowsAll(ctx)) return { errorCode: ErrorCode[error], ...described };
        // The transaction's topics the principal may not describe are left out.
        return {
          errorCode: ErrorCode[error],
          ...described,
          topics: described.topics.filter((t) => authorize(ctx, 'DESCRIBE', 'TOPIC', t.topic)),
        };
      }),
    };
  },
});
