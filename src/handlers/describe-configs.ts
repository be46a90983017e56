/**
 * DescribeConfigs (key 32), v1–4 (`kafka-topics --describe` and `kafka-configs --describe`).
 * v1 replaces is_default with config_source and adds synonyms (include_synonyms); v2 same
 * layout; v3 adds config_type and documentation (include_documentation); v4 flexible.
 * TOPIC resources list every topic config: an override is DYNAMIC_TOPIC_CONFIG, otherwise the
 * source is that of the broker config that supplies the default (STATIC_BROKER_CONFIG,
 * DYNAMIC_*_BROKER_CONFIG or DEFAULT_CONFIG), with synonyms built as Kafka's ConfigHelper does.
 * BROKER resources: this broker's id lists every broker config (read_only unless AlterConfigs
 * may change it); the empty name lists the cluster-wide dynamic defaults only.
 * configuration_keys null or empty asks for every config. A TOPIC name is checked as Kafka's
 * Topic.validate ("" is INVALID_TOPIC_EXCEPTION); an unknown topic is UNKNOWN_TOPIC_OR_PARTITION
 * with no error message, as Kafka's ConfigHelper answers.
 * GROUP resources (Kafka's GroupConfig, share groups' configs): every group config kbroker
 * serves, an override as GROUP_CONFIG (8), otherwise the broker config that supplies the default.
 * Not served: BROKER_LOGGER (kbroker has no per-logger levels) and CLIENT_METRICS resources,
 * answered INVALID_REQUEST "Unsupported resource type".
 * Authorization: DESCRIBE_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED).
 */

import { invalidTopicReason } from '../common/topic-name.js';
import { type BrokerConfig, ConfigSource, type ConfigSynonym } from '../config/broker-config.js';
import {
  brokerConfigByName,
  type ConfigType,
  DYNAMIC_BROKER_CONFIGS,
  topicConfigByName,
} from '../config/definitions.js';
import { groupConfigDefs } from '../config/share-config-defs.js';
import {
  type ApiError,
  brokerResourceError,
  ResourceType,
  resourceTypeName,
} from '../metadata/controller.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeConfigsRequest,
  type DescribeConfigsRequestData,
  DescribeConfigsResponse,
  type DescribeConfigsResponseData,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
  type DescribeConfigsResponseDescribeConfigsResult,
} from '../protocol/generated/messages.js';
import { errorOf, KafkaError } from '../protocol/kafka-error.js';
import { allowsAll, authorize, authorizeCluster } from './authz.js';
import type { BrokerServices, RequestContext } from './handler.js';
import { defineHandler } from './handler.js';

export { ResourceType };

/**
 * Outcomes of altering `resources`, in order: those the principal may not alter answer
 * configsAuthorizationError (checked before the controller, as KafkaApis does), the rest what
 * `run` (the controller) answers for them.
 */
export async function authorizedConfigOutcomes<R extends { resourceType: number; resourceName: string }>(
  ctx: RequestContext,
  resources: readonly R[],
  operation: 'ALTER_CONFIGS',
  run: (allowed: readonly R[]) => Promise<readonly ApiError[]>,
): Promise<ApiError[]> {
  // A BROKER resource names "" (the cluster default) or the broker the request reached (Kafka's
  // ConfigAdminManager.preprocess): the Admin client sends each broker's configs to that broker.
  const wrongBroker = (r: R): ApiError | null => {
    if (r.resourceType !== ResourceType.BROKER) return null;
    const error = brokerResourceError(r.resourceName, ctx.metadata.nodeId);
    return error === null ? null : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: error };
  };
  const denied = resources.map((r) =>
    allowsAll(ctx)
      ? wrongBroker(r)
      : (configsAuthorizationError(ctx, r.resourceType, r.resourceName, operation) ?? wrongBroker(r)),
  );
  const outcomes = await run(resources.filter((_, i) => denied[i] === null));
  let next = 0;
  return denied.map((d) => d ?? outcomes[next++]!);
}

/**
 * Kafka's configsAuthorizationApiError: a TOPIC's configs need `operation` on the topic, a BROKER's
 * (and BROKER_LOGGER's) on the cluster; null when allowed.
 */
export function configsAuthorizationError(
  ctx: RequestContext,
  resourceType: number,
  resourceName: string,
  operation: 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS',
): { errorCode: number; errorMessage: string } | null {
  if (resourceType === ResourceType.TOPIC) {
    return authorize(ctx, operation, 'TOPIC', resourceName)
      ? null
      : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' };
  }
  if (resourceType === ResourceType.BROKER || resourceType === ResourceType.BROKER_LOGGER) {
    return authorizeCluster(ctx, operation)
      ? null
      : { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
  }
  if (resourceType === ResourceType.GROUP) {
    return authorize(ctx, operation, 'GROUP', resourceName)
      ? null
      : { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.' };
  }
  return null;
}

/** DescribeConfigsResponse.ConfigType ids. */
const CONFIG_TYPE: Record<ConfigType, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: ConfigSynonym[];
  configType: number;
  documentation: string | null;
}

/** Kafka's createTopicConfigEntry for every topic config, sorted by name. */
export function describeTopicConfigs(config: BrokerConfig, overrides: Readonly<Record<string, string>>) {
  const out: DescribedConfig[] = [];
  for (const def of [...topicConfigByName.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const isSensitive = def.type === 'password';
    const value = overrides[def.name] ?? config.topicDefault(def);
    const synonyms: ConfigSynonym[] = def.serverDefault ? config.synonyms(def.serverDefault) : [];
    if (overrides[def.name] !== undefined) {
      synonyms.unshift({
        name: def.name,
        value: isSensitive ? null : value,
        source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
      });
    }
    out.push({
      name: def.name,
      value: isSensitive ? null : value,
      readOnly: false,
      configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      isSensitive,
      synonyms,
      configType: CONFIG_TYPE[def.type],
      documentation: def.doc,
    });
  }
  return out;
}

/** Kafka's createBrokerConfigEntry; `perBroker` false keeps only dynamic-default synonyms. */
function describeBrokerConfig(config: BrokerConfig, name: string, perBroker: boolean): DescribedConfig {
  const def = brokerConfigByName.get(name)!;
  const isSensitive = def.type === 'password';
  const synonyms = config
    .synonyms(name)
    .filter((s) => perBroker || s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
  const value = perBroker ? config.get(name) : (config.dynamicConfigs('default')[name] ?? null);
  return {
    name,
    value: isSensitive ? null : value,
    readOnly: !DYNAMIC_BROKER_CONFIGS.has(name),
    configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
    isSensitive,
    synonyms,
    configType: CONFIG_TYPE[def.type],
    documentation: def.doc,
  };
}

/**
 * The broker scope a BROKER resource name addresses: "" is the cluster-wide default, this
 * broker's id is this broker; anything else is INVALID_REQUEST with Kafka's message.
 */
function brokerScope(ctx: BrokerServices, resourceName: string): 'default' | 'broker' {
  const error = brokerResourceError(resourceName, ctx.metadata.nodeId);
  if (error) throw new KafkaError('INVALID_REQUEST', error);
  return resourceName === '' ? 'default' : 'broker';
}

/** DescribeConfigsResponse.ConfigSource GROUP_CONFIG. */
const GROUP_CONFIG_SOURCE = 8;

function describeResource(
  ctx: BrokerServices,
  resourceType: number,
  resourceName: string,
): DescribedConfig[] {
  switch (resourceType) {
    case ResourceType.TOPIC: {
      // Kafka's ConfigHelper: Topic.validate (so "" is an invalid name here, not a default
      // resource), and an unknown topic is UNKNOWN_TOPIC_OR_PARTITION without a message.
      const invalid = invalidTopicReason(resourceName);
      if (invalid) throw new KafkaError('INVALID_TOPIC_EXCEPTION', invalid);
      const t = ctx.metadata.topic(resourceName);
      if (!t) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', null);
      return describeTopicConfigs(ctx.configs, t.configs);
    }
    case ResourceType.BROKER: {
      const scope = brokerScope(ctx, resourceName);
      const names =
        scope === 'broker'
          ? [...brokerConfigByName.keys()]
          : Object.keys(ctx.configs.dynamicConfigs('default'));
      return names.map((n) => describeBrokerConfig(ctx.configs, n, scope === 'broker'));
    }
    case ResourceType.GROUP: {
      if (resourceName === '') throw new KafkaError('INVALID_REQUEST', 'Group name must not be empty.');
      const overrides = ctx.metadata.groupConfigs?.(resourceName) ?? {};
      return [...groupConfigDefs].map(([name, def]): DescribedConfig => {
        const override = overrides[name];
        const fallback = def.serverDefault === '' ? 'latest' : ctx.configs.get(def.serverDefault);
        return {
          name,
          value: override ?? fallback,
          readOnly: false,
          configSource: override !== undefined ? GROUP_CONFIG_SOURCE : ConfigSource.DEFAULT_CONFIG,
          isSensitive: false,
          synonyms: [],
          configType: CONFIG_TYPE[name.endsWith('.ms') ? 'int' : 'string'],
          documentation: def.doc,
        };
      });
    }
    default:
      throw new KafkaError('INVALID_REQUEST', `Unsupported resource type: ${resourceTypeName(resourceType)}`);
  }
}

export const describeConfigsHandler = defineHandler<DescribeConfigsRequestData, DescribeConfigsResponseData>({
  apiKey: 32,
  name: 'DescribeConfigs',
  minVersion: 1,
  maxVersion: 4,
  request: DescribeConfigsRequest,
  response: DescribeConfigsResponse,
  handle(ctx, req) {
    const results = req.resources.map((res): DescribeConfigsResponseDescribeConfigsResult => {
      const base = { resourceType: res.resourceType, resourceName: res.resourceName };
      const denied = allowsAll(ctx)
        ? null
        : configsAuthorizationError(ctx, res.resourceType, res.resourceName, 'DESCRIBE_CONFIGS');
      if (denied) return { ...base, ...denied, configs: [] };
      try {
        // Null or empty: every config (Kafka's ConfigHelper.createResponseConfig).
        const keys =
          res.configurationKeys === null || res.configurationKeys.length === 0
            ? null
            : new Set(res.configurationKeys);
        const configs = describeResource(ctx, res.resourceType, res.resourceName)
          .filter((c) => keys === null || keys.has(c.name))
          .map(
            (c): DescribeConfigsResponseDescribeConfigsResourceResult => ({
              name: c.name,
              value: c.value,
              readOnly: c.readOnly,
              configSource: c.configSource,
              isSensitive: c.isSensitive,
              synonyms: req.includeSynonyms ? c.synonyms : [],
              configType: c.configType,
              documentation: req.includeDocumentation ? c.documentation : null,
            }),
          );
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        const { code, message } = errorOf(err);
        return { ...base, errorCode: code, errorMessage: message, configs: [] };
      }
    });
    return { throttleTimeMs: 0, results };
  },
});
