/**
 * Produce and fetch throughput (MB/s, records/s) and produce latency (p50/p99) through a kbroker
 * process, each beside a baseline measured in the same run: the same request bytes through a
 * bare loopback server process answering with responses of the same size. Prints ratios. The
 * "produce (page cache)" row's baseline is that server also appending what it reads to a file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER_NODE_FLAGS } from '../src/node-flags.js';
import { FetchRequest, ProduceRequest } from '../src/protocol/generated/messages.js';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { fetchV11Body, metadataAutoCreateFrame, produceV7Body, requestFrame } from './frames.js';
import { PipelineClient, percentile } from './pipeline-client.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function startProcess(
  cmd: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, cmd, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${cmd.join(' ')} exited ${code}`)));
  });
}

export interface Row {
  metric: string;
  kbroker: number;
  baseline: number;
  unit: string;
  /** true when bigger is better (throughput), false for latency */
  higherIsBetter: boolean;
}

export async function run(
  opts: { records?: number; recordBytes?: number; batchRecords?: number } = {},
): Promise<Row[]> {
  const recordBytes = opts.recordBytes ?? 100;
  const batchRecords = opts.batchRecords ?? 100;
  const totalRecords = opts.records ?? 1_000_000;
  const requests = Math.ceil(totalRecords / batchRecords);
  const value = Buffer.alloc(recordBytes, 'x');
  const batch = buildRecordBatch({
    records: Array.from({ length: batchRecords }, () => ({ key: null, value })),
  });
  const produceFrame = (i: number) =>
    requestFrame(ProduceRequest, 7, produceV7Body('bench', 0, Buffer.from(batch), 1), i);
  const frames = Array.from({ length: requests }, (_, i) => produceFrame(i));
  // Both servers get the same unmeasured warm-up first (into a topic of its own, so the fetch phase
  // reads only the measured data): without it a 1 M-record run (~0.4 s) times the broker's JIT
  // warming up against a loopback server whose few lines are optimised in the first milliseconds.
  const warmupRequests = Number(process.env.BENCH_WARMUP ?? 2000);
  const warmupFrame = (i: number) =>
    requestFrame(ProduceRequest, 7, produceV7Body('warmup', 0, Buffer.from(batch), 1), i);
  const warmupFrames = Array.from({ length: warmupRequests }, (_, i) => warmupFrame(i));
  const warmUp = (c: PipelineClient) =>
    warmupRequests > 0 ? c.run(warmupRequests, 8, (i) => warmupFrames[i]!) : Promise.resolve([]);
  const payloadBytes = batch.length * requests;

  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-bench-'));
  const broker = await startProcess([
    ...BROKER_NODE_FLAGS,
    ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
    // BENCH_BROKER: another build's bin/kbroker.js, to compare two builds in alternating rounds.
    process.env.BENCH_BROKER ?? join(root, 'bin', 'kbroker.js'),
    'start',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
  ]);
  const rows: Row[] = [];
  try {
    // --- produce throughput (8 in flight) and latency (1 in flight), kbroker
    const kc = await PipelineClient.connect(broker.port);
    for (const topic of ['bench', 'warmup']) await kc.send(metadataAutoCreateFrame(topic));
    await kc.send(produceFrame(-1));
    await kc.send(warmupFrame(-1));
    await warmUp(kc);
    let produceReply = 0;
    let t0 = performance.now();
    await kc.run(
      requests,
      8,
      (i) => frames[i]!,
      (f) => (produceReply = f.length),
    );
    const produceSecs = (performance.now() - t0) / 1000;
    const latency = await kc.run(2000, 1, (i) => frames[i % requests]!);

    // --- fetch throughput: read everything back, 1 MiB per request
    const fetchFrame = (offset: number, i: number) =>
      requestFrame(FetchRequest, 11, fetchV11Body('bench', [{ partition: 0, offset }]), i);
    let fetched = 0;
    let fetchRequests = 0;
    let offset = 0;
    const total = requests * batchRecords + 2000 * batchRecords + batchRecords;
    t0 = performance.now();
    while (offset < total) {
      const reply = await kc.send(fetchFrame(offset, fetchRequests++));
      fetched += reply.length;
      // Batches are whole and all the same size here (response overhead < one batch): count by bytes.
      const batches = Math.round(reply.length / batch.length);
      if (batches === 0) throw new Error(`fetch at ${offset} returned no batch`);
      offset += batches * batchRecords;
    }
    const fetchSecs = (performance.now() - t0) / 1000;
    kc.close();

    // --- baseline: the same bytes through a bare loopback server answering with same-size replies
    const loopback = async (replyBytes: number, ...more: string[]) => {
      const server = await startProcess([
        '--import',
        'tsx',
        join(root, 'bench', 'loopback-server.ts'),
        '--reply-bytes',
        String(replyBytes),
        ...more,
      ]);
      const client = await PipelineClient.connect(server.port);
      const close = () => {
        client.close();
        server.child.kill();
      };
      return { client, close };
    };
    /** The measured produce frames through a loopback server, after the same warm-up: seconds. */
    const loopbackProduce = async (...more: string[]) => {
      const lb = await loopback(produceReply, ...more);
      await warmUp(lb.client);
      const t = performance.now();
      await lb.client.run(requests, Number(process.env.BENCH_WINDOW ?? 8), (i) => frames[i]!);
      return { lb, secs: (performance.now() - t) / 1000 };
    };
    const plain = await loopbackProduce();
    const baseProduceSecs = plain.secs;
    const baseLatency = await plain.lb.client.run(2000, 1, (i) => frames[i % requests]!);
    plain.lb.close();
    // The same, with the loopback server also writing what it reads into a file: the page-cache copy
    // every broker that keeps the bytes pays (on some VMs a large share of the broker's CPU), apart.
    const written = await loopbackProduce('--write-file', join(dataDir, 'loopback-server.log'));
    written.lb.close();
    const pageCacheProduceSecs = written.secs;
    const lbFetch = await loopback(Math.round(fetched / fetchRequests));
    t0 = performance.now();
    for (let i = 0; i < fetchRequests; i++) await lbFetch.client.send(fetchFrame(0, i));
    const baseFetchSecs = (performance.now() - t0) / 1000;
    lbFetch.close();

    const mb = payloadBytes / 1e6;
    rows.push(
      {
        metric: 'produce throughput',
        kbroker: mb / produceSecs,
        baseline: mb / baseProduceSecs,
        unit: 'MB/s',
        higherIsBetter: true,
      },
      {
        metric: 'produce (page cache)',
        kbroker: mb / produceSecs,
        baseline: mb / pageCacheProduceSecs,
        unit: 'MB/s',
        higherIsBetter: true,
      },
      {
        metric: 'produce records',
        kbroker: totalRecords / produceSecs,
        baseline: totalRecords / baseProduceSecs,
        unit: 'records/s',
        higherIsBetter: true,
      },
      {
        metric: 'produce latency p50',
        kbroker: percentile(latency, 50),
        baseline: percentile(baseLatency, 50),
        unit: 'ms',
        higherIsBetter: false,
      },
      {
        metric: 'produce latency p99',
        kbroker: percentile(latency, 99),
        baseline: percentile(baseLatency, 99),
        unit: 'ms',
        higherIsBetter: false,
      },
      {
        metric: 'fetch throughput',
        kbroker: fetched / 1e6 / fetchSecs,
        baseline: fetched / 1e6 / baseFetchSecs,
        unit: 'MB/s',
        higherIsBetter: true,
      },
      {
        metric: 'fetch records',
        kbroker: offset / fetchSecs,
        baseline: offset / baseFetchSecs,
        unit: 'records/s',
        higherIsBetter: true,
      },
    );
  } finally {
    const exited = new Promise((r) => broker.child.once('exit', r));
    broker.child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

export function printRows(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log(
    `${'metric'.padEnd(24)}${'kbroker'.padStart(14)}${'baseline'.padStart(14)}  unit        ratio (kbroker/baseline)`,
  );
  for (const r of rows) {
    const ratio = r.kbroker / r.baseline;
    console.log(
      `${r.metric.padEnd(24)}${r.kbroker.toFixed(r.kbroker < 10 ? 3 : 0).padStart(14)}${r.baseline.toFixed(r.baseline < 10 ? 3 : 0).padStart(14)}  ${r.unit.padEnd(10)}  ${ratio.toFixed(2)}x`,
    );
  }
}
