/**
 * Load generators for `npm run bench:kafka`, each run the same way against either broker:
 *   kcat (librdkafka)              `kcat -P -l FILE` from a pre-generated file, `kcat -C -c N -e`
 *   kafka-producer-perf-test       org.apache.kafka.tools.ProducerPerformance (JVM)
 *   kafka-consumer-perf-test       org.apache.kafka.tools.ConsumerPerformance (JVM)
 *   kafka-e2e-latency              org.apache.kafka.tools.EndToEndLatency (JVM)
 *   pipelined                      the project's raw client (wire.ts: pipelinedProduce)
 *   native                         the same loads from a Go process (kload/main.go): far less CPU
 * Every producer run is checked afterwards against the log end offsets, every consumer run
 * against the number of records it reports (kcat: that it stopped at the N-th record).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaToolArgs, root } from './brokers.js';
import { run } from './procs.js';
import { type ConsumeLoad, type ProduceLoad, partitionsByLeader } from './wire.js';

const bootstrap = (port: number) => `127.0.0.1:${port}`;
const RUN_TIMEOUT = 300_000;

/** A file of `records` lines of `size` random capital letters each (kcat's records are lines). */
export function writeRecordsFile(path: string, records: number, size: number): void {
  const line = Buffer.alloc(size + 1);
  for (let i = 0; i < size; i++) line[i] = 65 + Math.floor(Math.random() * 26);
  line[size] = 10;
  const perChunk = Math.max(1, Math.floor((4 << 20) / line.length));
  const chunk = Buffer.alloc(perChunk * line.length);
  for (let i = 0; i < perChunk; i++) line.copy(chunk, i * line.length);
  const fd = openSync(path, 'w');
  try {
    for (let left = records; left > 0; left -= perChunk) {
      writeSync(fd, chunk, 0, Math.min(left, perChunk) * line.length);
    }
  } finally {
    closeSync(fd);
  }
}

function fail(what: string, r: { code: number | null; stdout: string; stderr: string }): never {
  const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-8).join('\n');
  throw new Error(`${what} exited ${r.code}:\n${tail}`);
}

/** kcat -P of a whole file; returns seconds from spawn to exit (every record delivered). */
export async function kcatProduce(port: number, topic: string, file: string, acks: string): Promise<number> {
  const r = await run('kcat', ['-P', '-b', bootstrap(port), '-t', topic, '-X', `acks=${acks}`, '-l', file], {
    timeoutMs: RUN_TIMEOUT,
  });
  if (r.code !== 0 || /failed|error/i.test(r.stderr)) fail('kcat -P', r);
  return r.ms / 1000;
}

/**
 * kcat -C from the beginning of every partition (no group) until `records` have arrived: seconds
 * from spawn to exit. `-c N` ends it on the N-th record, so the long-poll that `-e` alone waits
 * for at the end (fetch.wait.max.ms, 500 ms) is not timed; `-e` still ends a short topic, which
 * is then an error.
 */
export async function kcatConsume(
  port: number,
  topic: string,
  records: number,
  extra: readonly string[] = [],
): Promise<number> {
  const r = await run(
    'kcat',
    ['-C', '-b', bootstrap(port), '-t', topic, '-o', 'beginning', '-c', String(records), '-e', ...extra],
    { timeoutMs: RUN_TIMEOUT, discardStdout: true },
  );
  if (r.code !== 0) fail('kcat -C', r);
  // At a premature end: "% Reached end of topic T [p] at offset N: exiting".
  if (/exiting/.test(r.stderr)) fail(`kcat -C ended before ${records} records`, r);
  return r.ms / 1000;
}

/**
 * kcat -C with a local queue that holds every record of a run: librdkafka stops fetching for
 * `fetch.queue.backoff.ms` (1 s; 2.0.2 until a 1 s wake-up) once it holds `queued.min.messages`
 * (100,000) records, so a broker that serves faster than kcat writes its output out is paused for a
 * second that a slower one never sees. With the queue this large neither is: the row measures the
 * broker and kcat, not that backoff.
 */
export const KCAT_LARGE_QUEUE = [
  '-X',
  'queued.min.messages=10000000',
  '-X',
  'queued.max.messages.kbytes=2097151',
] as const;

export interface PerfProduceResult {
  records: number;
  recordsPerSec: number;
  avgMs: number;
  p50: number;
  p99: number;
  p999: number;
}

/** kafka-producer-perf-test (Kafka's script: -Xmx512M); `throughput` -1 for as fast as it goes. */
export async function perfProduce(opts: {
  port: number;
  topic: string;
  records: number;
  size: number;
  acks: string;
  throughput: number;
}): Promise<PerfProduceResult> {
  const r = await run(
    'java',
    kafkaToolArgs(
      'org.apache.kafka.tools.ProducerPerformance',
      [
        '--bootstrap-server',
        bootstrap(opts.port),
        '--topic',
        opts.topic,
        '--num-records',
        String(opts.records),
        '--record-size',
        String(opts.size),
        '--throughput',
        String(Math.round(opts.throughput)),
        '--command-property',
        `acks=${opts.acks}`,
      ],
      '-Xmx512M',
    ),
    { timeoutMs: RUN_TIMEOUT },
  );
  // "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, a ms 50th, b ms 95th, c ms 99th, d ms 99.9th."
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, ([\d.]+) ms 50th, [\d.]+ ms 95th, ([\d.]+) ms 99th, ([\d.]+) ms 99\.9th/.exec(
      r.stdout,
    );
  if (r.code !== 0 || !m) fail('kafka-producer-perf-test', r);
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    avgMs: Number(m[3]),
    p50: Number(m[4]),
    p99: Number(m[5]),
    p999: Number(m[6]),
  };
}

/**
 * kafka-consumer-perf-test (-Xmx512M). It subscribes with a group; its fetch.* figures leave the
 * group join out (time from the first record to the last), and those are the ones returned.
 */
export async function perfConsume(
  port: number,
  topic: string,
  records: number,
): Promise<{ records: number; recordsPerSec: number }> {
  const r = await run(
    'java',
    kafkaToolArgs(
      'org.apache.kafka.tools.ConsumerPerformance',
      [
        '--bootstrap-server',
        bootstrap(port),
        '--topic',
        topic,
        '--messages',
        String(records),
        '--timeout',
        '30000',
      ],
      '-Xmx512M',
    ),
    { timeoutMs: RUN_TIMEOUT },
  );
  if (r.code !== 0) fail('kafka-consumer-perf-test', r);
  const lines = r.stdout.split('\n').filter((l) => l.includes(','));
  const head = lines.findIndex((l) => l.includes('fetch.nMsg.sec'));
  if (head < 0 || !lines[head + 1]) fail('kafka-consumer-perf-test (no result line)', r);
  const names = lines[head]!.split(',').map((s) => s.trim());
  const values = lines[head + 1]!.split(',').map((s) => s.trim());
  const get = (n: string) => Number(values[names.indexOf(n)]);
  return { records: get('data.consumed.in.nMsg'), recordsPerSec: get('fetch.nMsg.sec') };
}

/**
 * kafka-e2e-latency: one record at a time, produced (acks=all, linger.ms=0) then consumed by a
 * consumer that assign()s the partition (no group) and polls with fetch.max.wait.ms=0.
 */
export async function e2eLatency(
  port: number,
  topic: string,
  records: number,
  size: number,
): Promise<{ avg: number; p50: number; p99: number; p999: number }> {
  const r = await run(
    'java',
    kafkaToolArgs('org.apache.kafka.tools.EndToEndLatency', [
      '--bootstrap-server',
      bootstrap(port),
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--producer-acks',
      'all',
      '--record-size',
      String(size),
    ]),
    { timeoutMs: RUN_TIMEOUT },
  );
  const avg = /Avg latency: ([\d.]+) ms/.exec(r.stdout);
  const pct = /Percentiles: 50th = ([\d.]+), 99th = ([\d.]+), 99\.9th = ([\d.]+)/.exec(r.stdout);
  if (r.code !== 0 || !avg || !pct) fail('kafka-e2e-latency', r);
  return { avg: Number(avg[1]), p50: Number(pct[1]), p99: Number(pct[2]), p999: Number(pct[3]) };
}

const KLOAD_SOURCE = join(root, 'bench', 'kafka', 'kload');
const KLOAD_BINARY = join(root, 'bench', '.cache', 'kload');
let kloadBuilt: Promise<string> | undefined;

/**
 * Builds kload (bench/kafka/kload: Go, the standard library only, so nothing is downloaded) once per
 * process into bench/.cache; rejects, naming the cause, where there is no Go toolchain.
 */
export function buildKload(): Promise<string> {
  kloadBuilt ??= run('go', ['build', '-o', KLOAD_BINARY, '.'], {
    cwd: KLOAD_SOURCE,
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    timeoutMs: 300_000,
  }).then(
    (r) => {
      if (r.code !== 0) fail('go build (bench/kafka/kload)', r);
      return KLOAD_BINARY;
    },
    (err: Error) => {
      throw new Error(`the native client needs Go (go build of bench/kafka/kload): ${err.message}`);
    },
  );
  return kloadBuilt;
}

/** kload's -leaders argument: each leader's port and partitions, as Metadata has them now. */
async function kloadLeaders(port: number, topic: string, partitions: number): Promise<string> {
  const byLeader = await partitionsByLeader(port, topic, partitions);
  return [...byLeader].map(([p, parts]) => `${p}:${parts.join(',')}`).join('/');
}

async function kload(mode: 'produce' | 'consume', args: string[]): Promise<number> {
  const bin = await buildKload();
  const r = await run(bin, [mode, ...args], { timeoutMs: RUN_TIMEOUT });
  const m = /\{"secs":([\d.]+),"records":(\d+)\}/.exec(r.stdout);
  if (r.code !== 0 || !m) fail(`kload ${mode}`, r);
  return Number(m[1]);
}

/**
 * The native client's produce (kload produce): the pipelined client's load — Produce v7 requests of
 * `batchRecords` records (default 100), request i to partition i % partitions, 8 in flight per
 * leader — from a Go process. Returns seconds from its connections being open to the last response.
 */
export async function nativeProduce(opts: ProduceLoad): Promise<number> {
  return kload('produce', [
    '-topic',
    opts.topic,
    '-leaders',
    await kloadLeaders(opts.port, opts.topic, opts.partitions),
    '-partitions',
    String(opts.partitions),
    '-records',
    String(opts.records),
    '-record-bytes',
    String(opts.recordBytes),
    '-acks',
    String(opts.acks),
    '-batch-records',
    String(opts.batchRecords ?? 100),
  ]);
}

/**
 * The native client's consume (kload consume): the pipelined consumer's Fetch v11 loop (one request in
 * flight per leader, 1 MiB per partition) from a Go process, until `records` have arrived (`atLeast`:
 * more is no error, for the no-op server). Returns seconds to the reply that brought the last record.
 */
export async function nativeConsume(opts: ConsumeLoad): Promise<number> {
  return kload('consume', [
    '-topic',
    opts.topic,
    '-leaders',
    await kloadLeaders(opts.port, opts.topic, opts.partitions),
    '-records',
    String(opts.records),
    ...(opts.atLeast ? ['-at-least'] : []),
  ]);
}
