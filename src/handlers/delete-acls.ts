/**
 * DeleteAcls (key 31), v1–3: v1 pattern type; v2 flexible; v3 the USER resource type.
 * Without an authorizer (kbroker has none yet) Kafka answers every filter SECURITY_DISABLED,
 * "No Authorizer is configured.", with no matching ACLs, one result per filter in request order;
 * a filter naming an UNKNOWN element is refused as Kafka's request validation does.
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
import { defineHandler } from './handler.js';

export const deleteAclsHandler = defineHandler<DeleteAclsRequestData, DeleteAclsResponseData>({
  apiKey: 31,
  name: 'DeleteAcls',
  minVersion: ACL_MIN_VERSION,
  maxVersion: ACL_MAX_VERSION,
  request: DeleteAclsRequest,
  response: DeleteAclsResponse,
  handle(_ctx, req) {
    refuseUnknownAclElements(
      'DeleteAcls',
      req.filters.map((f) => ({
        resourceType: f.resourceTypeFilter,
        patternType: f.patternTypeFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      })),
    );
    return {
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: NO_AUTHORIZER_ALTER_MESSAGE,
        matchingAcls: [],
      })),
    };
  },
});
