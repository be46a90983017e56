/**
 * connection_creation_rate of an IP (KIP-612) over TCP, on the broker's clock (MockTime): with 2 a
 * second and Kafka's default windows (11 × 1 s, the rate taken over at least 10 s), 20 connections at
 * once are served; the 21st is accepted but never served and closed after the time that brings the
 * rate back (0.1 / 2 × 10 s = 500 ms), and it is not counted. Another address is not held; the
 * default-IP entity holds every address.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { scrape } from '../ops/prometheus.js';
import { makeDevCerts } from '../security/dev-certs.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { seriesValue } from '../test-support/metrics.js';

let tb: TestBroker | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await tb?.close();
  tb = undefined;
});

async function brokerWithIpQuota(time: MockTime, ip: string | null, rate: number): Promise<TestBroker> {
  tb = await startTestBroker({}, undefined, { time, purgatoryTime: time });
  const [r] = await tb.broker.controller.alterClientQuotas(
    [
      {
        entity: [{ entityType: 'ip', entityName: ip }],
        ops: [{ key: 'connection_creation_rate', value: rate }],
      },
    ],
    false,
  );
  expect(r!.errorCode).toBe(0);
  return tb;
}

/** Opens a connection and asks ApiVersions: true when answered within 500 ms of real time. */
/** Asks ApiVersions on an open connection; resolves true once answered (false after `ms` of real time). */
const answers = (c: TestClient, ms: number) =>
  Promise.race([
    c.request(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' }).then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);

async function served(port: number, localAddress?: string): Promise<{ answered: boolean; socket: Socket }> {
  const c = await TestClient.connect(port, '127.0.0.1', localAddress);
  clients.push(c);
  return { answered: await answers(c, 500), socket: c.socket };
}

/** A series' value on /metrics (NaN when absent). */
async function metric(series: string): Promise<number> {
  return seriesValue(await scrape(tb!.broker), series);
}

const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

describe('connection_creation_rate (KIP-612)', () => {
  it('holds the connection past the rate unserved and closes it after the throttle time', async () => {
    const time = new MockTime();
    const { port } = await brokerWithIpQuota(time, '127.0.0.1', 2);
    for (let i = 0; i < 20; i++) expect((await served(port)).answered).toBe(true);
    const over = await served(port);
    expect(over.answered).toBe(false);
    expect(over.socket.destroyed).toBe(false);
    time.advance(499);
    await new Promise((r) => setTimeout(r, 50));
    expect(over.socket.destroyed).toBe(false);
    time.advance(1);
    await closed(over.socket);
    // Kafka's socket-server-metrics: the hold, and the address's rate (20 over the 10 s window).
    expect(
      await metric(
        'kafka_server_socket_server_metrics_ip_connection_accept_throttle_time{listener="PLAINTEXT"}',
      ),
    ).toBe(500);
    expect(
      await metric('kafka_server_socket_server_metrics_connection_creation_rate{ip="127.0.0.1"}'),
    ).toBeCloseTo(20 / 10.5);
    // 500 ms on, 21 connections over 10.5 s are at the quota: served — as the held one was not
    // counted (with it, 22 would be over). The next is over again; once those samples are old, served.
    expect((await served(port)).answered).toBe(true);
    expect((await served(port)).answered).toBe(false);
    time.advance(12_000); // past quota.window.num × quota.window.size.seconds
    expect((await served(port)).answered).toBe(true);
    // Another address is not held.
    for (let i = 0; i < 3; i++) expect((await served(port, '127.0.0.2')).answered).toBe(true);
  });

  it('kafkajs over the rate cannot connect until the rate is back', async () => {
    const time = new MockTime();
    const { port } = await brokerWithIpQuota(time, '127.0.0.1', 1);
    for (let i = 0; i < 10; i++) expect((await served(port)).answered).toBe(true);
    const kafka = new Kafka({
      clientId: 'rate',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 5000,
      requestTimeout: 5000,
    });
    const admin = kafka.admin();
    const refused = admin.connect().then(
      () => 'connected',
      (err: Error) => err.name,
    );
    let settled = false;
    void refused.finally(() => {
      settled = true;
    });
    // Held unanswered, then closed once the broker's clock passes the throttle time (1 s at most):
    // kafkajs fails then, well before its own 5 s timeouts.
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    const t0 = performance.now();
    time.advance(1000);
    expect(await refused).not.toBe('connected');
    expect(performance.now() - t0).toBeLessThan(2000);
    time.advance(12_000);
    await admin.connect();
    expect((await admin.describeCluster()).brokers).toHaveLength(1);
    await admin.disconnect();
  });

  it('on an SSL listener the connection is held before its TLS handshake: none is spent on it', async () => {
    const certsDir = mkdtempSync(join(tmpdir(), 'kbroker-rate-tls-'));
    try {
      const certs = makeDevCerts(certsDir);
      const time = new MockTime();
      tb = await startTestBroker(
        {
          listeners: 'SSL://127.0.0.1:0',
          'ssl.keystore.type': 'PEM',
          'ssl.keystore.location': certs.brokerKeystoreFile,
        },
        undefined,
        { time, purgatoryTime: time },
      );
      const [r] = await tb.broker.controller.alterClientQuotas(
        [
          {
            entity: [{ entityType: 'ip', entityName: '127.0.0.1' }],
            ops: [{ key: 'connection_creation_rate', value: 1 }],
          },
        ],
        false,
      );
      expect(r!.errorCode).toBe(0);
      const port = tb.broker.listenerPort('SSL')!;
      /** 'secure' once the handshake is done, 'closed' if the broker closes first; after `ms`, 'waiting'. */
      const handshake = (ms: number) =>
        new Promise<{ outcome: 'secure' | 'closed' | 'waiting'; socket: Socket }>((resolve) => {
          const socket = tlsConnect({
            port,
            host: '127.0.0.1',
            ca: [readFileSync(certs.caFile)],
            servername: 'localhost',
          });
          socket.on('error', () => {});
          socket.once('secureConnect', () => resolve({ outcome: 'secure', socket }));
          socket.once('close', () => resolve({ outcome: 'closed', socket }));
          setTimeout(() => resolve({ outcome: 'waiting', socket }), ms);
        });
      for (let i = 0; i < 10; i++) {
        const h = await handshake(2000);
        expect(h.outcome).toBe('secure');
        h.socket.destroy();
      }
      // The 11th is over 1 a second: held without a handshake, then closed.
      const over = await handshake(500);
      expect(over.outcome).toBe('waiting');
      const closedNow = new Promise<boolean>((res) => {
        if (over.socket.destroyed) res(true);
        over.socket.once('close', () => res(true));
        over.socket.once('secureConnect', () => res(false));
      });
      time.advance(1000);
      expect(await closedNow).toBe(true);
    } finally {
      rmSync(certsDir, { recursive: true, force: true });
    }
  });

  it('the default IP entity holds every address', async () => {
    const time = new MockTime();
    const { port } = await brokerWithIpQuota(time, null, 1);
    for (let i = 0; i < 10; i++) expect((await served(port, '127.0.0.3')).answered).toBe(true);
    expect((await served(port, '127.0.0.3')).answered).toBe(false);
    for (let i = 0; i < 10; i++) expect((await served(port, '127.0.0.4')).answered).toBe(true);
    expect((await served(port, '127.0.0.4')).answered).toBe(false);
  });
});

/** A broker on the broker's clock (still) with PLAINTEXT and the inter-broker INTERNAL listener; INTERNAL's port. */
async function twoListeners(overrides: Record<string, string>): Promise<number> {
  const time = new MockTime();
  tb = await startTestBroker(
    {
      listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
      ...overrides,
    },
    undefined,
    { time, purgatoryTime: time },
  );
  return tb.broker.listenerPort('INTERNAL')!;
}

describe('max.connection.creation.rate (KIP-612)', () => {
  it('past the broker-wide rate the listener takes no connection for the throttle time; they wait in line, then are served', async () => {
    const time = new MockTime();
    tb = await startTestBroker({ 'max.connection.creation.rate': '2' }, undefined, {
      time,
      purgatoryTime: time,
    });
    const port = tb.port;
    for (let i = 0; i < 20; i++) expect((await served(port)).answered).toBe(true);
    // The 21st takes the rate to 2.1 over 10 s: the acceptor waits 500 ms before taking it.
    const c21 = await TestClient.connect(port);
    clients.push(c21);
    const a21 = answers(c21, 5000);
    // The 22nd waits behind it (the acceptor takes nothing meanwhile).
    const c22 = await TestClient.connect(port);
    clients.push(c22);
    const a22 = answers(c22, 5000);
    await new Promise((r) => setTimeout(r, 200));
    let done21 = false;
    void a21.then(() => {
      done21 = true;
    });
    expect(done21).toBe(false);
    time.advance(500);
    expect(await a21).toBe(true); // taken and served, not closed
    expect(c21.socket.destroyed).toBe(false);
    expect(
      await metric(
        'kafka_server_socket_server_metrics_connection_accept_throttle_time{listener="PLAINTEXT"}',
      ),
    ).toBe(500);
    // 22 recorded by now (the 22nd, next in line, was recorded when the 21st was taken) over 10.5 s.
    expect(await metric('kafka_server_socket_server_metrics_broker_connection_accept_rate')).toBeCloseTo(
      22 / 10.5,
    );
    // Then the 22nd is recorded (22 over 10.5 s: over again), waits its own throttle time, and is served.
    await new Promise((r) => setTimeout(r, 100));
    time.advance(1000);
    expect(await a22).toBe(true);
  });

  it('a listener has its own rate (listener.name.<listener>.max.connection.creation.rate)', async () => {
    const internal = await twoListeners({ 'listener.name.plaintext.max.connection.creation.rate': '1' });
    for (let i = 0; i < 10; i++) expect((await served(tb!.port)).answered).toBe(true);
    expect((await served(tb!.port)).answered).toBe(false);
    for (let i = 0; i < 30; i++) expect((await served(internal)).answered).toBe(true);
  });

  it('the inter-broker listener does not count towards the broker-wide rate when there are several', async () => {
    const internal = await twoListeners({ 'max.connection.creation.rate': '1' });
    // Each listener has the broker's value as its own (as Kafka's valuesWithPrefixOverride gives it);
    // the inter-broker listener's connections do not count towards the broker-wide rate, so PLAINTEXT
    // still has its whole 10 after INTERNAL took 10 (were they counted, its first would wait).
    for (let i = 0; i < 10; i++) expect((await served(internal)).answered).toBe(true);
    for (let i = 0; i < 10; i++) expect((await served(tb!.port)).answered).toBe(true);
    expect((await served(tb!.port)).answered).toBe(false);
  });
});
