/**
 * docker/entrypoint.sh run outside Docker: KAFKA_* and CLUSTER_ID variables as Kafka's image
 * takes them must reach the broker, and KBROKER_* must turn on the admin listener and dev mode.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePortRun } from '../test-support/free-port.js';
import { until } from '../test-support/until.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-entrypoint-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function run(env: NodeJS.ProcessEnv, args: string[] = []) {
  const child = spawn('sh', [join(root, 'docker', 'entrypoint.sh'), ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_OPTIONS: '--import tsx',
      KBROKER_ENTRY: join(root, 'src', 'test-support', 'cli-entry.ts'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> => {
    await until(
      () => re.test(out) || child.exitCode !== null,
      timeoutMs,
      () => `${re} in:\n${out}`,
    );
    const m = re.exec(out);
    if (!m) throw new Error(`no ${re} in:\n${out}`);
    return m;
  };
  return { child, exited, waitFor, output: () => out };
}

/** docker/healthcheck.mjs (the image's HEALTHCHECK) with these variables: its exit code. */
function runHealthcheck(env: NodeJS.ProcessEnv): Promise<number | null> {
  const child = spawn(process.execPath, [join(root, 'docker', 'healthcheck.mjs')], {
    env: { PATH: process.env.PATH, ...env },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('docker/entrypoint.sh', () => {
  it('starts the broker with KAFKA_* / CLUSTER_ID settings, admin HTTP and dev mode', async () => {
    const clusterId = 'MkU3OEVBNTcwNTJENDM2Qg';
    const p = run({
      KAFKA_NODE_ID: '7',
      CLUSTER_ID: clusterId,
      KAFKA_LISTENERS: 'PLAINTEXT://127.0.0.1:0',
      KAFKA_LOG_DIRS: dataDir,
      KAFKA_NUM_PARTITIONS: '4',
      KAFKA_HEAP_OPTS: '-Xmx1G', // set by Kafka users; not a broker config, ignored
      KBROKER_HTTP_PORT: '0',
      KBROKER_DEV: 'true',
      KBROKER_LOG_LEVEL: 'warn',
    });
    try {
      const [, port] = await p.waitFor(/kbroker listening on [^\s]+:(\d+) \(node 7, cluster (\S+),/);
      expect(p.output()).toContain(`cluster ${clusterId},`);
      const [, httpPort] = await p.waitFor(/admin HTTP on [^\s]+:(\d+)/);
      expect(p.output()).toMatch(/kbroker dev mode \(group\.initial\.rebalance\.delay\.ms=0 .*\), data in /);
      expect(p.output()).not.toMatch(/"level":"info"/); // KBROKER_LOG_LEVEL=warn

      const ready = await fetch(`http://127.0.0.1:${httpPort}/ready`);
      expect(ready.status).toBe(200);
      const admin = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => b.nodeId)).toEqual([7]);
      expect(cluster.clusterId).toBe(clusterId);
      const producer = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({ topic: 'from-env', messages: [{ value: 'x' }] });
      await producer.disconnect();
      const meta = await admin.fetchTopicMetadata({ topics: ['from-env'] });
      expect(meta.topics[0]!.partitions).toHaveLength(4);
      await admin.disconnect();
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });

  it("KBROKER_THREADS=2: two broker threads, each with its own admin listener, both asked by the image's HEALTHCHECK", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-entrypoint-threads-'));
    // Three free ports in a row: the two admin listeners, and one where nothing answers.
    const http = await freePortRun(3);
    const healthcheck = (threads: number) =>
      runHealthcheck({ KBROKER_HTTP_PORT: String(http), KBROKER_THREADS: String(threads) });
    const p = run({
      KAFKA_LISTENERS: 'PLAINTEXT://127.0.0.1:0',
      KAFKA_LOG_DIRS: dir,
      KBROKER_HTTP_PORT: String(http),
      KBROKER_THREADS: '2',
      KBROKER_LOG_LEVEL: 'warn',
    });
    try {
      await p.waitFor(/kbroker listening on .*\(node 2\) \(cluster \S+, 2 broker threads/, 60_000);
      const [, second] = await p.waitFor(/admin HTTP on [^\s]+:\d+ \(node 1\), [^\s]+:(\d+) \(node 2\)/);
      expect(Number(second)).toBe(http + 1);
      expect((await fetch(`http://127.0.0.1:${second}/ready`)).status).toBe(200);
      expect(await healthcheck(2)).toBe(0);
      expect(await healthcheck(1)).toBe(0);
      expect(await healthcheck(3)).toBe(1); // a third broker that does not answer: unhealthy
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('passes flags through and runs any other command instead of the broker', async () => {
    const echo = run({}, ['sh', '-c', 'echo custom command ran']);
    expect(await echo.exited).toBe(0);
    expect(echo.output()).toBe('custom command ran\n');

    const bad = run({ KAFKA_LOG_DIRS: dataDir, KAFKA_LISTENERS: 'PLAINTEXT://127.0.0.1:0' }, [
      '--log-level',
      'loud',
    ]);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--log-level must be');
  });

  it('refuses to start on a data directory it cannot create', async () => {
    const p = run({ KAFKA_LOG_DIRS: '/proc/kbroker-cannot-write-here' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('is not writable');
  });
});
