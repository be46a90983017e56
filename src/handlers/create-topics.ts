/**
 * CreateTopics (key 19), v2–7 (Kafka 4 removed v0–1; kafkajs sends v3, librdkafka v4, Java v7).
 * v1 validate_only; v2 throttle time; v3 same layout; v4 -1 partitions/replication factor mean
 * the broker defaults (num.partitions, default.replication.factor); v5 flexible, and the result
 * carries the new topic's configs, partition count and replication factor; v6 same; v7 topic id.
 * Checks in Kafka's order (ControllerApis, then ReplicationControlManager.createTopics):
 * duplicate names (INVALID_REQUEST), the name (INVALID_TOPIC_EXCEPTION, also for names that
 * collide with an existing one once '.' and '_' are unified), an existing topic
 * (TOPIC_ALREADY_EXISTS), configs (INVALID_CONFIG), manual assignments (INVALID_REQUEST /
 * INVALID_REPLICA_ASSIGNMENT), replication factor (INVALID_REPLICATION_FACTOR: one broker can
 * hold one replica) and partition count (INVALID_PARTITIONS). Internal topic names are refused:
 * the coordinators create theirs.
 */

import { invalidTopicReason } from '../common/topic-name.js';
import { ConfigError, validateTopicConfigs } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  CreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsRequestData,
  CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
  type CreateTopicsResponseData,
} from '../protocol/generated/messages.js';
import { INTERNAL_TOPICS } from '../replication/replica-manager.js';
import { describeTopicConfigs } from './describe-configs.js';
import type { BrokerServices } from './handler.js';
import { defineHandler } from './handler.js';
import {
  duplicateNames,
  EXCESSIVELY_LARGE_BATCH_MESSAGE,
  MAX_RECORDS_PER_USER_OP,
  manualAssignmentError,
} from './topic-admin.js';

type Failure = { errorCode: number; errorMessage: string };
type Plan = { partitions: number; replicationFactor: number; configs: Record<string, string> };

const fail = (errorCode: number, errorMessage: string): Failure => ({ errorCode, errorMessage });

function unifyCollisionChars(name: string): string {
  return name.replace(/\./g, '_');
}

function checkTopic(ctx: BrokerServices, t: CreateTopicsRequestCreatableTopic): Failure | Plan {
  const md = ctx.metadata;
  const invalid = invalidTopicReason(t.name);
  if (invalid) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
  if (INTERNAL_TOPICS.has(t.name) || t.name === '__cluster_metadata') {
    if (md.topic(t.name)) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
    return fail(ErrorCode.INVALID_REQUEST, `Creation of internal topic ${t.name} is prohibited.`);
  }
  if (/[._]/.test(t.name)) {
    const unified = unifyCollisionChars(t.name);
    const other = md.topics().find((o) => o.name !== t.name && unifyCollisionChars(o.name) === unified);
    if (other) {
      return fail(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `Topic '${t.name}' collides with existing topic: ${other.name}`,
      );
    }
  }
  if (md.topic(t.name)) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);

  const nulls = t.configs.filter((c) => c.value === null).map((c) => c.name);
  if (nulls.length > 0) {
    return fail(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(',')}`);
  }
  const configs = Object.fromEntries(t.configs.map((c) => [c.name, c.value!.trim()]));
  try {
    validateTopicConfigs(configs);
  } catch (err) {
    if (err instanceof ConfigError) return fail(ErrorCode.INVALID_CONFIG, err.message);
    throw err;
  }

  if (t.assignments.length > 0) {
    if (t.replicationFactor !== -1) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        'A manual partition assignment was specified, but replication factor was not set to -1.',
      );
    }
    if (t.numPartitions !== -1) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        'A manual partition assignment was specified, but numPartitions was not set to -1.',
      );
    }
    const seen = new Set<number>();
    let rf: number | undefined;
    for (const a of t.assignments) {
      if (seen.has(a.partitionIndex)) {
        return fail(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Found multiple manual partition assignments for partition ${a.partitionIndex}`,
        );
      }
      const error = manualAssignmentError(ctx.metadata, a.brokerIds, rf);
      if (error) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, error);
      rf = a.brokerIds.length;
      seen.add(a.partitionIndex);
    }
    for (let i = 0; i < seen.size; i++) {
      if (!seen.has(i)) {
        return fail(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          'partitions should be a consecutive 0-based integer sequence',
        );
      }
    }
    return { partitions: seen.size, replicationFactor: rf!, configs };
  }
  if (t.replicationFactor < -1 || t.replicationFactor === 0) {
    return fail(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      'Replication factor must be larger than 0, or -1 to use the default value.',
    );
  }
  if (t.numPartitions < -1 || t.numPartitions === 0) {
    return fail(
      ErrorCode.INVALID_PARTITIONS,
      'Number of partitions was set to an invalid non-positive value.',
    );
  }
  const partitions = t.numPartitions === -1 ? ctx.configs.int('num.partitions') : t.numPartitions;
  const replicationFactor =
    t.replicationFactor === -1 ? ctx.configs.int('default.replication.factor') : t.replicationFactor;
  const brokers = ctx.metadata.registeredBrokerIds().length;
  if (replicationFactor > brokers) {
    return fail(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ` +
        `${replicationFactor} cannot be reached because only ${brokers} broker(s) are registered.`,
    );
  }
  return { partitions, replicationFactor, configs };
}

export const createTopicsHandler = defineHandler<CreateTopicsRequestData, CreateTopicsResponseData>({
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 2,
  maxVersion: 7,
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  handle(ctx, req) {
    const dups = duplicateNames(req.topics.map((t) => t.name));
    const reported = new Set<string>();
    const topics: CreateTopicsResponseCreatableTopicResult[] = [];
    const error = (name: string, f: Failure): CreateTopicsResponseCreatableTopicResult => ({
      name,
      errorCode: f.errorCode,
      errorMessage: f.errorMessage,
      numPartitions: -1,
      replicationFactor: -1,
      configs: null,
    });
    // A topic record, one per partition and one per config, for the whole request (Kafka's
    // BoundedList of MAX_RECORDS_PER_USER_OP): past it, every topic fails.
    let records = 0;
    for (const t of req.topics) {
      if (dups.has(t.name)) continue;
      const plan = checkTopic(ctx, t);
      if (!('errorCode' in plan)) records += 1 + plan.partitions + Object.keys(plan.configs).length;
    }
    if (records > MAX_RECORDS_PER_USER_OP) {
      const failure = fail(ErrorCode.POLICY_VIOLATION, EXCESSIVELY_LARGE_BATCH_MESSAGE);
      return {
        throttleTimeMs: 0,
        topics: [...new Set(req.topics.map((t) => t.name))].map((n) => error(n, failure)),
      };
    }
    for (const t of req.topics) {
      if (dups.has(t.name)) {
        if (!reported.has(t.name))
          topics.push(error(t.name, fail(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')));
        reported.add(t.name);
        continue;
      }
      const plan = checkTopic(ctx, t);
      if ('errorCode' in plan) {
        topics.push(error(t.name, plan));
        continue;
      }
      let topicId = 'AAAAAAAAAAAAAAAAAAAAAA';
      if (!req.validateOnly) {
        topicId = ctx.controller.createTopic(t.name, plan.partitions, plan.configs).topicId;
      }
      topics.push({
        name: t.name,
        topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topicConfigErrorCode: ErrorCode.NONE,
        numPartitions: plan.partitions,
        replicationFactor: plan.replicationFactor,
        configs: describeTopicConfigs(ctx.configs, plan.configs).map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          configSource: c.configSource,
          isSensitive: c.isSensitive,
        })),
      });
    }
    return { throttleTimeMs: 0, topics };
  },
});
