// Appends reach their segment files through the log manager's SegmentWriter — at the end of the loop's turn
// (log.segment.write.coalesce.enable, the default) or on its thread (log.segment.write.thread.enable): a produce
// is answered only once its batch is in the file (and so is every other response that could show it, a fetch's included).
import fs from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { until } from '../test-support/until.js';

describe.each([
  ['on the thread', { 'log.segment.write.thread.enable': 'true' }],
  ['at the end of the turn (default)', {}],
])('segment writes %s', (_, overrides: Record<string, string>) => {
  let tb: TestBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    tb = await startTestBroker({
      'num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      ...overrides,
    });
    kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'segment-writes', logLevel: logLevel.NOTHING });
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
});
