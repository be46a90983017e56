/**
 * InitProducerId (key 22), v0–5.
 * v0 transactional id (null: an idempotent producer gets a new producer id at epoch 0) and timeout;
 * v1 same; v2 flexible; v3 producerId/producerEpoch of the caller (KIP-360: bump the epoch of the
 * same producer id instead of starting over; a stale pair is PRODUCER_FENCED); v4 PRODUCER_FENCED
 * replaces INVALID_PRODUCER_EPOCH (v0–3 get 47); v5 same.
 * An ongoing transaction of the id is aborted first and CONCURRENT_TRANSACTIONS tells the client to retry.
 * Authorization: WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); without one,
 * IDEMPOTENT_WRITE on the cluster or WRITE on some topic (CLUSTER_AUTHORIZATION_FAILED).
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  InitProducerIdRequest,
  type InitProducerIdRequestData,
  InitProducerIdResponse,
  type InitProducerIdResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizeByResourceType, authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';
import { txnErrorCode } from './txn-errors.js';

export const initProducerIdHandler = defineHandler<InitProducerIdRequestData, InitProducerIdResponseData>({
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  request: InitProducerIdRequest,
  response: InitProducerIdResponse,
  async handle(ctx, req) {
    const fail = (errorCode: number): InitProducerIdResponseData => ({
      throttleTimeMs: 0,
      errorCode,
      producerId: -1,
      producerEpoch: -1,
    });
    if (!allowsAll(ctx)) {
      if (req.transactionalId != null) {
        if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) {
          return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        }
      } else if (
        !authorizeCluster(ctx, 'IDEMPOTENT_WRITE') &&
        !authorizeByResourceType(ctx, 'WRITE', 'TOPIC')
      ) {
        return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      }
    }
    const pid = req.producerId ?? -1;
    const epoch = req.producerEpoch ?? -1;
    let expected: { producerId: number; producerEpoch: number } | null = null;
    if (pid !== -1 || epoch !== -1) {
      if (pid === -1 || epoch === -1) return fail(ErrorCode.INVALID_REQUEST);
      expected = { producerId: pid, producerEpoch: epoch };
    }
    const r = await ctx.transactions.handleInitProducerId(
      req.transactionalId,
      req.transactionTimeoutMs,
      expected,
    );
    return {
      throttleTimeMs: 0,
      errorCode: txnErrorCode(r.error, ctx.apiVersion, 4),
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
    };
  },
});
