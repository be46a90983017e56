// The broker's segment writes, gathered. An appended batch is copied into a ring, and its bytes reach its
// segment's `.log` later: by default on the event loop once its turn's I/O is handled (setImmediate), one
// writev per segment for every batch the turn appended — each write(2) has a fixed cost of ~4 µs on ext4
// here, as much as 25 KiB of copying; or, with log.segment.write.thread.enable, on a worker thread (off the
// loop: a write that stalls under writeback throttling stalls no connection); or, by default (`auto`), on the
// loop while that is cheap and on the thread while the writes hold the loop (nextWriteMode). The loop keeps the bytes a
// segment has not written yet readable from the ring, and answers a request only once every write
// submitted before its response was ready is done (Connection), so what a client was told is in the page
// cache as before: nothing acknowledged is lost on kill -9.
//
// Ordering: each owner's descriptors are written in the order they were submitted (an fd opened O_APPEND,
// so each lands at the end of its file). Anything else that touches a segment's file — truncation,
// fsync, close, delete — first has that segment's writes done (`waitFor`: on the loop, at once).
import fs from 'node:fs';
import { availableParallelism, constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** The segment whose bytes a descriptor carries (LogSegment). */
export interface WriteOwner {
  /** The directory its file is in (checked for free space; named when a write fails). */
  readonly dir: string;
  /** The file system it is on (`stat`'s dev): free space is counted per file system. */
  readonly dev: number;
  /** The oldest of this owner's outstanding writes is done (`error` when it failed); true when it is the owner's first failure. */
  onWritten(bytes: number, error: Error | null): boolean;
}

// Control words (Int32Array over a SharedArrayBuffer).
const SUBMITTED = 0; // descriptors handed to the worker (wrapping int32 counter)
const COMPLETED = 1; // descriptors the worker has finished (written or failed)
const WANT_WAKE = 2; // the loop waits for completions: the worker posts a message after its next ones
const STOP = 3; // the worker exits once it has nothing left to write
const PAUSED = 4; // tests: the worker writes nothing while set (bytes stay in the ring)
const SLEEPING = 5; // the worker is (about to be) in Atomics.wait: a submit must notify it
const CONTROL_WORDS = 6;
// The worker's own figures (Float64Array over a SharedArrayBuffer, monotonic): what it wrote and how long it took.
const STAT_BYTES = 0;
const STAT_MS = 1;
// Descriptor fields (Float64Array, DESCRIPTOR_FIELDS per slot).
const D_FD = 0;
const D_OWNER = 1; // a number per owner, so a failed segment's later writes are skipped, not appended after a hole
const D_RING = 2;
const D_LENGTH = 3;
const D_POSITION = 4; // where the bytes go in the file (a failed write truncates back to it)
const DESCRIPTOR_FIELDS = 5;
/** The fields' places, handed to writePending (which the worker evaluates apart from this module). */
const LAYOUT = {
  size: DESCRIPTOR_FIELDS,
  fd: D_FD,
  owner: D_OWNER,
  ring: D_RING,
  length: D_LENGTH,
  position: D_POSITION,
} as const;

export const DEFAULT_RING_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SLOTS = 4096; // a power of two: slot = seq & (slots - 1) across the int32 wrap
/**
 * Free space a file system keeps beyond what the ring can hold before appends to it go through the
 * ring: a full disk is then met by a write in place (KAFKA_STORAGE_ERROR, nothing torn, writes resume
 * once space is freed), not by a background write whose append was already counted.
 */
const FREE_SPACE_MARGIN_RINGS = 2;
/**
 * Where a SegmentWriter's writes run: `loop`, at the end of each turn of the event loop; `thread`, on its
 * worker thread; `auto`, on the loop until the writes hold it (nextWriteMode), then on the thread until
 * they are cheap again or the load is gone — only where a second core is there to take them.
 */
export type SegmentWriteMode = 'loop' | 'thread' | 'auto';

/** What the segment writes cost over a window of wall-clock time: auto mode's input. */
export interface WriteWindow {
  wallMs: number;
  /** Time spent in the writes (on the loop, or on the thread while they are there). */
  writeMs: number;
  bytes: number;
}

/** When auto mode moves the writes (nextWriteMode). */
export interface AutoThresholds {
  /** A window's wall-clock length, ms. */
  windowMs: number;
  /** To the thread: the loop spent at least this share of the window writing … */
  toThreadShare: number;
  /** … at this many ns a byte or more (the page cache slow to grow, or writeback throttling the writer). */
  toThreadNsPerByte: number;
  /** Back to the loop: the thread spent less than this share of the window writing … */
  toLoopShare: number;
  /** … or wrote at less than this many ns a byte. */
  toLoopNsPerByte: number;
}

/**
 * Into a page cache that has pages to spare a write(2) costs ~4 µs plus 0.15 µs a KiB here (0.2–0.6 ns
 * a byte for the writes a turn gathers); into pages the guest must first get from its hypervisor, or
 * under writeback throttling, 3–4 ns a byte — then the loop spends most of its time in the copy, and the
 * thread gave 1.35× at 1 KiB (README, session 22), while on a warm page cache it costs 10–15 %. A quarter
 * of a second holds hundreds of writes under a load that could need the thread, and lets a short burst
 * into a cold page cache move before it is over.
 */
export const DEFAULT_AUTO: AutoThresholds = {
  windowMs: 250,
  toThreadShare: 0.5,
  toThreadNsPerByte: 1.5,
  toLoopShare: 0.2,
  toLoopNsPerByte: 0.75,
};

/** Auto mode's decision at the end of a window, with hysteresis between the two ways. */
export function nextWriteMode(
  current: 'loop' | 'thread',
  w: WriteWindow,
  t: AutoThresholds = DEFAULT_AUTO,
): 'loop' | 'thread' {
  if (w.wallMs <= 0) return current;
  const share = w.writeMs / w.wallMs;
  const nsPerByte = w.bytes > 0 ? (w.writeMs * 1e6) / w.bytes : 0;
  if (current === 'loop')
    return share >= t.toThreadShare && nsPerByte >= t.toThreadNsPerByte ? 'thread' : 'loop';
  return share < t.toLoopShare || nsPerByte < t.toLoopNsPerByte ? 'loop' : 'thread';
}

/** While a file system is short of space, its free space is looked at again at most this often. */
const FREE_SPACE_RECHECK_MS = 100;
/** Submitted bytes after which they are written (the worker woken) at once rather than at the end of the turn. */
const KICK_BYTES = 256 * 1024;
/** A main-thread wait longer than this (a dead worker, a hung disk) throws instead of hanging forever. */
const STALL_MS = 120_000;

/**
 * Writes descriptors (done, submitted] (int32 counters that wrap) into their files: each owner's, in
 * the order submitted, with one writev per 512 of them; sets each descriptor's status (0 or a
 * negative errno); returns the bytes it was given. A failed write truncates its owner's file back to where that run began, and every
 * later write of that owner is skipped (-5, EIO), so a segment never holds bytes after a hole.
 * Self-contained — the worker thread evaluates its source — so it touches only its arguments.
 */
function writePending(
  fs: { writevSync(fd: number, views: Uint8Array[]): number; ftruncateSync(fd: number, len: number): void },
  f: typeof LAYOUT,
  desc: Float64Array,
  status: Int32Array,
  ring: Buffer,
  mask: number,
  failed: Set<number>,
  done: number,
  submitted: number,
): number {
  let bytes = 0;
  const runs = new Map<number, { fd: number; position: number; views: Buffer[]; slots: number[] }>();
  for (let seq = done; seq !== submitted; ) {
    seq = (seq + 1) | 0;
    const slot = seq & mask;
    const d = slot * f.size;
    const owner = desc[d + f.owner]!;
    let run = runs.get(owner);
    if (run === undefined) {
      run = { fd: desc[d + f.fd]!, position: desc[d + f.position]!, views: [], slots: [] };
      runs.set(owner, run);
    }
    const at = desc[d + f.ring]!;
    const length = desc[d + f.length]!;
    bytes += length;
    run.views.push(ring.subarray(at, at + length));
    run.slots.push(slot);
  }
  for (const [owner, run] of runs) {
    let errno = 0;
    if (failed.has(owner)) errno = -5;
    else {
      try {
        for (let i = 0; i < run.views.length; i += 512) {
          let views = run.views.slice(i, i + 512);
          let left = 0;
          for (const v of views) left += v.length;
          // A regular file takes it all unless the disk fills mid-write: then the rest, or the error.
          for (;;) {
            let n = fs.writevSync(run.fd, views);
            left -= n;
            if (left <= 0) break;
            const rest: Buffer[] = [];
            for (const v of views) {
              if (n >= v.length) n -= v.length;
              else {
                rest.push(n > 0 ? v.subarray(n) : v);
                n = 0;
              }
            }
            views = rest;
          }
        }
      } catch (e) {
        const code = (e as { errno?: unknown }).errno;
        errno = typeof code === 'number' ? code : -5;
        failed.add(owner);
        try {
          fs.ftruncateSync(run.fd, run.position);
        } catch {}
      }
    }
    for (const slot of run.slots) status[slot] = errno;
  }
  return bytes;
}

// The worker: sleeps until descriptors are submitted, writes them (writePending), counts them done,
// and posts a message when the loop waits for that. CommonJS evaluated in the thread (no file to resolve).
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const fs = require('node:fs');
const ctl = new Int32Array(workerData.control);
const stats = new Float64Array(workerData.stats);
const desc = new Float64Array(workerData.descriptors);
const status = new Int32Array(workerData.status);
const ring = Buffer.from(workerData.ring);
const mask = workerData.slots - 1;
const failed = new Set();
const writePending = ${writePending.toString()};
const layout = ${JSON.stringify(LAYOUT)};
for (;;) {
  if (Atomics.load(ctl, ${PAUSED}) === 1) {
    Atomics.wait(ctl, ${PAUSED}, 1, 1000);
    continue;
  }
  // No spinning before the sleep: on a small machine it takes the CPU the loop and the clients need.
  // COMPLETED is read each time: while the writes are on the loop (auto mode), the loop moves it and
  // leaves SUBMITTED behind it, so this thread finds nothing to do.
  const submitted = Atomics.load(ctl, ${SUBMITTED});
  const done = Atomics.load(ctl, ${COMPLETED});
  if (((submitted - done) | 0) <= 0) {
    if (Atomics.load(ctl, ${STOP}) === 1) break;
    Atomics.store(ctl, ${SLEEPING}, 1);
    Atomics.wait(ctl, ${SUBMITTED}, submitted, 1000);
    Atomics.store(ctl, ${SLEEPING}, 0);
    continue;
  }
  const t0 = performance.now();
  stats[${STAT_BYTES}] += writePending(fs, layout, desc, status, ring, mask, failed, done, submitted);
  stats[${STAT_MS}] += performance.now() - t0;
  Atomics.store(ctl, ${COMPLETED}, submitted);
  Atomics.notify(ctl, ${COMPLETED});
  if (Atomics.exchange(ctl, ${WANT_WAKE}, 0) === 1) parentPort.postMessage(0);
}
`;

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, n]) => [-n, name] as [number, string]),
);

/** The error a failed background write reports (code as fs would give it, e.g. ENOSPC). */
export class SegmentWriteError extends Error {
  override name = 'SegmentWriteError';
  constructor(readonly errno: number) {
    const code = errnoNames.get(errno) ?? 'EIO';
    super(`${code}: background write of a log segment failed`);
    // As fs reports it, so the log directory's failure handling classifies it (log-dir-failure.ts).
    Object.assign(this, { code, errno, syscall: 'write' });
  }
}

interface Waiter {
  seq: number;
  done: (err: Error | null) => void;
}

interface Ring {
  buffer: SharedArrayBuffer | ArrayBuffer;
  /** The ring as a Buffer (tail reads and copies in). */
  bytes: Buffer;
  /**
   * With the thread (a shared ring): an aligned plain buffer each batch goes through, and it and the
   * ring as 64-bit words (submit); batches then start 8-byte aligned in the ring.
   */
  wordCopy: { staging: Buffer; stagingWords: Float64Array; ringWords: Float64Array } | undefined;
}

export interface SegmentWriterOptions {
  /** Auto mode's clock, ms (default performance.now). */
  now?: () => number;
  auto?: AutoThresholds;
  /** Cores this process may use (default os.availableParallelism()): auto mode stays on the loop with one. */
  cores?: number;
}

export class SegmentWriter {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  /** The worker's bytes written and ms spent (STAT_*). */
  private readonly stats = new Float64Array(new SharedArrayBuffer(2 * 8));
  private readonly descriptors: Float64Array;
  private readonly status: Int32Array;
  /** The ring the writes go through now; the other mode's is kept for a switch back (auto). */
  private current: Ring;
  private loopRing: Ring | null = null;
  private threadRing: Ring | null = null;
  /** Where the writes run now (fixed unless the mode is `auto`). */
  private onThread: boolean;
  private readonly canSwitch: boolean;
  private readonly now: () => number;
  /** When auto mode moves the writes (DEFAULT_AUTO; tests set their own). */
  auto: AutoThresholds;
  /** Auto mode's window: its start, and the loop's write time and bytes in it (the thread's are `stats` less the marks). */
  private windowStart: number;
  private windowWriteMs = 0;
  private windowBytes = 0;
  private windowStatMs = 0;
  private windowStatBytes = 0;
  private switches = 0;
  private readonly slots: number;
  private readonly mask: number;
  private worker: Worker | null = null;
  private exited: Promise<void> | null = null;
  /** Descriptors submitted / seen completed, as unbounded numbers (the shared counters wrap). */
  private submitted = 0;
  private completed = 0;
  /** Ring bytes handed out / given back (monotonic; their difference is in use). */
  private ringHead = 0;
  private ringTail = 0;
  private readonly ringEnd: number[];
  private readonly owners: (WriteOwner | null)[];
  private readonly ownerIds = new WeakMap<WriteOwner, number>();
  private nextOwnerId = 1;
  private readonly waiters: Waiter[] = [];
  private waiterHead = 0;
  /** The descriptors that failed, the latest last (a few kept: each takes its directory offline). */
  private readonly failed: number[] = [];
  /** Bytes that may still go through the ring per file system before its free space is looked at again. */
  private readonly space = new Map<number, { budget: number; checkedAt: number }>();
  /** Told (on a later microtask) of each owner's first failed write. */
  onWriteFailed: ((owner: WriteOwner, err: SegmentWriteError) => void) | null = null;
  /** Told when auto mode moves the writes, with the window that decided it. */
  onModeChange: ((onThread: boolean, window: WriteWindow) => void) | null = null;
  private stopped = false;
  private polling = false;
  private kickScheduled = false;
  private unkickedBytes = 0;

  /** Owners whose write failed (the loop's own writes; the worker keeps its own set). */
  private readonly failedOwners = new Set<number>();

  /**
   * `loop`: no worker; the loop itself writes what its turn appended, once at its end (one writev per
   * segment instead of one write(2) per batch), before any response waiting for it leaves. `thread`: a
   * worker writes. `auto`: the loop, or the worker while the writes hold the loop (SegmentWriteMode).
   */
  constructor(
    readonly ringBytes = DEFAULT_RING_BYTES,
    slots = DEFAULT_SLOTS,
    readonly mode: SegmentWriteMode = 'thread',
    opts: SegmentWriterOptions = {},
  ) {
    if (slots & (slots - 1)) throw new Error(`slots must be a power of two, not ${slots}`);
    if (mode !== 'loop' && ringBytes % 8 !== 0)
      throw new Error(`the ring's size must be a multiple of 8, not ${ringBytes}`);
    this.slots = slots;
    this.mask = slots - 1;
    this.descriptors = new Float64Array(new SharedArrayBuffer(slots * DESCRIPTOR_FIELDS * 8));
    this.status = new Int32Array(new SharedArrayBuffer(slots * 4));
    this.onThread = mode === 'thread';
    this.canSwitch = mode === 'auto' && (opts.cores ?? availableParallelism()) >= 2;
    this.now = opts.now ?? (() => performance.now());
    this.auto = opts.auto ?? DEFAULT_AUTO;
    this.windowStart = this.now();
    this.current = this.ringFor(this.onThread);
    this.ringEnd = new Array<number>(slots).fill(0);
    this.owners = new Array<WriteOwner | null>(slots).fill(null);
  }

  /** The ring as a Buffer: where the bytes of descriptors not yet written are (ringOffset). */
  get ring(): Buffer {
    return this.current.bytes;
  }

  /** Whether the writes run on the worker thread now. */
  get writingOnThread(): boolean {
    return this.onThread;
  }

  /** How many times auto mode has moved the writes. */
  get modeSwitches(): number {
    return this.switches;
  }

  /** The ring of one mode, made on first use. */
  private ringFor(thread: boolean): Ring {
    if (!thread) {
      // Shared only with a thread: V8 copies into shared memory by a slower path (twice the time of the write it saves).
      if (this.loopRing === null) {
        const buffer = new ArrayBuffer(this.ringBytes);
        this.loopRing = { buffer, bytes: Buffer.from(buffer), wordCopy: undefined };
      }
      return this.loopRing;
    }
    if (this.threadRing === null) {
      const buffer = new SharedArrayBuffer(this.ringBytes);
      const staging = new ArrayBuffer(this.maxBytes + 8);
      this.threadRing = {
        buffer,
        bytes: Buffer.from(buffer),
        wordCopy: {
          staging: Buffer.from(staging),
          stagingWords: new Float64Array(staging),
          ringWords: new Float64Array(buffer),
        },
      };
    }
    return this.threadRing;
  }

  /** The largest batch that goes through the ring; a larger one is written in place (`writeInPlace`). */
  get maxBytes(): number {
    return this.ringBytes >>> 2;
  }

  /** The last descriptor submitted (0 before any). */
  get lastSubmitted(): number {
    return this.submitted;
  }

  /** Where descriptor `seq`'s bytes sit in the ring (valid until it is done). */
  ringOffset(seq: number): number {
    return this.descriptors[(seq & this.mask) * DESCRIPTOR_FIELDS + D_RING]!;
  }

  /** Descriptor `seq`'s length in bytes (valid until it is done). */
  lengthOf(seq: number): number {
    return this.descriptors[(seq & this.mask) * DESCRIPTOR_FIELDS + D_LENGTH]!;
  }

  /** Whether descriptor `seq` (and every one before it) is done. Looks at the worker's progress. */
  isWritten(seq: number): boolean {
    if (seq <= this.completed) return true;
    this.poll();
    return seq <= this.completed;
  }

  /** Descriptors seen done so far: a response built now has seen every failure up to here. */
  get completedCount(): number {
    return this.completed;
  }

  /**
   * Whether a write in (`after`, `upTo`] failed: a response that waited for `upTo`, built when `after`
   * writes were done, may acknowledge bytes that are not in the file (a later one was built after the
   * failure took the directory offline, and says so).
   */
  failedBetween(after: number, upTo: number): boolean {
    for (let i = this.failed.length - 1; i >= 0; i--) {
      const f = this.failed[i]!;
      if (f <= after) return false;
      if (f <= upTo) return true;
    }
    return false;
  }

  /**
   * Whether `bytes` more may go through the ring to `owner`'s file system: free space beyond the
   * margin, looked at with statfs once the budget from the last look is spent.
   */
  hasRoomFor(owner: WriteOwner, bytes: number): boolean {
    let s = this.space.get(owner.dev);
    if (s === undefined) {
      s = { budget: 0, checkedAt: Number.NEGATIVE_INFINITY };
      this.space.set(owner.dev, s);
    }
    if (s.budget < bytes) {
      const now = Date.now();
      if (now - s.checkedAt < FREE_SPACE_RECHECK_MS) return false;
      s.checkedAt = now;
      try {
        const st = fs.statfsSync(owner.dir);
        s.budget = st.bavail * st.bsize - FREE_SPACE_MARGIN_RINGS * this.ringBytes;
      } catch {
        s.budget = 0; // cannot tell: write in place, where an error is the caller's
      }
      if (s.budget < bytes) return false;
    }
    s.budget -= bytes;
    return true;
  }

  /**
   * Copies `data` into the ring and hands it to the worker for `owner`'s file `fd` (opened O_APPEND:
   * it lands after the owner's earlier writes). Waits on the loop when the ring is full (the disk's
   * backpressure). Returns the descriptor's number for `waitFor`/`whenWritten`.
   */
  submit(owner: WriteOwner, fd: number, position: number, data: Buffer): number {
    if (this.stopped) throw new Error('the segment writer is closed');
    const len = data.length;
    if (len > this.maxBytes) throw new Error(`a ${len}-byte write exceeds the writer's ${this.maxBytes}`);
    this.poll();
    let start: number;
    let skip: number;
    let words: Ring['wordCopy'];
    let span: number;
    // Where the bytes go is worked out after every poll: one that finds nothing outstanding moves the
    // ring back to its start (a place computed before it would be outside the ring's accounting), and
    // may move the writes (auto mode) to the other ring.
    for (;;) {
      words = this.current.wordCopy;
      span = words ? (len + 7) & ~7 : len; // copied as whole 64-bit words (below)
      start = this.ringHead % this.ringBytes;
      skip = 0;
      if (start + span > this.ringBytes) {
        skip = this.ringBytes - start; // never wrap a batch: start it at the ring's beginning
        start = 0;
      }
      if (
        this.ringHead + skip + span - this.ringTail <= this.ringBytes &&
        this.submitted - this.completed < this.slots
      )
        break;
      this.waitFor(this.completed + 1);
    }
    this.ensureWorker();
    if (words) {
      // Buffer.copy into shared memory takes V8's slow path (5.6 µs for 10 KiB here, 0.34 into plain
      // memory); whole 64-bit words between aligned arrays of one type go as words, bit for bit (no
      // conversion, so no NaN is rewritten): a memcpy into the aligned staging buffer, then 1.6 µs.
      data.copy(words.staging, 0);
      words.ringWords.set(words.stagingWords.subarray(0, span >>> 3), start >>> 3);
    } else data.copy(this.current.bytes, start);
    this.ringHead += skip + span;
    const seq = this.submitted + 1;
    const slot = seq & this.mask;
    const d = slot * DESCRIPTOR_FIELDS;
    this.descriptors[d + D_FD] = fd;
    this.descriptors[d + D_OWNER] = this.ownerId(owner);
    this.descriptors[d + D_RING] = start;
    this.descriptors[d + D_LENGTH] = len;
    this.descriptors[d + D_POSITION] = position;
    this.ringEnd[slot] = this.ringHead;
    this.owners[slot] = owner;
    this.submitted = seq;
    this.windowBytes += len;
    // Only the thread's work is published: while the loop writes (auto mode), the worker sees none.
    if (this.onThread) Atomics.store(this.control, SUBMITTED, seq | 0);
    // Wake a sleeping worker once for the tick's batches (a pipelined client's frames come several to a
    // read), not once each: a futex wake per batch cost the loop more than the write(2) it saves.
    this.unkickedBytes += len;
    if (this.unkickedBytes >= KICK_BYTES) this.kick();
    else if (!this.kickScheduled) {
      this.kickScheduled = true;
      // On the loop: after the poll phase, so the batches of every connection read in it share the writes
      // (measured with 6 connections: +10-25 % produce, -10-20 % CPU per GB against a nextTick).
      if (this.onThread) process.nextTick(this.kick);
      else setImmediate(this.kick);
    }
    return seq;
  }

  /** Blocks the calling thread until descriptor `seq` is done (a truncation, fsync or close needs its file as written). */
  waitFor(seq: number): void {
    if (!this.onThread) {
      this.writeOnLoop(true);
      return;
    }
    this.kick();
    const deadline = Date.now() + STALL_MS;
    while (!this.isWritten(seq)) {
      const seen = Atomics.load(this.control, COMPLETED);
      if ((seen - (this.completed | 0)) | 0) continue; // progress since poll: take it
      if (Date.now() > deadline) throw new Error(`segment writer made no progress for ${STALL_MS} ms`);
      Atomics.wait(this.control, COMPLETED, seen, 1000);
    }
  }

  /**
   * Calls `done` once descriptor `seq` is done: at once when it is, else from the loop when the worker
   * says so (whether a write failed is failedBetween's question); `done` gets an error only when the
   * writer closed first.
   * A wait for an earlier write than the last waiter's waits for that one too (the list stays sorted).
   */
  whenWritten(seq: number, done: (err: Error | null) => void): void {
    if (this.isWritten(seq)) {
      done(null);
      return;
    }
    const last = this.waiters.length > this.waiterHead ? this.waiters[this.waiters.length - 1]!.seq : 0;
    this.waiters.push({ seq: Math.max(seq, last), done });
    if (this.waiters.length - this.waiterHead === 1) this.armWake();
  }

  /** Takes the worker's progress: gives each finished descriptor back to its owner and frees its ring bytes. */
  poll(): void {
    if (this.polling) return; // a callback below that looks again finds it all taken
    this.polling = true;
    try {
      // Until no more progress: a callback below may have had writes done (a waitFor on the loop).
      for (;;) {
        const delta = (Atomics.load(this.control, COMPLETED) - (this.completed | 0)) | 0;
        if (delta <= 0) break;
        const until = this.completed + delta;
        while (this.completed < until) {
          const seq = this.completed + 1;
          const slot = seq & this.mask;
          const owner = this.owners[slot]!;
          this.owners[slot] = null;
          const errno = this.status[slot]!;
          this.ringTail = this.ringEnd[slot]!;
          this.completed = seq;
          const length = this.descriptors[slot * DESCRIPTOR_FIELDS + D_LENGTH]!;
          if (errno === 0) {
            owner.onWritten(length, null);
            continue;
          }
          const err = new SegmentWriteError(errno);
          if (this.failed.push(seq) > 64) this.failed.shift();
          const first = owner.onWritten(length, err);
          const listener = this.onWriteFailed;
          if (first && listener) queueMicrotask(() => listener(owner, err));
        }
      }
      // Nothing outstanding: the next batch goes at the ring's start, so a light load touches only
      // its first pages (resident memory) rather than cycling through all of it.
      if (this.completed === this.submitted) {
        this.ringHead = this.ringTail = 0;
        if (this.canSwitch && Atomics.load(this.control, PAUSED) === 0) this.maybeSwitch();
      }
      if (this.waiterHead < this.waiters.length) this.wakeWaiters();
    } finally {
      this.polling = false;
    }
  }

  /**
   * Tests: while paused the worker writes nothing, so appended bytes stay in the ring and responses
   * wait (a `waitFor` meanwhile blocks until resumed or its stall bound).
   */
  setPaused(paused: boolean): void {
    Atomics.store(this.control, PAUSED, paused ? 1 : 0);
    Atomics.notify(this.control, PAUSED);
    if (!paused && !this.onThread) setImmediate(this.kick); // what waited is written at the turn's end
  }

  /** Waits for every write, then stops the worker. */
  async close(): Promise<void> {
    if (this.stopped) return this.exited ?? undefined;
    this.waitFor(this.submitted);
    this.stopped = true;
    this.failPendingWaiters();
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, SUBMITTED);
    await this.exited;
  }

  /** Wakes the worker if it sleeps (sequentially consistent: one that sets SLEEPING after this read sees the new count in its wait). */
  private readonly kick = (): void => {
    this.kickScheduled = false;
    this.unkickedBytes = 0;
    if (!this.onThread) this.writeOnLoop(false);
    else if (Atomics.load(this.control, SLEEPING) === 1) Atomics.notify(this.control, SUBMITTED, 1);
  };

  /** Without a thread: writes every submitted descriptor now (unless paused, when not `force`d), then takes them. */
  private writeOnLoop(force: boolean): void {
    if (this.stopped) return;
    const done = Atomics.load(this.control, COMPLETED);
    const submitted = this.submitted | 0;
    if (done !== submitted && (force || Atomics.load(this.control, PAUSED) === 0)) {
      const t0 = this.canSwitch ? this.now() : 0;
      writePending(
        fs,
        LAYOUT,
        this.descriptors,
        this.status,
        this.ring,
        this.mask,
        this.failedOwners,
        done,
        submitted,
      );
      if (this.canSwitch) this.windowWriteMs += this.now() - t0;
      Atomics.store(this.control, COMPLETED, submitted);
    }
    this.poll();
  }

  /**
   * Auto mode, with nothing outstanding (so no byte the segments read is in the ring, and the worker has
   * nothing to write): at the end of a window, moves the writes where nextWriteMode says.
   */
  private maybeSwitch(): void {
    const now = this.now();
    const wallMs = now - this.windowStart;
    if (wallMs < this.auto.windowMs) return;
    let window: WriteWindow;
    if (this.onThread) {
      const bytes = this.stats[STAT_BYTES]!;
      const ms = this.stats[STAT_MS]!;
      window = { wallMs, writeMs: ms - this.windowStatMs, bytes: bytes - this.windowStatBytes };
    } else window = { wallMs, writeMs: this.windowWriteMs, bytes: this.windowBytes };
    this.windowStart = now;
    this.windowWriteMs = 0;
    this.windowBytes = 0;
    this.windowStatBytes = this.stats[STAT_BYTES]!;
    this.windowStatMs = this.stats[STAT_MS]!;
    // After a failed write the two sides' records of failed segments differ: the writes stay where they are.
    const next =
      this.failed.length > 0
        ? this.onThread
        : nextWriteMode(this.onThread ? 'thread' : 'loop', window, this.auto) === 'thread';
    if (next === this.onThread) return;
    this.onThread = next;
    this.current = this.ringFor(next);
    this.switches++;
    // The worker starts from here: SUBMITTED catches up with COMPLETED (both the loop's count now).
    if (next) Atomics.store(this.control, SUBMITTED, this.submitted | 0);
    this.onModeChange?.(next, window);
  }

  private ownerId(owner: WriteOwner): number {
    let id = this.ownerIds.get(owner);
    if (id === undefined) {
      id = this.nextOwnerId++;
      this.ownerIds.set(owner, id);
    }
    return id;
  }

  private ensureWorker(): void {
    if (this.worker || !this.onThread) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'segment-writer',
      workerData: {
        control: this.control.buffer,
        descriptors: this.descriptors.buffer,
        status: this.status.buffer,
        stats: this.stats.buffer,
        ring: this.ringFor(true).buffer,
        slots: this.slots,
      },
      // A thread that only writes: small heaps (its JavaScript allocates a few arrays a batch).
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    worker.unref();
    worker.on('message', () => this.poll());
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('error', () => {
      // Its loop does not throw; an error here is the thread failing to start. Nothing written from now
      // on: the waiters hear it and `waitFor` stops at its stall bound.
      this.failPendingWaiters();
    });
    this.worker = worker;
  }

  /**
   * Asks the worker to post a message after its next completions. A completion that came between the
   * last poll and the flag would post nothing: it is taken on the next microtask instead.
   */
  private armWake(): void {
    Atomics.store(this.control, WANT_WAKE, 1);
    if ((Atomics.load(this.control, COMPLETED) - (this.completed | 0)) | 0) queueMicrotask(() => this.poll());
  }

  private wakeWaiters(): void {
    while (this.waiterHead < this.waiters.length) {
      const w = this.waiters[this.waiterHead]!;
      if (w.seq > this.completed) break;
      this.waiterHead++;
      w.done(null);
    }
    if (this.waiterHead === this.waiters.length) {
      this.waiters.length = 0;
      this.waiterHead = 0;
      return;
    }
    if (this.waiterHead > 1024) {
      this.waiters.splice(0, this.waiterHead);
      this.waiterHead = 0;
    }
    this.armWake();
  }

  private failPendingWaiters(): void {
    const pending = this.waiters.splice(this.waiterHead);
    this.waiters.length = 0;
    this.waiterHead = 0;
    for (const w of pending) w.done(new Error('the segment writer closed before the write was done'));
  }
}
