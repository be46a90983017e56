import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.js';
import { BrokerConfig } from '../config/broker-config.js';
import { Broker } from '../server/broker.js';
import { scrape, threadCpuSeconds } from './prometheus.js';

/** The metric families (names from `# TYPE` lines) of a Prometheus text. */
function families(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

describe('Node runtime metrics beside the broker', () => {
  let broker: Broker;
  const dir = mkdtempSync(join(tmpdir(), 'kbroker-runtime-metrics-'));
  beforeAll(async () => {
    const config = new BrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir });
    broker = await Broker.start(config, { logger: silentLogger });
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("'all' carries process_* and nodejs_*, 'thread' nodejs_* only, 'none' neither; both name this thread's CPU", async () => {
    const all = families(await scrape(broker));
    const thread = families(await scrape(broker, { runtime: 'thread' }));
    const none = families(await scrape(broker, { runtime: 'none' }));
    for (const f of [all, thread, none])
      expect(f.has('kafka_server_brokertopicmetrics_bytesin_total')).toBe(true);
    expect(all.has('process_cpu_seconds_total')).toBe(true);
    expect(all.has('process_resident_memory_bytes')).toBe(true);
    expect(all.has('nodejs_heap_size_used_bytes')).toBe(true);
    expect([...thread].filter((n) => n.startsWith('process_'))).toEqual([]);
    expect(thread.has('nodejs_heap_size_used_bytes')).toBe(true);
    expect(thread.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect([...none].filter((n) => n.startsWith('process_') || n.startsWith('nodejs_'))).toEqual([]);
    if (process.platform === 'linux') {
      expect(all.has('kbroker_thread_cpu_seconds_total')).toBe(true);
      expect(thread.has('kbroker_thread_cpu_seconds_total')).toBe(true);
      expect(none.has('kbroker_thread_cpu_seconds_total')).toBe(false);
    }
  });

  it.runIf(process.platform === 'linux')(
    "counts the calling thread's CPU, not another thread's: a worker spinning while this thread is blocked",
    async () => {
      const spinMs = 500;
      const done = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(
        `const { workerData } = require('node:worker_threads');
         const end = Date.now() + ${spinMs};
         while (Date.now() < end) {}
         Atomics.store(workerData, 0, 1);
         Atomics.notify(workerData, 0);`,
        { eval: true, workerData: done },
      );
      await new Promise((resolve) => worker.once('online', resolve));
      const thread0 = threadCpuSeconds()!;
      const process0 = process.cpuUsage();
      // Blocked without using the CPU until the worker has spun.
      Atomics.wait(done, 0, 0, 10_000);
      const threadUsed = threadCpuSeconds()! - thread0;
      const { user, system } = process.cpuUsage(process0);
      const processUsed = (user + system) / 1e6;
      await new Promise((resolve) => worker.once('exit', resolve));
      // The worker's spin is the process's CPU (a VM's stolen time aside) but not this thread's.
      expect(processUsed).toBeGreaterThan(0.2);
      expect(threadUsed).toBeLessThan(0.1);
      // And this thread's own work shows: spinning here moves it by 0.1 s of CPU (within 10 s of
      // wall time: on a loaded VM the thread may get a fraction of a core).
      const before = threadCpuSeconds()!;
      const deadline = Date.now() + 10_000;
      while (threadCpuSeconds()! - before < 0.1 && Date.now() < deadline) {}
      expect(threadCpuSeconds()! - before).toBeGreaterThanOrEqual(0.1);
    },
  );
});
