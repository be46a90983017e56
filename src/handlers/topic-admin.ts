/**
 * What the topic-administration handlers share: Kafka's default error messages, the manual
 * replica-assignment checks of ReplicationControlManager, and the authorized-operations bit
 * fields a broker without an authorizer reports.
 */
import type { MetadataView } from '../metadata/metadata-view.js';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Errors.UNKNOWN_TOPIC_OR_PARTITION.message() and friends, for responses with an error message. */
export const UNKNOWN_TOPIC_OR_PARTITION_MESSAGE = 'This server does not host this topic-partition.';
export const UNKNOWN_TOPIC_ID_MESSAGE = 'This server does not host this topic ID.';

/**
 * Kafka's QuorumController.MAX_RECORDS_PER_USER_OP: one admin request may write at most this many
 * metadata records (a topic, each partition, each config); beyond it the whole request fails
 * with POLICY_VIOLATION and this message (EventHandlerExceptionInfo, BoundedListTooLongException).
 * Without it, one CreatePartitions asking for millions of partitions stalls the broker.
 */
export const MAX_RECORDS_PER_USER_OP = 10_000;
export const EXCESSIVELY_LARGE_BATCH_MESSAGE = 'Unable to perform excessively large batch operation.';

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

/**
 * ReplicationControlManager.validateManualPartitionAssignment: returns the
 * INVALID_REPLICA_ASSIGNMENT message, or null.
 */
export function manualAssignmentError(
  metadata: MetadataView,
  brokerIds: readonly number[],
  replicationFactor: number | undefined,
): string | null {
  if (brokerIds.length === 0) return 'The manual partition assignment includes an empty replica list.';
  const registered = new Set(metadata.registeredBrokerIds());
  const sorted = [...brokerIds].sort((a, b) => a - b);
  let prev: number | undefined;
  for (const id of sorted) {
    if (!registered.has(id)) {
      return `The manual partition assignment includes broker ${id}, but no such broker is registered.`;
    }
    if (id === prev) return `The manual partition assignment includes the broker ${prev} more than once.`;
    prev = id;
  }
  if (replicationFactor !== undefined && sorted.length !== replicationFactor) {
    return (
      `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is ` +
      `not consistent with previous partitions, which have ${replicationFactor} replica(s).`
    );
  }
  return null;
}

/** Names that occur more than once, in first-occurrence order. */
export function duplicateNames(names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) dup.add(n);
    seen.add(n);
  }
  return dup;
}
