/**
 * Log cleaner throughput and its effect on the event loop (issue 14). Writes a compacted log of
 * `--mb` MB (`--keys` distinct keys, 100-byte values, batches of 100 records), then cleans it once
 * in a worker thread while this thread keeps appending 1-record batches every millisecond and
 * measures their latency (the produce path without the network), and once inline on this thread,
 * for comparison. Prints cleaning MB/s (bytes read / round time) and p50/p99/max append latency
 * during each round beside the same appends with no cleaning, as ratios. No assertion.
 *
 *   npx tsx bench/cleaner.ts [--mb 64] [--keys 10000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemTime } from '../src/common/time.js';
import { encodeRecordBatch } from '../src/protocol/records.js';
import { LogCleaner } from '../src/storage/cleaner/log-cleaner.js';
import { Log } from '../src/storage/log.js';
import { defaultLogConfig } from '../src/storage/log-config.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const MB = arg('mb', 64);
const KEYS = arg('keys', 10_000);

function fill(dir: string): Log {
  const log = Log.open(dir, 'bench', 0, {
    ...defaultLogConfig,
    cleanupPolicy: ['compact'],
    segmentBytes: 16 * 1024 * 1024,
    // The broker's default: replaced segments are deleted later, off the swap.
    fileDeleteDelayMs: 60_000,
  });
  const value = 'v'.repeat(100);
  let n = 0;
  while (log.size < MB * 1024 * 1024) {
    const records = [];
    for (let i = 0; i < 100; i++) records.push({ key: `key-${n++ % KEYS}`, value, timestamp: Date.now() });
    log.appendAsLeader(encodeRecordBatch({ records }), 0);
  }
  log.roll();
  log.updateHighWatermark(log.logEndOffset);
  return log;
}

const pct = (xs: number[], p: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** Appends a 1-record batch every ms until `done` resolves; returns the append latencies in ms. */
async function appendWhile(log: Log, done: Promise<unknown>): Promise<number[]> {
  const lat: number[] = [];
  let finished = false;
  done.then(() => {
    finished = true;
  });
  let i = 0;
  while (!finished) {
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 1));
    // What a produce request waits for: the event loop to get to it, then the append.
    log.appendAsLeader(
      encodeRecordBatch({ records: [{ key: `hot-${i++ % 10}`, value: 'x', timestamp: Date.now() }] }),
      0,
    );
    lat.push(performance.now() - t - 1);
  }
  return lat;
}

async function round(useWorkers: boolean) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'kbroker-bench-cleaner-'));
  try {
    const log = fill(path.join(data, 'bench-0'));
    const hot = Log.open(path.join(data, 'hot-0'), 'hot', 0, { ...defaultLogConfig, fileDeleteDelayMs: 0 });
    const baseline = await appendWhile(hot, new Promise((r) => setTimeout(r, 2000)));
    const bytes = log.size;
    const cleaner = new LogCleaner({
      dataDir: data,
      logs: () => [log],
      time: systemTime,
      enable: true,
      threads: 1,
      dedupeBufferSize: 128 * 1024 * 1024,
      ioMaxBytesPerSecond: Number.POSITIVE_INFINITY,
      backoffMs: 15_000,
      useWorkers,
    });
    const t0 = performance.now();
    // Started from a timer, so that the appends are already going when an inline round blocks the loop.
    const cleaning = new Promise((r) => setTimeout(r, 20)).then(() => cleaner.cleanFilthiestLog());
    const during = await appendWhile(hot, cleaning);
    const ms = performance.now() - t0;
    await cleaner.shutdown();
    const stats = {
      mode: useWorkers ? 'worker thread' : 'inline',
      cleanedMB: +(bytes / 1048576).toFixed(1),
      afterMB: +(log.size / 1048576).toFixed(2),
      seconds: +(ms / 1000).toFixed(2),
      MBps: +(bytes / 1048576 / (ms / 1000)).toFixed(1),
      appendP50ms: +pct(during, 0.5).toFixed(2),
      appendP99ms: +pct(during, 0.99).toFixed(2),
      appendMaxMs: +Math.max(...during).toFixed(1),
      baselineP99ms: +pct(baseline, 0.99).toFixed(2),
      p99Ratio: +(pct(during, 0.99) / Math.max(pct(baseline, 0.99), 0.01)).toFixed(2),
    };
    log.close();
    hot.close();
    return stats;
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
}

const results = [await round(true), await round(false)];
console.table(results);
