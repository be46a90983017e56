/**
 * Torn writes: the tail of a file cut or overwritten at a random point, as a crash in the middle
 * of a write leaves it — segments, offset and time indexes, producer snapshots, and the
 * checkpoint files. After each tear the broker restarts on the data and must serve a valid prefix:
 * every partition read back clean (read-back.ts), its records exactly the first ones written
 * (all of them when only an index, snapshot or checkpoint was torn), and new writes land right
 * after what it kept.
 *
 * `npm run torn-writes -- --rounds N [--seed S]`
 */
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../../src/test-support/broker.js';
import { Rng } from '../fuzz/mutate.js';
import { readBack } from '../fuzz/read-back.js';
import { readValues } from './crash-loop.js';

const TOPIC = 'torn';
const PARTITIONS = 2;
const CONFIG = {
  'num.partitions': String(PARTITIONS),
  'offsets.topic.num.partitions': '1',
  'log.segment.bytes': '4096',
  'log.index.interval.bytes': '256',
};

export type TearTarget = 'segment' | 'index' | 'timeindex' | 'snapshot' | 'checkpoint';

export interface TearOutcome {
  round: number;
  target: TearTarget;
  file: string;
  how: string;
  cleanShutdownMarker: boolean;
  /** Records kept per partition (of those written). */
  kept: number[];
  problems: string[];
}

export interface TornWritesResult {
  rounds: number;
  written: number[];
  outcomes: TearOutcome[];
  /** Rounds with problems. */
  failures: TearOutcome[];
}

/** Cuts, overwrites or extends the tail of `file` at a random point. */
function tear(rng: Rng, file: string): string {
  const size = statSync(file).size;
  const at = size === 0 ? 0 : rng.int(size);
  switch (rng.int(3)) {
    case 0:
      truncateSync(file, at);
      return `cut at ${at} of ${size}`;
    case 1: {
      const buf = readFileSync(file);
      for (let i = at; i < buf.length; i++) buf[i] = rng.int(256);
      writeFileSync(file, buf);
      return `garbage from ${at} of ${size}`;
    }
    default: {
      const junk = Buffer.alloc(1 + rng.int(80));
      for (let i = 0; i < junk.length; i++) junk[i] = rng.chance(0.5) ? 0 : rng.int(256);
      appendFileSync(file, junk);
      return `${junk.length} bytes appended to ${size}`;
    }
  }
}

function pickFile(rng: Rng, dir: string, target: TearTarget): string | null {
  const partDir = join(dir, `${TOPIC}-${rng.int(PARTITIONS)}`);
  const files = readdirSync(partDir).sort();
  const ext = { segment: '.log', index: '.index', timeindex: '.timeindex', snapshot: '.snapshot' } as const;
  if (target === 'checkpoint') {
    const candidates = [
      join(dir, 'recovery-point-offset-checkpoint'),
      join(dir, 'log-start-offset-checkpoint'),
      join(dir, 'replication-offset-checkpoint'),
      join(partDir, 'leader-epoch-checkpoint'),
    ].filter((f) => existsSync(f));
    return candidates.length ? rng.pick(candidates) : null;
  }
  const matching = files.filter((f) => f.endsWith(ext[target]));
  if (matching.length === 0) return null;
  // Segments: the tail of the log is the last segment. Indexes and snapshots: any of them.
  const name = target === 'segment' ? matching.at(-1)! : rng.pick(matching);
  return join(partDir, name);
}

export async function runTornWrites(opts: { rounds: number; seed?: number }): Promise<TornWritesResult> {
  const rng = new Rng(opts.seed ?? 1);
  const base = mkdtempSync(join(tmpdir(), 'kbroker-torn-'));
  const template = join(base, 'template');
  // The data every round starts from: several segments per partition, written by an idempotent
  // producer (so there are producer snapshots), closed cleanly.
  const written: string[][] = Array.from({ length: PARTITIONS }, () => []);
  {
    const tb = await startTestBroker(CONFIG, template);
    const kafka = new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 120; i++) {
      const p = i % PARTITIONS;
      const values = Array.from({ length: 3 }, (_, k) => `r${i}-${k}-${'x'.repeat(40)}`);
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: values.map((value) => ({ value, partition: p })),
      });
      written[p]!.push(...values);
    }
    await producer.disconnect();
    await tb.close();
  }

  const outcomes: TearOutcome[] = [];
  const targets: TearTarget[] = ['segment', 'segment', 'index', 'timeindex', 'snapshot', 'checkpoint'];
  for (let round = 0; round < opts.rounds; round++) {
    const dir = join(base, `round-${round}`);
    cpSync(template, dir, { recursive: true });
    const target = rng.pick(targets);
    const file = pickFile(rng, dir, target);
    if (!file) continue;
    const how = tear(rng, file);
    // A torn segment means the broker died mid-write: no clean-shutdown marker. The others are
    // tried both ways.
    const marker = target !== 'segment' && rng.chance(0.5);
    if (!marker) rmSync(join(dir, '.kafka_cleanshutdown'), { force: true });
    const outcome: TearOutcome = {
      round,
      target,
      file: file.slice(dir.length + 1),
      how,
      cleanShutdownMarker: marker,
      kept: [],
      problems: [],
    };
    outcomes.push(outcome);
    let tb: Awaited<ReturnType<typeof startTestBroker>> | undefined;
    try {
      tb = await startTestBroker(CONFIG, dir);
      const rb = await readBack(tb.port);
      outcome.problems.push(...rb.problems);
      for (let p = 0; p < PARTITIONS; p++) {
        const values = await readValues(tb.port, TOPIC, p, 0);
        outcome.kept.push(values.length);
        const want = written[p]!;
        if (values.some((v, i) => v !== want[i]))
          outcome.problems.push(`${TOPIC}-${p}: not a prefix of what was written`);
        if (values.length > want.length) outcome.problems.push(`${TOPIC}-${p}: more records than written`);
        const tornHere = file.includes(`${TOPIC}-${p}/`) && target === 'segment';
        if (!tornHere && values.length !== want.length) {
          outcome.problems.push(
            `${TOPIC}-${p}: ${values.length} of ${want.length} records after a ${target} tear`,
          );
        }
        // New writes land right after what was kept.
        const kafka = new Kafka({
          brokers: [tb.bootstrap],
          logLevel: logLevel.NOTHING,
          retry: { retries: 2 },
        });
        const producer = kafka.producer();
        await producer.connect();
        const [meta] = await producer.send({
          topic: TOPIC,
          acks: -1,
          messages: [{ value: 'after', partition: p }],
        });
        await producer.disconnect();
        if (Number(meta!.baseOffset) !== values.length) {
          outcome.problems.push(
            `${TOPIC}-${p}: a new record went to ${meta!.baseOffset}, expected ${values.length}`,
          );
        }
      }
    } catch (err) {
      outcome.problems.push(`restart failed: ${(err as Error).message.slice(0, 300)}`);
    } finally {
      await tb?.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(base, { recursive: true, force: true });
  return {
    rounds: opts.rounds,
    written: written.map((w) => w.length),
    outcomes,
    failures: outcomes.filter((o) => o.problems.length > 0),
  };
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const res = await runTornWrites({ rounds: arg('rounds', 200), seed: arg('seed', 1) });
  const byTarget: Record<string, number> = {};
  for (const o of res.outcomes) byTarget[o.target] = (byTarget[o.target] ?? 0) + 1;
  process.stdout.write(
    `${JSON.stringify({ rounds: res.rounds, written: res.written, byTarget, failures: res.failures }, null, 2)}\n`,
  );
  process.stdout.write(res.failures.length === 0 ? 'torn-writes: PASS\n' : 'torn-writes: FAIL\n');
  return res.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
