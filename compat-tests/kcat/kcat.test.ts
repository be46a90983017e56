// kcat (Debian 1.7.1, librdkafka 2.0.2) against an in-process kbroker over TCP.
// Produce (-P) with every codec, keys (-K), headers (-H), whole files as binary messages; consume (-C -o
// beginning -e, no group); metadata (-L); offsets by timestamp (-Q). Everything produced must come back
// byte-identical and in order; the batches the broker stored are decoded to check they kept the codec.
// Last, `kbroker start --threads 2` as a process: two brokers leading a topic's partitions between them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressionType } from '../../src/protocol/records.js';
import { startTestBroker, type TestBroker } from '../../src/test-support/broker.js';
import { freePortRun } from '../../src/test-support/free-port.js';
import { type BrokerProcess, spawnBroker, threadsArgs } from '../../src/test-support/process.js';
import { expectStoredCodec, storedBatches } from '../lib/stored-batches.js';

const KCAT = process.env.KCAT ?? 'kcat';
const kcatVersion = spawnSync(KCAT, ['-V'], { encoding: 'utf8', timeout: 10_000 });
const haveKcat = kcatVersion.status === 0;
const mode: 'run' | 'fail' | 'skip' = haveKcat ? 'run' : process.env.CI ? 'fail' : 'skip';
if (mode === 'skip') {
  console.warn(
    `[compat-tests/kcat] SKIPPED: '${KCAT}' not found (apt-get install kcat). With CI set this fails.`,
  );
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

const children = new Set<ReturnType<typeof spawn>>();

/** Runs a command with a hard deadline: SIGKILL when it expires. */
function run(
  cmd: string,
  args: string[],
  opts: { input?: Buffer | string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function describeRun(what: string, r: RunResult): string {
  return `${what}: exit ${r.code}${r.signal ? ` (killed by ${r.signal}: timeout)` : ''}\nstderr:\n${r.stderr}`;
}

async function kcat(
  args: string[],
  input?: Buffer | string,
  timeoutMs = 30_000,
  bootstrap = broker.bootstrap,
): Promise<RunResult> {
  return run(KCAT, ['-b', bootstrap, ...args], {
    timeoutMs,
    ...(input !== undefined ? { input } : {}),
  });
}

async function produce(args: string[], input?: Buffer | string): Promise<void> {
  const r = await kcat(['-P', '-X', 'acks=all', '-X', 'message.timeout.ms=20000', ...args], input);
  if (r.code !== 0 || /Delivery failed|ERROR/.test(r.stderr))
    throw new Error(describeRun(`kcat -P ${args.join(' ')}`, r));
}

interface Consumed {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: string;
}

// Length-prefixed so binary keys/values (newlines, NUL, 0x80-0xff) parse unambiguously.
const FORMAT = '%o %K %S %T %h\\n%k%s\\n';

function parseConsumed(out: Buffer): Consumed[] {
  const list: Consumed[] = [];
  let p = 0;
  while (p < out.length) {
    const nl = out.indexOf(0x0a, p);
    if (nl < 0) throw new Error(`unterminated kcat record header at byte ${p}`);
    const line = out.toString('latin1', p, nl);
    const m = /^(\d+) (-?\d+) (-?\d+) (-?\d+) ?(.*)$/.exec(line);
    if (!m) throw new Error(`unexpected kcat output line: ${JSON.stringify(line)}`);
    const keyLen = Number(m[2]);
    const valueLen = Number(m[3]);
    p = nl + 1;
    const key = keyLen < 0 ? null : out.subarray(p, p + Math.max(keyLen, 0));
    p += Math.max(keyLen, 0);
    const value = valueLen < 0 ? null : out.subarray(p, p + Math.max(valueLen, 0));
    p += Math.max(valueLen, 0);
    if (out[p] !== 0x0a) throw new Error(`kcat record at offset ${m[1]} is not followed by a newline`);
    p++;
    list.push({ offset: Number(m[1]), key, value, timestamp: Number(m[4]), headers: m[5] ?? '' });
  }
  return list;
}

async function consumeAll(topic: string, partition = 0, bootstrap = broker.bootstrap): Promise<Consumed[]> {
  const r = await kcat(
    [
      '-C',
      '-X',
      'check.crcs=true',
      '-t',
      topic,
      '-p',
      String(partition),
      '-o',
      'beginning',
      '-e',
      '-f',
      FORMAT,
    ],
    undefined,
    30_000,
    bootstrap,
  );
  if (r.code !== 0) throw new Error(describeRun(`kcat -C -t ${topic}`, r));
  return parseConsumed(r.stdout);
}

let broker: TestBroker;
let work: string;

const versionLine = /Version (\S+) .*librdkafka (\S+)/.exec(kcatVersion.stdout ?? '');
const versionLabel = versionLine ? `kcat ${versionLine[1]}, librdkafka ${versionLine[2]}` : KCAT;

describe.skipIf(mode === 'skip')(`kcat compatibility (${versionLabel})`, () => {
  beforeAll(async () => {
    if (mode === 'fail')
      throw new Error(`kcat is required (CI is set) but '${KCAT} -V' failed: ${kcatVersion.error}`);
    work = mkdtempSync(join(tmpdir(), 'kcat-compat-'));
    broker = await startTestBroker({ 'num.partitions': '1' });
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await broker?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const codecs: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
  for (const codec of codecs) {
    it(`produces keyed lines with -z ${codec} and consumes them back byte-identical`, async () => {
      const topic = `kcat-lines-${codec}`;
      // Values: compressible, with ':' after the key delimiter, tabs, UTF-8 and high latin1 bytes.
      const lines = Array.from({ length: 200 }, (_, i) => ({
        key: Buffer.from(`key-${i % 13}`),
        value: Buffer.concat([
          Buffer.from(`value ${i}: ${'repeat-'.repeat(i % 20)}\tünïcode `),
          Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, (i & 0xff) === 0x0a ? 0x0b : i & 0xff]),
        ]),
      }));
      const input = Buffer.concat(
        lines.flatMap((l) => [l.key, Buffer.from(':'), l.value, Buffer.from('\n')]),
      );
      const file = join(work, `${topic}.txt`);
      writeFileSync(file, input);
      const zArgs = codec === 'none' ? [] : ['-z', codec];
      await produce(['-t', topic, '-p', '0', '-K:', ...zArgs, '-l', file]);

      const got = await consumeAll(topic);
      expect(got.map((m) => m.offset)).toEqual(lines.map((_, i) => i));
      got.forEach((m, i) => {
        expect(m.key, `key of offset ${i}`).toEqual(lines[i]!.key);
        expect(m.value, `value of offset ${i}`).toEqual(lines[i]!.value);
        expect(m.timestamp).toBeGreaterThan(1_600_000_000_000);
      });

      // librdkafka sent the codec (it silently stops compressing if Produce v0 is not advertised,
      // KAFKA-18659); the broker stored the batches as sent and they decode to the same records.
      const batches = storedBatches(broker.dataDir, topic);
      expectStoredCodec(batches, codec);
      const stored = batches.flatMap((b) => b.records);
      expect(stored.map((r) => r.offset)).toEqual(lines.map((_, i) => i));
      stored.forEach((r, i) => {
        expect(r.value).toEqual(lines[i]!.value);
      });
    });
  }

  it('produces whole binary files as messages (null keys, every byte value, 300 KB) with lz4', async () => {
    const topic = 'kcat-files';
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    let seed = 12345;
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      big[i] = i % 3 === 0 ? seed >>> 24 : 0x41 + (i % 7);
    }
    const payloads = [all, Buffer.from('\n\n\r\n'), big, Buffer.concat([all, Buffer.from(all).reverse()])];
    const files = payloads.map((p, i) => {
      const f = join(work, `file-${i}.bin`);
      writeFileSync(f, p);
      return f;
    });
    await produce(['-t', topic, '-p', '0', '-z', 'lz4', '-X', 'message.max.bytes=1000000', ...files]);
    const got = await consumeAll(topic);
    expect(got).toHaveLength(payloads.length);
    got.forEach((m, i) => {
      expect(m.offset).toBe(i);
      expect(m.key).toBeNull();
      expect(m.value!.equals(payloads[i]!), `payload ${i} (${payloads[i]!.length} bytes)`).toBe(true);
    });
  });

  it('produces with -Z: empty key and empty value become null', async () => {
    const topic = 'kcat-nulls';
    await produce(['-t', topic, '-p', '0', '-K:', '-Z'], ':no-key\nno-value:\nboth:set\n');
    const got = await consumeAll(topic);
    expect(got.map((m) => [m.key?.toString() ?? null, m.value?.toString() ?? null])).toEqual([
      [null, 'no-key'],
      ['no-value', null],
      ['both', 'set'],
    ]);
  });

  it('produces headers with -H and consumes them with %h', async () => {
    const topic = 'kcat-headers';
    await produce(
      [
        '-t',
        topic,
        '-p',
        '0',
        '-K:',
        '-z',
        'gzip',
        '-H',
        'trace-id=abc123',
        '-H',
        'source=kcat',
        '-H',
        'trace-id=second',
      ],
      'k1:v1\nk2:v2\n',
    );
    const got = await consumeAll(topic);
    expect(got.map((m) => m.value!.toString())).toEqual(['v1', 'v2']);
    for (const m of got) expect(m.headers).toBe('trace-id=abc123,source=kcat,trace-id=second');
    const stored = storedBatches(broker.dataDir, topic).flatMap((b) => b.records);
    expect(stored[0]!.headers).toEqual([
      { key: 'trace-id', value: Buffer.from('abc123') },
      { key: 'source', value: Buffer.from('kcat') },
      { key: 'trace-id', value: Buffer.from('second') },
    ]);
  });

  it('returns batches larger than fetch.message.max.bytes (KIP-74), CRCs checked', async () => {
    const topic = 'kcat-large';
    let seed = 99;
    const payloads = [0, 1].map(() => {
      const b = Buffer.alloc(900_000);
      for (let i = 0; i < b.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        b[i] = seed >>> 24;
      }
      return b;
    });
    const files = payloads.map((p, i) => {
      const f = join(work, `large-${i}.bin`);
      writeFileSync(f, p);
      return f;
    });
    await produce(['-t', topic, '-p', '0', ...files]);
    const r = await kcat([
      '-C',
      '-X',
      'check.crcs=true',
      '-X',
      'fetch.message.max.bytes=65536',
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      'beginning',
      '-e',
      '-f',
      FORMAT,
    ]);
    if (r.code !== 0) throw new Error(describeRun('kcat -C (small fetch.message.max.bytes)', r));
    const got = parseConsumed(r.stdout);
    expect(got.map((m) => m.offset)).toEqual([0, 1]);
    got.forEach((m, i) => {
      expect(m.value!.equals(payloads[i]!)).toBe(true);
    });
  });

  it('reports LogAppendTime timestamps when the broker sets log.message.timestamp.type', async () => {
    const other = await startTestBroker({
      'num.partitions': '1',
      'log.message.timestamp.type': 'LogAppendTime',
    });
    try {
      const topic = 'kcat-append-time';
      const before = Date.now();
      const p = await run(KCAT, ['-b', other.bootstrap, '-P', '-t', topic, '-p', '0', '-z', 'gzip'], {
        input: 'one\ntwo\nthree\n',
        timeoutMs: 30_000,
      });
      if (p.code !== 0) throw new Error(describeRun('kcat -P (LogAppendTime)', p));
      const after = Date.now();
      const r = await run(
        KCAT,
        [
          '-b',
          other.bootstrap,
          '-C',
          '-X',
          'check.crcs=true',
          '-t',
          topic,
          '-p',
          '0',
          '-o',
          'beginning',
          '-e',
          '-J',
        ],
        { timeoutMs: 30_000 },
      );
      if (r.code !== 0) throw new Error(describeRun('kcat -C -J (LogAppendTime)', r));
      const msgs = r.stdout
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { offset: number; tstype: string; ts: number; payload: string });
      expect(msgs.map((m) => [m.offset, m.payload])).toEqual([
        [0, 'one'],
        [1, 'two'],
        [2, 'three'],
      ]);
      for (const m of msgs) {
        expect(m.tstype).toBe('logappend');
        expect(m.ts).toBeGreaterThanOrEqual(before);
        expect(m.ts).toBeLessThanOrEqual(after);
      }
    } finally {
      await other.close();
    }
  });

  it('-L lists the broker and the topic with its partitions and leader', async () => {
    const topic = 'kcat-metadata';
    await produce(['-t', topic, '-p', '0'], 'a\n');
    const r = await kcat(['-L', '-J', '-m', '10']);
    if (r.code !== 0) throw new Error(describeRun('kcat -L -J', r));
    const md = JSON.parse(r.stdout.toString('utf8')) as {
      brokers: { id: number; name: string }[];
      topics: {
        topic: string;
        partitions: { partition: number; leader: number; replicas: { id: number }[] }[];
      }[];
    };
    expect(md.brokers).toHaveLength(1);
    const b = md.brokers[0]!;
    expect(b.name).toBe(broker.bootstrap);
    const t = md.topics.find((x) => x.topic === topic);
    expect(t, `topic ${topic} in ${JSON.stringify(md.topics.map((x) => x.topic))}`).toBeDefined();
    expect(t!.partitions.map((p) => p.partition)).toEqual([0]);
    expect(t!.partitions[0]!.leader).toBe(b.id);
    expect(t!.partitions[0]!.replicas.map((x) => x.id)).toEqual([b.id]);

    const one = await kcat(['-L', '-t', topic, '-m', '10']);
    if (one.code !== 0) throw new Error(describeRun(`kcat -L -t ${topic}`, one));
    const text = one.stdout.toString('utf8');
    expect(text).toContain(`broker ${b.id} at ${broker.bootstrap}`);
    expect(text).toContain(`topic "${topic}" with 1 partitions:`);
    expect(text).toMatch(new RegExp(`partition 0, leader ${b.id}, replicas: ${b.id}, isrs: ${b.id}\\n`));
  });

  it('-L shows every partition of a multi-partition topic', async () => {
    const other = await startTestBroker({ 'num.partitions': '3' });
    try {
      const topic = 'kcat-three';
      const p = await run(KCAT, ['-b', other.bootstrap, '-P', '-t', topic, '-p', '2'], {
        input: 'x\n',
        timeoutMs: 30_000,
      });
      if (p.code !== 0) throw new Error(describeRun('kcat -P (3 partitions)', p));
      const r = await run(KCAT, ['-b', other.bootstrap, '-L', '-t', topic, '-J', '-m', '10'], {
        timeoutMs: 30_000,
      });
      if (r.code !== 0) throw new Error(describeRun('kcat -L (3 partitions)', r));
      const md = JSON.parse(r.stdout.toString('utf8')) as {
        topics: { topic: string; partitions: { partition: number }[] }[];
      };
      expect(
        md.topics
          .find((t) => t.topic === topic)
          ?.partitions.map((x) => x.partition)
          .sort(),
      ).toEqual([0, 1, 2]);
    } finally {
      await other.close();
    }
  });

  it('-Q returns the first offset at or after a timestamp', async () => {
    const topic = 'kcat-times';
    // Three separate produce runs: timestamps strictly increase between rounds.
    for (const round of [0, 1, 2]) {
      await produce(
        ['-t', topic, '-p', '0', '-z', round === 1 ? 'gzip' : 'none'],
        `r${round}-a\nr${round}-b\nr${round}-c\n`,
      );
      // Real time on purpose: kcat stamps CreateTime from its own wall clock, so rounds must differ.
      await new Promise((r) => setTimeout(r, 20));
    }
    const msgs = await consumeAll(topic);
    expect(msgs.map((m) => m.value!.toString())).toEqual(
      [0, 1, 2].flatMap((r) => [`r${r}-a`, `r${r}-b`, `r${r}-c`]),
    );
    const query = async (ts: number): Promise<number> => {
      const r = await kcat(['-Q', '-t', `${topic}:0:${ts}`, '-m', '10']);
      const m = /\[0\] offset (-?\d+)\n/.exec(r.stdout.toString('utf8'));
      if (r.code !== 0 || !m)
        throw new Error(`${describeRun(`kcat -Q ${ts}`, r)}\nstdout: ${r.stdout.toString()}`);
      return Number(m[1]);
    };
    const expected = (ts: number) => msgs.find((m) => m.timestamp >= ts)?.offset ?? -1;
    const probes = [
      msgs[0]!.timestamp - 1000,
      msgs[0]!.timestamp,
      msgs[3]!.timestamp,
      msgs[3]!.timestamp - 1,
      msgs[4]!.timestamp + 1,
      msgs[6]!.timestamp,
      msgs[8]!.timestamp,
    ];
    for (const ts of probes) expect(await query(ts), `timestamp ${ts}`).toBe(expected(ts));
    // Later than every record: ListOffsets answers offset -1, which kcat prints as is.
    expect(await query(msgs[8]!.timestamp + 60_000)).toBe(-1);
  });

  it('-Q never answers below the log start offset moved by DeleteRecords', async () => {
    const topic = 'kcat-times-deleted';
    // One kcat run lingering long enough that the records share batches; the log start offset is then
    // moved into the middle of a stored batch (kcat may still split the run when the machine is busy).
    const lines = `${Array.from({ length: 100 }, (_, i) => `m${i}`).join('\n')}\n`;
    await produce(['-t', topic, '-p', '0', '-X', 'linger.ms=500'], lines);
    const msgs = await consumeAll(topic);
    expect(msgs).toHaveLength(100);
    const batch = storedBatches(broker.dataDir, topic).find((b) => b.recordsCount > 1);
    if (!batch) throw new Error('kcat sent every record in its own batch');
    const cut = batch.baseOffset + Math.floor(batch.recordsCount / 2);
    broker.broker.replicaManager.getPartition(topic, 0)!.log.deleteRecordsBefore(cut);
    const r = await kcat(['-Q', '-t', `${topic}:0:0`, '-m', '10']);
    const m = /\[0\] offset (-?\d+)\n/.exec(r.stdout.toString('utf8'));
    if (r.code !== 0 || !m) throw new Error(`${describeRun('kcat -Q 0', r)}\nstdout: ${r.stdout.toString()}`);
    expect(Number(m[1])).toBe(cut); // Kafka: the first record at or after the log start offset
  });

  it('consumes from an absolute offset (-o N) and from a timestamp (-o s@ts)', async () => {
    const topic = 'kcat-seek';
    const first = Array.from({ length: 30 }, (_, i) => `first-${i}`);
    const second = Array.from({ length: 30 }, (_, i) => `second-${i}`);
    await produce(['-t', topic, '-p', '0', '-z', 'snappy'], `${first.join('\n')}\n`);
    // Real time on purpose: kcat stamps CreateTime from its own wall clock, so the runs must differ.
    await new Promise((r) => setTimeout(r, 20));
    await produce(['-t', topic, '-p', '0', '-z', 'snappy'], `${second.join('\n')}\n`);
    const all = await consumeAll(topic);
    expect(all.map((m) => m.value!.toString())).toEqual([...first, ...second]);

    const fromOffset = await kcat(['-C', '-t', topic, '-p', '0', '-o', '45', '-e', '-f', FORMAT]);
    if (fromOffset.code !== 0) throw new Error(describeRun('kcat -C -o 45', fromOffset));
    expect(parseConsumed(fromOffset.stdout).map((m) => m.offset)).toEqual(
      Array.from({ length: 15 }, (_, i) => 45 + i),
    );

    const ts = all[30]!.timestamp;
    const want = all.slice(all.findIndex((x) => x.timestamp >= ts));
    const fromTime = await kcat(['-C', '-t', topic, '-p', '0', '-o', `s@${ts}`, '-e', '-f', FORMAT]);
    if (fromTime.code !== 0) throw new Error(describeRun(`kcat -C -o s@${ts}`, fromTime));
    expect(parseConsumed(fromTime.stdout).map((m) => m.offset)).toEqual(want.map((m) => m.offset));
  });
});

describe.skipIf(mode === 'skip')(`kcat against kbroker start --threads 2 (${versionLabel})`, () => {
  let proc: BrokerProcess | undefined;
  let dir: string | undefined;

  afterAll(() => {
    proc?.child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sees two brokers leading a topic between them; keyed records produced to all partitions come back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kcat-threads-'));
    const port = await freePortRun(2);
    proc = await spawnBroker(threadsArgs(2, port, dir, '--override', 'num.partitions=4'), {}, 60_000);
    const bootstrap = `127.0.0.1:${port}`;
    const topic = 'kcat-threads';
    const lines = Array.from({ length: 400 }, (_, i) => `key-${i % 37}:value-${i}`);
    // Auto-created with 4 partitions on the first produce; the default partitioner spreads the keys.
    const p = await run(
      KCAT,
      ['-b', bootstrap, '-P', '-t', topic, '-K:', '-X', 'acks=all', '-X', 'message.timeout.ms=20000'],
      { input: `${lines.join('\n')}\n` },
    );
    if (p.code !== 0 || /Delivery failed|ERROR/.test(p.stderr)) throw new Error(describeRun('kcat -P', p));
    const md = await run(KCAT, ['-b', bootstrap, '-L', '-t', topic]);
    const text = md.stdout.toString('utf8');
    expect(text).toMatch(/2 brokers:/);
    const leaders = [...text.matchAll(/partition \d+, leader (\d+)/g)].map((m) => Number(m[1]));
    expect(leaders).toHaveLength(4);
    expect(new Set(leaders)).toEqual(new Set([1, 2]));
    const got: string[] = [];
    for (let partition = 0; partition < 4; partition++) {
      for (const m of await consumeAll(topic, partition, bootstrap)) got.push(`${m.key}:${m.value}`);
    }
    expect(got.sort()).toEqual([...lines].sort());
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    proc = undefined;
  }, 90_000);
});
