/**
 * Partition reassignment as Kafka's controller does it (ReplicationControlManager
 * .alterPartitionReassignment, PartitionReassignmentReplicas, PartitionReassignmentRevert):
 *
 * 1. AlterPartitionReassignments with target replicas: the replica set grows to the target plus the
 *    replicas it drops (target first, so its first replica is the preferred leader afterwards), with
 *    `addingReplicas` / `removingReplicas` set. The ISR does not change.
 * 2. The added replicas are followers of the leader and catch up; the leader proposes each into the
 *    ISR with AlterPartition.
 * 3. The change that brings every kept replica into the ISR (partition-change.ts,
 *    maybeCompleteReassignment) ends it: the replica set becomes the target, the removed replicas
 *    leave the ISR, a removed leader is replaced, and the leader epoch grows so they are fenced.
 *    Brokers no longer in the replica set stop and delete their copy.
 *
 * A reassignment that only reorders or removes replicas of the ISR ends at once (step 3 in the same
 * change). Null target replicas cancel an ongoing one: the added replicas go, the removed ones stay
 * (PartitionReassignmentRevert); when only added replicas were in the ISR, that needs an unclean
 * election and is refused unless `unclean.leader.election.enable` allows it.
 */
import { KafkaError } from '../protocol/kafka-error.js';
import type { MetadataImage, PartitionState, TopicImage } from './image.js';
import { buildPartitionChange, type Election } from './partition-change.js';
import type { PartitionChangeRecord } from './records.js';

export interface ReassignablePartition {
  readonly partitionIndex: number;
  /** The target replicas, or null to cancel an ongoing reassignment. */
  readonly replicas: readonly number[] | null;
}

export interface ReassignableTopic {
  readonly name: string;
  readonly partitions: readonly ReassignablePartition[];
}

export interface ReassignmentResult {
  readonly name: string;
  readonly partitions: readonly { partitionIndex: number; errorCode: number; errorMessage: string | null }[];
}

export interface OngoingReassignment {
  readonly name: string;
  readonly partitions: readonly {
    partitionIndex: number;
    replicas: number[];
    addingReplicas: number[];
    removingReplicas: number[];
  }[];
}

/** What planning a reassignment needs of the controller. */
export interface ReassignmentContext {
  /** Registered and not fenced. */
  readonly isAcceptableLeader: (brokerId: number) => boolean;
  /** The topic's effective unclean.leader.election.enable. */
  readonly uncleanAllowed: (topic: TopicImage) => boolean;
}

const fail = (
  error: 'UNKNOWN_TOPIC_OR_PARTITION' | 'INVALID_REPLICA_ASSIGNMENT' | 'INVALID_REPLICATION_FACTOR',
  message: string,
): never => {
  throw new KafkaError(error, message);
};

export const isReassigning = (p: PartitionState): boolean =>
  p.addingReplicas.length > 0 || p.removingReplicas.length > 0;

/** Kafka's PartitionReassignmentReplicas(current, target): the union (target first) and the differences. */
export function reassignmentReplicas(
  current: readonly number[],
  target: readonly number[],
): { replicas: number[]; adding: number[]; removing: number[] } {
  const removing = [...new Set(current.filter((id) => !target.includes(id)))].sort((a, b) => a - b);
  const adding = [...new Set(target.filter((id) => !current.includes(id)))].sort((a, b) => a - b);
  return { replicas: [...target, ...removing], adding, removing };
}

/** The replicas of a partition before its ongoing reassignment (Kafka's originalReplicas). */
export const originalReplicas = (p: PartitionState): number[] =>
  p.replicas.filter((id) => !p.addingReplicas.includes(id));

/**
 * ReplicationControlManager.validateManualPartitionAssignment, with Kafka's messages: not empty,
 * every broker registered, none twice.
 */
export function validateReplicaAssignment(image: MetadataImage, replicas: readonly number[]): void {
  if (replicas.length === 0) {
    fail('INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes an empty replica list.');
  }
  const sorted = [...replicas].sort((a, b) => a - b);
  let prev: number | undefined;
  for (const id of sorted) {
    if (!image.brokers.has(id)) {
      fail(
        'INVALID_REPLICA_ASSIGNMENT',
        `The manual partition assignment includes broker ${id}, but no such broker is registered.`,
      );
    }
    if (id === prev) {
      fail(
        'INVALID_REPLICA_ASSIGNMENT',
        `The manual partition assignment includes the broker ${prev} more than once.`,
      );
    }
    prev = id;
  }
}

/**
 * The record that starts, changes or cancels the reassignment of one partition, or null when
 * nothing changes. Throws KafkaError (UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT,
 * NO_REASSIGNMENT_IN_PROGRESS, INVALID_REPLICATION_FACTOR) with Kafka's messages.
 */
export function planPartitionReassignment(
  image: MetadataImage,
  topicName: string,
  target: ReassignablePartition,
  ctx: ReassignmentContext,
  allowReplicationFactorChange = true,
): PartitionChangeRecord | null {
  const topic = image.topic(topicName);
  if (!topic) return fail('UNKNOWN_TOPIC_OR_PARTITION', `Unable to find a topic named ${topicName}.`);
  const part = topic.partitions[target.partitionIndex];
  if (!part) {
    return fail(
      'UNKNOWN_TOPIC_OR_PARTITION',
      `Unable to find partition ${topicName}:${target.partitionIndex}.`,
    );
  }
  const unclean = ctx.uncleanAllowed(topic);
  if (target.replicas === null) return cancelReassignment(topic, part, ctx, unclean);
  validateReplicaAssignment(image, target.replicas);
  if (!allowReplicationFactorChange) {
    const before = originalReplicas(part).length;
    if (target.replicas.length !== before) {
      fail(
        'INVALID_REPLICATION_FACTOR',
        `The replication factor is changed from ${before} to ${target.replicas.length}`,
      );
    }
  }
  const r = reassignmentReplicas(part.replicas, target.replicas);
  return buildPartitionChange(topic.topicId, part, {
    election: 'ONLINE',
    isAcceptableLeader: ctx.isAcceptableLeader,
    targetReplicas: r.replicas,
    targetAdding: r.adding,
    targetRemoving: r.removing,
  });
}

/** Kafka's cancelPartitionReassignment with PartitionReassignmentRevert. */
function cancelReassignment(
  topic: TopicImage,
  part: PartitionState,
  ctx: ReassignmentContext,
  uncleanAllowed: boolean,
): PartitionChangeRecord | null {
  if (!isReassigning(part)) {
    throw new KafkaError('NO_REASSIGNMENT_IN_PROGRESS', 'No partition reassignment is in progress.');
  }
  const replicas = originalReplicas(part);
  let isr = part.isr.filter((id) => !part.addingReplicas.includes(id));
  if (isr.length === 0) {
    if (replicas.length === 0) {
      fail('INVALID_REPLICA_ASSIGNMENT', 'Invalid replica assignment: addingReplicas contains all replicas.');
    }
    if (!uncleanAllowed) {
      fail(
        'INVALID_REPLICA_ASSIGNMENT',
        `Unable to revert partition assignment for ${topic.name}:${part.partitionId} because it would require an unclean leader election.`,
      );
    }
    isr = [replicas[0]!];
  }
  const election: Election = uncleanAllowed ? 'UNCLEAN' : 'ONLINE';
  return buildPartitionChange(topic.topicId, part, {
    election,
    isAcceptableLeader: ctx.isAcceptableLeader,
    targetIsr: isr,
    targetReplicas: replicas,
    targetAdding: [],
    targetRemoving: [],
  });
}

/**
 * ListPartitionReassignments: every reassigning partition (`topics` null), else those of the named
 * partitions that are reassigning (unknown topics and partitions are left out, as Kafka does).
 */
export function listReassignments(
  image: MetadataImage,
  topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
): OngoingReassignment[] {
  const wanted =
    topics ??
    image.topics().map((t) => ({ name: t.name, partitionIndexes: t.partitions.map((p) => p.partitionId) }));
  const out: OngoingReassignment[] = [];
  for (const w of wanted) {
    const topic = image.topic(w.name);
    if (!topic) continue;
    const partitions = [...new Set(w.partitionIndexes)]
      .map((i) => topic.partitions[i])
      .filter((p): p is PartitionState => p !== undefined && isReassigning(p))
      .map((p) => ({
        partitionIndex: p.partitionId,
        replicas: [...p.replicas],
        addingReplicas: [...p.addingReplicas],
        removingReplicas: [...p.removingReplicas],
      }));
    if (partitions.length > 0) out.push({ name: topic.name, partitions });
  }
  return out;
}
