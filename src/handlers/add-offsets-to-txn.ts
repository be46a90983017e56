/**
 * AddOffsetsToTxn (key 25), v0–4: adds the group's `__consumer_offsets` partition to the
 * transaction, so that TxnOffsetCommit may stage offsets there and EndTxn writes a marker there.
 * v1 same; v2 PRODUCER_FENCED (v0–1 get INVALID_PRODUCER_EPOCH); v3 flexible; v4 same.
 * Authorization: WRITE on the transactional id, then READ on the group.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  AddOffsetsToTxnRequest,
  type AddOffsetsToTxnRequestData,
  AddOffsetsToTxnResponse,
  type AddOffsetsToTxnResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { txnErrorCode } from './txn-errors.js';

export const addOffsetsToTxnHandler = defineHandler<AddOffsetsToTxnRequestData, AddOffsetsToTxnResponseData>({
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 4,
  request: AddOffsetsToTxnRequest,
  response: AddOffsetsToTxnResponse,
  async handle(ctx, req) {
    if (!allowsAll(ctx)) {
      if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      }
      if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
      }
    }
    if (!req.groupId) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID };
    const error = await ctx.transactions.handleAddOffsetsToTransaction(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.groupId,
    );
    return { throttleTimeMs: 0, errorCode: txnErrorCode(error, ctx.apiVersion, 2) };
  },
});
