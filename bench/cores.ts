/**
 * Multi-core scaling bench: several pipelined connections producing (then fetching) across several
 * partitions of one topic against a kbroker process pinned with `taskset`. Reports MB/s, the
 * broker's CPU seconds (utime+stime from /proc, all its threads) per GB, the load generator's own
 * CPU seconds, and the load average, so a figure on a shared machine can be read for what it is.
 *
 *   tsx bench/cores.ts [--cpus 0|0,1] [--partitions 6] [--connections 6] [--records 1000000]
 *                      [--record-bytes 100] [--batch-records 100] [--window 8]
 *                      [--override key=value]... [--prof DIR] [--no-fetch] [--brokers N]
 *                      [--threads N] [--warmup RECORDS]
 *
 * `--brokers N` (N > 1) runs N broker processes sharing their metadata through one etcd (Debian's
 * etcd-server), as `kbroker start --node-id I --etcd URL` does in production, each under the same
 * `taskset`: the topic's partitions (replication factor 1) are led by different processes, and each
 * connection produces to its partitions' leader, as a Kafka client routes by leader. Its CPU figures
 * are the sums over the brokers (etcd's own CPU is printed apart). `--threads N` runs one process of
 * N broker threads (`kbroker start --threads N`), routed the same way, without etcd.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BROKER_NODE_FLAGS } from '../src/node-flags.js';
import { CreateTopicsRequest, FetchRequest, ProduceRequest } from '../src/protocol/generated/messages.js';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { type EtcdServer, startEtcd } from '../src/test-support/etcd.js';
import { freePort } from '../src/test-support/free-port.js';
import { fetchV11Body, produceV7Body, requestFrame } from './frames.js';
import { cpuSeconds, threadCpuSeconds } from './kafka/procs.js';
import { partitionsByLeader } from './kafka/wire.js';
import { PipelineClient } from './pipeline-client.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** CPU seconds of each thread of a process, summed by thread name (libuv's pool, V8's GC helpers...). */
function threadSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name =
        tid === String(pid) ? 'event loop' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(name, (out.get(name) ?? 0) + threadCpuSeconds(pid, tid));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU seconds of the process's main thread only (the event loop: its thread id is the pid). */
function mainThreadSeconds(pid: number): number {
  return threadCpuSeconds(pid, pid);
}

async function startBroker(
  cpus: string | undefined,
  dataDir: string,
  overrides: string[],
  prof: string | undefined,
  cluster: { nodeId: number; port: number; etcd: string } | undefined,
  threads = 1,
): Promise<Broker> {
  const node = [
    ...BROKER_NODE_FLAGS,
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
    // e.g. BENCH_KBROKER_NODE_ARGS=--perf-basic-prof with BENCH_PERF, for JavaScript names in `perf report`
    ...(process.env.BENCH_KBROKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    // BENCH_BROKER: another build's bin/kbroker.js, to compare two builds in alternating rounds.
    process.env.BENCH_BROKER ?? join(root, 'bin', 'kbroker.js'),
    'start',
    '--port',
    String(cluster?.port ?? 0),
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
    ...(cluster ? ['--node-id', String(cluster.nodeId), '--etcd', cluster.etcd] : []),
    ...(threads > 1 ? ['--threads', String(threads)] : []),
    ...overrides.flatMap((o) => ['--override', o]),
  ];
  // BENCH_WRAP: a command the broker runs under (e.g. `strace -f -c -o FILE`) for syscall counts.
  const wrap = (process.env.BENCH_WRAP ?? '').split(' ').filter(Boolean);
  // BENCH_BROKER_NODE: the node binary the broker runs on (another Node release, the load generator staying on this one).
  const nodeBin = process.env.BENCH_BROKER_NODE ?? process.execPath;
  const argv = [...(cpus ? ['taskset', '-c', cpus] : []), ...wrap, nodeBin, ...node];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      // BENCH_BROKER_OUT=FILE: the broker's stdout copied there (with BENCH_KBROKER_NODE_ARGS=--trace-gc, say).
      if (process.env.BENCH_BROKER_OUT) appendFileSync(process.env.BENCH_BROKER_OUT, d);
      out += d.toString();
      // `listening on HOST:PORT (node N)[, HOST:PORT (node N)...]`: every broker of the process.
      const line = /listening on ([^\n]*)\n/.exec(out);
      if (line)
        resolve({
          child,
          ports: [...line[1]!.matchAll(/:(\d+)(?: \(node \d+\))?/g)].map((x) => Number(x[1])),
        });
    });
    child.once('exit', (code) => reject(new Error(`broker exited ${code}`)));
  });
}

/** Sums CPU seconds by thread name over several processes. */
function threadSecondsOf(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) for (const [name, t] of threadSeconds(pid)) out.set(name, (out.get(name) ?? 0) + t);
  return out;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** A broker process and the ports of the brokers it runs (node ids 1, 2, ... in order). */
interface Broker {
  child: ChildProcess;
  ports: number[];
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
  /** etcd's CPU seconds over the produce phase (several brokers only) */
  etcdCpuSecsProduce: number;
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
  brokers?: number;
  /** broker threads in the one process (`--threads`) */
  threads?: number;
  /** records produced (and later fetched) before the measured produce */
  warmupRecords?: number;
}): Promise<CoresResult> {
  const value = Buffer.alloc(o.recordBytes, 'x');
  const batch = buildRecordBatch({
    records: Array.from({ length: o.batchRecords }, () => ({ key: null, value })),
  });
  const requests = Math.ceil(o.records / o.batchRecords);
  const produceFrame = (partition: number, i: number) =>
    requestFrame(ProduceRequest, 7, produceV7Body('bench', partition, batch, 1), i);
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-cores-'));
  const n = o.brokers ?? 1;
  let etcd: EtcdServer | undefined;
  const brokers: Broker[] = [];
  try {
    if (n > 1) {
      etcd = await startEtcd();
      const endpoints = etcd.endpoints.join(',');
      for (let id = 1; id <= n; id++) {
        const cluster = { nodeId: id, port: await freePort(), etcd: endpoints };
        brokers.push(await startBroker(o.cpus, join(dataDir, `broker-${id}`), o.overrides, o.prof, cluster));
      }
    } else brokers.push(await startBroker(o.cpus, dataDir, o.overrides, o.prof, undefined, o.threads ?? 1));
    return await produceAndFetch(o, batch, requests, produceFrame, brokers, etcd);
  } finally {
    await Promise.all(
      brokers.map((b) => {
        const exited = new Promise((r) => b.child.once('exit', r));
        b.child.kill('SIGTERM');
        return exited;
      }),
    );
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function produceAndFetch(
  o: Parameters<typeof runCores>[0],
  batch: Buffer,
  requests: number,
  produceFrame: (partition: number, i: number) => Buffer,
  brokers: readonly Broker[],
  etcd: EtcdServer | undefined,
): Promise<CoresResult> {
  const pids = brokers.map((b) => b.child.pid!);
  // Node id i is the i-th port over the processes (one broker each) or of the one process (threads).
  const nodePorts = brokers.flatMap((b) => b.ports);
  const etcdPids = etcd ? etcd.members.map((m) => m.child.pid!) : [];
  const admin = await PipelineClient.connect(nodePorts[0]!);
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
  // Connection c produces to partitions c, c+C, ... round robin; frames pre-encoded.
  const perConn = Math.ceil(requests / o.connections);
  const partitionsOf = Array.from({ length: o.connections }, (_, c) => {
    const mine: number[] = [];
    for (let p = c % o.partitions; p < o.partitions; p += o.connections) mine.push(p);
    if (mine.length === 0) mine.push(c % o.partitions);
    return mine;
  });
  // Each connection goes to the broker leading its partitions (one broker: that one).
  const portOf = new Map<number, number>();
  if (nodePorts.length > 1) {
    for (const [port, parts] of await partitionsByLeader(nodePorts[0]!, 'bench', o.partitions))
      for (const p of parts) portOf.set(p, port);
  }
  const ports = partitionsOf.map((mine) => {
    const of = new Set(mine.map((p) => portOf.get(p) ?? nodePorts[0]!));
    if (of.size > 1)
      throw new Error(
        'a connection whose partitions have different leaders: give as many connections as partitions',
      );
    return [...of][0]!;
  });
  const clients = await Promise.all(ports.map((port) => PipelineClient.connect(port)));
  const framesOf = partitionsOf.map((mine, c) => mine.map((p) => produceFrame(p, c)));
  // --warmup: the same load, unmeasured, first (the broker's JIT compiles for the first seconds).
  const warmPerConn = Math.ceil(Math.ceil((o.warmupRecords ?? 0) / o.batchRecords) / o.connections);
  if (warmPerConn > 0)
    await Promise.all(
      clients.map((cl, c) => cl.run(warmPerConn, o.window, (i) => framesOf[c]![i % framesOf[c]!.length]!)),
    );
  // BENCH_PERF=FILE: `perf record -g` on the broker over the produce phase only (CPU, not wall time).
  const perf = process.env.BENCH_PERF
    ? spawn('perf', ['record', '-g', '-F', '1999', '-p', pids.join(','), '-o', process.env.BENCH_PERF], {
        stdio: 'ignore',
      })
    : undefined;
  if (perf) await new Promise((r) => setTimeout(r, 500));
  const cpu0 = sum(pids.map(cpuSeconds));
  const loop0 = sum(pids.map(mainThreadSeconds));
  const threads0 = threadSecondsOf(pids);
  const etcd0 = sum(etcdPids.map(cpuSeconds));
  const lg0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    clients.map((cl, c) => cl.run(perConn, o.window, (i) => framesOf[c]![i % framesOf[c]!.length]!)),
  );
  const secs = (performance.now() - t0) / 1000;
  if (perf) {
    const done = new Promise((r) => perf.once('exit', r));
    perf.kill('SIGINT');
    await done;
  }
  const cpu1 = sum(pids.map(cpuSeconds));
  const loop1 = sum(pids.map(mainThreadSeconds));
  const etcdCpuSecsProduce = sum(etcdPids.map(cpuSeconds)) - etcd0;
  const threadsProduce: Record<string, number> = {};
  for (const [name, t] of threadSecondsOf(pids)) {
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
    etcdCpuSecsProduce,
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
        const batches = Math.ceil((perConn - k) / mine) + Math.max(0, Math.ceil((warmPerConn - k) / mine));
        end.set(p, (end.get(p) ?? 0) + batches * o.batchRecords);
      }
    }
    const fetchFrame = (p: number, offset: number, i: number) =>
      requestFrame(FetchRequest, 11, fetchV11Body('bench', [{ partition: p, offset }]), i);
    let fetched = 0;
    const f0 = sum(pids.map(cpuSeconds));
    const fl0 = sum(pids.map(mainThreadSeconds));
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
    res.brokerCpuSecsPerGBFetch = (sum(pids.map(cpuSeconds)) - f0) / (fetched / 1e9);
    res.loopShareFetch = (sum(pids.map(mainThreadSeconds)) - fl0) / fsecs;
  }
  for (const cl of clients) cl.close();
  return res;
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
      brokers: { type: 'string', default: '1' },
      threads: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '0' },
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
    brokers: Number(values.brokers),
    threads: Number(values.threads),
    warmupRecords: Number(values.warmup),
  });
  console.log(
    JSON.stringify({
      cpus: values.cpus ?? 'any',
      brokers: Number(values.brokers),
      threads: Number(values.threads),
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
      etcdCpuSecsProduce: +r.etcdCpuSecsProduce.toFixed(2),
      loadavg: +r.loadavg.toFixed(2),
    }),
  );
}
