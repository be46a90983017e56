/**
 * `npm run soak -- --minutes N [--rate R] [--out FILE]`
 *
 * A long steady load on one broker — the built CLI (`node bin/kbroker.js start`, run `npm run
 * build` first) in its own process, as a developer runs it — while its resident memory, heap and
 * event-loop delay are read from its own /metrics every 10 s:
 * - producers (kafkajs, acks=all) send R records/s of 256 bytes to a 6-partition topic whose
 *   segments roll every 4 MiB and are deleted past 16 MiB a partition, so the disk stays bounded
 *   and retention runs all along;
 * - a steady group of three consumers reads it; every 15 s its oldest member leaves and a new one
 *   joins (a rebalance each time);
 * - every 30 s a short-lived group joins, reads for 10 s, leaves, and is deleted (DeleteGroups),
 *   so groups come and go as in a CI machine's day.
 * The report (report.ts) compares the first and the last minute and fits a slope to each series;
 * a series is flat when neither moves past its tolerance. The samples and the summary are
 * written as JSON to --out. Exit code 0 when flat and no record was lost, 1 otherwise.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { BROKER_NODE_FLAGS } from '../../src/node-flags.js';
import { formatSummary, type SoakSample, type SoakSummary, summarize } from './report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOPIC = 'soak';
const PARTITIONS = 6;
const SAMPLE_EVERY_MS = 10_000;

export interface SoakOptions {
  minutes: number;
  /** Records per second over all producers. */
  rate: number;
  producers: number;
  progress?: (line: string) => void;
}

export interface SoakResult {
  summary: SoakSummary;
  samples: SoakSample[];
  produced: number;
  produceErrors: number;
  consumedBySteadyGroup: number;
  rebalances: number;
  churnGroups: number;
  /** Highest per-partition offset acknowledged by producers vs what the broker reports at the end. */
  lostRecords: number;
  brokerExit: number | string | null;
}

interface Broker {
  child: ChildProcess;
  port: number;
  httpPort: number;
  output(): string;
}

function startBroker(dataDir: string): Promise<Broker> {
  const child = spawn(
    process.execPath,
    [
      ...BROKER_NODE_FLAGS,
      join(root, 'bin', 'kbroker.js'),
      'start',
      '--port',
      '0',
      '--http-port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      '--override',
      'group.initial.rebalance.delay.ms=0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start:\n${out}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}:\n${out}`)));
    const poll = setInterval(() => {
      const port = /kbroker listening on [^:]+:(\d+)/.exec(out);
      const http = /admin HTTP on [^:]+:(\d+)/.exec(out);
      if (!port || !http) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ child, port: Number(port[1]), httpPort: Number(http[1]), output: () => out });
    }, 50);
  });
}

/** The numbers a sample needs from the broker's /metrics (the lag histogram resets on each scrape). */
async function scrape(httpPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const say = opts.progress ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-soak-'));
  const broker = await startBroker(dataDir);
  let brokerExit: number | string | null = null;
  broker.child.on('exit', (code, signal) => {
    brokerExit = code ?? signal ?? -1;
  });
  const kafka = new Kafka({
    clientId: 'soak',
    brokers: [`127.0.0.1:${broker.port}`],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic: TOPIC,
        numPartitions: PARTITIONS,
        configEntries: [
          { name: 'segment.bytes', value: String(4 * 1024 * 1024) },
          { name: 'retention.bytes', value: String(16 * 1024 * 1024) },
        ],
      },
    ],
  });

  let stopping = false;
  let produced = 0;
  let produceErrors = 0;
  let consumedBySteadyGroup = 0;
  let rebalances = 0;
  let churnGroups = 0;
  const acked = new Map<number, number>(); // partition → highest acknowledged offset
  const value = Buffer.alloc(256, 'x');

  // Producers: each sends its share of the rate in batches of 50, paced by the wall clock.
  const producers: Producer[] = [];
  const producerLoops: Promise<void>[] = [];
  const perProducer = opts.rate / opts.producers;
  for (let i = 0; i < opts.producers; i++) {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    producers.push(producer);
    producerLoops.push(
      (async () => {
        const batch = 50;
        const everyMs = (batch / perProducer) * 1000;
        let next = Date.now();
        let n = 0;
        while (!stopping) {
          try {
            // One partition a batch, so its base offset and size give the last acknowledged offset.
            const partition = (i + n / batch) % PARTITIONS;
            const res = await producer.send({
              topic: TOPIC,
              acks: -1,
              messages: Array.from({ length: batch }, () => ({ key: `k${i}-${n++}`, value, partition })),
            });
            produced += batch;
            for (const r of res) {
              const last = Number(r.baseOffset) + batch - 1;
              if (last > (acked.get(r.partition) ?? -1)) acked.set(r.partition, last);
            }
          } catch {
            produceErrors++;
          }
          next += everyMs;
          const wait = next - Date.now();
          if (wait > 0) await sleep(wait);
          else next = Date.now();
        }
      })(),
    );
  }

  // The steady group: three members; every 15 s the oldest leaves and a new one joins.
  const steady: Consumer[] = [];
  const addSteady = async () => {
    const c = kafka.consumer({ groupId: 'soak-steady', sessionTimeout: 10_000, rebalanceTimeout: 10_000 });
    c.on(c.events.GROUP_JOIN, () => {
      rebalances++;
    });
    await c.connect();
    await c.subscribe({ topic: TOPIC, fromBeginning: false });
    await c.run({
      eachBatch: async ({ batch }) => {
        consumedBySteadyGroup += batch.messages.length;
      },
    });
    steady.push(c);
  };
  for (let i = 0; i < 3; i++) await addSteady();
  const churnSteady = setInterval(async () => {
    if (stopping) return;
    const oldest = steady.shift();
    await oldest?.disconnect().catch(() => {});
    if (!stopping) await addSteady().catch(() => {});
  }, 15_000);

  // Short-lived groups: join, read for 10 s, leave, delete the group.
  const churnOthers = setInterval(async () => {
    if (stopping) return;
    const groupId = `soak-churn-${churnGroups++}`;
    const c = kafka.consumer({ groupId, sessionTimeout: 10_000 });
    try {
      await c.connect();
      await c.subscribe({ topic: TOPIC, fromBeginning: false });
      await c.run({ eachBatch: async () => {} });
      await sleep(10_000);
    } catch {
      // counted by the report as a churn group either way; a failure shows in the broker's memory if anything
    }
    await c.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }, 30_000);

  // Samples every 10 s from the broker's own /metrics.
  const samples: SoakSample[] = [];
  const start = Date.now();
  // Resets the lag histogram: the first sample covers 10 s of load.
  let lastCpu = (await scrape(broker.httpPort)).get('process_cpu_seconds_total') ?? 0;
  let lastAt = Date.now();
  const endAt = start + opts.minutes * 60_000;
  while (Date.now() < endAt && brokerExit === null) {
    await sleep(Math.min(SAMPLE_EVERY_MS, endAt - Date.now() + 1));
    if (brokerExit !== null) break;
    const m = await scrape(broker.httpPort);
    const cpu = m.get('process_cpu_seconds_total') ?? 0;
    const now = Date.now();
    const brokerCpu = (cpu - lastCpu) / Math.max(0.001, (now - lastAt) / 1000);
    lastCpu = cpu;
    lastAt = now;
    const s: SoakSample = {
      brokerCpu,
      loadAvg1: loadavg()[0],
      t: Math.round((Date.now() - start) / 1000),
      rssBytes: m.get('process_resident_memory_bytes') ?? 0,
      heapUsedBytes: m.get('nodejs_heap_size_used_bytes') ?? 0,
      loopDelayP99Ms: (m.get('nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000,
      loopDelayMaxMs: (m.get('nodejs_eventloop_lag_max_seconds') ?? 0) * 1000,
    };
    samples.push(s);
    say(
      `t=${s.t}s rss=${(s.rssBytes / 1048576).toFixed(1)}MiB heap=${(s.heapUsedBytes / 1048576).toFixed(1)}MiB ` +
        `loop p99=${s.loopDelayP99Ms.toFixed(1)}ms max=${s.loopDelayMaxMs.toFixed(1)}ms cpu=${(brokerCpu * 100).toFixed(0)}% ` +
        `load=${s.loadAvg1!.toFixed(1)} produced=${produced} ` +
        `consumed=${consumedBySteadyGroup} rebalances=${rebalances} churn groups=${churnGroups} errors=${produceErrors}`,
    );
  }

  stopping = true;
  clearInterval(churnSteady);
  clearInterval(churnOthers);
  await Promise.all(producerLoops);
  // Nothing acknowledged is lost: every partition's end offset is past what its producers were told.
  let lostRecords = 0;
  if (brokerExit === null) {
    const ends = await admin.fetchTopicOffsets(TOPIC);
    for (const e of ends) {
      const high = Number(e.high);
      const ack = acked.get(e.partition) ?? -1;
      if (high <= ack) lostRecords += ack + 1 - high;
    }
  }
  await Promise.all([...producers.map((p) => p.disconnect()), ...steady.map((c) => c.disconnect())]).catch(
    () => {},
  );
  await admin.disconnect().catch(() => {});
  if (brokerExit === null) {
    broker.child.kill('SIGTERM');
    await new Promise((r) => broker.child.once('exit', r));
  }
  rmSync(dataDir, { recursive: true, force: true });
  return {
    summary: summarize(samples),
    samples,
    produced,
    produceErrors,
    consumedBySteadyGroup,
    rebalances,
    churnGroups,
    lostRecords,
    brokerExit: brokerExit === 0 ? null : brokerExit,
  };
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const outIdx = argv.indexOf('--out');
  const out = outIdx >= 0 ? argv[outIdx + 1]! : join(tmpdir(), `kbroker-soak-${Date.now()}.json`);
  const minutes = arg('minutes', 30);
  const rate = arg('rate', 2000);
  console.log(`soak: ${minutes} min, ${rate} records/s, broker from dist/ (run npm run build first)`);
  const r = await runSoak({ minutes, rate, producers: 4, progress: (l) => console.log(l) });
  writeFileSync(out, JSON.stringify(r, null, 2));
  console.log(
    `produced ${r.produced} (${r.produceErrors} send errors), consumed by the steady group ${r.consumedBySteadyGroup}, ` +
      `${r.rebalances} joins, ${r.churnGroups} short-lived groups, lost ${r.lostRecords}, broker exit ${r.brokerExit ?? 'none (alive until stopped)'}`,
  );
  console.log(formatSummary(r.summary));
  console.log(`samples and summary: ${out}`);
  return r.summary.flat && r.lostRecords === 0 && r.brokerExit === null ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
