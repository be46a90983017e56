/**
 * Kafka's ACL model (org.apache.kafka.common.acl / resource): resource types, pattern types,
 * operations and permission types with their wire codes, and bindings and filters over them as
 * CreateAcls / DescribeAcls / DeleteAcls carry them.
 */
export const ResourceTypeCode = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

export const PatternTypeCode = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperationCode = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

export const PermissionTypeCode = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

export const WILDCARD_RESOURCE = '*';
export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';
/** The resource name of the one CLUSTER resource. */
export const CLUSTER_NAME = 'kafka-cluster';

export function resourceTypeCode(t: keyof typeof ResourceTypeCode): number {
  return ResourceTypeCode[t];
}

export function operationCode(op: keyof typeof AclOperationCode): number {
  return AclOperationCode[op];
}

/** One ACL: Kafka's AclBinding (and the content of an AccessControlEntryRecord). */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A filter (DescribeAcls, DeleteAcls): null fields match anything; ANY codes match any value. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/** Kafka's AclBindingFilter.matches (ResourcePatternFilter + AccessControlEntryFilter). */
export function filterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceTypeCode.ANY && f.resourceType !== b.resourceType) return false;
  if (!patternFilterMatches(f, b)) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperationCode.ANY && f.operation !== b.operation) return false;
  if (f.permissionType !== PermissionTypeCode.ANY && f.permissionType !== b.permissionType) return false;
  return true;
}

/** ResourcePatternFilter.matches: MATCH finds the literal, wildcard and prefixed ACLs that apply to a name. */
function patternFilterMatches(f: AclBindingFilter, b: AclBinding): boolean {
  if (f.patternType === PatternTypeCode.MATCH) {
    if (f.resourceName === null) return true;
    if (b.patternType === PatternTypeCode.LITERAL) {
      return b.resourceName === f.resourceName || b.resourceName === WILDCARD_RESOURCE;
    }
    if (b.patternType === PatternTypeCode.PREFIXED) return f.resourceName.startsWith(b.resourceName);
    return false;
  }
  if (f.patternType !== PatternTypeCode.ANY && f.patternType !== b.patternType) return false;
  return f.resourceName === null || f.resourceName === b.resourceName;
}

/**
 * Why a binding cannot be created (AclControlManager.validateNewAcl), or null. Messages are Kafka's.
 */
export function invalidBindingReason(b: AclBinding): string | null {
  const unknownOrAny = (code: number) => code === 0 || code === 1;
  if (unknownOrAny(b.resourceType)) return `Invalid resourceType ${b.resourceType}`;
  if (b.patternType !== PatternTypeCode.LITERAL && b.patternType !== PatternTypeCode.PREFIXED) {
    return `Invalid patternType ${b.patternType}`;
  }
  if (unknownOrAny(b.operation)) return `Invalid operation ${b.operation}`;
  if (unknownOrAny(b.permissionType)) return `Invalid permissionType ${b.permissionType}`;
  if (b.resourceName === '') return 'Resource name should not be empty';
  if (b.resourceType === ResourceTypeCode.CLUSTER && b.resourceName !== CLUSTER_NAME) {
    return 'The only valid name for the CLUSTER resource is kafka-cluster';
  }
  const colon = b.principal.indexOf(':');
  if (colon <= 0)
    return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  if (b.host === '') return 'Invalid host';
  return null;
}
