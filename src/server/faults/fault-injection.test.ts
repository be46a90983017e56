/**
 * Fault injection for users' tests, through the embedding API and the admin HTTP API, seen by a
 * real client (kafkajs): errors a client retries, a partition failing while the others are
 * served, delays, and connections dropped before or after the broker acts.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startBroker } from '../../index.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { TestClient } from '../../test-support/client.js';

let kb: EmbeddedBroker;
beforeAll(async () => {
  kb = await startBroker({ httpPort: 0, 'num.partitions': 2 });
});
afterAll(async () => {
  await kb.close();
});
afterEach(async () => {
  kb.faults.clear();
  await kb.reset();
});

const kafka = (clientId = 'fault-test', retries = 5) =>
  new Kafka({
    clientId,
    brokers: kb.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries, initialRetryTime: 20, maxRetryTime: 100 },
  });

async function offsets(topic: string) {
  const admin = kafka().admin();
  await admin.connect();
  const out = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return out.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
}

describe('fault injection', () => {
  it('a producer retries through two injected NOT_LEADER_OR_FOLLOWER and its record is written once', async () => {
    await kb.createTopic('retry', { partitions: 1 });
    const fault = kb.faults.inject({ api: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER', count: 2 });
    const producer = kafka().producer();
    await producer.connect();
    const [meta] = await producer.send({ topic: 'retry', messages: [{ value: 'v' }] });
    await producer.disconnect();
    expect(meta!.baseOffset).toBe('0');
    expect(fault.hits).toBe(2);
    expect(kb.faults.list()).toEqual([]);
    expect(await offsets('retry')).toEqual([1]);
  });

  it('an error for one partition: the others are served in the same request', async () => {
    await kb.createTopic('split', { partitions: 2 });
    kb.faults.inject({
      api: 'Produce',
      topic: 'split',
      partition: 1,
      error: 'KAFKA_STORAGE_ERROR',
      count: null,
    });
    const c = await TestClient.connect(kb.port);
    const { buildRecordBatch } = await import('../../protocol/record-batch-builder.js');
    const records = () => buildRecordBatch({ records: [{ value: 'x' }] });
    const res = await c.request<{
      responses: {
        name: string;
        partitionResponses: { index: number; errorCode: number; baseOffset: number }[];
      }[];
    }>(0, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 'split',
          partitionData: [
            { index: 0, records: records() },
            { index: 1, records: records() },
          ],
        },
      ],
    });
    c.close();
    expect(res.responses).toHaveLength(1);
    expect(res.responses[0]!.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset])).toEqual([
      [0, ErrorCode.NONE, 0],
      [1, ErrorCode.KAFKA_STORAGE_ERROR, -1],
    ]);
    expect(await offsets('split')).toEqual([1, 0]);
    // Until cleared: it is still there, with its hit counted.
    expect(kb.faults.list()).toMatchObject([
      { api: 'Produce', hits: 1, remaining: Number.POSITIVE_INFINITY },
    ]);
  });

  it('a delay for one client id only', async () => {
    kb.faults.inject({ api: 'Metadata', clientId: 'slow-client', delayMs: 400, count: 1 });
    const time = async (clientId: string) => {
      const admin = kafka(clientId).admin();
      await admin.connect(); // the first Metadata goes here
      const t = performance.now();
      await admin.fetchTopicMetadata({ topics: [] });
      const ms = performance.now() - t;
      await admin.disconnect();
      return ms;
    };
    // The connect of 'slow-client' took the one delayed Metadata; time it directly instead.
    const t0 = performance.now();
    const admin = kafka('slow-client').admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [] });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    await admin.disconnect();
    expect(await time('fast-client')).toBeLessThan(390);
    expect(kb.faults.list()).toEqual([]);
  });

  it('drop before: the request is not acted on, the producer retries on a new connection, one record', async () => {
    await kb.createTopic('drop-before', { partitions: 1 });
    const fault = kb.faults.inject({ api: 'Produce', drop: 'before' });
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: 'drop-before', messages: [{ value: 'v' }] });
    await producer.disconnect();
    expect(fault.hits).toBe(1);
    expect(await offsets('drop-before')).toEqual([1]);
  });

  it('drop after: the broker appended, the answer was lost; an idempotent producer retries without a duplicate', async () => {
    await kb.createTopic('drop-after', { partitions: 1 });
    kb.faults.inject({ api: 'Produce', drop: 'after' });
    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: 'drop-after', messages: [{ value: 'v' }] });
    await producer.disconnect();
    expect(await offsets('drop-after')).toEqual([1]);
    // Without idempotence the same fault duplicates the record, as it would with Kafka.
    kb.faults.inject({ api: 'Produce', drop: 'after' });
    const plain = kafka().producer({ idempotent: false });
    await plain.connect();
    await plain.send({ topic: 'drop-after', messages: [{ value: 'w' }] });
    await plain.disconnect();
    expect(await offsets('drop-after')).toEqual([3]);
  });

  it('refuses what it cannot honour', () => {
    expect(() => kb.faults.inject({ api: 'Nope', error: 'NONE' })).toThrow(/unknown or unserved API/);
    expect(() => kb.faults.inject({ api: 'Produce' })).toThrow(/exactly one of/);
    expect(() => kb.faults.inject({ api: 'Produce', error: 'NOT_AN_ERROR' as never })).toThrow(
      /unknown Kafka error/,
    );
    expect(() => kb.faults.inject({ api: 'CreateTopics', error: 'POLICY_VIOLATION' })).toThrow(
      /no top-level error code/,
    );
    expect(() => kb.faults.inject({ api: 'Metadata', topic: 't', delayMs: 1 })).toThrow(
      /Produce, Fetch and ListOffsets/,
    );
    expect(kb.faults.list()).toEqual([]);
  });

  it('over the admin HTTP API: inject, list, trigger, clear', async () => {
    const headers = { 'content-type': 'application/json', 'x-kbroker-console': '1' };
    const bad = await fetch(`${kb.httpUrl}/api/faults`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ api: 'Produce' }),
    });
    expect(bad.status).toBe(400);
    const created = await fetch(`${kb.httpUrl}/api/faults`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ api: 'FindCoordinator', error: 'COORDINATOR_NOT_AVAILABLE', count: null }),
    });
    expect(created.status).toBe(201);
    const fault = (await created.json()) as { id: number; remaining: number | null };
    expect(fault.remaining).toBeNull();
    const c = await TestClient.connect(kb.port);
    const res = await c.request<{ errorCode: number }>(10, 3, { key: 'g', keyType: 0 });
    expect(res.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const listed = (await (await fetch(`${kb.httpUrl}/api/faults`)).json()) as { faults: { hits: number }[] };
    expect(listed.faults).toMatchObject([{ id: fault.id, hits: 1 }]);
    const del = await fetch(`${kb.httpUrl}/api/faults/${fault.id}`, {
      method: 'DELETE',
      headers: { 'x-kbroker-console': '1' },
    });
    expect(await del.json()).toEqual({ cleared: 1 });
    expect((await c.request<{ errorCode: number }>(10, 3, { key: 'g', keyType: 0 })).errorCode).toBe(0);
    c.close();
  });
});
