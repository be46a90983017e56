// Appends reach their segment files through the log manager's SegmentWriter — at the end of the loop's turn
// (log.segment.write.coalesce.enable, the default) or on its thread (log.segment.write.thread.enable): a produce
// is answered only once its batch is in the file (and so is every other response that could show it, a fetch's included).
import fs from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../ops/prometheus.js';
import type { AutoThresholds } from '../storage/segment-writer.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { seriesValue } from '../test-support/metrics.js';
import { until } from '../test-support/until.js';
import type { Connection } from './connection.js';

// Auto mode with thresholds that move the writes at every look with nothing outstanding: the loop and the
// thread take turns under the same clients (on a machine with one core auto mode never moves them).
const everyLook: AutoThresholds = {
  windowMs: 0,
  toThreadShare: 0,
  toThreadNsPerByte: 0,
  toLoopShare: Number.POSITIVE_INFINITY,
  toLoopNsPerByte: 0,
};

describe.each([
  ['on the thread', { 'log.segment.write.thread.enable': 'true' }, undefined],
  ['at the end of the turn (default: auto mode while they are cheap)', {}, undefined],
  ['moving between the loop and the thread', {}, everyLook],
])('segment writes %s', (_, overrides: Record<string, string>, auto: AutoThresholds | undefined) => {
  let tb: TestBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    tb = await startTestBroker({
      'num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      ...overrides,
    });
    kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'segment-writes', logLevel: logLevel.NOTHING });
    if (auto) tb.broker.segmentWriter!.auto = auto;
  });
  afterAll(async () => {
    tb.broker.segmentWriter!.setPaused(false);
    await tb.close();
  });

  it('a produce is acknowledged only once the writer has put its batch in the segment file; a fetch that would show it waits too', async () => {
    const topic = 'held-acks';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'warm-up' }] }); // metadata and the producer id settled
    const log = tb.broker.logManager.getLog(topic, 0)!;
    const file = () => fs.statSync(log.activeSegment.logFile).size;
    const consumer = kafka.consumer({ groupId: 'held-reader', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await until(() => values.length === 1);
    const before = file();

    tb.broker.segmentWriter!.setPaused(true);
    let acked = false;
    const sent = producer.send({ topic, acks: 1, messages: [{ value: 'held' }] }).then(() => {
      acked = true;
    });
    await until(() => log.logEndOffset === 2); // appended: offsets given, bytes in the writer's ring only
    await new Promise((r) => setTimeout(r, 300)); // time for a response that was not held to arrive
    expect(acked).toBe(false);
    expect(values).toEqual(['warm-up']);
    expect(file()).toBe(before);

    tb.broker.segmentWriter!.setPaused(false);
    await sent;
    expect(acked).toBe(true);
    expect(file()).toBeGreaterThan(before);
    await until(() => values.length === 2);
    expect(values).toEqual(['warm-up', 'held']);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('a client pipelining requests while writes wait gets at most 64 answers held; then every one, in order', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const log = () => tb.broker.logManager.getLog('held-acks', 0)!;
    const end = log().logEndOffset;
    tb.broker.segmentWriter!.setPaused(true);
    const sent = producer.send({ topic: 'held-acks', acks: 1, messages: [{ value: 'pending' }] });
    await until(() => log().logEndOffset === end + 1); // a write waits: every response from here is held
    const client = await TestClient.connect(tb.port);
    const answers = Array.from({ length: 300 }, () => client.request<{ errorCode: number }>(18, 0, {}));
    const connections = (tb.broker as unknown as { connections: Set<Connection> }).connections;
    const held = () =>
      Math.max(...[...connections].map((c) => (c as unknown as { held: unknown[] }).held.length));
    await until(() => held() >= 64);
    await new Promise((r) => setTimeout(r, 200)); // time to process more frames, were it not bounded
    expect(held()).toBe(64);

    tb.broker.segmentWriter!.setPaused(false);
    expect((await Promise.all(answers)).every((a) => a.errorCode === 0)).toBe(true); // correlation ids checked in order
    await sent;
    client.close();
    await producer.disconnect();
  });
  it('every record of many sends comes back once, every send in order (and, moving, the writes changed place as they went)', async () => {
    const topic = 'many-sends';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const switches = tb.broker.segmentWriter!.modeSwitches;
    const producer = kafka.producer();
    await producer.connect();
    const sent: string[] = [];
    for (let b = 0; b < 40; b++) {
      const values = Array.from({ length: 25 }, (_, i) => `${b}-${i}-${'x'.repeat((b * 31 + i * 7) % 500)}`);
      sent.push(...values);
      // Several sends in flight at once: their batches share turns of the loop (and writes).
      if (b % 4 === 3) await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
      else void producer.send({ topic, acks: 1, messages: values.map((value) => ({ value })) });
    }
    await producer.send({ topic, messages: [{ value: 'last' }] });
    sent.push('last');
    const consumer = kafka.consumer({ groupId: 'many-reader', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
    await until(() => got.length >= sent.length);
    await consumer.disconnect();
    await producer.disconnect();
    // Once each; concurrent sends may interleave, but each send's records stay in order.
    expect([...got].sort()).toEqual([...sent].sort());
    for (let b = 0; b < 40; b++) {
      const mine = got.filter((v) => v.startsWith(`${b}-`)).map((v) => Number(v.split('-')[1]));
      expect(mine).toEqual(Array.from({ length: 25 }, (_, i) => i));
    }
    const log = tb.broker.logManager.getLog(topic, 0)!;
    expect(fs.statSync(log.activeSegment.logFile).size).toBe(log.activeSegment.size);
    if (auto) expect(tb.broker.segmentWriter!.modeSwitches - switches).toBeGreaterThan(4);
    // What /metrics says of it.
    const text = await scrape(tb.broker, { runtime: 'none' });
    expect(seriesValue(text, 'kbroker_log_segment_write_mode_switches_total')).toBe(
      tb.broker.segmentWriter!.modeSwitches,
    );
    expect(seriesValue(text, 'kbroker_log_segment_writes_on_thread')).toBe(
      tb.broker.segmentWriter!.writingOnThread ? 1 : 0,
    );
  });
});
