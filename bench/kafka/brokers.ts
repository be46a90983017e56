/**
 * The two brokers `npm run bench:kafka` compares, each started fresh on a temp data dir and on
 * free 127.0.0.1 ports:
 *   - Apache Kafka (KRaft, one node, combined broker + controller) from the Maven Central jars,
 *     fetched with mvn into compat-tests/.cache the way compat-tests/kafka-tools does, run as
 *     `kafka-server-start.sh` runs it (1 GiB heap, Kafka's JVM flags) with a server.properties
 *     like Kafka's shipped config/server.properties;
 *   - kbroker: `node bin/kbroker.js start` with its defaults, or with `--threads N` (N broker threads
 *     in one process on N consecutive ports; the clients route each partition to its leader);
 *   - and, for the kcat rows only, the ceiling: bench/kafka/null-broker.ts, a server that speaks
 *     the protocol but does no broker work (what kcat and the loopback reach with no broker).
 * Both get `group.initial.rebalance.delay.ms=0`. Launch time is measured from spawn to the first
 * accepted TCP connection and to the first answered ApiVersions request.
 *
 * Server-side figures over a window (`serverMark()` … `serverStats()`), which do not depend on the
 * load generator's CPU: for kbroker, event-loop delay and GC pauses from bench/kafka/loop-probe.cjs
 * (preloaded with NODE_OPTIONS; not under --threads, where the brokers' loops are worker threads the
 * probe does not see); for Kafka, the stop-the-world GC pauses its GC log records.
 */

import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER_NODE_FLAGS } from '../../src/node-flags.js';
import { SEGMENT_WRITES_TO_LOOP, SEGMENT_WRITES_TO_THREAD } from '../../src/storage/log-manager.js';
import { newTopicId } from '../../src/storage/partition-metadata.js';
import { freePort, freePortRun, memory, removeTempDir, run, start, stop, tempDir } from './procs.js';
import { apiVersionsAnswered, connects } from './wire.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KAFKA_VERSION = process.env.BENCH_KAFKA_VERSION ?? '4.3.1';
const here = join(root, 'bench', 'kafka');
export const kafkaLib = join(root, 'compat-tests', '.cache', `kafka-bench-${KAFKA_VERSION}`, 'lib');

/** Kafka's jars (broker and tools) from Maven Central, once, into compat-tests/.cache. */
export async function installKafka(): Promise<void> {
  if (existsSync(join(kafkaLib, '.complete'))) return;
  console.log(
    `fetching Apache Kafka ${KAFKA_VERSION} (kafka_2.13, kafka-tools) from Maven Central with mvn…`,
  );
  const r = await run(
    'mvn',
    [
      '-B',
      '-q',
      '-Dstyle.color=never',
      '-f',
      join(here, 'pom.xml'),
      'dependency:copy-dependencies',
      `-Dkafka.version=${KAFKA_VERSION}`,
      `-DoutputDirectory=${kafkaLib}`,
    ],
    { timeoutMs: 600_000 },
  );
  if (r.code !== 0) throw new Error(`mvn failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  writeFileSync(join(kafkaLib, '.complete'), '');
}

/** Kafka's default JVM flags (kafka-run-class.sh). */
const KAFKA_JVM_PERFORMANCE_OPTS = [
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

/**
 * The java command line of one of Kafka's tools, as its bin/ script runs it: `heap` is the
 * script's KAFKA_HEAP_OPTS (-Xmx512M for the perf tests, kafka-run-class.sh's -Xmx256M otherwise).
 */
export function kafkaToolArgs(main: string, args: string[], heap = '-Xmx256M'): string[] {
  return [
    heap,
    ...KAFKA_JVM_PERFORMANCE_OPTS,
    `-Dlog4j2.configurationFile=${join(root, 'compat-tests', 'kafka-tools', 'log4j2.properties')}`,
    '-cp',
    `${kafkaLib}/*`,
    main,
    ...args,
  ];
}

/** `ceiling`: bench/kafka/null-broker.ts, the kcat rows' bound (a server doing no broker work). */
export type BrokerName = 'kafka' | 'kbroker' | 'ceiling';

export interface RunningBroker {
  name: BrokerName;
  port: number;
  pid: number;
  child: ChildProcess;
  /** spawn → first accepted TCP connection */
  launchToConnectMs: number;
  /** spawn → first ApiVersions answered */
  launchToReadyMs: number;
  /** VmRSS one second after it answered */
  idleRss: number;
  dir: string;
  /** Where its stdout and stderr go. */
  logFile: string;
  stop(): Promise<void>;
  /** Starts a window of server-side figures. */
  serverMark(): Promise<void>;
  /** The server-side figures since the last serverMark(), or undefined where there are none. */
  serverStats(): Promise<ServerStats | undefined>;
}

export interface ServerStats {
  /** Stop-the-world GC pauses: how many, their total and the longest (ms). */
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** kbroker only: event-loop delay percentiles and maximum (ms), sampled every 1 ms. */
  loopP50Ms?: number;
  loopP99Ms?: number;
  loopP999Ms?: number;
  loopMaxMs?: number;
  /** kbroker only: fsyncs run on the event loop (how many, total and longest ms). */
  fsyncOnLoopCount?: number;
  fsyncOnLoopTotalMs?: number;
  fsyncOnLoopMaxMs?: number;
}

type ServerWindow = Pick<RunningBroker, 'serverMark' | 'serverStats'>;

/** Kafka: the pauses its GC log (-Xlog:gc*) gained since the mark ("… GC(7) Pause Young … 4.321ms"). */
function kafkaGcWindow(gcLog: string): ServerWindow {
  let from = 0;
  const size = () => (existsSync(gcLog) ? statSync(gcLog).size : 0);
  return {
    serverMark: async () => {
      from = size();
    },
    serverStats: async () => {
      const text = existsSync(gcLog) ? readFileSync(gcLog).subarray(from).toString('utf8') : '';
      const pauses = [...text.matchAll(/\[gc\s*\] GC\(\d+\) Pause .* ([\d.]+)ms$/gm)].map((m) =>
        Number(m[1]),
      );
      return {
        gcCount: pauses.length,
        gcTotalMs: pauses.reduce((a, b) => a + b, 0),
        gcMaxMs: Math.max(0, ...pauses),
      };
    },
  };
}

/**
 * kbroker: loop-probe.cjs writes a line of figures on each SIGUSR2 (and starts over) — one per broker
 * thread under --threads, merged here: the worst thread's event-loop delay, fsync and GC pause, the
 * GC pauses and fsyncs of all of them summed.
 */
export function kbrokerProbeWindow(child: ChildProcess, probeFile: string, threads: number): ServerWindow {
  const lines = () =>
    existsSync(probeFile) ? readFileSync(probeFile, 'utf8').split('\n').filter(Boolean) : [];
  const ask = async (): Promise<ServerStats> => {
    const before = lines().length;
    child.kill('SIGUSR2');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const now = lines();
      if (now.length >= before + threads) {
        return mergeServerStats(now.slice(before, before + threads).map((l) => JSON.parse(l) as ServerStats));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`kbroker did not write its server-side figures (${threads} lines) to ${probeFile}`);
  };
  return {
    serverMark: async () => {
      await ask();
    },
    serverStats: ask,
  };
}

/** Several broker threads' figures as one broker's: maxima of the worst thread, counts and totals summed. */
export function mergeServerStats(all: readonly ServerStats[]): ServerStats {
  if (all.length === 1) return all[0]!;
  const max = (k: keyof ServerStats) => Math.max(...all.map((s) => s[k] ?? 0));
  const sum = (k: keyof ServerStats) => all.reduce((a, s) => a + (s[k] ?? 0), 0);
  return {
    gcCount: sum('gcCount'),
    gcTotalMs: sum('gcTotalMs'),
    gcMaxMs: max('gcMaxMs'),
    loopP50Ms: max('loopP50Ms'),
    loopP99Ms: max('loopP99Ms'),
    loopP999Ms: max('loopP999Ms'),
    loopMaxMs: max('loopMaxMs'),
    fsyncOnLoopCount: sum('fsyncOnLoopCount'),
    fsyncOnLoopTotalMs: sum('fsyncOnLoopTotalMs'),
    fsyncOnLoopMaxMs: max('fsyncOnLoopMaxMs'),
  };
}

/** Waits for `ports[0]` to accept a connection, then for every port to answer ApiVersions. */
async function waitReady(
  child: ChildProcess,
  ports: readonly number[],
  t0: number,
  what: string,
  logFile: string,
): Promise<{ connectMs: number; readyMs: number }> {
  const port = ports[0]!;
  let waiting = [...ports];
  let connectMs = Number.NaN;
  const deadline = Date.now() + 120_000;
  let exitedEarly = false;
  child.once('exit', () => {
    exitedEarly = true;
  });
  while (Date.now() < deadline && !exitedEarly) {
    if (Number.isNaN(connectMs)) {
      if (await connects(port)) connectMs = performance.now() - t0;
      else {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
    }
    const answered = await Promise.all(waiting.map((p) => apiVersionsAnswered(p)));
    waiting = waiting.filter((_, i) => !answered[i]);
    if (waiting.length === 0) return { connectMs, readyMs: performance.now() - t0 };
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(
    `${what} did not answer on 127.0.0.1:${waiting.join(', ')}${exitedEarly ? ' (it exited)' : ''}; see ${logFile}`,
  );
}

/** start() with the process's stdout and stderr going to `logFile`. */
function startLogged(cmd: string, args: string[], logFile: string, opts: SpawnOptions = {}): ChildProcess {
  const out = createWriteStream(logFile);
  const child = start(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

async function finishStart(
  name: BrokerName,
  child: ChildProcess,
  port: number,
  t0: number,
  dir: string,
  logFile: string,
  window: ServerWindow,
  ports: readonly number[] = [port],
): Promise<RunningBroker> {
  const { connectMs, readyMs } = await waitReady(child, ports, t0, name, logFile);
  await new Promise((r) => setTimeout(r, 1000));
  return {
    name,
    port,
    pid: child.pid!,
    child,
    launchToConnectMs: connectMs,
    launchToReadyMs: readyMs,
    idleRss: memory(child.pid!).rss,
    dir,
    logFile,
    ...window,
    stop: async () => {
      await stop(child);
      if (!process.env.BENCH_KEEP_DATA) removeTempDir(dir);
    },
  };
}

export async function startKafka(): Promise<RunningBroker> {
  const dir = tempDir('kbroker-bench-kafka-');
  const [port, controllerPort] = [await freePort(), await freePort()];
  const props = join(dir, 'server.properties');
  // Kafka's shipped config/server.properties for a combined node, with static voters, the temp
  // data dir, loopback listeners and the benchmark's one change (initial rebalance delay 0).
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'num.network.threads=3',
      'num.io.threads=8',
      'socket.send.buffer.bytes=102400',
      'socket.receive.buffer.bytes=102400',
      'socket.request.max.bytes=104857600',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'num.recovery.threads.per.data.dir=1',
      'offsets.topic.replication.factor=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'log.retention.hours=168',
      'log.segment.bytes=1073741824',
      'log.retention.check.interval.ms=300000',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  // A Kafka Uuid (newTopicId draws as Uuid.randomUuid does): a plain base64url id starting with '-'
  // read as an option to kafka-storage's argument parser and failed one start in 64.
  const clusterId = newTopicId();
  const fmt = await run(
    'java',
    kafkaToolArgs('kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', props]),
    {
      timeoutMs: 120_000,
    },
  );
  if (fmt.code !== 0) throw new Error(`kafka-storage format failed:\n${fmt.stdout}\n${fmt.stderr}`);
  const logFile = join(dir, 'kafka.out');
  const gcLog = join(dir, 'kafkaServer-gc.log');
  const t0 = performance.now();
  const child = startLogged(
    'java',
    [
      '-Xmx1G',
      '-Xms1G',
      ...KAFKA_JVM_PERFORMANCE_OPTS,
      `-Xlog:gc*:file=${gcLog}:time,tags:filecount=10,filesize=100M`,
      `-Dkafka.logs.dir=${dir}`,
      `-Dlog4j2.configurationFile=${join(here, 'log4j2-broker.properties')}`,
      '-cp',
      `${kafkaLib}/*`,
      'kafka.Kafka',
      props,
    ],
    logFile,
  );
  return finishStart('kafka', child, port, t0, dir, logFile, kafkaGcWindow(gcLog));
}

/**
 * kbroker with its defaults (plus `overrides`, key=value, as `--override`); with `threads` > 1,
 * `--threads` of them on consecutive ports from the one returned. Ready once every thread answers.
 */
export async function startKbroker(overrides: readonly string[] = [], threads = 1): Promise<RunningBroker> {
  const dir = tempDir('kbroker-bench-kbroker-');
  const port = threads > 1 ? await freePortRun(threads) : await freePort();
  const data = join(dir, 'data');
  mkdirSync(data);
  const logFile = join(dir, 'kbroker.out');
  const probeFile = join(dir, 'server-figures.jsonl');
  const t0 = performance.now();
  const child = startLogged(
    process.execPath,
    [
      // e.g. BENCH_KBROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" for a profile of the broker
      // under a benchmark's load (Node refuses --cpu-prof in NODE_OPTIONS).
      ...BROKER_NODE_FLAGS,
      ...(process.env.BENCH_KBROKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      join(root, 'bin', 'kbroker.js'),
      'start',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      data,
      '--override',
      'group.initial.rebalance.delay.ms=0',
      ...overrides.flatMap((o) => ['--override', o]),
      ...(threads > 1 ? ['--threads', String(threads)] : []),
    ],
    logFile,
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(here, 'loop-probe.cjs')}`.trim(),
        KBROKER_BENCH_PROBE: probeFile,
      },
    },
  );
  const ports = Array.from({ length: threads }, (_, i) => port + i);
  return finishStart(
    'kbroker',
    child,
    port,
    t0,
    dir,
    logFile,
    kbrokerProbeWindow(child, probeFile, threads),
    ports,
  );
}

/**
 * kbroker's auto-mode moves of its segment writes (the INFO lines of src/storage/log-manager.ts) in a
 * log's text: how many, and where the writes were after the last (undefined when none).
 */
export function segmentWriteMoves(logText: string): { moves: number; onThread: boolean | undefined } {
  let moves = 0;
  let onThread: boolean | undefined;
  for (const line of logText.split('\n')) {
    if (line.includes(SEGMENT_WRITES_TO_THREAD)) onThread = true;
    else if (line.includes(SEGMENT_WRITES_TO_LOOP)) onThread = false;
    else continue;
    moves++;
  }
  return { moves, onThread };
}

/**
 * For a run's log line: the segment-write moves kbroker logged since the last call for this broker
 * (a run that met a page cache slow to grow, README "Segment writes that move to a thread…").
 */
export function segmentWriteMovesNote(b: RunningBroker, seen: WeakMap<RunningBroker, number>): string {
  if (b.name !== 'kbroker') return '';
  let text: string;
  try {
    text = readFileSync(b.logFile, 'utf8');
  } catch {
    return '';
  }
  const { moves, onThread } = segmentWriteMoves(text);
  const fresh = moves - (seen.get(b) ?? 0);
  seen.set(b, moves);
  if (fresh <= 0) return '';
  return `, segment writes moved ${fresh}× (now ${onThread ? 'on the writer thread' : 'on the event loop'})`;
}

/** The kcat rows' ceiling: bench/kafka/null-broker.ts in its own process (no server-side figures). */
export async function startNullBroker(): Promise<RunningBroker> {
  const dir = tempDir('kbroker-bench-null-');
  const port = await freePort();
  const logFile = join(dir, 'null-broker.out');
  const t0 = performance.now();
  const child = startLogged(
    process.execPath,
    ['--import', 'tsx', join(here, 'null-broker.ts'), '--port', String(port)],
    logFile,
    { cwd: root },
  );
  const none: ServerStats = { gcCount: 0, gcTotalMs: 0, gcMaxMs: 0 };
  return finishStart('ceiling', child, port, t0, dir, logFile, {
    serverMark: async () => {},
    serverStats: async () => none,
  });
}
