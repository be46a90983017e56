/**
 * What the topic-administration handlers share: Kafka's default error messages and the
 * authorized-operations bit fields a broker without an authorizer reports.
 */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Errors.UNKNOWN_TOPIC_OR_PARTITION.message() and friends, for responses with an error message. */
export const UNKNOWN_TOPIC_OR_PARTITION_MESSAGE = 'This server does not host this topic-partition.';
export const UNKNOWN_TOPIC_ID_MESSAGE = 'This server does not host this topic ID.';

/** Kafka's AclOperation codes. */
const AclOperation = {
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

function bitField(ops: readonly number[]): number {
  return ops.reduce((acc, op) => acc | (1 << op), 0);
}

/** Without an authorizer every operation a resource supports is allowed (Utils.to32BitField). */
export const TOPIC_AUTHORIZED_OPERATIONS = bitField([
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.CREATE,
  AclOperation.DELETE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
]);

export const CLUSTER_AUTHORIZED_OPERATIONS = bitField([
  AclOperation.CREATE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.CLUSTER_ACTION,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
  AclOperation.IDEMPOTENT_WRITE,
  AclOperation.CREATE_TOKENS,
  AclOperation.DESCRIBE_TOKENS,
]);
