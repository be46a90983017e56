/**
 * ListGroups (key 16), v0–5.
 * v1 throttle time; v3 flexible; v4 statesFilter and groupState; v5 typesFilter and groupType
 * (every group here is "classic"). Filters match case-insensitively, as Kafka parses them.
 * Authorization: every group with DESCRIBE on the cluster, else those the principal may describe.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ListGroupsRequest,
  type ListGroupsRequestData,
  ListGroupsResponse,
  type ListGroupsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const listGroupsHandler = defineHandler<ListGroupsRequestData, ListGroupsResponseData>({
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  request: ListGroupsRequest,
  response: ListGroupsResponse,
  handle(ctx, req) {
    const states = new Set((req.statesFilter ?? []).map((s) => s.toLowerCase()));
    const types = new Set((req.typesFilter ?? []).map((s) => s.toLowerCase()));
    const groups = ctx.groups
      .listGroups()
      .filter((g) => states.size === 0 || states.has(g.groupState.toLowerCase()))
      .filter((g) => types.size === 0 || types.has(g.groupType.toLowerCase()))
      // Without DESCRIBE on the cluster, only the groups the principal may describe.
      .filter(
        (g) =>
          allowsAll(ctx) ||
          authorizeCluster(ctx, 'DESCRIBE') ||
          authorize(ctx, 'DESCRIBE', 'GROUP', g.groupId),
      );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
});
