/**
 * Multi-core scaling bench: several pipelined connections producing (then fetching) across several
 * partitions of one topic against a kbroker process pinned with `taskset`. Reports MB/s, the
 * broker's CPU seconds (utime+stime from /proc, all its threads) per GB, the load generator's own
 * CPU seconds, and the load average, so a figure on a shared machine can be read for what it is.
 *
 *   tsx bench/cores.ts [--cpus 0|0,1] [--partitions 6] [--connections 6] [--records 1000000]
 *                      [--record-bytes 100] [--batch-records 100] [--window 8]
 *                      [--override key=value]... [--prof DIR] [--no-fetch]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BROKER_NODE_FLAGS } from '../src/node-flags.js';
import { CreateTopicsRequest, FetchRequest, ProduceRequest } from '../src/protocol/generated/messages.js';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { fetchV11Body, produceV7Body, requestFrame } from './frames.js';
import { PipelineClient } from './pipeline-client.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** CPU seconds (user+system) from a /proc stat file (utime and stime are fields 14 and 15). */
function statSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of a process, all its threads. */
function cpuSeconds(pid: number): number {
  return statSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds of each thread of a process, summed by thread name (libuv's pool, V8's GC helpers...). */
function threadSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name =
        tid === String(pid) ? 'event loop' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(name, (out.get(name) ?? 0) + statSeconds(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU seconds of the process's main thread only (the event loop: its thread id is the pid). */
function mainThreadSeconds(pid: number): number {
  return statSeconds(`/proc/${pid}/task/${pid}/stat`);
}

async function startBroker(
  cpus: string | undefined,
  dataDir: string,
  overrides: string[],
  prof: string | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  const node = [
    ...BROKER_NODE_FLAGS,
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
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
    ...overrides.flatMap((o) => ['--override', o]),
  ];
  // BENCH_WRAP: a command the broker runs under (e.g. `strace -f -c -o FILE`) for syscall counts.
  const wrap = (process.env.BENCH_WRAP ?? '').split(' ').filter(Boolean);
  const argv = [...(cpus ? ['taskset', '-c', cpus] : []), ...wrap, process.execPath, ...node];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`broker exited ${code}`)));
  });
}

export interface CoresResult {
  produceMBs: number;
  fetchMBs: number;
  brokerCpuSecsPerGBProduce: number;
  brokerCpuSecsPerGBFetch: number;
  brokerCpuShareProduce: number;
  /** the event loop thread's CPU seconds over the produce phase's wall seconds */
  loopShareProduce: number;
  loopShareFetch: number;
  /** CPU seconds by thread name over the produce phase */
  threadsProduce: Record<string, number>;
  loadGenCpuSecs: number;
  loadavg: number;
}

export async function runCores(o: {
  cpus?: string;
  partitions: number;
  connections: number;
  records: number;
  recordBytes: number;
  batchRecords: number;
  window: number;
  overrides: string[];
  prof?: string;
  fetch: boolean;
}): Promise<CoresResult> {
  const value = Buffer.alloc(o.recordBytes, 'x');
  const batch = buildRecordBatch({
    records: Array.from({ length: o.batchRecords }, () => ({ key: null, value })),
  });
  const requests = Math.ceil(o.records / o.batchRecords);
  const produceFrame = (partition: number, i: number) =>
    requestFrame(ProduceRequest, 7, produceV7Body('bench', partition, batch, 1), i);
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-cores-'));
  const broker = await startBroker(o.cpus, dataDir, o.overrides, o.prof);
  const pid = broker.child.pid!;
  try {
    const admin = await PipelineClient.connect(broker.port);
    await admin.send(
      requestFrame(
        CreateTopicsRequest,
        4,
        {
          topics: [
            {
              name: 'bench',
              numPartitions: o.partitions,
              replicationFactor: 1,
              assignments: [],
              configs: [],
            },
          ],
          timeoutMs: 30000,
          validateOnly: false,
        },
        1,
      ),
    );
    admin.close();
    const clients = await Promise.all(
      Array.from({ length: o.connections }, () => PipelineClient.connect(broker.port)),
    );
    // Connection c produces to partitions c, c+C, ... round robin; frames pre-encoded.
    const perConn = Math.ceil(requests / o.connections);
    const framesOf = clients.map((_, c) => {
      const mine: number[] = [];
      for (let p = c % o.partitions; p < o.partitions; p += o.connections) mine.push(p);
      if (mine.length === 0) mine.push(c % o.partitions);
      return mine.map((p) => produceFrame(p, c));
    });
    const cpu0 = cpuSeconds(pid);
    const loop0 = mainThreadSeconds(pid);
    const threads0 = threadSeconds(pid);
    const lg0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      clients.map((cl, c) => cl.run(perConn, o.window, (i) => framesOf[c]![i % framesOf[c]!.length]!)),
    );
    const secs = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(pid);
    const loop1 = mainThreadSeconds(pid);
    const threadsProduce: Record<string, number> = {};
    for (const [name, t] of threadSeconds(pid)) {
      const d = +(t - (threads0.get(name) ?? 0)).toFixed(2);
      if (d > 0) threadsProduce[name] = d;
    }
    const lg1 = process.cpuUsage(lg0);
    const bytes = perConn * o.connections * batch.length;
    const res: CoresResult = {
      produceMBs: bytes / 1e6 / secs,
      brokerCpuSecsPerGBProduce: (cpu1 - cpu0) / (bytes / 1e9),
      brokerCpuShareProduce: (cpu1 - cpu0) / secs,
      loopShareProduce: (loop1 - loop0) / secs,
      loopShareFetch: 0,
      threadsProduce,
      loadGenCpuSecs: (lg1.user + lg1.system) / 1e6,
      loadavg: loadavg()[0]!,
      fetchMBs: 0,
      brokerCpuSecsPerGBFetch: 0,
    };
    if (o.fetch) {
      // Each connection reads its partitions from 0 to the end, 1 MiB per request.
      const end = new Map<number, number>();
      for (let c = 0; c < o.connections; c++) {
        const mine = framesOf[c]!.length;
        for (let k = 0; k < mine; k++) {
          const p = (c % o.partitions) + k * o.connections;
          end.set(p, (end.get(p) ?? 0) + Math.ceil((perConn - k) / mine) * o.batchRecords);
        }
      }
      const fetchFrame = (p: number, offset: number, i: number) =>
        requestFrame(FetchRequest, 11, fetchV11Body('bench', [{ partition: p, offset }]), i);
      let fetched = 0;
      const f0 = cpuSeconds(pid);
      const fl0 = mainThreadSeconds(pid);
      const ft0 = performance.now();
      const parts = [...end.keys()];
      const byConn = clients.map((_, c) => parts.filter((_p, k) => k % o.connections === c));
      await Promise.all(
        clients.map(async (cl, c) => {
          for (const p of byConn[c]!) {
            let offset = 0;
            let n = 0;
            while (offset < end.get(p)!) {
              const reply = await cl.send(fetchFrame(p, offset, n++));
              fetched += reply.length;
              const batches = Math.round(reply.length / batch.length);
              if (batches === 0) throw new Error(`fetch p${p} at ${offset} returned no batch`);
              offset += batches * o.batchRecords;
            }
          }
        }),
      );
      const fsecs = (performance.now() - ft0) / 1000;
      res.fetchMBs = fetched / 1e6 / fsecs;
      res.brokerCpuSecsPerGBFetch = (cpuSeconds(pid) - f0) / (fetched / 1e9);
      res.loopShareFetch = (mainThreadSeconds(pid) - fl0) / fsecs;
    }
    for (const cl of clients) cl.close();
    return res;
  } finally {
    const exited = new Promise((r) => broker.child.once('exit', r));
    broker.child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      cpus: { type: 'string' },
      partitions: { type: 'string', default: '6' },
      connections: { type: 'string', default: '6' },
      records: { type: 'string', default: '1000000' },
      'record-bytes': { type: 'string', default: '100' },
      'batch-records': { type: 'string', default: '100' },
      window: { type: 'string', default: '8' },
      override: { type: 'string', multiple: true, default: [] },
      prof: { type: 'string' },
      'no-fetch': { type: 'boolean', default: false },
    },
  });
  const r = await runCores({
    cpus: values.cpus,
    partitions: Number(values.partitions),
    connections: Number(values.connections),
    records: Number(values.records),
    recordBytes: Number(values['record-bytes']),
    batchRecords: Number(values['batch-records']),
    window: Number(values.window),
    overrides: values.override ?? [],
    prof: values.prof,
    fetch: !values['no-fetch'],
  });
  console.log(
    JSON.stringify({
      cpus: values.cpus ?? 'any',
      overrides: values.override,
      produceMBs: +r.produceMBs.toFixed(1),
      brokerCpuShareProduce: +r.brokerCpuShareProduce.toFixed(2),
      brokerCpuSecsPerGBProduce: +r.brokerCpuSecsPerGBProduce.toFixed(2),
      loopShareProduce: +r.loopShareProduce.toFixed(2),
      fetchMBs: +r.fetchMBs.toFixed(1),
      brokerCpuSecsPerGBFetch: +r.brokerCpuSecsPerGBFetch.toFixed(2),
      loopShareFetch: +r.loopShareFetch.toFixed(2),
      threadsProduce: r.threadsProduce,
      loadGenCpuSecs: +r.loadGenCpuSecs.toFixed(2),
      loadavg: +r.loadavg.toFixed(2),
    }),
  );
}
