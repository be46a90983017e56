import { describe, expect, it } from 'vitest';
import { setBaseOffset } from '../protocol/record-batch.js';
import { LogSegments } from './log-segments.js';
import { LogSegment } from './segment.js';
import { batch, tmpDir } from './test-helpers.js';

const bases = (segs: Iterable<LogSegment>) => [...segs].map((s) => s.baseOffset);

/** Segments at the given base offsets in one directory, added in the order given. */
function listOf(dir: string, ...offsets: number[]): LogSegments {
  const segments = new LogSegments();
  for (const o of offsets) segments.add(LogSegment.open(dir, o, 0));
  return segments;
}

/** Appends `n` one-record batches at the segment's base offset on, timestamps ts, ts+1, ... */
function fill(seg: LogSegment, n: number, ts: number): void {
  for (let i = 0; i < n; i++) {
    const b = batch(1, ts + i);
    setBaseOffset(b, 0, seg.baseOffset + i);
    seg.append(b, seg.baseOffset + i, ts + i, 4096);
  }
}

describe('LogSegments', () => {
  it('keeps segments in base-offset order whatever the order they are added in', () => {
    const segments = listOf(tmpDir(), 20, 0, 10, 30);
    expect(segments.baseOffsets()).toEqual([0, 10, 20, 30]);
    expect(bases(segments)).toEqual([0, 10, 20, 30]);
    expect(segments.numberOfSegments).toBe(4);
    expect(segments.firstSegment()!.baseOffset).toBe(0);
    expect(segments.lastSegment()!.baseOffset).toBe(30);
    expect(segments.activeSegment.baseOffset).toBe(30);
  });

  it('an empty list has no active segment', () => {
    const segments = new LogSegments();
    expect(segments.isEmpty).toBe(true);
    expect(segments.firstSegment()).toBeUndefined();
    expect(segments.floorSegment(5)).toBeUndefined();
    expect(segments.values(0)).toEqual([]);
    expect(() => segments.activeSegment).toThrow(/no segments/);
  });

  it('adding at a base offset already there replaces that segment and returns it', () => {
    const dir = tmpDir();
    const segments = listOf(dir, 0, 10);
    const old = segments.get(0)!;
    const fresh = LogSegment.open(dir, 0, 0);
    expect(segments.add(fresh)).toBe(old);
    expect(segments.get(0)).toBe(fresh);
    expect(segments.numberOfSegments).toBe(2);
  });

  it('looks segments up by offset: floor, lower, higher, exact', () => {
    const segments = listOf(tmpDir(), 10, 20, 30);
    const at = (s: LogSegment | undefined) => s?.baseOffset;
    expect(at(segments.floorSegment(9))).toBeUndefined();
    expect(at(segments.floorSegment(10))).toBe(10);
    expect(at(segments.floorSegment(25))).toBe(20);
    expect(at(segments.floorSegment(1000))).toBe(30);
    expect(at(segments.lowerSegment(20))).toBe(10);
    expect(at(segments.lowerSegment(10))).toBeUndefined();
    expect(at(segments.lowerSegment(21))).toBe(20);
    expect(at(segments.higherSegment(20))).toBe(30);
    expect(at(segments.higherSegment(5))).toBe(10);
    expect(at(segments.higherSegment(30))).toBeUndefined();
    expect(bases(segments.higherSegments(15))).toEqual([20, 30]);
    expect(bases(segments.higherSegments(30))).toEqual([]);
    expect(segments.contains(20)).toBe(true);
    expect(segments.contains(25)).toBe(false);
    expect(segments.get(25)).toBeUndefined();
  });

  it('values(from, to) are the segments that may hold offsets in [from, to)', () => {
    const segments = listOf(tmpDir(), 10, 20, 30);
    expect(bases(segments.values())).toEqual([10, 20, 30]);
    expect(bases(segments.values(25))).toEqual([20, 30]);
    expect(bases(segments.values(20, 30))).toEqual([20]);
    expect(bases(segments.values(21, 31))).toEqual([20, 30]);
    // below the first base offset: from the first segment
    expect(bases(segments.values(0, 20))).toEqual([10]);
    expect(bases(segments.values(15, 15))).toEqual([]);
    // a copy: changing the list afterwards does not change it
    const before = segments.values();
    segments.remove(20);
    expect(bases(before)).toEqual([10, 20, 30]);
  });

  it('sums the .log bytes of every segment', () => {
    const segments = listOf(tmpDir(), 0, 10);
    fill(segments.get(0)!, 3, 1000);
    fill(segments.get(10)!, 2, 2000);
    expect(segments.sizeInBytes()).toBe(segments.get(0)!.size + segments.get(10)!.size);
    expect(segments.sizeInBytes()).toBeGreaterThan(0);
  });

  it('finds the segments a timestamp lookup searches, from the one holding the start offset', () => {
    const segments = listOf(tmpDir(), 0, 10, 20);
    fill(segments.get(0)!, 3, 1000); // timestamps 1000..1002
    fill(segments.get(10)!, 3, 3000); // 3000..3002
    fill(segments.get(20)!, 3, 2000); // 2000..2002
    expect(bases(segments.candidatesForTimestamp(1500, 0))).toEqual([10, 20]);
    expect(bases(segments.candidatesForTimestamp(2500, 0))).toEqual([10]);
    expect(bases(segments.candidatesForTimestamp(0, 12))).toEqual([10, 20]);
    expect(bases(segments.candidatesForTimestamp(5000, 0))).toEqual([]);
  });

  it('removes one segment or all of them', () => {
    const segments = listOf(tmpDir(), 0, 10, 20);
    expect(segments.remove(15)).toBeUndefined();
    expect(segments.remove(10)!.baseOffset).toBe(10);
    expect(segments.baseOffsets()).toEqual([0, 20]);
    expect(bases(segments.clear())).toEqual([0, 20]);
    expect(segments.isEmpty).toBe(true);
  });

  describe('replace', () => {
    it('replaces several segments by one at the first one base offset and returns the old ones', () => {
      const dir = tmpDir();
      const segments = listOf(dir, 0, 10, 20, 30);
      const [s0, s10, s20] = [segments.get(0)!, segments.get(10)!, segments.get(20)!];
      const cleaned = LogSegment.open(tmpDir(), 0, 0);
      const removed = segments.replace([cleaned], [s0, s10, s20]);
      expect(removed).toEqual([s0, s10, s20]);
      expect(segments.baseOffsets()).toEqual([0, 30]);
      expect(segments.get(0)).toBe(cleaned);
      expect(segments.floorSegment(25)).toBe(cleaned);
    });

    it('replaces segments in the middle, at a base offset none of them had', () => {
      const segments = listOf(tmpDir(), 0, 10, 20, 30);
      const [s10, s20] = [segments.get(10)!, segments.get(20)!];
      const merged = LogSegment.open(tmpDir(), 15, 0);
      expect(segments.replace([merged], [s10, s20])).toEqual([s10, s20]);
      expect(segments.baseOffsets()).toEqual([0, 15, 30]);
    });

    it('does not return an old segment that is also one of the new ones', () => {
      const segments = listOf(tmpDir(), 0, 10);
      const [s0, s10] = [segments.get(0)!, segments.get(10)!];
      expect(segments.replace([s0], [s0, s10])).toEqual([s10]);
      expect(segments.baseOffsets()).toEqual([0]);
    });

    it('changes nothing when an old segment is not in the list', () => {
      const segments = listOf(tmpDir(), 0, 10, 20);
      const before = segments.values();
      const stranger = LogSegment.open(tmpDir(), 10, 0);
      const cleaned = LogSegment.open(tmpDir(), 0, 0);
      expect(() => segments.replace([cleaned], [segments.get(0)!, stranger])).toThrow(/not in the log/);
      expect(segments.values()).toEqual(before);
    });

    it('changes nothing when a new segment would overwrite one not being replaced', () => {
      const segments = listOf(tmpDir(), 0, 10, 20);
      const before = segments.values();
      const clash = LogSegment.open(tmpDir(), 20, 0);
      expect(() => segments.replace([clash], [segments.get(0)!])).toThrow(/not being replaced/);
      const twice = [LogSegment.open(tmpDir(), 0, 0), LogSegment.open(tmpDir(), 0, 0)];
      expect(() => segments.replace(twice, [segments.get(0)!])).toThrow(/two segments/);
      expect(segments.values()).toEqual(before);
    });
  });
});
