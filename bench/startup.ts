/**
 * Start-up benchmark: how fast kbroker is ready, beside a bare Node process measured in the same run.
 *
 *   launch → accepting   `node bin/kbroker.js start` spawned until a TCP connect succeeds, vs a
 *                        `node -e` script that only listens on a port (median of RUNS)
 *   startBroker()        in-process start until the promise resolves (first call, then median of
 *                        warm calls), vs `net.createServer().listen(0)` in the same process
 *   idle RSS             resident memory of the spawned broker 1 s after start, vs the bare listener
 *   JoinGroup → record   a lone kafkajs consumer: its first JoinGroup sent → its first record
 *                        delivered, dev mode vs Kafka's defaults (group.initial.rebalance.delay.ms=3000)
 *
 * Needs `npm run build` (bin/kbroker.js runs dist/). Run: `tsx bench/startup.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../src/index.js';
import { BROKER_NODE_FLAGS } from '../src/node-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);

export interface StartupRow {
  metric: string;
  kbroker: number;
  baseline: number;
  unit: string;
  baselineName: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Spawns, waits for "listening on HOST:PORT" and a successful connect; returns ms and the child. */
async function launch(args: string[]): Promise<{ ms: number; child: ChildProcess; port: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  while (!(await connects(port))) await new Promise((r) => setTimeout(r, 1));
  return { ms: performance.now() - started, child, port };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

const BARE_LISTENER = `require('node:net').createServer().listen(0, '127.0.0.1', function () { console.log('listening on 127.0.0.1:' + this.address().port); });`;

async function launchRows(): Promise<StartupRow[]> {
  const kb: number[] = [];
  const bare: number[] = [];
  let kbRss = 0;
  let bareRss = 0;
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-bench-start-'));
    try {
      const k = await launch([
        ...BROKER_NODE_FLAGS,
        join(root, 'bin', 'kbroker.js'),
        'start',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data-dir',
        dir,
        '--log-level',
        'warn',
      ]);
      kb.push(k.ms);
      const b = await launch(['-e', BARE_LISTENER]);
      bare.push(b.ms);
      if (i === RUNS - 1) {
        await new Promise((r) => setTimeout(r, 1000));
        kbRss = rssBytes(k.child.pid!);
        bareRss = rssBytes(b.child.pid!);
      }
      await Promise.all([stop(k.child), stop(b.child)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [
    {
      metric: 'launch → accepting',
      kbroker: median(kb),
      baseline: median(bare),
      unit: 'ms',
      baselineName: 'node -e listen',
    },
    {
      metric: 'idle RSS',
      kbroker: kbRss / 2 ** 20,
      baseline: bareRss / 2 ** 20,
      unit: 'MiB',
      baselineName: 'node -e listen',
    },
  ];
}

async function inProcessRows(): Promise<StartupRow[]> {
  const listenOnce = async () => {
    const t = performance.now();
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const ms = performance.now() - t;
    await new Promise((r) => s.close(r));
    return ms;
  };
  const timeStart = async () => {
    const t = performance.now();
    const k = await startBroker();
    const ms = performance.now() - t;
    await k.close();
    return ms;
  };
  const first = await timeStart();
  const firstListen = await listenOnce();
  const warm: number[] = [];
  const warmListen: number[] = [];
  for (let i = 0; i < RUNS * 4; i++) {
    warm.push(await timeStart());
    warmListen.push(await listenOnce());
  }
  const k = await startBroker();
  for (let i = 0; i < 10; i++) await k.createTopic(`t${i}`, { partitions: 3 });
  const t = performance.now();
  await k.reset();
  const resetMs = performance.now() - t;
  await k.close();
  return [
    {
      metric: 'startBroker() first',
      kbroker: first,
      baseline: firstListen,
      unit: 'ms',
      baselineName: 'net listen(0)',
    },
    {
      metric: 'startBroker() warm',
      kbroker: median(warm),
      baseline: median(warmListen),
      unit: 'ms',
      baselineName: 'net listen(0)',
    },
    {
      metric: 'reset() 10 topics x 3',
      kbroker: resetMs,
      baseline: median(warmListen),
      unit: 'ms',
      baselineName: 'net listen(0)',
    },
  ];
}

/** First JoinGroup sent → first record handed to eachMessage, for a lone consumer. */
async function joinToFirstRecord(dev: boolean): Promise<number> {
  const k = await startBroker({ dev });
  const kafka = new Kafka({ brokers: k.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `bench-${dev}`, sessionTimeout: 10_000 });
  try {
    await k.createTopic('bench', { partitions: 1 });
    await producer.connect();
    await producer.send({ topic: 'bench', messages: [{ value: 'hello' }] });
    let joinSentAt = 0;
    consumer.on(consumer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'JoinGroup' && joinSentAt === 0) joinSentAt = e.payload.sentAt;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'bench', fromBeginning: true });
    const firstRecordAt = await new Promise<number>((resolve) => {
      consumer.run({ eachMessage: async () => resolve(Date.now()) });
    });
    return firstRecordAt - joinSentAt;
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await k.close();
  }
}

export async function run(): Promise<StartupRow[]> {
  const rows = [...(await launchRows()), ...(await inProcessRows())];
  const dev = await joinToFirstRecord(true);
  const kafkaDefaults = await joinToFirstRecord(false);
  rows.push({
    metric: 'JoinGroup → 1st record',
    kbroker: dev,
    baseline: kafkaDefaults,
    unit: 'ms',
    baselineName: 'kbroker, Kafka defaults',
  });
  return rows;
}

export function printStartupRows(rows: StartupRow[]): void {
  console.log(`\nstart-up (${RUNS} launches, median; in-process warm: median of ${RUNS * 4})`);
  console.log(
    `${'metric'.padEnd(24)}${'kbroker'.padStart(10)}${'baseline'.padStart(10)}  unit  ratio   baseline is`,
  );
  for (const r of rows) {
    const f = (n: number) => n.toFixed(n < 10 ? 2 : 0).padStart(10);
    console.log(
      `${r.metric.padEnd(24)}${f(r.kbroker)}${f(r.baseline)}  ${r.unit.padEnd(4)}  ${`${(r.kbroker / r.baseline).toFixed(2)}x`.padEnd(6)}  ${r.baselineName}`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  printStartupRows(await run());
}
