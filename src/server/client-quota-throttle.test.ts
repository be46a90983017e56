/**
 * Client quota enforcement seen by a real client (kafkajs over TCP): with producer_byte_rate
 * 100000 on its client id, a producer sending as fast as it can is held near 100 kB/s and is
 * told throttle_time_ms > 0 (KIP-219: answered at once, then the connection muted); a client id
 * without a quota on the same broker is not held. A consumer under consumer_byte_rate is held too.
 * Real time (kafkajs runs on it); `quota.window.num` 2 so the first second's allowance (Kafka takes
 * the rate over at least `quota.window.num − 1` windows) does not dominate a 5 s run.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../ops/prometheus.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { clientSeries, seriesValue } from '../test-support/metrics.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({ 'quota.window.num': '2', 'num.partitions': '1' });
  const results = await broker.broker.controller.alterClientQuotas(
    [
      {
        entity: [{ entityType: 'client-id', entityName: 'slow-producer' }],
        ops: [{ key: 'producer_byte_rate', value: 100_000 }],
      },
      {
        entity: [{ entityType: 'client-id', entityName: 'slow-consumer' }],
        ops: [{ key: 'consumer_byte_rate', value: 100_000 }],
      },
      {
        entity: [{ entityType: 'client-id', entityName: 'busy-client' }],
        ops: [{ key: 'request_percentage', value: 0.001 }],
      },
    ],
    false,
  );
  expect(results.map((r) => r.errorCode)).toEqual([0, 0, 0]);
});

afterAll(async () => {
  await broker?.close();
});

/** A kafkajs client whose debug log yields the throttle times of Produce / Fetch responses. */
function client(clientId: string, throttles: number[]) {
  return new Kafka({
    clientId,
    brokers: [broker.bootstrap],
    logLevel: logLevel.DEBUG,
    logCreator:
      () =>
      ({ log }) => {
        const data = (log as { data?: unknown }).data;
        if (
          typeof log.message === 'string' &&
          /^Response (Produce|Fetch)/.test(log.message) &&
          data &&
          typeof data === 'object'
        ) {
          // kafkajs keeps KIP-219's throttle time (v6+ Produce, v8+ Fetch) as clientSideThrottleTime.
          const d = data as { throttleTime?: number; clientSideThrottleTime?: number };
          const t = Math.max(d.throttleTime ?? 0, d.clientSideThrottleTime ?? 0);
          if (typeof t === 'number') throttles.push(t);
        }
      },
  });
}

const VALUE = Buffer.alloc(1000, 'x');

/** Sends 10 × 1 kB records per request, one request after the other, for `ms`; bytes acked by time. */
async function produceFor(clientId: string, topic: string, ms: number, throttles: number[]) {
  const producer = client(clientId, throttles).producer({ allowAutoTopicCreation: true });
  await producer.connect();
  const acked: { at: number; bytes: number }[] = [];
  const start = Date.now();
  while (Date.now() - start < ms) {
    await producer.send({ topic, acks: 1, messages: Array.from({ length: 10 }, () => ({ value: VALUE })) });
    acked.push({ at: Date.now() - start, bytes: 10 * VALUE.length });
  }
  await producer.disconnect();
  return acked;
}

const bytesBetween = (acked: { at: number; bytes: number }[], from: number, to: number) =>
  acked.filter((a) => a.at > from && a.at <= to).reduce((n, a) => n + a.bytes, 0);

describe('client quotas enforced (kafkajs)', () => {
  it('holds a producer near producer_byte_rate and tells it throttle_time_ms', async () => {
    const free: number[] = [];
    const unthrottled = await produceFor('free-producer', 'free', 1000, free);
    const freeRate = bytesBetween(unthrottled, 0, 1000);
    const throttles: number[] = [];
    const acked = await produceFor('slow-producer', 'held', 6000, throttles);
    // After the first window's allowance: 5 s at the quota.
    const rate = bytesBetween(acked, 1000, 6000) / 5;
    const overall = bytesBetween(acked, 0, 6000) / 6;
    console.log(
      `unthrottled ${freeRate} B/s; held ${Math.round(rate)} B/s (1–6 s), ${Math.round(overall)} B/s (0–6 s); ` +
        `${throttles.filter((t) => t > 0).length} of ${throttles.length} responses throttled, max ${Math.max(...throttles)} ms`,
    );
    expect(freeRate).toBeGreaterThan(400_000);
    expect(free.every((t) => t === 0)).toBe(true);
    expect(rate).toBeGreaterThan(70_000);
    expect(rate).toBeLessThan(130_000);
    expect(throttles.some((t) => t > 0)).toBe(true);
    // Kafka's per-client quota metrics (kafka.server:type=Produce,user,client-id).
    const text = await scrape(broker.broker);
    const series = (name: string) => seriesValue(text, clientSeries(name, 'slow-producer'));
    expect(series('kafka_server_produce_byte_rate')).toBeGreaterThan(0);
    expect(series('kafka_server_produce_throttle_time')).toBeGreaterThan(0);
  }, 30_000);

  it('holds a client over request_percentage: each request answered with a throttle time of at most a window', async () => {
    const throttles: number[] = [];
    const start = Date.now();
    const acked = await produceFor('busy-client', 'busy', 2500, throttles);
    const elapsed = Date.now() - start;
    console.log(
      `request_percentage 0.001: ${acked.length} sends in ${elapsed} ms, throttles ${throttles.join(', ')} ms`,
    );
    // Far over 0.001 % of a thread from the first request: every response says so, and kafkajs
    // waits the throttle time (1 s: one window) before its next request.
    expect(throttles.length).toBeGreaterThan(0);
    expect(throttles.every((t) => t > 0 && t <= 1000)).toBe(true);
    expect(acked.length).toBeLessThanOrEqual(4);
    const text = await scrape(broker.broker);
    const series = (name: string) => seriesValue(text, clientSeries(name, 'busy-client'));
    expect(series('kafka_server_request_request_time')).toBeGreaterThan(0);
    expect(series('kafka_server_request_throttle_time')).toBeGreaterThan(0);
  }, 30_000);

  it('holds a consumer near consumer_byte_rate', async () => {
    const producer = client('loader', []).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    for (let i = 0; i < 100; i++) {
      await producer.send({
        topic: 'to-read',
        acks: 1,
        messages: Array.from({ length: 10 }, () => ({ value: VALUE })),
      });
    }
    await producer.disconnect();
    const throttles: number[] = [];
    // kafkajs logs a Fetch response's fields (its throttle time) only with these set.
    process.env.KAFKAJS_DEBUG_PROTOCOL_BUFFERS = '1';
    process.env.KAFKAJS_DEBUG_EXTENDED_PROTOCOL_BUFFERS = '1';
    const consumer = client('slow-consumer', throttles).consumer({ groupId: 'slow', maxBytes: 1 << 20 });
    await consumer.connect();
    delete process.env.KAFKAJS_DEBUG_PROTOCOL_BUFFERS;
    delete process.env.KAFKAJS_DEBUG_EXTENDED_PROTOCOL_BUFFERS;
    await consumer.subscribe({ topic: 'to-read', fromBeginning: true });
    let bytes = 0;
    let start = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (start === 0) start = Date.now();
        bytes += message.value?.length ?? 0;
      },
    });
    await new Promise((r) => setTimeout(r, 5000));
    const elapsed = (Date.now() - start) / 1000;
    await consumer.disconnect();
    console.log(
      `consumer read ${bytes} B in ${elapsed.toFixed(1)} s; ${throttles.filter((t) => t > 0).length} throttled fetches`,
    );
    // 1 MB is there to read; the quota lets about 100 kB/s through (plus the first window's allowance).
    expect(bytes).toBeLessThan(100_000 * (elapsed + 2));
    expect(bytes).toBeGreaterThan(100_000 * 2);
    expect(throttles.some((t) => t > 0)).toBe(true);
  }, 30_000);
});
