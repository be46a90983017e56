import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../../common/time.js';
import { type EtcdServer, etcdBinary, startCuttableProxy, startEtcd } from '../../test-support/etcd.js';
import { spawnEtcdMember } from '../../test-support/etcd-member.js';
import { until } from '../../test-support/until.js';
import { EtcdBrokerRegistry } from './broker-registry.js';
import { EtcdClient } from './client.js';
import type { BrokerRegistrationInfo, BrokerRegistryListener } from './interfaces.js';
import { EtcdLayout } from './layout.js';

const info = (brokerId: number, rack: string | null = null): BrokerRegistrationInfo => ({
  brokerId,
  rack,
  endpoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + brokerId, securityProtocol: 'PLAINTEXT' }],
  incarnationId: randomUUID(),
});

/** What the controller would act on: registrations and their ends, as a log of lines. */
class Events implements BrokerRegistryListener {
  lines: string[] = [];
  errors: Error[] = [];
  handleBrokerRegistered(b: { brokerId: number; brokerEpoch: number; rack: string | null }): void {
    this.lines.push(`+${b.brokerId}@${b.brokerEpoch}${b.rack ? ` ${b.rack}` : ''}`);
  }
  handleBrokerUnregistered(brokerId: number, brokerEpoch: number): void {
    this.lines.push(`-${brokerId}@${brokerEpoch}`);
  }
  handleError(err: Error): void {
    this.errors.push(err);
  }
}

describe.skipIf(!etcdBinary)('EtcdBrokerRegistry against a real etcd', () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: etcd.endpoints });
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    client?.close();
    await etcd?.stop();
  });

  it('sees brokers register, a killed broker process expire, and a stopped one leave at once', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const registry = new EtcdBrokerRegistry(client, layout, { sessionTimeoutMs: 1_000, retryBackoffMs: 50 });
    const events = new Events();
    const watch = registry.watch(events);
    closers.push(() => watch.close());

    const child = await spawnEtcdMember('broker', etcd.endpoints[0]!, layout.root, 1, 1_000);
    closers.push(() => child.kill());
    const epoch1 = child.line.brokerEpoch as number;
    const two = await registry.register(info(2, 'rack-b'));
    closers.push(() => two.close());
    await until(
      () => events.lines.length === 2,
      10_000,
      () => `two registrations: ${events.lines}`,
    );
    expect(events.lines).toEqual([`+1@${epoch1} rack-a`, `+2@${two.broker.brokerEpoch} rack-b`]);
    expect(two.broker.brokerEpoch).toBeGreaterThan(epoch1);
    const listed = await registry.registeredBrokers();
    expect(listed.map((b) => [b.brokerId, b.rack, b.endpoints[0]!.port])).toEqual([
      [1, 'rack-a', 9092],
      [2, 'rack-b', 9002],
    ]);

    // One id, one live process.
    await expect(registry.register(info(1))).rejects.toMatchObject({
      error: 'DUPLICATE_BROKER_REGISTRATION',
    });

    // The process dies: no clean shutdown, its session expires.
    const killedAt = performance.now();
    child.kill();
    await child.exited;
    await until(
      () => events.lines.length === 3,
      10_000,
      () => `broker 1 to expire: ${events.lines}`,
    );
    console.log(
      `broker registration gone ${(performance.now() - killedAt).toFixed(0)} ms after SIGKILL (1 s session)`,
    );
    expect(events.lines[2]).toBe(`-1@${epoch1}`);

    // A clean stop unregisters at once (well before a 1 s session could expire).
    const stoppedAt = performance.now();
    await two.close();
    expect(two.isActive()).toBe(false);
    await until(() => events.lines.length === 4, 10_000, 'broker 2 to leave');
    expect(performance.now() - stoppedAt).toBeLessThan(900);
    expect(events.lines[3]).toBe(`-2@${two.broker.brokerEpoch}`);

    // Broker 1 restarts: a new registration with a higher epoch.
    const again = await registry.register(info(1, 'rack-a'));
    closers.push(() => again.close());
    expect(again.broker.brokerEpoch).toBeGreaterThan(two.broker.brokerEpoch);
    await until(() => events.lines.length === 5, 10_000, 'broker 1 to register again');
    expect(events.lines[4]).toBe(`+1@${again.broker.brokerEpoch} rack-a`);
    expect(events.errors).toEqual([]);
  });

  it('a session that stops being renewed (a paused process) ends, and its holder learns it', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const time = new MockTime();
    const paused = new EtcdBrokerRegistry(client, layout, { sessionTimeoutMs: 1_000, time });
    const session = await paused.register(info(7));
    await until(async () => (await paused.registeredBrokers()).length === 0, 10_000, 'the session to expire');
    // Once its clock moves past a whole session without a renewal, the holder knows it is gone.
    expect(session.isActive()).toBe(true);
    time.advance(400);
    time.advance(400);
    time.advance(400);
    await session.lost;
    expect(session.isActive()).toBe(false);
  });

  it('a watcher cut off from etcd catches up on what it missed, once each', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const registry = new EtcdBrokerRegistry(client, layout, { sessionTimeoutMs: 1_000 });
    const proxy = await startCuttableProxy(etcd.endpoints[0]!);
    const watcherClient = new EtcdClient({ endpoints: [proxy.endpoint], requestTimeoutMs: 2_000 });
    closers.push(
      () => proxy.close(),
      () => watcherClient.close(),
    );
    const events = new Events();
    const watch = new EtcdBrokerRegistry(watcherClient, layout, {
      sessionTimeoutMs: 1_000,
      retryBackoffMs: 50,
    }).watch(events);
    closers.push(() => watch.close());

    const a = await registry.register(info(1));
    const b = await registry.register(info(2));
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    await until(
      () => events.lines.length === 2,
      10_000,
      () => `two registrations: ${events.lines}`,
    );
    proxy.cut();
    await until(() => events.errors.length > 0, 10_000, 'the watcher to lose its connection');
    // While it is cut off: 2 leaves, 3 joins, 1 restarts (new epoch).
    await b.close();
    const c = await registry.register(info(3));
    await a.close();
    const a2 = await registry.register(info(1));
    closers.push(
      () => c.close(),
      () => a2.close(),
    );
    proxy.restore();
    await until(
      () => events.lines.length === 6,
      15_000,
      () => `catch-up: ${events.lines}`,
    );
    expect(events.lines.slice(2).sort()).toEqual(
      [
        `-1@${a.broker.brokerEpoch}`,
        `-2@${b.broker.brokerEpoch}`,
        `+1@${a2.broker.brokerEpoch}`,
        `+3@${c.broker.brokerEpoch}`,
      ].sort(),
    );
    // 1's old registration ends before its new one is announced.
    expect(events.lines.indexOf(`-1@${a.broker.brokerEpoch}`)).toBeLessThan(
      events.lines.indexOf(`+1@${a2.broker.brokerEpoch}`),
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(events.lines).toHaveLength(6);
  });
});
