import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { iterateBatches, setBaseOffset } from '../protocol/record-batch.js';
import { LogSegment } from './segment.js';
import {
  type AutoThresholds,
  DEFAULT_AUTO,
  nextWriteMode,
  SegmentWriteError,
  SegmentWriter,
} from './segment-writer.js';
import { batch, tmpDir } from './test-helpers.js';

const writers: SegmentWriter[] = [];
// Each case runs with the writes on the writer's thread and on the loop at the end of its turn.
let onThread = true;
const newWriter = (ringBytes?: number, slots?: number) => {
  const w = new SegmentWriter(ringBytes, slots, onThread ? 'thread' : 'loop');
  writers.push(w);
  return w;
};
afterEach(async () => {
  for (const w of writers.splice(0)) {
    w.setPaused(false);
    await w.close();
  }
});

/** An owner that records what the writer reports. */
const recorder = (dir = tmpDir()) => {
  const seen: { bytes: number; error: string | null }[] = [];
  return {
    dir,
    dev: fs.statSync(dir).dev,
    seen,
    onWritten: (bytes: number, error: Error | null) =>
      seen.push({ bytes, error: error?.message ?? null }) === 1 && error !== null,
  };
};

const modes = [
  ['on its thread', true],
  ['on the loop at the end of its turn', false],
] as const;

describe.each(modes)('SegmentWriter writing %s', (_, thread) => {
  beforeEach(() => {
    onThread = thread;
  });

  it('writes every submitted buffer in order, through a ring that wraps and fills many times', () => {
    const dir = tmpDir();
    const files = [0, 1].map((i) => path.join(dir, `f${i}`));
    const fds = files.map((f) => fs.openSync(f, 'a+'));
    const w = newWriter(64 * 1024, 16); // 16 KiB max: 3,000 writes wrap the ring and the slots again and again
    const owners = [recorder(), recorder()];
    const expected: Buffer[][] = [[], []];
    let last = 0;
    for (let i = 0; i < 3000; i++) {
      const which = i % 7 === 0 ? 1 : 0;
      const data = Buffer.alloc(1 + ((i * 977) % 16000), i & 0xff);
      expected[which]!.push(data);
      last = w.submit(owners[which]!, fds[which]!, 0, data);
    }
    w.waitFor(last);
    expect(w.isWritten(last)).toBe(true);
    for (const i of [0, 1]) {
      expect(fs.readFileSync(files[i]!).equals(Buffer.concat(expected[i]!))).toBe(true);
      expect(owners[i]!.seen.map((s) => s.bytes)).toEqual(expected[i]!.map((b) => b.length));
      expect(owners[i]!.seen.every((s) => s.error === null)).toBe(true);
      fs.closeSync(fds[i]!);
    }
  });

  it('arbitrary bytes of any length reach the file unchanged (every 64-bit pattern, NaNs among them)', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'f');
    const fd = fs.openSync(file, 'a+');
    const w = newWriter(64 * 1024, 16);
    const owner = recorder();
    // Signalling and quiet NaNs with payloads, negative zero, infinities: what a copy through doubles would rewrite.
    const nans = Buffer.from(
      '7ff00000000000017ff80000deadbeeffff00000000000018000000000000000fff0000000000000',
      'hex',
    );
    const expected: Buffer[] = [];
    let last = 0;
    for (let i = 0; i < 200; i++) {
      const data = Buffer.concat([randomBytes(i * 37), nans.subarray(i % 8)]);
      expected.push(data);
      last = w.submit(owner, fd, 0, data);
      if (i % 5 === 0)
        expect(w.ring.subarray(w.ringOffset(last), w.ringOffset(last) + data.length)).toEqual(data);
    }
    w.waitFor(last);
    expect(fs.readFileSync(file).equals(Buffer.concat(expected))).toBe(true);
    fs.closeSync(fd);
  });

  it("a write done behind the loop's back (not yet polled) does not move the place of the next one", () => {
    const dir = tmpDir();
    const file = path.join(dir, 'f');
    const fd = fs.openSync(file, 'a+');
    const w = newWriter();
    const owner = recorder();
    w.submit(owner, fd, 0, Buffer.alloc(10, 1));
    // The thread writes it while the loop looks elsewhere (blocked here, so nothing polls).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    w.setPaused(true);
    const b = Buffer.alloc(100, 2);
    const c = Buffer.alloc(100, 3);
    w.submit(owner, fd, 10, b);
    const last = w.submit(owner, fd, 110, c);
    w.setPaused(false);
    w.waitFor(last);
    expect(fs.readFileSync(file).equals(Buffer.concat([Buffer.alloc(10, 1), b, c]))).toBe(true);
    fs.closeSync(fd);
  });

  it('whenWritten calls back from the loop once the write is done; an earlier wait behind a later one waits for it', async () => {
    const dir = tmpDir();
    const fd = fs.openSync(path.join(dir, 'f'), 'a+');
    const w = newWriter();
    w.setPaused(true);
    const owner = recorder();
    const first = w.submit(owner, fd, 0, Buffer.from('one'));
    const second = w.submit(owner, fd, 3, Buffer.from('two'));
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      w.whenWritten(second, (err) => order.push(`second ${err}`));
      w.whenWritten(first, (err) => {
        order.push(`first ${err}`);
        resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual([]); // paused: nothing written, nothing called
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('');
    w.setPaused(false);
    await done;
    expect(order).toEqual(['second null', 'first null']);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('onetwo');
    fs.closeSync(fd);
  });

  it("a failed write is reported to its owner and the failure listener; the owner's later writes are not appended after the hole", async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'ro');
    fs.writeFileSync(file, '');
    const readOnly = fs.openSync(file, 'r');
    const w = newWriter();
    const failures: string[] = [];
    w.onWriteFailed = (owner, err) => failures.push(`${owner.dir}: ${err.message}`);
    const owner = recorder(dir);
    const ok = recorder();
    const okFd = fs.openSync(path.join(ok.dir, 'ok'), 'a+');
    const before = w.submit(ok, okFd, 0, Buffer.from('fine'));
    w.waitFor(before);
    const a = w.submit(owner, readOnly, 0, Buffer.from('a'));
    w.waitFor(a); // apart: one writev would have failed both with the same error
    const b = w.submit(owner, readOnly, 1, Buffer.from('b'));
    await new Promise<Error | null>((resolve) => w.whenWritten(b, resolve));
    expect(owner.seen).toEqual([
      { bytes: 1, error: expect.stringMatching(/^EBADF/) },
      { bytes: 1, error: expect.stringMatching(/^EIO/) },
    ]);
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    expect(failures).toEqual([`${dir}: ${owner.seen[0]!.error}`]); // once per owner
    // A response built before the failure was seen waits for it and must not go; one built after may.
    expect(w.failedBetween(before, b)).toBe(true);
    expect(w.failedBetween(0, before)).toBe(false);
    expect(w.failedBetween(b, b + 5)).toBe(false);
    const err = new SegmentWriteError(-28);
    expect([err.message, (err as NodeJS.ErrnoException).code]).toEqual([
      'ENOSPC: background write of a log segment failed',
      'ENOSPC',
    ]);
    fs.closeSync(readOnly);
    fs.closeSync(okFd);
  });

  it('lets writes through the ring only while their file system has room to spare', () => {
    const w = newWriter(64 * 1024, 16);
    const owner = recorder();
    expect(w.hasRoomFor(owner, 1024)).toBe(true); // a test machine has more than 128 KiB free
    const st = fs.statfsSync(owner.dir);
    const free = st.bavail * st.bsize;
    // More than the free space minus the margin: refused (the segment then writes in place).
    const big = newWriter(2 ** 30, 16);
    expect(big.hasRoomFor(owner, free)).toBe(false);
  });

  it('refuses a write bigger than a quarter of its ring (the segment writes those in place)', () => {
    const w = newWriter(64 * 1024, 16);
    expect(() => w.submit(recorder(), 0, 0, Buffer.alloc(16 * 1024 + 1))).toThrow(/exceeds/);
  });
});

describe.each(modes)('LogSegment with a SegmentWriter writing %s', (_, thread) => {
  beforeEach(() => {
    onThread = thread;
  });

  it('reads, scans and indexes appended batches while they are still only in the ring', () => {
    const dir = tmpDir();
    const w = newWriter();
    const seg = LogSegment.open(dir, 0, 0);
    w.setPaused(true);
    const sizes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const b = batch(5, 1_000 + i, 50);
      setBaseOffset(b, 0, i * 5);
      sizes.push(b.length);
      seg.append(b, i * 5 + 4, 1_000 + i + 4, 256, w);
    }
    expect(fs.statSync(seg.logFile).size).toBe(0); // nothing in the file yet
    expect(seg.lastPendingWrite).toBeGreaterThan(0);
    expect(seg.nextOffset()).toBe(100);
    expect(seg.translateOffset(42)!.baseOffset).toBe(40);
    expect(seg.findBatchByTimestamp(1_010, 0)!.baseOffset).toBe(30);
    const read = seg.read(37, 1 << 20, true)!;
    expect([...iterateBatches(read)].map((b) => b.baseOffset)).toEqual([
      35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95,
    ]);
    w.setPaused(false);
    seg.settleWrites();
    expect(seg.lastPendingWrite).toBe(0);
    expect(fs.statSync(seg.logFile).size).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(seg.read(37, 1 << 20, true)!.equals(read)).toBe(true);
    seg.close();
  });

  it('a truncation, an fsync and a close wait for the writes first', async () => {
    const dir = tmpDir();
    const w = newWriter();
    const seg = LogSegment.open(dir, 0, 0);
    for (let i = 0; i < 50; i++) {
      const b = batch(2, 1_000, 100);
      setBaseOffset(b, 0, i * 2);
      seg.append(b, i * 2 + 1, 1_000, 4096, w);
    }
    const full = seg.size;
    await seg.flushInBackground();
    expect(fs.statSync(seg.logFile).size).toBe(full);
    const removed = seg.truncateTo(60);
    expect(fs.statSync(seg.logFile).size).toBe(full - removed);
    expect(seg.nextOffset()).toBe(60);
    const b = batch(2, 1_000, 100);
    setBaseOffset(b, 0, 60);
    seg.append(b, 61, 1_000, 4096, w);
    seg.close();
    const reopened = LogSegment.open(dir, 0, 0);
    expect(reopened.recover(4096).truncatedBytes).toBe(0);
    expect(reopened.nextOffset()).toBe(62);
    reopened.close();
  });

  it('a failed background write fails the segment: later appends and fsyncs throw', async () => {
    const dir = tmpDir();
    const w = newWriter();
    const seg = LogSegment.open(dir, 0, 0);
    // The writer gets a descriptor it cannot write to (the segment's own fd swapped for a read-only one).
    const ro = fs.openSync(seg.logFile, 'r');
    const fdField = seg as unknown as { fd: number };
    const own = fdField.fd;
    fdField.fd = ro;
    const b = batch(1);
    setBaseOffset(b, 0, 0);
    seg.append(b, 0, 1_000, 4096, w);
    fdField.fd = own;
    seg.settleWrites();
    const next = batch(1);
    setBaseOffset(next, 0, 1);
    expect(() => seg.append(next, 1, 1_000, 4096, w)).toThrow(/EBADF/);
    expect(() => seg.flush()).toThrow(/EBADF/);
    await expect(seg.flushInBackground()).rejects.toThrow(/EBADF/);
    fs.closeSync(ro);
    seg.close();
  });
});

describe('SegmentWriter on the loop', () => {
  beforeEach(() => {
    onThread = false;
  });

  it('writes what one turn of the loop appended at its end, one writev per file; a waitFor writes at once', async () => {
    const dir = tmpDir();
    const files = ['a', 'b'].map((f) => path.join(dir, f));
    const fds = files.map((f) => fs.openSync(f, 'a+'));
    const owners = [recorder(), recorder()];
    const w = newWriter();
    const writev = vi.spyOn(fs, 'writevSync');
    try {
      let last = 0;
      for (let i = 0; i < 10; i++) last = w.submit(owners[i % 2]!, fds[i % 2]!, 0, Buffer.from(`${i}`));
      expect(files.map((f) => fs.readFileSync(f, 'utf8'))).toEqual(['', '']); // not yet: the turn goes on
      expect(w.isWritten(last)).toBe(false);
      const called = new Promise<Error | null>((resolve) => w.whenWritten(last, resolve));
      await new Promise((r) => setImmediate(r));
      expect(await called).toBe(null);
      expect(files.map((f) => fs.readFileSync(f, 'utf8'))).toEqual(['02468', '13579']);
      expect(writev).toHaveBeenCalledTimes(2);
      expect(owners.map((o) => o.seen.length)).toEqual([5, 5]);
      // A truncation or an fsync cannot wait for the end of the turn: waitFor writes now.
      const more = w.submit(owners[0]!, fds[0]!, 5, Buffer.from('x'));
      w.waitFor(more);
      expect(fs.readFileSync(files[0]!, 'utf8')).toBe('02468x');
      expect(writev).toHaveBeenCalledTimes(3);
    } finally {
      writev.mockRestore();
      for (const fd of fds) fs.closeSync(fd);
    }
  });
});

describe('nextWriteMode (auto mode)', () => {
  const at = (writeMs: number, bytes: number, wallMs = 1000) => ({ wallMs, writeMs, bytes });

  it('moves the writes to the thread only when they take half the loop or more at 1.5 ns a byte or more', () => {
    expect(nextWriteMode('loop', at(600, 200e6))).toBe('thread'); // 60 %, 3 ns a byte: a page cache slow to grow
    expect(nextWriteMode('loop', at(600, 1e9))).toBe('loop'); // 60 % at 0.6 ns a byte: a warm page cache, the thread would cost more
    expect(nextWriteMode('loop', at(300, 100e6))).toBe('loop'); // 3 ns a byte, but 30 %: the loop is not held
    expect(nextWriteMode('loop', at(0, 0))).toBe('loop');
    expect(nextWriteMode('loop', at(0, 0, 0))).toBe('loop');
  });

  it('brings them back when the thread spends under a fifth of its time on them or writes at under 0.75 ns a byte', () => {
    expect(nextWriteMode('thread', at(800, 250e6))).toBe('thread');
    expect(nextWriteMode('thread', at(400, 130e6))).toBe('thread'); // between the two ways: stays (hysteresis)
    expect(nextWriteMode('thread', at(150, 50e6))).toBe('loop'); // the load is gone
    expect(nextWriteMode('thread', at(500, 1e9))).toBe('loop'); // the page cache is warm again
    expect(nextWriteMode('thread', at(0, 0, 0))).toBe('thread');
  });
});

describe('SegmentWriter in auto mode', () => {
  // A clock the test moves, and thresholds that flip the writes at the end of every window.
  const flipEveryWindow: AutoThresholds = {
    windowMs: 10,
    toThreadShare: 0,
    toThreadNsPerByte: 0,
    toLoopShare: Number.POSITIVE_INFINITY,
    toLoopNsPerByte: 0,
  };

  it('moves the writes between the loop and the thread with every byte reaching its file once, in order, and readable from the ring meanwhile', async () => {
    let t = 0;
    const w = new SegmentWriter(64 * 1024, 16, 'auto', { now: () => t, auto: flipEveryWindow, cores: 2 });
    writers.push(w);
    const moves: boolean[] = [];
    w.onModeChange = (onThread) => moves.push(onThread);
    const dir = tmpDir();
    const files = [0, 1].map((i) => path.join(dir, `f${i}`));
    const fds = files.map((f) => fs.openSync(f, 'a+'));
    const owners = [recorder(), recorder()];
    const expected: Buffer[][] = [[], []];
    try {
      for (let round = 0; round < 8; round++) {
        expect(w.writingOnThread).toBe(round % 2 === 1);
        let last = 0;
        for (let i = 0; i < 50; i++) {
          const which = (round + i) % 3 === 0 ? 1 : 0;
          const data = randomBytes(1 + (((round * 50 + i) * 613) % 9000));
          expected[which]!.push(data);
          last = w.submit(owners[which]!, fds[which]!, 0, data);
          // Unwritten bytes are read from the ring of the mode they were submitted in.
          if (!w.isWritten(last))
            expect(w.ring.subarray(w.ringOffset(last), w.ringOffset(last) + data.length).equals(data)).toBe(
              true,
            );
        }
        // Back on the loop with the worker alive: it wakes on its own (a 1 s timeout) while the loop's
        // writes wait for the turn's end, and must find nothing to write.
        if (round === 2) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1200);
        t += 10; // the window ends: the next look with nothing outstanding moves the writes
        await new Promise<void>((resolve, reject) => w.whenWritten(last, (e) => (e ? reject(e) : resolve())));
        w.poll();
      }
      expect(moves).toEqual([true, false, true, false, true, false, true, false]);
      expect(w.modeSwitches).toBe(8);
      for (const i of [0, 1]) {
        expect(fs.readFileSync(files[i]!).equals(Buffer.concat(expected[i]!))).toBe(true);
        expect(owners[i]!.seen.map((s) => s.bytes)).toEqual(expected[i]!.map((b) => b.length));
      }
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  });

  it('stays on the loop while the writes are cheap, and on one core whatever they cost', () => {
    const dir = tmpDir();
    const fd = fs.openSync(path.join(dir, 'f'), 'a+');
    // Clocks that move a set time at each look: every write seems to take that long, in windows of 10 ms.
    const ticking = (ms: number) => {
      let t = 0;
      return () => (t += ms);
    };
    // (The clock moves at the writer's own looks too: a write's share of a window is a quarter here.)
    const auto = { ...DEFAULT_AUTO, windowMs: 10, toThreadShare: 0.2 };
    const slow = (cores: number) =>
      new SegmentWriter(64 * 1024, 16, 'auto', { now: ticking(2.5), auto, cores });
    // 2.5 ms for 100 bytes holds the loop: moved with two cores, not with one.
    const oneCore = slow(1);
    const twoCores = slow(2);
    // 1 µs for 8 KiB (0.12 ns a byte): a warm page cache, the loop keeps them however busy it is.
    const cheap = new SegmentWriter(64 * 1024, 16, 'auto', {
      now: ticking(0.001),
      auto: { ...auto, windowMs: 0.01 },
      cores: 2,
    });
    writers.push(oneCore, twoCores, cheap);
    const twoMoves: boolean[] = [];
    twoCores.onModeChange = (onThread) => twoMoves.push(onThread);
    try {
      for (let i = 0; i < 20; i++) {
        for (const w of [oneCore, twoCores]) w.waitFor(w.submit(recorder(dir), fd, 0, Buffer.alloc(100)));
        cheap.waitFor(cheap.submit(recorder(dir), fd, 0, Buffer.alloc(8192)));
      }
      expect([oneCore.writingOnThread, oneCore.modeSwitches]).toEqual([false, 0]);
      // Moved to the thread at the first window's end (and back and forth after: its own writes, timed by
      // the real clock, are cheap).
      expect(twoMoves[0]).toBe(true);
      expect(twoCores.modeSwitches).toBeGreaterThan(0);
      expect([cheap.writingOnThread, cheap.modeSwitches]).toEqual([false, 0]);
    } finally {
      fs.closeSync(fd);
    }
  });
});

/** The names of this process's threads (Linux: /proc/self/task/<tid>/comm). */
const threadNames = () =>
  fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim());

// Node 24 gave worker threads their `name` as the thread's own (top -H, perf); compat-tests/node-runtimes
// runs this file on Node 24 and 26.
const namesThreads = Number(process.versions.node.split('.')[0]) >= 24 && process.platform === 'linux';
it.runIf(namesThreads)(
  "the writer's thread is named segment-writer, as top -H and perf show it",
  async () => {
    onThread = true;
    const w = newWriter();
    const dir = tmpDir();
    const fd = fs.openSync(path.join(dir, 'f'), 'a');
    try {
      expect(threadNames()).not.toContain('segment-writer');
      w.waitFor(w.submit(recorder(dir), fd, 0, Buffer.from('x'))); // the first write starts the thread
      expect(threadNames()).toContain('segment-writer');
    } finally {
      await w.close();
      fs.closeSync(fd);
    }
  },
);
