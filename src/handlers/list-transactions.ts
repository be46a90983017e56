/**
 * ListTransactions (key 66), v0–1 (`kafka-transactions list`): every transactional id with its
 * producer id and state, filtered by states (unknown names are echoed in unknownStateFilters) and
 * producer ids; v1 adds durationFilter (only transactions running at least that many ms; -1 = all).
 * Authorization: only the transactional ids the principal may DESCRIBE are listed.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ListTransactionsRequest,
  type ListTransactionsRequestData,
  ListTransactionsResponse,
  type ListTransactionsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';

export const listTransactionsHandler = defineHandler<
  ListTransactionsRequestData,
  ListTransactionsResponseData
>({
  apiKey: 66,
  name: 'ListTransactions',
  minVersion: 0,
  maxVersion: 1,
  request: ListTransactionsRequest,
  response: ListTransactionsResponse,
  handle(ctx, req) {
    const { error, ...r } = ctx.transactions.listTransactions(
      req.stateFilters,
      req.producerIdFilters,
      req.durationFilter ?? -1,
    );
    if (allowsAll(ctx)) return { throttleTimeMs: 0, errorCode: ErrorCode[error], ...r };
    // Only the transactional ids the principal may describe.
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode[error],
      ...r,
      transactionStates: r.transactionStates.filter((t) =>
        authorize(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', t.transactionalId),
      ),
    };
  },
});
