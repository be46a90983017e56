/**
 * The one authorization hook every request passes through (Kafka's Authorizer). With no
 * authorizer configured Kafka allows every operation, and so does `allowAll`; with
 * `authorizer.class.name` naming Kafka's StandardAuthorizer the broker uses the ACL-based one in
 * standard-authorizer.ts. It reaches handlers through the request context, beside the
 * connection's principal and listener.
 */
import type { AclBinding, AclBindingFilter } from './acl.js';

/** Kafka's KafkaPrincipal: `User:ANONYMOUS` for an unauthenticated PLAINTEXT connection. */
export interface KafkaPrincipal {
  readonly principalType: string;
  readonly name: string;
  /** Authenticated with a delegation token (SCRAM `tokenauth=true`): the token's owner. */
  readonly tokenAuthenticated?: boolean;
}

/** `User:alice`, as Kafka's KafkaPrincipal.toString prints a principal (ACLs, super.users, tokens). */
export function formatPrincipal(p: { readonly principalType: string; readonly name: string }): string {
  return `${p.principalType}:${p.name}`;
}

/** `User:alice` → its type and name (Kafka's SecurityUtils.parseKafkaPrincipal). */
export function parsePrincipal(s: string): KafkaPrincipal {
  const colon = s.indexOf(':');
  return colon < 0
    ? { principalType: 'User', name: s }
    : { principalType: s.slice(0, colon), name: s.slice(colon + 1) };
}

export const ANONYMOUS: KafkaPrincipal = Object.freeze({ principalType: 'User', name: 'ANONYMOUS' });

/** Kafka's ResourceType names. */
export type ResourceType = 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID' | 'DELEGATION_TOKEN' | 'USER';

/** Kafka's AclOperation names. */
export type AclOperation =
  | 'READ'
  | 'WRITE'
  | 'CREATE'
  | 'DELETE'
  | 'ALTER'
  | 'DESCRIBE'
  | 'CLUSTER_ACTION'
  | 'DESCRIBE_CONFIGS'
  | 'ALTER_CONFIGS'
  | 'IDEMPOTENT_WRITE'
  | 'CREATE_TOKENS'
  | 'DESCRIBE_TOKENS';

export interface AuthorizableRequest {
  readonly principal: KafkaPrincipal;
  readonly listenerName: string;
  readonly clientAddress: string;
}

export interface Authorizer {
  /** Whether `principal` may perform `operation` on the resource. */
  authorize(
    request: AuthorizableRequest,
    operation: AclOperation,
    resourceType: ResourceType,
    resourceName: string,
  ): boolean;
  /** Whether `principal` may perform `operation` on some resource of the type (Kafka's authorizeByResourceType). */
  authorizeByResourceType(
    request: AuthorizableRequest,
    operation: AclOperation,
    resourceType: ResourceType,
  ): boolean;
  /** The ACLs it keeps (CreateAcls/DescribeAcls/DeleteAcls); absent: SECURITY_DISABLED. */
  readonly acls?: AclAdmin;
}

export interface AclCreationResult {
  /** Why the binding was refused (INVALID_REQUEST), or null. */
  error: string | null;
}

export interface AclDeletionResult {
  error: string | null;
  deleted: AclBinding[];
}

/** What the ACL APIs need of an authorizer that keeps ACLs. */
export interface AclAdmin {
  createAcls(bindings: readonly AclBinding[]): Promise<AclCreationResult[]>;
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeletionResult[]>;
  describeAcls(filter: AclBindingFilter): AclBinding[];
}

/** No authorizer configured: every operation is allowed, as in Kafka. */
export const allowAll: Authorizer = { authorize: () => true, authorizeByResourceType: () => true };
