/**
 * What the topic-administration handlers share: Kafka's default error messages and the
 * authorized-operations bit fields a broker without an authorizer reports.
 */
import { AclOperationCode } from '../security/acl.js';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Errors.UNKNOWN_TOPIC_OR_PARTITION.message() and friends, for responses with an error message. */
export const UNKNOWN_TOPIC_OR_PARTITION_MESSAGE = 'This server does not host this topic-partition.';
export const UNKNOWN_TOPIC_ID_MESSAGE = 'This server does not host this topic ID.';

function bitField(ops: readonly number[]): number {
  return ops.reduce((acc, op) => acc | (1 << op), 0);
}

/** Without an authorizer every operation a resource supports is allowed (Utils.to32BitField). */
export const TOPIC_AUTHORIZED_OPERATIONS = bitField([
  AclOperationCode.READ,
  AclOperationCode.WRITE,
  AclOperationCode.CREATE,
  AclOperationCode.DELETE,
  AclOperationCode.ALTER,
  AclOperationCode.DESCRIBE,
  AclOperationCode.DESCRIBE_CONFIGS,
  AclOperationCode.ALTER_CONFIGS,
]);

export const CLUSTER_AUTHORIZED_OPERATIONS = bitField([
  AclOperationCode.CREATE,
  AclOperationCode.ALTER,
  AclOperationCode.DESCRIBE,
  AclOperationCode.CLUSTER_ACTION,
  AclOperationCode.DESCRIBE_CONFIGS,
  AclOperationCode.ALTER_CONFIGS,
  AclOperationCode.IDEMPOTENT_WRITE,
  AclOperationCode.CREATE_TOKENS,
  AclOperationCode.DESCRIBE_TOKENS,
]);
