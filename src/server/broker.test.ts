import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecordBatches } from '../protocol/records.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { until } from '../test-support/until.js';

let tb: TestBroker;
let kafka: Kafka;

beforeAll(async () => {
  tb = await startTestBroker({ 'num.partitions': '1' });
  kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'broker-test', logLevel: logLevel.NOTHING });
});
afterAll(async () => {
  await tb.close();
});

async function fetchAll(topic: string, partition = 0) {
  const c = await TestClient.connect(tb.port);
  try {
    const res = await c.request<{
      responses: { partitions: { errorCode: number; highWatermark: number; records: Buffer | null }[] }[];
    }>(1, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 50 * 1024 * 1024,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 50 * 1024 * 1024 }] }],
    });
    const p = res.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    return decodeRecordBatches(p.records ?? Buffer.alloc(0)).flatMap((b) => b.records);
  } finally {
    c.close();
  }
}

describe('kafkajs producer over real TCP', () => {
  it.each([
    [1, CompressionTypes.None],
    [-1, CompressionTypes.GZIP],
    [0, CompressionTypes.None],
  ])(
    'acks=%s compression=%s: keys, headers and values come back byte-identical and in order',
    async (acks, compression) => {
      const topic = `t-acks-${acks}-${compression}`;
      const producer = kafka.producer();
      await producer.connect();
      const messages = Array.from({ length: 50 }, (_, i) => ({
        key: `k${i}`,
        value: Buffer.from([i, 0, 255, 10, i * 3]),
        headers: { h: `v${i}`, bin: Buffer.from([0, i]) },
      }));
      await producer.send({ topic, acks, compression, messages: messages.slice(0, 25) });
      await producer.send({ topic, acks, compression, messages: messages.slice(25) });
      await producer.disconnect();
      // acks=0 returns before the broker appended: wait until the data is there.
      let records: Awaited<ReturnType<typeof fetchAll>> = [];
      await until(
        async () => {
          records = await fetchAll(topic);
          return records.length >= 50;
        },
        5000,
        () => `50 records of ${topic} (${records.length} so far)`,
      );
      expect(records.map((r) => r.offset)).toEqual(messages.map((_, i) => i));
      records.forEach((r, i) => {
        expect(r.key?.toString()).toBe(`k${i}`);
        expect(r.value).toEqual(messages[i]!.value);
        expect(r.headers.map((h) => [h.key, h.value?.toString('hex')])).toEqual([
          ['h', Buffer.from(`v${i}`).toString('hex')],
          ['bin', Buffer.from([0, i]).toString('hex')],
        ]);
      });
    },
  );

  it('kafkajs admin sees topics, offsets and this broker as controller', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'admin-view', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    expect(await admin.listTopics()).toContain('admin-view');
    const offsets = await admin.fetchTopicOffsets('admin-view');
    expect(offsets).toEqual([{ partition: 0, offset: '2', high: '2', low: '0' }]);
    const cluster = await admin.describeCluster();
    expect(cluster.controller).toBe(tb.broker.nodeId);
    expect(cluster.brokers).toEqual([{ nodeId: tb.broker.nodeId, host: '127.0.0.1', port: tb.port }]);
    await admin.disconnect();
  });
});

describe('Fetch v13+ names topics by id', () => {
  it('returns the data of a topic addressed by its id, and UNKNOWN_TOPIC_ID for an unknown id', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'by-id',
      messages: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
    });
    await producer.disconnect();
    const c = await TestClient.connect(tb.port);
    const meta = await c.request<{ topics: { name: string; topicId: string }[] }>(3, 12, {
      topics: [{ name: 'by-id', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const topicId = meta.topics[0]!.topicId;
    expect(topicId).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
    const unknownId = Buffer.alloc(16, 7).toString('base64url');
    const res = await c.request<{
      responses: {
        topicId: string;
        partitions: { errorCode: number; highWatermark: number; records: Buffer | null }[];
      }[];
    }>(1, 17, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topicId,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
        {
          topicId: unknownId,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    expect(res.responses.map((r) => r.topicId)).toEqual([topicId, unknownId]);
    const [known, unknown] = res.responses;
    expect(known!.partitions[0]!.errorCode).toBe(0);
    const values = decodeRecordBatches(known!.partitions[0]!.records!).flatMap((b) =>
      b.records.map((r) => r.value?.toString()),
    );
    expect(values).toEqual(['1', '2']);
    expect(unknown!.partitions[0]!.errorCode).toBe(100); // UNKNOWN_TOPIC_ID
    c.close();
  });
});
