/**
 * DescribeAcls (key 29), v1–3: v1 resource pattern type; v2 flexible; v3 the USER resource type.
 * Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED). With an authorizer
 * (authorizer.class.name) the ACLs matching the filter, grouped by resource pattern as Kafka's
 * DescribeAclsResponse.aclsResources does; without one Kafka answers SECURITY_DISABLED with the
 * message "No Authorizer is configured on the broker" and no resources, whatever the filter. A
 * filter naming an UNKNOWN element is refused as Kafka's request validation does; a v0-style
 * filter without a pattern type is LITERAL.
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
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

const LITERAL = 3;

export const describeAclsHandler = defineHandler<DescribeAclsRequestData, DescribeAclsResponseData>({
  apiKey: 29,
  name: 'DescribeAcls',
  minVersion: ACL_MIN_VERSION,
  maxVersion: ACL_MAX_VERSION,
  request: DescribeAclsRequest,
  response: DescribeAclsResponse,
  handle(ctx, req) {
    refuseUnknownAclElements('DescribeAcls', [
      {
        resourceType: req.resourceTypeFilter,
        patternType: req.patternTypeFilter,
        operation: req.operation,
        permissionType: req.permissionType,
      },
    ]);
    if (!authorizeCluster(ctx, 'DESCRIBE')) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
        resources: [],
      };
    }
    const acls = ctx.authorizer.acls;
    if (!acls) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: NO_AUTHORIZER_DESCRIBE_MESSAGE,
        resources: [],
      };
    }
    const bindings = acls.describeAcls({
      resourceType: req.resourceTypeFilter,
      resourceName: req.resourceNameFilter,
      patternType: req.patternTypeFilter ?? LITERAL,
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: req.operation,
      permissionType: req.permissionType,
    });
    const resources = new Map<string, DescribeAclsResponseData['resources'][number]>();
    for (const b of bindings) {
      const key = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
      let r = resources.get(key);
      if (!r) {
        r = {
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          patternType: b.patternType,
          acls: [],
        };
        resources.set(key, r);
      }
      r.acls.push({
        principal: b.principal,
        host: b.host,
        operation: b.operation,
        permissionType: b.permissionType,
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resources: [...resources.values()],
    };
  },
});
