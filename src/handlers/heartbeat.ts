/**
 * Heartbeat (key 12), v0–4.
 * v1 throttle time; v3 groupInstanceId; v4 flexible. REBALANCE_IN_PROGRESS tells a member of the
 * current generation to rejoin; ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID as
 * Kafka's coordinator returns them.
 * Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  HeartbeatRequest,
  type HeartbeatRequestData,
  HeartbeatResponse,
  type HeartbeatResponseData,
} from '../protocol/generated/messages.js';
import { authorize } from './authz.js';
import { defineHandler } from './handler.js';

export const heartbeatHandler = defineHandler<HeartbeatRequestData, HeartbeatResponseData>({
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  request: HeartbeatRequest,
  response: HeartbeatResponse,
  handle(ctx, req) {
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    }
    const error = ctx.groups.heartbeat(
      req.groupId,
      req.memberId,
      ctx.apiVersion >= 3 ? (req.groupInstanceId ?? null) : null,
      req.generationId,
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode[error] };
  },
});
