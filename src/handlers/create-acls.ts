/**
 * CreateAcls (key 30), v1–3: v1 resource pattern type; v2 flexible; v3 the USER resource type.
 * Without an authorizer (kbroker has none yet) Kafka answers every requested creation
 * SECURITY_DISABLED, "No Authorizer is configured.", one result per creation in request order;
 * a creation naming an UNKNOWN element is refused as Kafka's request validation does.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  CreateAclsRequest,
  type CreateAclsRequestData,
  CreateAclsResponse,
  type CreateAclsResponseData,
} from '../protocol/generated/messages.js';
import {
  ACL_MAX_VERSION,
  ACL_MIN_VERSION,
  NO_AUTHORIZER_ALTER_MESSAGE,
  refuseUnknownAclElements,
} from './acls-disabled.js';
import { defineHandler } from './handler.js';

export const createAclsHandler = defineHandler<CreateAclsRequestData, CreateAclsResponseData>({
  apiKey: 30,
  name: 'CreateAcls',
  minVersion: ACL_MIN_VERSION,
  maxVersion: ACL_MAX_VERSION,
  request: CreateAclsRequest,
  response: CreateAclsResponse,
  handle(_ctx, req) {
    refuseUnknownAclElements(
      'CreateAcls',
      req.creations.map((c) => ({
        resourceType: c.resourceType,
        patternType: c.resourcePatternType,
        operation: c.operation,
        permissionType: c.permissionType,
      })),
    );
    return {
      throttleTimeMs: 0,
      results: req.creations.map(() => ({
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: NO_AUTHORIZER_ALTER_MESSAGE,
      })),
    };
  },
});
