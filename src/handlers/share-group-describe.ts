/**
 * ShareGroupDescribe (key 77), v1: share groups as `kafka-share-groups --describe` and the Admin
 * client see them — state, group and assignment epochs, the assignor (`simple`), and per member
 * its epoch, subscription and assignment (topic ids with their names). A group that is not a
 * share group, or does not exist, is GROUP_ID_NOT_FOUND. v0 was Kafka 4.0's early access.
 * Authorization: DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ShareGroupDescribeRequest,
  type ShareGroupDescribeRequestData,
  ShareGroupDescribeResponse,
  type ShareGroupDescribeResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizedOperations } from './authz.js';
import { GROUP_AUTHORIZED_OPERATIONS } from './describe-groups.js';
import { defineHandler } from './handler.js';

export const shareGroupDescribeHandler = defineHandler<
  ShareGroupDescribeRequestData,
  ShareGroupDescribeResponseData
>({
  apiKey: 77,
  name: 'ShareGroupDescribe',
  minVersion: 1,
  maxVersion: 1,
  request: ShareGroupDescribeRequest,
  response: ShareGroupDescribeResponse,
  handle(ctx, req) {
    const empty = (id: string, errorCode: number) => ({
      errorCode,
      errorMessage: null,
      groupId: id,
      groupState: '',
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: '',
      members: [],
      authorizedOperations: -2147483648,
    });
    if (!ctx.groups.shareGroups.enabled) {
      return {
        throttleTimeMs: 0,
        groups: req.groupIds.map((id) => empty(id, ErrorCode.UNSUPPORTED_VERSION)),
      };
    }
    const describe = (id: string, operations: number) => {
      const { error, ...group } = ctx.groups.shareGroupDescribe(
        id,
        req.includeAuthorizedOperations,
        operations,
      );
      return { ...group, errorCode: ErrorCode[error] };
    };
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => {
        if (allowsAll(ctx)) return describe(id, GROUP_AUTHORIZED_OPERATIONS);
        if (!authorize(ctx, 'DESCRIBE', 'GROUP', id)) return empty(id, ErrorCode.GROUP_AUTHORIZATION_FAILED);
        return describe(id, authorizedOperations(ctx, 'GROUP', id));
      }),
    };
  },
});
