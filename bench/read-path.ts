/**
 * The read path under a real consumer, broker side (issue 16): one kbroker build serves a topic to
 * kcat (librdkafka defaults: fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB,
 * fetch.wait.max.ms 500) or kafka-consumer-perf-test, and prints per consume run the wall time,
 * MB/s of record values and the broker's CPU seconds (utime+stime from /proc) per GB consumed.
 *
 *   tsx bench/read-path.ts [--root DIR] [--size 1024] [--records 200000] [--partitions 1]
 *                          [--consumer kcat|perf] [--runs 3] [--prof DIR] [--strace FILE] [--trace FILE]
 *
 * `--root` picks the kbroker checkout to run (its bin/kbroker.js, built), so two builds can be
 * measured alternately with the same load. The first consume run warms the JIT and the page cache
 * and is not printed. `--prof DIR`: the broker runs with --cpu-prof (written to DIR at exit).
 * `--strace FILE`: strace -c -f attached to the broker for the last run (syscall counts and time);
 * `--verify`: numbered records, and a first consume (kcat with CRC checks) checked record by record.
 * `--trace FILE`: strace -f -tt -T of read/pread64/write/writev/epoll_wait for the last run (sizes
 * and the time from a request's arrival to the first response byte).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, createReadStream, mkdirSync, openSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { BROKER_NODE_FLAGS } from '../src/node-flags.js';
import { root as here, kafkaToolArgs } from './kafka/brokers.js';
import { writeRecordsFile } from './kafka/loads.js';
import {
  cleanupAll,
  cpuSeconds,
  freePort,
  installCleanup,
  run,
  start,
  stop,
  tempDir,
} from './kafka/procs.js';
import { connects, createTopic, endOffsets } from './kafka/wire.js';

const { values: args } = parseArgs({
  options: {
    root: { type: 'string' },
    size: { type: 'string', default: '1024' },
    records: { type: 'string' },
    partitions: { type: 'string', default: '1' },
    consumer: { type: 'string', default: 'kcat' },
    runs: { type: 'string', default: '3' },
    prof: { type: 'string' },
    strace: { type: 'string' },
    trace: { type: 'string' },
    verify: { type: 'boolean', default: false },
  },
  strict: true,
});
const root = resolve(args.root ?? here);
const size = Number(args.size);
const records = Number(args.records ?? (size >= 1024 ? 200_000 : 2_000_000));
const partitions = Number(args.partitions);
const runs = Number(args.runs);
const consumer = args.consumer!;
if (consumer !== 'kcat' && consumer !== 'perf') throw new Error('--consumer takes kcat or perf');

installCleanup();
const dir = tempDir('kbroker-read-path-');
const data = join(dir, 'data');
mkdirSync(data);
const port = await freePort();
const nodeFlags = args.prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args.prof)}`] : [];
const broker = start(
  process.execPath,
  [
    ...BROKER_NODE_FLAGS,
    ...nodeFlags,
    join(root, 'bin', 'kbroker.js'),
    'start',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    data,
    '--log-level',
    'warn',
    '--override',
    'group.initial.rebalance.delay.ms=0',
  ],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
);
const deadline = Date.now() + 60_000;
while (!(await connects(port))) {
  if (Date.now() > deadline) throw new Error('kbroker did not start');
  await new Promise((r) => setTimeout(r, 20));
}
const pid = broker.pid!;
const topic = `read-${size}-${partitions}`;
await createTopic(port, topic, partitions);
const file = join(dir, 'records.txt');
if (args.verify) writeNumberedRecords(file, records, size);
else writeRecordsFile(file, records, size);
const produced = await run('kcat', [
  '-P',
  '-b',
  `127.0.0.1:${port}`,
  '-t',
  topic,
  '-X',
  'acks=1',
  '-l',
  file,
]);
if (produced.code !== 0) throw new Error(`kcat -P: ${produced.stderr}`);
const ends = await endOffsets(port, topic, partitions);
const total = ends.reduce((a, b) => a + b, 0);
if (total !== records) throw new Error(`produced ${total} of ${records}`);

/** Records numbered 0..n-1 (the number zero-padded to 12 digits, then letters up to `size`). */
function writeNumberedRecords(path: string, n: number, size: number): void {
  const fd = openSync(path, 'w');
  const line = Buffer.alloc(size + 1, 'v');
  line[size] = 10;
  const chunk: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const l = Buffer.from(line);
    l.write(String(i).padStart(12, '0'), 0);
    chunk.push(l);
    if (chunk.length === 4096 || i === n - 1) writeSync(fd, Buffer.concat(chunk.splice(0)));
  }
  closeSync(fd);
}

/**
 * kcat -C with CRC checks, printing partition, offset and value: every partition's offsets must
 * run from 0 without a gap or repeat, and every produced record must come back exactly once.
 */
async function verifyConsume(): Promise<void> {
  const out = join(dir, 'consumed.txt');
  const r = await run('sh', [
    '-c',
    `kcat -C -b 127.0.0.1:${port} -t ${topic} -o beginning -c ${records} -e -X check.crcs=true -f '%p %o %s\\n' > ${out}`,
  ]);
  if (r.code !== 0 || /exiting|error/i.test(r.stderr)) throw new Error(`kcat -C (verify): ${r.stderr}`);
  const next = new Map<number, number>();
  const seen = new Uint8Array(records);
  let count = 0;
  for await (const l of createInterface({ input: createReadStream(out) })) {
    const [p, o, v] = l.split(' ') as [string, string, string];
    const partition = Number(p);
    const offset = Number(o);
    if (offset !== (next.get(partition) ?? 0))
      throw new Error(`partition ${partition}: offset ${offset}, expected ${next.get(partition) ?? 0}`);
    next.set(partition, offset + 1);
    const i = Number(v.slice(0, 12));
    if (v.length !== size || !(i >= 0 && i < records) || seen[i])
      throw new Error(`bad or repeated record at ${p}/${o}`);
    seen[i] = 1;
    count++;
  }
  if (count !== records) throw new Error(`consumed ${count} of ${records}`);
  console.log(`verified: ${count} records, each once, offsets contiguous in ${next.size} partition(s)`);
}

/** Seconds the consume took and the consumer's own CPU seconds (kcat only, from /usr/bin/time). */
async function consumeOnce(): Promise<{ secs: number; clientCpu: number }> {
  if (consumer === 'kcat') {
    const r = await run(
      '/usr/bin/time',
      [
        '-f',
        'client-cpu %U %S',
        'kcat',
        '-C',
        '-b',
        `127.0.0.1:${port}`,
        '-t',
        topic,
        '-o',
        'beginning',
        '-c',
        String(records),
        '-e',
      ],
      { discardStdout: true },
    );
    if (r.code !== 0 || /exiting/.test(r.stderr)) throw new Error(`kcat -C: ${r.stderr}`);
    const m = /client-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
    return { secs: r.ms / 1000, clientCpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN };
  }
  const r = await run(
    'java',
    kafkaToolArgs(
      'org.apache.kafka.tools.ConsumerPerformance',
      [
        '--bootstrap-server',
        `127.0.0.1:${port}`,
        '--topic',
        topic,
        '--messages',
        String(records),
        '--timeout',
        '30000',
      ],
      '-Xmx512M',
    ),
  );
  if (r.code !== 0) throw new Error(`consumer-perf-test: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.includes(','));
  const head = lines.findIndex((l) => l.includes('fetch.nMsg.sec'));
  const names = lines[head]!.split(',').map((s) => s.trim());
  const values = lines[head + 1]!.split(',').map((s) => s.trim());
  return { secs: records / Number(values[names.indexOf('fetch.nMsg.sec')]), clientCpu: Number.NaN };
}

function attach(kind: 'count' | 'trace', out: string): ChildProcess {
  const opts =
    kind === 'count'
      ? ['-c', '-f']
      : ['-f', '-tt', '-T', '-e', 'trace=read,pread64,write,writev,epoll_wait,epoll_pwait', '-s', '0'];
  return spawn('strace', [...opts, '-o', resolve(out), '-p', String(pid)], { stdio: 'ignore' });
}

console.log(
  `${root}: ${consumer}, ${records} × ${size} B in ${partitions} partition(s), load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
if (args.verify) await verifyConsume();
await consumeOnce(); // warm-up
for (let i = 0; i < runs; i++) {
  const last = i === runs - 1;
  const tracer =
    last && args.strace
      ? attach('count', args.strace)
      : last && args.trace
        ? attach('trace', args.trace)
        : null;
  if (tracer) await new Promise((r) => setTimeout(r, 500));
  const cpu0 = cpuSeconds(pid);
  const { secs, clientCpu } = await consumeOnce();
  const cpu = cpuSeconds(pid) - cpu0;
  if (tracer) {
    tracer.kill('SIGINT');
    await new Promise((r) => tracer.once('exit', r));
  }
  const gb = (records * size) / 1e9;
  console.log(
    `run ${i + 1}: ${secs.toFixed(3)} s, ${((records * size) / 1e6 / secs).toFixed(0)} MB/s, broker CPU ${cpu.toFixed(2)} s = ${(cpu / gb).toFixed(2)} s/GB, consumer CPU ${(clientCpu / gb).toFixed(2)} s/GB${tracer ? ' (traced)' : ''}, load ${loadavg()[0]!.toFixed(1)}`,
  );
}
await stop(broker);
cleanupAll();
