import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';
import { AdminServer } from './http-server.js';

let tc: TestCluster;
let admin: AdminServer;
let single: AdminServer;
const url = (path: string, server = admin) => `http://127.0.0.1:${server.port}${path}`;
const post = (path: string, headers: Record<string, string> = { 'x-kbroker-console': '1' }) =>
  fetch(url(path), { method: 'POST', headers });

beforeAll(async () => {
  tc = await startTestCluster(3, { 'broker.session.timeout.ms': '300', 'replica.fetch.backoff.ms': '20' });
  admin = await AdminServer.start({ port: 0, runtimeMetrics: 'none' });
  admin.attach(tc.cluster.broker(1)!);
  admin.attachCluster(tc.cluster);
  single = await AdminServer.start({ port: 0, runtimeMetrics: 'none' });
});

afterAll(async () => {
  await admin?.close();
  await single?.close();
  await tc?.close();
});

describe('admin HTTP API of a multi-broker process', () => {
  it('lists brokers and partitions, kills, starts, stops, isolates and heals a broker', async () => {
    await tc.createTopic('http-cluster', [[2, 3, 1]]);
    const brokers = (await (await fetch(url('/api/cluster/brokers'))).json()) as {
      brokers: { id: number; running: boolean; port: number }[];
    };
    expect(brokers.brokers.map((b) => [b.id, b.running])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(brokers.brokers[1]!.port).toBe(tc.cluster.broker(2)!.port);
    const partitions = (await (await fetch(url('/api/cluster/partitions/http-cluster'))).json()) as {
      partitions: unknown[];
    };
    expect(partitions.partitions[0]).toMatchObject({ partition: 0, leader: 2, replicas: [2, 3, 1] });
    expect((await fetch(url('/api/cluster/partitions/nope'))).status).toBe(404);

    // State changes need the CSRF header as every admin change.
    expect((await post('/api/cluster/brokers/2/kill', {})).status).toBe(403);
    const killed = await post('/api/cluster/brokers/2/kill');
    expect(killed.status).toBe(200);
    expect(await killed.json()).toMatchObject({ id: 2, running: false });
    expect(tc.cluster.broker(2)).toBeUndefined();
    // Fenced when its session expires: the leadership moves.
    await until(() => tc.cluster.controller.image.partition('http-cluster', 0)!.leader !== 2, 5_000, 'moved');
    expect((await post('/api/cluster/brokers/2/kill')).status).toBe(409);
    expect(await (await post('/api/cluster/brokers/2/start')).json()).toMatchObject({ id: 2, running: true });
    expect((await post('/api/cluster/brokers/2/start')).status).toBe(409);
    await until(
      () => tc.cluster.controller.image.partition('http-cluster', 0)!.isr.length === 3,
      10_000,
      'ISR',
    );

    expect(await (await post('/api/cluster/brokers/3/isolate')).json()).toMatchObject({ isolated: true });
    expect(tc.cluster.isIsolated(3)).toBe(true);
    expect(await (await post('/api/cluster/brokers/3/heal')).json()).toMatchObject({ isolated: false });

    // The broker the listener serves, stopped and started, is served again.
    expect(await (await post('/api/cluster/brokers/1/stop')).json()).toMatchObject({ running: false });
    expect((await fetch(url('/ready'))).status).toBe(503);
    await post('/api/cluster/brokers/1/start');
    expect((await fetch(url('/ready'))).status).toBe(200);

    expect((await post('/api/cluster/brokers/9/kill')).status).toBe(404);
    expect((await post('/api/cluster/brokers/1/explode')).status).toBe(404);
  });

  it('answers 404 in a single-broker process', async () => {
    expect((await fetch(url('/api/cluster/brokers', single))).status).toBe(404);
  });
});
