/**
 * SyncGroup (key 14), v0–5.
 * v1 throttle time; v3 groupInstanceId; v4 flexible; v5 protocolType and protocolName in request
 * (both required: INCONSISTENT_GROUP_PROTOCOL when absent or different) and response.
 * The leader's request carries every member's assignment; the others wait for it.
 * Authorization: READ on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  SyncGroupRequest,
  type SyncGroupRequestData,
  SyncGroupResponse,
  type SyncGroupResponseData,
} from '../protocol/generated/messages.js';
import { authorize } from './authz.js';
import { defineHandler } from './handler.js';

export const syncGroupHandler = defineHandler<SyncGroupRequestData, SyncGroupResponseData>({
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  request: SyncGroupRequest,
  response: SyncGroupResponse,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        protocolType: null,
        protocolName: null,
        assignment: Buffer.alloc(0),
      };
    }
    if (v >= 5 && (req.protocolType == null || req.protocolName == null)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        protocolType: null,
        protocolName: null,
        assignment: Buffer.alloc(0),
      };
    }
    const result = await ctx.groups.syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: v >= 3 ? (req.groupInstanceId ?? null) : null,
      protocolType: v >= 5 ? (req.protocolType ?? null) : null,
      protocolName: v >= 5 ? (req.protocolName ?? null) : null,
      assignments: req.assignments.map((a) => ({
        memberId: a.memberId,
        assignment: Buffer.from(a.assignment),
      })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode[result.error],
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
});
