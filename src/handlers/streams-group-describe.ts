/**
 * StreamsGroupDescribe (key 89), v0: KIP-1071 streams groups as `kafka-streams-groups --describe`
 * and the Admin client see them — state, group and assignment epochs, the topology with the
 * partition counts it was configured with (null subtopologies while the group is not ready), and
 * per member its epochs, process, endpoint, tags, reported changelog offsets, current and target
 * tasks. A group that is not a streams group, or none, is GROUP_ID_NOT_FOUND.
 * With `streams` left out of `group.coordinator.rebalance.protocols` it is not advertised and every
 * group is answered UNSUPPORTED_VERSION.
 * Authorization: DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED; the authorized
 * operations are the principal's.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  StreamsGroupDescribeRequest,
  type StreamsGroupDescribeRequestData,
  StreamsGroupDescribeResponse,
  type StreamsGroupDescribeResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizedOperations } from './authz.js';
import { GROUP_AUTHORIZED_OPERATIONS } from './describe-groups.js';
import { defineHandler } from './handler.js';

export const streamsGroupDescribeHandler = defineHandler<
  StreamsGroupDescribeRequestData,
  StreamsGroupDescribeResponseData
>({
  apiKey: 89,
  name: 'StreamsGroupDescribe',
  minVersion: 0,
  maxVersion: 0,
  request: StreamsGroupDescribeRequest,
  response: StreamsGroupDescribeResponse,
  handle(ctx, req) {
    const failed = (id: string, errorCode: number) => ({
      errorCode,
      errorMessage: null,
      groupId: id,
      groupState: '',
      groupEpoch: 0,
      assignmentEpoch: 0,
      topology: null,
      members: [],
      authorizedOperations: -2147483648,
    });
    const describe = (id: string, operations: number) => {
      const { error, ...group } = ctx.groups.streamsGroupDescribe(
        id,
        req.includeAuthorizedOperations,
        operations,
      );
      return { ...group, errorCode: ErrorCode[error] };
    };
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => {
        if (!ctx.groups.streamsGroups.enabled) return failed(id, ErrorCode.UNSUPPORTED_VERSION);
        if (allowsAll(ctx)) return describe(id, GROUP_AUTHORIZED_OPERATIONS);
        if (!authorize(ctx, 'DESCRIBE', 'GROUP', id)) return failed(id, ErrorCode.GROUP_AUTHORIZATION_FAILED);
        return describe(id, authorizedOperations(ctx, 'GROUP', id));
      }),
    };
  },
});
