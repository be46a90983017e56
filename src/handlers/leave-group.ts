/**
 * LeaveGroup (key 13), v0–5.
 * v0–2: one memberId, its error at the top level; v1 throttle time; v3 batched `members` with
 * groupInstanceId (an admin may remove a static member by instance id alone) and per-member
 * errors; v4 flexible; v5 a reason per member.
 * Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  LeaveGroupRequest,
  type LeaveGroupRequestData,
  LeaveGroupResponse,
  type LeaveGroupResponseData,
} from '../protocol/generated/messages.js';
import { authorize } from './authz.js';
import { defineHandler } from './handler.js';

export const leaveGroupHandler = defineHandler<LeaveGroupRequestData, LeaveGroupResponseData>({
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  request: LeaveGroupRequest,
  response: LeaveGroupResponse,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    }
    const leaving =
      v >= 3
        ? (req.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
        : [{ memberId: req.memberId ?? '', groupInstanceId: null }];
    const result = await ctx.groups.leaveGroup(req.groupId, leaving);
    if (v < 3) {
      const memberError = result.members[0]?.error ?? 'NONE';
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode[result.error !== 'NONE' ? result.error : memberError],
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode[result.error],
      members: result.members.map(({ error, ...m }) => ({ ...m, errorCode: ErrorCode[error] })),
    };
  },
});
