/**
 * First start of a data directory from before the metadata log: kbroker-topics.json and
 * kbroker-broker-configs.json become the metadata log's first snapshot, with the topic ids the
 * partition directories (and clients) already hold.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPartitionMetadata } from '../storage/partition-metadata.js';
import { tmpDir } from '../storage/test-helpers.js';
import { startTestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { MetadataLog } from './metadata-log.js';
import { LEGACY_BROKER_CONFIGS_FILE, LEGACY_TOPICS_FILE, legacyMetadataRecords } from './migration.js';

describe('migration from the legacy topic registry', () => {
  it('turns the registry and the dynamic configs into records, keeping topic ids', () => {
    const dir = tmpDir();
    fs.writeFileSync(
      path.join(dir, LEGACY_TOPICS_FILE),
      JSON.stringify({
        version: 0,
        topics: [
          {
            name: 'orders',
            topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
            partitions: 2,
            configs: { 'retention.ms': '5' },
          },
        ],
      }),
    );
    fs.writeFileSync(
      path.join(dir, LEGACY_BROKER_CONFIGS_FILE),
      JSON.stringify({
        version: 0,
        default: { 'log.retention.ms': '7' },
        broker: { 'log.segment.bytes': '2048' },
      }),
    );
    expect(legacyMetadataRecords(dir, 3)).toEqual([
      { type: 'TopicRecord', name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
      ...[0, 1].map((partitionId) => ({
        type: 'PartitionRecord',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
        partitionId,
        replicas: [3],
        isr: [3],
        leader: 3,
        leaderEpoch: 0,
        partitionEpoch: 0,
      })),
      {
        type: 'ConfigRecord',
        resourceType: 'TOPIC',
        resourceName: 'orders',
        name: 'retention.ms',
        value: '5',
      },
      {
        type: 'ConfigRecord',
        resourceType: 'BROKER',
        resourceName: '',
        name: 'log.retention.ms',
        value: '7',
      },
      {
        type: 'ConfigRecord',
        resourceType: 'BROKER',
        resourceName: '3',
        name: 'log.segment.bytes',
        value: '2048',
      },
    ]);
    expect(legacyMetadataRecords(tmpDir(), 1)).toEqual([]);
  });

  it('a broker started on a legacy data dir serves its topics with their ids, data and configs', async () => {
    const dir = tmpDir();
    // A data dir as the previous version left it: partition directories (partition.metadata,
    // segments, checkpoints), the registry and the dynamic configs; no __cluster_metadata.
    let tb = await startTestBroker({}, dir);
    await tb.broker.controller.createTopic('orders', 2, { 'retention.ms': '3600000' });
    const topicId = tb.broker.metadata.topic('orders')!.topicId;
    const c = await TestClient.connect(tb.port);
    const { encodeRecordBatch } = await import('../protocol/records.js');
    const produced = await c.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [
        {
          name: 'orders',
          partitionData: [
            { index: 1, records: encodeRecordBatch({ records: [{ value: 'kept', timestamp: 1 }] }) },
          ],
        },
      ],
    });
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    c.close();
    await tb.close();
    fs.rmSync(path.join(dir, '__cluster_metadata'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, LEGACY_TOPICS_FILE),
      JSON.stringify({
        version: 0,
        topics: [{ name: 'orders', topicId, partitions: 2, configs: { 'retention.ms': '3600000' } }],
      }),
    );
    fs.writeFileSync(
      path.join(dir, LEGACY_BROKER_CONFIGS_FILE),
      JSON.stringify({ version: 0, default: { 'log.segment.bytes': '4096' }, broker: {} }),
    );

    tb = await startTestBroker({}, dir);
    try {
      expect(MetadataLog.exists(dir)).toBe(true);
      expect(fs.existsSync(path.join(dir, LEGACY_TOPICS_FILE))).toBe(false);
      expect(fs.existsSync(path.join(dir, LEGACY_BROKER_CONFIGS_FILE))).toBe(false);
      const t = tb.broker.metadata.topic('orders')!;
      expect(t.topicId).toBe(topicId);
      expect(t.configs).toEqual({ 'retention.ms': '3600000' });
      expect(t.partitions.map((p) => [p.leader, p.leaderEpoch])).toEqual([
        [1, 0],
        [1, 0],
      ]);
      expect(readPartitionMetadata(path.join(dir, 'orders-1'))).toBe(topicId);
      expect(tb.broker.replicaManager.getPartition('orders', 1)!.logEndOffset).toBe(1);
      expect(tb.broker.config.dynamicConfigs('default')).toEqual({ 'log.segment.bytes': '4096' });
      expect(tb.broker.logManager.getLog('orders', 0)!.config.segmentBytes).toBe(4096);
    } finally {
      await tb.close();
    }
    // And again: now from the metadata log.
    tb = await startTestBroker({}, dir);
    try {
      expect(tb.broker.metadata.topic('orders')!.topicId).toBe(topicId);
      expect(tb.broker.replicaManager.getPartition('orders', 1)!.logEndOffset).toBe(1);
      expect(tb.broker.config.dynamicConfigs('default')).toEqual({ 'log.segment.bytes': '4096' });
    } finally {
      await tb.close();
    }
  });
});
