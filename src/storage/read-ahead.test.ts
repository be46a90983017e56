import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iterateBatches, setBaseOffset } from '../protocol/record-batch.js';
import { MIN_READ_AHEAD_BYTES, ReadAheadCache, readAheads } from './read-ahead.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { LogSegment } from './segment.js';
import { batch, tmpDir } from './test-helpers.js';

/** Appends `count` batches of 10 records × 2,000 B (~20 KB each) from the segment's next offset. */
function fill(seg: LogSegment, count: number, valueByte = 'x'): void {
  let next = seg.nextOffset();
  for (let i = 0; i < count; i++) {
    const b = batch(10, 1_700_000_000_000 + next, 2_000);
    if (valueByte !== 'x') b.fill(valueByte, b.length - 100, b.length - 50); // not a valid CRC: unchecked here
    setBaseOffset(b, 0, next);
    seg.append(b, next + 9, 1_700_000_000_000 + next + 9, 4096);
    next += 10;
  }
}

const offsets = (records: Buffer | null) =>
  records ? [...iterateBatches(records)].map((b) => b.baseOffset) : [];
const MAX = 100_000;

describe('read-ahead of segment reads', () => {
  it('serves the next read of a catching-up consumer with the bytes an ordinary read returns', async () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    fill(seg, 20);
    const before = { ...readAheads.stats };
    const first = seg.read(0, MAX, true)!;
    expect(offsets(first)).toEqual([0, 10, 20, 30]);
    expect(readAheads.stats.issued).toBe(before.issued + 1);
    await readAheads.settled();
    const second = seg.read(40, MAX, true)!;
    expect(readAheads.stats.hits).toBe(before.hits + 1);
    expect(offsets(second)).toEqual([40, 50, 60, 70]);
    // The same bytes as the file holds there.
    const file = fs.readFileSync(seg.logFile);
    expect(second.equals(file.subarray(first.length, first.length + second.length))).toBe(true);
    // An offset no read-ahead was issued for is read the ordinary way.
    expect(offsets(seg.read(10, MAX, true))).toEqual([10, 20, 30, 40]);
    await readAheads.settled();
    seg.close();
  });

  it('never serves bytes of a truncated file', async () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    fill(seg, 20);
    const first = seg.read(0, MAX, true)!;
    await readAheads.settled();
    seg.truncateTo(40);
    fill(seg, 20, 'y');
    const hits = readAheads.stats.hits;
    const again = seg.read(40, MAX, true)!;
    expect(readAheads.stats.hits).toBe(hits);
    const file = fs.readFileSync(seg.logFile);
    expect(again.equals(file.subarray(first.length, first.length + again.length))).toBe(true);
    expect(again.includes('yyyy')).toBe(true);
    await readAheads.settled();
    seg.close();
  });

  it('is not used when the file has grown past what it read (the fetch gets the full window)', async () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    fill(seg, 8); // ~160 KB: the read-ahead after the first 4 batches is cut by the end of the file
    seg.read(0, MAX, true);
    await readAheads.settled();
    fill(seg, 10);
    const misses = readAheads.stats.misses;
    const next = seg.read(40, 5 * 20_500, true)!;
    expect(readAheads.stats.misses).toBe(misses + 1);
    expect(offsets(next)).toEqual([40, 50, 60, 70, 80]);
    await readAheads.settled();
    seg.close();
  });

  it('stops at maxOffset and reads nothing ahead of it', async () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    fill(seg, 20);
    seg.read(0, MAX, true);
    await readAheads.settled();
    const issued = readAheads.stats.issued;
    // The high watermark moved less far than the read-ahead reached: only batches below it.
    expect(offsets(seg.read(40, MAX, true, 60))).toEqual([40, 50]);
    expect(readAheads.stats.issued).toBe(issued);
    await readAheads.settled();
    seg.close();
  });

  it('falls back to the ordinary read when the first batch is larger than the window', async () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    fill(seg, 20);
    seg.read(0, MAX, true);
    await readAheads.settled();
    // A smaller limit than the read-ahead was made for, below one batch: minOneBatch still gets one.
    expect(offsets(seg.read(40, 1_000, true))).toEqual([40]);
    expect(seg.read(40, 1_000, false)).toBeNull();
    await readAheads.settled();
    seg.close();
  });

  it('drops its reads when the segment is deleted', async () => {
    const dir = tmpDir();
    const seg = LogSegment.open(dir, 0, 0);
    fill(seg, 20);
    const held = readAheads.byteCount;
    seg.read(0, MAX, true);
    expect(readAheads.byteCount).toBeGreaterThan(held);
    seg.deleteFiles();
    expect(readAheads.byteCount).toBe(held);
    await readAheads.settled();
  });
});

describe('ReadAheadCache', () => {
  function file(bytes: number): { fd: number; data: Buffer } {
    const path = `${tmpDir()}/f`;
    const data = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) data[i] = i % 251;
    fs.writeFileSync(path, data);
    return { fd: fs.openSync(path, 'r'), data };
  }

  it('keeps at most its byte budget, dropping the oldest first', async () => {
    const pool = new ReadBufferPool();
    const cache = new ReadAheadCache(pool, 4 * MIN_READ_AHEAD_BYTES);
    const { fd } = file(16 * MIN_READ_AHEAD_BYTES);
    const owner = {};
    for (let i = 0; i < 10; i++) cache.issue(owner, 0, fd, i, i * MIN_READ_AHEAD_BYTES, MIN_READ_AHEAD_BYTES);
    expect(cache.byteCount).toBe(4 * MIN_READ_AHEAD_BYTES);
    expect(cache.stats.evicted).toBe(6);
    await cache.settled();
    expect(cache.take(owner, 0, 0, () => MIN_READ_AHEAD_BYTES)).toBeNull(); // evicted
    const hit = cache.take(owner, 0, 9, () => MIN_READ_AHEAD_BYTES)!;
    expect(hit.position).toBe(9 * MIN_READ_AHEAD_BYTES);
    // Sizes outside the read-ahead range are not read ahead.
    cache.issue(owner, 0, fd, 100, 0, MIN_READ_AHEAD_BYTES - 1);
    expect(cache.take(owner, 0, 100, () => 1)).toBeNull();
    fs.closeSync(fd);
  });

  it('hands a read only to the same generation and a window it covers', async () => {
    const pool = new ReadBufferPool();
    const cache = new ReadAheadCache(pool);
    const { fd, data } = file(4 * MIN_READ_AHEAD_BYTES);
    const owner = {};
    cache.issue(owner, 3, fd, 7, 1000, 2 * MIN_READ_AHEAD_BYTES);
    await cache.settled();
    expect(cache.take(owner, 4, 7, () => 10)).toBeNull(); // generation moved
    cache.issue(owner, 3, fd, 7, 1000, 2 * MIN_READ_AHEAD_BYTES);
    await cache.settled();
    expect(cache.take(owner, 3, 7, () => 2 * MIN_READ_AHEAD_BYTES + 1)).toBeNull(); // too short
    cache.issue(owner, 3, fd, 7, 1000, 2 * MIN_READ_AHEAD_BYTES);
    await cache.settled();
    const hit = cache.take(owner, 3, 7, (p) => (p === 1000 ? 500 : -1))!;
    expect(hit.window).toBe(500);
    expect(hit.buf.subarray(0, 500).equals(data.subarray(1000, 1500))).toBe(true);
    expect(cache.stats).toMatchObject({ issued: 3, hits: 1, misses: 2 });
    fs.closeSync(fd);
  });

  it('gives the buffer of a dropped read-ahead back at once and never reads into it', async () => {
    const pool = new ReadBufferPool();
    const cache = new ReadAheadCache(pool);
    const { fd } = file(2 * MIN_READ_AHEAD_BYTES);
    const owner = {};
    cache.issue(owner, 0, fd, 0, 0, MIN_READ_AHEAD_BYTES);
    // Not read yet (it runs after this loop turn): taking it is a miss, and the buffer is free again.
    expect(cache.take(owner, 0, 0, () => 1)).toBeNull();
    expect(pool.freeByteCount).toBe(MIN_READ_AHEAD_BYTES);
    const reused = pool.take(MIN_READ_AHEAD_BYTES).fill(7);
    await cache.settled();
    expect(reused.every((b) => b === 7)).toBe(true);
    cache.issue(owner, 0, fd, 0, 0, MIN_READ_AHEAD_BYTES);
    cache.dropAll(owner);
    expect(cache.byteCount).toBe(0);
    await cache.settled();
    expect(reused.every((b) => b === 7)).toBe(true);
    fs.closeSync(fd);
  });

  it('lets a fetch wait for a read-ahead issued in the same loop turn', async () => {
    const cache = new ReadAheadCache(new ReadBufferPool());
    const { fd, data } = file(2 * MIN_READ_AHEAD_BYTES);
    const owner = {};
    cache.issue(owner, 0, fd, 5, 10, MIN_READ_AHEAD_BYTES);
    expect(cache.pending(owner, 6)).toBeNull();
    await cache.pending(owner, 5);
    expect(cache.pending(owner, 5)).toBeNull(); // read now
    const hit = cache.take(owner, 0, 5, () => MIN_READ_AHEAD_BYTES)!;
    expect(
      hit.buf.subarray(0, MIN_READ_AHEAD_BYTES).equals(data.subarray(10, 10 + MIN_READ_AHEAD_BYTES)),
    ).toBe(true);
    fs.closeSync(fd);
  });
});
