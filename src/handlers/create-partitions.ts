/**
 * CreatePartitions (key 37), v0–3 (`kafka-topics --alter --partitions`). v1 same layout; v2
 * flexible; v3 same. Grows a topic; new partitions start empty and are led by this broker.
 * Kafka's messages: duplicate names INVALID_REQUEST, unknown topics
 * UNKNOWN_TOPIC_OR_PARTITION, a count that is not an increase INVALID_PARTITIONS, assignments
 * that do not match INVALID_REPLICA_ASSIGNMENT. validate_only checks without changing anything.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  CreatePartitionsRequest,
  type CreatePartitionsRequestCreatePartitionsTopic,
  type CreatePartitionsRequestData,
  CreatePartitionsResponse,
  type CreatePartitionsResponseCreatePartitionsTopicResult,
  type CreatePartitionsResponseData,
} from '../protocol/generated/messages.js';
import type { BrokerServices } from './handler.js';
import { defineHandler } from './handler.js';
import {
  duplicateNames,
  EXCESSIVELY_LARGE_BATCH_MESSAGE,
  MAX_RECORDS_PER_USER_OP,
  manualAssignmentError,
  UNKNOWN_TOPIC_OR_PARTITION_MESSAGE,
} from './topic-admin.js';

function check(
  ctx: BrokerServices,
  t: CreatePartitionsRequestCreatePartitionsTopic,
): [number, string] | null {
  const topic = ctx.metadata.topic(t.name);
  if (!topic) return [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION_MESSAGE];
  const current = topic.partitions.length;
  if (t.count === current)
    return [ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`];
  if (t.count < current) {
    return [
      ErrorCode.INVALID_PARTITIONS,
      `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`,
    ];
  }
  const additional = t.count - current;
  if (t.assignments !== null) {
    if (t.assignments.length !== additional) {
      return [
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`,
      ];
    }
    const rf = topic.partitions[0]!.replicas.length;
    for (const a of t.assignments) {
      const error = manualAssignmentError(ctx.metadata, a.brokerIds, rf);
      if (error) return [ErrorCode.INVALID_REPLICA_ASSIGNMENT, error];
    }
  }
  return null;
}

export const createPartitionsHandler = defineHandler<
  CreatePartitionsRequestData,
  CreatePartitionsResponseData
>({
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  request: CreatePartitionsRequest,
  response: CreatePartitionsResponse,
  handle(ctx, req) {
    const dups = duplicateNames(req.topics.map((t) => t.name));
    const results: CreatePartitionsResponseCreatePartitionsTopicResult[] = [...dups].map((name) => ({
      name,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Duplicate topic name.',
    }));
    const checked = req.topics.filter((t) => !dups.has(t.name)).map((t) => ({ t, error: check(ctx, t) }));
    // One partition record per new partition, for the whole request (Kafka's BoundedList).
    const records = checked.reduce(
      (n, { t, error }) => n + (error ? 0 : t.count - ctx.metadata.topic(t.name)!.partitions.length),
      0,
    );
    if (records > MAX_RECORDS_PER_USER_OP) {
      return {
        throttleTimeMs: 0,
        results: req.topics.map((t) => ({
          name: t.name,
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: EXCESSIVELY_LARGE_BATCH_MESSAGE,
        })),
      };
    }
    for (const { t, error } of checked) {
      if (error) {
        results.push({ name: t.name, errorCode: error[0], errorMessage: error[1] });
        continue;
      }
      if (!req.validateOnly) ctx.controller.createPartitions(t.name, t.count);
      results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
    }
    return { throttleTimeMs: 0, results };
  },
});
