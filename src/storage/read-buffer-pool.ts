/**
 * Reusable buffers for segment reads on the fetch path.
 *
 * Without it every fetch allocates a fresh buffer of up to `partitionMaxBytes` (1 MiB for most
 * clients); those are external memory to V8, and a consumer reading at full speed makes V8 run a
 * full mark-compact every few dozen MiB to account for them — a CPU profile of kcat consuming
 * 200 MB showed a dozen of them and as much time in the collector as in the `read` syscalls.
 *
 * Ownership is explicit and one-way: `take` lends a buffer to one read; only the code that has
 * written the bytes out and knows nobody else holds them (the connection, once the socket has
 * taken them: `releaseReadBuffer`) gives it back. A buffer that is never given back (a read whose
 * result is decoded, dropped, or kept) is simply garbage-collected, so forgetting to release
 * costs an allocation, never correctness. Small reads are not pooled (the response encoder copies
 * them, so they would never come back). Free buffers are bounded in count and bytes
 * (at most 16 MiB stay allocated after a burst of reads).
 */

/** Reads below this size use ordinary allocations. */
export const MIN_POOLED_BYTES = 64 * 1024;
/** Reads above this size use ordinary allocations (rare: a huge partitionMaxBytes). */
export const MAX_POOLED_BYTES = 8 * 1024 * 1024;
/** At most this many bytes sit free in the pool. */
const MAX_FREE_BYTES = 16 * 1024 * 1024;
/** At most this many free buffers of one size class. */
const MAX_FREE_PER_CLASS = 8;

export class ReadBufferPool {
  /** Free backing stores by size class (a power of two). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;
  /** Backing stores lent out and not yet given back: only those can be released. */
  private readonly lent = new WeakSet<ArrayBuffer>();

  /** A buffer of exactly `size` bytes (a view on a pooled store when size is in the pooled range). */
  take(size: number): Buffer {
    if (size < MIN_POOLED_BYTES || size > MAX_POOLED_BYTES) return Buffer.allocUnsafe(size);
    const cls = sizeClass(size);
    const list = this.free.get(cls);
    let store = list?.pop();
    if (store === undefined) {
      store = Buffer.allocUnsafeSlow(cls).buffer as ArrayBuffer;
    } else {
      this.freeBytes -= cls;
    }
    this.lent.add(store);
    return Buffer.from(store, 0, size);
  }

  /**
   * Gives back the store under `buf` when this pool lent it and it is still out; anything else is
   * ignored. The caller promises that no one reads or writes `buf` (or any view of its store) after.
   */
  release(buf: Buffer): void {
    const store = buf.buffer as ArrayBuffer;
    if (!this.lent.has(store)) return;
    this.lent.delete(store);
    const cls = store.byteLength;
    if (this.freeBytes + cls > MAX_FREE_BYTES) return;
    let list = this.free.get(cls);
    if (list === undefined) {
      list = [];
      this.free.set(cls, list);
    }
    if (list.length >= MAX_FREE_PER_CLASS) return;
    list.push(store);
    this.freeBytes += cls;
  }

  /** Bytes held free (for tests). */
  get freeByteCount(): number {
    return this.freeBytes;
  }
}

function sizeClass(size: number): number {
  let cls = MIN_POOLED_BYTES;
  while (cls < size) cls *= 2;
  return cls;
}

/** The process's pool for segment reads (one event loop; worker threads get their own module instance). */
export const readBuffers = new ReadBufferPool();

/**
 * The process's pool for Produce request frames that arrive in several socket chunks (a ~1 MB batch
 * from librdkafka or the Java client): joining them into a fresh buffer per request made V8 collect
 * for the external memory, ~14 % of the broker's busy time under a kcat 1 KiB produce. A connection
 * takes one for such a frame and gives it back once the request has been handled (the handler has
 * appended the batches and nothing holds them). Separate from `readBuffers` so neither path can
 * starve the other of free buffers.
 */
export const requestBuffers = new ReadBufferPool();

/** See ReadBufferPool.release: the socket has taken `buf`'s bytes and nothing else holds it. */
export function releaseReadBuffer(buf: Buffer): void {
  readBuffers.release(buf);
}
