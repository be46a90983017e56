/**
 * Segment reads issued ahead of a consumer that is catching up.
 *
 * A consumer behind the log end fetches offset after offset: once a fetch has returned the batches
 * up to offset N, the next fetch of that partition asks for N + 1 with the same size limit. Without
 * read-ahead the broker's event loop serves that fetch with two header reads (finding the batch
 * from the offset index) and a `read(2)` of up to `partitionMaxBytes`, all between the request's
 * arrival and the first response byte, while the client waits. A read issued ahead runs on libuv's
 * thread pool while the previous response is still being written and the client is parsing it,
 * so the next fetch finds its bytes already in memory. (Kafka avoids the copy altogether with
 * `sendfile`; Node has no `sendfile` for sockets.)
 *
 * Correctness rests on the segment file being append-only between truncations: bytes below the
 * size the file had when the read was issued never change unless the segment is truncated,
 * recovered, closed or deleted, and each of those moves the segment's generation, which a
 * read-ahead must still match when it is used. A read-ahead is used only when it holds every byte
 * the ordinary read would have read (`window`), so a fetch answered from one returns exactly what
 * it would have returned without it.
 *
 * Bounded: at most `maxBytes` (16 MiB) in read-aheads at once, the least recently issued dropped
 * first; buffers come from and go back to the read buffer pool. A read still running when it is
 * dropped gives its buffer back when it completes, never earlier (the thread pool is writing it).
 */
import fs from 'node:fs';
import { type ReadBufferPool, readBuffers } from './read-buffer-pool.js';

/** Reads smaller than this are cheap enough to do when the fetch comes; not read ahead. */
export const MIN_READ_AHEAD_BYTES = 64 * 1024;
/** Reads larger than this are not read ahead (the pool does not hold them either). */
export const MAX_READ_AHEAD_BYTES = 8 * 1024 * 1024;
/** Bytes in read-aheads at once, across every segment. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

interface Ahead {
  readonly owner: object;
  readonly generation: number;
  /** The fetch offset it serves: the offset after the last batch the previous read returned. */
  readonly startOffset: number;
  readonly position: number;
  readonly length: number;
  readonly buf: Buffer;
  /** Bytes read; -1 while the read is running. */
  done: number;
  /** Removed from the cache: its buffer goes back to the pool once the read has completed. */
  dropped: boolean;
  /** Fetches waiting for the read to complete (pending). */
  waiters: (() => void)[] | null;
}

/** What `take` hands over: the bytes at `position` of the file, `window` of them valid. */
export interface ReadAheadHit {
  readonly buf: Buffer;
  readonly position: number;
  readonly window: number;
}

export interface ReadAheadStats {
  issued: number;
  hits: number;
  /** Found but unusable (still running, stale, or too short for the fetch's window). */
  misses: number;
  evicted: number;
}

export class ReadAheadCache {
  private readonly byOwner = new Map<object, Map<number, Ahead>>();
  /** Every live read-ahead, oldest first (eviction order). */
  private readonly order = new Set<Ahead>();
  private bytes = 0;
  /** Reads running on the thread pool, and who waits for them all to complete (tests). */
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  readonly stats: ReadAheadStats = { issued: 0, hits: 0, misses: 0, evicted: 0 };

  constructor(
    private readonly pool: ReadBufferPool = readBuffers,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /**
   * Reads `length` bytes at `position` of `fd` on the thread pool, for a fetch of `startOffset`
   * from `owner` (a segment) at `generation`. Does nothing for sizes outside the read-ahead range.
   */
  issue(
    owner: object,
    generation: number,
    fd: number,
    startOffset: number,
    position: number,
    length: number,
  ): void {
    if (length < MIN_READ_AHEAD_BYTES || length > MAX_READ_AHEAD_BYTES || length > this.maxBytes) return;
    const existing = this.byOwner.get(owner)?.get(startOffset);
    if (existing) this.remove(existing);
    for (const oldest of this.order) {
      if (this.bytes + length <= this.maxBytes) break;
      this.remove(oldest);
      this.stats.evicted++;
    }
    const ahead: Ahead = {
      owner,
      generation,
      startOffset,
      position,
      length,
      buf: this.pool.take(length),
      done: -1,
      dropped: false,
      waiters: null,
    };
    let entries = this.byOwner.get(owner);
    if (entries === undefined) {
      entries = new Map();
      this.byOwner.set(owner, entries);
    }
    entries.set(startOffset, ahead);
    this.order.add(ahead);
    this.bytes += length;
    this.stats.issued++;
    this.running++;
    fs.read(fd, ahead.buf, 0, length, position, (err, n) => {
      // An error (the fd closed meanwhile, a failing disk) just makes it unusable: the fetch then
      // reads the file itself and meets the error the ordinary way.
      ahead.done = err ? 0 : n;
      if (ahead.dropped) this.pool.release(ahead.buf);
      if (ahead.waiters !== null) for (const wake of ahead.waiters.splice(0)) wake();
      if (--this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  /**
   * Resolves when the read-ahead for a fetch of `startOffset` from `owner` has completed; null
   * when there is none or it is done. The thread pool may have finished a read whose completion
   * the event loop has not run yet (the fetch that wants it can arrive in the same loop turn), so
   * a fetch waits for it rather than reading the same bytes again itself.
   */
  pending(owner: object, startOffset: number): Promise<void> | null {
    const ahead = this.byOwner.get(owner)?.get(startOffset);
    if (ahead === undefined || ahead.done >= 0) return null;
    return new Promise((resolve) => {
      ahead.waiters ??= [];
      ahead.waiters.push(resolve);
    });
  }

  /**
   * The read-ahead for a fetch of `startOffset` from `owner`, when it was read at `generation`
   * and holds at least `windowAt(position)` bytes (what the ordinary read would read there);
   * null otherwise. Either way the entry leaves the cache; a hit's buffer belongs to the caller
   * (a pooled buffer, to be released once written out).
   */
  take(
    owner: object,
    generation: number,
    startOffset: number,
    windowAt: (position: number) => number,
  ): ReadAheadHit | null {
    const ahead = this.byOwner.get(owner)?.get(startOffset);
    if (ahead === undefined) return null;
    this.remove(ahead, true);
    const window = windowAt(ahead.position);
    if (ahead.done < 0 || ahead.generation !== generation || window <= 0 || ahead.done < window) {
      this.stats.misses++;
      this.dispose(ahead);
      return null;
    }
    this.stats.hits++;
    return { buf: ahead.buf, position: ahead.position, window };
  }

  /** Drops every read-ahead of `owner` (its file is truncated, closed or deleted). */
  dropAll(owner: object): void {
    const entries = this.byOwner.get(owner);
    if (entries === undefined) return;
    for (const ahead of [...entries.values()]) this.remove(ahead);
  }

  /** Resolves once no read is running on the thread pool (tests). */
  settled(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Bytes held in read-aheads (for tests). */
  get byteCount(): number {
    return this.bytes;
  }

  private remove(ahead: Ahead, keepBuffer = false): void {
    const entries = this.byOwner.get(ahead.owner);
    if (entries?.get(ahead.startOffset) === ahead) {
      entries.delete(ahead.startOffset);
      if (entries.size === 0) this.byOwner.delete(ahead.owner);
    }
    if (this.order.delete(ahead)) this.bytes -= ahead.length;
    if (!keepBuffer) this.dispose(ahead);
  }

  /** Gives the buffer back now, or when the running read completes. */
  private dispose(ahead: Ahead): void {
    ahead.dropped = true;
    if (ahead.done >= 0) this.pool.release(ahead.buf);
  }
}

/** The process's read-aheads (one event loop; a worker thread gets its own module instance). */
export const readAheads = new ReadAheadCache();
