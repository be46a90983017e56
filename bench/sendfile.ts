/**
 * socket.sendfile.enable on and off, alternating (after `npm run build`):
 *   tsx bench/sendfile.ts [--rounds N]
 * Two loads against a broker process (bench:kafka's startKbroker: defaults but the setting):
 * - one pipelined consumer (bench/kafka/wire.ts: Fetch v11, one request in flight, 1 MiB per
 *   partition) reading 300,000 × 1 KiB from 1 and from 6 partitions, five times: MB/s (median) and
 *   the broker's CPU per GB read, the event loop's thread apart from the others (from /proc);
 * - a mixed load: one client process produces 600,000 × 1 KiB (acks=1, 1 partition) while another
 *   consumes a 6-partition topic over and over for 6 s: both rates and the broker's CPU seconds.
 * Prints a Markdown table of medians over the rounds, each with its range.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type RunningBroker, startKbroker } from './kafka/brokers.js';
import { cpuSeconds, installCleanup, threadCpuSeconds } from './kafka/procs.js';
import { stat } from './kafka/report.js';
import { createTopic, pipelinedConsume, pipelinedProduce } from './kafka/wire.js';

const RECORD = 1024;
const CONSUME_RECORDS = 300_000;
const self = fileURLToPath(import.meta.url);

// Child roles of the mixed load (each its own process, as clients are).
const role = process.argv[2];
if (role === 'produce' || role === 'consume') {
  const port = Number(process.argv[3]);
  const t0 = performance.now();
  let bytes = 0;
  if (role === 'produce') {
    const records = 600_000;
    await pipelinedProduce({
      port,
      topic: 'p',
      partitions: 1,
      records,
      recordBytes: RECORD,
      acks: 1,
      batchRecords: 100,
    });
    bytes = records * RECORD;
  } else {
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      await pipelinedConsume({ port, topic: 'c', partitions: 6, records: CONSUME_RECORDS });
      bytes += CONSUME_RECORDS * RECORD;
    }
  }
  console.log(JSON.stringify({ mbs: bytes / 1e6 / ((performance.now() - t0) / 1000) }));
  process.exit(0);
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
installCleanup();
const rounds = Number(values.rounds);

/** The broker (bench:kafka's start: defaults, group.initial.rebalance.delay.ms=0) with the setting on or off. */
function startBroker(sendfile: boolean): Promise<RunningBroker> {
  return startKbroker([`socket.sendfile.enable=${sendfile}`]);
}

/** CPU seconds of the broker's event-loop thread and of all its other threads together. */
function brokerCpu(b: RunningBroker): { loop: number; other: number } {
  const loop = threadCpuSeconds(b.pid, b.pid);
  return { loop, other: cpuSeconds(b.pid) - loop };
}

type Figures = Record<string, number>;

async function singleConsumer(sendfile: boolean, partitions: number): Promise<Figures> {
  const b = await startBroker(sendfile);
  try {
    await createTopic(b.port, 't', partitions);
    await pipelinedProduce({
      port: b.port,
      topic: 't',
      partitions,
      records: CONSUME_RECORDS,
      recordBytes: RECORD,
      acks: 1,
      batchRecords: 100,
    });
    await pipelinedConsume({ port: b.port, topic: 't', partitions, records: CONSUME_RECORDS });
    const c0 = brokerCpu(b);
    const rates: number[] = [];
    for (let i = 0; i < 5; i++) {
      const secs = await pipelinedConsume({ port: b.port, topic: 't', partitions, records: CONSUME_RECORDS });
      rates.push((CONSUME_RECORDS * RECORD) / 1e6 / secs);
    }
    const c1 = brokerCpu(b);
    const gb = (5 * CONSUME_RECORDS * RECORD) / 1e9;
    return { mbs: stat(rates)!.median, loop: (c1.loop - c0.loop) / gb, other: (c1.other - c0.other) / gb };
  } finally {
    await b.stop();
  }
}

function child(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', self, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out).mbs) : reject(new Error(`${args[0]} exited ${code}`)),
    );
  });
}

async function mixed(sendfile: boolean): Promise<Figures> {
  const b = await startBroker(sendfile);
  try {
    await createTopic(b.port, 'c', 6);
    await createTopic(b.port, 'p', 1);
    await pipelinedProduce({
      port: b.port,
      topic: 'c',
      partitions: 6,
      records: CONSUME_RECORDS,
      recordBytes: RECORD,
      acks: 1,
      batchRecords: 100,
    });
    await pipelinedConsume({ port: b.port, topic: 'c', partitions: 6, records: CONSUME_RECORDS });
    const c0 = cpuSeconds(b.pid);
    const [produce, consume] = await Promise.all([
      child(['produce', String(b.port)]),
      child(['consume', String(b.port)]),
    ]);
    return { produce: produce!, consume: consume!, cpu: cpuSeconds(b.pid) - c0 };
  } finally {
    await b.stop();
  }
}

const results = new Map<string, number[]>();
const add = (key: string, v: number) => results.set(key, [...(results.get(key) ?? []), v]);
for (let r = 1; r <= rounds; r++) {
  for (const sendfile of [true, false]) {
    const on = sendfile ? 'on' : 'off';
    for (const p of [1, 6]) {
      const f = await singleConsumer(sendfile, p);
      add(`one consumer ${p}p MB/s|${on}`, f.mbs!);
      add(`one consumer ${p}p loop CPU s/GB|${on}`, f.loop!);
      add(`one consumer ${p}p other threads CPU s/GB|${on}`, f.other!);
    }
    const m = await mixed(sendfile);
    add(`mixed: produce MB/s|${on}`, m.produce!);
    add(`mixed: consume MB/s|${on}`, m.consume!);
    add(`mixed: broker CPU s|${on}`, m.cpu!);
    console.error(`round ${r} sendfile ${on} done`);
  }
}
const fmt = (xs: number[] | undefined) => {
  const s = stat(xs ?? []);
  if (!s) return '';
  const d = s.max < 10 ? 2 : 0;
  return `${s.median.toFixed(d)} [${s.min.toFixed(d)}–${s.max.toFixed(d)}]`;
};
console.log(`\n${rounds} rounds, alternating; medians [min–max]\n`);
console.log('| figure | sendfile on | sendfile off |\n|---|---|---|');
for (const key of new Set([...results.keys()].map((k) => k.split('|')[0]!))) {
  console.log(`| ${key} | ${fmt(results.get(`${key}|on`))} | ${fmt(results.get(`${key}|off`))} |`);
}
