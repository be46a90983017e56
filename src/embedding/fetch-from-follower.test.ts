/**
 * Fetch from followers (KIP-392) on `startCluster({ brokers: 3 })` with racks rack-1..rack-3 and
 * `replica.selector.class=RackAwareReplicaSelector`, proven with kafkajs (its consumer sends
 * `rackId` and follows the preferred read replica): a consumer in a follower's rack reads every
 * record from that follower, the leader serves it no record bytes; a consumer without a rack reads
 * from the leader. Metadata carries each broker's rack.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedCluster, startCluster } from '../index.js';
import { TestClient } from '../test-support/client.js';
import { until } from '../test-support/until.js';

const TOPIC = 'ffr';
const RECORDS = 200;
let kafka: EmbeddedCluster;
let client: Kafka;
let admin: Admin;

beforeAll(async () => {
  kafka = await startCluster({
    brokers: 3,
    config: {
      'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
      'replica.fetch.wait.max.ms': 50,
      'replica.fetch.backoff.ms': 50,
    },
    brokerConfig: (id) => ({ 'broker.rack': `rack-${id}` }),
  });
  client = new Kafka({ clientId: 'ffr', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  admin = client.admin();
  await admin.connect();
  kafka.createTopic(TOPIC, { partitions: 1, replicationFactor: 3 });
  const producer = client.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic: TOPIC,
    acks: -1,
    messages: Array.from({ length: RECORDS }, (_, i) => ({ value: `v${i}` })),
  });
  await producer.disconnect();
});

afterAll(async () => {
  await admin?.disconnect();
  await kafka?.close();
});

const bytesOut = (id: number) => kafka.broker(id)!.metrics.bytesOut.get(TOPIC) ?? 0;

async function consumeAll(groupId: string, rackId?: string): Promise<string[]> {
  const consumer = client.consumer({ groupId, ...(rackId ? { rackId } : {}), maxWaitTimeInMs: 100 });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value!.toString());
      },
    });
    await until(() => values.length >= RECORDS, 20_000);
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe('fetch from followers (KIP-392)', () => {
  it('Metadata carries each broker rack', async () => {
    const c = await TestClient.connect(kafka.broker(1)!.port);
    const md = await c.request<{ brokers: { nodeId: number; rack: string | null }[] }>(3, 12, {
      topics: [],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    c.close();
    expect(md.brokers.map((b) => [b.nodeId, b.rack]).sort()).toEqual([
      [1, 'rack-1'],
      [2, 'rack-2'],
      [3, 'rack-3'],
    ]);
  });

  it("a consumer in a follower's rack reads everything from that follower", async () => {
    const state = kafka.cluster.controller.image.partition(TOPIC, 0)!;
    const follower = state.replicas.find((id) => id !== state.leader)!;
    // The follower has every record and the high watermark (it is in the ISR after acks=-1).
    await until(
      () => kafka.broker(follower)!.replicaManager.getPartition(TOPIC, 0)!.highWatermark === RECORDS,
    );
    const before = [1, 2, 3].map(bytesOut);
    const values = await consumeAll('g-rack', `rack-${follower}`);
    expect(values).toEqual(Array.from({ length: RECORDS }, (_, i) => `v${i}`));
    const read = [1, 2, 3].map((id, i) => bytesOut(id) - before[i]!);
    expect(read[follower - 1]).toBeGreaterThan(RECORDS * 2);
    expect(read[state.leader - 1]).toBe(0);
  });

  it('a consumer without a rack reads from the leader', async () => {
    const state = kafka.cluster.controller.image.partition(TOPIC, 0)!;
    const before = bytesOut(state.leader);
    const values = await consumeAll('g-norack');
    expect(values).toHaveLength(RECORDS);
    expect(bytesOut(state.leader) - before).toBeGreaterThan(RECORDS * 2);
  });
});
