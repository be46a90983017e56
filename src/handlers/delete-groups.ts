/**
 * DeleteGroups (key 42), v0–2 (v2 flexible).
 * An Empty group is deleted with its committed offsets (tombstones in `__consumer_offsets`);
 * a group with members answers NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND.
 * Authorization: DELETE on each group, else that group GROUP_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DeleteGroupsRequest,
  type DeleteGroupsRequestData,
  DeleteGroupsResponse,
  type DeleteGroupsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';

export const deleteGroupsHandler = defineHandler<DeleteGroupsRequestData, DeleteGroupsResponseData>({
  apiKey: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  request: DeleteGroupsRequest,
  response: DeleteGroupsResponse,
  async handle(ctx, req) {
    const deleteGroups = async (groupIds: readonly string[]) =>
      (await ctx.groups.deleteGroups(groupIds)).map((r) => ({
        groupId: r.groupId,
        errorCode: ErrorCode[r.error],
      }));
    if (allowsAll(ctx)) return { throttleTimeMs: 0, results: await deleteGroups(req.groupsNames) };
    const allowed = req.groupsNames.filter((g) => authorize(ctx, 'DELETE', 'GROUP', g));
    const deleted = await deleteGroups(allowed);
    const denied = req.groupsNames
      .filter((g) => !allowed.includes(g))
      .map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }));
    return { throttleTimeMs: 0, results: [...deleted, ...denied] };
  },
});
