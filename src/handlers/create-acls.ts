/**
 * CreateAcls (key 30), v1–3: v1 resource pattern type; v2 flexible; v3 the USER resource type.
 * Needs ALTER on the cluster (every result CLUSTER_AUTHORIZATION_FAILED). With an authorizer the
 * ACLs are created (persisted, one result per creation in request order; an invalid one —
 * CLUSTER not named kafka-cluster, an empty name, a bad principal — INVALID_REQUEST with Kafka's
 * message, the others still created; an existing ACL is not duplicated). Without one Kafka answers
 * every creation SECURITY_DISABLED, "No Authorizer is configured.". A creation naming an UNKNOWN
 * element is refused as Kafka's request validation does.
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
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

const LITERAL = 3;

export const createAclsHandler = defineHandler<CreateAclsRequestData, CreateAclsResponseData>({
  apiKey: 30,
  name: 'CreateAcls',
  minVersion: ACL_MIN_VERSION,
  maxVersion: ACL_MAX_VERSION,
  request: CreateAclsRequest,
  response: CreateAclsResponse,
  async handle(ctx, req) {
    refuseUnknownAclElements(
      'CreateAcls',
      req.creations.map((c) => ({
        resourceType: c.resourceType,
        patternType: c.resourcePatternType,
        operation: c.operation,
        permissionType: c.permissionType,
      })),
    );
    const refuseAll = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      results: req.creations.map(() => ({ errorCode, errorMessage })),
    });
    if (!authorizeCluster(ctx, 'ALTER')) {
      return refuseAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    const acls = ctx.authorizer.acls;
    if (!acls) return refuseAll(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER_ALTER_MESSAGE);
    const results = await acls.createAcls(
      req.creations.map((c) => ({
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: c.resourcePatternType ?? LITERAL,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      })),
    );
    return {
      throttleTimeMs: 0,
      results: results.map((r) =>
        r.error === null
          ? { errorCode: ErrorCode.NONE, errorMessage: null }
          : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: r.error },
      ),
    };
  },
});
