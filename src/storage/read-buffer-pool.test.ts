import { describe, expect, it } from 'vitest';
import { MAX_POOLED_BYTES, MIN_POOLED_BYTES, ReadBufferPool } from './read-buffer-pool.js';

describe('ReadBufferPool', () => {
  it('hands out buffers of the asked size and reuses a released store', () => {
    const pool = new ReadBufferPool();
    const a = pool.take(100_000);
    expect(a.length).toBe(100_000);
    const store = a.buffer;
    pool.release(a.subarray(0, 10)); // a view of the store gives it back too
    expect(pool.freeByteCount).toBe(128 * 1024);
    const b = pool.take(70_000);
    expect(b.buffer).toBe(store);
    expect(b.length).toBe(70_000);
    expect(pool.freeByteCount).toBe(0);
  });

  it('never lends one store twice: a second release, or a release of a store not lent, is ignored', () => {
    const pool = new ReadBufferPool();
    const a = pool.take(MIN_POOLED_BYTES);
    pool.release(a);
    pool.release(a);
    const b = pool.take(MIN_POOLED_BYTES);
    const c = pool.take(MIN_POOLED_BYTES);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(a.buffer);
    pool.release(Buffer.allocUnsafeSlow(MIN_POOLED_BYTES));
    expect(pool.freeByteCount).toBe(0);
  });

  it('does not pool small or huge reads', () => {
    const pool = new ReadBufferPool();
    const small = pool.take(MIN_POOLED_BYTES - 1);
    const huge = pool.take(MAX_POOLED_BYTES + 1);
    pool.release(small);
    pool.release(huge);
    expect(pool.freeByteCount).toBe(0);
  });

  it('keeps a bounded number of free bytes', () => {
    const pool = new ReadBufferPool();
    const lent = Array.from({ length: 40 }, () => pool.take(1024 * 1024));
    for (const b of lent) pool.release(b);
    expect(pool.freeByteCount).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(pool.freeByteCount).toBe(8 * 1024 * 1024); // 8 per size class
  });
});
