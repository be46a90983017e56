/**
 * The one authorization hook every request passes through (Kafka's Authorizer). With no
 * authorizer configured Kafka allows every operation, and so does `allowAll`, the only one until
 * the security issue brings ACLs. It reaches handlers through the request context, beside the
 * connection's principal and listener.
 */

/** Kafka's KafkaPrincipal: `User:ANONYMOUS` for an unauthenticated PLAINTEXT connection. */
export interface KafkaPrincipal {
  readonly principalType: string;
  readonly name: string;
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
}

/** No authorizer configured: every operation is allowed, as in Kafka. */
export const allowAll: Authorizer = { authorize: () => true };
