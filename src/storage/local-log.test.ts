import fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { lastOffset, readMaxTimestamp, setBaseOffset } from '../protocol/record-batch.js';
import { LocalLog } from './local-log.js';
import { LogSegments } from './log-segments.js';
import { LogSegment } from './segment.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

function localLog(dir: string, over = {}, clock = new ManualClock()): LocalLog {
  const segments = new LogSegments();
  segments.add(LogSegment.open(dir, 0, clock.now()));
  return new LocalLog(dir, 't-0', testConfig(over), clock, segments, 0, 0);
}

/** Appends a batch of n records at the log end offset. */
function append(log: LocalLog, n: number): void {
  const b = batch(n);
  setBaseOffset(b, 0, log.logEndOffset);
  log.append(b, lastOffset(b, 0), readMaxTimestamp(b, 0));
}

describe('LocalLog', () => {
  it('appends to the active segment and rolls a new one at the log end offset', async () => {
    const log = localLog(tmpDir());
    expect(log.roll()).toBeNull(); // the active segment is already an empty one there
    append(log, 3);
    expect(log.logEndOffset).toBe(3);
    const fsyncSync = vi.spyOn(fs, 'fsyncSync');
    try {
      expect(log.roll()!.baseOffset).toBe(3);
      // The rolled segment is fsynced in libuv's thread pool, not on the event loop; the recovery
      // point moves once that is done.
      expect(fsyncSync).not.toHaveBeenCalled();
      expect(log.recoveryPoint).toBe(0);
      await vi.waitFor(() => expect(log.recoveryPoint).toBe(3));
      expect(fsyncSync).not.toHaveBeenCalled();
    } finally {
      fsyncSync.mockRestore();
    }
    append(log, 2);
    expect(log.segments.baseOffsets()).toEqual([0, 3]);
    const records = log.read(1, 1 << 20, false, 5)!;
    expect(records.length).toBeGreaterThan(0);
    expect(log.read(5, 1 << 20, false, 5)).toBeNull();
  });

  it('a producer snapshot that cannot be written fails the roll after it is done; the rolled segment is still fsynced', async () => {
    const log = localLog(tmpDir());
    append(log, 3);
    expect(() =>
      log.roll(() => {
        throw new Error('EIO: injected');
      }),
    ).toThrow('EIO: injected');
    expect(log.segments.baseOffsets()).toEqual([0, 3]);
    append(log, 1); // into the new segment
    expect(log.segments.activeSegment.baseOffset).toBe(3);
    await vi.waitFor(() => expect(log.recoveryPoint).toBe(3));
  });

  it('a flush before the background fsync of a rolled segment is done fsyncs that segment too', () => {
    const log = localLog(tmpDir());
    append(log, 3);
    log.roll();
    append(log, 2);
    log.roll();
    append(log, 1);
    const fsyncSync = vi.spyOn(fs, 'fsyncSync');
    try {
      log.flush(); // in the same turn: neither background fsync has run
      const synced = new Set(fsyncSync.mock.calls.map(([fd]) => fd));
      // Both rolled .log files and the active one.
      const fdOf = (seg: LogSegment) => (seg as unknown as { fd: number }).fd;
      for (const seg of log.segments) expect(synced).toContain(fdOf(seg));
    } finally {
      fsyncSync.mockRestore();
    }
    expect(log.recoveryPoint).toBe(6);
  });

  it('truncating drops segments from the target on and moves the recovery point back', () => {
    const log = localLog(tmpDir());
    append(log, 3);
    log.roll();
    append(log, 3);
    log.roll();
    append(log, 3);
    log.flush();
    expect(log.recoveryPoint).toBe(9);
    expect(log.truncateTo(3)).toBe(3);
    expect(log.segments.baseOffsets()).toEqual([0]);
    expect(log.recoveryPoint).toBe(3);
  });

  it('keeps a removed segment as .deleted until file.delete.delay.ms, or close', () => {
    const dir = tmpDir();
    const log = localLog(dir, { fileDeleteDelayMs: 60_000 });
    append(log, 3);
    log.roll();
    const [old] = log.removeOldestSegments(1);
    log.deleteSegmentFiles(old!);
    expect(log.segments.baseOffsets()).toEqual([3]);
    expect(
      fs
        .readdirSync(dir)
        .filter((f) => f.startsWith('00000000000000000000'))
        .sort(),
    ).toEqual([
      '00000000000000000000.index.deleted',
      '00000000000000000000.log.deleted',
      '00000000000000000000.timeindex.deleted',
    ]);
    log.close();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.deleted'))).toEqual([]);
    expect(log.isClosed).toBe(true);
  });

  it('flushes by time once unflushed data is flush.ms old', () => {
    const clock = new ManualClock();
    const log = localLog(tmpDir(), { flushMs: 1000 }, clock);
    append(log, 1);
    clock.t += 999;
    log.maybeFlushByTime();
    expect(log.recoveryPoint).toBe(0);
    clock.t += 1;
    log.maybeFlushByTime();
    expect(log.recoveryPoint).toBe(1);
  });
});
