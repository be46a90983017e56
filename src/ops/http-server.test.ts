import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import { BrokerConfig } from '../config/broker-config.js';
import { startBroker } from '../index.js';
import { Broker } from '../server/broker.js';
import { TestClient } from '../test-support/client.js';
import { AdminServer } from './http-server.js';

/** Parses Prometheus text into `name{labels}` → value (labels as printed). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

const delta = (after: Map<string, number>, before: Map<string, number>, key: string) =>
  (after.get(key) ?? 0) - (before.get(key) ?? 0);

describe('admin HTTP listener', () => {
  it('/metrics counters move by exactly what 1,000 produced records and one fetch did', async () => {
    const k = await startBroker({ httpPort: 0 });
    try {
      k.createTopic('m', { partitions: 1 });
      const before = await scrape(k.httpUrl!);
      expect(before.get('kafka_server_brokertopicmetrics_messagesin_total{topic="m"}')).toBeUndefined();

      const client = new Kafka({ brokers: k.brokers, logLevel: logLevel.NOTHING });
      const producer = client.producer();
      await producer.connect();
      for (let b = 0; b < 10; b++) {
        await producer.send({
          topic: 'm',
          messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `value-${b}-${i}` })),
        });
      }
      const mid = await scrape(k.httpUrl!);
      await producer.disconnect();

      // Messages in: exactly 1,000, per topic and in the all-topics total.
      expect(delta(mid, before, 'kafka_server_brokertopicmetrics_messagesin_total{topic="m"}')).toBe(1000);
      expect(delta(mid, before, 'kafka_server_brokertopicmetrics_messagesin_total')).toBe(1000);
      // Bytes in: batches are stored as received, so bytes in equals the growth of the log.
      const bytesIn = delta(mid, before, 'kafka_server_brokertopicmetrics_bytesin_total{topic="m"}');
      expect(bytesIn).toBeGreaterThan(1000 * 'value-0-0'.length);
      expect(bytesIn).toBe(delta(mid, before, 'kafka_log_log_size{topic="m",partition="0"}'));
      expect(mid.get('kafka_log_log_logendoffset{topic="m",partition="0"}')).toBe(1000);
      // Ten Produce requests, each answered NONE for its one partition.
      const produceVersions = [...mid.keys()].filter((key) =>
        key.startsWith('kafka_network_requestmetrics_requests_total{request="Produce"'),
      );
      expect(produceVersions.reduce((n, key) => n + delta(mid, before, key), 0)).toBe(10);
      expect(delta(mid, before, 'kafka_network_requestmetrics_totaltimems_count{request="Produce"}')).toBe(
        10,
      );
      expect(
        delta(mid, before, 'kafka_network_requestmetrics_errors_total{request="Produce",error="NONE"}'),
      ).toBe(10);

      // One fetch of the whole partition: bytes out equals the record bytes returned.
      const raw = await TestClient.connect(k.port);
      const res = await raw.request<{
        responses: { partitions: { errorCode: number; records: Buffer | null }[] }[];
      }>(1, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 64 * 1024 * 1024,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          { topic: 'm', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 64 * 1024 * 1024 }] },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      // And a produce to a partition that does not exist: counted under its error code.
      const bad = await raw.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'm', partitionData: [{ index: 7, records: Buffer.alloc(0) }] }],
      });
      expect(bad.responses[0]!.partitionResponses[0]!.errorCode).toBe(3);
      const after = await scrape(k.httpUrl!);
      expect(after.get('kafka_server_socket_server_metrics_connection_count{listener="PLAINTEXT"}')).toBe(1);
      expect(after.get('kafka_server_socket_server_metrics_failed_authentication_total')).toBe(0);
      raw.close();
      const returned = res.responses[0]!.partitions[0]!.records!.length;
      expect(returned).toBe(bytesIn);
      expect(delta(after, mid, 'kafka_server_brokertopicmetrics_bytesout_total{topic="m"}')).toBe(returned);
      // Messages out (kbroker's own counter): the 1,000 records of the batches returned.
      expect(delta(after, mid, 'kbroker_server_brokertopicmetrics_messagesout_total{topic="m"}')).toBe(1000);
      expect(delta(after, mid, 'kbroker_server_brokertopicmetrics_messagesout_total')).toBe(1000);
      expect(
        delta(
          after,
          mid,
          'kafka_network_requestmetrics_errors_total{request="Produce",error="UNKNOWN_TOPIC_OR_PARTITION"}',
        ),
      ).toBe(1);
      // Single node: nothing under-replicated; Node process metrics present.
      expect(after.get('kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
      expect(after.get('kafka_server_replicamanager_partitioncount')).toBe(1);
      expect([...after.keys()].some((key) => key.startsWith('process_resident_memory_bytes'))).toBe(true);
      expect([...after.keys()].some((key) => key.startsWith('nodejs_eventloop_lag'))).toBe(true);
    } finally {
      await k.close();
    }
  });

  it('/metrics: fetch sessions (KIP-227) and the controller gauges', async () => {
    const k = await startBroker({ httpPort: 0 });
    try {
      k.createTopic('fs', { partitions: 2 });
      const raw = await TestClient.connect(k.port);
      const fetch = (sessionId: number, sessionEpoch: number, partitions: number[]) =>
        raw.request<{ errorCode: number; sessionId: number }>(1, 12, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId,
          sessionEpoch,
          topics: [
            {
              topic: 'fs',
              partitions: partitions.map((partition) => ({
                partition,
                fetchOffset: 0,
                partitionMaxBytes: 1 << 20,
              })),
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        });
      const full = await fetch(0, 0, [0, 1]);
      expect(full.sessionId).toBeGreaterThan(0);
      await fetch(full.sessionId, 1, []);
      await fetch(full.sessionId, 2, []);
      const m = await scrape(k.httpUrl!);
      expect(m.get('kafka_server_fetchsessioncache_numincrementalfetchsessions')).toBe(1);
      expect(m.get('kafka_server_fetchsessioncache_numincrementalfetchpartitionscached')).toBe(2);
      expect(m.get('kbroker_server_fetchsessioncache_incrementalfetches_total')).toBe(2);
      expect(m.get('kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total')).toBe(0);
      // A single broker is the active controller; every partition has its leader.
      expect(m.get('kafka_controller_kafkacontroller_activecontrollercount')).toBe(1);
      expect(m.get('kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
      raw.close();
    } finally {
      await k.close();
    }
  });

  it('serves /health, cluster, topics and groups as JSON', async () => {
    const k = await startBroker({ httpPort: 0, 'num.partitions': 2 });
    try {
      const client = new Kafka({ brokers: k.brokers, logLevel: logLevel.NOTHING });
      const producer = client.producer();
      await producer.connect();
      await producer.send({ topic: 'orders', messages: [{ partition: 1, value: 'x' }] });
      await producer.disconnect();
      const get = async (path: string) => {
        const r = await fetch(`${k.httpUrl}${path}`);
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      expect(await get('/health')).toEqual({ status: 200, body: { status: 'UP' } });
      const cluster = await get('/api/cluster');
      expect(cluster.body).toMatchObject({
        clusterId: k.broker.clusterId,
        controllerId: 1,
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: k.port }],
        topics: 1,
        partitions: 2,
      });
      const topic = await get('/api/topics/orders');
      expect(topic.body).toMatchObject({
        name: 'orders',
        partitions: [
          {
            partition: 0,
            leader: 1,
            replicas: [1],
            isr: [1],
            logStartOffset: 0,
            highWatermark: 0,
            logEndOffset: 0,
          },
          { partition: 1, leader: 1, highWatermark: 1, logEndOffset: 1 },
        ],
      });
      expect((await get('/api/topics')).body.topics).toHaveLength(1);
      expect((await get('/api/topics/nope')).status).toBe(404);
      expect(await get('/api/groups')).toEqual({ status: 200, body: { groups: [] } });
    } finally {
      await k.close();
    }
  });
});

describe('/ready', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbroker-ready-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is 503 until storage is recovered and the listener accepts, and again once closing', async () => {
    // A log left by an unclean stop (no clean-shutdown marker, garbage after the last batch):
    // the next start must recover it before it is ready.
    const first = await startBroker({ dataDir: dir });
    first.createTopic('r', { partitions: 1 });
    const client = new Kafka({ brokers: first.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'r', messages: Array.from({ length: 50 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    await first.close();
    rmSync(join(dir, '.kafka_cleanshutdown'), { force: true });
    const segment = readdirSync(join(dir, 'r-0')).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir, 'r-0', segment), Buffer.from('torn tail that is not a batch'));

    const admin = await AdminServer.start({ port: 0, host: '127.0.0.1', logger: silentLogger });
    const url = `http://127.0.0.1:${admin.port}`;
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const starting = await fetch(`${url}/ready`);
      expect(starting.status).toBe(503);
      expect(await starting.json()).toEqual({ status: 'starting' });
      expect((await fetch(`${url}/metrics`)).status).toBe(503);

      const config = new BrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir });
      const broker = await Broker.start(config, { logger: silentLogger });
      expect(broker.logManager.hadCleanShutdown).toBe(false);
      expect(broker.replicaManager.getPartition('r', 0)!.logEndOffset).toBe(50);
      expect((await fetch(`${url}/ready`)).status).toBe(503); // recovered, but not attached yet
      admin.attach(broker);
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });

      const closing = broker.close();
      expect((await fetch(`${url}/ready`)).status).toBe(503);
      await closing;
      expect(await (await fetch(`${url}/ready`)).json()).toEqual({ status: 'stopping' });
    } finally {
      await admin.close();
    }
  });
});
