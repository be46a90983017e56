/**
 * Fetch sessions (KIP-227) against sessionless fetches, issue 17's benchmark: one consumer of
 * 500 partitions, caught up, with few changes — before each fetch 5 random partitions get one new
 * record. The sessionless consumer names all 500 partitions in every request and is answered all
 * 500; the session consumer opens a session once (epoch 0) and then names only the partitions
 * whose position moved, and is answered only the partitions with something new. Reported: bytes
 * per fetch request and response, and the broker's CPU per fetch (utime + stime of the broker
 * process, /proc/<pid>/stat), each as session/sessionless ratios, alternating rounds.
 *
 *   npm run build && npx tsx bench/fetch-sessions.ts [--fetches 2000] [--rounds 3]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statCpuSeconds } from '../src/common/proc-stat.js';
import { BROKER_NODE_FLAGS } from '../src/node-flags.js';
import { codecFor, Reader } from '../src/protocol/codec.js';
import { responseSpecs } from '../src/protocol/generated/messages.js';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { TestClient } from '../src/test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies, checked field by field
type Body = Record<string, any>;

const PARTITIONS = 500;
const CHANGED_PER_FETCH = 5;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function startBroker(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      ...BROKER_NODE_FLAGS,
      'bin/kbroker.js',
      'start',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dir,
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on [^ ]*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`kbroker exited: ${out}`)));
  });
  return { child, port };
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`) * 1000;
}

async function main(): Promise<void> {
  const fetches = arg('fetches', 2000);
  const rounds = arg('rounds', 3);
  const dir = mkdtempSync(join(tmpdir(), 'kbroker-bench-sessions-'));
  const { child, port } = await startBroker(dir);
  try {
    const c = await TestClient.connect(port);
    const topic = 'sessions';
    const created = await c.request<Body>(19, 5, {
      topics: [
        { name: topic, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    if (created.topics[0].errorCode !== 0)
      throw new Error(`CreateTopics: ${JSON.stringify(created.topics[0])}`);
    const batch = buildRecordBatch({ records: [{ value: 'x'.repeat(100) }] });
    const produce = (partitions: number[]) =>
      c.request<Body>(0, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 30_000,
        topicData: [{ name: topic, partitionData: partitions.map((index) => ({ index, records: batch })) }],
      });
    await produce([...Array(PARTITIONS).keys()]);
    const offsets = new Array<number>(PARTITIONS).fill(0);
    const partition = (p: number) => ({ partition: p, fetchOffset: offsets[p]!, partitionMaxBytes: 1 << 20 });
    const fetchBody = (sessionId: number, epoch: number, parts: number[]) => ({
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 50 << 20,
      isolationLevel: 0,
      sessionId,
      sessionEpoch: epoch,
      topics: parts.length > 0 ? [{ topic, partitions: parts.map(partition) }] : [],
      forgottenTopicsData: [],
      rackId: '',
    });
    /** Sends a fetch, advances the offsets of partitions that returned records; returns its sizes. */
    const fetch = async (body: Body) => {
      const frame = c.frame(1, 12, body);
      const res = await c.sendRaw(frame);
      const decoded = decodeFetch(res);
      const moved: number[] = [];
      for (const t of decoded.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw new Error(`partition ${p.partitionIndex}: error ${p.errorCode}`);
          if (p.records && p.records.length > 0) {
            offsets[p.partitionIndex] = p.highWatermark;
            moved.push(p.partitionIndex);
          }
        }
      }
      return {
        requestBytes: frame.length,
        responseBytes: res.length + 4,
        moved,
        sessionId: decoded.sessionId,
      };
    };
    // Catch up once.
    await fetch(fetchBody(0, -1, [...Array(PARTITIONS).keys()]));

    const change = () =>
      produce(Array.from({ length: CHANGED_PER_FETCH }, () => Math.floor(Math.random() * PARTITIONS)));

    const sessionless = async () => {
      let req = 0;
      let res = 0;
      let cpu = 0;
      for (let i = 0; i < fetches; i++) {
        await change();
        const before = cpuMs(child.pid!);
        const r = await fetch(fetchBody(0, -1, [...Array(PARTITIONS).keys()]));
        cpu += cpuMs(child.pid!) - before;
        req += r.requestBytes;
        res += r.responseBytes;
      }
      return { req: req / fetches, res: res / fetches, cpu: cpu / fetches };
    };

    const withSession = async () => {
      const open = await fetch(fetchBody(0, 0, [...Array(PARTITIONS).keys()]));
      const id = open.sessionId;
      if (id === 0) throw new Error('no session created');
      let epoch = 1;
      let changed = open.moved;
      let req = 0;
      let res = 0;
      let cpu = 0;
      for (let i = 0; i < fetches; i++) {
        await change();
        const before = cpuMs(child.pid!);
        const r = await fetch(fetchBody(id, epoch++, changed));
        cpu += cpuMs(child.pid!) - before;
        changed = r.moved;
        req += r.requestBytes;
        res += r.responseBytes;
      }
      await fetch(fetchBody(id, -1, [])); // close it
      return { req: req / fetches, res: res / fetches, cpu: cpu / fetches };
    };

    console.log(
      `fetch sessions: ${PARTITIONS} partitions, ${CHANGED_PER_FETCH} changed per fetch, ${fetches} fetches per run, ${rounds} alternating rounds`,
    );
    for (let round = 1; round <= rounds; round++) {
      const a = await sessionless();
      const b = await withSession();
      const f = (x: number) => x.toFixed(0);
      console.log(
        `round ${round}: request bytes ${f(b.req)} vs ${f(a.req)} (${(b.req / a.req).toFixed(3)}x), ` +
          `response bytes ${f(b.res)} vs ${f(a.res)} (${(b.res / a.res).toFixed(3)}x), ` +
          `broker CPU per fetch ${b.cpu.toFixed(3)} vs ${a.cpu.toFixed(3)} ms (${(b.cpu / a.cpu).toFixed(2)}x)`,
      );
    }
    c.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Fetch v12 response body of a frame (correlation id and tagged header skipped). */
function decodeFetch(frame: Buffer): Body {
  return decodeResponse(1, 12, frame);
}

function decodeResponse(apiKey: number, version: number, frame: Buffer): Body {
  const r = new Reader(frame);
  r.int32();
  const n = r.uvarint(); // flexible response header: tagged fields
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.sub(r.uvarint());
  }
  return codecFor<Body>(responseSpecs.get(apiKey)!, version).read(r);
}

await main();
