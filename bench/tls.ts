/**
 * `npm run bench:tls`: produce and fetch throughput over TLS as a ratio of plaintext, through ONE
 * kbroker process with a PLAINTEXT and an SSL listener (dev certificates), same request bytes,
 * alternating rounds so both see the same machine load. Produce: 100-record batches of 100 B
 * records, 8 requests in flight; fetch: everything back, 1 MiB per request, one at a time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { BROKER_NODE_FLAGS } from '../src/node-flags.js';
import { FetchRequest, ProduceRequest } from '../src/protocol/generated/messages.js';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { makeDevCerts } from '../src/security/dev-certs.js';
import { fetchV11Body, metadataAutoCreateFrame, produceV7Body, requestFrame } from './frames.js';

/**
 * A pipelining client that gathers a reply's chunks and joins them once (TLS delivers 16 KiB
 * records: joining on every chunk would make the client, not the broker, the bottleneck).
 */
class Client {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;
  private readonly pending: ((frame: Buffer) => void)[] = [];

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      for (;;) {
        if (this.need < 0) {
          if (this.buffered < 4) return;
          const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
          this.chunks = [head];
          this.need = 4 + head.readInt32BE(0);
        }
        if (this.buffered < this.need) return;
        const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
        const frame = all.subarray(4, this.need);
        const rest = all.subarray(this.need);
        this.chunks = rest.length > 0 ? [rest] : [];
        this.buffered = rest.length;
        this.need = -1;
        this.pending.shift()!(frame);
      }
    });
  }

  static connect(port: number, ca: string | null): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s: Socket = ca
        ? tlsConnect({ port, host: '127.0.0.1', ca, servername: 'localhost' }, () => resolve(new Client(s)))
        : netConnect({ port, host: '127.0.0.1' }, () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }

  send(frame: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.socket.write(frame);
    });
  }

  async run(count: number, window: number, make: (i: number) => Buffer): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count) await this.send(make(next++));
    };
    await Promise.all(Array.from({ length: window }, lane));
  }

  close(): void {
    this.socket.destroy();
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kbroker-bench-tls-'));
  const certs = makeDevCerts(join(work, 'certs'));
  const ca = readFileSync(certs.caFile, 'utf8');
  writeFileSync(
    join(work, 'server.properties'),
    [
      'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${certs.brokerKeystoreFile}`,
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...BROKER_NODE_FLAGS,
      join(root, 'bin', 'kbroker.js'),
      'start',
      '--config',
      join(work, 'server.properties'),
      '--data-dir',
      join(work, 'data'),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const p = /listener PLAINTEXT \(PLAINTEXT\) on [^\s]+:(\d+)/.exec(out);
      const s = /listener SSL \(SSL\) on [^\s]+:(\d+)/.exec(out);
      if (p && s) resolve({ PLAINTEXT: Number(p[1]), SSL: Number(s[1]) });
    });
    child.once('exit', (code) => reject(new Error(`kbroker exited ${code}`)));
  });
  const value = Buffer.alloc(100, 'x');
  const batch = buildRecordBatch({ records: Array.from({ length: 100 }, () => ({ key: null, value })) });
  const produce = (topic: string, i: number) =>
    requestFrame(ProduceRequest, 7, produceV7Body(topic, 0, Buffer.from(batch), 1), i);
  const fetch = (topic: string, offset: number, i: number) =>
    requestFrame(FetchRequest, 11, fetchV11Body(topic, [{ partition: 0, offset }]), i);
  const results: Record<string, { produce: number[]; fetch: number[] }> = {
    PLAINTEXT: { produce: [], fetch: [] },
    SSL: { produce: [], fetch: [] },
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const listener of round % 2 === 0 ? ['PLAINTEXT', 'SSL'] : ['SSL', 'PLAINTEXT']) {
        const topic = `bench-${listener.toLowerCase()}-${round}`;
        const c = await Client.connect(ports[listener]!, listener === 'SSL' ? ca : null);
        await c.send(metadataAutoCreateFrame(topic));
        await c.send(produce(topic, -1));
        const frames = Array.from({ length: REQUESTS }, (_, i) => produce(topic, i));
        let t0 = performance.now();
        await c.run(REQUESTS, 8, (i) => frames[i]!);
        const mb = (batch.length * REQUESTS) / 1e6;
        results[listener]!.produce.push(mb / ((performance.now() - t0) / 1000));
        let offset = 0;
        let bytes = 0;
        let n = 0;
        const total = (REQUESTS + 1) * 100;
        t0 = performance.now();
        while (offset < total) {
          const reply = await c.send(fetch(topic, offset, n++));
          bytes += reply.length;
          const batches = Math.round(reply.length / batch.length);
          if (batches === 0) throw new Error('empty fetch');
          offset += batches * 100;
        }
        results[listener]!.fetch.push(bytes / 1e6 / ((performance.now() - t0) / 1000));
        c.close();
      }
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const kind of ['produce', 'fetch'] as const) {
    const p = results.PLAINTEXT![kind];
    const s = results.SSL![kind];
    console.log(
      `${kind.padEnd(8)} plaintext ${p.map((x) => x.toFixed(0)).join('/')} MB/s, TLS ${s.map((x) => x.toFixed(0)).join('/')} MB/s, ` +
        `TLS/plaintext (medians) ${(median(s) / median(p)).toFixed(2)}×`,
    );
  }
}

await main();
