/**
 * What a Kafka broker without an authorizer (no `authorizer.class.name`) answers to the ACL APIs,
 * shared by DescribeAcls, CreateAcls and DeleteAcls (Kafka's AclApis with `authorizer = None`).
 * Kafka still advertises them, so tools that read ACLs get a clear SECURITY_DISABLED instead of an
 * UnsupportedVersionException.
 */
import { ProtocolError } from '../protocol/wire.js';

/** DescribeAcls' top-level error message (AclApis.handleDescribeAcls). */
export const NO_AUTHORIZER_DESCRIBE_MESSAGE = 'No Authorizer is configured on the broker';
/** CreateAcls' and DeleteAcls' per-entry error message (their SecurityDisabledException). */
export const NO_AUTHORIZER_ALTER_MESSAGE = 'No Authorizer is configured.';

/** ACL versions Kafka 4 serves (v0 was removed in 4.0, KIP-896). */
export const ACL_MIN_VERSION = 1;
export const ACL_MAX_VERSION = 3;

/** Code 0 of ResourceType, PatternType, AclOperation and AclPermissionType: UNKNOWN. */
const UNKNOWN = 0;

/**
 * Kafka refuses a request naming an UNKNOWN resource type, pattern type, operation or permission
 * type while parsing it (the request classes' validation throws), which closes the connection.
 */
export function refuseUnknownAclElements(
  api: string,
  entries: readonly {
    resourceType: number;
    patternType: number | undefined;
    operation: number;
    permissionType: number;
  }[],
): void {
  for (const e of entries) {
    if (
      e.resourceType === UNKNOWN ||
      e.patternType === UNKNOWN ||
      e.operation === UNKNOWN ||
      e.permissionType === UNKNOWN
    ) {
      throw new ProtocolError(`${api} request contains UNKNOWN elements: ${JSON.stringify(e)}`);
    }
  }
}
