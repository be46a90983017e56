/**
 * DeleteAcls (key 31), v1–3: v1 pattern type; v2 flexible; v3 the USER resource type.
 * Needs ALTER on the cluster (every filter CLUSTER_AUTHORIZATION_FAILED). With an authorizer
 * every ACL matching a filter is deleted and listed under it (an ACL matching two filters is
 * listed under both), one result per filter in request order. Without one Kafka answers every
 * filter SECURITY_DISABLED, "No Authorizer is configured.", with no matching ACLs. A filter naming
 * an UNKNOWN element is refused as Kafka's request validation does.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DeleteAclsRequest,
  type DeleteAclsRequestData,
  DeleteAclsResponse,
  type DeleteAclsResponseData,
} from '../protocol/generated/messages.js';
import {
  ACL_MAX_VERSION,
  ACL_MIN_VERSION,
  NO_AUTHORIZER_ALTER_MESSAGE,
  refuseUnknownAclElements,
} from './acls-disabled.js';
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

const LITERAL = 3;

export const deleteAclsHandler = defineHandler<DeleteAclsRequestData, DeleteAclsResponseData>({
  apiKey: 31,
  name: 'DeleteAcls',
  minVersion: ACL_MIN_VERSION,
  maxVersion: ACL_MAX_VERSION,
  request: DeleteAclsRequest,
  response: DeleteAclsResponse,
  async handle(ctx, req) {
    refuseUnknownAclElements(
      'DeleteAcls',
      req.filters.map((f) => ({
        resourceType: f.resourceTypeFilter,
        patternType: f.patternTypeFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      })),
    );
    const refuseAll = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!authorizeCluster(ctx, 'ALTER')) {
      return refuseAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    const acls = ctx.authorizer.acls;
    if (!acls) return refuseAll(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER_ALTER_MESSAGE);
    const results = await acls.deleteAcls(
      req.filters.map((f) => ({
        resourceType: f.resourceTypeFilter,
        resourceName: f.resourceNameFilter,
        patternType: f.patternTypeFilter ?? LITERAL,
        principal: f.principalFilter,
        host: f.hostFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      })),
    );
    return {
      throttleTimeMs: 0,
      filterResults: results.map((r) => ({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: r.deleted.map((b) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          patternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permissionType,
        })),
      })),
    };
  },
});
