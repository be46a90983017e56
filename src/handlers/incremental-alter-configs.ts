/**
 * IncrementalAlterConfigs (key 44), v0–1 (`kafka-configs --alter`, Java Admin
 * incrementalAlterConfigs). v1 flexible. Per config: SET (0) sets a value, DELETE (1) removes an
 * override (back to the default), APPEND (2) and SUBTRACT (3) add or remove elements of a LIST
 * config (cleanup.policy) starting from its current value, else INVALID_CONFIG "Can't APPEND to
 * key x because its type is not LIST.". The result is validated and applied as AlterConfigs
 * does (topic overrides, or dynamic broker configs).
 * Authorization: ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED).
 */
import { brokerConfigByName, topicConfigByName } from '../config/definitions.js';
import {
  IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestData,
  IncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsResponseData,
} from '../protocol/generated/messages.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { currentConfigs, replaceConfigs, resourceOutcome } from './alter-configs.js';
import { allowsAll } from './authz.js';
import { configsAuthorizationError, ResourceType } from './describe-configs.js';
import { defineHandler } from './handler.js';

const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'] as const;

export const incrementalAlterConfigsHandler = defineHandler<
  IncrementalAlterConfigsRequestData,
  IncrementalAlterConfigsResponseData
>({
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  request: IncrementalAlterConfigsRequest,
  response: IncrementalAlterConfigsResponse,
  handle(ctx, req) {
    const responses = req.resources.map((res) => ({
      resourceType: res.resourceType,
      resourceName: res.resourceName,
      ...((allowsAll(ctx)
        ? null
        : configsAuthorizationError(ctx, res.resourceType, res.resourceName, 'ALTER_CONFIGS')) ??
        resourceOutcome(() => {
          const names = res.configs.map((c) => c.name);
          if (new Set(names).size !== names.length) {
            throw new KafkaError('INVALID_REQUEST', 'Error due to duplicate config keys');
          }
          const configs = currentConfigs(ctx, res.resourceType, res.resourceName);
          const isTopic = res.resourceType === ResourceType.TOPIC;
          for (const c of res.configs) {
            const op = OP_NAMES[c.configOperation];
            if (op === undefined) {
              throw new KafkaError('INVALID_REQUEST', `Unknown operation type ${c.configOperation}`);
            }
            if (op === 'DELETE') {
              delete configs[c.name];
              continue;
            }
            if (c.value === null) {
              throw new KafkaError('INVALID_CONFIG', `Null value not supported for : ${c.name}`);
            }
            if (op === 'SET') {
              configs[c.name] = c.value.trim();
              continue;
            }
            const def = isTopic ? topicConfigByName.get(c.name) : brokerConfigByName.get(c.name);
            if (def?.type !== 'list') {
              throw new KafkaError(
                'INVALID_CONFIG',
                `Can't ${op} to key ${c.name} because its type is not LIST.`,
              );
            }
            const current =
              configs[c.name] ??
              (isTopic && topicConfigByName.has(c.name)
                ? ctx.configs.topicDefault(topicConfigByName.get(c.name)!)
                : (ctx.configs.get(c.name) ?? ''));
            const parts = current
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== '');
            for (const v of c.value.split(',').map((s) => s.trim())) {
              if (op === 'APPEND' && !parts.includes(v)) parts.push(v);
              if (op === 'SUBTRACT') {
                const i = parts.indexOf(v);
                if (i >= 0) parts.splice(i, 1);
              }
            }
            configs[c.name] = parts.join(',');
          }
          replaceConfigs(ctx, res.resourceType, res.resourceName, configs, req.validateOnly);
        })),
    }));
    return { throttleTimeMs: 0, responses };
  },
});
