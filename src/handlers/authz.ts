/**
 * The handlers' side of the authorization hook (Kafka's AuthHelper): one call per resource a
 * request touches, answering true at once when no authorizer is configured (`allowAll`), so the
 * default broker pays a comparison per topic, not an ACL lookup. With an authorizer, the request's
 * principal, listener and client address are handed to it.
 */

import { AclOperationCode, CLUSTER_NAME } from '../security/acl.js';
import {
  type AclOperation,
  type AuthorizableRequest,
  allowAll,
  type ResourceType,
} from '../security/authorizer.js';
import { SUPPORTED_OPERATIONS } from '../security/standard-authorizer.js';
import type { RequestContext } from './handler.js';

export { CLUSTER_NAME };

function requestOf(ctx: RequestContext): AuthorizableRequest {
  const remote = ctx.remote;
  const colon = remote.lastIndexOf(':');
  const host = colon > 0 ? remote.slice(0, colon) : remote;
  return {
    principal: ctx.principal,
    listenerName: ctx.listenerName,
    clientAddress: host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host,
  };
}

/** Whether no authorizer is configured: every check passes. */
export function allowsAll(ctx: RequestContext): boolean {
  return ctx.authorizer === allowAll;
}

export function authorize(
  ctx: RequestContext,
  operation: AclOperation,
  resourceType: ResourceType,
  resourceName: string,
): boolean {
  const a = ctx.authorizer;
  return a === allowAll || a.authorize(requestOf(ctx), operation, resourceType, resourceName);
}

export function authorizeCluster(ctx: RequestContext, operation: AclOperation): boolean {
  return authorize(ctx, operation, 'CLUSTER', CLUSTER_NAME);
}

export function authorizeByResourceType(
  ctx: RequestContext,
  operation: AclOperation,
  resourceType: ResourceType,
): boolean {
  const a = ctx.authorizer;
  return a === allowAll || a.authorizeByResourceType(requestOf(ctx), operation, resourceType);
}

/** The names among `names` the principal may do `operation` on (Kafka's filterByAuthorized). */
export function filterAuthorized<T>(
  ctx: RequestContext,
  operation: AclOperation,
  resourceType: ResourceType,
  items: readonly T[],
  nameOf: (item: T) => string,
): Set<string> {
  const out = new Set<string>();
  for (const item of items) {
    const name = nameOf(item);
    if (!out.has(name) && authorize(ctx, operation, resourceType, name)) out.add(name);
  }
  return out;
}

/** Kafka's *AuthorizedOperations: one bit per supported operation the principal may do. */
export function authorizedOperations(
  ctx: RequestContext,
  resourceType: ResourceType,
  resourceName: string,
): number {
  let bits = 0;
  for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) {
    if (authorize(ctx, op, resourceType, resourceName)) bits |= 1 << AclOperationCode[op];
  }
  return bits;
}
