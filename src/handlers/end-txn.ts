/**
 * EndTxn (key 26), v0–5: commits or aborts the producer's transaction (answered once the markers
 * are written to every partition's leader and the transaction is complete). v1 same; v2
 * PRODUCER_FENCED (v0–1 get INVALID_PRODUCER_EPOCH); v3 flexible; v4 TRANSACTION_ABORTABLE; v5
 * transactions V2 (KIP-890 part 2): the coordinator bumps the producer epoch with every commit or
 * abort and answers the producer id and epoch to continue with.
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

/** EndTxn v5+: the client speaks transactions V2. */
const TRANSACTIONS_V2_VERSION = 5;

export const endTxnHandler = defineHandler<EndTxnRequestData, EndTxnResponseData>({
  apiKey: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 5,
  request: EndTxnRequest,
  response: EndTxnResponse,
  async handle(ctx, req) {
    if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    }
    const r = await ctx.transactions.handleEndTransactionVersioned(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed ? 'COMMIT' : 'ABORT',
      ctx.apiVersion >= TRANSACTIONS_V2_VERSION ? 2 : 0,
    );
    return {
      throttleTimeMs: 0,
      errorCode: txnErrorCode(r.error, ctx.apiVersion, 2),
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
    };
  },
});
