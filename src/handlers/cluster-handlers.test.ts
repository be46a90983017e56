/**
 * Unit tests of the cluster-level read handlers over fake services: ApiVersions, Metadata,
 * DescribeCluster, FindCoordinator and DescribeTopicPartitions read the metadata view (and
 * Metadata may ask the controller to auto-create); the tests pin Kafka's per-version semantics.
 */
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config/broker-config.js';
import type { TopicImage } from '../metadata/image.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import type { MetadataRequestData } from '../protocol/generated/messages.js';
import {
  call,
  callHandler,
  fakeContext,
  fakeMetadata,
  fakePartition,
  fakeTopic,
  recordingLog,
} from '../test-support/fake-services.js';
import { apiVersionsHandler } from './api-versions.js';
import { describeClusterHandler } from './describe-cluster.js';
import { describeTopicPartitionsHandler } from './describe-topic-partitions.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import { HandlerRegistry } from './handler.js';
import { allHandlers } from './index.js';
import { metadataHandler } from './metadata.js';
import { CLUSTER_AUTHORIZED_OPERATIONS, TOPIC_AUTHORIZED_OPERATIONS, ZERO_UUID } from './topic-admin.js';

const OMITTED = -2147483648;

describe('ApiVersions', () => {
  it('answers the handler registry table; throttle time from v1', async () => {
    const table = new HandlerRegistry(allHandlers).apiVersions();
    const v0 = await call(
      apiVersionsHandler,
      fakeContext({ apiVersion: 0, apiVersions: () => table, configs: new BrokerConfig({}) }),
      {
        clientSoftwareName: '',
        clientSoftwareVersion: '',
      },
    );
    expect(v0.errorCode).toBe(ErrorCode.NONE);
    expect(v0.apiKeys).toEqual(table);
    const configs = new BrokerConfig({});
    const v3 = await call(
      apiVersionsHandler,
      fakeContext({ apiVersion: 3, apiVersions: () => table, configs }),
      {
        clientSoftwareName: 'librdkafka',
        clientSoftwareVersion: '2.6.0',
      },
    );
    expect(v3.apiKeys.find((k) => k.apiKey === 3)).toEqual({ apiKey: 3, minVersion: 0, maxVersion: 12 });
    expect(v3.throttleTimeMs).toBe(0);
    // Kafka 4's feature levels from v3: transactions V2 finalized at 2, share groups on: share.version
    // at 1; v3 leaves out supported features whose minimum is 0 (KAFKA-17492), v4 lists them.
    expect(v3.finalizedFeatures).toEqual([
      { name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 },
      { name: 'share.version', maxVersionLevel: 1, minVersionLevel: 1 },
      { name: 'streams.version', maxVersionLevel: 1, minVersionLevel: 1 },
    ]);
    expect(v3.finalizedFeaturesEpoch).toBe(0);
    expect(v3.supportedFeatures).toEqual([]);
    expect(v0.finalizedFeatures ?? []).toEqual([]);
    const v4 = await call(
      apiVersionsHandler,
      fakeContext({ apiVersion: 4, apiVersions: () => table, configs }),
      {
        clientSoftwareName: 'x',
        clientSoftwareVersion: '1',
      },
    );
    expect(v4.supportedFeatures).toEqual([
      { name: 'transaction.version', minVersion: 0, maxVersion: 2 },
      { name: 'share.version', minVersion: 0, maxVersion: 1 },
      { name: 'streams.version', minVersion: 0, maxVersion: 1 },
    ]);
    const off = new BrokerConfig({ 'group.share.enable': 'false' });
    const v4off = await call(
      apiVersionsHandler,
      fakeContext({ apiVersion: 4, apiVersions: () => table, configs: off }),
      {
        clientSoftwareName: 'x',
        clientSoftwareVersion: '1',
      },
    );
    expect(v4off.finalizedFeatures).toEqual([
      { name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 },
      { name: 'streams.version', minVersionLevel: 1, maxVersionLevel: 1 },
    ]);
  });

  it('advertises only versions Kafka 4.3.1 defines, Produce v0–2 kept as Kafka 4 does (KAFKA-18659)', () => {
    const table = new HandlerRegistry(allHandlers).apiVersions();
    expect(table.find((k) => k.apiKey === 0)).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 12 });
    // A handler claiming a version outside the definitions is refused, below as above.
    const below = { ...metadataHandler, minVersion: -1 };
    expect(() => new HandlerRegistry([below as never])).toThrow(/beyond Kafka's definitions/);
    const above = { ...metadataHandler, maxVersion: 99 };
    expect(() => new HandlerRegistry([above as never])).toThrow(/beyond Kafka's definitions/);
  });
});

describe('Metadata', () => {
  const a = fakeTopic('a', {
    partitions: [fakePartition('a', 0, { leaderEpoch: 4 }), fakePartition('a', 1)],
  });
  const b = fakeTopic('b');
  const topics = [a, b];
  const brokers = [{ nodeId: 1, host: 'broker-1', port: 9092, rack: 'r1' }];

  function metadataWith(
    apiVersion: number,
    autoCreate: (name: string, allow: boolean) => TopicImage | undefined,
  ) {
    const asked: [string, boolean][] = [];
    const listeners: string[] = [];
    const ctx = fakeContext({
      apiVersion,
      listenerName: 'EXTERNAL',
      metadata: fakeMetadata(topics, {
        brokers: (listener) => {
          listeners.push(listener);
          return brokers;
        },
      }),
      controller: {
        maybeAutoCreateTopic: async (name, allow) => {
          asked.push([name, allow]);
          return autoCreate(name, allow);
        },
      },
    });
    return { ctx, asked, listeners };
  }
  const existing = (name: string) => topics.find((t) => t.name === name);
  const req = (names: string[] | null, o: Partial<MetadataRequestData> = {}): MetadataRequestData => ({
    topics: names === null ? null : names.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
    ...o,
  });

  it('v0: an empty list means every topic', async () => {
    const { ctx, asked } = metadataWith(0, existing);
    const res = await call(metadataHandler, ctx, req([]));
    expect(res.topics.map((t) => t.name)).toEqual(['a', 'b']);
    expect(asked).toEqual([]);
  });

  it('v1+: null means every topic, an empty list none', async () => {
    const all = await call(metadataHandler, metadataWith(1, existing).ctx, req(null));
    expect(all.topics.map((t) => t.name)).toEqual(['a', 'b']);
    const none = await call(metadataHandler, metadataWith(1, existing).ctx, req([]));
    expect(none.topics).toEqual([]);
  });

  it('brokers on the connection listener, cluster id, controller and partition leadership', async () => {
    const { ctx, listeners } = metadataWith(12, existing);
    const res = await call(metadataHandler, ctx, req(['a']));
    expect(listeners).toEqual(['EXTERNAL']);
    expect(res).toMatchObject({ clusterId: 'test-cluster-id', controllerId: 1, brokers });
    expect(res.topics).toEqual([
      {
        errorCode: ErrorCode.NONE,
        name: 'a',
        topicId: a.topicId,
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: 4,
            replicaNodes: [1],
            isrNodes: [1],
            offlineReplicas: [],
          },
          {
            errorCode: 0,
            partitionIndex: 1,
            leaderId: 1,
            leaderEpoch: 0,
            replicaNodes: [1],
            isrNodes: [1],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: OMITTED,
      },
    ]);
    // Before v7 there is no leader epoch, before v2 no cluster id, v0 no controller.
    const v1 = await call(metadataHandler, metadataWith(1, existing).ctx, req(['a']));
    expect(v1.topics[0]!.partitions[0]!.leaderEpoch).toBe(-1);
    expect(v1.clusterId).toBeNull();
    expect(v1.controllerId).toBe(1);
  });

  it('auto-creation: always allowed before v4, from v4 as the request says', async () => {
    const v3 = metadataWith(3, () => undefined);
    await call(metadataHandler, v3.ctx, req(['new'], { allowAutoTopicCreation: false }));
    expect(v3.asked).toEqual([['new', true]]);
    const v4 = metadataWith(4, () => undefined);
    const res = await call(metadataHandler, v4.ctx, req(['new'], { allowAutoTopicCreation: false }));
    expect(v4.asked).toEqual([['new', false]]);
    expect(res.topics).toEqual([
      {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        name: 'new',
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: OMITTED,
      },
    ]);
  });

  it('an invalid name is INVALID_TOPIC_EXCEPTION without asking the controller', async () => {
    const { ctx, asked } = metadataWith(9, existing);
    const res = await call(metadataHandler, ctx, req(['bad name', 'a'.repeat(250)]));
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['a'.repeat(250), ErrorCode.INVALID_TOPIC_EXCEPTION],
    ]);
    expect(asked).toEqual([]);
  });

  it('v12: topics by id; an unknown id is UNKNOWN_TOPIC_ID with a null name', async () => {
    const { ctx } = metadataWith(12, existing);
    const unknownId = 'ZZZZZZZZZZZZZZZZZZZZZQ';
    const res = await call(metadataHandler, ctx, {
      ...req([]),
      topics: [
        { name: null, topicId: b.topicId },
        { name: null, topicId: unknownId },
      ],
    });
    expect(res.topics.map((t) => [t.name, t.topicId, t.errorCode])).toEqual([
      ['b', b.topicId, ErrorCode.NONE],
      [null, unknownId, ErrorCode.UNKNOWN_TOPIC_ID],
    ]);
  });

  it('v12: a topic id with the name left "" (the Java client\'s request by id) asks by id', async () => {
    const { ctx } = metadataWith(12, existing);
    const res = await call(metadataHandler, ctx, {
      ...req([]),
      topics: [
        { name: '', topicId: a.topicId },
        { name: '', topicId: b.topicId },
      ],
    });
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['a', ErrorCode.NONE],
      ['b', ErrorCode.NONE],
    ]);
  });

  it('a topic requested twice is answered once, as Kafka answers the set of names', async () => {
    const { ctx } = metadataWith(9, existing);
    const res = await call(metadataHandler, ctx, req(['a', 'b', 'a']));
    expect(res.topics.map((t) => t.name)).toEqual(['a', 'b']);
  });

  it('v8+: authorized operations when asked (all of them, there is no authorizer)', async () => {
    const asked = { includeTopicAuthorizedOperations: true, includeClusterAuthorizedOperations: true };
    const v8 = await call(metadataHandler, metadataWith(8, existing).ctx, req(['a', 'bad name'], asked));
    expect(v8.topics.map((t) => t.topicAuthorizedOperations)).toEqual([
      TOPIC_AUTHORIZED_OPERATIONS,
      TOPIC_AUTHORIZED_OPERATIONS,
    ]);
    expect(v8.clusterAuthorizedOperations).toBe(CLUSTER_AUTHORIZED_OPERATIONS);
    // v11 dropped the cluster field; the topic one stays.
    const v11 = await call(metadataHandler, metadataWith(11, existing).ctx, req(['a'], asked));
    expect(v11.topics[0]!.topicAuthorizedOperations).toBe(TOPIC_AUTHORIZED_OPERATIONS);
    expect(v11.clusterAuthorizedOperations).toBe(OMITTED);
    // Not asked, or before v8: omitted.
    const v9 = await call(metadataHandler, metadataWith(9, existing).ctx, req(['a']));
    expect(v9.topics[0]!.topicAuthorizedOperations).toBe(OMITTED);
    expect(v9.clusterAuthorizedOperations).toBe(OMITTED);
    const v7 = await call(metadataHandler, metadataWith(7, existing).ctx, req(['a'], asked), {
      roundTrip: false,
    });
    expect(v7.topics[0]!.topicAuthorizedOperations).toBe(OMITTED);
  });
});

describe('DescribeCluster', () => {
  const metadata = fakeMetadata([], {
    brokers: () => [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
  });

  it('lists the brokers and controller; authorized operations only when asked', async () => {
    const res = await call(describeClusterHandler, fakeContext({ apiVersion: 1, metadata }), {
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
    });
    expect(res).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: 1,
      clusterId: 'test-cluster-id',
      controllerId: 1,
      // isFenced (v2) is not on the wire at v1: it decodes as its default.
      brokers: [{ brokerId: 1, host: 'h', port: 9092, rack: null, isFenced: false }],
      clusterAuthorizedOperations: CLUSTER_AUTHORIZED_OPERATIONS,
    });
    const v0 = await call(describeClusterHandler, fakeContext({ apiVersion: 0, metadata }), {
      includeClusterAuthorizedOperations: false,
      endpointType: 2, // not on the wire at v0: decodes as 1 (brokers)
    });
    expect(v0).toMatchObject({ errorCode: ErrorCode.NONE, clusterAuthorizedOperations: OMITTED });
  });

  it('v1: controllers asked of a broker are MISMATCHED_ENDPOINT_TYPE, unknown types UNSUPPORTED_ENDPOINT_TYPE', async () => {
    const ctx = fakeContext({ apiVersion: 1, metadata });
    const controllers = await call(describeClusterHandler, ctx, {
      includeClusterAuthorizedOperations: true,
      endpointType: 2,
    });
    expect(controllers).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE,
      errorMessage:
        'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
      endpointType: 1,
      clusterId: '',
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: OMITTED,
    });
    const unknown = await call(describeClusterHandler, ctx, {
      includeClusterAuthorizedOperations: false,
      endpointType: 0,
    });
    expect(unknown).toMatchObject({
      errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: 'Unsupported endpoint type 0',
      brokers: [],
    });
  });
});

describe('FindCoordinator', () => {
  const metadata = fakeMetadata([], {
    brokers: () => [{ nodeId: 1, host: 'coord', port: 9093, rack: null }],
  });
  function findWith(apiVersion: number, groups: { isActive: boolean; ensure?: () => void }) {
    let ensured = 0;
    const ctx = fakeContext({
      apiVersion,
      metadata,
      log: recordingLog(),
      groups: {
        isActive: groups.isActive,
        partitionFor: () => 0,
        ensureOffsetsTopic:
          groups.ensure ??
          (() => {
            ensured++;
          }),
      },
    });
    return { ctx, ensured: () => ensured };
  }

  it('v0–3: one key; a group lookup makes sure __consumer_offsets exists', async () => {
    const { ctx, ensured } = findWith(1, { isActive: true });
    const res = await call(findCoordinatorHandler, ctx, { key: 'g', keyType: 0, coordinatorKeys: [] });
    expect(res).toMatchObject({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      nodeId: 1,
      host: 'coord',
      port: 9093,
    });
    expect(ensured()).toBe(1);
    // A transactional id does not touch the group coordinator.
    const txn = fakeContext({ apiVersion: 3, metadata, transactions: { partitionFor: () => 0 } });
    const t = await call(findCoordinatorHandler, txn, { key: 'tx', keyType: 1, coordinatorKeys: [] });
    expect(t).toMatchObject({ errorCode: ErrorCode.NONE, nodeId: 1 });
  });

  it('v4+: one answer per key', async () => {
    const { ctx } = findWith(4, { isActive: true });
    const res = await call(findCoordinatorHandler, ctx, {
      key: '',
      keyType: 0,
      coordinatorKeys: ['g1', 'g2'],
    });
    expect(res.coordinators).toEqual([
      { key: 'g1', nodeId: 1, host: 'coord', port: 9093, errorCode: ErrorCode.NONE, errorMessage: null },
      { key: 'g2', nodeId: 1, host: 'coord', port: 9093, errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
  });

  it("a cluster: the leader of the key's partition of the internal topic; no leader is COORDINATOR_NOT_AVAILABLE", async () => {
    const offsets = fakeTopic('__consumer_offsets', { partitions: 2 });
    const led = {
      ...offsets,
      partitions: [
        { ...offsets.partitions[0]!, leader: 2 },
        { ...offsets.partitions[1]!, leader: -1 },
      ],
    };
    const ctx = fakeContext({
      apiVersion: 4,
      metadata: fakeMetadata([led], {
        brokers: () => [
          { nodeId: 1, host: 'one', port: 9092, rack: null },
          { nodeId: 2, host: 'two', port: 9093, rack: null },
        ],
      }),
      log: recordingLog(),
      groups: {
        isActive: true,
        ensureOffsetsTopic: () => {},
        partitionFor: (g: string) => (g === 'a' ? 0 : 1),
      },
    });
    const res = await call(findCoordinatorHandler, ctx, { key: '', keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(res.coordinators!.map((c) => [c.key, c.nodeId, c.host, c.port, c.errorCode])).toEqual([
      ['a', 2, 'two', 9093, ErrorCode.NONE],
      ['b', -1, '', -1, ErrorCode.COORDINATOR_NOT_AVAILABLE],
    ]);
  });

  it('an inactive coordinator or a failed topic creation is COORDINATOR_NOT_AVAILABLE with Kafka message', async () => {
    const expected = {
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: 'The coordinator is not available.',
      nodeId: -1,
      host: '',
      port: -1,
    };
    const inactive = await call(findCoordinatorHandler, findWith(3, { isActive: false }).ctx, {
      key: 'g',
      keyType: 0,
      coordinatorKeys: [],
    });
    expect(inactive).toMatchObject(expected);
    const failing = findWith(3, {
      isActive: true,
      ensure: () => {
        throw new Error('disk full');
      },
    });
    expect(
      await call(findCoordinatorHandler, failing.ctx, { key: 'g', keyType: 0, coordinatorKeys: [] }),
    ).toMatchObject(expected);
  });

  it('a share coordinator key (type 2) not of the form "group:topicId:partition" is INVALID_REQUEST', async () => {
    const res = await call(findCoordinatorHandler, fakeContext({ apiVersion: 6, metadata }), {
      key: '',
      keyType: 2,
      coordinatorKeys: ['s'],
    });
    expect(res.coordinators![0]).toMatchObject({
      key: 's',
      errorCode: ErrorCode.INVALID_REQUEST,
      nodeId: -1,
    });
  });
});

describe('DescribeTopicPartitions', () => {
  const topics = [
    fakeTopic('b', { partitions: 3 }),
    fakeTopic('a', { partitions: 2 }),
    fakeTopic('__consumer_offsets', { partitions: 1 }),
  ];
  const ctx = () => fakeContext({ metadata: fakeMetadata(topics) });
  const partitionsOf = (res: {
    topics: { name: string | null; partitions: { partitionIndex: number }[] }[];
  }) => res.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]);

  it('an empty list describes every topic, sorted by name, with authorized operations', async () => {
    const res = await call(describeTopicPartitionsHandler, ctx(), {
      topics: [],
      responsePartitionLimit: 2000,
      cursor: null,
    });
    expect(partitionsOf(res)).toEqual([
      ['__consumer_offsets', [0]],
      ['a', [0, 1]],
      ['b', [0, 1, 2]],
    ]);
    expect(res.topics[0]!.isInternal).toBe(true);
    expect(res.topics[1]!.topicAuthorizedOperations).toBe(TOPIC_AUTHORIZED_OPERATIONS);
    expect(res.topics[1]!.partitions[0]).toEqual({
      errorCode: 0,
      partitionIndex: 0,
      leaderId: 1,
      leaderEpoch: 0,
      replicaNodes: [1],
      isrNodes: [1],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: [],
    });
    expect(res.nextCursor).toBeNull();
  });

  it('named topics once each; unknown and invalid names carry their error', async () => {
    const res = await call(describeTopicPartitionsHandler, ctx(), {
      topics: [{ name: 'b' }, { name: 'zz' }, { name: 'b' }, { name: 'bad/name' }],
      responsePartitionLimit: 2000,
      cursor: null,
    });
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['b', ErrorCode.NONE],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['zz', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
  });

  it('the partition limit cuts the answer and next_cursor resumes where it stopped', async () => {
    const first = await call(describeTopicPartitionsHandler, ctx(), {
      topics: [{ name: 'a' }, { name: 'b' }],
      responsePartitionLimit: 3,
      cursor: null,
    });
    expect(partitionsOf(first)).toEqual([
      ['a', [0, 1]],
      ['b', [0]],
    ]);
    expect(first.nextCursor).toEqual({ topicName: 'b', partitionIndex: 1 });
    const second = await call(describeTopicPartitionsHandler, ctx(), {
      topics: [{ name: 'a' }, { name: 'b' }],
      responsePartitionLimit: 3,
      cursor: first.nextCursor,
    });
    expect(partitionsOf(second)).toEqual([['b', [1, 2]]]);
    expect(second.nextCursor).toBeNull();
  });

  it('a limit that ends exactly at a topic boundary points the cursor at the next topic', async () => {
    const res = await call(describeTopicPartitionsHandler, ctx(), {
      topics: [{ name: 'a' }, { name: 'b' }],
      responsePartitionLimit: 2,
      cursor: null,
    });
    expect(partitionsOf(res)).toEqual([['a', [0, 1]]]);
    expect(res.nextCursor).toEqual({ topicName: 'b', partitionIndex: 0 });
  });

  it('runs through the codec without touching anything but the metadata view', async () => {
    const res = await callHandler(describeTopicPartitionsHandler, ctx(), {
      topics: [{ name: 'a' }],
      responsePartitionLimit: 1,
      cursor: null,
    });
    expect(res?.nextCursor).toEqual({ topicName: 'a', partitionIndex: 1 });
  });
});
