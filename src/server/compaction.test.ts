// Compaction seen by real clients over TCP (issue 14): kafkajs reads exactly the latest value of each
// key from a cleaned topic (tombstones until delete.retention.ms, then gone) and is refused a keyless
// record; __consumer_offsets after 100,000 commits is a few segments and a restart loads the same offsets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { scrape } from '../ops/prometheus.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { until } from '../test-support/until.js';

const brokers: TestBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
});

const client = (tb: TestBroker) =>
  new Kafka({ brokers: [tb.bootstrap], clientId: 'compaction-test', logLevel: logLevel.NOTHING });

/** Every record of the partition from the beginning, read by a kafkajs consumer up to the high watermark. */
async function readAll(
  tb: TestBroker,
  topic: string,
): Promise<{ offset: number; key: string; value: string | null }[]> {
  const kafka = client(tb);
  const admin = kafka.admin();
  await admin.connect();
  const high = Number((await admin.fetchTopicOffsets(topic))[0]!.high);
  await admin.disconnect();
  const out: { offset: number; key: string; value: string | null }[] = [];
  if (high === 0) return out;
  const consumer = kafka.consumer({ groupId: `reader-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done = false;
  await consumer.run({
    eachMessage: async ({ message }) => {
      out.push({
        offset: Number(message.offset),
        key: message.key!.toString(),
        value: message.value?.toString() ?? null,
      });
      if (Number(message.offset) >= high - 1) done = true;
    },
  });
  await until(() => done, 20_000, `reading ${topic} to ${high}`);
  await consumer.disconnect();
  return out;
}

describe('compaction over TCP', () => {
  it('kafkajs reads the latest of 100 keys × 200 versions; tombstones go after delete.retention.ms', async () => {
    const tb = await startTestBroker({ 'log.cleaner.backoff.ms': '50' });
    brokers.push(tb);
    const kafka = client(tb);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: 'kv',
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '65536' },
            { name: 'segment.ms', value: '500' },
            { name: 'delete.retention.ms', value: '1000' },
          ],
        },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const expected = new Map<string, string | null>();
    for (let v = 0; v < 200; v++) {
      const messages = [];
      for (let k = 0; k < 100; k++) {
        const value = v === 199 && k < 10 ? null : `value-${v}-of-key-${k}`;
        messages.push({ key: `key-${k}`, value });
        expected.set(`key-${k}`, value);
      }
      await producer.send({ topic: 'kv', messages });
    }
    // A keyless record is refused as Kafka refuses it.
    await expect(producer.send({ topic: 'kv', messages: [{ value: 'no key' }], acks: -1 })).rejects.toThrow(
      /failed the validation/, // kafkajs' text for INVALID_RECORD
    );
    const log = tb.broker.logManager.getLog('kv', 0)!;
    // segment.ms rolls the quiet topic; the cleaner then compacts everything.
    await until(
      () => tb.broker.logCleaner.checkpointOf(log) === 20_000,
      30_000,
      'the cleaner to reach offset 20000',
    );
    let records = await readAll(tb, 'kv');
    expect(records.length).toBe(100);
    for (let i = 1; i < records.length; i++)
      expect(records[i]!.offset).toBeGreaterThan(records[i - 1]!.offset);
    expect(new Map(records.map((r) => [r.key, r.value]))).toEqual(expected);
    expect(records.at(-1)!.offset).toBe(19_999);
    // 20,000 records of ~40 bytes were produced (the cleaner may have started on rolled segments while
    // they came in): what is left is about the 100 latest.
    expect(log.size).toBeLessThan(8 * 1024);

    // Past delete.retention.ms, new writes make the log dirty; the next round drops the tombstones.
    await new Promise((r) => setTimeout(r, 1100));
    const messages = [];
    for (let k = 10; k < 100; k++) messages.push({ key: `key-${k}`, value: `final-${k}` });
    await producer.send({ topic: 'kv', messages });
    await producer.send({ topic: 'kv', messages });
    await producer.disconnect();
    await until(() => tb.broker.logCleaner.checkpointOf(log) === 20_180, 30_000, 'the second round');
    records = await readAll(tb, 'kv');
    expect(records.map((r) => r.key).sort()).toEqual([...Array(90)].map((_, i) => `key-${i + 10}`).sort());
    expect(records.every((r) => r.value === `final-${r.key.slice(4)}`)).toBe(true);
    // The cleaner's gauges on /metrics, under the JMX exporter's names of Kafka's.
    expect(tb.broker.logCleaner.roundsCompleted).toBeGreaterThanOrEqual(2);
    const metrics = new Map(
      (await scrape(tb.broker, { runtime: 'none' }))
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
    );
    expect(metrics.get('kbroker_log_logcleaner_bytes_read_total')).toBe(tb.broker.logCleaner.bytesCleaned);
    expect(metrics.get('kbroker_log_logcleaner_bytes_read_total')).toBeGreaterThan(8 * 1024);
    expect(metrics.get('kafka_log_logcleaner_max_buffer_utilization_percent')).toBeGreaterThan(0);
    expect(metrics.get('kafka_log_logcleaner_cleaner_recopy_percent')).toBeLessThan(100);
    expect(metrics.get('kafka_log_logcleaner_deadthreadcount')).toBe(0);
    expect(metrics.get('kafka_log_logcleanermanager_max_dirty_percent')).toBeDefined();
    expect(metrics.get('kafka_log_logcleanermanager_time_since_last_run_ms')).toBeGreaterThanOrEqual(0);
    expect(metrics.get('kafka_log_log_size{topic="kv",partition="0"}')).toBe(log.size);
  }, 90_000);

  it('__consumer_offsets after 100,000 commits is cleaned to a few segments, and a restart loads the same offsets', async () => {
    const overrides = {
      'offsets.topic.num.partitions': '1',
      'offsets.topic.segment.bytes': '1048576',
      'log.cleaner.backoff.ms': '50',
    };
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kbroker-compaction-'));
    const first = await startTestBroker(overrides, dataDir);
    let restarted: TestBroker | undefined;
    try {
      const kafka = client(first);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'in', numPartitions: 4 }] });
      await admin.disconnect();
      const gc = first.broker.groupCoordinator;
      // What OffsetCommit does for a group without members (as kafka-consumer-groups --reset-offsets).
      for (let i = 1; i <= 100_000; i++) {
        const entry = {
          topic: 'in',
          partition: i % 4,
          offset: i,
          leaderEpoch: -1,
          metadata: '',
          expireTimestamp: null,
        };
        await gc.commitOffsets('g', '', null, -1, [entry], 9);
      }
      const log = first.broker.logManager.getLog('__consumer_offsets', 0)!;
      const segmentsBefore = log.numberOfSegments;
      expect(segmentsBefore).toBeGreaterThan(5);
      const sizeBefore = log.size;
      await until(
        () => first.broker.logCleaner.checkpointOf(log) === log.activeSegment.baseOffset,
        60_000,
        'the cleaner to reach the active segment',
      );
      // Every segment behind the active one now holds little more than the latest commit of each
      // partition; the segment count stays what it was until the next round merges them (as Kafka's
      // groupSegmentsBySize groups by the sizes before cleaning).
      const inactive = log.logSegments().filter((s) => s !== log.activeSegment);
      const cleanedBytes = inactive.reduce((n, s) => n + s.size, 0);
      console.log(
        `__consumer_offsets after 100,000 commits: ${segmentsBefore} segments / ${sizeBefore} bytes before cleaning, ${log.numberOfSegments} segments / ${log.size} bytes after (${cleanedBytes} bytes behind the active segment)`,
      );
      expect(cleanedBytes).toBeLessThan(16 * 1024);
      expect(log.numberOfSegments).toBeLessThanOrEqual(segmentsBefore);
      // Commits go on: once the next segment rolls, the next round merges the small cleaned ones.
      for (let i = 100_001; i <= 112_000; i++) {
        const entry = {
          topic: 'in',
          partition: i % 4,
          offset: i,
          leaderEpoch: -1,
          metadata: '',
          expireTimestamp: null,
        };
        await gc.commitOffsets('g', '', null, -1, [entry], 9);
      }
      await until(
        () => first.broker.logCleaner.checkpointOf(log) === log.activeSegment.baseOffset,
        60_000,
        'the second round',
      );
      console.log(
        `after 112,000 commits and a second round: ${log.numberOfSegments} segments / ${log.size} bytes`,
      );
      expect(log.numberOfSegments).toBeLessThanOrEqual(3);
      await first.close();
      restarted = await startTestBroker(overrides, dataDir);
      const admin2 = client(restarted).admin();
      await admin2.connect();
      const offsets = await admin2.fetchOffsets({ groupId: 'g', topics: ['in'] });
      await admin2.disconnect();
      expect(
        offsets[0]!.partitions.map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0]! - b[0]!),
      ).toEqual([
        [0, 112_000],
        [1, 111_997],
        [2, 111_998],
        [3, 111_999],
      ]);
    } finally {
      await restarted?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
