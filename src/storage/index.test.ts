import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OffsetIndex } from './offset-index.js';
import { tmpDir } from './test-helpers.js';
import { TimeIndex } from './time-index.js';

describe('OffsetIndex', () => {
  it('appends 8-byte entries and looks up the largest entry <= target', () => {
    const f = path.join(tmpDir(), '00000000000000000100.index');
    const idx = new OffsetIndex(f, 100);
    expect(idx.lookup(150)).toEqual({ offset: 100, position: 0 });
    idx.append(110, 4000);
    idx.append(120, 8000);
    idx.append(130, 12000);
    // Entries are written in chunks; a flush writes out what is pending.
    expect(fs.existsSync(f) ? fs.readFileSync(f).length : 0).toBe(0);
    idx.flush();
    expect(fs.readFileSync(f).toString('hex')).toBe('0000000a00000fa00000001400001f400000001e00002ee0');
    expect(idx.lookup(105)).toEqual({ offset: 100, position: 0 });
    expect(idx.lookup(120)).toEqual({ offset: 120, position: 8000 });
    expect(idx.lookup(129)).toEqual({ offset: 120, position: 8000 });
    expect(idx.lookup(999)).toEqual({ offset: 130, position: 12000 });
    expect(() => idx.append(130, 13000)).toThrow();
    idx.truncateTo(120);
    expect(idx.entries).toBe(1);
    expect(fs.statSync(f).size).toBe(8);
    idx.closeHandle();
    const again = new OffsetIndex(f, 100);
    expect(again.lookup(200)).toEqual({ offset: 110, position: 4000 });
    expect(again.sanityCheck(5000)).toBeNull();
    expect(again.sanityCheck(4000)).not.toBeNull();
  });

  it('detects a torn entry', () => {
    const f = path.join(tmpDir(), 'x.index');
    fs.writeFileSync(f, Buffer.alloc(11));
    expect(new OffsetIndex(f, 0).sanityCheck(100)).not.toBeNull();
  });
});

describe('TimeIndex', () => {
  it('appends only strictly increasing timestamps as 12-byte entries', () => {
    const f = path.join(tmpDir(), 'x.timeindex');
    const idx = new TimeIndex(f, 50);
    expect(idx.lastEntry()).toEqual({ timestamp: -1, offset: 50 });
    expect(idx.maybeAppend(1000, 55)).toBe(true);
    expect(idx.maybeAppend(1000, 60)).toBe(false);
    expect(idx.maybeAppend(999, 61)).toBe(false);
    expect(idx.maybeAppend(2000, 70)).toBe(true);
    idx.flush();
    expect(fs.statSync(f).size).toBe(24);
    expect(fs.readFileSync(f).subarray(0, 12).toString('hex')).toBe('00000000000003e800000005');
    expect(idx.lookup(1500)).toEqual({ timestamp: 1000, offset: 55 });
    expect(idx.lookup(10)).toEqual({ timestamp: -1, offset: 50 });
    expect(idx.sanityCheck()).toBeNull();
  });
});
