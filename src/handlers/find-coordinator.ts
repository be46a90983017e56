/**
 * FindCoordinator (key 10), v0–6.
 * v0: one group key; v1 adds keyType (0 GROUP, 1 TRANSACTION), throttle time and error message;
 * v3 flexible; v4+ batched: `coordinatorKeys` in, one `coordinators` entry per key out.
 * v6 adds key type 2 (SHARE, KIP-932): the key is "groupId:topicId:partition" and the coordinator
 * the share coordinator that keeps that share-partition's state, asked by share-partition leaders
 * (their persister); below v6, or with a key not of that form, INVALID_REQUEST.
 * The coordinator is the leader of the key's partition of the internal topic. Other key types get
 * INVALID_REQUEST. A GROUP lookup creates `__consumer_offsets` if it does not exist yet, a SHARE
 * lookup `__share_group_state`, as Kafka does.
 * Authorization: DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED) or transactional id
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); CLUSTER_ACTION on the cluster for SHARE
 * (CLUSTER_AUTHORIZATION_FAILED).
 */

import { SHARE_GROUP_STATE_TOPIC_NAME, sharePartitionFor } from '../coordinator/share/share-coordinator.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  FindCoordinatorRequest,
  type FindCoordinatorRequestData,
  FindCoordinatorResponse,
  type FindCoordinatorResponseCoordinator,
  type FindCoordinatorResponseData,
} from '../protocol/generated/messages.js';
import { authorize, authorizeCluster } from './authz.js';
import { defineHandler, type RequestContext } from './handler.js';

export const CoordinatorType = { GROUP: 0, TRANSACTION: 1, SHARE: 2 } as const;

/** A share coordinator key: "groupId:topicId:partition" (the group id may hold ':'). */
const SHARE_KEY = /^.+:[A-Za-z0-9_-]{22}:\d+$/;

/** The share coordinator of `key`: `__share_group_state` created on first use; its partition of the key. */
function shareLookup(ctx: RequestContext, key: string): { topic: string; partition: number } | number {
  if (ctx.apiVersion < 6) return ErrorCode.INVALID_REQUEST;
  if (!authorizeCluster(ctx, 'CLUSTER_ACTION')) return ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  if (!SHARE_KEY.test(key)) return ErrorCode.INVALID_REQUEST;
  try {
    ctx.shareCoordinator.ensureStateTopic();
  } catch (err) {
    ctx.log.error(`creating ${SHARE_GROUP_STATE_TOPIC_NAME} failed`, err);
    return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }
  const topic = ctx.metadata.topic(SHARE_GROUP_STATE_TOPIC_NAME);
  const partitions = topic ? topic.partitions.length : ctx.shareCoordinator.numPartitions;
  return { topic: SHARE_GROUP_STATE_TOPIC_NAME, partition: sharePartitionFor(key, partitions) };
}

function lookup(ctx: RequestContext, key: string, keyType: number): FindCoordinatorResponseCoordinator {
  const fail = (errorCode: number, errorMessage: string) => ({
    key,
    nodeId: -1,
    host: '',
    port: -1,
    errorCode,
    errorMessage,
  });
  if (keyType === CoordinatorType.SHARE) {
    const found = shareLookup(ctx, key);
    if (typeof found === 'number')
      return fail(
        found,
        found === ErrorCode.CLUSTER_AUTHORIZATION_FAILED
          ? 'Cluster authorization failed.'
          : found === ErrorCode.INVALID_REQUEST
            ? 'Invalid share coordinator key or request version.'
            : 'The coordinator is not available.',
      );
    return coordinatorAt(ctx, key, found.topic, found.partition, fail);
  }
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
  const partition =
    keyType === CoordinatorType.GROUP ? ctx.groups.partitionFor(key) : ctx.transactions.partitionFor(key);
  return coordinatorAt(
    ctx,
    key,
    keyType === CoordinatorType.GROUP ? '__consumer_offsets' : '__transaction_state',
    partition,
    fail,
  );
}

/** The leader of `partition` of the internal topic; this broker while the topic is being created. */
function coordinatorAt(
  ctx: RequestContext,
  key: string,
  internalTopic: string,
  partition: number,
  fail: (errorCode: number, errorMessage: string) => FindCoordinatorResponseCoordinator,
): FindCoordinatorResponseCoordinator {
  const topic = ctx.metadata.topic(internalTopic);
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
