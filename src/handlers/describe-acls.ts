/**
 * DescribeAcls (key 29), v1–3: v1 resource pattern type; v2 flexible; v3 the USER resource type.
 * Without an authorizer (kbroker has none yet) Kafka answers SECURITY_DISABLED with the message
 * "No Authorizer is configured on the broker" and no resources, whatever the filter; a filter naming
 * an UNKNOWN element is refused as Kafka's request validation does.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeAclsRequest,
  type DescribeAclsRequestData,
  DescribeAclsResponse,
  type DescribeAclsResponseData,
} from '../protocol/generated/messages.js';
import {
  ACL_MAX_VERSION,
  ACL_MIN_VERSION,
  NO_AUTHORIZER_DESCRIBE_MESSAGE,
  refuseUnknownAclElements,
} from './acls-disabled.js';
import { defineHandler } from './handler.js';

export const describeAclsHandler = defineHandler<DescribeAclsRequestData, DescribeAclsResponseData>({
  apiKey: 29,
  name: 'DescribeAcls',
  minVersion: ACL_MIN_VERSION,
  maxVersion: ACL_MAX_VERSION,
  request: DescribeAclsRequest,
  response: DescribeAclsResponse,
  handle(_ctx, req) {
    refuseUnknownAclElements('DescribeAcls', [
      {
        resourceType: req.resourceTypeFilter,
        patternType: req.patternTypeFilter,
        operation: req.operation,
        permissionType: req.permissionType,
      },
    ]);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.SECURITY_DISABLED,
      errorMessage: NO_AUTHORIZER_DESCRIBE_MESSAGE,
      resources: [],
    };
  },
});
