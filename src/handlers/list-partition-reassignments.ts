/**
 * ListPartitionReassignments (key 46), v0 flexible (`kafka-reassign-partitions --verify / --list`,
 * Java Admin listPartitionReassignments): the ongoing reassignments — each partition's replica set
 * with the replicas being added and removed — of the partitions asked, or of every partition when
 * topics is null. Partitions not being reassigned and unknown topics are left out, as Kafka does.
 * Authorization: DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED at the top level.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ListPartitionReassignmentsRequest,
  type ListPartitionReassignmentsRequestData,
  ListPartitionReassignmentsResponse,
  type ListPartitionReassignmentsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const listPartitionReassignmentsHandler = defineHandler<
  ListPartitionReassignmentsRequestData,
  ListPartitionReassignmentsResponseData
>({
  apiKey: 46,
  name: 'ListPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  request: ListPartitionReassignmentsRequest,
  response: ListPartitionReassignmentsResponse,
  async handle(ctx, req) {
    if (!allowsAll(ctx) && !authorizeCluster(ctx, 'DESCRIBE')) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: null,
        topics: [],
      };
    }
    const ongoing = await ctx.controller.listPartitionReassignments(
      req.topics === null
        ? null
        : req.topics.map((t) => ({ name: t.name, partitionIndexes: t.partitionIndexes })),
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: ongoing.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          replicas: p.replicas,
          addingReplicas: p.addingReplicas,
          removingReplicas: p.removingReplicas,
        })),
      })),
    };
  },
});
