/**
 * How a partition leader asks for an ISR change (Kafka's AlterPartitionManager): the leader never
 * changes its ISR by itself, it proposes one to the controller with the leader epoch and partition
 * epoch it knows, and applies what the controller committed (Kafka's AlterPartition request and
 * response, KIP-497). The controller refuses a proposal made on stale state: FENCED_LEADER_EPOCH
 * (the leader epoch moved on), INVALID_UPDATE_VERSION (the partition epoch did), NOT_LEADER_OR_FOLLOWER
 * (the sender is not the leader), INELIGIBLE_REPLICA (a new member is fenced or shutting down),
 * INVALID_REQUEST (a member not among the replicas), UNKNOWN_TOPIC_OR_PARTITION, NOT_CONTROLLER
 * (retry). One proposal per partition is in flight at a time (Partition keeps it pending).
 *
 * The controller side implements `submit`; the broker gives the implementation to its ReplicaManager.
 */
import type { ErrorName } from '../protocol/generated/errors.js';

export interface TopicIdPartition {
  readonly topicId: string;
  readonly topic: string;
  readonly partition: number;
}

/** The leadership fields of a partition registration (Kafka's LeaderAndIsr / PartitionRegistration). */
export interface LeaderAndIsr {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  /** Kafka's partition epoch (KIP-497): bumped by every change of the registration. */
  readonly partitionEpoch: number;
  /** The ISR with each member's broker epoch as the leader knows it (-1: unknown), for AlterPartition v3. */
  readonly isrWithEpochs?: readonly { brokerId: number; brokerEpoch: number }[];
}

export type AlterPartitionResult =
  | { readonly error: 'NONE'; readonly leaderAndIsr: LeaderAndIsr }
  | { readonly error: ErrorName; readonly message?: string };

export interface AlterPartitionManager {
  /**
   * Proposes `proposed.isr` for the partition led by `proposed.leader` at `proposed.leaderEpoch`,
   * based on `proposed.partitionEpoch` (the current one, not the next). Resolves with the committed
   * registration or the controller's error; never rejects for an expected refusal.
   */
  submit(topicPartition: TopicIdPartition, proposed: LeaderAndIsr): Promise<AlterPartitionResult>;
}
