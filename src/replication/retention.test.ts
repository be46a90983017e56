// Retention end to end on a running broker, without waiting for wall-clock minutes: small
// segments, records timestamped in the past, a 50 ms retention check interval on a MockTime that
// the tests move (so "several retention checks" are exactly that many) and
// file.delete.delay.ms=0. Shows segment files leaving the disk, the log start offset moving,
// OFFSET_OUT_OF_RANGE below it, retention.bytes, retention.ms=-1, config changes applied to a
// running topic and surviving restart, and LogAppendTime rewriting batch timestamps.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { decodeRecordBatches } from '../protocol/records.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { until } from '../test-support/until.js';

let tb: TestBroker;
let kafka: Kafka;
const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-retention-'));
// The shared broker's clock: it starts at the wall clock (records are stamped by the producer's) and
// moves only in retentionChecks(). Fetch long polls keep real time (no purgatoryTime).
const time = new MockTime(Date.now());
const CHECK_INTERVAL_MS = 50;
const OVERRIDES = {
  'log.retention.check.interval.ms': String(CHECK_INTERVAL_MS),
  'log.segment.delete.delay.ms': '0',
  // consumeAll's group must not wait for an initial rebalance delay on a clock nobody moves.
  'group.initial.rebalance.delay.ms': '0',
};

/** Moves the broker clock through exactly `n` retention checks and waits for the last to finish. */
async function retentionChecks(n: number): Promise<void> {
  await time.advanceAsync(n * CHECK_INTERVAL_MS, CHECK_INTERVAL_MS);
  // A pass yields to the event loop on long partition lists; it is done when it clears this flag.
  // biome-ignore lint/complexity/useLiteralKeys: the flag is private; only this test reads it
  await until(() => !tb.broker.replicaManager['retentionRunning'], 5000, 'the retention pass');
}

beforeAll(async () => {
  tb = await startTestBroker(OVERRIDES, dataDir, { time });
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

/** Sends `count` batches of one keyed ~200-byte record each, timestamped `ageMs` in the past. */
async function produce(topic: string, count: number, ageMs: number) {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < count; i++) {
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: `k${i}`, value: Buffer.alloc(200, i), timestamp: String(Date.now() - ageMs) }],
    });
  }
  await producer.disconnect();
}

function segmentFiles(topic: string): string[] {
  return readdirSync(join(dataDir, `${topic}-0`))
    .filter((f) => f.endsWith('.log'))
    .sort();
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
    expect(p.logStartOffset).toBe(0);
    await retentionChecks(1);
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
    await retentionChecks(6);
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
    await retentionChecks(1);
    expect(p.logStartOffset).toBeGreaterThan(0);
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
    tb = await startTestBroker(OVERRIDES, dataDir, { time });
    kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'retention-test', logLevel: logLevel.NOTHING });
    expect(tb.broker.metadata.topic('ret-restart')!.configs).toEqual({ 'retention.bytes': '4096' });
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

async function restart() {
  await tb.close();
  tb = await startTestBroker(OVERRIDES, dataDir, { time });
  kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'retention-test', logLevel: logLevel.NOTHING });
}

/** Every record of partition 0 read back by a kafkajs consumer from the beginning: their keys. */
async function consumeAll(topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}`, maxWaitTimeInMs: 50 });
  const keys: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      keys.push(message.key!.toString());
    },
  });
  try {
    await until(() => keys.length >= expected, 15_000, `${expected} records of ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return keys;
}

async function alterTopicConfigs(topic: string, entries: Record<string, string>) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: 2,
        name: topic,
        configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })),
      },
    ],
  });
  await admin.disconnect();
}

describe('cleanup.policy decides what retention deletes (issue 11)', () => {
  const doomed = { 'segment.bytes': '1000', 'retention.ms': '1000', 'retention.bytes': '1' };

  it('a compact topic with retention.ms=1000 and retention.bytes=1 keeps every record across retention checks and a restart; compact,delete is trimmed', async () => {
    await createTopic('cp-compact', { ...doomed, 'cleanup.policy': 'compact' });
    await createTopic('cp-both', { ...doomed, 'cleanup.policy': 'compact,delete' });
    await produce('cp-compact', 10, 2 * HOUR);
    await produce('cp-both', 10, 2 * HOUR);
    const both = tb.broker.replicaManager.getPartition('cp-both', 0)!;
    await retentionChecks(1);
    expect(both.logStartOffset).toBe(10);
    await retentionChecks(6);
    const compact = tb.broker.replicaManager.getPartition('cp-compact', 0)!;
    expect(compact.log.config.cleanupPolicy).toEqual(['compact']);
    expect(compact.logStartOffset).toBe(0);
    expect(segmentFiles('cp-compact').length).toBeGreaterThan(3);

    await restart();
    await retentionChecks(6);
    expect(tb.broker.logManager.getLog('cp-compact', 0)!.config.cleanupPolicy).toEqual(['compact']);
    expect(tb.broker.replicaManager.getPartition('cp-compact', 0)!.logStartOffset).toBe(0);
    const keys = await consumeAll('cp-compact', 10);
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.fetchTopicOffsets('cp-both')).toMatchObject([{ low: '10', high: '10' }]);
    await admin.disconnect();
  });

  it('DeleteRecords is refused on a compact-only topic (POLICY_VIOLATION, as Kafka) and moves the start of compact,delete', async () => {
    await createTopic('cp-delrec', { 'segment.bytes': '1000', 'cleanup.policy': 'compact' });
    await createTopic('cp-delrec2', { 'segment.bytes': '1000', 'cleanup.policy': 'compact,delete' });
    await produce('cp-delrec', 8, 0);
    await produce('cp-delrec2', 8, 0);
    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: ['cp-delrec', 'cp-delrec2'] });
    await admin.deleteTopicRecords({ topic: 'cp-delrec2', partitions: [{ partition: 0, offset: '5' }] });
    expect(await admin.fetchTopicOffsets('cp-delrec2')).toMatchObject([{ low: '5', high: '8' }]);
    // kafkajs reports the refusal as a failed partition (its error is POLICY_VIOLATION on the wire).
    await expect(
      admin.deleteTopicRecords({ topic: 'cp-delrec', partitions: [{ partition: 0, offset: '5' }] }),
    ).rejects.toThrow('Error while deleting records');
    expect(await admin.fetchTopicOffsets('cp-delrec')).toMatchObject([{ low: '0', high: '8' }]);
    await admin.disconnect();
    expect(segmentFiles('cp-delrec2')[0]! <= `${String(5).padStart(20, '0')}.log`).toBe(true);
  });

  it('AlterConfigs and IncrementalAlterConfigs change the policy of the running log', async () => {
    await createTopic('cp-alter', { ...doomed, 'retention.ms': '-1', 'retention.bytes': '-1' });
    await produce('cp-alter', 10, 2 * HOUR);
    // delete → compact: retention no longer trims, even with retention.ms=1000.
    await alterTopicConfigs('cp-alter', { ...doomed, 'cleanup.policy': 'compact' });
    const p = tb.broker.replicaManager.getPartition('cp-alter', 0)!;
    expect(p.log.config.cleanupPolicy).toEqual(['compact']);
    await retentionChecks(6);
    expect(p.logStartOffset).toBe(0);
    // APPEND delete (IncrementalAlterConfigs): compact,delete, so retention trims.
    const c = await TestClient.connect(tb.port);
    try {
      const res = await c.request<{ responses: { errorCode: number }[] }>(44, 1, {
        validateOnly: false,
        resources: [
          {
            resourceType: 2,
            resourceName: 'cp-alter',
            configs: [{ name: 'cleanup.policy', configOperation: 2, value: 'delete' }],
          },
        ],
      });
      expect(res.responses[0]!.errorCode).toBe(0);
    } finally {
      c.close();
    }
    expect(p.log.config.cleanupPolicy).toEqual(['compact', 'delete']);
    await retentionChecks(1);
    expect(p.logStartOffset).toBe(10);
  });

  it('the broker default log.cleanup.policy, also set dynamically, applies to topics without an override, not to the compact internal topics', async () => {
    await createTopic('cp-default', doomed);
    // An offset commit creates __consumer_offsets (cleanup.policy=compact, as Kafka creates it).
    const committer = kafka.admin();
    await committer.connect();
    await committer.setOffsets({
      groupId: 'cp-default-group',
      topic: 'cp-default',
      partitions: [{ partition: 0, offset: '0' }],
    });
    await committer.disconnect();
    const offsetsLog = () => tb.broker.logManager.getLog('__consumer_offsets', 0)!;
    expect(offsetsLog().config.cleanupPolicy).toEqual(['compact']);
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 4,
          name: String(tb.broker.nodeId),
          configEntries: [{ name: 'log.cleanup.policy', value: 'compact' }],
        },
      ],
    });
    await admin.disconnect();
    expect(tb.broker.logManager.getLog('cp-default', 0)!.config.cleanupPolicy).toEqual(['compact']);
    await produce('cp-default', 10, 2 * HOUR);
    await retentionChecks(6);
    expect(tb.broker.replicaManager.getPartition('cp-default', 0)!.logStartOffset).toBe(0);
    await restart();
    expect(tb.broker.logManager.getLog('cp-default', 0)!.config.cleanupPolicy).toEqual(['compact']);
    expect(offsetsLog().config.cleanupPolicy).toEqual(['compact']);
    // Back to delete: the default topic is trimmed, __consumer_offsets keeps its override.
    const admin2 = kafka.admin();
    await admin2.connect();
    await admin2.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 4,
          name: String(tb.broker.nodeId),
          configEntries: [{ name: 'log.cleanup.policy', value: 'delete' }],
        },
      ],
    });
    await admin2.disconnect();
    expect(offsetsLog().config.cleanupPolicy).toEqual(['compact']);
    await retentionChecks(1);
    expect(tb.broker.replicaManager.getPartition('cp-default', 0)!.logStartOffset).toBe(10);
  });
});

describe('__consumer_offsets under retention (issue 11)', () => {
  const DAY = 24 * HOUR;

  it('a group that still has members keeps the offsets it committed 8 simulated days ago across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-offsets-retention-'));
    // The broker's clock starts at the wall clock, so records the coordinator stamps now are 8 days old
    // once it has moved 8 days on; the group's session timers run on it too.
    const time = new MockTime(Date.now());
    const overrides = {
      'offsets.topic.num.partitions': '1',
      'offsets.topic.segment.bytes': '200', // about one batch per segment: plenty to delete
      'log.retention.check.interval.ms': String(HOUR),
      'log.segment.delete.delay.ms': '0',
      'group.initial.rebalance.delay.ms': '0',
      'group.max.session.timeout.ms': String(2 * DAY),
      // Hourly rather than every few seconds: 8 simulated days would otherwise write checkpoints 10^5 times.
      'replica.high.watermark.checkpoint.interval.ms': String(HOUR),
      'log.flush.scheduler.interval.ms': String(HOUR),
      'log.flush.offset.checkpoint.interval.ms': String(HOUR),
      'log.flush.start.offset.checkpoint.interval.ms': String(HOUR),
      'offsets.retention.check.interval.ms': String(HOUR),
    };
    let broker = await startTestBroker(overrides, dir, { time });
    let client = new Kafka({ brokers: [broker.bootstrap], clientId: 'idle', logLevel: logLevel.NOTHING });
    try {
      const admin = client.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'idle-topic', numPartitions: 1 }] });
      await admin.disconnect();
      const producer = client.producer();
      await producer.connect();
      for (let i = 0; i < 20; i++)
        await producer.send({ topic: 'idle-topic', messages: [{ value: `v${i}` }] });
      await producer.disconnect();

      // A live member: a one-day session, heartbeats every 50 ms of real time.
      const consumer = client.consumer({
        groupId: 'idle-group',
        sessionTimeout: DAY,
        heartbeatInterval: 50,
        maxWaitTimeInMs: 50,
      });
      let heartbeats = 0;
      consumer.on(consumer.events.HEARTBEAT, () => {
        heartbeats++;
      });
      let consumed = 0;
      await consumer.connect();
      await consumer.subscribe({ topic: 'idle-topic', fromBeginning: true });
      await consumer.run({
        autoCommitThreshold: 1,
        eachMessage: async () => {
          consumed++;
        },
      });
      const committed = async () => {
        const a = client.admin();
        await a.connect();
        const [t] = await a.fetchOffsets({ groupId: 'idle-group', topics: ['idle-topic'] });
        await a.disconnect();
        return t!.partitions[0]!.offset;
      };
      await until(() => consumed === 20, 15_000, '20 records consumed');
      await until(async () => (await committed()) === '20', 15_000, 'offsets committed');
      const offsetsLog = broker.broker.logManager.getLog('__consumer_offsets', 0)!;
      expect(offsetsLog.numberOfSegments).toBeGreaterThan(3);

      // 8 days in 6-hour steps; after each the member heartbeats (really, over TCP) before the next.
      for (let elapsed = 0; elapsed < 8 * DAY; elapsed += 6 * HOUR) {
        const before = heartbeats;
        await time.advanceAsync(6 * HOUR, HOUR);
        await until(() => heartbeats > before, 10_000, 'a heartbeat (kafkajs, every 50 ms of real time)');
      }
      expect(broker.broker.groupCoordinator.group('idle-group')?.state).toBe('Stable');
      // Retention did run over those 8 days: the idle topic (cleanup.policy=delete) lost its week-old data.
      expect(broker.broker.replicaManager.getPartition('idle-topic', 0)!.logStartOffset).toBe(20);
      expect(offsetsLog.logStartOffset).toBe(0);
      await consumer.disconnect();

      await broker.close();
      broker = await startTestBroker(overrides, dir, { time });
      client = new Kafka({ brokers: [broker.bootstrap], clientId: 'idle', logLevel: logLevel.NOTHING });
      await time.advanceAsync(2 * HOUR, HOUR); // and two more retention checks after the restart
      const reopened = broker.broker.logManager.getLog('__consumer_offsets', 0)!;
      expect(reopened.config.cleanupPolicy).toEqual(['compact']);
      expect(reopened.logStartOffset).toBe(0);
      expect(await committed()).toBe('20');
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
