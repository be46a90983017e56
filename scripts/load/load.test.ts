/**
 * The short version of `npm run load`: 500 idle connections, 50 active producers/consumers for
 * 5 s, max.connections, slow readers; and connections.max.idle.ms closing the idle ones on the
 * broker's clock while the active ones stay.
 */
import { describe, expect, it } from 'vitest';
import { MockTime } from '../../src/common/time.js';
import { startTestBroker } from '../../src/test-support/broker.js';
import { TestClient } from '../../src/test-support/client.js';
import { runLoad } from './load.js';
import { checkLoad } from './run.js';

describe('load (short)', () => {
  it('500 idle + 50 active connections: no request starved, max.connections exact, slow readers held back', async () => {
    const r = await runLoad({
      idle: 500,
      producers: 25,
      consumers: 25,
      seconds: 5,
      produceRate: 5,
      slowReaders: 4,
      spare: 10,
      extra: 20,
      partitions: 10,
    });
    console.log(
      `idle: ${(r.idle.heapPerConnection / 1024).toFixed(2)} KiB heap per connection; produce max ${r.active.produce.maxMs.toFixed(0)} ms; ` +
        `fetch max ${r.active.fetch.maxMs.toFixed(0)} ms; slow readers RSS +${((r.slowReaders.rssAfter - r.slowReaders.rssBefore) / 1048576).toFixed(0)} MiB`,
    );
    expect(checkLoad(r, { spare: 10, boundMs: 5000, fetchWaitMs: 500 })).toEqual([]);
    expect(r.maxConnections).toMatchObject({ tried: 30, served: 10, closed: 0, servedAfterClose: 10 });
    expect(r.active.fetchedRecords).toBeGreaterThan(0);
    expect(r.idle.heapPerConnection).toBeLessThan(32 * 1024);
  }, 120_000);

  it('connections.max.idle.ms closes the 500 idle connections when the broker clock says so; the 50 active stay', async () => {
    const time = new MockTime();
    const tb = await startTestBroker({ 'connections.max.idle.ms': '60000' }, undefined, {
      purgatoryTime: time,
    });
    const ping = async (c: TestClient) =>
      (await c.request<{ errorCode: number }>(18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }))
        .errorCode;
    try {
      const open = (n: number) => Promise.all(Array.from({ length: n }, () => TestClient.connect(tb.port)));
      const idle = [...(await open(250)), ...(await open(250))];
      const active = await open(50);
      for (const c of [...idle, ...active]) expect(await ping(c)).toBe(0);
      expect(tb.broker.metrics.connections).toBe(550);
      // A minute in 10 s steps: the active ones send a request each step, the idle ones nothing.
      for (let s = 0; s < 7; s++) {
        time.advance(10_000);
        for (const c of active) expect(await ping(c)).toBe(0);
      }
      await Promise.all(idle.map((c) => c.waitClosed(10_000)));
      expect(active.every((c) => !c.socket.destroyed)).toBe(true);
      expect(tb.broker.metrics.connections).toBe(50);
      for (const c of active) c.close();
    } finally {
      await tb.close();
    }
  }, 60_000);
});
