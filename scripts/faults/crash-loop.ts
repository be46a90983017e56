/**
 * `npm run crash-loop -- --loops 100 [--flush always|default] [--seed S]`
 *
 * kill -9 loops on one data directory: start the broker (a child process), run three idempotent
 * producers (acks=all, kafkajs), a group committing offsets, and a transactional producer, kill
 * the broker with SIGKILL at a random moment, restart it, and check:
 * - every acknowledged record is there exactly once, no record appears twice (acknowledged or
 *   not), and each producer's records keep their order within a partition;
 * - every acknowledged offset commit is what OffsetFetch answers (or the one in flight at the kill);
 * - every committed transaction is visible to a read_committed consumer exactly once, and nothing
 *   that was never sent in a transaction is.
 * With `--flush always` (flush.messages=1 via log.flush.interval.messages) each append is fsynced
 * before the answer; with `default` Kafka's default policy applies (the OS flushes): a process
 * kill loses nothing from the page cache either, so the same checks hold. At the end (and every
 * 25 loops) Kafka's own kafka-dump-log checks every segment and index, when the compat suite's
 * Kafka tools are installed (compat-tests/kafka-tools/run.sh --install-only).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { decodeRecordBatches } from '../../src/protocol/records.js';
import { TestClient } from '../../src/test-support/client.js';
import { type BrokerChild, startChild } from '../fuzz/child.js';
import { Rng } from '../fuzz/mutate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOPIC = 'crash';
const TXN_TOPIC = 'crash-txn';
const GROUP = 'crash-group';
const PARTITIONS = 3;

export interface CrashLoopOptions {
  loops: number;
  flush: 'always' | 'default';
  seed?: number;
  /** Kill between these many ms after the load starts. */
  killAfterMs?: [number, number];
  /** Run kafka-dump-log every this many loops and at the end (when installed); 0 = never. */
  dumpLogEvery?: number;
  progress?: (line: string) => void;
}

export interface CrashLoopResult {
  loops: number;
  kills: number;
  ackedRecords: number;
  presentRecords: number;
  ackedCommits: number;
  committedTransactions: number;
  /** Every violation found, one line each; empty when all checks held. */
  violations: string[];
  dumpLogRuns: number;
  dumpLogProblems: string[];
  seconds: number;
}

type FetchPartition = {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  records: Buffer | null;
};

/** Every record value of a partition in offset order; read_committed drops aborted transactions. */
export async function readValues(
  port: number,
  topic: string,
  partition: number,
  isolationLevel: 0 | 1,
): Promise<string[]> {
  const c = await TestClient.connect(port);
  const values: string[] = [];
  let offset = 0;
  try {
    for (;;) {
      const res = await c.request<{ responses: { partitions: FetchPartition[] }[] }>(1, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 32 * 1024 * 1024,
        isolationLevel,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            partitions: [
              {
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: offset,
                logStartOffset: -1,
                partitionMaxBytes: 32 * 1024 * 1024,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      const p = res.responses[0]!.partitions[0]!;
      if (p.errorCode === 3) return values; // the topic was never created
      if (p.errorCode !== 0) throw new Error(`fetch ${topic}-${partition}@${offset}: error ${p.errorCode}`);
      const batches = decodeRecordBatches(p.records ?? Buffer.alloc(0));
      const aborted = new Map<number, number>();
      for (const a of p.abortedTransactions ?? []) aborted.set(a.producerId, a.firstOffset);
      for (const b of batches) {
        offset = b.lastOffset + 1;
        if (b.isControl) {
          aborted.delete(b.producerId);
          continue;
        }
        const first = aborted.get(b.producerId);
        if (isolationLevel === 1 && first !== undefined && b.baseOffset >= first) continue;
        for (const r of b.records) values.push(r.value?.toString() ?? '');
      }
      const end = isolationLevel === 1 ? p.lastStableOffset : p.highWatermark;
      if (batches.length === 0 || offset >= end) return values;
    }
  } finally {
    c.close();
  }
}

async function fetchCommitted(port: number): Promise<Map<number, number>> {
  const c = await TestClient.connect(port);
  try {
    const res = await c.request<{
      errorCode: number;
      topics: { partitions: { partitionIndex: number; committedOffset: number; errorCode: number }[] }[];
    }>(9, 7, {
      groupId: GROUP,
      topics: [{ name: TOPIC, partitionIndexes: [0, 1, 2] }],
      requireStable: false,
    });
    const out = new Map<number, number>();
    for (const p of res.topics[0]?.partitions ?? []) out.set(p.partitionIndex, p.committedOffset);
    return out;
  } finally {
    c.close();
  }
}

/** kafka-dump-log (Kafka's DumpLogSegments, 4.x) over every segment and index; problems found. */
export function dumpLog(dataDir: string): string[] | null {
  const bin = join(root, 'compat-tests', 'kafka-tools', 'bin', 'kafka-dump-log.sh');
  const lib = join(root, 'compat-tests', '.cache', 'kafka-tools-4.4.0', 'lib');
  if (!existsSync(lib)) return null;
  const dirs = readdirSync(dataDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /-\d+$/.test(d.name))
    .map((d) => join(dataDir, d.name));
  const files = (ext: string) =>
    dirs.flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith(ext))
        .map((f) => join(d, f)),
    );
  const logs = files('.log');
  const indexes = [...files('.index'), ...files('.timeindex')];
  const problems: string[] = [];
  const run = (args: string[]) => {
    try {
      return execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: 'pipe' });
    } catch (err) {
      problems.push(`kafka-dump-log ${args[0]} failed: ${(err as Error).message.slice(0, 500)}`);
      return '';
    }
  };
  const out =
    run(['--files', logs.join(','), '--deep-iteration']) +
    run(['--files', indexes.join(','), '--index-sanity-check']);
  const bases = new Set(
    logs.map((f) =>
      String(
        Number(
          f
            .split('/')
            .at(-1)!
            .replace(/\.log$/, ''),
        ),
      ),
    ),
  );
  for (const line of out.split('\n')) {
    if (
      !/isvalid: false|invalid bytes|Non-consecutive|is followed by|Mismatches in|not found in the log|failed sanity/.test(
        line,
      )
    )
      continue;
    // Kafka 4.3+'s tool starts its consecutive-offset check at -1: every segment not based at 0
    // gets "-1 is followed by <base>" (see compat-tests/kafka-tools/run.sh).
    const m =
      /:\s+-1 is followed by (\d+)$/.exec(line) ?? /Non-consecutive offsets in .*\/0*(\d+)\.log$/.exec(line);
    if (m && bases.has(String(Number(m[1])))) continue;
    problems.push(line);
  }
  return problems;
}

export async function runCrashLoop(opts: CrashLoopOptions): Promise<CrashLoopResult> {
  const rng = new Rng(opts.seed ?? 1);
  const progress = opts.progress ?? (() => {});
  const [killMin, killMax] = opts.killAfterMs ?? [200, 2500];
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-crashloop-'));
  const config: Record<string, string> = {
    'auto.create.topics.enable': 'true',
    'num.partitions': String(PARTITIONS),
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    'log.segment.bytes': '65536',
    ...(opts.flush === 'always' ? { 'log.flush.interval.messages': '1' } : {}),
  };
  const violations: string[] = [];
  /** value → how it ended: acked, or sent without an answer. */
  const acked = new Set<string>();
  const sent = new Set<string>();
  const commitAcked = new Map<number, number>();
  const commitAttempted = new Map<number, number>();
  const txnCommitted = new Set<string>();
  const txnSent = new Set<string>();
  let dumpLogRuns = 0;
  const dumpLogProblems: string[] = [];
  let presentRecords = 0;
  const t0 = Date.now();

  const check = async (b: BrokerChild, loop: number) => {
    const seen = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
      const values = await readValues(b.port, TOPIC, p, 0);
      const lastSeq = new Map<string, number>();
      for (const v of values) {
        seen.set(v, (seen.get(v) ?? 0) + 1);
        const [, producer, seq] = /^(L\d+-P\d)-(\d+)$/.exec(v) ?? [];
        if (!producer) {
          violations.push(`loop ${loop}: ${TOPIC}-${p} holds an unknown value ${v.slice(0, 40)}`);
          continue;
        }
        if ((lastSeq.get(producer) ?? -1) >= Number(seq)) {
          violations.push(`loop ${loop}: ${TOPIC}-${p}: ${v} after ${producer}-${lastSeq.get(producer)}`);
        }
        lastSeq.set(producer, Number(seq));
        if (!sent.has(v)) violations.push(`loop ${loop}: ${v} was never sent`);
      }
    }
    presentRecords = seen.size;
    for (const [v, n] of seen) if (n > 1) violations.push(`loop ${loop}: ${v} is there ${n} times`);
    for (const v of acked) if (!seen.has(v)) violations.push(`loop ${loop}: acknowledged ${v} is lost`);

    const committed = await fetchCommitted(b.port);
    for (const [p, want] of commitAcked) {
      const got = committed.get(p);
      const inFlight = commitAttempted.get(p);
      if (got !== want && got !== inFlight) {
        violations.push(`loop ${loop}: group offset of ${TOPIC}-${p} is ${got}, acknowledged ${want}`);
      }
      // A commit in flight at the kill that turned out written is from now on what must stay.
      if (got === inFlight && inFlight !== undefined) commitAcked.set(p, inFlight);
    }

    const txnValues = await readValues(b.port, TXN_TOPIC, 0, 1);
    const txnSeen = new Map<string, number>();
    for (const v of txnValues) txnSeen.set(v, (txnSeen.get(v) ?? 0) + 1);
    for (const [v, n] of txnSeen) {
      if (n > 1) violations.push(`loop ${loop}: transactional ${v} is there ${n} times`);
      if (!txnSent.has(v)) violations.push(`loop ${loop}: transactional ${v} was never sent`);
    }
    for (const v of txnCommitted) {
      if (!txnSeen.has(v)) violations.push(`loop ${loop}: committed transactional ${v} is not visible`);
    }
  };

  let kills = 0;
  let ackedCommits = 0;
  for (let loop = 0; loop < opts.loops; loop++) {
    const b = await startChild(dataDir, config, 60_000);
    if (loop > 0) await check(b, loop);
    if (opts.dumpLogEvery && loop > 0 && loop % opts.dumpLogEvery === 0) {
      // Kafka's tool reads files a live broker has open; it only reads, and the broker is idle.
      const problems = dumpLog(dataDir);
      if (problems) {
        dumpLogRuns++;
        dumpLogProblems.push(...problems.map((p) => `loop ${loop}: ${p}`));
      }
    }
    const kafka = new Kafka({
      clientId: `crash-loop-${loop}`,
      brokers: [`127.0.0.1:${b.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 500 },
      connectionTimeout: 2000,
      requestTimeout: 5000,
    });
    if (loop === 0) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [
          { topic: TOPIC, numPartitions: PARTITIONS },
          { topic: TXN_TOPIC, numPartitions: 1 },
        ],
      });
      await admin.disconnect();
    }
    let stop = false;
    let killing = false;
    const loads: Promise<void>[] = [];
    for (let p = 0; p < 3; p++) {
      loads.push(
        (async () => {
          const producer = kafka.producer({
            idempotent: true,
            maxInFlightRequests: 1,
            allowAutoTopicCreation: true,
          });
          await producer.connect();
          let seq = 0;
          while (!stop) {
            const values = Array.from({ length: 5 }, () => `L${loop}-P${p}-${seq++}`);
            for (const v of values) sent.add(v);
            await producer.send({
              topic: TOPIC,
              acks: -1,
              messages: values.map((value) => ({ value, partition: (p + loop) % PARTITIONS })),
            });
            for (const v of values) acked.add(v);
          }
        })(),
      );
    }
    loads.push(
      (async () => {
        // Offset commits through the group coordinator, as a consumer that assigns itself
        // partitions commits (generation -1, no member id): persisted in __consumer_offsets.
        const c = await TestClient.connect(b.port);
        try {
          let n = 0;
          while (!stop) {
            const p = n % PARTITIONS;
            const offset = 1000 * loop + n++;
            commitAttempted.set(p, offset);
            const res = await c.request<{ topics: { partitions: { errorCode: number }[] }[] }>(8, 8, {
              groupId: GROUP,
              generationIdOrMemberEpoch: -1,
              memberId: '',
              groupInstanceId: null,
              topics: [
                {
                  name: TOPIC,
                  partitions: [
                    {
                      partitionIndex: p,
                      committedOffset: offset,
                      committedLeaderEpoch: -1,
                      committedMetadata: '',
                    },
                  ],
                },
              ],
            });
            const code = res.topics[0]!.partitions[0]!.errorCode;
            if (code !== 0) throw new Error(`OffsetCommit error ${code}`);
            commitAcked.set(p, offset);
            ackedCommits++;
          }
        } finally {
          c.close();
        }
      })(),
    );
    loads.push(
      (async () => {
        const producer = kafka.producer({
          transactionalId: 'crash-txn',
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: true,
        });
        await producer.connect();
        let t = 0;
        while (!stop) {
          const txn = await producer.transaction();
          const values = [0, 1, 2].map((i) => `L${loop}-T${t}-${i}`);
          t++;
          for (const v of values) txnSent.add(v);
          await txn.send({ topic: TXN_TOPIC, messages: values.map((value) => ({ value, partition: 0 })) });
          if (rng.chance(0.2)) {
            await txn.abort();
            continue;
          }
          await txn.commit();
          for (const v of values) txnCommitted.add(v);
        }
      })(),
    );
    // A load that fails before the kill is a finding (reported), not the kill's doing.
    for (const l of loads) l.catch((err) => !killing && progress(`load failed before the kill: ${err}`));
    const settled = Promise.allSettled(loads);
    await new Promise((r) => setTimeout(r, killMin + rng.int(killMax - killMin)));
    killing = true;
    await b.kill();
    kills++;
    stop = true;
    // kafkajs gives up after its retries; bound the wait anyway.
    await Promise.race([settled, new Promise((r) => setTimeout(r, 15_000))]);
    progress(
      `loop ${loop + 1}/${opts.loops}: ${acked.size} acked, ${ackedCommits} commits, ${txnCommitted.size / 3} transactions, ${violations.length} violations`,
    );
  }
  // The last restart and its check, then Kafka's tool over a clean shutdown's files.
  const last = await startChild(dataDir, config, 60_000);
  await check(last, opts.loops);
  await last.stop();
  if (opts.dumpLogEvery !== 0) {
    const problems = dumpLog(dataDir);
    if (problems) {
      dumpLogRuns++;
      dumpLogProblems.push(...problems.map((p) => `end: ${p}`));
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  return {
    loops: opts.loops,
    kills,
    ackedRecords: acked.size,
    presentRecords,
    ackedCommits,
    committedTransactions: txnCommitted.size / 3,
    violations,
    dumpLogRuns,
    dumpLogProblems,
    seconds: (Date.now() - t0) / 1000,
  };
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const res = await runCrashLoop({
    loops: Number(arg('loops') ?? 100),
    flush: (arg('flush') ?? 'always') as 'always' | 'default',
    seed: Number(arg('seed') ?? 1),
    dumpLogEvery: Number(arg('dump-log-every') ?? 25),
    progress: (l) => process.stderr.write(`${new Date().toISOString()} ${l}\n`),
  });
  process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
  const ok = res.violations.length === 0 && res.dumpLogProblems.length === 0;
  process.stdout.write(ok ? 'crash-loop: PASS\n' : 'crash-loop: FAIL\n');
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
