/**
 * The controller on the image level: changes are durable before they are acknowledged (a
 * controller reopened on the same directory has them), brokers register with growing epochs, and
 * replicas are placed round-robin over the unfenced brokers. Kafka's validation rules and messages
 * are tested through the handlers (topic-admin-handlers.test.ts, config-handlers.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { BrokerConfig, ConfigError } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { tmpDir } from '../storage/test-helpers.js';
import { type LocalController, openLocalController, outcome } from './controller.js';
import type { MetadataDelta } from './image.js';

const endpoint = (port: number) => [{ name: 'PLAINTEXT', host: 'h', port, securityProtocol: 'PLAINTEXT' }];

function open(dir: string, config = new BrokerConfig({}), random = () => 0): LocalController {
  return openLocalController({ dataDir: dir, nodeId: 1, config, random });
}

describe('LocalController', () => {
  it('acknowledged changes are in the metadata log: a reopened controller has them', async () => {
    const dir = tmpDir();
    const c = open(dir);
    const epoch = await c.registerBroker(1, endpoint(9092), null);
    const [created] = await c.createTopics(
      [
        {
          name: 'orders',
          numPartitions: 3,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      false,
    );
    expect(created).toMatchObject({ errorCode: ErrorCode.NONE, numPartitions: 3, replicationFactor: 1 });
    await c.createPartitions([{ name: 'orders', count: 4, assignments: null }], false);
    await c.alterConfigs(
      [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', value: '1000' }] }],
      false,
    );
    await c.createTopic('gone', 1);
    await c.deleteTopics(['gone']);
    // No close: as after kill -9.
    const again = open(dir);
    const t = again.image.topic('orders')!;
    expect(t.topicId).toBe(created!.topicId);
    expect(t.partitions.map((p) => [p.partitionId, p.replicas, p.leader])).toEqual([
      [0, [1], 1],
      [1, [1], 1],
      [2, [1], 1],
      [3, [1], 1],
    ]);
    expect(t.configs).toEqual({ 'cleanup.policy': 'compact' });
    expect(again.image.brokerConfigs.get('')).toEqual({ 'log.retention.ms': '1000' });
    expect(again.image.topic('gone')).toBeUndefined();
    expect(again.image.brokers.get(1)).toMatchObject({ brokerEpoch: epoch, fenced: false });
    // A restart registers again, with a larger epoch.
    expect(await again.registerBroker(1, endpoint(9093), null)).toBeGreaterThan(epoch);
    expect(again.image.brokers.get(1)!.endpoints[0]!.port).toBe(9093);
  });

  it('tells listeners the whole image first, then every change', async () => {
    const c = open(tmpDir());
    await c.registerBroker(1, endpoint(9092), null);
    await c.createTopic('a', 1);
    const deltas: MetadataDelta[] = [];
    c.onChange((delta) => deltas.push(delta));
    expect(deltas[0]!.createdTopics.map((t) => t.name)).toEqual(['a']);
    await c.createTopic('b', 2);
    await c.deleteTopics(['a']);
    expect(
      deltas.slice(1).map((d) => [d.createdTopics.map((t) => t.name), d.deletedTopics.map((t) => t.name)]),
    ).toEqual([
      [['b'], []],
      [[], ['a']],
    ]);
  });

  it('validate_only and refused requests write nothing', async () => {
    const c = open(tmpDir());
    await c.registerBroker(1, endpoint(9092), null);
    const offset = c.image.offset;
    await c.createTopics(
      [{ name: 'v', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      true,
    );
    await c.createTopics(
      [{ name: 'bad name', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      false,
    );
    await c.createPartitions([{ name: 'missing', count: 2, assignments: null }], false);
    expect(c.image.offset).toBe(offset);
    expect(c.image.topics()).toEqual([]);
  });

  it('places replicas round-robin over the unfenced brokers (Kafka rack-unaware assignment)', async () => {
    const c = open(tmpDir(), new BrokerConfig({}), () => 0);
    for (const id of [1, 2, 3]) await c.registerBroker(id, endpoint(9090 + id), null);
    expect(c.placeReplicas([1, 2, 3], 6, 2)).toEqual([
      [1, 2],
      [2, 3],
      [3, 1],
      [1, 3],
      [2, 1],
      [3, 2],
    ]);
    const [res] = await c.createTopics(
      [{ name: 'rf3', numPartitions: 2, replicationFactor: 3, assignments: [], configs: [] }],
      false,
    );
    expect(res!.errorCode).toBe(ErrorCode.NONE);
    const t = c.image.topic('rf3')!;
    expect(t.partitions.map((p) => [p.replicas, p.isr, p.leader])).toEqual([
      [[1, 2, 3], [1, 2, 3], 1],
      [[2, 3, 1], [2, 3, 1], 2],
    ]);
    const [tooMany] = await c.createTopics(
      [{ name: 'rf4', numPartitions: 1, replicationFactor: 4, assignments: [], configs: [] }],
      false,
    );
    expect(tooMany).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      errorMessage:
        'Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached because only 3 broker(s) are registered.',
    });
    // Growing keeps the topic's replication factor.
    await c.createPartitions([{ name: 'rf3', count: 3, assignments: null }], false);
    expect(c.image.topic('rf3')!.partitions[2]!.replicas).toHaveLength(3);
  });
});

describe('LocalController: leadership (alterPartition, fencing, elections)', () => {
  /** Three brokers and a topic `t` with partitions on [1,2,3] and [2,3,1]; broker epochs by id. */
  async function cluster(topicConfigs: { name: string; value: string }[] = []) {
    const c = open(tmpDir());
    const epochs = new Map<number, number>();
    for (const id of [1, 2, 3]) epochs.set(id, await c.registerBroker(id, endpoint(9090 + id), null));
    await c.createTopics(
      [
        {
          name: 't',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [
            { partitionIndex: 0, brokerIds: [1, 2, 3] },
            { partitionIndex: 1, brokerIds: [2, 3, 1] },
          ],
          configs: topicConfigs,
        },
      ],
      false,
    );
    const part = (p: number) => c.image.topic('t')!.partitions[p]!;
    const topicId = c.image.topic('t')!.topicId;
    const alter = async (
      brokerId: number,
      partitionIndex: number,
      isr: number[],
      o: { leaderEpoch?: number; partitionEpoch?: number; version?: number; brokerEpoch?: number } = {},
    ) => {
      const p = part(partitionIndex);
      const version = o.version ?? 3;
      const res = await c.alterPartition(
        {
          brokerId,
          brokerEpoch: o.brokerEpoch ?? epochs.get(brokerId)!,
          topics: [
            {
              topicId,
              partitions: [
                {
                  partitionIndex,
                  leaderEpoch: o.leaderEpoch ?? p.leaderEpoch,
                  partitionEpoch: o.partitionEpoch ?? p.partitionEpoch,
                  ...(version < 3
                    ? { newIsr: isr }
                    : {
                        newIsrWithEpochs: isr.map((id) => ({
                          brokerId: id,
                          brokerEpoch: epochs.get(id) ?? -1,
                        })),
                      }),
                  leaderRecoveryState: 0,
                },
              ],
            },
          ],
        },
        version,
      );
      return res.errorCode !== 0 ? { errorCode: res.errorCode } : res.topics[0]!.partitions[0]!;
    };
    return { c, part, alter, epochs };
  }

  it('alterPartition: a new ISR with the current epochs bumps the partition epoch only', async () => {
    const { part, alter } = await cluster();
    expect(part(0)).toMatchObject({ leader: 1, isr: [1, 2, 3], leaderEpoch: 0, partitionEpoch: 0 });
    expect(await alter(1, 0, [1, 2])).toEqual({
      partitionIndex: 0,
      errorCode: ErrorCode.NONE,
      leaderId: 1,
      leaderEpoch: 0,
      isr: [1, 2],
      leaderRecoveryState: 0,
      partitionEpoch: 1,
    });
    expect(part(0)).toMatchObject({ isr: [1, 2], leaderEpoch: 0, partitionEpoch: 1 });
    // The same ISR again: nothing to write, the current state answered.
    expect(await alter(1, 0, [1, 2])).toMatchObject({ errorCode: ErrorCode.NONE, partitionEpoch: 1 });
  });

  it("alterPartition refuses with Kafka's codes, in Kafka's order", async () => {
    const { c, part, alter, epochs } = await cluster();
    await alter(1, 0, [1, 2]); // partition epoch 1
    const code = (r: { errorCode: number }) => r.errorCode;
    expect(code(await alter(1, 0, [1], { partitionEpoch: 0 }))).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    expect(code(await alter(1, 0, [1], { partitionEpoch: 5 }))).toBe(ErrorCode.NOT_CONTROLLER);
    expect(code(await alter(1, 0, [1], { leaderEpoch: 3 }))).toBe(ErrorCode.NOT_CONTROLLER);
    expect(code(await alter(2, 0, [1, 2]))).toBe(ErrorCode.INVALID_REQUEST); // not the leader
    expect(code(await alter(1, 0, [2]))).toBe(ErrorCode.INVALID_REQUEST); // without the leader
    expect(code(await alter(1, 0, [1, 4]))).toBe(ErrorCode.INVALID_REQUEST); // not a replica
    expect(code(await alter(1, 0, [1, 1]))).toBe(ErrorCode.INVALID_REQUEST); // twice
    expect(code(await alter(1, 0, [1], { brokerEpoch: 999 }))).toBe(ErrorCode.STALE_BROKER_EPOCH);
    expect(
      code(
        (
          await c.alterPartition(
            { brokerId: 1, brokerEpoch: epochs.get(1)!, topics: [{ topicId: 'nope', partitions: [] }] },
            2,
          )
        ).topics[0]!.partitions[0] ?? { errorCode: -1 },
      ),
    ).toBe(-1); // no partitions asked, none answered
    const unknown = await c.alterPartition(
      {
        brokerId: 1,
        brokerEpoch: epochs.get(1)!,
        topics: [
          {
            topicId: 'nope',
            partitions: [
              {
                partitionIndex: 0,
                leaderEpoch: 0,
                partitionEpoch: 0,
                newIsrWithEpochs: [],
                leaderRecoveryState: 0,
              },
            ],
          },
        ],
      },
      2,
    );
    expect(unknown.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    expect(code(await alter(1, 0, [1, 2], { version: 2 }))).toBe(ErrorCode.NONE); // v2: the ISR without epochs
    // A member with a stale broker epoch (v3), or a fenced one, cannot join the ISR.
    const stale = await c.alterPartition(
      {
        brokerId: 1,
        brokerEpoch: epochs.get(1)!,
        topics: [
          {
            topicId: c.image.topic('t')!.topicId,
            partitions: [
              {
                partitionIndex: 0,
                leaderEpoch: 0,
                partitionEpoch: part(0).partitionEpoch,
                newIsrWithEpochs: [
                  { brokerId: 1, brokerEpoch: epochs.get(1)! },
                  { brokerId: 3, brokerEpoch: 12345 },
                ],
                leaderRecoveryState: 0,
              },
            ],
          },
        ],
      },
      3,
    );
    expect(stale.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INELIGIBLE_REPLICA);
    await c.fenceBroker(3);
    expect(code(await alter(1, 0, [1, 3]))).toBe(ErrorCode.INELIGIBLE_REPLICA);
    // A stale leader epoch (leadership moved on) is FENCED_LEADER_EPOCH.
    await c.fenceBroker(1);
    expect(part(0)).toMatchObject({ leader: 2, leaderEpoch: 1 });
    expect(code(await alter(2, 0, [2], { leaderEpoch: 0 }))).toBe(ErrorCode.FENCED_LEADER_EPOCH);
  });

  it('fencing a broker moves its leaderships within the ISR, shrinks ISRs, keeps the last member', async () => {
    const { c, part, alter } = await cluster();
    await alter(2, 1, [2, 1]); // partition 1: ISR [2,1]
    await c.fenceBroker(2);
    // Partition 0 (led by 1): 2 leaves the ISR, the leader stays.
    expect(part(0)).toMatchObject({ leader: 1, isr: [1, 3], leaderEpoch: 0, partitionEpoch: 1 });
    // Partition 1 (led by 2): the next replica in the ISR leads, epoch bumped.
    expect(part(1)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 1 });
    expect(c.image.brokers.get(2)!.fenced).toBe(true);
    await c.fenceBroker(1);
    // The last ISR member stays in it; no leader is left for partition 1.
    expect(part(1)).toMatchObject({ leader: -1, isr: [1], leaderEpoch: 2 });
    expect(part(0)).toMatchObject({ leader: 3, isr: [3], leaderEpoch: 1 });
    // Unfencing brings back a clean leader for the leaderless partition.
    await c.unfenceBroker(1);
    expect(part(1)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 3 });
    expect(part(0)).toMatchObject({ leader: 3, isr: [3] });
  });

  it('unclean.leader.election.enable lets a live replica outside the ISR lead', async () => {
    const { c, part, alter } = await cluster([{ name: 'unclean.leader.election.enable', value: 'true' }]);
    await alter(1, 0, [1]);
    await c.fenceBroker(1);
    expect(part(0)).toMatchObject({ leader: 2, isr: [2], leaderEpoch: 1 });
  });

  it('electLeaders: preferred back to the first replica; unclean for leaderless partitions', async () => {
    const { c, part, alter } = await cluster();
    await c.fenceBroker(1);
    expect(part(0).leader).toBe(2);
    await c.unfenceBroker(1);
    const result = (r: Awaited<ReturnType<LocalController['electLeaders']>>) =>
      r.map((t) => [t.topic, t.partitionResult.map((p) => [p.partitionId, p.errorCode])]);
    // 1 is not in the ISR yet.
    expect(result(await c.electLeaders(0, [{ topic: 't', partitions: [0] }]))).toEqual([
      ['t', [[0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]]],
    ]);
    await alter(2, 0, [2, 3, 1]);
    expect(result(await c.electLeaders(0, [{ topic: 't', partitions: [0, 1, 7] }]))).toEqual([
      [
        't',
        [
          [0, ErrorCode.NONE],
          [1, ErrorCode.ELECTION_NOT_NEEDED],
          [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        ],
      ],
    ]);
    expect(part(0)).toMatchObject({ leader: 1, leaderEpoch: 2 });
    expect(await c.electLeaders(0, null)).toEqual([]); // every partition has its preferred leader
    expect((await c.electLeaders(0, [{ topic: 'x', partitions: [0] }]))[0]!.partitionResult[0]).toEqual({
      partitionId: 0,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: 'No such topic as x',
    });
    // Unclean: a leaderless partition whose ISR member is fenced gets a live replica.
    await alter(2, 1, [2]);
    await c.fenceBroker(2);
    expect(part(1)).toMatchObject({ leader: -1, isr: [2] });
    expect(result(await c.electLeaders(1, [{ topic: 't', partitions: [0, 1] }]))).toEqual([
      [
        't',
        [
          [0, ErrorCode.ELECTION_NOT_NEEDED],
          [1, ErrorCode.NONE],
        ],
      ],
    ]);
    expect(part(1)).toMatchObject({ leader: 3, isr: [3] });
  });
});

describe('outcome', () => {
  it('answers a KafkaError with its code and message (null when it has none); rethrows anything else', async () => {
    expect(outcome(new KafkaError('INVALID_REQUEST', 'bad'))).toEqual({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'bad',
    });
    expect(outcome(new KafkaError('UNKNOWN_TOPIC_OR_PARTITION'))).toEqual({
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: null,
    });
    expect(outcome(new ConfigError('Invalid value x for configuration retention.ms'))).toEqual({
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Invalid value x for configuration retention.ms',
    });
    // A bug is not an answer: it reaches the connection (UNKNOWN_SERVER_ERROR, logged).
    expect(() => outcome(new TypeError('bug'))).toThrow(TypeError);
  });
});
