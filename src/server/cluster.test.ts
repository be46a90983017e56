/**
 * Cluster (several brokers on one controller in this process): producer ids are unique across its
 * brokers; a controlled shutdown moves leadership to an ISR member at a new leader epoch; with
 * min.insync.replicas=2 and two of three brokers stopped, acks=-1 is refused (NOT_ENOUGH_REPLICAS)
 * and acks=1 accepted, as Kafka; restarted brokers are unfenced and rejoin the ISR.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { TestClient } from '../test-support/client.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';

let tc: TestCluster;

beforeAll(async () => {
  tc = await startTestCluster(3, { 'replica.fetch.wait.max.ms': '50', 'replica.fetch.backoff.ms': '20' });
});

afterAll(async () => {
  await tc.close();
});

describe('Cluster', () => {
  it('hands out each producer id once, whichever broker is asked', async () => {
    const ids: number[] = [];
    for (const id of [1, 2, 3, 1, 2, 3]) {
      const c = await TestClient.connect(tc.cluster.broker(id)!.port);
      try {
        const r = await c.request<{ errorCode: number; producerId: bigint | number }>(22, 1, {
          transactionalId: null,
          transactionTimeoutMs: 60_000,
        });
        expect(r.errorCode).toBe(0);
        ids.push(Number(r.producerId));
      } finally {
        c.close();
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('DeleteRecords does not wait for a replica on a stopped (fenced) broker, as Kafka', async () => {
    const { cluster } = tc;
    await tc.createTopic('trim', [[1, 2, 3]]);
    const leader = tc.partitionOn(1, 'trim');
    leader.appendRecordsToLeader(
      buildRecordBatch({ records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] }),
    );
    await until(() => leader.highWatermark === 3, 10_000, 'replicated');
    await cluster.stopBroker(3);
    const c = await TestClient.connect(cluster.broker(1)!.port);
    try {
      const res = await c.request<{
        topics: { partitions: { errorCode: number; lowWatermark: bigint }[] }[];
      }>(21, 2, {
        topics: [{ name: 'trim', partitions: [{ partitionIndex: 0, offset: 2 }] }],
        timeoutMs: 5000,
      });
      expect(res.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0 });
      expect(Number(res.topics[0]!.partitions[0]!.lowWatermark)).toBe(2);
      expect(tc.partitionOn(2, 'trim').logStartOffset).toBe(2);
    } finally {
      c.close();
    }
    await cluster.startBroker(3);
    await until(
      () => tc.partitionOn(3, 'trim').logStartOffset === 2,
      10_000,
      'the restarted replica trims too',
    );
  });

  it('moves leadership on a controlled shutdown and applies min.insync.replicas as Kafka', async () => {
    const { cluster } = tc;
    await tc.createTopic('misr', [[1, 2, 3]], { 'min.insync.replicas': '2' });
    const kafka = new Kafka({
      clientId: 'cluster-test',
      brokers: cluster.bootstrap,
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 500 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: 'misr', acks: -1, messages: [{ value: 'a' }] });
      await cluster.stopBroker(1);
      expect(cluster.controller.image.partition('misr', 0)).toMatchObject({
        leader: 2,
        leaderEpoch: 1,
        isr: [2, 3],
      });
      await producer.send({ topic: 'misr', acks: -1, messages: [{ value: 'b' }] });
      await cluster.stopBroker(2);
      expect(cluster.controller.image.partition('misr', 0)).toMatchObject({
        leader: 3,
        leaderEpoch: 2,
        isr: [3],
      });
      const refused = await producer
        .send({ topic: 'misr', acks: -1, messages: [{ value: 'c' }] })
        .then(() => 'NONE')
        .catch((e: { type?: string; cause?: { type?: string } }) => e.type ?? e.cause?.type ?? String(e));
      expect(refused).toMatch(/NOT_ENOUGH_REPLICAS/);
      await producer.send({ topic: 'misr', acks: 1, messages: [{ value: 'd' }] });
      expect(tc.partitionOn(3, 'misr').logEndOffset).toBe(3);
    } finally {
      await producer.disconnect();
    }
    await cluster.startBroker(1);
    await cluster.startBroker(2);
    await until(
      () => cluster.controller.image.partition('misr', 0)!.isr.length === 3,
      10_000,
      'the restarted brokers rejoin the ISR',
    );
    const leader = tc.partitionOn(3, 'misr');
    await until(() => leader.highWatermark === 3, 10_000, 'high watermark');
    for (const id of [1, 2]) expect(tc.partitionOn(id, 'misr').logEndOffset).toBe(3);
  });
});
