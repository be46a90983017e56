/**
 * `kbroker start --threads 2` as a separate process: two brokers on consecutive ports, each on its
 * own thread, seen by kafkajs as one cluster; a topic's partitions led by both; what is produced
 * with acks=all and committed by a group is all there after SIGTERM (exit 0) and a restart on the
 * same data directory, with the same cluster id; and after a SIGKILL under an acks=all load, every
 * acknowledged record is there once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStartArgs } from '../cli.js';
import { statCpuSeconds } from '../common/proc-stat.js';
import { freePortRun } from '../test-support/free-port.js';
import { type BrokerProcess, spawnBroker, threadsArgs } from '../test-support/process.js';
import { until } from '../test-support/until.js';
import { shiftPorts, ThreadCluster } from './thread-cluster.js';

const dirs: string[] = [];
let proc: BrokerProcess | undefined;

afterAll(() => {
  proc?.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function stop(p: BrokerProcess): Promise<void> {
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  proc = undefined;
}

describe('kbroker start --threads N', () => {
  it('takes a thread count, not with --brokers or --etcd', () => {
    expect(parseStartArgs(['--threads', '4'], {}).threads).toBe(4);
    expect(parseStartArgs([], {}).threads).toBe(1);
    expect(() => parseStartArgs(['--threads', '0'], {})).toThrow(/--threads/);
    expect(() => parseStartArgs(['--threads', '2', '--brokers', '2'], {})).toThrow(/--threads/);
    expect(() => parseStartArgs(['--threads', '2', '--etcd', '127.0.0.1:2379'], {})).toThrow(/--threads/);
    // An admin HTTP listener per broker thread, broker N's on the port + N − 1.
    expect(parseStartArgs(['--threads', '2', '--http-port', '8080'], {}).httpPort).toBe(8080);
  });

  it("gives broker N the first one's listeners and advertised.listeners, each port moved by (N − 1) × their number", () => {
    expect(shiftPorts('PLAINTEXT://kafka.example:9092', 2)).toBe('PLAINTEXT://kafka.example:9094');
    expect(shiftPorts('PLAINTEXT://[::1]:9092, SSL://h:9093', 2)).toBe(
      'PLAINTEXT://[::1]:9094, SSL://h:9095',
    );
    expect(shiftPorts('PLAINTEXT://:0', 3)).toBe('PLAINTEXT://:0');
  });

  it('runs two broker threads kafkajs sees as one cluster; what was acknowledged survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-threads-'));
    dirs.push(dir);
    const port = await freePortRun(2);
    const httpPort = await freePortRun(2);
    const args = threadsArgs(2, port, dir, '--http-port', String(httpPort));
    args.push('--override', 'group.initial.rebalance.delay.ms=0');
    // Broker 2 advertises port + 1: were the first broker's advertised.listeners given to both, the
    // cluster below would list one port twice.
    args.push('--override', `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`);
    proc = await spawnBroker(args, {}, 60_000);
    expect(proc.port).toBe(port);
    const firstOutput = proc.output();
    expect(firstOutput).toMatch(/2 broker threads/);
    // Each broker thread's own admin listener: broker 2's on httpPort + 1.
    expect(firstOutput).toContain(
      `admin HTTP on 127.0.0.1:${httpPort} (node 1), 127.0.0.1:${httpPort + 1} (node 2)`,
    );
    const ready = await fetch(`http://127.0.0.1:${httpPort + 1}/ready`);
    expect(ready.status).toBe(200);
    // The process's figures on broker 1 only (a sum over the brokers counts the process once); each
    // broker its own thread's CPU, which is less than the whole process's.
    const metrics = async (p: number) => {
      const text = await (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
      const value = (name: string) => {
        const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
        return m ? Number(m[1]) : undefined;
      };
      return {
        thread: value('kbroker_thread_cpu_seconds_total'),
        process: value('process_cpu_seconds_total'),
        heap: value('nodejs_heap_size_used_bytes'),
      };
    };
    const second = await metrics(httpPort + 1);
    const first = await metrics(httpPort);
    expect(second.process).toBeUndefined();
    expect(second.heap).toBeGreaterThan(0);
    expect(second.thread).toBeGreaterThan(0);
    expect(first.thread).toBeGreaterThan(0);
    expect(first.process).toBeGreaterThan(0);
    const processCpu = statCpuSeconds(`/proc/${proc.child.pid}/stat`);
    expect(processCpu).toBeGreaterThan(first.thread! + second.thread!);
    const clusterApi = (await (await fetch(`http://127.0.0.1:${httpPort + 1}/api/cluster`)).json()) as {
      brokers: unknown[];
    };
    expect(clusterApi.brokers).toHaveLength(2);
    const kafka = new Kafka({
      clientId: 'threads',
      brokers: [`127.0.0.1:${port + 1}`],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => [b.nodeId, b.port]).sort()).toEqual([
      [1, port],
      [2, port + 1],
    ]);
    await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 4 }], waitForLeaders: true });
    const md = await admin.fetchTopicMetadata({ topics: ['spread'] });
    expect(new Set(md.topics[0]!.partitions.map((p) => p.leader))).toEqual(new Set([1, 2]));
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: 40 }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: i % 4,
    }));
    await producer.send({ topic: 'spread', acks: -1, messages });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'threads-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'spread', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen.push(message.value!.toString());
          await consumer.commitOffsets([
            { topic: 'spread', partition, offset: String(Number(message.offset) + 1) },
          ]);
          if (seen.length === 40) resolve();
        },
      });
    });
    await consumer.disconnect();
    await admin.disconnect();
    expect(seen.sort()).toEqual(messages.map((m) => m.value).sort());
    const clusterId = /cluster ([^,\s]+)/.exec(firstOutput)![1];
    await stop(proc);

    proc = await spawnBroker(args, {}, 60_000);
    expect(/cluster ([^,\s]+)/.exec(proc.output())![1]).toBe(clusterId);
    const again = new Kafka({
      clientId: 'threads-2',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    });
    const admin2 = again.admin();
    await admin2.connect();
    try {
      const offsets = await admin2.fetchTopicOffsets('spread');
      expect(offsets.map((o) => [o.partition, o.high]).sort()).toEqual([
        [0, '10'],
        [1, '10'],
        [2, '10'],
        [3, '10'],
      ]);
      const [committed] = await admin2.fetchOffsets({ groupId: 'threads-group', topics: ['spread'] });
      expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
        [0, '10'],
        [1, '10'],
        [2, '10'],
        [3, '10'],
      ]);
    } finally {
      await admin2.disconnect();
    }
    await stop(proc);
  }, 120_000);
});

describe('ThreadCluster.start when a broker thread cannot start', () => {
  /** Holds 127.0.0.1:port as another program would. */
  const occupy = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer().once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve(s));
    });

  // The threads after the first are spawned with it and wait for its start: a first one that fails must
  // end them too (start() would never settle, or leave threads behind, otherwise); a later one that fails
  // fails the start as well.
  for (const failing of [1, 2])
    it(`rejects, every thread ended, when broker ${failing}'s port is taken`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kbroker-threads-fail-'));
      dirs.push(dir);
      const port = await freePortRun(3);
      const taken = await occupy(port + failing - 1);
      try {
        await expect(
          ThreadCluster.start({
            threads: 3,
            config: {},
            dataDir: dir,
            listeners: `PLAINTEXT://127.0.0.1:${port}`,
            logLevel: 'silent',
          }),
        ).rejects.toThrow(new RegExp(`broker thread ${failing} failed to start`));
        // Nothing listens on the other brokers' ports any more.
        for (const p of [port, port + 1, port + 2].filter((p) => p !== port + failing - 1)) {
          const s = await occupy(p);
          await new Promise((r) => s.close(r));
        }
      } finally {
        await new Promise((r) => taken.close(r));
      }
    }, 60_000);
});

describe('kbroker start --threads 2 killed with SIGKILL', () => {
  it('keeps every record acknowledged with acks=all, once each, on both brokers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-threads-kill-'));
    dirs.push(dir);
    const port = await freePortRun(2);
    const args = threadsArgs(2, port, dir, '--log-level', 'warn');
    proc = await spawnBroker(args, {}, 60_000);
    const kafka = new Kafka({
      clientId: 'threads-kill',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kill', numPartitions: 4 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: string[] = [];
    let sending = true;
    const load = (async () => {
      for (let i = 0; sending; i++) {
        const messages = Array.from({ length: 4 }, (_, p) => ({ partition: p, value: `r${i}-${p}` }));
        try {
          await producer.send({ topic: 'kill', acks: -1, messages });
          acked.push(...messages.map((m) => m.value));
        } catch {
          return; // the broker is gone: what was not acknowledged may or may not be there
        }
      }
    })();
    await until(() => acked.length >= 2_000, 30_000, '2,000 records acknowledged');
    proc.child.kill('SIGKILL');
    await proc.exited;
    sending = false;
    await load;
    await producer.disconnect().catch(() => {});

    proc = await spawnBroker(args, {}, 60_000);
    const again = new Kafka({
      clientId: 'threads-kill-2',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    });
    const consumer = again.consumer({ groupId: 'threads-kill-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kill', fromBeginning: true });
    const seen = new Map<string, number>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        const v = message.value!.toString();
        seen.set(v, (seen.get(v) ?? 0) + 1);
      },
    });
    await until(() => acked.every((v) => seen.has(v)), 30_000, 'every acknowledged record read back');
    await consumer.disconnect();
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    await stop(proc);
  }, 120_000);
});
