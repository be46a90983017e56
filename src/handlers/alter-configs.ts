/**
 * AlterConfigs (key 33), v0–2 (kafkajs alterConfigs, librdkafka/confluent-kafka alter_configs).
 * v1 same layout; v2 flexible. The legacy, non-incremental form: the configs given REPLACE all
 * overrides of the resource (an omitted key returns to its default).
 * TOPIC: every key must be a topic config and every value valid (INVALID_CONFIG with Kafka's
 * message); the new overrides are persisted and applied to the running logs at once.
 * BROKER (this broker's id, or "" for the cluster default): only Kafka's dynamic broker configs
 * (log.retention.ms, log.segment.bytes, ...) may be set; others are INVALID_REQUEST "Cannot
 * update these configs dynamically". They become defaults of every topic without an override.
 * Authorization: ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED).
 */
import { BrokerConfig, validateTopicConfigs } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  AlterConfigsRequest,
  type AlterConfigsRequestData,
  AlterConfigsResponse,
  type AlterConfigsResponseData,
} from '../protocol/generated/messages.js';
import { errorOf, KafkaError } from '../protocol/kafka-error.js';
import { allowsAll } from './authz.js';
import {
  brokerScope,
  configsAuthorizationError,
  ResourceType,
  resourceTypeName,
  topicResource,
} from './describe-configs.js';
import type { BrokerServices } from './handler.js';
import { defineHandler } from './handler.js';

/** The overrides a resource holds now (topic overrides, or the dynamic configs of a broker scope). */
export function currentConfigs(
  ctx: BrokerServices,
  resourceType: number,
  resourceName: string,
): Record<string, string> {
  switch (resourceType) {
    case ResourceType.TOPIC:
      return { ...topicResource(ctx, resourceName) };
    case ResourceType.BROKER:
      return ctx.configs.dynamicConfigs(brokerScope(ctx, resourceName));
    default:
      throw new KafkaError('INVALID_REQUEST', `Unsupported resource type: ${resourceTypeName(resourceType)}`);
  }
}

/** Validates the complete new overrides of a resource and, unless validateOnly, applies them. */
export function replaceConfigs(
  ctx: BrokerServices,
  resourceType: number,
  resourceName: string,
  configs: Record<string, string>,
  validateOnly: boolean,
): void {
  if (resourceType === ResourceType.TOPIC) {
    topicResource(ctx, resourceName);
    validateTopicConfigs(configs); // a ConfigError is INVALID_CONFIG with its message
    if (!validateOnly) ctx.controller.alterTopicConfigs(resourceName, configs);
    return;
  }
  if (resourceType === ResourceType.BROKER) {
    const scope = brokerScope(ctx, resourceName);
    const error = BrokerConfig.validateDynamic(configs);
    if (error) {
      throw new KafkaError(error.startsWith('Cannot update') ? 'INVALID_REQUEST' : 'INVALID_CONFIG', error);
    }
    if (!validateOnly) ctx.controller.alterBrokerConfigs(scope, configs);
    return;
  }
  throw new KafkaError('INVALID_REQUEST', `Unsupported resource type: ${resourceTypeName(resourceType)}`);
}

/** Runs `fn` for one resource and turns its expected failures into (errorCode, errorMessage). */
export function resourceOutcome(fn: () => void): { errorCode: number; errorMessage: string | null } {
  try {
    fn();
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (err) {
    if (!(err instanceof KafkaError)) throw err;
    const { code, message } = errorOf(err);
    return { errorCode: code, errorMessage: message };
  }
}

export const alterConfigsHandler = defineHandler<AlterConfigsRequestData, AlterConfigsResponseData>({
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  request: AlterConfigsRequest,
  response: AlterConfigsResponse,
  handle(ctx, req) {
    const responses = req.resources.map((res) => ({
      resourceType: res.resourceType,
      resourceName: res.resourceName,
      ...((allowsAll(ctx)
        ? null
        : configsAuthorizationError(ctx, res.resourceType, res.resourceName, 'ALTER_CONFIGS')) ??
        resourceOutcome(() => {
          const nulls = res.configs.filter((c) => c.value === null).map((c) => c.name);
          if (nulls.length > 0) {
            throw new KafkaError(
              'INVALID_CONFIG',
              `Null value not supported for topic configs: ${nulls.join(',')}`,
            );
          }
          const configs = Object.fromEntries(res.configs.map((c) => [c.name, c.value!.trim()]));
          replaceConfigs(ctx, res.resourceType, res.resourceName, configs, req.validateOnly);
        })),
    }));
    return { throttleTimeMs: 0, responses };
  },
});
