/**
 * `npm run bench:kafka`: kbroker side by side with Apache Kafka (KRaft, one node) on this machine.
 *
 *   tsx bench/vs-kafka.ts [--rounds N] [--quick] [--only produce|consume|latency|durable[,…]] [--kafka-max R]
 *                         [--kbroker-threads N] [--kbroker-override key=value]... [--out FILE]
 *
 * Each round starts Kafka, measures it, stops it, then does the same with kbroker (fresh temp data
 * dirs, loopback ports), so rounds alternate the two brokers and both see the same noise; then the
 * kcat rows and the pipelined and native clients' produce and consume rows run once more against
 * bench/kafka/null-broker.ts, a server that does no broker work: its figures ("no-op ceiling") are
 * what that client and the loopback reach on this machine without a broker, the most any broker
 * could show with that load generator here. Kafka
 * goes first in every round because the latency runs take their rates from Kafka's measured
 * maximum in that round. Per broker and round:
 *   start-up       spawn → first accepted connection and → first ApiVersions answered; VmRSS 1 s later
 *   warm-up        kcat produces and consumes the 100 B file once (not measured; the JIT warms up)
 *   produce        100 B and 1 KiB records × acks=1/all × 1/6 partitions × kcat, perf-test, pipelined,
 *                  native (the pipelined client's load from a Go process: bench/kafka/kload); each
 *                  run after sync(1), so it starts from a page cache with nothing dirty (procs.ts
 *                  settleDirtyPages: otherwise the flusher wrote the earlier runs out during it)
 *   consume        kcat -C -c N -e, consumer-perf-test and the pipelined and native clients' raw
 *                  Fetch v11 loop (one in flight, no decompression) over the kcat acks=1 topics (no
 *                  group join counted: perf-test's fetch.* figures)
 *   latency        perf-test at 10/50/90 % of Kafka's max (100 B, acks=all, 1 partition): p50/p99/p99.9;
 *                  the same rates from the pipelined client (a request a millisecond, open loop;
 *                  wire.ts fixedRateProduce): p50/p99/p99.9 per request, no JVM client in them;
 *                  kafka-e2e-latency (acks=all, 100 B); during each fixed-rate run, server-side figures
 *                  that do not depend on the client's CPU (brokers.ts serverStats: GC pauses on both,
 *                  kbroker's event-loop delay) and the machine's 1-minute load average
 *   durable        kcat, the pipelined client on one and on 8 connections, acks=all, on a topic
 *                  with flush.messages=1
 *   resources      broker CPU seconds (utime+stime from /proc) per GB produced / consumed, VmRSS
 *                  after the load and its peak (VmHWM)
 * Hypervisor steal (procs.ts machineTicks: the share of the machine's CPU time a shared VM lost to
 * other guests) is logged per run and summed per phase, per broker: not the broker's doing, it
 * moves figures more than anything the broker does, so a round with far more steal on one side
 * compares unevenly.
 * Prints every figure for both brokers and the ratio kbroker/Kafka (median [min–max] over the
 * rounds), then how many rows with a no-op ceiling meet 2× Kafka and in how many that is past the
 * ceiling (report.ts targetLines), and writes the results to bench/.cache/kafka-last.json (and .md)
 * for bench:compare.
 * Every figure comes from a run in this invocation; a run that fails is reported and left out.
 * `--only produce`: the produce rows (all four generators, and the light ones on the
 * no-op server) and CPU per GB produced. `--only consume`: only what the consume rows need (the kcat acks=1 produce runs that fill the
 * topics, then the consume runs and CPU per GB consumed); no latency runs. `--only latency`: the
 * perf-test 100 B acks=all 1-partition run that gives Kafka's max (skipped with `--kafka-max R`,
 * records/s), then the latency runs. `--only durable`: the flush.messages=1 rows. Modes combine
 * (`--only latency,durable`); each starts with the warm-up. The results go to
 * bench/.cache/kafka-<modes>-last.json unless --out says otherwise (not the file bench:compare reads).
 * `--kbroker-threads N`: kbroker as `kbroker start --threads N` (N broker threads in one process, each
 * leading its share of a topic's partitions; every client here routes a partition to its leader, so
 * the six-partition rows spread over the threads and the one-partition rows stay on one). The event-loop
 * and GC figures are then the broker threads' (the worst thread's delay and longest pause, the pauses
 * of all summed: brokers.ts mergeServerStats); results in kafka-threadsN-last.json.
 * `--kbroker-override key=value` (repeatable): kbroker started with that setting (`--override`), e.g.
 * log.segment.write.thread.auto.enable=false to measure the build with and without a feature in two
 * runs; results in kafka-override-last.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  installKafka,
  KAFKA_VERSION,
  type RunningBroker,
  root,
  segmentWriteMovesNote,
  startKafka,
  startKbroker,
  startNullBroker,
} from './kafka/brokers.js';
import {
  e2eLatency,
  KCAT_LARGE_QUEUE,
  kcatConsume,
  kcatProduce,
  nativeConsume,
  nativeProduce,
  perfConsume,
  perfProduce,
  writeRecordsFile,
} from './kafka/loads.js';
import {
  cleanupAll,
  cpuSeconds,
  installCleanup,
  memory,
  StealMeter,
  settleDirtyPages,
  tempDir,
} from './kafka/procs.js';
import {
  type BenchResults,
  formatMarkdown,
  formatTable,
  type MetricDef,
  type RoundResult,
  targetLines,
} from './kafka/report.js';
import {
  createTopic,
  endOffsets,
  fixedRateProduce,
  pipelinedConsume,
  pipelinedProduce,
} from './kafka/wire.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    'kafka-max': { type: 'string' },
    'kbroker-threads': { type: 'string' },
    'kbroker-override': { type: 'string', multiple: true },
  },
  strict: true,
});
const quick = args.quick ?? false;
const rounds = Number(args.rounds ?? (quick ? 1 : 2));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
const ONLY_MODES = ['produce', 'consume', 'latency', 'durable'] as const;
type OnlyMode = (typeof ONLY_MODES)[number];
const only = new Set((args.only ?? '').split(',').filter(Boolean) as OnlyMode[]);
for (const o of only)
  if (!ONLY_MODES.includes(o))
    throw new Error(`--only takes a comma-separated list of: ${ONLY_MODES.join(', ')}`);
const onlyMode = only.size > 0;
const consumeOnly = only.has('consume');
const produceOnly = only.has('produce');
/** Whether this run measures `part` (everything without --only). */
const runs = (part: OnlyMode) => !onlyMode || only.has(part);
const fixedKafkaMax = args['kafka-max'] === undefined ? undefined : Number(args['kafka-max']);
if (fixedKafkaMax !== undefined && !(fixedKafkaMax > 0)) throw new Error('--kafka-max takes records/s > 0');
const kbrokerThreads = Number(args['kbroker-threads'] ?? 1);
if (!Number.isInteger(kbrokerThreads) || kbrokerThreads < 1 || kbrokerThreads > 64)
  throw new Error('--kbroker-threads takes a number from 1 to 64');
/** What sets this run apart from the full default one: its file name (bench:compare reads only the latter). */
const kbrokerOverrides = args['kbroker-override'] ?? [];
for (const o of kbrokerOverrides)
  if (!/^[a-z0-9._-]+=/.test(o)) throw new Error(`--kbroker-override takes key=value, not ${o}`);
const variant = [
  ...[...only].sort(),
  ...(kbrokerThreads > 1 ? [`threads${kbrokerThreads}`] : []),
  ...(kbrokerOverrides.length > 0 ? ['override'] : []),
];
const outFile =
  args.out ??
  join(
    root,
    'bench',
    '.cache',
    variant.length > 0 ? `kafka-${variant.join('-')}-last.json` : 'kafka-last.json',
  );

/** Records per run, by load generator and record size (sized so a full run takes ~15 minutes here). */
const S = quick
  ? {
      kcat: { 100: 100_000, 1024: 20_000 },
      pipelined: { 100: 100_000, 1024: 20_000 },
      native: { 100: 100_000, 1024: 20_000 },
      perf: { 100: 50_000, 1024: 10_000 },
      latencySecs: 2,
      e2e: 300,
    }
  : {
      kcat: { 100: 2_000_000, 1024: 300_000 },
      pipelined: { 100: 1_000_000, 1024: 200_000 },
      native: { 100: 2_000_000, 1024: 300_000 },
      perf: { 100: 500_000, 1024: 100_000 },
      latencySecs: 6,
      e2e: 2_000,
    };
const SIZES = [100, 1024] as const;
const ACKS = ['1', 'all'] as const;
const PARTITIONS = [1, 6] as const;
const GENERATORS = ['kcat', 'perf', 'pipelined', 'native'] as const;
const LOAD_PCTS = [10, 50, 90] as const;
type Gen = (typeof GENERATORS)[number];
const genLabel: Record<Gen, string> = {
  kcat: 'kcat',
  perf: 'producer-perf-test',
  pipelined: 'pipelined client',
  native: 'native client',
};
const sizeLabel = (s: number) => (s === 100 ? '100 B' : '1 KiB');

// --- the figures, in print order
const metrics: MetricDef[] = [];
const def = (
  key: string,
  label: string,
  unit: string,
  higherIsBetter: boolean,
  recordBytes?: number,
  /** 'kbroker': a figure only kbroker has; 'machine': the machine's, not a broker's (no ratio) */
  kind?: 'kbroker' | 'machine',
) =>
  metrics.push({
    key,
    label,
    unit,
    higherIsBetter,
    ...(recordBytes ? { recordBytes } : {}),
    ...(kind === 'kbroker' ? { only: kind } : kind === 'machine' ? { machine: true as const } : {}),
  });
const produceKey = (g: Gen, s: number, a: string, p: number) => `produce.${g}.${s}.acks${a}.p${p}`;
const consumeKey = (g: string, s: number, p: number) => `consume.${g}.${s}.p${p}`;
for (const g of GENERATORS)
  for (const s of SIZES)
    for (const a of ACKS)
      for (const p of PARTITIONS)
        def(
          produceKey(g, s, a, p),
          `produce ${genLabel[g]} ${sizeLabel(s)} acks=${a} ${p}p`,
          'MB/s',
          true,
          s,
        );
const consumeLabel = {
  kcat: 'kcat -C',
  kcatq: 'kcat -C (queue of 10 M records)',
  perf: 'consumer-perf-test',
  pipelined: 'pipelined client',
  native: 'native client',
};
const CONSUMERS = ['kcat', 'kcatq', 'perf', 'pipelined', 'native'] as const;
for (const g of CONSUMERS)
  for (const s of SIZES)
    for (const p of PARTITIONS)
      def(consumeKey(g, s, p), `consume ${consumeLabel[g]} ${sizeLabel(s)} ${p}p`, 'MB/s', true, s);
for (const pct of LOAD_PCTS) {
  for (const q of ['p50', 'p99', 'p999'])
    def(`latency.${pct}.${q}`, `produce latency ${q.replace('p999', 'p99.9')} at ${pct} % load`, 'ms', false);
  def(`latency.${pct}.rate`, `achieved rate at ${pct} % load`, 'rec/s', true);
  // The same rate from the light client (no JVM client in the figures): per request, not per record.
  for (const q of ['p50', 'p99', 'p999'])
    def(
      `latency.${pct}.light.${q}`,
      `produce latency ${q.replace('p999', 'p99.9')} at ${pct} % load, pipelined client at a fixed rate`,
      'ms',
      false,
    );
  def(`latency.${pct}.gcMax`, `longest GC pause during the ${pct} % run`, 'ms', false);
  def(`latency.${pct}.gcTotal`, `GC pauses in all during the ${pct} % run`, 'ms', false);
  def(
    `latency.${pct}.loopP99`,
    `event-loop delay p99 during the ${pct} % run`,
    'ms',
    false,
    undefined,
    'kbroker',
  );
  def(
    `latency.${pct}.loopMax`,
    `event-loop delay max during the ${pct} % run`,
    'ms',
    false,
    undefined,
    'kbroker',
  );
  def(
    `latency.${pct}.fsyncOnLoop`,
    `time in fsync on the event loop during the ${pct} % run`,
    'ms',
    false,
    undefined,
    'kbroker',
  );
  def(`latency.${pct}.load`, `machine load average (1 min) after the ${pct} % run`, '', false);
}
for (const q of ['avg', 'p50', 'p99', 'p999'])
  def(`e2e.${q}`, `end-to-end latency ${q.replace('p999', 'p99.9')}`, 'ms', false);
// Durability: flush.messages=1 on the topic (an fsync before each acknowledgement; kbroker's group
// commit fsyncs once per event-loop turn for every batch appended in it, Kafka once per batch).
// `pipelined8`: the pipelined client on 8 connections into the same partition, where group commit
// can share one fsync among the batches of several producers.
const DURABLE_GENS = ['kcat', 'pipelined', 'pipelined8'] as const;
type DurableGen = (typeof DURABLE_GENS)[number];
const DURABLE_CONNECTIONS = 8;
const durableKey = (g: DurableGen, s: number) => `durable.${g}.${s}`;
const durableLabel = (g: DurableGen) =>
  g === 'pipelined8' ? `pipelined client ×${DURABLE_CONNECTIONS} connections` : genLabel[g];
for (const g of DURABLE_GENS)
  for (const s of SIZES)
    def(
      durableKey(g, s),
      `produce ${durableLabel(g)} ${sizeLabel(s)} acks=all flush.messages=1`,
      'MB/s',
      true,
      s,
    );
def('start.connect', 'launch → first accepted connection', 'ms', false);
def('start.ready', 'launch → first ApiVersions answered', 'ms', false);
def('rss.idle', 'idle RSS', 'MiB', false);
def('rss.after', 'RSS after the load', 'MiB', false);
def('rss.peak', 'peak RSS (VmHWM)', 'MiB', false);
for (const g of GENERATORS) def(`cpu.produce.${g}`, `CPU per GB produced (${genLabel[g]})`, 's/GB', false);
def('cpu.produce', 'CPU per GB produced (all producers)', 's/GB', false);
def('cpu.consume', 'CPU per GB consumed (all consumers)', 's/GB', false);
// Not the brokers' doing: how much of the machine the hypervisor took while each broker's runs went
// (procs.ts machineTicks). Rounds where one broker's share is far above the other's compare unevenly.
def('steal.produce', 'hypervisor steal during the produce runs (% of the machine)', '%', false, 0, 'machine');
def('steal.consume', 'hypervisor steal during the consume runs (% of the machine)', '%', false, 0, 'machine');
def('steal.latency', 'hypervisor steal during the latency runs (% of the machine)', '%', false, 0, 'machine');
if (onlyMode) {
  // Only the figures these modes measure, so that the others do not print as failed.
  const measured = (k: string) =>
    k.startsWith('start.') ||
    k.startsWith('rss.') ||
    (produceOnly && (k.startsWith('produce.') || k.startsWith('cpu.produce') || k === 'steal.produce')) ||
    (consumeOnly &&
      (k.startsWith('consume.') ||
        /^produce\.kcat\.\d+\.acks1\./.test(k) ||
        k === 'cpu.produce.kcat' ||
        k === 'steal.produce' ||
        k === 'steal.consume' ||
        k === 'cpu.consume')) ||
    (only.has('latency') &&
      (k.startsWith('latency.') ||
        k === 'steal.latency' ||
        k.startsWith('e2e.') ||
        (fixedKafkaMax === undefined && k === produceKey('perf', 100, 'all', 1)))) ||
    (only.has('durable') && k.startsWith('durable.'));
  metrics.splice(0, metrics.length, ...metrics.filter((m) => measured(m.key)));
}
/** The produce runs of this invocation: all, or those an --only mode needs. */
const producesHere = (g: Gen, s: number, a: string, p: number) =>
  !onlyMode ||
  produceOnly ||
  (consumeOnly && g === 'kcat' && a === '1') ||
  (only.has('latency') && fixedKafkaMax === undefined && g === 'perf' && s === 100 && a === 'all' && p === 1);

const errors: string[] = [];
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    errors.push(msg);
    log(`FAILED ${msg}`);
    return undefined;
  }
}

async function checkCount(
  b: RunningBroker,
  topic: string,
  partitions: number,
  expected: number,
): Promise<void> {
  const sum = (await endOffsets(b.port, topic, partitions)).reduce((x, y) => x + y, 0);
  if (sum !== expected) throw new Error(`${topic}: log end offsets add up to ${sum}, expected ${expected}`);
}

interface Files {
  100: string;
  1024: string;
}

/**
 * kcat -C, or the pipelined client's Fetch loop, of the topic kcat produced with acks=1 (`s`-byte
 * records, `p` partitions) into m.
 */
async function lightConsumeRun(
  b: RunningBroker,
  tag: string,
  m: Record<string, number>,
  s: (typeof SIZES)[number],
  p: number,
  g: (typeof LIGHT_CONSUMERS)[number],
  steal: StealMeter,
): Promise<void> {
  const key = consumeKey(g, s, p);
  const topic = produceKey('kcat', s, '1', p).replaceAll('.', '-');
  const records = S.kcat[s];
  const { result: secs, stealPct } = await steal.measure(() =>
    g === 'pipelined'
      ? pipelinedConsume({ port: b.port, topic, partitions: p, records, atLeast: isCeiling(b) })
      : g === 'native'
        ? nativeConsume({ port: b.port, topic, partitions: p, records, atLeast: isCeiling(b) })
        : kcatConsume(b.port, topic, records, g === 'kcatq' ? KCAT_LARGE_QUEUE : []),
  );
  m[key] = (records * s) / 1e6 / secs;
  log(`${tag} ${key}: ${m[key].toFixed(1)} MB/s${stealNote(stealPct)}`);
}

/** A run's hypervisor steal in its log line, when there was any worth a mention. */
const stealNote = (pct: number) => (pct >= 1 ? `, steal ${pct.toFixed(0)} %` : '');
/** kbroker's segment-write moves seen so far, per broker (segmentWriteMovesNote). */
const movesSeen = new WeakMap<RunningBroker, number>();

/**
 * The no-op server (bench/kafka/null-broker.ts): it answers a fetch with whatever it has, so a consumer
 * counts records at least up to the target rather than exactly.
 */
function isCeiling(b: RunningBroker): boolean {
  return b.name === 'ceiling';
}

/** The consumers that need no JVM: kcat with each queue setting, the pipelined and the native client. */
const LIGHT_CONSUMERS = ['kcat', 'kcatq', 'pipelined', 'native'] as const;

/** The (record size, partitions) of each consume run: the kcat acks=1 topics produced in `m`. */
function* consumeTopics(m: Record<string, number>): Generator<[(typeof SIZES)[number], number]> {
  if (!runs('consume')) return;
  for (const s of SIZES)
    for (const p of PARTITIONS) if (m[produceKey('kcat', s, '1', p)] !== undefined) yield [s, p];
}

/** Everything measured on one running broker; `kafkaMax` is Kafka's max records/s for the latency rates. */
async function measure(
  b: RunningBroker,
  files: Files,
  tag: string,
  kafkaMax: number | undefined,
): Promise<Record<string, number>> {
  const m: Record<string, number> = {};
  // The no-op server: only the light clients' rows, for their ceiling (its start, memory and CPU mean nothing).
  const ceiling = isCeiling(b);
  if (!ceiling) {
    m['start.connect'] = b.launchToConnectMs;
    m['start.ready'] = b.launchToReadyMs;
    m['rss.idle'] = b.idleRss / 2 ** 20;
  }
  log(
    `${tag}: ready in ${b.launchToReadyMs.toFixed(0)} ms, idle RSS ${(b.idleRss / 2 ** 20).toFixed(0)} MiB`,
  );

  await attempt(`${tag} warm-up`, async () => {
    await createTopic(b.port, 'warmup', 1);
    await kcatProduce(b.port, 'warmup', files[100], '1');
    await kcatConsume(b.port, 'warmup', S.kcat[100]);
    await pipelinedConsume({
      port: b.port,
      topic: 'warmup',
      partitions: 1,
      records: S.kcat[100],
      atLeast: ceiling,
    });
  });

  // --- produce
  const produceSteal = new StealMeter();
  const consumeSteal = new StealMeter();
  const cpu: Record<Gen, { secs: number; bytes: number }> = {
    kcat: { secs: 0, bytes: 0 },
    perf: { secs: 0, bytes: 0 },
    pipelined: { secs: 0, bytes: 0 },
    native: { secs: 0, bytes: 0 },
  };
  for (const s of SIZES)
    for (const a of ACKS)
      for (const p of PARTITIONS)
        for (const g of GENERATORS) {
          if (!producesHere(g, s, a, p) || (ceiling && g === 'perf')) continue;
          const key = produceKey(g, s, a, p);
          const topic = key.replaceAll('.', '-');
          await attempt(`${tag} ${key}`, async () => {
            await createTopic(b.port, topic, p);
            const dirty = settleDirtyPages();
            const records = S[g][s];
            const cpu0 = cpuSeconds(b.pid);
            const { result: recordsPerSec, stealPct } = await produceSteal.measure(async () => {
              if (g === 'kcat') return records / (await kcatProduce(b.port, topic, files[s], a));
              if (g === 'perf') {
                const r = await perfProduce({
                  port: b.port,
                  topic,
                  records,
                  size: s,
                  acks: a,
                  throughput: -1,
                });
                if (r.records !== records) throw new Error(`perf-test sent ${r.records} of ${records}`);
                return r.recordsPerSec;
              }
              const load = {
                port: b.port,
                topic,
                partitions: p,
                records,
                recordBytes: s,
                acks: a === 'all' ? -1 : 1,
              };
              return records / (g === 'native' ? await nativeProduce(load) : await pipelinedProduce(load));
            });
            const used = cpuSeconds(b.pid) - cpu0;
            await checkCount(b, topic, p, records);
            m[key] = (recordsPerSec * s) / 1e6;
            cpu[g].secs += used;
            cpu[g].bytes += records * s;
            log(
              `${tag} ${key}: ${m[key].toFixed(1)} MB/s, ${(recordsPerSec / 1e3).toFixed(0)} k rec/s${stealNote(stealPct)}${segmentWriteMovesNote(b, movesSeen)} (${dirty.toFixed(0)} MiB dirty written back first)`,
            );
          });
        }
  if (ceiling) {
    // The light clients' figures only: CPU and memory of the no-op server are not a broker's.
    for (const [s, p] of consumeTopics(m))
      for (const g of LIGHT_CONSUMERS)
        await attempt(`${tag} ${consumeKey(g, s, p)}`, () =>
          lightConsumeRun(b, tag, m, s, p, g, consumeSteal),
        );
    return m;
  }
  if (runs('durable')) {
    for (const g of DURABLE_GENS)
      for (const s of SIZES) {
        const key = durableKey(g, s);
        const topic = key.replaceAll('.', '-');
        // kcat sends its whole file (large batches: few fsyncs); the pipelined client a tenth of its
        // acks=all run in 100-record batches, an fsync per acknowledgement being slow on both.
        const records = g === 'kcat' ? S.kcat[s] : Math.ceil(S.pipelined[s] / 10);
        await attempt(`${tag} ${key}`, async () => {
          await createTopic(b.port, topic, 1, { 'flush.messages': '1' });
          settleDirtyPages();
          const secs =
            g === 'kcat'
              ? await kcatProduce(b.port, topic, files[s], 'all')
              : await pipelinedProduce({
                  port: b.port,
                  topic,
                  partitions: 1,
                  records,
                  recordBytes: s,
                  acks: -1,
                  connections: g === 'pipelined8' ? DURABLE_CONNECTIONS : 1,
                });
          await checkCount(b, topic, 1, records);
          m[key] = (records * s) / 1e6 / secs;
          log(`${tag} ${key}: ${m[key].toFixed(1)} MB/s${segmentWriteMovesNote(b, movesSeen)}`);
        });
      }
  }
  for (const g of GENERATORS)
    if (cpu[g].bytes > 0) m[`cpu.produce.${g}`] = cpu[g].secs / (cpu[g].bytes / 1e9);
  const all = Object.values(cpu).reduce((x, y) => ({ secs: x.secs + y.secs, bytes: x.bytes + y.bytes }));
  if (all.bytes > 0) m['cpu.produce'] = all.secs / (all.bytes / 1e9);

  // --- consume what kcat produced with acks=1
  let consumeCpu = 0;
  let consumeBytes = 0;
  for (const [s, p] of consumeTopics(m)) {
    const topic = produceKey('kcat', s, '1', p).replaceAll('.', '-');
    const records = S.kcat[s];
    for (const g of LIGHT_CONSUMERS)
      await attempt(`${tag} ${consumeKey(g, s, p)}`, async () => {
        const cpu0 = cpuSeconds(b.pid);
        await lightConsumeRun(b, tag, m, s, p, g, consumeSteal);
        consumeCpu += cpuSeconds(b.pid) - cpu0;
        consumeBytes += records * s;
      });
    await attempt(`${tag} ${consumeKey('perf', s, p)}`, async () => {
      const cpu0 = cpuSeconds(b.pid);
      const { result: r, stealPct } = await consumeSteal.measure(() => perfConsume(b.port, topic, records));
      consumeCpu += cpuSeconds(b.pid) - cpu0;
      consumeBytes += records * s;
      if (r.records !== records) throw new Error(`consumer-perf-test read ${r.records} of ${records}`);
      m[consumeKey('perf', s, p)] = (r.recordsPerSec * s) / 1e6;
      log(
        `${tag} ${consumeKey('perf', s, p)}: ${m[consumeKey('perf', s, p)]!.toFixed(1)} MB/s${stealNote(stealPct)}`,
      );
    });
  }
  if (consumeBytes > 0) m['cpu.consume'] = consumeCpu / (consumeBytes / 1e9);
  if (produceSteal.pct !== undefined) m['steal.produce'] = produceSteal.pct;
  if (consumeSteal.pct !== undefined) m['steal.consume'] = consumeSteal.pct;

  if (!runs('latency')) {
    const mem = memory(b.pid);
    m['rss.after'] = mem.rss / 2 ** 20;
    m['rss.peak'] = mem.hwm / 2 ** 20;
    return m;
  }
  // --- latency at fixed rates, relative to Kafka's max (perf-test, 100 B, acks=all, one partition)
  const max = kafkaMax ?? (m[produceKey('perf', 100, 'all', 1)] ?? Number.NaN) * 1e4;
  /** Records/s at `pct` % of Kafka's maximum: the rate of both the perf-test's and the light client's runs. */
  const rateAt = (pct: number) => {
    if (!Number.isFinite(max)) throw new Error("no maximum measured for Kafka's perf-test 100 B acks=all");
    return Math.max(1, Math.round((max * pct) / 100));
  };
  const latencySteal = new StealMeter();
  for (const pct of LOAD_PCTS) {
    await attempt(`${tag} latency at ${pct} %`, async () => {
      const rate = rateAt(pct);
      const topic = `latency-${pct}`;
      await createTopic(b.port, topic, 1);
      await b.serverMark();
      const { result: r, stealPct } = await latencySteal.measure(() =>
        perfProduce({
          port: b.port,
          topic,
          records: Math.max(100, rate * S.latencySecs),
          size: 100,
          acks: 'all',
          throughput: rate,
        }),
      );
      m[`latency.${pct}.p50`] = r.p50;
      m[`latency.${pct}.p99`] = r.p99;
      m[`latency.${pct}.p999`] = r.p999;
      m[`latency.${pct}.rate`] = r.recordsPerSec;
      const server = await b.serverStats();
      if (server) {
        m[`latency.${pct}.gcMax`] = server.gcMaxMs;
        m[`latency.${pct}.gcTotal`] = server.gcTotalMs;
      }
      if (server?.loopP99Ms !== undefined) m[`latency.${pct}.loopP99`] = server.loopP99Ms;
      if (server?.loopMaxMs !== undefined) m[`latency.${pct}.loopMax`] = server.loopMaxMs;
      if (server?.fsyncOnLoopTotalMs !== undefined)
        m[`latency.${pct}.fsyncOnLoop`] = server.fsyncOnLoopTotalMs;
      m[`latency.${pct}.load`] = loadavg()[0]!;
      const gc = server
        ? `; server: GC ${server.gcCount} pauses, longest ${server.gcMaxMs.toFixed(1)} ms`
        : '';
      const loop =
        server?.loopP99Ms === undefined
          ? ''
          : `, event-loop delay p99 ${server.loopP99Ms.toFixed(1)} max ${server.loopMaxMs!.toFixed(1)} ms, ${server.fsyncOnLoopCount} fsyncs on the loop (${server.fsyncOnLoopTotalMs!.toFixed(1)} ms, longest ${server.fsyncOnLoopMaxMs!.toFixed(1)} ms)`;
      log(
        `${tag} latency at ${pct} % (${rate} rec/s asked, ${r.recordsPerSec.toFixed(0)} done): p50 ${r.p50} p99 ${r.p99} p99.9 ${r.p999} ms${gc}${loop}; load ${loadavg()[0]!.toFixed(1)}${stealNote(stealPct)}`,
      );
    });
  }
  // The same rates from the project's light client: a request every millisecond with the records
  // due, acks=all, open loop, latency per request from its write (bench/kafka/wire.ts fixedRateProduce).
  for (const pct of LOAD_PCTS) {
    await attempt(`${tag} light-client latency at ${pct} %`, async () => {
      const rate = rateAt(pct);
      const topic = `latency-light-${pct}`;
      await createTopic(b.port, topic, 1);
      const { result: r, stealPct } = await latencySteal.measure(() =>
        fixedRateProduce({ port: b.port, topic, rate, secs: S.latencySecs, recordBytes: 100 }),
      );
      m[`latency.${pct}.light.p50`] = r.p50;
      m[`latency.${pct}.light.p99`] = r.p99;
      m[`latency.${pct}.light.p999`] = r.p999;
      log(
        `${tag} light-client latency at ${pct} % (${rate} rec/s asked, ${r.recordsPerSec.toFixed(0)} done, ${r.requests} requests): p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} p99.9 ${r.p999.toFixed(2)} ms${stealNote(stealPct)}`,
      );
    });
  }
  await attempt(`${tag} e2e latency`, async () => {
    await createTopic(b.port, 'e2e', 1);
    const r = await e2eLatency(b.port, 'e2e', S.e2e, 100);
    m['e2e.avg'] = r.avg;
    m['e2e.p50'] = r.p50;
    m['e2e.p99'] = r.p99;
    m['e2e.p999'] = r.p999;
    log(`${tag} e2e latency: avg ${r.avg} p50 ${r.p50} p99 ${r.p99} p99.9 ${r.p999} ms`);
  });

  if (latencySteal.pct !== undefined) m['steal.latency'] = latencySteal.pct;
  const mem = memory(b.pid);
  m['rss.after'] = mem.rss / 2 ** 20;
  m['rss.peak'] = mem.hwm / 2 ** 20;
  log(`${tag}: RSS after the load ${m['rss.after'].toFixed(0)} MiB, peak ${m['rss.peak'].toFixed(0)} MiB`);
  return m;
}

function resultsOf(rounds: RoundResult[], t0: number): BenchResults {
  return {
    kind: 'kbroker-vs-kafka',
    date: new Date().toISOString(),
    kafkaVersion: KAFKA_VERSION,
    node: process.version,
    host: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    mode: quick ? 'quick' : 'full',
    settings: {
      rounds: rounds.length,
      kcatRecords100: S.kcat[100],
      kcatRecords1k: S.kcat[1024],
      pipelinedRecords100: S.pipelined[100],
      pipelinedRecords1k: S.pipelined[1024],
      nativeRecords100: S.native[100],
      nativeRecords1k: S.native[1024],
      perfRecords100: S.perf[100],
      perfRecords1k: S.perf[1024],
      pipelinedBatchRecords: 100,
      pipelinedInFlight: 8,
      latencySecs: S.latencySecs,
      only: [...only].sort().join(',') || 'all',
      kbrokerThreads,
      kbrokerOverrides: kbrokerOverrides.join(' ') || 'none',
      kafkaMaxGiven: fixedKafkaMax ?? 'measured',
      e2eRecords: S.e2e,
      minutes: Math.round((Date.now() - t0) / 6000) / 10,
    },
    metrics,
    rounds,
    errors,
  };
}

function writeResults(res: BenchResults): void {
  mkdirSync(join(outFile, '..'), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(res, null, 2)}\n`);
  const target = targetLines(res);
  writeFileSync(
    outFile.replace(/\.json$/, '.md'),
    `${formatMarkdown(res)}\n${target.length > 0 ? `\n${target.join('\n')}\n` : ''}`,
  );
}

async function main(): Promise<void> {
  installCleanup();
  await installKafka();
  const work = tempDir('kbroker-bench-files-');
  const files: Files = { 100: join(work, 'records-100.txt'), 1024: join(work, 'records-1024.txt') };
  writeRecordsFile(files[100], S.kcat[100], 100);
  writeRecordsFile(files[1024], S.kcat[1024], 1024);
  const t0 = Date.now();
  const threadsNote =
    (kbrokerThreads > 1 ? `, kbroker with --threads ${kbrokerThreads}` : '') +
    kbrokerOverrides.map((o) => `, kbroker with ${o}`).join('');
  log(`kbroker vs Apache Kafka ${KAFKA_VERSION}: ${rounds} round(s)${quick ? ', quick' : ''}${threadsNote}`);

  const results: RoundResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    const r: RoundResult = { round, kafka: {}, kbroker: {}, ceiling: {} };
    for (const name of ['kafka', 'kbroker', 'ceiling'] as const) {
      if (name === 'ceiling' && onlyMode && !consumeOnly && !produceOnly) continue; // no light-client rows in these modes
      const tag = `round ${round} ${name === 'ceiling' ? 'no-op ceiling' : name}`;
      const starts = {
        kafka: startKafka,
        kbroker: () => startKbroker(kbrokerOverrides, kbrokerThreads),
        ceiling: startNullBroker,
      };
      const b = await attempt(`${tag} start`, () => starts[name]());
      if (!b) continue;
      try {
        const kafkaMax =
          fixedKafkaMax ??
          (name === 'kafka' ? undefined : (r.kafka[produceKey('perf', 100, 'all', 1)] ?? Number.NaN) * 1e4);
        r[name] = await measure(b, files, tag, kafkaMax);
      } finally {
        await b.stop();
      }
    }
    results.push(r);
    // Written after every round, so an interrupted run still leaves what it measured.
    writeResults(resultsOf(results, t0));
  }
  const res = resultsOf(results, t0);
  console.log(
    `\nkbroker${kbrokerThreads > 1 ? ` --threads ${kbrokerThreads}` : ''} vs Apache Kafka ${KAFKA_VERSION}, ${res.rounds.length} round(s), median [min–max]; ratio = kbroker/Kafka within each round`,
  );
  console.log(formatTable(res));
  const target = targetLines(res);
  if (target.length > 0) console.log(`\n${target.join('\n')}`);
  console.log(
    `\nresults: ${outFile} (Markdown table beside it); took ${((Date.now() - t0) / 60_000).toFixed(1)} min`,
  );
  if (errors.length > 0) {
    console.log(
      `\n${errors.length} run(s) failed:\n${errors.map((e) => `  ${e.split('\n')[0]}`).join('\n')}`,
    );
    process.exitCode = 1;
  }
}

try {
  await main();
} finally {
  cleanupAll();
}
