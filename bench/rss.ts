/**
 * `npm run bench:rss -- [--minutes 10] [--record-bytes 1024] [--producers 2] [--consumers 2] [--acks 1] [--override key=value]...`
 *
 * Issue 16's flat-memory check: the built broker (`bin/kbroker.js`, its defaults) under a
 * full-speed produce and consume load for N minutes, its resident memory read every 10 s from
 * /proc. Producers are the project's pipelined client (pre-encoded Produce v7 frames of 100
 * records, 8 in flight, partitions in turn); consumers fetch (v11, 1 MiB a partition, 500 ms
 * max wait) from where they left off, each its share of the partitions. The topic has six
 * partitions whose segments roll at 64 MiB and go past 256 MiB a partition, so the disk stays
 * bounded while retention runs the whole time; a consumer that falls behind retention jumps to
 * the log start offset (counted). Nothing is rate-limited: whatever queue could grow without
 * bound (requests read ahead of the disk, responses ahead of the socket) would show here.
 *
 * Prints one line per sample and a summary: RSS after the first minute, the highest after it, the
 * last, and their ratio; exit code 1 when the highest is more than 1.5× the first minute's
 * (issue 16's bound) or a request failed.
 */
import { parseArgs } from 'node:util';
import { decode } from '../src/protocol/codec.js';
import {
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from '../src/protocol/generated/messages.js';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { fetchV11Body, produceV7Body, requestFrame } from './frames.js';
import { startKbroker } from './kafka/brokers.js';
import { cpuSeconds, installCleanup, memory } from './kafka/procs.js';
import { createTopic } from './kafka/wire.js';
import { PipelineClient } from './pipeline-client.js';

const TOPIC = 'rss';
const PARTITIONS = 6;
const SAMPLE_EVERY_MS = 10_000;
const FETCH_VERSION = 11;
const OFFSET_OUT_OF_RANGE = 1;

interface FetchResult {
  responses: {
    partitions: {
      partitionIndex: number;
      errorCode: number;
      logStartOffset: bigint | number;
      records: Buffer | null;
    }[];
  }[];
}
interface ProduceResult {
  responses: { partitionResponses: { index: number; errorCode: number }[] }[];
}

/** The offset after the last whole batch in `records` (v2 batches: base offset, length, ..., last offset delta). */
export function nextOffsetAfter(records: Buffer, from: number): number {
  let next = from;
  let pos = 0;
  while (pos + 27 <= records.length) {
    const size = records.readInt32BE(pos + 8);
    if (pos + 12 + size > records.length) break;
    next = Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23) + 1;
    pos += 12 + size;
  }
  return next;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      'record-bytes': { type: 'string', default: '1024' },
      producers: { type: 'string', default: '2' },
      consumers: { type: 'string', default: '2' },
      acks: { type: 'string', default: '1' },
      // A broker config to set (key=value), repeatable: to compare settings in alternating runs.
      override: { type: 'string', multiple: true, default: [] },
    },
  });
  const minutes = Number(values.minutes);
  const recordBytes = Number(values['record-bytes']);
  const acks = Number(values.acks);
  installCleanup();
  const broker = await startKbroker(['log.retention.check.interval.ms=5000', ...values.override]);
  await createTopic(broker.port, TOPIC, PARTITIONS, {
    'segment.bytes': String(64 << 20),
    'retention.bytes': String(256 << 20),
  });
  const batch = buildRecordBatch({
    records: Array.from({ length: 100 }, () => ({ key: null, value: Buffer.alloc(recordBytes, 'x') })),
  });
  const produceFrames = Array.from({ length: PARTITIONS }, (_, p) =>
    requestFrame(ProduceRequest, 7, produceV7Body(TOPIC, p, batch, acks)),
  );

  let stopped = false;
  let produced = 0;
  let consumed = 0;
  let skippedByRetention = 0;
  let failure = '';
  const fail = (what: string) => {
    if (!failure) failure = what;
    stopped = true;
  };

  const producer = async (id: number) => {
    const c = await PipelineClient.connect(broker.port);
    let i = id;
    const lane = async () => {
      while (!stopped) {
        const reply = await c.send(produceFrames[i++ % PARTITIONS]!);
        const r = decode<ProduceResult>(ProduceResponse, 7, reply.subarray(4));
        const p = r.responses[0]!.partitionResponses[0]!;
        if (p.errorCode !== 0) fail(`produce ${TOPIC}-${p.index}: error ${p.errorCode}`);
        else produced += batch.length;
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    c.close();
  };

  const consumer = async (mine: number[]) => {
    const c = await PipelineClient.connect(broker.port);
    const offsets = new Map(mine.map((p) => [p, 0]));
    let correlation = 0;
    while (!stopped) {
      const reply = await c.send(
        requestFrame(
          FetchRequest,
          FETCH_VERSION,
          fetchV11Body(
            TOPIC,
            mine.map((p) => ({ partition: p, offset: offsets.get(p)! })),
            { maxWaitMs: 500, minBytes: 1, maxBytes: 8 << 20 },
          ),
          correlation++,
        ),
      );
      const r = decode<FetchResult>(FetchResponse, FETCH_VERSION, reply.subarray(4));
      for (const p of r.responses[0]?.partitions ?? []) {
        const at = offsets.get(p.partitionIndex)!;
        if (p.errorCode === OFFSET_OUT_OF_RANGE) {
          const start = Number(p.logStartOffset);
          skippedByRetention += Math.max(0, start - at);
          offsets.set(p.partitionIndex, start);
        } else if (p.errorCode !== 0) {
          fail(`fetch ${TOPIC}-${p.partitionIndex}: error ${p.errorCode}`);
        } else if (p.records && p.records.length > 0) {
          consumed += p.records.length;
          offsets.set(p.partitionIndex, nextOffsetAfter(p.records, at));
        }
      }
    }
    c.close();
  };

  const nConsumers = Number(values.consumers);
  const loads = [
    ...Array.from({ length: Number(values.producers) }, (_, i) => producer(i)),
    ...Array.from({ length: nConsumers }, (_, i) =>
      consumer(Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % nConsumers === i)),
    ),
  ].map((l) => l.catch((err: Error) => fail(err.message)));

  const samples: { s: number; rss: number; producedMB: number; consumedMB: number; cpu: number }[] = [];
  const t0 = performance.now();
  const cpu0 = cpuSeconds(broker.pid);
  let last = { produced: 0, consumed: 0, at: t0, cpu: cpu0 };
  console.log(
    `bench:rss — ${minutes} min, ${recordBytes} B records, ${values.producers} producers (acks=${acks}), ${nConsumers} consumers, ${PARTITIONS} partitions`,
  );
  console.log('     s   RSS MiB   produce MB/s   consume MB/s   broker CPU');
  while (!stopped && performance.now() - t0 < minutes * 60_000) {
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    const now = performance.now();
    const cpu = cpuSeconds(broker.pid);
    const secs = (now - last.at) / 1000;
    const sample = {
      s: Math.round((now - t0) / 1000),
      rss: memory(broker.pid).rss / 2 ** 20,
      producedMB: (produced - last.produced) / 1e6 / secs,
      consumedMB: (consumed - last.consumed) / 1e6 / secs,
      cpu: (cpu - last.cpu) / secs,
    };
    last = { produced, consumed, at: now, cpu };
    samples.push(sample);
    console.log(
      `${String(sample.s).padStart(6)}${sample.rss.toFixed(1).padStart(10)}${sample.producedMB.toFixed(1).padStart(15)}${sample.consumedMB.toFixed(1).padStart(15)}${sample.cpu.toFixed(2).padStart(13)}`,
    );
  }
  stopped = true;
  await Promise.all(loads);
  await broker.stop();

  const firstMinute = samples.find((s) => s.s >= 60);
  const after = samples.filter((s) => s.s > (firstMinute?.s ?? 0));
  const totalSecs = (last.at - t0) / 1000;
  console.log(
    `produced ${(produced / 1e9).toFixed(2)} GB (${(produced / 1e6 / totalSecs).toFixed(1)} MB/s), consumed ${(consumed / 1e9).toFixed(2)} GB (${(consumed / 1e6 / totalSecs).toFixed(1)} MB/s), ${skippedByRetention} records skipped by retention; broker CPU ${((last.cpu - cpu0) / totalSecs).toFixed(2)} cores`,
  );
  if (failure) {
    console.log(`FAILED: ${failure}`);
    process.exit(1);
  }
  if (!firstMinute || after.length === 0) {
    console.log('too short for a verdict: run at least two minutes');
    return;
  }
  const max = Math.max(...after.map((s) => s.rss));
  const ratio = max / firstMinute.rss;
  console.log(
    `RSS after the first minute ${firstMinute.rss.toFixed(1)} MiB, highest after it ${max.toFixed(1)} MiB, last ${samples.at(-1)!.rss.toFixed(1)} MiB: ${ratio.toFixed(2)}x (bound 1.5x) — ${ratio <= 1.5 ? 'flat' : 'GROWING'}`,
  );
  if (ratio > 1.5) process.exit(1);
}

if (process.argv[1]?.endsWith('rss.ts')) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
