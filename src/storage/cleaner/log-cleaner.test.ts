import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CompressionType,
  decodeRecordBatches,
  encodeControlBatch,
  encodeRecordBatch,
} from '../../protocol/records.js';
import { Log } from '../log.js';
import type { LogConfig } from '../log-config.js';
import { ManualClock, testConfig, tmpDir } from '../test-helpers.js';
import { CLEANER_OFFSET_CHECKPOINT, LogCleaner } from './log-cleaner.js';

const DAY = 86_400_000;

function openLog(dir: string, clock: ManualClock, over: Partial<LogConfig> = {}): Log {
  return Log.open(
    dir,
    'c',
    0,
    testConfig({ cleanupPolicy: ['compact'], segmentBytes: 8 * 1024, ...over }),
    clock,
  );
}

function cleanerFor(
  dataDir: string,
  logs: Log[],
  clock: ManualClock,
  over: Partial<ConstructorParameters<typeof LogCleaner>[0]> = {},
) {
  return new LogCleaner({
    dataDir,
    logs: () => logs,
    time: clock,
    enable: true,
    threads: 1,
    dedupeBufferSize: 1024 * 1024,
    ioMaxBytesPerSecond: Number.POSITIVE_INFINITY,
    backoffMs: 15_000,
    useWorkers: false,
    ...over,
  });
}

function produce(
  log: Log,
  clock: ManualClock,
  records: { key: string | null; value: string | null }[],
  compression: CompressionType = 'none',
) {
  const b = encodeRecordBatch({
    compression,
    records: records.map((r) => ({ key: r.key, value: r.value, timestamp: clock.now() })),
  });
  const info = log.appendAsLeader(b, 0);
  log.updateHighWatermark(log.logEndOffset);
  return info;
}

/** Every record from the log start, as a consumer reads them. */
function readAll(log: Log) {
  const out: { offset: number; key: string | null; value: string | null; compression: string }[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20, true);
    if ('error' in r) throw new Error(r.error);
    if (r.records === null) break;
    for (const b of decodeRecordBatches(r.records)) {
      if (!b.isControl)
        for (const rec of b.records) {
          if (rec.offset >= offset)
            out.push({
              offset: rec.offset,
              key: rec.key?.toString() ?? null,
              value: rec.value?.toString() ?? null,
              compression: b.compression,
            });
        }
      offset = b.lastOffset + 1;
    }
  }
  return out;
}

/** Expects the latest value of every key, once each, offsets increasing. */
function expectCompacted(log: Log, expected: Map<string, string | null>) {
  const recs = readAll(log);
  for (let i = 1; i < recs.length; i++) expect(recs[i]!.offset).toBeGreaterThan(recs[i - 1]!.offset);
  const seen = new Map<string, string | null>();
  for (const r of recs) {
    expect(seen.has(r.key!)).toBe(false);
    seen.set(r.key!, r.value);
  }
  expect(seen).toEqual(expected);
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function newDir() {
  const d = tmpDir();
  dirs.push(d);
  return d;
}

describe('LogCleaner', () => {
  it('keeps the latest of 100 keys × 200 versions, tombstones until delete.retention.ms', async () => {
    const data = newDir();
    const clock = new ManualClock();
    const log = openLog(path.join(data, 'c-0'), clock, { deleteRetentionMs: DAY });
    const expected = new Map<string, string | null>();
    for (let v = 0; v < 200; v++) {
      const recs = [];
      for (let k = 0; k < 100; k++) {
        const value = v === 199 && k < 10 ? null : `v${v}-${'x'.repeat(20)}`;
        recs.push({ key: `key${k}`, value });
        expected.set(`key${k}`, value);
      }
      for (let i = 0; i < recs.length; i += 10) produce(log, clock, recs.slice(i, i + 10));
      clock.advance(10);
    }
    log.roll();
    const segmentsBefore = log.numberOfSegments;
    const sizeBefore = log.size;
    const cleaner = cleanerFor(data, [log], clock);
    expect(await cleaner.cleanFilthiestLog()).toBe(true);
    expectCompacted(log, expected);
    expect(log.size).toBeLessThan(sizeBefore / 50);
    expect(log.logEndOffset).toBe(20_000);
    // Kafka's checkpoint format: version, count, "topic partition offset".
    expect(fs.readFileSync(path.join(data, CLEANER_OFFSET_CHECKPOINT), 'utf8')).toBe('0\n1\nc 0 20000\n');
    // Nothing left to clean: the log is clean.
    expect(await cleaner.cleanFilthiestLog()).toBe(false);

    // Past delete.retention.ms, the next round (the log dirty again) drops the 10 tombstones.
    clock.advance(DAY + 1);
    for (let i = 0; i < 4; i++) {
      const recs = [];
      for (let k = 10; k < 100; k++) recs.push({ key: `key${k}`, value: `w${i}` });
      for (let j = 0; j < recs.length; j += 10) produce(log, clock, recs.slice(j, j + 10));
    }
    for (let k = 10; k < 100; k++) expected.set(`key${k}`, 'w3');
    for (let k = 0; k < 10; k++) expected.delete(`key${k}`);
    log.roll();
    expect(await cleaner.cleanFilthiestLog()).toBe(true);
    expectCompacted(log, expected);
    // The small cleaned segments of the first round were grouped into few by the second.
    expect(segmentsBefore).toBeGreaterThan(100);
    expect(log.numberOfSegments).toBeLessThan(5);

    // Reopened from disk (indexes and all), the same.
    log.close();
    const again = openLog(path.join(data, 'c-0'), clock);
    expectCompacted(again, expected);
    for (const seg of again.logSegments()) {
      expect(seg.offsetIndex.sanityCheck(seg.size)).toBeNull();
      expect(seg.timeIndex.sanityCheck()).toBeNull();
    }
    expect(fs.readdirSync(path.join(data, 'c-0')).filter((f) => /cleaned|swap|deleted/.test(f))).toEqual([]);
    again.close();
  });

  it('does not pick a log below min.cleanable.dirty.ratio, or within min.compaction.lag.ms', async () => {
    const data = newDir();
    const clock = new ManualClock();
    const log = openLog(path.join(data, 'c-0'), clock, { minCleanableDirtyRatio: 0.99 });
    for (let i = 0; i < 50; i++) produce(log, clock, [{ key: `k${i % 5}`, value: `v${i}` }]);
    log.roll();
    const cleaner = cleanerFor(data, [log], clock);
    // All of it is dirty: ratio 1 > 0.99.
    expect(cleaner.grabFilthiestCompactedLog(clock.now())?.cleanableRatio).toBe(1);
    log.config = { ...log.config, minCompactionLagMs: 60_000 };
    expect(cleaner.grabFilthiestCompactedLog(clock.now())).toBeNull();
    clock.advance(60_001);
    expect(await cleaner.cleanFilthiestLog()).toBe(true);
    expect(readAll(log).map((r) => r.value)).toEqual(['v45', 'v46', 'v47', 'v48', 'v49']);
    // A few more writes: dirty share under 0.99, nothing to do.
    produce(log, clock, [{ key: 'k1', value: 'again' }]);
    log.roll();
    expect(cleaner.grabFilthiestCompactedLog(clock.now())).toBeNull();
    // ... until max.compaction.lag.ms says the dirty segment has waited long enough.
    log.config = { ...log.config, minCompactionLagMs: 0, maxCompactionLagMs: 1000 };
    clock.advance(1001);
    expect(cleaner.grabFilthiestCompactedLog(clock.now())?.needCompactionNow).toBe(true);
    expect(await cleaner.cleanFilthiestLog()).toBe(true);
    expect(readAll(log).map((r) => r.value)).toEqual(['v45', 'v47', 'v48', 'v49', 'again']);
    log.close();
  });

  it('rolls a quiet compacted log after segment.ms so it gets cleaned', async () => {
    const data = newDir();
    const clock = new ManualClock();
    const log = openLog(path.join(data, 'c-0'), clock, { segmentMs: 60_000 });
    for (let i = 0; i < 20; i++) produce(log, clock, [{ key: 'same', value: `v${i}` }]);
    const cleaner = cleanerFor(data, [log], clock);
    expect(await cleaner.cleanFilthiestLog()).toBe(false);
    clock.advance(60_001);
    expect(await cleaner.cleanFilthiestLog()).toBe(true);
    expect(readAll(log).map((r) => r.value)).toEqual(['v19']);
    log.close();
  });

  it.each<CompressionType>(['gzip', 'snappy', 'lz4', 'zstd'])(
    'recompresses %s batches with the same codec',
    async (codec) => {
      const data = newDir();
      const clock = new ManualClock();
      const log = openLog(path.join(data, 'c-0'), clock);
      for (let v = 0; v < 3; v++)
        produce(
          log,
          clock,
          Array.from({ length: 20 }, (_, k) => ({
            key: `k${k}`,
            value: v === 2 && k % 2 === 0 ? null : `v${v}-${k}`,
          })),
          codec,
        );
      produce(log, clock, [{ key: 'k1', value: 'last' }], codec);
      log.roll();
      const cleaner = cleanerFor(data, [log], clock);
      expect(await cleaner.cleanFilthiestLog()).toBe(true);
      const recs = readAll(log);
      expect(recs.every((r) => r.compression === codec)).toBe(true);
      expect(recs.map((r) => `${r.key}=${r.value}`)).toEqual([
        ...Array.from({ length: 20 }, (_, k) => k)
          .filter((k) => k !== 1)
          .map((k) => `k${k}=${k % 2 === 0 ? null : `v2-${k}`}`),
        'k1=last',
      ]);
      log.close();
    },
  );

  it('removes aborted transactions, keeps committed ones and the last batch of an idempotent producer', async () => {
    const data = newDir();
    const clock = new ManualClock();
    const log = openLog(path.join(data, 'c-0'), clock);
    // Idempotent producer 7: its only batch is overwritten later, but it stays (empty) for the sequence.
    const idem = encodeRecordBatch({
      producerId: 7,
      producerEpoch: 0,
      baseSequence: 0,
      records: [{ key: 'a', value: 'idem', timestamp: clock.now() }],
    });
    log.appendAsLeader(idem, 0);
    // Transaction of producer 8, aborted.
    log.appendAsLeader(
      encodeRecordBatch({
        producerId: 8,
        producerEpoch: 0,
        baseSequence: 0,
        isTransactional: true,
        records: [{ key: 'b', value: 'aborted', timestamp: clock.now() }],
      }),
      0,
    );
    log.appendAsLeader(
      encodeControlBatch({
        type: 'ABORT',
        producerId: 8,
        producerEpoch: 0,
        coordinatorEpoch: 0,
        timestamp: clock.now(),
      }),
      0,
      'coordinator',
    );
    // Transaction of producer 9, committed.
    log.appendAsLeader(
      encodeRecordBatch({
        producerId: 9,
        producerEpoch: 0,
        baseSequence: 0,
        isTransactional: true,
        records: [{ key: 'c', value: 'committed', timestamp: clock.now() }],
      }),
      0,
    );
    log.appendAsLeader(
      encodeControlBatch({
        type: 'COMMIT',
        producerId: 9,
        producerEpoch: 0,
        coordinatorEpoch: 0,
        timestamp: clock.now(),
      }),
      0,
      'coordinator',
    );
    for (let i = 0; i < 5; i++) produce(log, clock, [{ key: 'a', value: `plain${i}` }]);
    log.roll();
    log.updateHighWatermark(log.logEndOffset);
    const cleaner = cleanerFor(data, [log], clock);
    expect(await cleaner.cleanFilthiestLog()).toBe(true);
    expect(readAll(log).map((r) => `${r.key}=${r.value}`)).toEqual(['c=committed', 'a=plain4']);
    const r = log.read(0, 1 << 20, true);
    if ('error' in r) throw new Error(r.error);
    const batches = decodeRecordBatches(r.records!);
    // Producer 7's batch is kept without its record, with its offsets and sequence.
    expect(batches[0]).toMatchObject({
      baseOffset: 0,
      lastOffset: 0,
      producerId: 7,
      baseSequence: 0,
      recordsCount: 0,
    });
    // The aborted transaction's data is gone from the readable records; its marker is still there.
    expect(batches.some((b) => b.isControl && b.controlRecord?.typeName === 'ABORT')).toBe(true);
    // After a restart the producer's next sequence is still accepted and its old batch is still a duplicate.
    log.close();
    const again = openLog(path.join(data, 'c-0'), clock);
    expect(again.appendAsLeader(Buffer.from(idem), 0).duplicate).toBe(true);
    const next = encodeRecordBatch({
      producerId: 7,
      producerEpoch: 0,
      baseSequence: 1,
      records: [{ key: 'a', value: 'idem2', timestamp: clock.now() }],
    });
    expect(again.appendAsLeader(next, 0).duplicate).toBeUndefined();
    again.close();
  });

  it('maps no more keys than the dedupe buffer holds and cleans the rest in later rounds', async () => {
    const data = newDir();
    const clock = new ManualClock();
    const log = openLog(path.join(data, 'c-0'), clock, { segmentBytes: 2048 });
    const expected = new Map<string, string | null>();
    for (let v = 0; v < 3; v++)
      for (let k = 0; k < 200; k++) {
        produce(log, clock, [{ key: `k${k}`, value: `v${v}` }]);
        expected.set(`k${k}`, `v${v}`);
      }
    log.roll();
    // 100 slots of 24 bytes: 90 keys per round.
    const cleaner = cleanerFor(data, [log], clock, { dedupeBufferSize: 2400 });
    let rounds = 0;
    while (await cleaner.cleanFilthiestLog()) rounds++;
    expect(rounds).toBeGreaterThan(3);
    expect(cleaner.maxBufferUtilizationPercent).toBeLessThanOrEqual(100);
    // Full rounds until the checkpoint reaches the end: then exactly the latest values.
    log.config = { ...log.config, minCleanableDirtyRatio: 0 };
    while (await cleaner.cleanFilthiestLog()) rounds++;
    expect(cleaner.checkpointOf(log)).toBe(600);
    expectCompacted(log, expected);
    log.close();
  });

  it('throws away a round whose source segments changed meanwhile', async () => {
    const data = newDir();
    const clock = new ManualClock();
    const log = openLog(path.join(data, 'c-0'), clock, {
      cleanupPolicy: ['compact', 'delete'],
      retentionMs: 1000,
    });
    for (let i = 0; i < 300; i++)
      produce(log, clock, [{ key: `k${i % 3}`, value: `v${i}-${'x'.repeat(50)}` }]);
    log.roll();
    const cleaner = cleanerFor(data, [log], clock, { useWorkers: true });
    try {
      const round = cleaner.cleanFilthiestLog();
      // Retention deletes every segment while the worker cleans them.
      clock.advance(10_000);
      log.applyRetention();
      expect(await round).toBe(false);
      expect(fs.readdirSync(log.dir).filter((f) => f.endsWith('.cleaned'))).toEqual([]);
      expect(readAll(log)).toEqual([]);
    } finally {
      await cleaner.shutdown();
      log.close();
    }
  });
});
