/**
 * DescribeTransactions (key 65), v0: state, timeout, start time, producer id/epoch and partitions of
 * each transactional id (`kafka-transactions describe`). An unknown id gets TRANSACTIONAL_ID_NOT_FOUND.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeTransactionsRequest,
  type DescribeTransactionsRequestData,
  DescribeTransactionsResponse,
  type DescribeTransactionsResponseData,
} from '../protocol/generated/messages.js';
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
        const { error, ...described } = tc.describeTransaction(id);
        return { errorCode: ErrorCode[error], ...described };
      }),
    };
  },
});
