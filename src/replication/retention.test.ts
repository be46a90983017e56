// Retention end to end on a running broker, without waiting for wall-clock minutes: small
// segments, records timestamped in the past, a 50 ms retention check interval and
// file.delete.delay.ms=0. Shows segment files leaving the disk, the log start offset moving,
// OFFSET_OUT_OF_RANGE below it, retention.bytes, retention.ms=-1, config changes applied to a
// running topic and surviving restart, and LogAppendTime rewriting batch timestamps.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecordBatches } from '../protocol/records.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

let tb: TestBroker;
let kafka: Kafka;
const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-retention-'));

beforeAll(async () => {
  tb = await startTestBroker(
    { 'log.retention.check.interval.ms': '50', 'log.segment.delete.delay.ms': '0' },
    dataDir,
  );
  kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'retention-test', logLevel: logLevel.NOTHING });
});
afterAll(async () => {
  await tb.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const HOUR = 3_600_000;

async function createTopic(topic: string, configs: Record<string, string>) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: 1,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
      },
    ],
  });
  await admin.disconnect();
}

/** Sends `count` batches of one ~200-byte record each, timestamped `ageMs` in the past. */
async function produce(topic: string, count: number, ageMs: number) {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < count; i++) {
    await producer.send({
      topic,
      acks: -1,
      messages: [{ value: Buffer.alloc(200, i), timestamp: String(Date.now() - ageMs) }],
    });
  }
  await producer.disconnect();
}

function segmentFiles(topic: string): string[] {
  return readdirSync(join(dataDir, `${topic}-0`))
    .filter((f) => f.endsWith('.log'))
    .sort();
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fetchAt(topic: string, offset: number) {
  const c = await TestClient.connect(tb.port);
  try {
    const res = await c.request<{
      responses: { partitions: { errorCode: number; logStartOffset: number; records: Buffer | null }[] }[];
    }>(1, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
    });
    return res.responses[0]!.partitions[0]!;
  } finally {
    c.close();
  }
}

describe('retention on a running broker', () => {
  it('retention.ms deletes whole expired segments from disk and moves the log start offset', async () => {
    await createTopic('ret-time', { 'segment.bytes': '1000', 'retention.ms': String(HOUR) });
    await produce('ret-time', 8, 2 * HOUR); // expired
    await produce('ret-time', 4, 0); // fresh
    const p = tb.broker.replicaManager.getPartition('ret-time', 0)!;
    await until(() => p.logStartOffset > 0);
    expect(p.logStartOffset).toBeGreaterThanOrEqual(4);
    expect(p.logStartOffset).toBeLessThanOrEqual(8);
    // Only segments whose newest record is younger than retention.ms remain, named by base offset.
    expect(segmentFiles('ret-time')[0]).toBe(`${String(p.logStartOffset).padStart(20, '0')}.log`);
    expect(readdirSync(join(dataDir, 'ret-time-0')).some((f) => f.endsWith('.deleted'))).toBe(false);
    expect(p.highWatermark).toBe(12);
    const below = await fetchAt('ret-time', 0);
    expect(below).toMatchObject({ errorCode: 1, logStartOffset: p.logStartOffset });
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets('ret-time');
    await admin.disconnect();
    expect(offsets).toMatchObject({ low: String(p.logStartOffset), high: '12' });
  });

  it('retention.ms=-1 keeps everything; lowering retention.bytes on the running topic trims it', async () => {
    await createTopic('ret-size', { 'segment.bytes': '1000', 'retention.ms': '-1' });
    await produce('ret-size', 12, 24 * HOUR);
    await new Promise((r) => setTimeout(r, 300)); // several retention checks
    const p = tb.broker.replicaManager.getPartition('ret-size', 0)!;
    expect(p.logStartOffset).toBe(0);
    const before = segmentFiles('ret-size').length;
    expect(before).toBeGreaterThan(3);
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2,
          name: 'ret-size',
          configEntries: [
            { name: 'segment.bytes', value: '1000' },
            { name: 'retention.ms', value: '-1' },
            { name: 'retention.bytes', value: '1500' },
          ],
        },
      ],
    });
    await admin.disconnect();
    await until(() => p.logStartOffset > 0);
    expect(p.log.size).toBeLessThanOrEqual(1500 + 1000);
    expect(segmentFiles('ret-size').length).toBeLessThan(before);
  });

  it('topic config changes survive a restart', async () => {
    await createTopic('ret-restart', { 'retention.ms': '-1' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: 2, name: 'ret-restart', configEntries: [{ name: 'retention.bytes', value: '4096' }] },
      ],
    });
    await admin.disconnect();
    await tb.close();
    tb = await startTestBroker(
      { 'log.retention.check.interval.ms': '50', 'log.segment.delete.delay.ms': '0' },
      dataDir,
    );
    kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'retention-test', logLevel: logLevel.NOTHING });
    expect(tb.broker.replicaManager.topic('ret-restart')!.configs).toEqual({ 'retention.bytes': '4096' });
    expect(tb.broker.logManager.getLog('ret-restart', 0)!.config.retentionBytes).toBe(4096);
    expect(tb.broker.logManager.getLog('ret-restart', 0)!.config.retentionMs).toBe(7 * 24 * HOUR);
  });

  it('message.timestamp.type=LogAppendTime rewrites the batch timestamp end to end', async () => {
    await createTopic('ret-lat', { 'message.timestamp.type': 'LogAppendTime' });
    const old = Date.now() - 10 * HOUR;
    const producer = kafka.producer();
    await producer.connect();
    const [meta] = await producer.send({
      topic: 'ret-lat',
      messages: [{ value: 'x', timestamp: String(old) }],
    });
    await producer.disconnect();
    const appendTime = Number(meta!.logAppendTime);
    expect(Math.abs(appendTime - Date.now())).toBeLessThan(60_000);
    const fetched = await fetchAt('ret-lat', 0);
    const [batch] = decodeRecordBatches(fetched.records!);
    expect(batch!.timestampType).toBe('LogAppendTime');
    expect(batch!.maxTimestamp).toBe(appendTime);
    // The record inside reports the append time too (what consumers see).
    expect(batch!.records[0]!.timestamp).toBe(appendTime);
  });
});
