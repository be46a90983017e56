/**
 * IncrementalAlterConfigs (key 44), v0–1 (`kafka-configs --alter`, Java Admin
 * incrementalAlterConfigs). v1 flexible. Per config: SET (0) sets a value, DELETE (1) removes an
 * override (back to the default), APPEND (2) and SUBTRACT (3) add or remove elements of a LIST
 * config (cleanup.policy) starting from its current value, else INVALID_CONFIG "Can't APPEND to
 * key x because its type is not LIST.". The result is validated and applied as AlterConfigs
 * does (topic overrides, or dynamic broker configs), by the controller.
 * Authorization: ALTER_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED).
 */
import {
  IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestData,
  IncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsResponseData,
} from '../protocol/generated/messages.js';
import { authorizedConfigOutcomes } from './describe-configs.js';
import { defineHandler } from './handler.js';

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
  async handle(ctx, req) {
    const outcomes = await authorizedConfigOutcomes(ctx, req.resources, 'ALTER_CONFIGS', (allowed) =>
      ctx.controller.incrementalAlterConfigs(allowed, req.validateOnly),
    );
    const responses = req.resources.map((res, i) => ({
      resourceType: res.resourceType,
      resourceName: res.resourceName,
      ...outcomes[i]!,
    }));
    return { throttleTimeMs: 0, responses };
  },
});
