/**
 * The controller on the image level: changes are durable before they are acknowledged (a
 * controller reopened on the same directory has them), brokers register with growing epochs, and
 * replicas are placed round-robin over the unfenced brokers. Kafka's validation rules and messages
 * are tested through the handlers (topic-admin-handlers.test.ts, config-handlers.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { tmpDir } from '../storage/test-helpers.js';
import { type LocalController, openLocalController } from './controller.js';
import type { MetadataDelta } from './image.js';

const endpoint = (port: number) => [{ name: 'PLAINTEXT', host: 'h', port, securityProtocol: 'PLAINTEXT' }];

function open(dir: string, config = new BrokerConfig({}), random = () => 0): LocalController {
  return openLocalController({ dataDir: dir, nodeId: 1, config, random });
}

describe('LocalController', () => {
  it('acknowledged changes are in the metadata log: a reopened controller has them', () => {
    const dir = tmpDir();
    const c = open(dir);
    const epoch = c.registerBroker(1, endpoint(9092), null);
    const [created] = c.createTopics(
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
    c.createPartitions([{ name: 'orders', count: 4, assignments: null }], false);
    c.alterConfigs(
      [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', value: '1000' }] }],
      false,
    );
    c.createTopic('gone', 1);
    c.deleteTopics(['gone']);
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
    expect(again.registerBroker(1, endpoint(9093), null)).toBeGreaterThan(epoch);
    expect(again.image.brokers.get(1)!.endpoints[0]!.port).toBe(9093);
  });

  it('tells listeners the whole image first, then every change', () => {
    const c = open(tmpDir());
    c.registerBroker(1, endpoint(9092), null);
    c.createTopic('a', 1);
    const deltas: MetadataDelta[] = [];
    c.onChange((delta) => deltas.push(delta));
    expect(deltas[0]!.createdTopics.map((t) => t.name)).toEqual(['a']);
    c.createTopic('b', 2);
    c.deleteTopics(['a']);
    expect(
      deltas.slice(1).map((d) => [d.createdTopics.map((t) => t.name), d.deletedTopics.map((t) => t.name)]),
    ).toEqual([
      [['b'], []],
      [[], ['a']],
    ]);
  });

  it('validate_only and refused requests write nothing', () => {
    const c = open(tmpDir());
    c.registerBroker(1, endpoint(9092), null);
    const offset = c.image.offset;
    c.createTopics(
      [{ name: 'v', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      true,
    );
    c.createTopics(
      [{ name: 'bad name', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      false,
    );
    c.createPartitions([{ name: 'missing', count: 2, assignments: null }], false);
    expect(c.image.offset).toBe(offset);
    expect(c.image.topics()).toEqual([]);
  });

  it('places replicas round-robin over the unfenced brokers (Kafka rack-unaware assignment)', () => {
    const c = open(tmpDir(), new BrokerConfig({}), () => 0);
    for (const id of [1, 2, 3]) c.registerBroker(id, endpoint(9090 + id), null);
    expect(c.placeReplicas([1, 2, 3], 6, 2)).toEqual([
      [1, 2],
      [2, 3],
      [3, 1],
      [1, 3],
      [2, 1],
      [3, 2],
    ]);
    const [res] = c.createTopics(
      [{ name: 'rf3', numPartitions: 2, replicationFactor: 3, assignments: [], configs: [] }],
      false,
    );
    expect(res!.errorCode).toBe(ErrorCode.NONE);
    const t = c.image.topic('rf3')!;
    expect(t.partitions.map((p) => [p.replicas, p.isr, p.leader])).toEqual([
      [[1, 2, 3], [1, 2, 3], 1],
      [[2, 3, 1], [2, 3, 1], 2],
    ]);
    const [tooMany] = c.createTopics(
      [{ name: 'rf4', numPartitions: 1, replicationFactor: 4, assignments: [], configs: [] }],
      false,
    );
    expect(tooMany).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      errorMessage:
        'Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached because only 3 broker(s) are registered.',
    });
    // Growing keeps the topic's replication factor.
    c.createPartitions([{ name: 'rf3', count: 3, assignments: null }], false);
    expect(c.image.topic('rf3')!.partitions[2]!.replicas).toHaveLength(3);
  });
});
