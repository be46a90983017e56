/**
 * AlterConfigs (key 33), v0–2 (kafkajs alterConfigs, librdkafka/confluent-kafka alter_configs).
 * v1 same layout; v2 flexible. The legacy, non-incremental form: the configs given REPLACE all
 * overrides of the resource (an omitted key returns to its default).
 * TOPIC: every key must be a topic config and every value valid (INVALID_CONFIG with Kafka's
 * message); the new overrides are persisted and applied to the running logs at once. The
 * controller checks and applies (src/metadata/controller.ts); this handler translates.
 * BROKER (this broker's id, or "" for the cluster default): only Kafka's dynamic broker configs
 * (log.retention.ms, log.segment.bytes, ...) may be set; others are INVALID_REQUEST "Cannot
 * update these configs dynamically". They become defaults of every topic without an override.
 * Authorization: ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED).
 */
import {
  AlterConfigsRequest,
  type AlterConfigsRequestData,
  AlterConfigsResponse,
  type AlterConfigsResponseData,
} from '../protocol/generated/messages.js';
import { authorizedConfigOutcomes } from './describe-configs.js';
import { defineHandler } from './handler.js';

export const alterConfigsHandler = defineHandler<AlterConfigsRequestData, AlterConfigsResponseData>({
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  request: AlterConfigsRequest,
  response: AlterConfigsResponse,
  async handle(ctx, req) {
    const outcomes = await authorizedConfigOutcomes(ctx, req.resources, 'ALTER_CONFIGS', (allowed) =>
      ctx.controller.alterConfigs(allowed, req.validateOnly),
    );
    const responses = req.resources.map((res, i) => ({
      resourceType: res.resourceType,
      resourceName: res.resourceName,
      ...outcomes[i]!,
    }));
    return { throttleTimeMs: 0, responses };
  },
});
