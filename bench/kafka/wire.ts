/**
 * The few raw Kafka requests `npm run bench:kafka` sends itself, the same bytes to both brokers:
 * ApiVersions (readiness), CreateTopics, ListOffsets (to check that every record arrived),
 * pre-encoded Produce v7 frames for the project's pipelined client and its Fetch v11 consumer. All versions are
 * non-flexible ones that Kafka 4.x still serves (KIP-896), so every response header is v0.
 *
 * `port` is the bootstrap broker: each call asks it (Metadata v1) which broker leads each partition and
 * sends every partition's requests to its leader, as a Kafka client does — one broker for Kafka's single
 * node and the no-op server, several for `kbroker start --threads N`.
 */
import { connect } from 'node:net';
import { decode } from '../../src/protocol/codec.js';
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  FetchRequest,
  FetchResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from '../../src/protocol/generated/messages.js';
import { iterateBatches } from '../../src/protocol/record-batch.js';
import { buildRecordBatch } from '../../src/protocol/record-batch-builder.js';
import type { MessageSpec } from '../../src/protocol/spec.js';
import { fetchV11Body, produceV7Body, requestFrame } from '../frames.js';
import { PipelineClient, percentile } from '../pipeline-client.js';

/** The body of a response frame with a v0 header (correlation id only). */
function body<T>(spec: MessageSpec, version: number, reply: Buffer): T {
  return decode<T>(spec, version, reply.subarray(4));
}

/** Connects and sends one ApiVersions v0; resolves true when it is answered. */
export function apiVersionsAnswered(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => s.write(requestFrame(ApiVersionsRequest, 0, {})));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const r = body<{ errorCode: number }>(ApiVersionsResponse, 0, buf.subarray(4));
        done(r.errorCode === 0);
      }
    });
    s.once('error', () => done(false));
  });
}

/** Resolves true once a TCP connection to the port is accepted. */
export function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface MetadataResult {
  brokers: { nodeId: number; host: string; port: number }[];
  topics: { name: string; errorCode: number; partitions: { partitionIndex: number; leaderId: number }[] }[];
}

/**
 * Partitions 0..n-1 of `topic` by the port of their leader (Metadata v1 to the bootstrap `port`); waits
 * up to 10 s for every partition to have a known leader (a broker thread still taking up its leaderships).
 */
export async function partitionsByLeader(
  port: number,
  topic: string,
  partitions: number,
): Promise<Map<number, number[]>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await PipelineClient.connect(port);
    let res: MetadataResult;
    try {
      const reply = await c.send(requestFrame(MetadataRequest, 1, { topics: [{ name: topic }] }));
      res = body<MetadataResult>(MetadataResponse, 1, reply);
    } finally {
      c.close();
    }
    const portOf = new Map(res.brokers.map((b) => [b.nodeId, b.port]));
    const byLeader = new Map<number, number[]>();
    for (const p of res.topics[0]?.partitions ?? []) {
      const leaderPort = portOf.get(p.leaderId);
      if (leaderPort === undefined || p.partitionIndex >= partitions) continue;
      const mine = byLeader.get(leaderPort);
      if (mine) mine.push(p.partitionIndex);
      else byLeader.set(leaderPort, [p.partitionIndex]);
    }
    let known = 0;
    for (const ps of byLeader.values()) known += ps.length;
    if (known === partitions) {
      for (const ps of byLeader.values()) ps.sort((a, b) => a - b);
      return byLeader;
    }
    if (Date.now() > deadline)
      throw new Error(`Metadata ${topic}: ${known} of ${partitions} partitions have a known leader`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface CreateTopicsResult {
  topics: { name: string; errorCode: number; errorMessage: string | null }[];
}
interface ListOffsetsResult {
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number; offset: number }[] }[];
}

/** Creates a topic (replication factor 1) and waits until every partition answers ListOffsets. */
export async function createTopic(
  port: number,
  name: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  const c = await PipelineClient.connect(port);
  try {
    const reply = await c.send(
      requestFrame(CreateTopicsRequest, 4, {
        topics: [
          {
            name,
            numPartitions: partitions,
            replicationFactor: 1,
            assignments: [],
            configs: Object.entries(configs).map(([k, value]) => ({ name: k, value })),
          },
        ],
        timeoutMs: 30_000,
        validateOnly: false,
      }),
    );
    const t = body<CreateTopicsResult>(CreateTopicsResponse, 4, reply).topics[0]!;
    if (t.errorCode !== 0)
      throw new Error(`CreateTopics ${name}: error ${t.errorCode} ${t.errorMessage ?? ''}`);
  } finally {
    c.close();
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await endOffsets(port, name, partitions);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Log end offsets of partitions 0..n-1, each from its leader (throws on any partition error). */
export async function endOffsets(port: number, topic: string, partitions: number): Promise<number[]> {
  const offsets = new Array<number>(partitions);
  for (const [leaderPort, mine] of await partitionsByLeader(port, topic, partitions)) {
    const c = await PipelineClient.connect(leaderPort);
    try {
      const reply = await c.send(
        requestFrame(ListOffsetsRequest, 1, {
          replicaId: -1,
          topics: [{ name: topic, partitions: mine.map((i) => ({ partitionIndex: i, timestamp: -1 })) }],
        }),
      );
      for (const p of body<ListOffsetsResult>(ListOffsetsResponse, 1, reply).topics[0]!.partitions) {
        if (p.errorCode !== 0)
          throw new Error(`ListOffsets ${topic}-${p.partitionIndex}: error ${p.errorCode}`);
        offsets[p.partitionIndex] = p.offset;
      }
    } finally {
      c.close();
    }
  }
  return offsets;
}

interface ProduceResult {
  responses: { name: string; partitionResponses: { index: number; errorCode: number }[] }[];
}

/** A consume load of the project's clients (this one and loads.ts nativeConsume): every partition from offset 0. */
export interface ConsumeLoad {
  port: number;
  topic: string;
  partitions: number;
  /** records to read from all partitions together */
  records: number;
  /** more than `records` is no error (the no-op server serves copies of one batch) */
  atLeast?: boolean;
}

/** A produce load of the project's clients (this one and loads.ts nativeProduce): `records` records of `recordBytes`. */
export interface ProduceLoad {
  port: number;
  topic: string;
  partitions: number;
  records: number;
  recordBytes: number;
  /** 1, or -1 for all */
  acks: number;
  /** records per batch, one batch per request (default 100) */
  batchRecords?: number;
}

/**
 * The project's own load generator: pre-encoded Produce v7 frames of `batchRecords` records each
 * (one frame per partition, reused; partitions taken in turn), `window` requests in flight on each
 * of `connections` connections to each partition leader (default one; a leader's requests are shared
 * out among its connections). Every response's error code is checked. Returns seconds.
 */
export async function pipelinedProduce(
  opts: ProduceLoad & { window?: number; connections?: number },
): Promise<number> {
  const batchRecords = opts.batchRecords ?? 100;
  const requests = Math.ceil(opts.records / batchRecords);
  const value = Buffer.alloc(opts.recordBytes, 'x');
  const batch = buildRecordBatch({
    records: Array.from({ length: batchRecords }, () => ({ key: null, value })),
  });
  const frames = Array.from({ length: opts.partitions }, (_, p) =>
    requestFrame(ProduceRequest, 7, produceV7Body(opts.topic, p, batch, opts.acks)),
  );
  // Request i goes to partition i % partitions; each leader gets the requests of its partitions.
  const perConnection: { port: number; parts: number[]; requests: number }[] = [];
  const n = opts.connections ?? 1;
  for (const [port, parts] of await partitionsByLeader(opts.port, opts.topic, opts.partitions)) {
    let leaderRequests = 0;
    for (const p of parts)
      if (p < requests) leaderRequests += Math.floor((requests - 1 - p) / opts.partitions) + 1;
    // Connection k of this leader sends its requests k, k + n, k + 2n, …: its partitions taken in turn.
    for (let k = 0; k < n; k++)
      perConnection.push({ port, parts, requests: Math.max(0, Math.ceil((leaderRequests - k) / n)) });
  }
  const clients = await Promise.all(perConnection.map((c) => PipelineClient.connect(c.port)));
  let firstError = '';
  const check = (reply: Buffer) => {
    const r = body<ProduceResult>(ProduceResponse, 7, reply);
    for (const t of r.responses)
      for (const p of t.partitionResponses)
        if (p.errorCode !== 0 && !firstError) firstError = `${t.name}-${p.index}: error ${p.errorCode}`;
  };
  try {
    const t0 = performance.now();
    await Promise.all(
      clients.map((c, j) => {
        const { parts, requests: mine } = perConnection[j]!;
        const k = j % n;
        return c.run(mine, opts.window ?? 8, (i) => frames[parts[(k + i * n) % parts.length]!]!, check);
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    if (firstError) throw new Error(`pipelined produce: ${firstError}`);
    return secs;
  } finally {
    for (const c of clients) c.close();
  }
}

export interface FixedRateResult {
  requests: number;
  recordsPerSec: number;
  p50: number;
  p99: number;
  p999: number;
}

/**
 * Produce latency at a fixed rate from the project's light client, so that no JVM client's own
 * pauses are in the figures: one connection, one partition, acks=all, a Produce v7 request every
 * `intervalMs` (default 1) carrying the records due since the one before (rate × interval, of
 * `recordBytes` each). An open loop: a request goes when it is due however many are unanswered, so
 * a slow answer cannot hold back the requests behind it and hide their wait (coordinated omission).
 * Each request's latency runs from its write to the socket — a request the broker is slow to read
 * waits in the socket's buffer after that, and counts — to its answer; not from when it was due, as
 * Node's timers fire up to a millisecond late (the first runs here had both brokers' p50 at that
 * floor). Throws on an error code, or when 10,000 are unanswered.
 */
export async function fixedRateProduce(opts: {
  port: number;
  topic: string;
  rate: number;
  secs: number;
  recordBytes: number;
  intervalMs?: number;
}): Promise<FixedRateResult> {
  const perRequest = Math.max(1, Math.round((opts.rate * (opts.intervalMs ?? 1)) / 1000));
  const interval = (perRequest * 1000) / opts.rate; // ms, so that the rate asked is kept exactly
  const total = Math.max(10, Math.ceil((opts.secs * 1000) / interval));
  const value = Buffer.alloc(opts.recordBytes, 'x');
  const batch = buildRecordBatch({
    records: Array.from({ length: perRequest }, () => ({ key: null, value })),
  });
  const frame = requestFrame(ProduceRequest, 7, produceV7Body(opts.topic, 0, batch, -1));
  const [leaderPort] = (await partitionsByLeader(opts.port, opts.topic, 1)).keys();
  const c = await PipelineClient.connect(leaderPort!);
  const latencies = new Array<number>(total);
  try {
    const t0 = performance.now();
    let sent = 0;
    let answered = 0;
    await new Promise<void>((resolve, reject) => {
      const onReply = (sentAt: number, i: number) => (reply: Buffer) => {
        latencies[i] = performance.now() - sentAt;
        const r = body<ProduceResult>(ProduceResponse, 7, reply);
        const err = r.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
        if (err !== 0) reject(new Error(`fixed-rate produce ${opts.topic}: error ${err}`));
        if (++answered === total) resolve();
      };
      const tick = () => {
        const now = performance.now();
        while (sent < total && t0 + sent * interval <= now) {
          if (sent - answered >= 10_000)
            return reject(new Error('fixed-rate produce: 10,000 requests unanswered'));
          c.send(frame).then(onReply(performance.now(), sent), reject);
          sent++;
        }
        if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
      };
      tick();
    });
    const secs = (performance.now() - t0) / 1000;
    return {
      requests: total,
      recordsPerSec: (total * perRequest) / secs,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      p999: percentile(latencies, 99.9),
    };
  } finally {
    c.close();
  }
}

interface FetchResult {
  errorCode: number;
  responses: {
    topic: string;
    partitions: { partitionIndex: number; errorCode: number; records: Buffer | null }[];
  }[];
}

/**
 * The project's own consumer: raw Fetch v11 requests for every partition of the topic from offset 0,
 * one in flight to each partition leader as a Kafka consumer keeps one per broker, with the consumer's
 * defaults (fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB, fetch.max.wait.ms 500,
 * fetch.min.bytes 1), no group and no decompression: each returned batch's header gives the next offset
 * and its record count, a batch cut short at the end of a response is fetched again next time. Stops when
 * `records` records have arrived from all leaders together (a broker that returns more fails the run,
 * unless `atLeast`: the no-op server serves whole copies of one batch); throws on an error code or when
 * nothing arrives for 30 s. Returns seconds, up to the reply that brought the last record (a leader with
 * nothing left may still be waiting out its fetch.max.wait.ms then, which is not counted).
 */
export async function pipelinedConsume(opts: ConsumeLoad): Promise<number> {
  const leaders = [...(await partitionsByLeader(opts.port, opts.topic, opts.partitions))];
  const clients = await Promise.all(leaders.map(([port]) => PipelineClient.connect(port)));
  let received = 0;
  let lastProgress = performance.now();
  let tEnd = 0;
  const t0 = performance.now();
  const consume = async (c: PipelineClient, parts: number[]) => {
    const offsets = new Map(parts.map((p) => [p, 0]));
    for (let i = 0; received < opts.records; i++) {
      const reply = await c.send(
        requestFrame(
          FetchRequest,
          11,
          fetchV11Body(
            opts.topic,
            [...offsets].map(([partition, offset]) => ({ partition, offset })),
            { maxWaitMs: 500, minBytes: 1, maxBytes: 50 << 20, partitionMaxBytes: 1 << 20 },
          ),
          i,
        ),
      );
      const r = body<FetchResult>(FetchResponse, 11, reply);
      if (r.errorCode !== 0) throw new Error(`Fetch ${opts.topic}: error ${r.errorCode}`);
      const before = received;
      for (const t of r.responses)
        for (const p of t.partitions) {
          if (p.errorCode !== 0)
            throw new Error(`Fetch ${t.topic}-${p.partitionIndex}: error ${p.errorCode}`);
          if (p.records === null) continue;
          // Whole batches only: the iteration stops at one cut short, fetched again next time.
          for (const b of iterateBatches(p.records)) {
            offsets.set(p.partitionIndex, b.lastOffset + 1);
            received += b.recordsCount;
          }
        }
      const now = performance.now();
      if (received > before) {
        lastProgress = now;
        if (received >= opts.records && tEnd === 0) tEnd = now;
      } else if (now - lastProgress > 30_000)
        throw new Error(`Fetch ${opts.topic}: ${received} of ${opts.records} records, none for 30 s`);
    }
  };
  try {
    await Promise.all(leaders.map(([, parts], j) => consume(clients[j]!, parts)));
    if (received !== opts.records && !opts.atLeast)
      throw new Error(`Fetch ${opts.topic}: ${received} records, expected ${opts.records}`);
    return (tEnd - t0) / 1000;
  } finally {
    for (const c of clients) c.close();
  }
}
