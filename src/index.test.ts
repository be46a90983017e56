import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, startBroker } from './index.js';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('startBroker', () => {
  it('starts on an ephemeral port with a temporary data dir it removes on close', async () => {
    const k = await startBroker();
    expect(k.port).toBeGreaterThan(0);
    expect(k.brokers).toEqual([`127.0.0.1:${k.port}`]);
    expect(existsSync(k.dataDir)).toBe(true);
    expect(await accepts(k.port)).toBe(true);
    await k.close();
    expect(existsSync(k.dataDir)).toBe(false);
    expect(await accepts(k.port)).toBe(false);
    await k.close(); // idempotent
  });

  it('takes Kafka config names at the top level and under config, and dev-mode defaults', async () => {
    const k = await startBroker({ 'num.partitions': 3, config: { 'log.segment.bytes': 1_000_000 } });
    try {
      expect(k.broker.config.int('num.partitions')).toBe(3);
      expect(k.broker.config.int('log.segment.bytes')).toBe(1_000_000);
      expect(k.broker.config.int('group.initial.rebalance.delay.ms')).toBe(0);
      expect(k.broker.config.int('group.min.session.timeout.ms')).toBe(1000);
      expect((await k.createTopic('t')).partitions).toHaveLength(3);
    } finally {
      await k.close();
    }
    const prod = await startBroker({ dev: false, 'group.min.session.timeout.ms': 2000 });
    try {
      expect(prod.broker.config.int('group.initial.rebalance.delay.ms')).toBe(3000);
      expect(prod.broker.config.int('group.min.session.timeout.ms')).toBe(2000);
    } finally {
      await prod.close();
    }
  });

  it('rejects unknown config names and leaves nothing behind', async () => {
    const before = new Set(listTemp());
    await expect(startBroker({ 'no.such.config': 1 })).rejects.toThrow(ConfigError);
    expect(listTemp().filter((d) => !before.has(d))).toEqual([]);
  });

  it('createTopic validates names and topic configs and refuses duplicates', async () => {
    const k = await startBroker();
    try {
      const t = await k.createTopic('orders', { partitions: 2, configs: { 'cleanup.policy': 'compact' } });
      expect(t.partitions).toHaveLength(2);
      expect(t.configs['cleanup.policy']).toBe('compact');
      expect(k.broker.replicaManager.topicConfig('orders')!['cleanup.policy']).toBe('compact');
      await expect(k.createTopic('orders')).rejects.toThrow(/exists/);
      await expect(k.createTopic('bad name')).rejects.toThrow();
      await expect(k.createTopic('x', { configs: { 'retention.bytez': 1 } })).rejects.toThrow(ConfigError);
      expect(k.topics()).toEqual(['orders']);
    } finally {
      await k.close();
    }
  });

  it('reset() drops every topic and its files in milliseconds, and names can be reused', async () => {
    const k = await startBroker();
    try {
      // A test file's worth of topics; (20 topics x 4 partitions take ~200 ms, see the bench).
      for (let i = 0; i < 5; i++) await k.createTopic(`t${i}`, { partitions: 3 });
      const started = performance.now();
      const deleted = await k.reset();
      const ms = performance.now() - started;
      expect(deleted.sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
      expect(k.topics()).toEqual([]);
      expect(ms).toBeLessThan(1000); // ~10 ms alone; fsyncs of the storage layer dominate under load
      expect(existsSync(join(k.dataDir, 't0-0'))).toBe(false);
      await k.createTopic('t0', { partitions: 1 });
      expect(k.broker.replicaManager.getPartition('t0', 0)!.logEndOffset).toBe(0);
    } finally {
      await k.close();
    }
  });

  it('reset() runs the hooks components register (groups, transactions) before dropping topics', async () => {
    const k = await startBroker();
    try {
      const order: string[] = [];
      await k.createTopic('a');
      const off = k.broker.onReset(async () => {
        order.push(`hook saw ${k.topics().length} topic(s)`);
      });
      await k.reset();
      off();
      await k.reset();
      expect(order).toEqual(['hook saw 1 topic(s)']);
    } finally {
      await k.close();
    }
  });

  it('runs many brokers side by side in one process', async () => {
    const all = await Promise.all(Array.from({ length: 4 }, () => startBroker()));
    try {
      expect(new Set(all.map((k) => k.port)).size).toBe(4);
      expect(new Set(all.map((k) => k.dataDir)).size).toBe(4);
      await all[0]!.createTopic('only-here');
      expect(all[0]!.topics()).toEqual(['only-here']);
      for (const k of all.slice(1)) expect(k.topics()).toEqual([]);
      for (const k of all) expect(await accepts(k.port)).toBe(true);
    } finally {
      await Promise.all(all.map((k) => k.close()));
    }
  });

  it('keeps a given data dir, and a broker started on it again recovers its topics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-keep-'));
    try {
      const first = await startBroker({ dataDir: dir });
      await first.createTopic('kept', { partitions: 2 });
      await first.close();
      expect(existsSync(dir)).toBe(true);
      const second = await startBroker({ dataDir: dir });
      try {
        expect(second.topics()).toEqual(['kept']);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('supports await using', async () => {
    let port = 0;
    {
      await using k = await startBroker();
      port = k.port;
      expect(await accepts(port)).toBe(true);
    }
    expect(await accepts(port)).toBe(false);
  });
});

/** Temporary dirs startBroker makes (kbroker-XXXXXX: a random 6-character suffix). */
function listTemp(): string[] {
  return readdirSync(tmpdir()).filter((d) => /^kbroker-[A-Za-z0-9]{6}$/.test(d));
}
