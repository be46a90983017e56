/**
 * Many connections on one broker (issue 19), in phases against a broker in its own process
 * (scripts/fuzz/child.ts, so its heap and RSS are its own):
 * 1. idle: `idle` raw Kafka connections, each proven live by one ApiVersions, then left idle;
 *    the broker's heap (after a full GC) and RSS per connection are measured.
 * 2. active: `producers` pipelined producers (acks=1, two requests in flight, paced) and
 *    `consumers` long-polling fetchers on a many-partition topic, for `seconds`; meanwhile idle
 *    connections chosen at random are probed with ApiVersions. Every request's latency is
 *    measured at the client: the worst of each API is the bound a starved request would break.
 * 3. max.connections: the broker runs with max.connections = what phases 1–2 open + `spare`;
 *    `spare + extra` more connections are tried: `spare` are served, the rest wait at the acceptor
 *    (past its backlog of 50, closed) and are served once the served ones close.
 * 4. slow readers: `slowReaders` connections each pipeline 200 fetches of 1 MiB and never read;
 *    the broker must stop reading them (backpressure): its RSS stays bounded and the other
 *    connections stay served.
 * The light client is TestClient (src/test-support/client.ts): our codec over a socket, any number
 * of requests in flight, answers matched in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterateBatches } from '../../src/protocol/record-batch.js';
import { buildRecordBatch } from '../../src/protocol/record-batch-builder.js';
import { TestClient } from '../../src/test-support/client.js';
import { type BrokerChild, startChild } from '../fuzz/child.js';

export interface LoadOptions {
  idle: number;
  producers: number;
  consumers: number;
  seconds: number;
  /** Produce requests per second per producer. */
  produceRate: number;
  slowReaders: number;
  /** Connections left under max.connections once every phase-1/2 connection is open. */
  spare: number;
  /** Connections tried past max.connections. */
  extra: number;
  partitions: number;
  progress?: (line: string) => void;
}

export interface LatencyStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  idle: {
    connections: number;
    /** Broker heap (after a full GC) per idle connection, bytes. */
    heapPerConnection: number;
    /** Broker RSS per idle connection, bytes. */
    rssPerConnection: number;
    openSeconds: number;
  };
  active: {
    produce: LatencyStats;
    fetch: LatencyStats;
    idleProbe: LatencyStats;
    producedRecords: number;
    fetchedRecords: number;
    errors: number;
    brokerConnections: number;
  };
  maxConnections: {
    limit: number;
    tried: number;
    served: number;
    /** Past the acceptor's backlog: closed at once. */
    closed: number;
    /** Of those that waited, served once the served ones closed. */
    servedAfterClose: number;
    brokerConnections: number;
  };
  slowReaders: { connections: number; rssBefore: number; rssAfter: number; otherServedMs: number };
  brokerRss: number;
  brokerErrors: number;
}

const TOPIC = 'load';
const SLOW_TOPIC = 'load-slow';

function stats(samples: number[]): LatencyStats {
  if (samples.length === 0) return { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { count: s.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s[s.length - 1]! };
}

async function apiVersions(c: TestClient): Promise<number> {
  const res = await c.request<{ errorCode: number }>(18, 3, {
    clientSoftwareName: 'load',
    clientSoftwareVersion: '1',
  });
  return res.errorCode;
}

/** Opens `n` connections, `batch` at a time, each proven live by ApiVersions. */
async function openMany(port: number, n: number, batch = 250): Promise<TestClient[]> {
  const out: TestClient[] = [];
  for (let i = 0; i < n; i += batch) {
    const group = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async () => {
        const c = await TestClient.connect(port);
        const code = await apiVersions(c);
        if (code !== 0) throw new Error(`ApiVersions answered ${code}`);
        return c;
      }),
    );
    out.push(...group);
  }
  return out;
}

function produceBody(topic: string, partition: number, records: Buffer) {
  return {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

function fetchBody(topic: string, partition: number, offset: number, maxWaitMs: number, maxBytes: number) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
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
            partitionMaxBytes: maxBytes,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

type FetchResponse = {
  errorCode: number;
  responses: { partitions: { errorCode: number; records: Buffer | null }[] }[];
};

async function createTopic(port: number, name: string, partitions: number): Promise<void> {
  const c = await TestClient.connect(port);
  const res = await c.request<{ topics: { errorCode: number }[] }>(19, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  c.close();
  if (res.topics[0]!.errorCode !== 0)
    throw new Error(`CreateTopics ${name}: error ${res.topics[0]!.errorCode}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const say = opts.progress ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-load-'));
  // Room for `spare` more once phases 1–2 are open; phase 4 reuses those slots.
  const limit = opts.idle + opts.producers + opts.consumers + opts.spare;
  if (opts.spare < opts.slowReaders + 1)
    throw new Error('spare must leave room for the slow readers and one more');
  let broker: BrokerChild | undefined;
  const all: TestClient[] = [];
  try {
    broker = await startChild(dataDir, {
      'max.connections': String(limit),
      'auto.create.topics.enable': 'false',
    });
    const port = broker.port;
    await createTopic(port, TOPIC, opts.partitions);
    await createTopic(port, SLOW_TOPIC, 1);

    // 1. idle connections
    const base = await broker.stats();
    const t0 = Date.now();
    const idle = await openMany(port, opts.idle);
    all.push(...idle);
    const openSeconds = (Date.now() - t0) / 1000;
    const withIdle = await broker.stats();
    const idleResult = {
      connections: idle.length,
      heapPerConnection: (withIdle.heapUsed - base.heapUsed) / Math.max(1, idle.length),
      rssPerConnection: (withIdle.rss - base.rss) / Math.max(1, idle.length),
      openSeconds,
    };
    say(
      `idle: ${idle.length} connections open in ${openSeconds.toFixed(1)} s; broker heap +${(idleResult.heapPerConnection / 1024).toFixed(2)} KiB, ` +
        `RSS +${(idleResult.rssPerConnection / 1024).toFixed(2)} KiB per connection (broker connections ${withIdle.connections})`,
    );

    // 2. active producers and consumers
    const producers = await openMany(port, opts.producers);
    const consumers = await openMany(port, opts.consumers);
    all.push(...producers, ...consumers);
    const produceLat: number[] = [];
    const fetchLat: number[] = [];
    const probeLat: number[] = [];
    let producedRecords = 0;
    let fetchedRecords = 0;
    let errors = 0;
    let running = true;
    const value = Buffer.alloc(100, 'v');
    const batch = buildRecordBatch({ records: Array.from({ length: 10 }, () => ({ key: null, value })) });
    const everyMs = 1000 / opts.produceRate;
    const loops: Promise<void>[] = [];
    producers.forEach((c, i) => {
      const partition = i % opts.partitions;
      // Two requests in flight per producer, each paced to the rate.
      for (let lane = 0; lane < 2; lane++) {
        loops.push(
          (async () => {
            await sleep(Math.random() * everyMs * 2);
            while (running) {
              const start = performance.now();
              try {
                const res = await c.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(
                  0,
                  9,
                  produceBody(TOPIC, partition, Buffer.from(batch)),
                );
                if (res.responses[0]!.partitionResponses[0]!.errorCode !== 0) errors++;
                else producedRecords += 10;
              } catch {
                errors++;
                return;
              }
              const took = performance.now() - start;
              produceLat.push(took);
              if (took < everyMs * 2) await sleep(everyMs * 2 - took);
            }
          })(),
        );
      }
    });
    const fetchWaitMs = 500;
    consumers.forEach((c, i) => {
      const partition = i % opts.partitions;
      loops.push(
        (async () => {
          let offset = 0;
          while (running) {
            const start = performance.now();
            try {
              const res = await c.request<FetchResponse>(
                1,
                12,
                fetchBody(TOPIC, partition, offset, fetchWaitMs, 256 * 1024),
              );
              const p = res.responses[0]?.partitions[0];
              if (p === undefined || p.errorCode !== 0) errors++;
              else if (p.records) {
                for (const b of iterateBatches(p.records)) {
                  offset = b.lastOffset + 1;
                  fetchedRecords += b.recordsCount;
                }
              }
            } catch {
              errors++;
              return;
            }
            fetchLat.push(performance.now() - start);
          }
        })(),
      );
    });
    // Idle connections answer too: 20 random probes a second.
    loops.push(
      (async () => {
        while (running) {
          const c = idle[Math.floor(Math.random() * idle.length)];
          if (c) {
            const start = performance.now();
            try {
              if ((await apiVersions(c)) !== 0) errors++;
            } catch {
              errors++;
            }
            probeLat.push(performance.now() - start);
          }
          await sleep(50);
        }
      })(),
    );
    const activeStart = Date.now();
    while (Date.now() - activeStart < opts.seconds * 1000) {
      await sleep(Math.min(10_000, opts.seconds * 1000));
      const p = stats(produceLat);
      say(
        `active: ${Math.round((Date.now() - activeStart) / 1000)} s, produced ${producedRecords}, fetched ${fetchedRecords}, ` +
          `produce p99 ${p.p99Ms.toFixed(0)} ms max ${p.maxMs.toFixed(0)} ms, errors ${errors}`,
      );
    }
    const brokerConnections = (await broker.stats()).connections;
    running = false;
    await Promise.all(loops);
    const active = {
      produce: stats(produceLat),
      fetch: stats(fetchLat),
      idleProbe: stats(probeLat),
      producedRecords,
      fetchedRecords,
      errors,
      brokerConnections,
    };

    // 3. max.connections: `spare` more fit; the others wait at the acceptor (in its backlog, as at
    // Kafka's; past the backlog a connection is closed) and are served once served ones close.
    const tried = opts.spare + opts.extra;
    const phase3 = await Promise.all(
      Array.from({ length: tried }, () => TestClient.connect(port).catch(() => null)),
    );
    const answers = phase3.map((c) =>
      c
        ? apiVersions(c).then(
            () => true,
            () => false,
          )
        : Promise.resolve(false),
    );
    const within = (p: Promise<boolean>, ms: number) => Promise.race([p, sleep(ms).then(() => false)]);
    const first = await Promise.all(answers.map((a) => within(a, 2000)));
    const served = first.filter(Boolean).length;
    const closed = phase3.filter((c) => c === null || c.socket.destroyed).length;
    const heldConnections = (await broker.stats()).connections;
    for (let i = 0; i < tried; i++) if (first[i]) phase3[i]!.close();
    const second = await Promise.all(
      answers.map((a, i) => (first[i] ? Promise.resolve(false) : within(a, 5000))),
    );
    const servedAfterClose = second.filter(Boolean).length;
    const maxConnections = {
      limit,
      tried,
      served,
      closed,
      servedAfterClose,
      brokerConnections: heldConnections,
    };
    say(
      `max.connections=${limit}: ${tried} more tried, ${served} served, ${closed} closed (past the backlog), ` +
        `${servedAfterClose} served once the ${served} closed`,
    );
    for (const c of phase3) c?.close();
    await sleep(500);

    // 4. slow readers: a 4 MiB partition fetched 200 times per connection, never read.
    const filler = await TestClient.connect(port);
    all.push(filler);
    const big = buildRecordBatch({
      records: Array.from({ length: 64 }, () => ({ key: null, value: Buffer.alloc(1024, 1) })),
    });
    for (let i = 0; i < 64; i++) await filler.request(0, 9, produceBody(SLOW_TOPIC, 0, Buffer.from(big)));
    const rssBefore = (await broker.stats()).rss;
    const slow: TestClient[] = [];
    for (let i = 0; i < opts.slowReaders; i++) {
      const c = await TestClient.connect(port);
      all.push(c);
      c.socket.pause();
      const frame = c.frame(1, 12, fetchBody(SLOW_TOPIC, 0, 0, 0, 1 << 20));
      for (let k = 0; k < 200; k++) c.socket.write(frame);
      slow.push(c);
    }
    await sleep(3000);
    const otherStart = performance.now();
    if ((await apiVersions(filler)) !== 0) throw new Error('control connection not served');
    const otherServedMs = performance.now() - otherStart;
    const after = await broker.stats();
    const slowReaders = {
      connections: slow.length,
      rssBefore,
      rssAfter: after.rss,
      otherServedMs,
    };
    say(
      `slow readers: ${slow.length} × 200 fetches of 1 MiB unread; broker RSS ${(rssBefore / 1048576).toFixed(0)} → ${(after.rss / 1048576).toFixed(0)} MiB; ` +
        `another connection answered in ${otherServedMs.toFixed(0)} ms`,
    );
    return {
      idle: idleResult,
      active,
      maxConnections,
      slowReaders,
      brokerRss: after.rss,
      brokerErrors: after.errors,
    };
  } finally {
    for (const c of all) c.close();
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
