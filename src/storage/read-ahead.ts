/**
 * Segment reads issued ahead of a consumer that is catching up.
 *
 * A consumer behind the log end fetches offset after offset: once a fetch has returned the batches
 * up to offset N, the next fetch of that partition asks for N + 1 with the same size limit, and
 * the client waits for that answer (one fetch in flight per connection). Without read-ahead the
 * event loop serves it with two header reads (finding the batch from the offset index) and a
 * `read(2)` of up to `partitionMaxBytes`, all between the request's arrival and the first
 * response byte. A read issued ahead runs once the loop turn that issued it has written its
 * responses, while the client is still receiving and parsing the previous answer, so the next
 * fetch finds its bytes in memory and goes straight to the socket. (Kafka avoids the copy with
 * `sendfile`; Node has none for sockets.) The reads run on the event loop, not libuv's thread
 * pool: measured on the 2-core VM, handing each read to a pool thread cost ~30 % more broker CPU
 * per GB consumed (wake-ups, the bytes read on one core and written from another) for no
 * measurable gain in throughput.
 *
 * Correctness rests on the segment file being append-only between truncations: bytes below the
 * size the file had when the read was issued never change unless the segment is truncated,
 * recovered, closed or deleted, and each of those moves the segment's generation, which a
 * read-ahead must still match when it is used. A read-ahead is used only when it holds every byte
 * the ordinary read would have read (`window`), so a fetch answered from one returns exactly what
 * it would have returned without it.
 *
 * Bounded: at most `maxBytes` (16 MiB) in read-aheads at once, the least recently issued dropped
 * first; buffers come from and go back to the read buffer pool.
 */
import { readFully } from './file-batch-scanner.js';
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
  readonly fd: number;
  /** Bytes read; -1 until the read has run. */
  done: number;
  /** Removed from the cache (its buffer is back in the pool): not to be read into. */
  dropped: boolean;
  /** Fetches waiting for the read to run (`pending`). */
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
  /** Found but unusable (not read yet, stale, or too short for the fetch's window). */
  misses: number;
  evicted: number;
}

export class ReadAheadCache {
  private readonly byOwner = new Map<object, Map<number, Ahead>>();
  /** Every live read-ahead, oldest first (eviction order). */
  private readonly order = new Set<Ahead>();
  private bytes = 0;
  /** Issued and not read yet, in issue order: read once the loop turn's responses are written. */
  private queued: Ahead[] = [];
  private idleWaiters: (() => void)[] = [];
  readonly stats: ReadAheadStats = { issued: 0, hits: 0, misses: 0, evicted: 0 };

  constructor(
    private readonly pool: ReadBufferPool = readBuffers,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /**
   * Reads `length` bytes at `position` of `fd` after this loop turn, for a fetch of `startOffset`
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
      fd,
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
    this.queued.push(ahead);
    if (this.queued.length === 1) setImmediate(this.readQueued);
  }

  /** setImmediate: after the poll phase, so after the responses this turn's fetches wrote. */
  private readonly readQueued = (): void => {
    const queued = this.queued;
    this.queued = [];
    for (const ahead of queued) {
      if (!ahead.dropped) {
        try {
          ahead.done = readFully(ahead.fd, ahead.buf, ahead.length, ahead.position);
        } catch {
          // Unusable (a failing disk): the fetch reads the file itself and meets the error the
          // ordinary way, with the log directory's failure handling.
          ahead.done = 0;
        }
      }
      if (ahead.waiters !== null) for (const wake of ahead.waiters.splice(0)) wake();
    }
    for (const wake of this.idleWaiters.splice(0)) wake();
  };

  /**
   * Resolves once the read-ahead for a fetch of `startOffset` from `owner` has been read; null
   * when there is none or it is read. A fetch arriving in the loop turn that issued it (another
   * consumer at the same offset) waits for it rather than reading the same bytes itself.
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

  /** Resolves once every issued read-ahead has been read (tests). */
  settled(): Promise<void> {
    if (this.queued.length === 0) return Promise.resolve();
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

  /** Gives the buffer back; a queued read of it is skipped. */
  private dispose(ahead: Ahead): void {
    ahead.dropped = true;
    this.pool.release(ahead.buf);
  }
}

/** The process's read-aheads (one event loop; a worker thread gets its own module instance). */
export const readAheads = new ReadAheadCache();
