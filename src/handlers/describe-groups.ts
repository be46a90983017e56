/**
 * DescribeGroups (key 15), v0–5.
 * v1 throttle time; v3 includeAuthorizedOperations (without an authorizer every group operation
 * is allowed: READ, DELETE, DESCRIBE); v4 member groupInstanceId; v5 flexible.
 * A group that does not exist is answered as Kafka does: state "Dead", no error. Member metadata
 * and assignments are filled only for a Stable group.
 * Authorization: DESCRIBE on each group, else that group GROUP_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeGroupsRequest,
  type DescribeGroupsRequestData,
  DescribeGroupsResponse,
  type DescribeGroupsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizedOperations } from './authz.js';
import { defineHandler } from './handler.js';

export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
/** AclOperation codes READ(3), DELETE(6), DESCRIBE(8) as a bit field. */
export const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export const describeGroupsHandler = defineHandler<DescribeGroupsRequestData, DescribeGroupsResponseData>({
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  request: DescribeGroupsRequest,
  response: DescribeGroupsResponse,
  handle(ctx, req) {
    const describe = (id: string) => {
      const { error, ...group } = ctx.groups.describeGroup(id);
      return { ...group, errorCode: ErrorCode[error] };
    };
    const ops = req.includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
    if (allowsAll(ctx)) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((id) => ({ ...describe(id), authorizedOperations: ops })),
      };
    }
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((id) =>
        authorize(ctx, 'DESCRIBE', 'GROUP', id)
          ? {
              ...describe(id),
              authorizedOperations: req.includeAuthorizedOperations
                ? authorizedOperations(ctx, 'GROUP', id)
                : AUTHORIZED_OPERATIONS_OMITTED,
            }
          : {
              errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
              groupId: id,
              groupState: '',
              protocolType: '',
              protocolData: '',
              members: [],
              authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
            },
      ),
    };
  },
});
