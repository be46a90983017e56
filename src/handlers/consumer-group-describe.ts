/**
 * ConsumerGroupDescribe (key 69), v0–1: KIP-848 consumer groups as kafka-consumer-groups and the
 * Admin client see them — state, group and assignment epochs, assignor, and per member its epoch,
 * subscription, current and target assignment (topic ids with their names).
 * v1 adds the member type (1: consumer protocol). A classic group, or a group that does not
 * exist, is GROUP_ID_NOT_FOUND, which the Admin client takes as "describe it with DescribeGroups".
 * Authorization: DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED; the authorized
 * operations are the principal's.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ConsumerGroupDescribeRequest,
  type ConsumerGroupDescribeRequestData,
  ConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizedOperations } from './authz.js';
import { GROUP_AUTHORIZED_OPERATIONS } from './describe-groups.js';
import { defineHandler } from './handler.js';

export const consumerGroupDescribeHandler = defineHandler<
  ConsumerGroupDescribeRequestData,
  ConsumerGroupDescribeResponseData
>({
  apiKey: 69,
  name: 'ConsumerGroupDescribe',
  minVersion: 0,
  maxVersion: 1,
  request: ConsumerGroupDescribeRequest,
  response: ConsumerGroupDescribeResponse,
  handle(ctx, req) {
    const describe = (id: string, operations: number) => {
      const { error, ...group } = ctx.groups.consumerGroupDescribe(
        id,
        req.includeAuthorizedOperations,
        operations,
      );
      return { ...group, errorCode: ErrorCode[error] };
    };
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => {
        if (allowsAll(ctx)) {
          return describe(id, GROUP_AUTHORIZED_OPERATIONS);
        }
        if (!authorize(ctx, 'DESCRIBE', 'GROUP', id)) {
          return {
            errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
            errorMessage: null,
            groupId: id,
            groupState: '',
            groupEpoch: 0,
            assignmentEpoch: 0,
            assignorName: '',
            members: [],
            authorizedOperations: -2147483648,
          };
        }
        return describe(id, authorizedOperations(ctx, 'GROUP', id));
      }),
    };
  },
});
