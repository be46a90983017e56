/**
 * `kbroker start --brokers 3` as a separate process: three brokers on consecutive ports, one
 * cluster id, Metadata/DescribeCluster listing all three; a topic of replication factor 3 created
 * with kafkajs has its replicas on every broker and its leaders spread; SIGTERM stops them all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStartArgs } from './cli.js';
import { freePortRun } from './test-support/free-port.js';
import { type BrokerProcess, spawnBroker } from './test-support/process.js';

const dirs: string[] = [];
let proc: BrokerProcess | undefined;

afterAll(() => {
  proc?.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('kbroker start --brokers N', () => {
  it('refuses a broker count that is not a positive number', () => {
    expect(parseStartArgs(['--brokers', '3'], {}).brokers).toBe(3);
    expect(parseStartArgs([], {}).brokers).toBe(1);
    expect(() => parseStartArgs(['--brokers', '0'], {})).toThrow(/--brokers/);
    expect(() => parseStartArgs(['--brokers', 'x'], {})).toThrow(/--brokers/);
    // Each broker gets one PLAINTEXT listener: other configured listeners would be dropped.
    const twoListeners = [
      '--override',
      'listeners=PLAINTEXT://:9092,EXTRA://:9093',
      '--override',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTRA:PLAINTEXT',
    ];
    expect(() => parseStartArgs(['--brokers', '2', ...twoListeners], {})).toThrow(/--threads/);
    expect(parseStartArgs(['--threads', '2', ...twoListeners], {}).threads).toBe(2);
  });

  it('runs three brokers on ports P..P+2 that kafkajs sees as one cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-cli-cluster-'));
    dirs.push(dir);
    const port = await freePortRun(3);
    proc = await spawnBroker(['start', '--brokers', '3', '--port', String(port), '--data-dir', dir]);
    expect(proc.port).toBe(port);
    const kafka = new Kafka({
      clientId: 'cli-cluster',
      brokers: [`127.0.0.1:${port + 2}`],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => [b.nodeId, b.port]).sort()).toEqual([
        [1, port],
        [2, port + 1],
        [3, port + 2],
      ]);
      await admin.createTopics({
        topics: [{ topic: 'rf3', numPartitions: 3, replicationFactor: 3 }],
        waitForLeaders: true,
      });
      const md = await admin.fetchTopicMetadata({ topics: ['rf3'] });
      const partitions = md.topics[0]!.partitions;
      for (const p of partitions) expect([...p.replicas].sort()).toEqual([1, 2, 3]);
      expect(new Set(partitions.map((p) => p.leader)).size).toBe(3);
    } finally {
      await admin.disconnect();
    }
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    proc = undefined;
  });
});
