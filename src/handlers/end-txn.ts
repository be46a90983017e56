/**
 * EndTxn (key 26), v0–4: commits or aborts the producer's transaction (markers written to every
 * partition in it before the answer on a single broker). v1 same; v2 PRODUCER_FENCED (v0–1 get
 * INVALID_PRODUCER_EPOCH); v3 flexible; v4 same. v5 (transactions V2, KIP-890) is not advertised.
 * EndTxn without a transaction (state Empty) is INVALID_TXN_STATE; an unknown id or producer id
 * INVALID_PRODUCER_ID_MAPPING.
 * Authorization: WRITE on the transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  EndTxnRequest,
  type EndTxnRequestData,
  EndTxnResponse,
  type EndTxnResponseData,
} from '../protocol/generated/messages.js';
import { authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { txnErrorCode } from './txn-errors.js';

export const endTxnHandler = defineHandler<EndTxnRequestData, EndTxnResponseData>({
  apiKey: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 4,
  request: EndTxnRequest,
  response: EndTxnResponse,
  async handle(ctx, req) {
    if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    }
    const error = await ctx.transactions.handleEndTransaction(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed ? 'COMMIT' : 'ABORT',
    );
    return { throttleTimeMs: 0, errorCode: txnErrorCode(error, ctx.apiVersion, 2) };
  },
});
