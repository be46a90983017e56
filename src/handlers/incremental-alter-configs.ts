/**
 * IncrementalAlterConfigs (key 44), v0–1 (`kafka-configs --alter`, Java Admin
 * incrementalAlterConfigs). v1 flexible. Per config: SET (0) sets a value, DELETE (1) removes an
 * override (back to the default), APPEND (2) and SUBTRACT (3) add or remove elements of a LIST
 * config (cleanup.policy) starting from its current value, else INVALID_CONFIG "Can't APPEND to
 * key x because its type is not LIST.". The result is validated and applied as AlterConfigs
 * does (topic overrides, or dynamic broker configs), by the controller.
 */
import {
  IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestData,
  IncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsResponseData,
} from '../protocol/generated/messages.js';
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
  handle(ctx, req) {
    const outcomes = ctx.controller.incrementalAlterConfigs(req.resources, req.validateOnly);
    const responses = req.resources.map((res, i) => ({
      resourceType: res.resourceType,
      resourceName: res.resourceName,
      errorCode: outcomes[i]!.errorCode,
      errorMessage: outcomes[i]!.errorMessage,
    }));
    return { throttleTimeMs: 0, responses };
  },
});
