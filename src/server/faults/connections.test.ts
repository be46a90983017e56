/**
 * Many connections: Kafka's connection limits (max.connections, max.connections.per.ip),
 * connections.max.idle.ms on the broker's clock, and the memory an idle connection costs.
 */
import { describe, expect, it } from 'vitest';
import { MockTime } from '../../common/time.js';
import { startTestBroker } from '../../test-support/broker.js';
import { TestClient } from '../../test-support/client.js';

async function healthy(c: TestClient): Promise<boolean> {
  try {
    const res = await c.request<{ errorCode: number }>(18, 3, {
      clientSoftwareName: 'x',
      clientSoftwareVersion: '1',
    });
    return res.errorCode === 0;
  } catch {
    return false;
  }
}

describe('connection limits', () => {
  it('max.connections.per.ip: one more from the same address is closed at once; a freed slot is usable', async () => {
    const tb = await startTestBroker({ 'max.connections.per.ip': '3' });
    const open = await Promise.all([1, 2, 3].map(() => TestClient.connect(tb.port)));
    for (const c of open) expect(await healthy(c)).toBe(true);
    const extra = await TestClient.connect(tb.port);
    await extra.waitClosed();
    expect(tb.broker.metrics.connectionsRefused).toBe(1);
    open[0]!.close();
    await new Promise((r) => setTimeout(r, 50));
    const again = await TestClient.connect(tb.port);
    expect(await healthy(again)).toBe(true);
    for (const c of [...open, again]) c.close();
    await tb.close();
  });

  it('max.connections: past the broker-wide limit the acceptor takes nothing until a connection closes (KIP-402)', async () => {
    const tb = await startTestBroker({ 'max.connections': '2' });
    const a = await TestClient.connect(tb.port);
    const b = await TestClient.connect(tb.port);
    expect(await healthy(a)).toBe(true);
    expect(await healthy(b)).toBe(true);
    // The third waits in the backlog, neither served nor closed, as at Kafka's acceptor.
    const c = await TestClient.connect(tb.port);
    const answered = healthy(c);
    expect(await Promise.race([answered, new Promise((r) => setTimeout(() => r('waiting'), 300))])).toBe(
      'waiting',
    );
    expect(c.socket.destroyed).toBe(false);
    expect(tb.broker.metrics.connections).toBe(2);
    expect(tb.broker.metrics.connectionsRefused).toBe(0);
    a.close();
    expect(await answered).toBe(true);
    expect(tb.broker.metrics.connections).toBe(2);
    b.close();
    c.close();
    await tb.close();
  });

  it('socket.listen.backlog.size: past the line of waiting connections a new one is closed', async () => {
    const tb = await startTestBroker({ 'max.connections': '1', 'socket.listen.backlog.size': '2' });
    const a = await TestClient.connect(tb.port);
    expect(await healthy(a)).toBe(true);
    // One at the acceptor (accepted, waiting for a slot, as Kafka's blocks in ConnectionQuotas.inc)
    // and two in the backlog behind it.
    const waiting = [
      await TestClient.connect(tb.port),
      await TestClient.connect(tb.port),
      await TestClient.connect(tb.port),
    ];
    const extra = await TestClient.connect(tb.port);
    await extra.waitClosed();
    await new Promise((r) => setTimeout(r, 100));
    expect(waiting.every((c) => !c.socket.destroyed)).toBe(true);
    const first = healthy(waiting[0]!);
    a.close();
    expect(await first).toBe(true);
    for (const c of waiting) c.close();
    await tb.close();
  });

  it("listener.name.<listener>.max.connections holds that listener only; the inter-broker listener passes the broker's limit and the least recently active other connection is closed", async () => {
    const tb = await startTestBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
      'max.connections': '3',
      'listener.name.plaintext.max.connections': '2',
    });
    const internal = tb.broker.listenerPort('INTERNAL')!;
    const [p1, p2] = [await TestClient.connect(tb.port), await TestClient.connect(tb.port)];
    expect(await healthy(p1!)).toBe(true);
    expect(await healthy(p2!)).toBe(true);
    const p3 = await TestClient.connect(tb.port); // PLAINTEXT is full: waits
    const p3answered = healthy(p3);
    expect(await Promise.race([p3answered, new Promise((r) => setTimeout(() => r('waiting'), 300))])).toBe(
      'waiting',
    );
    // INTERNAL takes the broker to its limit (3), then past it: p1, the least recently active, goes.
    expect(await healthy(p2!)).toBe(true);
    const i1 = await TestClient.connect(internal);
    expect(await healthy(i1)).toBe(true);
    const i2 = await TestClient.connect(internal);
    expect(await healthy(i2)).toBe(true);
    await p1!.waitClosed();
    expect(p2!.socket.destroyed).toBe(false);
    // Broker-wide 3 with 3 open (p2, i1, i2): p3 still waits although PLAINTEXT has a slot.
    expect(await Promise.race([p3answered, new Promise((r) => setTimeout(() => r('waiting'), 300))])).toBe(
      'waiting',
    );
    i2.close();
    expect(await p3answered).toBe(true);
    for (const c of [p2!, p3, i1]) c.close();
    await tb.close();
  });

  it('connections.max.idle.ms closes an idle connection when the clock says so, not a busy one', async () => {
    // Connections keep real time (the purgatory's clock) so a test moving the broker's MockTime
    // by days keeps its clients; this test drives that clock instead.
    const time = new MockTime();
    const tb = await startTestBroker({ 'connections.max.idle.ms': '1000' }, undefined, {
      purgatoryTime: time,
    });
    const idle = await TestClient.connect(tb.port);
    expect(await healthy(idle)).toBe(true);
    time.advance(900);
    expect(idle.socket.destroyed).toBe(false);
    const active = await TestClient.connect(tb.port);
    time.advance(400); // idle: 1,300 ms since its last request (checked every 250 ms); active: 400 ms
    await idle.waitClosed();
    expect(await healthy(active)).toBe(true);
    time.advance(900); // active answered 900 ms ago: still open
    expect(await healthy(active)).toBe(true);
    active.close();
    await tb.close();
  });
});

describe('many idle connections', () => {
  it('2,000 idle connections: all served, memory per connection measured and bounded', async () => {
    const tb = await startTestBroker();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const clients: TestClient[] = [];
    for (let i = 0; i < 2000; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => TestClient.connect(tb.port)))));
    }
    // Every one of them is a live Kafka connection.
    const answered = await Promise.all(clients.map((c) => healthy(c)));
    expect(answered.every(Boolean)).toBe(true);
    expect(tb.broker.metrics.connections).toBe(2000);
    gc?.();
    const perConnection = (process.memoryUsage().heapUsed - before) / 2000;
    // Both ends live in this process: the figure covers the test's client too (an upper bound).
    console.log(`heap per idle connection (broker + test client): ${(perConnection / 1024).toFixed(1)} KiB`);
    expect(perConnection).toBeLessThan(64 * 1024);
    for (const c of clients) c.close();
    await tb.close();
  }, 120_000);
});
