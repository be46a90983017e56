/**
 * FindCoordinator (key 10), v0–6.
 * v0: one group key; v1 adds keyType (0 GROUP, 1 TRANSACTION), throttle time and error message;
 * v3 flexible; v4+ batched: `coordinatorKeys` in, one `coordinators` entry per key out.
 * A single broker coordinates every group and every transactional id, so both key types are
 * answered with this broker. Other key types (2 = SHARE) get INVALID_REQUEST.
 * A GROUP lookup creates `__consumer_offsets` if it does not exist yet, as Kafka does.
 * Authorization: DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED) or transactional id
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  FindCoordinatorRequest,
  type FindCoordinatorRequestData,
  FindCoordinatorResponse,
  type FindCoordinatorResponseCoordinator,
  type FindCoordinatorResponseData,
} from '../protocol/generated/messages.js';
import { authorize } from './authz.js';
import { defineHandler, type RequestContext } from './handler.js';

export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;

function lookup(ctx: RequestContext, key: string, keyType: number): FindCoordinatorResponseCoordinator {
  const fail = (errorCode: number, errorMessage: string) => ({
    key,
    nodeId: -1,
    host: '',
    port: -1,
    errorCode,
    errorMessage,
  });
  if (keyType !== CoordinatorType.GROUP && keyType !== CoordinatorType.TRANSACTION) {
    return fail(ErrorCode.INVALID_REQUEST, `Unknown coordinator type ${keyType}`);
  }
  if (keyType === CoordinatorType.GROUP && !authorize(ctx, 'DESCRIBE', 'GROUP', key)) {
    return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
  }
  if (keyType === CoordinatorType.TRANSACTION && !authorize(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', key)) {
    return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional Id authorization failed.');
  }
  if (keyType === CoordinatorType.GROUP) {
    if (!ctx.groups.isActive)
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    try {
      ctx.groups.ensureOffsetsTopic();
    } catch (err) {
      ctx.log.error('creating __consumer_offsets failed', err);
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    }
  }
  // The coordinator is the leader of the key's partition of the internal topic (Kafka's
  // partitionFor); before __transaction_state exists, this broker (it creates it on first use).
  const topic = ctx.metadata.topic(
    keyType === CoordinatorType.GROUP ? '__consumer_offsets' : '__transaction_state',
  );
  const partition =
    keyType === CoordinatorType.GROUP ? ctx.groups.partitionFor(key) : ctx.transactions.partitionFor(key);
  const nodeId = topic ? (topic.partitions[partition]?.leader ?? -1) : ctx.metadata.nodeId;
  const coordinator = ctx.metadata.brokers(ctx.listenerName).find((b) => b.nodeId === nodeId);
  if (!coordinator) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  return {
    key,
    nodeId: coordinator.nodeId,
    host: coordinator.host,
    port: coordinator.port,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

export const findCoordinatorHandler = defineHandler<FindCoordinatorRequestData, FindCoordinatorResponseData>({
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  request: FindCoordinatorRequest,
  response: FindCoordinatorResponse,
  handle(ctx, req) {
    const keyType = req.keyType ?? CoordinatorType.GROUP;
    if (ctx.apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: (req.coordinatorKeys ?? []).map((k) => lookup(ctx, k, keyType)),
      };
    }
    const c = lookup(ctx, req.key ?? '', keyType);
    return {
      throttleTimeMs: 0,
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
    };
  },
});
