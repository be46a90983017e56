import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { iterateBatches } from '../protocol/record-batch.js';
import { Log } from './log.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

const LOG0 = '00000000000000000000.log';
const open = (dir: string, over = {}, opts = {}) =>
  Log.open(dir, 't', 0, testConfig(over), new ManualClock(), opts);

/** Writes n single-batch appends, closes the log without a clean marker (caller passes options). */
function build(dir: string, n: number, over = {}): number[] {
  const log = open(dir, over);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = batch(2, 1_000 + i, 20);
    sizes.push(b.length);
    log.appendAsLeader(b, 1);
  }
  log.close();
  return sizes;
}

function readAll(log: Log) {
  const r = log.read(log.logStartOffset, 1 << 24, true);
  if ('error' in r || r.records === null) return [];
  const it = iterateBatches(r.records, { verifyCrc: true });
  const out = [...it];
  expect(it.stopReason).toBe('end');
  return out;
}

describe('Log recovery', () => {
  it('truncates a torn tail (file cut mid-batch)', () => {
    const dir = tmpDir();
    const sizes = build(dir, 5);
    const f = path.join(dir, LOG0);
    const full = fs.statSync(f).size;
    fs.truncateSync(f, full - 7);
    const log = open(dir);
    expect(log.logEndOffset).toBe(8);
    expect(fs.statSync(f).size).toBe(full - sizes[4]!);
    expect(readAll(log).length).toBe(4);
    expect(log.appendAsLeader(batch(1), 1).baseOffset).toBe(8);
  });

  it('truncates appended garbage', () => {
    const dir = tmpDir();
    build(dir, 3);
    const f = path.join(dir, LOG0);
    const good = fs.statSync(f).size;
    fs.appendFileSync(f, Buffer.from('this is not a record batch at all, just junk bytes'));
    const log = open(dir);
    expect(fs.statSync(f).size).toBe(good);
    expect(log.logEndOffset).toBe(6);
  });

  it('truncates a garbage length field claiming a huge batch without allocating it', () => {
    const dir = tmpDir();
    build(dir, 2);
    const f = path.join(dir, LOG0);
    const good = fs.statSync(f).size;
    const junk = Buffer.alloc(80);
    junk.writeInt32BE(0x7ffffff0, 8);
    fs.appendFileSync(f, junk);
    const log = open(dir);
    expect(fs.statSync(f).size).toBe(good);
    expect(log.logEndOffset).toBe(4);
  });

  it('drops the last batch when its CRC bytes are flipped', () => {
    const dir = tmpDir();
    const sizes = build(dir, 4);
    const f = path.join(dir, LOG0);
    const buf = fs.readFileSync(f);
    const lastPos = buf.length - sizes[3]!;
    buf[lastPos + 17] ^= 0xff;
    fs.writeFileSync(f, buf);
    const log = open(dir);
    expect(log.logEndOffset).toBe(6);
    expect(readAll(log).length).toBe(3);
  });

  it('rebuilds a missing or corrupt index', () => {
    const dir = tmpDir();
    build(dir, 50, { indexIntervalBytes: 200 });
    const idx = path.join(dir, '00000000000000000000.index');
    const tidx = path.join(dir, '00000000000000000000.timeindex');
    const before = fs.readFileSync(idx);
    const beforeTime = fs.readFileSync(tidx);
    expect(before.length).toBeGreaterThan(0);
    fs.rmSync(idx);
    let log = open(dir, { indexIntervalBytes: 200 }, { hadCleanShutdown: true });
    log.close();
    expect(fs.readFileSync(idx).equals(before)).toBe(true);
    fs.writeFileSync(idx, Buffer.concat([before, Buffer.from([1, 2, 3])]));
    fs.writeFileSync(tidx, Buffer.alloc(24, 0xff));
    log = open(dir, { indexIntervalBytes: 200 }, { hadCleanShutdown: true });
    log.close();
    expect(fs.readFileSync(idx).equals(before)).toBe(true);
    expect(fs.readFileSync(tidx).equals(beforeTime)).toBe(true);
  });

  it('recovers many segments, truncating the bad one and deleting every later segment', () => {
    const dir = tmpDir();
    const one = batch(2, 1_000, 20).length;
    build(dir, 12, { segmentBytes: one * 3 });
    const logs = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort();
    expect(logs.length).toBe(4);
    // corrupt the first batch of the second segment
    const second = path.join(dir, logs[1]!);
    const buf = fs.readFileSync(second);
    buf[buf.length - 1 - 2 * one] ^= 0x55;
    fs.writeFileSync(second, buf);
    const log = open(dir, { segmentBytes: one * 3 }, { recoveryPoint: 0 });
    expect(log.segmentBaseOffsets()).toEqual([0, 6]);
    expect(log.logEndOffset).toBe(6);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBe(2);
    expect(readAll(log).length).toBe(3);
    expect(log.leaderEpochCache.epochEntries()).toEqual([{ epoch: 1, startOffset: 0 }]);
  });

  it('with a clean shutdown only the active segment is scanned', () => {
    const dir = tmpDir();
    const one = batch(2, 1_000, 20).length;
    build(dir, 6, { segmentBytes: one * 3 });
    const log = open(
      dir,
      { segmentBytes: one * 3 },
      { hadCleanShutdown: true, logStartOffset: 0, highWatermark: 12 },
    );
    expect(log.logEndOffset).toBe(12);
    expect(log.highWatermark).toBe(12);
    expect(readAll(log).length).toBe(3);
  });

  it('removes .deleted/.cleaned/.swap leftovers and orphan indexes', () => {
    const dir = tmpDir();
    build(dir, 1);
    for (const f of [
      '00000000000000000005.log.deleted',
      '00000000000000000005.log.cleaned',
      'x.swap',
      '00000000000000000099.index',
    ]) {
      fs.writeFileSync(path.join(dir, f), 'x');
    }
    open(dir).close();
    expect(fs.readdirSync(dir).sort()).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
      // the producer-state snapshot written on close, named by the log end offset
      '00000000000000000002.snapshot',
      'leader-epoch-checkpoint',
    ]);
  });
});
