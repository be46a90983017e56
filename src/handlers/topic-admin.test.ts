// Raw-protocol tests of the topic-administration APIs at the versions clients send: Kafka's error
// codes and messages, version-specific fields, and the state read back afterwards.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { until } from '../test-support/until.js';

let tb: TestBroker;
let c: TestClient;
const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';

beforeAll(async () => {
  tb = await startTestBroker({ 'num.partitions': '2', 'log.retention.hours': '48' });
  c = await TestClient.connect(tb.port);
});
afterAll(async () => {
  c.close();
  await tb.close();
});

type Row = { name: string; errorCode: number; errorMessage?: string | null } & Record<string, unknown>;

async function create(version: number, topics: Record<string, unknown>[], validateOnly = false) {
  const res = await c.request<{ topics: Row[] }>(19, version, {
    topics: topics.map((t) => ({
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [],
      configs: [],
      ...t,
    })),
    timeoutMs: 5000,
    validateOnly,
  });
  return res.topics;
}

async function produce(topic: string, partition: number, count: number) {
  const records = Array.from({ length: count }, (_, i) => ({ value: `v${i}`, timestamp: Date.now() }));
  const res = await c.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      { name: topic, partitionData: [{ index: partition, records: buildRecordBatch({ records }) }] },
    ],
  });
  expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
}

describe('CreateTopics', () => {
  it('v7 creates with defaults (-1) and returns id, counts and configs with their sources', async () => {
    const [r, dot] = await create(7, [
      { name: 'ct-defaults', configs: [{ name: 'retention.ms', value: '1000' }] },
      { name: 'ct.dot' },
    ]);
    expect(dot!.errorCode).toBe(0);
    expect(r).toMatchObject({
      name: 'ct-defaults',
      errorCode: 0,
      errorMessage: null,
      numPartitions: 2,
      replicationFactor: 1,
    });
    expect(r!.topicId).toBe(tb.broker.metadata.topic('ct-defaults')!.topicId);
    const configs = r!.configs as { name: string; value: string; configSource: number }[];
    expect(configs.find((x) => x.name === 'retention.ms')).toMatchObject({ value: '1000', configSource: 1 });
    expect(configs.find((x) => x.name === 'segment.bytes')).toMatchObject({
      value: '1073741824',
      configSource: 5,
    });
    expect(configs.map((x) => x.name)).toEqual([...configs.map((x) => x.name)].sort());
  });

  it.each([
    [{ name: 'ct-defaults' }, 36, "Topic 'ct-defaults' already exists."],
    [
      { name: 'bad/name' },
      17,
      "Topic name bad/name is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'",
    ],
    [{ name: 'ct_dot' }, 17, "Topic 'ct_dot' collides with existing topic: ct.dot"],
    [
      { name: 'ct-p0', numPartitions: 0 },
      37,
      'Number of partitions was set to an invalid non-positive value.',
    ],
    [
      { name: 'ct-rf0', replicationFactor: 0 },
      38,
      'Replication factor must be larger than 0, or -1 to use the default value.',
    ],
    [
      { name: 'ct-rf3', numPartitions: 1, replicationFactor: 3 },
      38,
      'Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered.',
    ],
    [
      { name: 'ct-cfg', configs: [{ name: 'retention.ms', value: 'x' }] },
      40,
      'Invalid value x for configuration retention.ms: Not a number of type LONG',
    ],
    [
      { name: 'ct-cfg2', configs: [{ name: 'no.such', value: '1' }] },
      40,
      'Unknown topic config name: no.such',
    ],
    [
      { name: 'ct-cfg3', configs: [{ name: 'cleanup.policy', value: null }] },
      40,
      'Null value not supported for topic configs: cleanup.policy',
    ],
    [
      { name: 'ct-cfg4', configs: [{ name: 'message.timestamp.type', value: 'Now' }] },
      40,
      'Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime',
    ],
    [
      { name: 'ct-asg', numPartitions: 2, assignments: [{ partitionIndex: 0, brokerIds: [1] }] },
      42,
      'A manual partition assignment was specified, but numPartitions was not set to -1.',
    ],
    [
      { name: 'ct-asg2', assignments: [{ partitionIndex: 0, brokerIds: [7] }] },
      39,
      'The manual partition assignment includes broker 7, but no such broker is registered.',
    ],
    [
      { name: 'ct-asg3', assignments: [{ partitionIndex: 1, brokerIds: [1] }] },
      39,
      'partitions should be a consecutive 0-based integer sequence',
    ],
    [{ name: '__consumer_offsets' }, 42, 'Creation of internal topic __consumer_offsets is prohibited.'],
  ])("refuses %j with code %i and Kafka's message", async (topic, code, message) => {
    const [r] = await create(5, [topic]);
    expect(r).toMatchObject({ errorCode: code, errorMessage: message });
    if (code !== 36) expect(tb.broker.metadata.topic(topic.name)).toBeUndefined();
  });

  it('manual assignment creates one partition per entry', async () => {
    const [r] = await create(4, [
      { name: 'ct-manual', assignments: [0, 1, 2].map((i) => ({ partitionIndex: i, brokerIds: [1] })) },
    ]);
    expect(r!.errorCode).toBe(0);
    expect(tb.broker.metadata.topic('ct-manual')!.partitions).toHaveLength(3);
  });

  it('answers a duplicated name once with INVALID_REQUEST and creates the others', async () => {
    const rows = await create(3, [{ name: 'ct-dup' }, { name: 'ct-dup' }, { name: 'ct-single' }]);
    expect(rows.map((r) => [r.name, r.errorCode])).toEqual([
      ['ct-dup', 42],
      ['ct-single', 0],
    ]);
    expect(tb.broker.metadata.topic('ct-dup')).toBeUndefined();
  });

  it('validate_only checks without creating', async () => {
    const [ok] = await create(7, [{ name: 'ct-validate', numPartitions: 3 }], true);
    expect(ok).toMatchObject({ errorCode: 0, numPartitions: 3 });
    expect(tb.broker.metadata.topic('ct-validate')).toBeUndefined();
  });
});

describe('DeleteTopics', () => {
  it('v6 deletes by id and by name, reports unknown ones, and removes the data directories', async () => {
    await create(7, [{ name: 'dt-a' }, { name: 'dt-b' }]);
    const idA = tb.broker.metadata.topic('dt-a')!.topicId;
    const idB = tb.broker.metadata.topic('dt-b')!.topicId;
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const res = await c.request<{ responses: Row[] }>(20, 6, {
      topics: [
        { name: null, topicId: idA },
        { name: 'dt-b', topicId: ZERO },
        { name: 'dt-missing', topicId: ZERO },
        { name: null, topicId: unknownId },
        { name: null, topicId: ZERO },
      ],
      timeoutMs: 5000,
    });
    const byKey = Object.fromEntries(res.responses.map((r) => [`${r.name}/${r.topicId}`, r]));
    expect(byKey[`dt-a/${idA}`]).toMatchObject({ errorCode: 0 });
    expect(byKey[`dt-b/${idB}`]).toMatchObject({ errorCode: 0 });
    expect(byKey[`dt-missing/${ZERO}`]).toMatchObject({
      errorCode: 3,
      errorMessage: 'This server does not host this topic-partition.',
    });
    expect(byKey[`null/${unknownId}`]).toMatchObject({ errorCode: 100 });
    expect(byKey[`null/${ZERO}`]).toMatchObject({
      errorCode: 42,
      errorMessage: 'Neither topic name nor id were specified.',
    });
    for (const d of ['dt-a-0', 'dt-a-1', 'dt-b-0']) expect(existsSync(join(tb.dataDir, d))).toBe(false);
    expect(tb.broker.metadata.topic('dt-a')).toBeUndefined();
  });

  it('v1 by name; a long-polling fetch on the deleted topic is answered UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await create(4, [{ name: 'dt-poll', numPartitions: 1 }]);
    const poller = await TestClient.connect(tb.port);
    const started = Date.now();
    const fetch = poller.request<{ responses: { partitions: { errorCode: number }[] }[] }>(1, 12, {
      replicaId: -1,
      maxWaitMs: 20_000,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [
        { topic: 'dt-poll', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
      ],
    });
    await until(() => tb.broker.replicaManager.fetchPurgatorySize === 1, 5000, 'the long poll to be parked');
    const res = await c.request<{ responses: Row[] }>(20, 1, { topicNames: ['dt-poll'], timeoutMs: 5000 });
    expect(res.responses).toMatchObject([{ name: 'dt-poll', errorCode: 0 }]);
    const fetched = await fetch;
    expect(fetched.responses[0]!.partitions[0]!.errorCode).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
    poller.close();
  });

  it('refuses with TOPIC_DELETION_DISABLED when delete.topic.enable=false', async () => {
    const other = await startTestBroker({ 'delete.topic.enable': 'false' });
    const oc = await TestClient.connect(other.port);
    try {
      await other.broker.controller.createTopic('kept', 1);
      const res = await oc.request<{ responses: Row[] }>(20, 4, { topicNames: ['kept'], timeoutMs: 5000 });
      expect(res.responses[0]!.errorCode).toBe(73);
      expect(other.broker.metadata.topic('kept')).toBeDefined();
    } finally {
      oc.close();
      await other.close();
    }
  });
});

describe('CreatePartitions', () => {
  it('grows a topic, refuses non-increases, unknown topics and duplicates with Kafka messages', async () => {
    await create(4, [{ name: 'cp', numPartitions: 1 }]);
    const res = await c.request<{ results: Row[] }>(37, 3, {
      topics: [
        { name: 'cp', count: 3, assignments: null },
        { name: 'cp-missing', count: 3, assignments: null },
        { name: 'cp-dup', count: 2, assignments: null },
        { name: 'cp-dup', count: 2, assignments: null },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(res.results).toEqual(
      expect.arrayContaining([
        { name: 'cp', errorCode: 0, errorMessage: null },
        { name: 'cp-missing', errorCode: 3, errorMessage: 'This server does not host this topic-partition.' },
        { name: 'cp-dup', errorCode: 42, errorMessage: 'Duplicate topic name.' },
      ]),
    );
    expect(tb.broker.metadata.topic('cp')!.partitions).toHaveLength(3);
    const again = await c.request<{ results: Row[] }>(37, 0, {
      topics: [
        { name: 'cp', count: 3, assignments: null },
        { name: 'cp', count: 2, assignments: null },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(again.results[0]).toMatchObject({ errorCode: 42 });
    const same = await c.request<{ results: Row[] }>(37, 1, {
      topics: [{ name: 'cp', count: 3, assignments: null }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(same.results[0]).toMatchObject({
      errorCode: 37,
      errorMessage: 'Topic already has 3 partition(s).',
    });
    const fewer = await c.request<{ results: Row[] }>(37, 2, {
      topics: [{ name: 'cp', count: 2, assignments: null }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(fewer.results[0]).toMatchObject({
      errorCode: 37,
      errorMessage: 'The topic cp currently has 3 partition(s); 2 would not be an increase.',
    });
    const badAssign = await c.request<{ results: Row[] }>(37, 2, {
      topics: [{ name: 'cp', count: 5, assignments: [{ brokerIds: [1] }] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expect(badAssign.results[0]).toMatchObject({
      errorCode: 39,
      errorMessage: 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.',
    });
    // New partitions take produce and serve fetches.
    await produce('cp', 2, 3);
    expect(tb.broker.replicaManager.getPartition('cp', 2)!.highWatermark).toBe(3);
  });
});

describe('DeleteRecords', () => {
  it('moves the log start offset; beyond the high watermark is OFFSET_OUT_OF_RANGE; -1 means the high watermark', async () => {
    await create(4, [{ name: 'dr', numPartitions: 1 }]);
    await produce('dr', 0, 5);
    const del = (offset: number, version = 2) =>
      c.request<{
        topics: { partitions: { partitionIndex: number; lowWatermark: number; errorCode: number }[] }[];
      }>(21, version, {
        topics: [
          { name: 'dr', partitions: [{ partitionIndex: 0, offset }] },
          { name: 'dr-missing', partitions: [{ partitionIndex: 0, offset }] },
        ],
        timeoutMs: 5000,
      });
    let res = await del(3, 0);
    expect(res.topics[0]!.partitions[0]).toEqual({ partitionIndex: 0, lowWatermark: 3, errorCode: 0 });
    expect(res.topics[1]!.partitions[0]).toMatchObject({ errorCode: 3, lowWatermark: -1 });
    res = await del(9);
    expect(res.topics[0]!.partitions[0]).toMatchObject({ errorCode: 1, lowWatermark: -1 });
    res = await del(-1, 1);
    expect(res.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 5 });
    const fetch = await c.request<{
      responses: { partitions: { errorCode: number; logStartOffset: number }[] }[];
    }>(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'dr',
          partitions: [
            {
              partition: 0,
              fetchOffset: 2,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              logStartOffset: -1,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    expect(fetch.responses[0]!.partitions[0]).toMatchObject({ errorCode: 1, logStartOffset: 5 });
  });
});

describe('DescribeConfigs', () => {
  type Entry = {
    name: string;
    value: string | null;
    readOnly: boolean;
    configSource: number;
    isSensitive: boolean;
    synonyms: { name: string; value: string; source: number }[];
    configType: number;
    documentation: string | null;
  };
  type Res = { results: { errorCode: number; errorMessage: string | null; configs: Entry[] }[] };
  const describeTopic = (name: string, version: number, keys: string[] | null = null) =>
    c.request<Res>(32, version, {
      resources: [{ resourceType: 2, resourceName: name, configurationKeys: keys }],
      includeSynonyms: true,
      includeDocumentation: true,
    });

  it('reports sources and synonyms as Kafka does (topic override, static broker config, default)', async () => {
    await create(7, [{ name: 'dc', configs: [{ name: 'retention.bytes', value: '5000' }] }]);
    const res = await describeTopic('dc', 4);
    const byName = Object.fromEntries(res.results[0]!.configs.map((e) => [e.name, e]));
    expect(byName['retention.bytes']).toMatchObject({
      value: '5000',
      configSource: 1,
      synonyms: [
        { name: 'retention.bytes', value: '5000', source: 1 },
        { name: 'log.retention.bytes', value: '-1', source: 5 },
      ],
      configType: 5,
      readOnly: false,
      isSensitive: false,
    });
    // log.retention.hours=48 comes from the broker's static config; like Kafka, retention.ms lists no
    // synonym because log.retention.ms itself is unset, and reports DEFAULT_CONFIG.
    expect(byName['retention.ms']).toMatchObject({
      value: String(48 * 3_600_000),
      configSource: 5,
      synonyms: [],
    });
    expect(byName['cleanup.policy']).toMatchObject({
      value: 'delete',
      configSource: 5,
      synonyms: [{ name: 'log.cleanup.policy', value: 'delete', source: 5 }],
      configType: 7,
    });
    expect(byName['cleanup.policy']!.documentation).toMatch(/compact/);
    const v1 = await describeTopic('dc', 1, ['segment.bytes']);
    expect(v1.results[0]!.configs.map((e) => e.name)).toEqual(['segment.bytes']);
  });

  it('unknown topic is UNKNOWN_TOPIC_OR_PARTITION; broker resources by id and default', async () => {
    const res = await c.request<Res & { results: { resourceName: string }[] }>(32, 2, {
      resources: [
        { resourceType: 2, resourceName: 'dc-missing', configurationKeys: null },
        {
          resourceType: 4,
          resourceName: String(tb.broker.nodeId),
          configurationKeys: ['log.retention.hours', 'num.partitions', 'log.retention.ms'],
        },
        { resourceType: 4, resourceName: '99', configurationKeys: null },
        { resourceType: 8, resourceName: '1', configurationKeys: null },
      ],
      includeSynonyms: true,
    });
    // Kafka's ConfigHelper sends the code alone for an unknown topic.
    expect(res.results[0]).toMatchObject({ errorCode: 3, errorMessage: null });
    const broker = Object.fromEntries(res.results[1]!.configs.map((e) => [e.name, e]));
    expect(broker['log.retention.hours']).toMatchObject({
      value: '48',
      configSource: 4,
      readOnly: true,
      synonyms: [
        { name: 'log.retention.hours', value: '48', source: 4 },
        { name: 'log.retention.hours', value: '168', source: 5 },
      ],
    });
    expect(broker['num.partitions']).toMatchObject({ value: '2', configSource: 4, readOnly: true });
    expect(broker['log.retention.ms']).toMatchObject({ value: null, readOnly: false });
    expect(res.results[2]).toMatchObject({
      errorCode: 42,
      errorMessage: `Unexpected broker id, expected ${tb.broker.nodeId} or empty string, but received 99`,
    });
    expect(res.results[3]).toMatchObject({
      errorCode: 42,
      errorMessage: 'Unsupported resource type: BROKER_LOGGER',
    });
  });
});

describe('IncrementalAlterConfigs and AlterConfigs', () => {
  type AlterRes = { responses: { errorCode: number; errorMessage: string | null; resourceName: string }[] };
  const incremental = (
    name: string,
    configs: { name: string; configOperation: number; value: string | null }[],
    resourceType = 2,
  ) =>
    c.request<AlterRes>(44, 1, {
      resources: [{ resourceType, resourceName: name, configs }],
      validateOnly: false,
    });

  it('SET, DELETE, APPEND and SUBTRACT; non-list APPEND is INVALID_CONFIG', async () => {
    await create(7, [{ name: 'iac', numPartitions: 1 }]);
    let res = await incremental('iac', [
      { name: 'retention.ms', configOperation: 0, value: '60000' },
      { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
    ]);
    expect(res.responses[0]!.errorCode).toBe(0);
    expect(tb.broker.metadata.topic('iac')!.configs).toEqual({
      'retention.ms': '60000',
      'cleanup.policy': 'delete,compact',
    });
    expect(tb.broker.logManager.getLog('iac', 0)!.config.retentionMs).toBe(60000);
    res = await incremental('iac', [
      { name: 'retention.ms', configOperation: 1, value: null },
      { name: 'cleanup.policy', configOperation: 3, value: 'delete' },
    ]);
    expect(tb.broker.metadata.topic('iac')!.configs).toEqual({ 'cleanup.policy': 'compact' });
    expect(tb.broker.logManager.getLog('iac', 0)!.config.retentionMs).toBe(48 * 3_600_000);
    res = await incremental('iac', [{ name: 'retention.ms', configOperation: 2, value: '5' }]);
    expect(res.responses[0]).toMatchObject({
      errorCode: 40,
      errorMessage: "Can't APPEND to key retention.ms because its type is not LIST.",
    });
    res = await incremental('iac', [{ name: 'segment.bytes', configOperation: 0, value: '-5' }]);
    expect(res.responses[0]).toMatchObject({
      errorCode: 40,
      errorMessage: 'Invalid value -5 for configuration segment.bytes: Value must be at least 14',
    });
    res = await incremental('iac-missing', [{ name: 'retention.ms', configOperation: 0, value: '1' }]);
    expect(res.responses[0]!.errorCode).toBe(3);
    expect(tb.broker.metadata.topic('iac')!.configs).toEqual({ 'cleanup.policy': 'compact' });
  });

  it('AlterConfigs replaces all overrides of a topic', async () => {
    await create(7, [{ name: 'ac', numPartitions: 1, configs: [{ name: 'retention.ms', value: '1000' }] }]);
    const res = await c.request<AlterRes>(33, 0, {
      resources: [
        { resourceType: 2, resourceName: 'ac', configs: [{ name: 'segment.bytes', value: '1048576' }] },
      ],
      validateOnly: false,
    });
    expect(res.responses[0]!.errorCode).toBe(0);
    expect(tb.broker.metadata.topic('ac')!.configs).toEqual({ 'segment.bytes': '1048576' });
    const log = tb.broker.logManager.getLog('ac', 0)!;
    expect(log.config.segmentBytes).toBe(1048576);
    expect(log.config.retentionMs).toBe(48 * 3_600_000);
  });

  it('dynamic broker configs become topic defaults; non-dynamic keys are refused', async () => {
    await create(7, [{ name: 'dyn', numPartitions: 1 }]);
    let res = await incremental('', [{ name: 'log.retention.ms', configOperation: 0, value: '7200000' }], 4);
    expect(res.responses[0]!.errorCode).toBe(0);
    expect(tb.broker.logManager.getLog('dyn', 0)!.config.retentionMs).toBe(7_200_000);
    const described = await c.request<{
      results: {
        configs: {
          name: string;
          value: string;
          configSource: number;
          synonyms: { source: number; name: string }[];
        }[];
      }[];
    }>(32, 4, {
      resources: [{ resourceType: 2, resourceName: 'dyn', configurationKeys: ['retention.ms'] }],
      includeSynonyms: true,
      includeDocumentation: false,
    });
    expect(described.results[0]!.configs[0]).toMatchObject({
      value: '7200000',
      configSource: 3,
      synonyms: [
        { name: 'log.retention.ms', value: '7200000', source: 3 },
        { name: 'log.retention.hours', value: '48', source: 4 },
        { name: 'log.retention.hours', value: '168', source: 5 },
      ],
    });
    res = await incremental(
      String(tb.broker.nodeId),
      [{ name: 'log.retention.hours', configOperation: 0, value: '1' }],
      4,
    );
    expect(res.responses[0]).toMatchObject({
      errorCode: 42,
      errorMessage: 'Cannot update these configs dynamically: Set(log.retention.hours)',
    });
    res = await incremental('', [{ name: 'log.retention.ms', configOperation: 1, value: null }], 4);
    expect(tb.broker.logManager.getLog('dyn', 0)!.config.retentionMs).toBe(48 * 3_600_000);
  });
});

describe('DescribeCluster, DescribeTopicPartitions, OffsetForLeaderEpoch, DescribeLogDirs', () => {
  it('DescribeCluster v1 names this broker as controller', async () => {
    const res = await c.request<Record<string, unknown>>(60, 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
    expect(res).toMatchObject({
      errorCode: 0,
      clusterId: tb.broker.clusterId,
      controllerId: tb.broker.nodeId,
      brokers: [{ brokerId: tb.broker.nodeId, host: '127.0.0.1', port: tb.port, rack: null }],
      clusterAuthorizedOperations: -2147483648,
    });
    const controllers = await c.request<Record<string, unknown>>(60, 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 2,
    });
    expect(controllers.errorCode).toBe(114);
  });

  it('DescribeTopicPartitions pages with a cursor', async () => {
    await create(7, [
      { name: 'dtp-a', numPartitions: 3 },
      { name: 'dtp-b', numPartitions: 2 },
    ]);
    type R = {
      topics: {
        name: string;
        errorCode: number;
        topicId: string;
        partitions: { partitionIndex: number }[];
      }[];
      nextCursor: { topicName: string; partitionIndex: number } | null;
    };
    const first = await c.request<R>(75, 0, {
      topics: [{ name: 'dtp-b' }, { name: 'dtp-a' }, { name: 'dtp-missing' }],
      responsePartitionLimit: 4,
      cursor: null,
    });
    expect(first.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])).toEqual([
      ['dtp-a', [0, 1, 2]],
      ['dtp-b', [0]],
    ]);
    expect(first.topics[0]!.topicId).toBe(tb.broker.metadata.topic('dtp-a')!.topicId);
    expect(first.nextCursor).toEqual({ topicName: 'dtp-b', partitionIndex: 1 });
    const second = await c.request<R>(75, 0, {
      topics: [{ name: 'dtp-b' }, { name: 'dtp-a' }, { name: 'dtp-missing' }],
      responsePartitionLimit: 4,
      cursor: first.nextCursor,
    });
    expect(
      second.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
    ).toEqual([
      ['dtp-b', 0, [1]],
      ['dtp-missing', 3, []],
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it('OffsetForLeaderEpoch answers the end offset of epoch 0, -1 for a later one, fences stale epochs', async () => {
    await create(7, [{ name: 'ofle', numPartitions: 2 }]);
    await produce('ofle', 0, 4);
    type R = {
      topics: {
        partitions: { errorCode: number; partition: number; leaderEpoch: number; endOffset: number }[];
      }[];
    };
    const res = await c.request<R>(23, 4, {
      replicaId: -1,
      topics: [
        {
          topic: 'ofle',
          partitions: [
            { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 },
            { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 },
            { partition: 0, currentLeaderEpoch: -1, leaderEpoch: 3 },
            { partition: 0, currentLeaderEpoch: 2, leaderEpoch: 0 },
            { partition: 9, currentLeaderEpoch: -1, leaderEpoch: 0 },
          ],
        },
      ],
    });
    expect(res.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderEpoch, p.endOffset])).toEqual([
      [0, 0, 4],
      [0, 0, 0],
      [0, -1, -1],
      [75, -1, -1], // UNKNOWN_LEADER_EPOCH: the client knows an epoch this leader does not
      [3, -1, -1],
    ]);
  });

  it('DescribeLogDirs v4 reports the log dir and partition sizes', async () => {
    await create(7, [{ name: 'dld', numPartitions: 1 }]);
    await produce('dld', 0, 3);
    type R = {
      results: {
        errorCode: number;
        logDir: string;
        topics: { name: string; partitions: { partitionIndex: number; partitionSize: number }[] }[];
        totalBytes: number;
        usableBytes: number;
      }[];
    };
    const res = await c.request<R>(35, 4, { topics: [{ topic: 'dld', partitions: [0, 5] }] });
    const dir = res.results[0]!;
    expect(dir.errorCode).toBe(0);
    expect(dir.logDir).toBe(tb.broker.logManager.dataDir);
    expect(dir.topics).toEqual([
      { name: 'dld', partitions: [expect.objectContaining({ partitionIndex: 0 })] },
    ]);
    expect(dir.topics[0]!.partitions[0]!.partitionSize).toBe(tb.broker.logManager.getLog('dld', 0)!.size);
    expect(dir.topics[0]!.partitions[0]!.partitionSize).toBeGreaterThan(0);
    expect(dir.totalBytes).toBeGreaterThan(0);
    const all = await c.request<R>(35, 1, { topics: null });
    expect(all.results[0]!.topics.map((t) => t.name)).toContain('dld');
  });
});
