/**
 * Unit tests of the topic-administration and partition-level handlers over fake services:
 * CreateTopics and CreatePartitions answer what the controller (a real LocalController over fake
 * topics, writing to memory) decides — Kafka's order and messages — and nothing is written on
 * validate_only; DeleteRecords, DescribeLogDirs and
 * OffsetForLeaderEpoch read the partitions of the replica manager. The TCP path is covered by
 * topic-admin.test.ts.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import type {
  CreatePartitionsRequestCreatePartitionsTopic,
  CreateTopicsRequestCreatableTopic,
  CreateTopicsRequestData,
} from '../protocol/generated/messages.js';
import {
  call,
  fakeContext,
  fakeController,
  fakeLog,
  fakeMetadata,
  fakePartition,
  fakeReplicas,
  fakeTopic,
} from '../test-support/fake-services.js';
import { createPartitionsHandler } from './create-partitions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteRecordsHandler } from './delete-records.js';
import { describeLogDirsHandler } from './describe-log-dirs.js';
import { electLeadersHandler } from './elect-leaders.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { ZERO_UUID } from './topic-admin.js';

describe('CreateTopics', () => {
  const existing = [fakeTopic('taken', { partitions: 1 }), fakeTopic('a.b', { partitions: 1 })];
  const topic = (
    name: string,
    o: Partial<CreateTopicsRequestCreatableTopic> = {},
  ): CreateTopicsRequestCreatableTopic => ({
    name,
    numPartitions: 2,
    replicationFactor: 1,
    assignments: [],
    configs: [],
    ...o,
  });
  const request = (
    topics: CreateTopicsRequestCreatableTopic[],
    validateOnly = false,
  ): CreateTopicsRequestData => ({
    topics,
    timeoutMs: 30_000,
    validateOnly,
  });
  function createWith(apiVersion: number, brokerIds = [1]) {
    const config = new BrokerConfig({ 'num.partitions': '3', 'default.replication.factor': '1' });
    const { controller, batches } = fakeController(existing, { config, brokerIds });
    const ctx = fakeContext({ apiVersion, configs: config, controller });
    // The topics the controller created: name, partition count, configs.
    const created = () =>
      batches.flat().flatMap((r) => {
        if (r.type !== 'TopicRecord') return [];
        const t = controller.image.topic(r.name)!;
        return [[t.name, t.partitions.length, { ...t.configs }] as [string, number, Record<string, string>]];
      });
    return { ctx, created, controller, batches };
  }
  const outcome = (res: { topics: { name: string; errorCode: number; errorMessage?: string | null }[] }) =>
    res.topics.map((t) => [t.name, t.errorCode, t.errorMessage]);

  it('creates the topic with its configs; v5+ answers configs, partitions, replication factor; v7 the id', async () => {
    const { ctx, created, controller } = createWith(7);
    const res = await call(
      createTopicsHandler,
      ctx,
      request([topic('new', { configs: [{ name: 'retention.ms', value: ' 1000 ' }] })]),
    );
    expect(created()).toEqual([['new', 2, { 'retention.ms': '1000' }]]);
    const t = res.topics[0]!;
    expect(t).toMatchObject({
      name: 'new',
      topicId: controller.image.topic('new')!.topicId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      numPartitions: 2,
      replicationFactor: 1,
    });
    expect(t.configs!.find((c) => c.name === 'retention.ms')).toMatchObject({
      value: '1000',
      configSource: 1,
    });
    // v4: no result details on the wire.
    const v4 = await call(createTopicsHandler, createWith(4).ctx, request([topic('new')]));
    expect(v4.topics[0]).toMatchObject({ errorCode: ErrorCode.NONE, numPartitions: -1, configs: [] });
    expect(v4.topics[0]!.topicId).toBe(ZERO_UUID);
  });

  it('more than 10,000 metadata records in one request fail it whole with POLICY_VIOLATION, as Kafka', async () => {
    const { ctx, created } = createWith(7);
    const res = await call(
      createTopicsHandler,
      ctx,
      request([topic('big', { numPartitions: 9_999 }), topic('small')]),
    );
    expect(outcome(res)).toEqual([
      ['big', ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
      ['small', ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
    ]);
    expect(created()).toEqual([]);
    // A topic record and 9,999 partition records: 10,000, allowed.
    const ok = await call(createTopicsHandler, ctx, request([topic('big', { numPartitions: 9_999 })]));
    expect(outcome(ok)).toEqual([['big', ErrorCode.NONE, null]]);
  });

  it('-1 partitions and replication factor take num.partitions and default.replication.factor', async () => {
    const { ctx, created } = createWith(7);
    const res = await call(
      createTopicsHandler,
      ctx,
      request([topic('new', { numPartitions: -1, replicationFactor: -1 })]),
    );
    expect(created()[0]![1]).toBe(3);
    expect(res.topics[0]).toMatchObject({ numPartitions: 3, replicationFactor: 1 });
  });

  it('validate_only checks and answers without changing the metadata', async () => {
    const { ctx, batches } = createWith(7);
    const res = await call(createTopicsHandler, ctx, request([topic('new'), topic('taken')], true));
    expect(batches).toEqual([]);
    expect(outcome(res)).toEqual([
      ['new', ErrorCode.NONE, null],
      ['taken', ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'taken' already exists."],
    ]);
  });

  it('refuses in Kafka order with Kafka messages, creating only the valid topics', async () => {
    const { ctx, created } = createWith(7);
    const res = await call(
      createTopicsHandler,
      ctx,
      request([
        topic('dup'),
        topic('ok'),
        topic('dup'),
        topic('bad name'),
        topic('a_b'),
        topic('taken'),
        topic('__consumer_offsets'),
        topic('cfg', { configs: [{ name: 'retention.ms', value: null }] }),
        topic('cfg2', { configs: [{ name: 'no.such.config', value: '1' }] }),
        topic('rf0', { replicationFactor: 0 }),
        topic('rf2', { replicationFactor: 2 }),
        topic('p0', { numPartitions: 0 }),
      ]),
    );
    expect(created().map((c) => c[0])).toEqual(['ok']);
    const byName = new Map(res.topics.map((t) => [t.name, [t.errorCode, t.errorMessage]]));
    expect(res.topics.filter((t) => t.name === 'dup')).toHaveLength(1);
    expect(byName.get('dup')).toEqual([ErrorCode.INVALID_REQUEST, 'Duplicate topic name.']);
    expect(byName.get('bad name')![0]).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect(byName.get('a_b')).toEqual([
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      "Topic 'a_b' collides with existing topic: a.b",
    ]);
    expect(byName.get('taken')).toEqual([ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'taken' already exists."]);
    expect(byName.get('__consumer_offsets')).toEqual([
      ErrorCode.INVALID_REQUEST,
      'Creation of internal topic __consumer_offsets is prohibited.',
    ]);
    expect(byName.get('cfg')).toEqual([
      ErrorCode.INVALID_CONFIG,
      'Null value not supported for topic configs: retention.ms',
    ]);
    expect(byName.get('cfg2')![0]).toBe(ErrorCode.INVALID_CONFIG);
    expect(byName.get('rf0')).toEqual([
      ErrorCode.INVALID_REPLICATION_FACTOR,
      'Replication factor must be larger than 0, or -1 to use the default value.',
    ]);
    expect(byName.get('rf2')).toEqual([
      ErrorCode.INVALID_REPLICATION_FACTOR,
      'Unable to replicate the partition 2 time(s): The target replication factor of 2 cannot be reached because only 1 broker(s) are registered.',
    ]);
    expect(byName.get('p0')).toEqual([
      ErrorCode.INVALID_PARTITIONS,
      'Number of partitions was set to an invalid non-positive value.',
    ]);
    const failed = res.topics.find((t) => t.name === 'taken')!;
    expect(failed).toMatchObject({ numPartitions: -1, replicationFactor: -1, configs: null });
  });

  it('manual assignments: -1 counts required, consecutive partitions, registered distinct brokers', async () => {
    const assign = (...lists: number[][]) =>
      lists.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds }));
    const { ctx, created } = createWith(7, [1, 2]);
    const res = await call(
      createTopicsHandler,
      ctx,
      request([
        topic('m-ok', { numPartitions: -1, replicationFactor: -1, assignments: assign([1, 2], [2, 1]) }),
        topic('m-rf', { numPartitions: -1, replicationFactor: 1, assignments: assign([1]) }),
        topic('m-np', { numPartitions: 1, replicationFactor: -1, assignments: assign([1]) }),
        topic('m-gap', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 1, brokerIds: [1] }],
        }),
        topic('m-unknown', { numPartitions: -1, replicationFactor: -1, assignments: assign([3]) }),
        topic('m-twice', { numPartitions: -1, replicationFactor: -1, assignments: assign([1, 1]) }),
        topic('m-uneven', { numPartitions: -1, replicationFactor: -1, assignments: assign([1], [1, 2]) }),
      ]),
    );
    expect(created()).toEqual([['m-ok', 2, {}]]);
    expect(res.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['m-ok', ErrorCode.NONE, null],
      [
        'm-rf',
        ErrorCode.INVALID_REQUEST,
        'A manual partition assignment was specified, but replication factor was not set to -1.',
      ],
      [
        'm-np',
        ErrorCode.INVALID_REQUEST,
        'A manual partition assignment was specified, but numPartitions was not set to -1.',
      ],
      [
        'm-gap',
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'partitions should be a consecutive 0-based integer sequence',
      ],
      [
        'm-unknown',
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes broker 3, but no such broker is registered.',
      ],
      [
        'm-twice',
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes the broker 1 more than once.',
      ],
      [
        'm-uneven',
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes a partition with 2 replica(s), but this is not consistent with previous partitions, which have 1 replica(s).',
      ],
    ]);
    expect(res.topics[0]).toMatchObject({ numPartitions: 2, replicationFactor: 2 });
  });
});

describe('CreatePartitions', () => {
  const topics = [fakeTopic('t', { partitions: 2 })];
  const grow = (
    name: string,
    count: number,
    assignments: { brokerIds: number[] }[] | null = null,
  ): CreatePartitionsRequestCreatePartitionsTopic => ({ name, count, assignments });
  function growWith(apiVersion = 3) {
    const { controller, batches } = fakeController(topics);
    const ctx = fakeContext({ apiVersion, controller });
    // The topics grown and their new partition counts.
    const grown = () => {
      const out = new Map<string, number>();
      for (const r of batches.flat()) {
        if (r.type === 'PartitionRecord') {
          const t = controller.image.topicById(r.topicId)!;
          out.set(t.name, Math.max(out.get(t.name) ?? 0, r.partitionId + 1));
        }
      }
      return [...out];
    };
    return { ctx, grown, batches };
  }

  it('grows a topic; Kafka messages for every refusal', async () => {
    const { ctx, grown } = growWith();
    const res = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 4), grow('missing', 3), grow('d', 3), grow('d', 4)],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(grown()).toEqual([['t', 4]]);
    expect(res.results.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      ['d', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
      ['t', ErrorCode.NONE, null],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'],
    ]);
  });

  it('a count that is not an increase is INVALID_PARTITIONS', async () => {
    const { ctx, grown } = growWith();
    const same = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 2)],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(same.results[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_PARTITIONS,
      errorMessage: 'Topic already has 2 partition(s).',
    });
    const fewer = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 1)],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(fewer.results[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_PARTITIONS,
      errorMessage: 'The topic t currently has 2 partition(s); 1 would not be an increase.',
    });
    expect(grown()).toEqual([]);
  });

  it('assignments must match the new partitions and the replication factor', async () => {
    const { ctx, grown } = growWith();
    const res = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 4, [{ brokerIds: [1] }])],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(res.results[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage: 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.',
    });
    const rf = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 3, [{ brokerIds: [1, 2] }])],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(rf.results[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    const ok = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 3, [{ brokerIds: [1] }])],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(ok.results[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(grown()).toEqual([['t', 3]]);
  });

  it('validate_only changes nothing', async () => {
    const { ctx, batches } = growWith(0);
    const res = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 5)],
      timeoutMs: 1000,
      validateOnly: true,
    });
    expect(res.results).toEqual([{ name: 't', errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(batches).toEqual([]);
  });

  // Found by the fuzzer (scripts/fuzz): count 6,579,566 stalled the broker creating partitions.
  it('more than 10,000 new partitions in one request fail it whole with POLICY_VIOLATION, as Kafka', async () => {
    const { ctx, grown } = growWith();
    const res = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 10_003), grow('t2', 3), grow('missing', 5_000)],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(res.results.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      ['t', ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
      ['t2', ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
      ['missing', ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
    ]);
    const huge = await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 6_579_566)],
      timeoutMs: 1000,
      validateOnly: true,
    });
    expect(huge.results[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    expect(grown()).toEqual([]);
    // 10,000 records exactly is allowed.
    await call(createPartitionsHandler, ctx, {
      topics: [grow('t', 10_002)],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(grown()).toEqual([['t', 10_002]]);
  });
});

describe('DeleteRecords', () => {
  it('asks the data path per partition and answers its low watermark and error (the rules: replica-manager.test.ts)', async () => {
    const asked: [string, number, number][] = [];
    const ctx = fakeContext({
      apiVersion: 2,
      replicas: {
        deleteRecords: async (topic: string, partition: number, offset: number) => {
          asked.push([topic, partition, offset]);
          return partition === 0
            ? { error: 'NONE' as const, lowWatermark: offset === -1 ? 80 : offset }
            : { error: 'POLICY_VIOLATION' as const, lowWatermark: -1 };
        },
      },
    });
    const res = await call(deleteRecordsHandler, ctx, {
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, offset: -1 },
            { partitionIndex: 1, offset: 5 },
          ],
        },
      ],
      timeoutMs: 1000,
    });
    expect(asked).toEqual([
      ['t', 0, -1],
      ['t', 1, 5],
    ]);
    expect(res.topics).toEqual([
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, lowWatermark: 80, errorCode: ErrorCode.NONE },
          { partitionIndex: 1, lowWatermark: -1, errorCode: ErrorCode.POLICY_VIOLATION },
        ],
      },
    ]);
  });
});

describe('DescribeLogDirs', () => {
  const topics = [
    fakeTopic('a', {
      partitions: [
        fakePartition('a', 0, { log: fakeLog({ size: 1000 }) }),
        fakePartition('a', 1, { log: fakeLog({ size: 2000 }) }),
      ],
    }),
    fakeTopic('b', { partitions: [fakePartition('b', 0, { log: fakeLog({ size: 5 }) })] }),
  ];
  const ctx = (apiVersion: number, logDir: string) =>
    fakeContext({
      apiVersion,
      metadata: fakeMetadata(topics),
      replicas: fakeReplicas(topics, {
        logDirStates: () => [{ dir: logDir, offline: false, full: false }],
      }),
    });

  it('null lists every partition; named partitions that are not hosted are left out', async () => {
    const all = await call(describeLogDirsHandler, ctx(4, os.tmpdir()), { topics: null });
    expect(all.results).toHaveLength(1);
    const dir = all.results[0]!;
    expect(dir.logDir).toBe(os.tmpdir());
    expect(dir.topics).toEqual([
      {
        name: 'a',
        partitions: [
          { partitionIndex: 0, partitionSize: 1000, offsetLag: 0, isFutureKey: false },
          { partitionIndex: 1, partitionSize: 2000, offsetLag: 0, isFutureKey: false },
        ],
      },
      { name: 'b', partitions: [{ partitionIndex: 0, partitionSize: 5, offsetLag: 0, isFutureKey: false }] },
    ]);
    expect(dir.totalBytes).toBeGreaterThan(0);
    const some = await call(describeLogDirsHandler, ctx(1, os.tmpdir()), {
      topics: [
        { topic: 'a', partitions: [1, 7] },
        { topic: 'nope', partitions: [0] },
      ],
    });
    expect(some.results[0]!.topics).toEqual([
      {
        name: 'a',
        partitions: [{ partitionIndex: 1, partitionSize: 2000, offsetLag: 0, isFutureKey: false }],
      },
    ]);
    // v1–3 carry no sizes of the file system.
    expect(some.results[0]!.totalBytes).toBe(-1);
  });

  it('an unreadable directory reports -1 for the file-system sizes', async () => {
    const res = await call(describeLogDirsHandler, ctx(4, '/nonexistent/kbroker-log-dir'), { topics: [] });
    expect(res.results[0]).toMatchObject({
      errorCode: ErrorCode.NONE,
      totalBytes: -1,
      usableBytes: -1,
      topics: [],
    });
  });
});

describe('OffsetForLeaderEpoch', () => {
  it('passes epoch and current epoch to the data path and answers what it found (the rules: replica-manager.test.ts)', async () => {
    const asked: unknown[][] = [];
    const ctx = fakeContext({
      apiVersion: 4,
      replicas: {
        lastOffsetForLeaderEpoch: (topic: string, partition: number, epoch: number, current?: number) => {
          asked.push([topic, partition, epoch, current]);
          return partition === 0
            ? { error: 'NONE' as const, leaderEpoch: 3, endOffset: 40 }
            : { error: 'FENCED_LEADER_EPOCH' as const, leaderEpoch: -1, endOffset: -1 };
        },
      },
    });
    const res = await call(offsetForLeaderEpochHandler, ctx, {
      replicaId: -1,
      topics: [
        {
          topic: 't',
          partitions: [
            { partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 },
            { partition: 1, currentLeaderEpoch: 4, leaderEpoch: 4 },
          ],
        },
      ],
    });
    expect(asked).toEqual([
      ['t', 0, 4, 5],
      ['t', 1, 4, 4],
    ]);
    expect(res.topics[0]!.partitions).toEqual([
      { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 3, endOffset: 40 },
      { errorCode: ErrorCode.FENCED_LEADER_EPOCH, partition: 1, leaderEpoch: -1, endOffset: -1 },
    ]);
  });
});

describe('ElectLeaders', () => {
  // Partition 0 is led by its second replica (after a failover); partition 1 by its preferred one.
  const topics = () => [
    fakeTopic('e', {
      partitions: [
        fakePartition('e', 0, { leaderId: 2, replicas: [1, 2], isr: [1, 2], leaderEpoch: 1 }),
        fakePartition('e', 1, { leaderId: 2, replicas: [2, 1], isr: [2, 1] }),
      ],
    }),
  ];
  const results = (res: {
    replicaElectionResults: {
      topic: string;
      partitionResult: { partitionId: number; errorCode: number }[];
    }[];
  }) =>
    res.replicaElectionResults.map((t) => [
      t.topic,
      t.partitionResult.map((p) => [p.partitionId, p.errorCode]),
    ]);

  it('preferred: moves leadership to the first replica; answers per partition with Kafka codes', async () => {
    const { controller } = fakeController(topics(), { brokerIds: [1, 2] });
    const ctx = fakeContext({ apiVersion: 2, controller });
    const res = await call(electLeadersHandler, ctx, {
      electionType: 0,
      topicPartitions: [
        { topic: 'e', partitions: [0, 1] },
        { topic: 'missing', partitions: [0] },
      ],
      timeoutMs: 1000,
    });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(results(res)).toEqual([
      [
        'e',
        [
          [0, ErrorCode.NONE],
          [1, ErrorCode.ELECTION_NOT_NEEDED],
        ],
      ],
      ['missing', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ]);
    expect(res.replicaElectionResults[0]!.partitionResult[1]!.errorMessage).toBe(
      'Leader election not needed for topic partition.',
    );
    expect(controller.image.topic('e')!.partitions[0]).toMatchObject({ leader: 1, leaderEpoch: 2 });
  });

  it('null partitions elect all and leave out those that needed none; v0 is always preferred', async () => {
    const { controller } = fakeController(topics(), { brokerIds: [1, 2] });
    const all = await call(electLeadersHandler, fakeContext({ apiVersion: 0, controller }), {
      topicPartitions: null,
      timeoutMs: 1000,
    });
    expect(results(all)).toEqual([['e', [[0, ErrorCode.NONE]]]]);
    const again = await call(electLeadersHandler, fakeContext({ apiVersion: 1, controller }), {
      electionType: 0,
      topicPartitions: null,
      timeoutMs: 1000,
    });
    expect(again.replicaElectionResults).toEqual([]);
  });

  it('unclean: only leaderless partitions need one', async () => {
    const { controller } = fakeController(topics(), { brokerIds: [1, 2] });
    const res = await call(electLeadersHandler, fakeContext({ apiVersion: 1, controller }), {
      electionType: 1,
      topicPartitions: [{ topic: 'e', partitions: [0, 0] }],
      timeoutMs: 1000,
    });
    expect(results(res)).toEqual([['e', [[0, ErrorCode.ELECTION_NOT_NEEDED]]]]);
  });
});
