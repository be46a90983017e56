// kafkajs 2.2.4 admin against kbroker over TCP: every admin operation of issue 4 is checked by
// reading the state back (through kafkajs itself and through the broker's own state).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';

let tb: TestBroker;
let kafka: Kafka;

beforeAll(async () => {
  tb = await startTestBroker({ 'num.partitions': '1' });
  kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'admin-test', logLevel: logLevel.NOTHING });
});
afterAll(async () => {
  await tb.close();
});

async function withAdmin<T>(fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

function configValue(
  res: Awaited<ReturnType<ReturnType<Kafka['admin']>['describeConfigs']>>,
  name: string,
): { value: string; source?: number; isDefault: boolean } {
  const entry = res.resources[0]!.configEntries.find((c) => c.configName === name)!;
  return {
    value: entry.configValue,
    source: (entry as { configSource?: number }).configSource,
    isDefault: entry.isDefault,
  };
}

describe('kafkajs admin', () => {
  it('creates a topic with configs, lists it and describes its configs', async () => {
    await withAdmin(async (admin) => {
      const created = await admin.createTopics({
        topics: [
          {
            topic: 'admin-create',
            numPartitions: 3,
            configEntries: [
              { name: 'retention.ms', value: '3600000' },
              { name: 'cleanup.policy', value: 'compact' },
            ],
          },
        ],
      });
      expect(created).toBe(true);
      expect(await admin.listTopics()).toContain('admin-create');
      const meta = await admin.fetchTopicMetadata({ topics: ['admin-create'] });
      expect(meta.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'admin-create' }],
        includeSynonyms: true,
      });
      expect(configValue(described, 'retention.ms')).toMatchObject({ value: '3600000', source: 1 });
      expect(configValue(described, 'cleanup.policy')).toMatchObject({ value: 'compact', source: 1 });
      expect(configValue(described, 'segment.bytes')).toMatchObject({ value: '1073741824', source: 5 });
      // Creating it again is TOPIC_ALREADY_EXISTS, which kafkajs reports as `false`.
      expect(await admin.createTopics({ topics: [{ topic: 'admin-create' }] })).toBe(false);
    });
    expect(tb.broker.metadata.topic('admin-create')!.configs).toEqual({
      'retention.ms': '3600000',
      'cleanup.policy': 'compact',
    });
  });

  it('refuses a bad config value with INVALID_CONFIG naming the key', async () => {
    await withAdmin(async (admin) => {
      const err = await admin
        .createTopics({
          topics: [{ topic: 'admin-bad', configEntries: [{ name: 'retention.ms', value: 'soon' }] }],
        })
        .catch((e: unknown) => e as { errors?: { type: string; message?: string }[] });
      expect(err).toMatchObject({ errors: [{ type: 'INVALID_CONFIG' }] });
      expect(await admin.listTopics()).not.toContain('admin-bad');
    });
  });

  it('alters topic configs and the running log uses them', async () => {
    await withAdmin(async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'admin-alter' }] });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'admin-alter',
            configEntries: [
              { name: 'retention.bytes', value: '1048576' },
              { name: 'message.timestamp.type', value: 'LogAppendTime' },
            ],
          },
        ],
      });
      const described = await admin.describeConfigs({
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: 'admin-alter', configNames: ['retention.bytes'] },
        ],
        includeSynonyms: false,
      });
      expect(described.resources[0]!.configEntries.map((c) => [c.configName, c.configValue])).toEqual([
        ['retention.bytes', '1048576'],
      ]);
    });
    const log = tb.broker.logManager.getLog('admin-alter', 0)!;
    expect(log.config.retentionBytes).toBe(1048576);
    expect(log.config.messageTimestampType).toBe('LogAppendTime');
    expect(tb.broker.replicaManager.topicConfig('admin-alter')!['retention.bytes']).toBe('1048576');
  });

  it('creates partitions', async () => {
    await withAdmin(async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'admin-grow', numPartitions: 1 }] });
      await admin.createPartitions({ topicPartitions: [{ topic: 'admin-grow', count: 4 }] });
      const meta = await admin.fetchTopicMetadata({ topics: ['admin-grow'] });
      expect(meta.topics[0]!.partitions).toHaveLength(4);
      const err = await admin
        .createPartitions({ topicPartitions: [{ topic: 'admin-grow', count: 2 }] })
        .catch((e: unknown) => e as { type?: string });
      expect(err).toMatchObject({ type: 'INVALID_PARTITIONS' });
    });
    expect(existsSync(join(tb.dataDir, 'admin-grow-3'))).toBe(true);
  });

  it('deletes records and the low watermark moves', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'admin-records',
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })),
    });
    await producer.disconnect();
    await withAdmin(async (admin) => {
      // kafkajs looks the leader up in metadata it must already hold.
      await admin.fetchTopicMetadata({ topics: ['admin-records'] });
      await admin.deleteTopicRecords({ topic: 'admin-records', partitions: [{ partition: 0, offset: '6' }] });
      expect(await admin.fetchTopicOffsets('admin-records')).toEqual([
        { partition: 0, offset: '10', high: '10', low: '6' },
      ]);
    });
  });

  it('deletes topics: gone from metadata and from disk', async () => {
    await withAdmin(async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'admin-delete', numPartitions: 2 }] });
      expect(existsSync(join(tb.dataDir, 'admin-delete-1'))).toBe(true);
      await admin.deleteTopics({ topics: ['admin-delete'] });
      expect(await admin.listTopics()).not.toContain('admin-delete');
    });
    expect(existsSync(join(tb.dataDir, 'admin-delete-0'))).toBe(false);
    expect(existsSync(join(tb.dataDir, 'admin-delete-1'))).toBe(false);
  });
});
