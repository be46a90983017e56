/**
 * The group coordinator moves with the leadership of its `__consumer_offsets` partition on
 * `startCluster({ brokers: 3 })`: kafkajs commits offsets through the coordinator FindCoordinator
 * names (the partition's leader), that broker is stopped, and the offsets are found on the new
 * leader (loaded there by replay); a consumer of the same group then resumes after them.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionFor } from '../coordinator/offsets-topic.js';
import { type EmbeddedCluster, startCluster } from '../index.js';

let kafka: EmbeddedCluster;

beforeAll(async () => {
  kafka = await startCluster({ brokers: 3, config: { 'replica.fetch.wait.max.ms': 100 } });
});

afterAll(async () => {
  await kafka?.close();
});

describe('coordinators in a cluster', () => {
  it('commits offsets of partitions the coordinator does not host (one replica each, on every broker)', async () => {
    const client = new Kafka({
      clientId: 'unhosted-commits',
      brokers: kafka.brokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: 'spread',
            replicaAssignment: [1, 2, 3].map((b, partition) => ({ partition, replicas: [b] })),
          },
        ],
        waitForLeaders: true,
      });
      // OffsetCommit goes to the group's coordinator, which hosts at most one of them: Kafka checks
      // the partitions against the cluster's metadata, not the coordinator's own replicas.
      await admin.setOffsets({
        groupId: 'unhosted',
        topic: 'spread',
        partitions: [0, 1, 2].map((partition) => ({ partition, offset: String(partition + 5) })),
      });
      const [committed] = await admin.fetchOffsets({ groupId: 'unhosted', topics: ['spread'] });
      expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
        [0, '5'],
        [1, '6'],
        [2, '7'],
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('committed offsets survive the coordinator broker; the group resumes after them', async () => {
    const client = new Kafka({
      clientId: 'cluster-coordinators',
      brokers: kafka.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const admin = client.admin();
    const producer = client.producer({ allowAutoTopicCreation: false });
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 3 }] });
      await producer.send({
        topic: 'orders',
        acks: -1,
        messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `o${i}` })),
      });
      const seen: string[] = [];
      const consumer = client.consumer({ groupId: 'billing' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'orders', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await waitFor(() => seen.length === 30, 20_000, 'the first 30 records');
      await consumer.disconnect(); // commits its offsets

      const offsets = kafka.cluster.controller.image.topic('__consumer_offsets')!;
      expect(offsets.partitions[0]!.replicas).toHaveLength(3);
      const coordinator = offsets.partitions[partitionFor('billing', offsets.partitions.length)]!.leader;
      // The group's last write (Empty, after the member left) is committed: on every replica.
      const offsetsPartition = kafka
        .broker(coordinator)!
        .replicaManager.getPartition(
          '__consumer_offsets',
          partitionFor('billing', offsets.partitions.length),
        )!;
      await waitFor(
        () => offsetsPartition.highWatermark === offsetsPartition.logEndOffset,
        10_000,
        'the coordinator writes replicated',
      );
      await kafka.stopBroker(coordinator);
      const moved = kafka.cluster.controller.image.topic('__consumer_offsets')!;
      expect(moved.partitions[partitionFor('billing', moved.partitions.length)]!.leader).not.toBe(
        coordinator,
      );

      const committed = await admin.fetchOffsets({ groupId: 'billing', topics: ['orders'] });
      expect(committed[0]!.partitions.map((p) => Number(p.offset)).sort()).toEqual([10, 10, 10]);

      await producer.send({ topic: 'orders', acks: -1, messages: [{ partition: 1, value: 'late' }] });
      const again: string[] = [];
      const resumed = client.consumer({ groupId: 'billing' });
      await resumed.connect();
      await resumed.subscribe({ topic: 'orders', fromBeginning: true });
      await resumed.run({ eachMessage: async ({ message }) => void again.push(message.value!.toString()) });
      await waitFor(() => again.length >= 1, 20_000, 'the record produced after the move');
      await new Promise((r) => setTimeout(r, 300)); // nothing older arrives behind it
      expect(again).toEqual(['late']);
      await resumed.disconnect();
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
