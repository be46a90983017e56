import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iterateBatches, setBaseOffset } from '../protocol/record-batch.js';
import { scanFileBatches } from './file-batch-scanner.js';
import { LogSegment } from './segment.js';
import { batch, tmpDir } from './test-helpers.js';

function fill(seg: LogSegment, count: number, interval: number): number[] {
  const positions: number[] = [];
  let next = seg.baseOffset;
  for (let i = 0; i < count; i++) {
    const b = batch(3, 5_000 + i * 10, 40);
    setBaseOffset(b, 0, next);
    positions.push(seg.size);
    seg.append(b, next + 2, 5_000 + i * 10 + 2, interval);
    next += 3;
  }
  return positions;
}

describe('LogSegment', () => {
  it('names files by 20-digit base offset and indexes (lastOffset, position)', () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 100, 0);
    expect(fs.readdirSync(dir).sort()).toEqual([
      '00000000000000000100.index',
      '00000000000000000100.log',
      '00000000000000000100.timeindex',
    ]);
    const positions = fill(seg, 10, 150);
    expect(seg.nextOffset()).toBe(130);
    for (let i = 0; i < seg.offsetIndex.entries; i++) {
      const off = seg.offsetIndex.offsetAt(i);
      const pos = seg.offsetIndex.positionAt(i);
      expect(positions).toContain(pos);
      expect(seg.translateOffset(off)!.position).toBe(pos);
      expect(seg.translateOffset(off)!.lastOffset).toBe(off);
    }
    expect(seg.offsetIndex.entries).toBeGreaterThan(0);
    expect(seg.translateOffset(104)!.baseOffset).toBe(103);
    expect(seg.findBatchByTimestamp(5_031, 0)!.baseOffset).toBe(109);
    const r = seg.read(106, 1 << 20, false, 112)!;
    expect([...iterateBatches(r)].map((b) => b.baseOffset)).toEqual([106, 109]);
    seg.close();
  });

  it('recover() rebuilds the same indexes and truncateTo drops whole batches', () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    fill(seg, 20, 200);
    seg.close();
    const idx = fs.readFileSync(`${dir}/00000000000000000000.index`);
    const again = LogSegment.open(dir, 0, 0);
    const res = again.recover(200);
    expect(res.truncatedBytes).toBe(0);
    again.close();
    expect(fs.readFileSync(`${dir}/00000000000000000000.index`).equals(idx)).toBe(true);

    const t = LogSegment.open(dir, 0, 0);
    t.truncateTo(31);
    expect(t.nextOffset()).toBe(30);
    expect(t.offsetIndex.lastOffset()).toBeLessThan(30);
  });

  it('scanner reads batches larger than its window when verifying', () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    const big = batch(1, 1, 300_000);
    seg.append(big, 0, 1, 4096);
    seg.append(batch(1), 1, 1, 4096);
    seg.close();
    const fd = fs.openSync(`${dir}/00000000000000000000.log`, 'r');
    const seen: number[] = [];
    const res = scanFileBatches(fd, 0, fs.fstatSync(fd).size, true, (b) => seen.push(b.size) > 0);
    fs.closeSync(fd);
    expect(res.stopReason).toBe('end');
    expect(seen[0]).toBe(big.length);
    expect(seen.length).toBe(2);
  });
});
