import { describe, expect, it } from 'vitest';
import { MetadataError, MetadataImage } from './image.js';
import type { MetadataRecord } from './records.js';

const endpoint = (port: number) => ({
  name: 'PLAINTEXT',
  host: '127.0.0.1',
  port,
  securityProtocol: 'PLAINTEXT',
});

const register = (brokerId: number, brokerEpoch = 1, fenced = false): MetadataRecord => ({
  type: 'RegisterBrokerRecord',
  brokerId,
  brokerEpoch,
  rack: null,
  endpoints: [endpoint(9092 + brokerId)],
  fenced,
});

function topicRecords(name: string, topicId: string, assignment: number[][]): MetadataRecord[] {
  return [
    { type: 'TopicRecord', name, topicId },
    ...assignment.map(
      (replicas, partitionId): MetadataRecord => ({
        type: 'PartitionRecord',
        topicId,
        partitionId,
        replicas,
        isr: replicas,
        leader: replicas[0]!,
        leaderEpoch: 0,
        partitionEpoch: 0,
      }),
    ),
  ];
}

describe('MetadataImage', () => {
  it('replays brokers, topics and partitions into an image and says what was created', () => {
    const { image, delta } = MetadataImage.EMPTY.apply([
      register(1),
      register(2),
      register(3, 1, true),
      ...topicRecords('orders', 'T1', [
        [1, 2],
        [2, 1],
      ]),
    ]);
    expect(image.offset).toBe(6);
    expect(image.liveBrokers().map((b) => b.brokerId)).toEqual([1, 2]);
    expect(image.topic('orders')).toBe(image.topicById('T1'));
    expect(image.partition('orders', 1)).toMatchObject({ leader: 2, isr: [2, 1], leaderEpoch: 0 });
    expect(delta.createdTopics.map((t) => t.name)).toEqual(['orders']);
    expect(delta.createdTopics[0]!.partitions).toHaveLength(2); // the final state of the created topic
    expect(delta.changedPartitions.map((p) => [p.topic.name, p.partition.partitionId, p.previous])).toEqual([
      ['orders', 0, undefined],
      ['orders', 1, undefined],
    ]);
    expect(delta.changedBrokers).toEqual([1, 2, 3]);
    // The earlier image is untouched.
    expect(MetadataImage.EMPTY.topics()).toEqual([]);
  });

  it('a leader change bumps the leader and partition epochs; an ISR change only the partition epoch', () => {
    const base = MetadataImage.EMPTY.apply([
      register(1),
      register(2),
      ...topicRecords('t', 'T', [[1, 2]]),
    ]).image;
    const shrink = base.apply([{ type: 'PartitionChangeRecord', topicId: 'T', partitionId: 0, isr: [1] }]);
    expect(shrink.image.partition('t', 0)).toMatchObject({
      leader: 1,
      isr: [1],
      leaderEpoch: 0,
      partitionEpoch: 1,
    });
    expect(shrink.delta.changedPartitions[0]!.previous).toMatchObject({ isr: [1, 2], partitionEpoch: 0 });
    const failover = shrink.image.apply([
      { type: 'PartitionChangeRecord', topicId: 'T', partitionId: 0, leader: 2, isr: [2] },
    ]);
    expect(failover.image.partition('t', 0)).toMatchObject({
      leader: 2,
      isr: [2],
      leaderEpoch: 1,
      partitionEpoch: 2,
    });
    expect(base.partition('t', 0)).toMatchObject({ leader: 1, partitionEpoch: 0 });
  });

  it('sets and removes topic and broker configs', () => {
    const base = MetadataImage.EMPTY.apply(topicRecords('t', 'T', [[1]])).image;
    const { image, delta } = base.apply([
      { type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: 't', name: 'retention.ms', value: '1000' },
      {
        type: 'ConfigRecord',
        resourceType: 'TOPIC',
        resourceName: 't',
        name: 'cleanup.policy',
        value: 'compact',
      },
      {
        type: 'ConfigRecord',
        resourceType: 'BROKER',
        resourceName: '',
        name: 'log.retention.ms',
        value: '5',
      },
    ]);
    expect(image.topic('t')!.configs).toEqual({ 'retention.ms': '1000', 'cleanup.policy': 'compact' });
    expect(image.brokerConfigs.get('')).toEqual({ 'log.retention.ms': '5' });
    expect(delta.changedConfigs).toEqual([
      { resourceType: 'TOPIC', resourceName: 't' },
      { resourceType: 'BROKER', resourceName: '' },
    ]);
    const removed = image.apply([
      { type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: 't', name: 'retention.ms', value: null },
      {
        type: 'ConfigRecord',
        resourceType: 'BROKER',
        resourceName: '',
        name: 'log.retention.ms',
        value: null,
      },
    ]).image;
    expect(removed.topic('t')!.configs).toEqual({ 'cleanup.policy': 'compact' });
    expect(removed.brokerConfigs.has('')).toBe(false);
  });

  it('removes topics (a name can be reused with a new id) and reports them deleted', () => {
    const base = MetadataImage.EMPTY.apply(topicRecords('t', 'T1', [[1], [1]])).image;
    const { image, delta } = base.apply([
      { type: 'RemoveTopicRecord', topicId: 'T1' },
      ...topicRecords('t', 'T2', [[1]]),
    ]);
    expect(delta.deletedTopics.map((t) => t.topicId)).toEqual(['T1']);
    expect(delta.createdTopics.map((t) => t.topicId)).toEqual(['T2']);
    expect(image.topicById('T1')).toBeUndefined();
    expect(image.topic('t')!.partitions).toHaveLength(1);
    // Created and removed in one batch: neither created nor deleted.
    const both = image.apply([
      ...topicRecords('tmp', 'T3', [[1]]),
      { type: 'RemoveTopicRecord', topicId: 'T3' },
    ]);
    expect(both.delta.createdTopics).toEqual([]);
    expect(both.delta.deletedTopics).toEqual([]);
    expect(both.delta.changedPartitions).toEqual([]);
  });

  it('refuses records that do not fit the image, leaving it unchanged', () => {
    const base = MetadataImage.EMPTY.apply([register(1), ...topicRecords('t', 'T', [[1]])]).image;
    const bad: MetadataRecord[][] = [
      [{ type: 'TopicRecord', name: 't', topicId: 'X' }],
      [{ type: 'TopicRecord', name: 'u', topicId: 'T' }],
      [{ type: 'PartitionChangeRecord', topicId: 'T', partitionId: 5, isr: [] }],
      [{ type: 'PartitionChangeRecord', topicId: 'nope', partitionId: 0, isr: [] }],
      [
        {
          type: 'PartitionRecord',
          topicId: 'T',
          partitionId: 3,
          replicas: [1],
          isr: [1],
          leader: 1,
          leaderEpoch: 0,
          partitionEpoch: 0,
        },
      ],
      [{ type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: 'nope', name: 'a', value: 'b' }],
      [register(1, 1)],
      [{ type: 'UnregisterBrokerRecord', brokerId: 1, brokerEpoch: 7 }],
    ];
    for (const records of bad) expect(() => base.apply(records)).toThrow(MetadataError);
    expect(base.offset).toBe(3);
    expect(base.topic('t')!.partitions).toHaveLength(1);
  });

  it('fences, unfences and unregisters brokers by epoch', () => {
    let image = MetadataImage.EMPTY.apply([register(1, 1, true)]).image;
    expect(image.liveBrokers()).toEqual([]);
    image = image.apply([
      { type: 'BrokerRegistrationChangeRecord', brokerId: 1, brokerEpoch: 1, fenced: false },
    ]).image;
    expect(image.liveBrokers().map((b) => b.brokerId)).toEqual([1]);
    image = image.apply([register(1, 2)]).image; // restarted: a new epoch
    expect(image.brokers.get(1)!.brokerEpoch).toBe(2);
    image = image.apply([{ type: 'UnregisterBrokerRecord', brokerId: 1, brokerEpoch: 2 }]).image;
    expect(image.brokers.size).toBe(0);
  });
});
