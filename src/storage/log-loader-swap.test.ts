// LogLoader and a cleaner's swap cut short at each of its steps (Kafka's LogLoader: `.cleaned` files are
// rolled back, a `.swap` segment is completed and replaces the old segments in its offset range).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatches, encodeRecordBatch } from '../protocol/records.js';
import { type CleanTask, cleanLog } from './cleaner/clean.js';
import { SkimpyOffsetMap } from './cleaner/offset-map.js';
import { Log } from './log.js';
import { ManualClock, testConfig, tmpDir } from './test-helpers.js';

const config = testConfig({ cleanupPolicy: ['compact'], segmentBytes: 1024 });

/** A log of 3 keys x 60 versions over several segments, closed; returns the cleaning task's output. */
function prepare(dir: string) {
  const clock = new ManualClock();
  const log = Log.open(dir, 'c', 0, config, clock);
  for (let i = 0; i < 180; i++)
    log.appendAsLeader(
      encodeRecordBatch({ records: [{ key: `k${i % 3}`, value: `v${i}`, timestamp: clock.now() }] }),
      0,
    );
  log.roll();
  const segs = log.logSegments().filter((s) => s !== log.activeSegment);
  const all = log.logSegments();
  const task: CleanTask = {
    dir,
    name: 'c-0',
    segments: segs.map((s, i) => ({
      baseOffset: s.baseOffset,
      size: s.size,
      nextBaseOffset: all[i + 1]!.baseOffset,
      offsetIndexBytes: 0,
      timeIndexBytes: 0,
      lastModified: s.lastModified,
    })),
    firstDirtyOffset: 0,
    firstUncleanableOffset: 180,
    // One group for everything: the swap replaces every old segment by one.
    segmentBytes: 1 << 20,
    maxIndexBytes: 1 << 20,
    indexIntervalBytes: 4096,
    deleteRetentionMs: 1000,
    abortedTxns: [],
    activeProducers: [],
    now: clock.now(),
    cleanableBytes: log.size,
  };
  const olds = segs.map((s) => s.baseOffset);
  log.close();
  const result = cleanLog(task, new SkimpyOffsetMap(1 << 16));
  expect(result.groups).toHaveLength(1);
  return olds;
}

const name = (base: number, suffix: string) => `${String(base).padStart(20, '0')}${suffix}`;

function values(dir: string): string[] {
  const log = Log.open(dir, 'c', 0, config, new ManualClock());
  const out: string[] = [];
  const leo = log.logEndOffset;
  let offset = log.logStartOffset;
  while (offset < leo) {
    const r = log.read(offset, 1 << 20, true);
    if ('error' in r) throw new Error(r.error);
    if (r.records === null) break;
    for (const b of decodeRecordBatches(r.records)) {
      for (const rec of b.records) if (rec.offset >= offset) out.push(`${rec.offset}:${rec.value}`);
      offset = b.lastOffset + 1;
    }
  }
  log.close();
  expect(leo).toBe(180);
  expect(fs.readdirSync(dir).filter((f) => /\.(cleaned|swap|deleted)$/.test(f))).toEqual([]);
  return out;
}

const ALL = Array.from({ length: 180 }, (_, i) => `${i}:v${i}`);
const CLEANED = ['177:v177', '178:v178', '179:v179'];

describe('LogLoader after a swap cut short', () => {
  it('rolls back .cleaned files: the old segments stay', () => {
    const dir = tmpDir();
    prepare(dir);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.cleaned')).length).toBeGreaterThan(0);
    expect(values(dir)).toEqual(ALL);
  });

  it('completes a .swap whose old segments are all still there', () => {
    const dir = tmpDir();
    prepare(dir);
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.cleaned')))
      fs.renameSync(path.join(dir, f), path.join(dir, f.replace(/\.cleaned$/, '.swap')));
    expect(values(dir)).toEqual(CLEANED);
  });

  it('completes a .swap when some old segments were renamed .deleted already', () => {
    const dir = tmpDir();
    const olds = prepare(dir);
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.cleaned')))
      fs.renameSync(path.join(dir, f), path.join(dir, f.replace(/\.cleaned$/, '.swap')));
    for (const b of olds.slice(0, 2))
      fs.renameSync(path.join(dir, name(b, '.log')), path.join(dir, name(b, '.log.deleted')));
    expect(values(dir)).toEqual(CLEANED);
  });

  it('rolls back a swap whose renames were not all done (a .cleaned file of the same base is left)', () => {
    const dir = tmpDir();
    prepare(dir);
    // Kafka's order (the .log first): .log.swap beside .index.cleaned; nothing old was deleted yet.
    fs.renameSync(path.join(dir, name(0, '.log.cleaned')), path.join(dir, name(0, '.log.swap')));
    expect(values(dir)).toEqual(ALL);
    const dir2 = tmpDir();
    prepare(dir2);
    // kbroker's order (the indexes first): .index.swap beside .log.cleaned.
    fs.renameSync(path.join(dir2, name(0, '.index.cleaned')), path.join(dir2, name(0, '.index.swap')));
    expect(values(dir2)).toEqual(ALL);
  });

  it('completes a .log.swap without index files (they are rebuilt)', () => {
    const dir = tmpDir();
    prepare(dir);
    fs.renameSync(path.join(dir, name(0, '.log.cleaned')), path.join(dir, name(0, '.log.swap')));
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.cleaned'))) fs.rmSync(path.join(dir, f));
    expect(values(dir)).toEqual(CLEANED);
    const log = Log.open(dir, 'c', 0, config, new ManualClock());
    for (const seg of log.logSegments()) expect(seg.offsetIndex.sanityCheck(seg.size)).toBeNull();
    log.close();
  });

  it('ignores a .swap at or above a .cleaned file (an unfinished operation) and keeps the old data', () => {
    const dir = tmpDir();
    prepare(dir);
    // A stray swap segment above the cleaned one: it goes, the cleaned one is rolled back.
    fs.copyFileSync(path.join(dir, name(0, '.log.cleaned')), path.join(dir, name(5, '.log.swap')));
    expect(values(dir)).toEqual(ALL);
  });
});
