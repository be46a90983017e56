/**
 * AlterPartitionReassignments (key 45), v0–1 (`kafka-reassign-partitions --execute / --cancel`,
 * Java Admin alterPartitionReassignments). v0 flexible; v1 adds allow_replication_factor_change
 * (KIP-860: false refuses a target whose size differs from the partition's replica count with
 * INVALID_REPLICATION_FACTOR), echoed in the response. Each partition's target replicas start
 * (or replace) its reassignment, null replicas cancel it; the controller answers per partition
 * (src/metadata/reassignment.ts, Kafka's ReplicationControlManager.alterPartitionReassignment):
 * UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS with Kafka's
 * messages. The reassignment then runs in the background: added replicas catch up, join the ISR,
 * and the removed ones go.
 * Authorization: ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED at the top level.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  AlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsRequestData,
  AlterPartitionReassignmentsResponse,
  type AlterPartitionReassignmentsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const alterPartitionReassignmentsHandler = defineHandler<
  AlterPartitionReassignmentsRequestData,
  AlterPartitionReassignmentsResponseData
>({
  apiKey: 45,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 1,
  request: AlterPartitionReassignmentsRequest,
  response: AlterPartitionReassignmentsResponse,
  async handle(ctx, req) {
    const allowReplicationFactorChange =
      ctx.apiVersion >= 1 ? (req.allowReplicationFactorChange ?? true) : true;
    const echo = ctx.apiVersion >= 1 ? { allowReplicationFactorChange } : {};
    if (!allowsAll(ctx) && !authorizeCluster(ctx, 'ALTER')) {
      return {
        throttleTimeMs: 0,
        ...echo,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: null,
        responses: [],
      };
    }
    const results = await ctx.controller.alterPartitionReassignments(
      req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, replicas: p.replicas })),
      })),
      allowReplicationFactorChange,
    );
    return {
      throttleTimeMs: 0,
      ...echo,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: results.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: p.errorCode,
          errorMessage: p.errorMessage,
        })),
      })),
    };
  },
});
