/**
 * CreateTopics (key 19), v2–7 (Kafka 4 removed v0–1; kafkajs sends v3, librdkafka v4, Java v7).
 * v1 validate_only; v2 throttle time; v3 same layout; v4 -1 partitions/replication factor mean
 * the broker defaults (num.partitions, default.replication.factor); v5 flexible, and the result
 * carries the new topic's configs, partition count and replication factor; v6 same; v7 topic id.
 * The controller checks each topic in Kafka's order (name, collisions, existing topic, configs,
 * manual assignments, replication factor, partition count) and answers Kafka's error code and
 * message; this handler translates, and describes the new topic's configs (v5+).
 * controller_mutation_rate (KIP-599, handlers/mutation-quota.ts): a topic's partitions are counted
 * once it passed every check; from v6 a topic met with the quota spent gets THROTTLING_QUOTA_EXCEEDED.
 * Authorization: CREATE on the cluster or on the topic (else TOPIC_AUTHORIZATION_FAILED,
 * "Authorization failed."); the created topic's configs only with DESCRIBE_CONFIGS on it
 * (else topicConfigErrorCode TOPIC_AUTHORIZATION_FAILED).
 */

import { duplicates } from '../metadata/controller.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  CreateTopicsRequest,
  type CreateTopicsRequestData,
  CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
  type CreateTopicsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizeCluster } from './authz.js';
import { describeTopicConfigs } from './describe-configs.js';
import { defineHandler } from './handler.js';
import { mutationQuotaFor } from './mutation-quota.js';

export const createTopicsHandler = defineHandler<CreateTopicsRequestData, CreateTopicsResponseData>({
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 2,
  maxVersion: 7,
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  async handle(ctx, req) {
    // Kafka's ControllerApis: duplicate names first (the controller answers them), then CREATE on
    // the cluster or each topic, then the controller with what is left.
    const open = allowsAll(ctx);
    const clusterCreate = open || authorizeCluster(ctx, 'CREATE');
    let requested = req.topics;
    const denied: CreateTopicsResponseCreatableTopicResult[] = [];
    if (!clusterCreate) {
      const dups = duplicates(req.topics.map((t) => t.name));
      requested = req.topics.filter((t) => {
        if (dups.has(t.name) || authorize(ctx, 'CREATE', 'TOPIC', t.name)) return true;
        denied.push({
          name: t.name,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: 'Authorization failed.',
          topicConfigErrorCode: authorize(ctx, 'DESCRIBE_CONFIGS', 'TOPIC', t.name)
            ? ErrorCode.NONE
            : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        });
        return false;
      });
    }
    // KIP-599: strict from v6.
    const quota = mutationQuotaFor(ctx, 6);
    const results = await ctx.controller.createTopics(requested, req.validateOnly === true, quota.charge);
    const topics = results.map((r): CreateTopicsResponseCreatableTopicResult => {
      if (r.errorCode !== 0) {
        return {
          name: r.name,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        };
      }
      const describable = open || authorize(ctx, 'DESCRIBE_CONFIGS', 'TOPIC', r.name);
      return {
        name: r.name,
        topicId: r.topicId,
        errorCode: r.errorCode,
        errorMessage: null,
        topicConfigErrorCode: describable ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        numPartitions: r.numPartitions,
        replicationFactor: r.replicationFactor,
        configs: describable
          ? describeTopicConfigs(ctx.configs, r.configs).map((c) => ({
              name: c.name,
              value: c.value,
              readOnly: c.readOnly,
              configSource: c.configSource,
              isSensitive: c.isSensitive,
            }))
          : null,
      };
    });
    topics.push(...denied);
    return { throttleTimeMs: quota.throttleTimeMs(), topics };
  },
});
