/**
 * Unit tests of DescribeConfigs, AlterConfigs and IncrementalAlterConfigs over fake services (a
 * real in-memory BrokerConfig, fake topics, a real controller writing to memory): resource checks
 * and Kafka's messages, what the controller stores (and that validate_only stores nothing), and
 * the describe view per version.
 */
import { describe, expect, it } from 'vitest';
import { BrokerConfig, ConfigSource } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { call, fakeContext, fakeController, fakeMetadata, fakeTopic } from '../test-support/fake-services.js';
import { alterConfigsHandler } from './alter-configs.js';
import { describeConfigsHandler, ResourceType } from './describe-configs.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';

const TOPIC = ResourceType.TOPIC;
const BROKER = ResourceType.BROKER;

function services(
  apiVersion: number,
  configs = new BrokerConfig({ 'log.retention.hours': '48' }),
  brokerConfigs: Record<string, Record<string, string>> = {},
) {
  const topics = [fakeTopic('t', { configs: { 'retention.ms': '1000', 'cleanup.policy': 'delete' } })];
  const { controller, batches } = fakeController(topics, { config: configs, brokerConfigs });
  const ctx = fakeContext({
    apiVersion,
    configs,
    metadata: fakeMetadata(topics, { nodeId: 1 }),
    controller,
  });
  /** The overrides the controller holds now: of topic t, or of a broker resource. */
  const topicConfigs = () => controller.image.topic('t')!.configs;
  const brokerConfigsOf = (name: string) => controller.image.brokerConfigs.get(name);
  return { ctx, batches, topicConfigs, brokerConfigsOf };
}

describe('DescribeConfigs', () => {
  it('a topic: overrides are DYNAMIC_TOPIC_CONFIG, defaults come from the broker with synonyms', async () => {
    const { ctx } = services(4);
    const res = await call(describeConfigsHandler, ctx, {
      resources: [
        { resourceType: TOPIC, resourceName: 't', configurationKeys: ['retention.ms', 'retention.bytes'] },
      ],
      includeSynonyms: true,
      includeDocumentation: true,
    });
    const r = res.results[0]!;
    expect(r).toMatchObject({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resourceType: TOPIC,
      resourceName: 't',
    });
    const byName = Object.fromEntries(r.configs.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['retention.bytes', 'retention.ms']);
    expect(byName['retention.ms']).toMatchObject({
      value: '1000',
      configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG,
      readOnly: false,
      isSensitive: false,
      configType: 5, // LONG
    });
    expect(byName['retention.ms']?.synonyms?.[0]).toEqual({
      name: 'retention.ms',
      value: '1000',
      source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
    });
    // Kafka's ConfigHelper lists broker synonyms from the topic config's own server default on
    // (log.retention.ms, unset here), so log.retention.hours does not show.
    expect(byName['retention.ms']?.synonyms).toHaveLength(1);
    expect(byName['retention.ms']?.documentation).toEqual(expect.any(String));
    expect(byName['retention.bytes']).toMatchObject({
      value: '-1',
      configSource: ConfigSource.DEFAULT_CONFIG,
    });
  });

  it('null or empty configuration_keys list every config', async () => {
    const { ctx } = services(4);
    const res = await call(describeConfigsHandler, ctx, {
      resources: [
        { resourceType: TOPIC, resourceName: 't', configurationKeys: null },
        { resourceType: TOPIC, resourceName: 't', configurationKeys: [] },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const [all, empty] = res.results;
    expect(all!.configs.length).toBeGreaterThan(10);
    expect(empty!.configs.map((c) => c.name)).toEqual(all!.configs.map((c) => c.name));
  });

  it('synonyms only when asked; documentation only when asked and from v3', async () => {
    const req = (includeSynonyms: boolean, includeDocumentation: boolean) => ({
      resources: [{ resourceType: TOPIC, resourceName: 't', configurationKeys: ['retention.ms'] }],
      includeSynonyms,
      includeDocumentation,
    });
    const plain = await call(describeConfigsHandler, services(4).ctx, req(false, false));
    expect(plain.results[0]!.configs[0]).toMatchObject({ synonyms: [], documentation: null });
    const v2 = await call(describeConfigsHandler, services(2).ctx, req(true, true));
    expect(v2.results[0]!.configs[0]!.synonyms).not.toEqual([]);
    // v2 has neither field on the wire.
    expect(v2.results[0]!.configs[0]).toMatchObject({ documentation: '', configType: 0 });
  });

  it('resource errors in Kafka words; an unknown topic carries no message', async () => {
    const { ctx } = services(4);
    const res = await call(describeConfigsHandler, ctx, {
      resources: [
        { resourceType: TOPIC, resourceName: 'missing', configurationKeys: null },
        { resourceType: TOPIC, resourceName: '', configurationKeys: null },
        { resourceType: TOPIC, resourceName: 'bad name', configurationKeys: null },
        { resourceType: BROKER, resourceName: '2', configurationKeys: null },
        { resourceType: BROKER, resourceName: 'x', configurationKeys: null },
        { resourceType: ResourceType.BROKER_LOGGER, resourceName: '1', configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(res.results.map((r) => [r.resourceName, r.errorCode, r.errorMessage, r.configs.length])).toEqual([
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null, 0],
      ['', ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is illegal, it can't be empty", 0],
      [
        'bad name',
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        "Topic name bad name is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'",
        0,
      ],
      ['2', ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1 or empty string, but received 2', 0],
      ['x', ErrorCode.INVALID_REQUEST, 'Broker id must be an integer, but it is: x', 0],
      ['1', ErrorCode.INVALID_REQUEST, 'Unsupported resource type: BROKER_LOGGER', 0],
    ]);
  });

  it('a broker: every config with its source; the empty name lists only dynamic defaults', async () => {
    const configs = new BrokerConfig({ 'log.retention.hours': '48' });
    configs.setDynamic('default', { 'log.retention.ms': '5000' });
    const { ctx } = services(4, configs);
    const res = await call(describeConfigsHandler, ctx, {
      resources: [
        {
          resourceType: BROKER,
          resourceName: '1',
          configurationKeys: ['log.retention.hours', 'num.partitions'],
        },
        { resourceType: BROKER, resourceName: '', configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const broker = Object.fromEntries(res.results[0]!.configs.map((c) => [c.name, c]));
    // Only log.retention.ms of the three retention keys is dynamic in Kafka.
    expect(broker['log.retention.hours']).toMatchObject({
      value: '48',
      configSource: ConfigSource.STATIC_BROKER_CONFIG,
      readOnly: true,
    });
    expect(broker['num.partitions']).toMatchObject({
      configSource: ConfigSource.DEFAULT_CONFIG,
      readOnly: true,
    });
    expect(res.results[1]!.configs.map((c) => [c.name, c.value, c.configSource])).toEqual([
      ['log.retention.ms', '5000', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    ]);
  });
});

describe('AlterConfigs', () => {
  it('replaces every override of a topic with the given ones (trimmed)', async () => {
    const { ctx, topicConfigs } = services(2);
    const res = await call(alterConfigsHandler, ctx, {
      resources: [
        { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.bytes', value: ' 10 ' }] },
      ],
      validateOnly: false,
    });
    expect(topicConfigs()).toEqual({ 'retention.bytes': '10' });
    expect(res.responses).toEqual([
      { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: 't' },
    ]);
  });

  it('validate_only checks without writing', async () => {
    const { ctx, batches } = services(0);
    const res = await call(alterConfigsHandler, ctx, {
      resources: [
        { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.bytes', value: '10' }] },
        { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', value: '10' }] },
      ],
      validateOnly: true,
    });
    expect(res.responses.map((r) => r.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    expect(batches).toEqual([]);
  });

  it('broker scopes: "" is the cluster default, the node id this broker; only dynamic configs', async () => {
    const { ctx, brokerConfigsOf } = services(1);
    const res = await call(alterConfigsHandler, ctx, {
      resources: [
        { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', value: '10' }] },
        {
          resourceType: BROKER,
          resourceName: '1',
          configs: [{ name: 'log.segment.bytes', value: '1048576' }],
        },
        { resourceType: BROKER, resourceName: '1', configs: [{ name: 'num.partitions', value: '3' }] },
        { resourceType: BROKER, resourceName: '7', configs: [] },
      ],
      validateOnly: false,
    });
    expect(brokerConfigsOf('')).toEqual({ 'log.retention.ms': '10' });
    expect(brokerConfigsOf('1')).toEqual({ 'log.segment.bytes': '1048576' });
    expect(res.responses.slice(2).map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(num.partitions)'],
      [ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1 or empty string, but received 7'],
    ]);
  });

  it('refusals: null values, unknown or invalid topic configs, unknown topics, unsupported types', async () => {
    const { ctx, batches } = services(2);
    const res = await call(alterConfigsHandler, ctx, {
      resources: [
        { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', value: null }] },
        { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', value: 'soon' }] },
        { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'no.such', value: '1' }] },
        { resourceType: TOPIC, resourceName: '', configs: [] },
        { resourceType: TOPIC, resourceName: 'missing', configs: [] },
        { resourceType: ResourceType.CLIENT_METRICS, resourceName: 'g', configs: [] },
        // Group configs (share groups): Kafka's GroupConfig names and values only.
        { resourceType: ResourceType.GROUP, resourceName: 'g', configs: [{ name: 'no.such', value: '1' }] },
        {
          resourceType: ResourceType.GROUP,
          resourceName: 'g',
          configs: [{ name: 'share.auto.offset.reset', value: 'x' }],
        },
      ],
      validateOnly: false,
    });
    expect(batches).toEqual([]);
    expect(res.responses.map((r) => r.errorCode)).toEqual([
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
    ]);
    expect(res.responses[0]!.errorMessage).toBe('Null value not supported for topic configs: retention.ms');
    expect(res.responses[3]!.errorMessage).toBe('Default topic resources are not allowed.');
    expect(res.responses[5]!.errorMessage).toBe('Unsupported resource type: CLIENT_METRICS');
    expect(res.responses[6]!.errorMessage).toBe('Unknown group config name: no.such');
  });
});

describe('IncrementalAlterConfigs', () => {
  const SET = 0;
  const DELETE = 1;
  const APPEND = 2;
  const SUBTRACT = 3;

  it('applies SET/DELETE to the current overrides and stores the result', async () => {
    const { ctx, topicConfigs } = services(1);
    const res = await call(incrementalAlterConfigsHandler, ctx, {
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [
            { name: 'retention.bytes', configOperation: SET, value: ' 99 ' },
            { name: 'retention.ms', configOperation: DELETE, value: null },
          ],
        },
      ],
      validateOnly: false,
    });
    expect(res.responses[0]).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null });
    expect(topicConfigs()).toEqual({ 'cleanup.policy': 'delete', 'retention.bytes': '99' });
  });

  it('APPEND and SUBTRACT work on LIST configs from their current value', async () => {
    const { ctx, topicConfigs } = services(1);
    const seen: (string | undefined)[] = [];
    await call(incrementalAlterConfigsHandler, ctx, {
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact,delete' }],
        },
      ],
      validateOnly: false,
    });
    seen.push(topicConfigs()['cleanup.policy']);
    await call(incrementalAlterConfigsHandler, ctx, {
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'compact' }],
        },
      ],
      validateOnly: false,
    });
    seen.push(topicConfigs()['cleanup.policy']);
    expect(seen).toEqual(['delete,compact', 'delete']);
  });

  it('refusals in Kafka words; validate_only writes nothing', async () => {
    const { ctx, batches } = services(1);
    const res = await call(incrementalAlterConfigsHandler, ctx, {
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [{ name: 'retention.ms', configOperation: APPEND, value: '1' }],
        },
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [
            { name: 'retention.ms', configOperation: SET, value: '1' },
            { name: 'retention.ms', configOperation: DELETE, value: null },
          ],
        },
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [{ name: 'retention.ms', configOperation: 7, value: '1' }],
        },
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [{ name: 'retention.ms', configOperation: SET, value: null }],
        },
        {
          resourceType: TOPIC,
          resourceName: 't',
          configs: [{ name: 'retention.ms', configOperation: SET, value: '5' }],
        },
      ],
      validateOnly: true,
    });
    expect(res.responses.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."],
      [ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
      [ErrorCode.INVALID_REQUEST, 'Unknown operation type 7'],
      [ErrorCode.INVALID_CONFIG, 'Null value not supported for : retention.ms'],
      [ErrorCode.NONE, null],
    ]);
    expect(batches).toEqual([]);
  });

  it('a broker scope starts from its dynamic configs', async () => {
    const { ctx, brokerConfigsOf } = services(0, new BrokerConfig({}), {
      '1': { 'log.retention.ms': '5000' },
    });
    await call(incrementalAlterConfigsHandler, ctx, {
      resources: [
        {
          resourceType: BROKER,
          resourceName: '1',
          configs: [{ name: 'log.segment.bytes', configOperation: SET, value: '1048576' }],
        },
      ],
      validateOnly: false,
    });
    expect(brokerConfigsOf('1')).toEqual({ 'log.retention.ms': '5000', 'log.segment.bytes': '1048576' });
  });
});
