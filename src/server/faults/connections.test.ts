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

  it('max.connections: the broker-wide limit', async () => {
    const tb = await startTestBroker({ 'max.connections': '2' });
    const a = await TestClient.connect(tb.port);
    const b = await TestClient.connect(tb.port);
    expect(await healthy(a)).toBe(true);
    expect(await healthy(b)).toBe(true);
    const c = await TestClient.connect(tb.port);
    await c.waitClosed();
    expect(tb.broker.metrics.connections).toBe(2);
    a.close();
    b.close();
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
