/**
 * JoinGroup (key 11), v0–9.
 * v1 adds rebalanceTimeoutMs (v0 uses the session timeout for both); v2 throttle time;
 * v4: a member without id gets MEMBER_ID_REQUIRED and an id to rejoin with (KIP-394; never
 * below v4); v5 groupInstanceId (static membership, KIP-345); v6 flexible; v7 protocolType in
 * the response and a nullable protocolName; v8 reason; v9 skipAssignment for a static leader
 * rejoining a stable group. The response waits for the rebalance (see coordinator/).
 * Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  JoinGroupRequest,
  type JoinGroupRequestData,
  JoinGroupResponse,
  type JoinGroupResponseData,
} from '../protocol/generated/messages.js';
import { authorize } from './authz.js';
import { defineHandler } from './handler.js';

/** Kafka's clientHost form: `/` + the peer address. */
export function clientHost(remote: string): string {
  const i = remote.lastIndexOf(':');
  return `/${i > 0 ? remote.slice(0, i) : remote}`;
}

export const joinGroupHandler = defineHandler<JoinGroupRequestData, JoinGroupResponseData>({
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  request: JoinGroupRequest,
  response: JoinGroupResponse,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolType: null,
        protocolName: v >= 7 ? null : '',
        leader: '',
        skipAssignment: false,
        memberId: '',
        members: [],
      };
    }
    if (req.reason)
      ctx.log.debug(`JoinGroup ${req.groupId} from ${req.memberId || ctx.remote}: ${req.reason}`);
    const result = await ctx.groups.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: v >= 5 ? (req.groupInstanceId ?? null) : null,
      requireKnownMemberId: v >= 4,
      supportSkippingAssignment: v >= 9,
      clientId: ctx.clientId ?? '',
      clientHost: clientHost(ctx.remote),
      rebalanceTimeoutMs: v >= 1 ? (req.rebalanceTimeoutMs ?? req.sessionTimeoutMs) : req.sessionTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode[result.error],
      generationId: result.generationId,
      protocolType: result.protocolType,
      // Not nullable before v7.
      protocolName: v >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.error === 'NONE' ? result.members : [],
    };
  },
});
