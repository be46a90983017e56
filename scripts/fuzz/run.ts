/**
 * `npm run fuzz -- --frames N [--seed S] [--concurrency C] [--out DIR]`
 *
 * Mutates the golden request captures of real clients (corpus.ts, mutate.ts) and sends them over
 * real TCP to a broker in a child process (broker-child.ts), on C connections at once. Each
 * frame must be answered (a response with its correlation id) or its connection closed within a
 * bound; a frame that asks the broker to wait (Fetch maxWaitMs, JoinGroup's rebalance timeout…)
 * gets that wait on top, up to a cap, and is counted apart when it asks for more. Some frames
 * are cut short and the connection hung up, as a client crashing mid-request would.
 *
 * Results: frames, frames/s, crashes (the broker process exiting; it is restarted on the same
 * data and the frames in flight saved), hangs, heap after a full GC at the start and the end,
 * errors the broker logged (unexpected exceptions), and a graceful restart after which every
 * partition is read back (read-back.ts) and compared with what was there before.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { allHandlers } from '../../src/handlers/index.js';
import { codecFor } from '../../src/protocol/codec.js';
import { readRequestHeader } from '../../src/protocol/headers.js';
import { type BrokerChild, startChild } from './child.js';
import { buildCorpus, encodeRequest } from './corpus.js';
import { mutateFrame, Rng, type Seed } from './mutate.js';
import { type ReadBack, readBack } from './read-back.js';

export interface FuzzOptions {
  frames: number;
  seed?: number;
  concurrency?: number;
  /** Every frame is answered or its connection closed within this (plus the wait it asks for). */
  hangBoundMs?: number;
  /** Where crashing and hanging frames are written (hex); default none. */
  outDir?: string;
  /** Progress lines. */
  progress?: (line: string) => void;
}

export interface FuzzResult {
  frames: number;
  seconds: number;
  framesPerSecond: number;
  seeds: number;
  answered: number;
  closedByBroker: number;
  hungUpByUs: number;
  /** Produce acks=0: no response due; checked by a request behind it. */
  noResponseDue: number;
  crashes: number;
  crashOutputs: string[];
  hangs: number;
  hangSamples: string[];
  /** Bursts of hangs: the broker's own view (event-loop delay, CPU) when the first one was seen. */
  stalls: {
    atFrame: number;
    probeAnsweredInMs: number | null;
    loopDelayMaxMs: number | null;
    cpuMsSinceStart: number | null;
    secondsSinceStart: number;
  }[];
  /** Frames that asked the broker to wait longer than the cap (not hangs); abandoned. */
  longWaitsAsked: number;
  correlationMismatches: number;
  heapStartMB: number;
  heapEndMB: number;
  heapDeltaMB: number;
  rssEndMB: number;
  /** Error lines the broker logged: unexpected exceptions turned into UNKNOWN_SERVER_ERROR. */
  brokerErrors: number;
  brokerErrorSamples: string[];
  topicsAtEnd: number;
  before: ReadBack;
  after: ReadBack;
  /** Partitions whose log start, high watermark or batch count differ across the restart. */
  restartMismatches: string[];
}

const WAIT_CAP_MS = 10_000;

/** The longest wait the request itself asks for, when it decodes (the broker decodes it the same way). */
function askedWait(apiKey: number, body: Record<string, unknown>): number {
  const num = (k: string) => (typeof body[k] === 'number' ? Math.max(0, body[k] as number) : 0);
  switch (apiKey) {
    case 1: // Fetch
      return num('maxWaitMs');
    case 11: // JoinGroup: waits for the other members, up to their rebalance timeout
    case 14: // SyncGroup: waits for the leader's assignment
      return Number.POSITIVE_INFINITY;
    default:
      return 0;
  }
}

interface Expectation {
  correlationId: number;
  /** Produce with acks=0: no answer; a probe follows it. */
  silent: boolean;
  waitMs: number;
}

function expectationOf(frame: Buffer): Expectation {
  const correlationId = frame.length >= 8 ? frame.readInt32BE(4) : 0;
  try {
    const { header, body } = readRequestHeader(frame);
    const h = allHandlers.find((x) => x.apiKey === header.requestApiKey);
    if (!h || header.requestApiVersion < h.minVersion || header.requestApiVersion > h.maxVersion) {
      return { correlationId, silent: false, waitMs: 0 };
    }
    const req = codecFor<Record<string, unknown>>(h.request, header.requestApiVersion).read(body);
    return {
      correlationId,
      silent: h.apiKey === 0 && req.acks === 0,
      waitMs: askedWait(h.apiKey, req),
    };
  } catch {
    return { correlationId, silent: false, waitMs: 0 };
  }
}

function sized(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length, 0);
  return Buffer.concat([size, frame]);
}

const PROBE = encodeRequest(18, 0, {});
const PROBE_CORRELATION = 0x7eadbeef;
PROBE.writeInt32BE(PROBE_CORRELATION, 4);

/** One client connection reading size-prefixed response frames. */
class FuzzConn {
  private buf: Buffer = Buffer.alloc(0);
  private frames: Buffer[] = [];
  closed = false;
  private wake: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        this.frames.push(this.buf.subarray(4, 4 + this.buf.readInt32BE(0)));
        this.buf = this.buf.subarray(4 + this.buf.readInt32BE(0));
      }
      this.wake?.();
    });
    const onClose = () => {
      this.closed = true;
      this.wake?.();
    };
    socket.on('close', onClose);
    socket.on('error', onClose);
  }

  static open(port: number): Promise<FuzzConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.off('error', reject);
        resolve(new FuzzConn(s));
      });
      s.once('error', reject);
    });
  }

  /** The next response frame, 'closed', or 'timeout'. */
  async next(ms: number): Promise<Buffer | 'closed' | 'timeout'> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) {
        // When this process itself was blocked, timers run before the I/O that arrived
        // meanwhile: let pending socket events in once before calling it a timeout.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setTimeout(resolve, 0));
        const late = this.frames.shift();
        if (late) return late;
        return this.closed ? 'closed' : 'timeout';
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** The broker the fuzz targets, in a child process on its own data dir. */
export const FUZZ_BROKER_CONFIG: Record<string, string> = {
  'auto.create.topics.enable': 'true',
  'num.partitions': '2',
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'group.max.session.timeout.ms': '10000',
  'offsets.topic.num.partitions': '1',
  'transaction.state.log.num.partitions': '1',
  'message.max.bytes': '1048588',
  'socket.request.max.bytes': '8388608',
  'log.segment.bytes': '1048576',
};

function compareReadBacks(before: ReadBack, after: ReadBack): string[] {
  const key = (p: { topic: string; partition: number }) => `${p.topic}-${p.partition}`;
  const a = new Map(after.partitions.map((p) => [key(p), p]));
  const out: string[] = [];
  for (const b of before.partitions) {
    const x = a.get(key(b));
    if (!x) out.push(`${key(b)}: gone after the restart`);
    else if (
      x.logStartOffset !== b.logStartOffset ||
      x.highWatermark !== b.highWatermark ||
      x.batches !== b.batches
    ) {
      out.push(
        `${key(b)}: [${b.logStartOffset}, ${b.highWatermark}) ${b.batches} batches before, [${x.logStartOffset}, ${x.highWatermark}) ${x.batches} after`,
      );
    }
  }
  return out;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const rng = new Rng(opts.seed ?? 1);
  const concurrency = opts.concurrency ?? 16;
  const hangBound = opts.hangBoundMs ?? 5_000;
  const progress = opts.progress ?? (() => {});
  const corpus = buildCorpus();
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-fuzz-'));
  if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });
  const save = (kind: string, n: number, frame: Buffer) => {
    if (!opts.outDir) return;
    const file = join(opts.outDir, `${kind}-${n}.hex`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${frame.toString('hex')}\n`);
  };

  const r = {
    answered: 0,
    closedByBroker: 0,
    hungUpByUs: 0,
    noResponseDue: 0,
    crashes: 0,
    crashOutputs: [] as string[],
    hangs: 0,
    hangSamples: [] as string[],
    longWaitsAsked: 0,
    correlationMismatches: 0,
    stalls: [] as FuzzResult['stalls'],
  };
  let broker: BrokerChild = await startChild(dataDir, FUZZ_BROKER_CONFIG);
  let restarting: Promise<void> | null = null;
  const inFlight = new Map<number, Buffer>();

  // Crash watch: the broker exiting on its own is a crash; restart it on the same data.
  const watch = (b: BrokerChild) => {
    b.exited.then((code) => {
      if (stopping || b !== broker) return;
      r.crashes++;
      r.crashOutputs.push(`exit ${code}: ${b.output().slice(-3000)}`);
      for (const [n, f] of inFlight) save('crash', n, f);
      progress(`CRASH (exit ${code}); restarting`);
      restarting = startChild(dataDir, FUZZ_BROKER_CONFIG).then((nb) => {
        broker = nb;
        watch(nb);
        restarting = null;
      });
    });
  };
  let stopping = false;
  watch(broker);

  // Warm-up: every seed once, unmutated, so the baseline heap has every code path loaded.
  {
    const c = await FuzzConn.open(broker.port);
    for (const s of corpus) {
      c.socket.write(sized(s.frame));
      const e = expectationOf(s.frame);
      if (e.silent) c.socket.write(sized(PROBE));
      if (e.waitMs > WAIT_CAP_MS) continue;
      const res = await c.next(hangBound + e.waitMs);
      if (res === 'closed' || res === 'timeout') break;
    }
    c.destroy();
  }
  const start = await broker.stats();
  progress(`${corpus.length} seeds; heap at start ${(start.heapUsed / 2 ** 20).toFixed(1)} MB`);

  let next = 0;
  const t0 = Date.now();
  const recent: { n: number; frame: Buffer }[] = [];
  let lastHangAt = 0;
  const cpuAtStart = (await broker.probe()).cpuMs;
  let lastReport = t0;
  const slot = async () => {
    let conn: FuzzConn | null = null;
    while (next < opts.frames) {
      if (restarting) await restarting;
      const n = next++;
      const seed: Seed = rng.pick(corpus);
      const hangUp = rng.chance(0.02);
      const { frame } = mutateFrame(rng, seed);
      // Drawn now, not after an await: the frame sequence of a seed is the same in every run.
      const cut = 1 + rng.int(frame.length + 3);
      recent.push({ n, frame });
      if (recent.length > 256) recent.shift();
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        const s = (Date.now() - t0) / 1000;
        progress(`${n} frames, ${(n / s).toFixed(0)}/s, crashes ${r.crashes}, hangs ${r.hangs}`);
      }
      try {
        conn ??= await FuzzConn.open(broker.port);
      } catch {
        // the broker is between a crash and its restart
        await new Promise((res) => setTimeout(res, 100));
        continue;
      }
      inFlight.set(n, frame);
      const bytes = sized(frame);
      if (hangUp) {
        // A client dying mid-request: part of the frame, then gone.
        conn.socket.write(bytes.subarray(0, cut));
        conn.destroy();
        conn = null;
        r.hungUpByUs++;
        inFlight.delete(n);
        continue;
      }
      const e = expectationOf(frame);
      conn.socket.write(bytes);
      if (e.silent) {
        r.noResponseDue++;
        conn.socket.write(sized(PROBE));
      }
      const res = await conn.next(hangBound + Math.min(e.waitMs, WAIT_CAP_MS));
      inFlight.delete(n);
      if (res === 'closed') {
        r.closedByBroker++;
        conn = null;
      } else if (res === 'timeout') {
        if (e.waitMs > WAIT_CAP_MS) r.longWaitsAsked++;
        else if (!restarting) {
          r.hangs++;
          save('hang', n, frame);
          const firstOfBurst = Date.now() - lastHangAt > 60_000;
          // Set before the probe is awaited: the other connections' hangs of the same burst
          // arrive meanwhile and must not each count as a new stall.
          lastHangAt = Date.now();
          if (firstOfBurst) {
            // The first hang of a burst: keep the frames sent just before it, and ask the broker
            // whether its event loop was blocked (CPU spent) or the process starved.
            for (const x of recent) save(`before-hang-${n}/frame`, x.n, x.frame);
            const asked = Date.now();
            const probe = await broker.probe().catch(() => null);
            r.stalls.push({
              atFrame: n,
              probeAnsweredInMs: probe ? Date.now() - asked : null,
              loopDelayMaxMs: probe?.loopDelayMaxMs ?? null,
              cpuMsSinceStart: probe ? probe.cpuMs - cpuAtStart : null,
              secondsSinceStart: (Date.now() - t0) / 1000,
            });
          }
          if (r.hangSamples.length < 20) r.hangSamples.push(frame.toString('hex').slice(0, 400));
        }
        conn.destroy();
        conn = null;
      } else {
        const got = res.readInt32BE(0);
        const want = e.silent ? PROBE_CORRELATION : e.correlationId;
        if (got !== want) {
          r.correlationMismatches++;
          conn.destroy();
          conn = null;
        } else r.answered++;
      }
    }
    conn?.destroy();
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  if (restarting) await restarting;
  const seconds = (Date.now() - t0) / 1000;
  // Let closes settle, then measure.
  await new Promise((res) => setTimeout(res, 500));
  const end = await broker.stats();

  const before = await readBack(broker.port);
  stopping = true;
  const code = await broker.stop();
  if (code !== 0) r.crashOutputs.push(`graceful stop exited ${code}: ${broker.output().slice(-3000)}`);
  const again = await startChild(dataDir, FUZZ_BROKER_CONFIG);
  const after = await readBack(again.port);
  await again.stop();
  rmSync(dataDir, { recursive: true, force: true });

  return {
    frames: opts.frames,
    seconds,
    framesPerSecond: Math.round(opts.frames / seconds),
    seeds: corpus.length,
    ...r,
    heapStartMB: start.heapUsed / 2 ** 20,
    heapEndMB: end.heapUsed / 2 ** 20,
    heapDeltaMB: (end.heapUsed - start.heapUsed) / 2 ** 20,
    rssEndMB: end.rss / 2 ** 20,
    brokerErrors: end.errors,
    brokerErrorSamples: end.errorSamples,
    topicsAtEnd: end.topics,
    before,
    after,
    restartMismatches: compareReadBacks(before, after),
  };
}

function summary(res: FuzzResult): string {
  const parts = (rb: ReadBack) => ({
    partitions: rb.partitions.length,
    batches: rb.partitions.reduce((a, p) => a + p.batches, 0),
    records: rb.partitions.reduce((a, p) => a + p.records, 0),
    undecodable: rb.partitions.reduce((a, p) => a + p.undecodable, 0),
    problems: rb.problems,
  });
  const { before, after, ...rest } = res;
  return JSON.stringify({ ...rest, before: parts(before), after: parts(after) }, null, 2);
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const outIdx = argv.indexOf('--out');
  const res = await runFuzz({
    frames: arg('frames', 100_000),
    seed: arg('seed', 1),
    concurrency: arg('concurrency', 16),
    outDir: outIdx >= 0 ? argv[outIdx + 1] : join(tmpdir(), 'kbroker-fuzz-findings'),
    progress: (l) => process.stderr.write(`${new Date().toISOString()} ${l}\n`),
  });
  process.stdout.write(`${summary(res)}\n`);
  const ok =
    res.crashes === 0 &&
    res.hangs === 0 &&
    res.correlationMismatches === 0 &&
    res.heapDeltaMB < 20 &&
    res.before.problems.length === 0 &&
    res.after.problems.length === 0 &&
    res.restartMismatches.length === 0;
  process.stdout.write(ok ? 'fuzz: PASS\n' : 'fuzz: FAIL\n');
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
