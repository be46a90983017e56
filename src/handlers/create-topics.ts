/**
 * CreateTopics (key 19), v2–7 (Kafka 4 removed v0–1; kafkajs sends v3, librdkafka v4, Java v7).
 * v1 validate_only; v2 throttle time; v3 same layout; v4 -1 partitions/replication factor mean
 * the broker defaults (num.partitions, default.replication.factor); v5 flexible, and the result
 * carries the new topic's configs, partition count and replication factor; v6 same; v7 topic id.
 * The controller checks each topic in Kafka's order (name, collisions, existing topic, configs,
 * manual assignments, replication factor, partition count) and answers Kafka's error code and
 * message; this handler translates, and describes the new topic's configs (v5+).
 */

import {
  CreateTopicsRequest,
  type CreateTopicsRequestData,
  CreateTopicsResponse,
  type CreateTopicsResponseData,
} from '../protocol/generated/messages.js';
import { describeTopicConfigs } from './describe-configs.js';
import { defineHandler } from './handler.js';

export const createTopicsHandler = defineHandler<CreateTopicsRequestData, CreateTopicsResponseData>({
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 2,
  maxVersion: 7,
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  handle(ctx, req) {
    const results = ctx.controller.createTopics(req.topics, req.validateOnly === true);
    const topics = results.map((r) =>
      r.errorCode !== 0
        ? {
            name: r.name,
            errorCode: r.errorCode,
            errorMessage: r.errorMessage,
            numPartitions: -1,
            replicationFactor: -1,
            configs: null,
          }
        : {
            name: r.name,
            topicId: r.topicId,
            errorCode: r.errorCode,
            errorMessage: null,
            topicConfigErrorCode: 0,
            numPartitions: r.numPartitions,
            replicationFactor: r.replicationFactor,
            configs: describeTopicConfigs(ctx.configs, r.configs).map((c) => ({
              name: c.name,
              value: c.value,
              readOnly: c.readOnly,
              configSource: c.configSource,
              isSensitive: c.isSensitive,
            })),
          },
    );
    return { throttleTimeMs: 0, topics };
  },
});
