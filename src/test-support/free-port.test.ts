import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralLow, freePortRun } from './free-port.js';

const listen = (port: number) =>
  new Promise<() => Promise<void>>((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(port, '127.0.0.1', () => resolve(() => new Promise((done) => s.close(() => done()))));
  });

describe('freePortRun', () => {
  it('gives a run of ports that can all be bound, below the range the kernel hands out for port 0', async () => {
    const low = ephemeralLow();
    for (let i = 0; i < 5; i++) {
      const base = await freePortRun(3);
      expect(base + 3).toBeLessThanOrEqual(low);
      const closers = await Promise.all([0, 1, 2].map((k) => listen(base + k)));
      await Promise.all(closers.map((close) => close()));
    }
  });
});
