import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { iterateBatches, readPartitionLeaderEpoch, verifyCrc } from '../protocol/record-batch.js';
import { Log, LogOffsetOutOfRangeError, type LogReadResult } from './log.js';
import { LogSegment } from './segment.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

const open = (dir: string, over = {}, clock = new ManualClock(), opts = {}) =>
  Log.open(dir, 't', 0, testConfig(over), clock, opts);

function batchesOf(records: Buffer | null) {
  return records === null ? [] : [...iterateBatches(records, { verifyCrc: true })];
}

function recordsOf(r: LogReadResult): Buffer | null {
  if ('error' in r) throw new Error(r.error);
  return r.records;
}

describe('Log roll', () => {
  it('writes the producer snapshot at the new segment without an fsync on the loop; the background flush fsyncs it before the recovery point moves', async () => {
    const dir = tmpDir();
    const log = open(dir);
    log.appendAsLeader(batch(3), 0);
    const fsyncSync = vi.spyOn(fs, 'fsyncSync');
    const opened: string[] = [];
    const realOpen = fs.promises.open;
    const openSpy = vi.spyOn(fs.promises, 'open').mockImplementation((file, ...rest) => {
      opened.push(String(file));
      return realOpen(file, ...rest);
    });
    try {
      log.roll();
      expect(fsyncSync).not.toHaveBeenCalled();
      const snapshot = path.join(dir, `${String(3).padStart(20, '0')}.snapshot`);
      expect(fs.existsSync(snapshot)).toBe(true);
      expect(log.recoveryPoint).toBe(0);
      await vi.waitFor(() => expect(log.recoveryPoint).toBe(3));
      expect(opened).toContain(snapshot);
      expect(fsyncSync).not.toHaveBeenCalled();
    } finally {
      fsyncSync.mockRestore();
      openSpy.mockRestore();
    }
    log.close();
  });

  it('a snapshot whose fsync fails keeps the recovery point where it was (the next flush moves it)', async () => {
    const dir = tmpDir();
    const log = open(dir);
    log.appendAsLeader(batch(3), 0);
    const realOpen = fs.promises.open;
    let failed = false;
    const openSpy = vi.spyOn(fs.promises, 'open').mockImplementation((file, ...rest) => {
      if (String(file).endsWith('.snapshot')) {
        failed = true;
        return Promise.reject(Object.assign(new Error('EIO: injected'), { code: 'EIO', syscall: 'open' }));
      }
      return realOpen(file, ...rest);
    });
    // Known when the rolled segment's own fsync is done, so that only the snapshot's can hold the point.
    let segmentSynced = false;
    const realFlush = LogSegment.prototype.flushInBackground;
    const flushSpy = vi.spyOn(LogSegment.prototype, 'flushInBackground').mockImplementation(function (
      this: LogSegment,
    ) {
      return realFlush.call(this).then(() => {
        segmentSynced = true;
      });
    });
    try {
      log.roll();
      await vi.waitFor(() => expect(failed && segmentSynced).toBe(true));
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      expect(log.recoveryPoint).toBe(0);
    } finally {
      openSpy.mockRestore();
      flushSpy.mockRestore();
    }
    log.flush();
    expect(log.recoveryPoint).toBe(3);
    log.close();
  });
});

describe('Log append/read', () => {
  it('assigns offsets, leader epoch, and reads whole batches back', () => {
    const dir = tmpDir();
    const log = open(dir);
    expect(log.appendAsLeader(batch(3), 5)).toEqual({
      baseOffset: 0,
      lastOffset: 2,
      logAppendTime: -1,
      logStartOffset: 0,
    });
    expect(log.appendAsLeader(batch(2), 5).baseOffset).toBe(3);
    expect(log.logEndOffset).toBe(5);
    const all = batchesOf(recordsOf(log.read(0, 1 << 20, false)));
    expect(all.map((b) => [b.baseOffset, b.lastOffset])).toEqual([
      [0, 2],
      [3, 4],
    ]);
    expect(all.every((b) => b.partitionLeaderEpoch === 5)).toBe(true);
    // offset inside the second batch returns that batch
    expect(batchesOf(recordsOf(log.read(4, 1 << 20, false)))[0]!.baseOffset).toBe(3);
    expect(recordsOf(log.read(5, 1 << 20, false))).toBeNull();
    expect(log.read(6, 100, false)).toEqual({ error: 'OFFSET_OUT_OF_RANGE' });
    expect(log.leaderEpochCache.epochEntries()).toEqual([{ epoch: 5, startOffset: 0 }]);
    log.close();
  });

  it('maxBytes smaller than the first batch returns exactly one whole batch with minOneBatch', () => {
    const log = open(tmpDir());
    const b = batch(10, 1000, 100);
    const size = b.length;
    log.appendAsLeader(b, 0);
    log.appendAsLeader(batch(1), 0);
    const one = recordsOf(log.read(0, 10, true))!;
    expect(one.length).toBe(size);
    expect(verifyCrc(one, 0)).toBe(true);
    expect(recordsOf(log.read(0, 10, false))).toBeNull();
    // only whole batches even when maxBytes cuts into the second
    expect(recordsOf(log.read(0, size + 5, false))!.length).toBe(size);
  });

  it('stops at maxOffset (high watermark)', () => {
    const log = open(tmpDir());
    log.appendAsLeader(batch(2), 0);
    log.appendAsLeader(batch(2), 0);
    log.updateHighWatermark(2);
    expect(batchesOf(recordsOf(log.read(0, 1 << 20, false, log.highWatermark))).length).toBe(1);
    expect(recordsOf(log.read(2, 1 << 20, false, log.highWatermark))).toBeNull();
  });

  it('applies LogAppendTime', () => {
    const clock = new ManualClock(42_000);
    const log = open(tmpDir(), { messageTimestampType: 'LogAppendTime' }, clock);
    expect(log.appendAsLeader(batch(2, 5), 0).logAppendTime).toBe(42_000);
    const [b] = batchesOf(recordsOf(log.read(0, 1 << 20, false)));
    expect(b!.maxTimestamp).toBe(42_000);
    expect(b!.attributes & 0x08).toBe(8);
  });

  it('indexes by lastOffset per index.interval.bytes and finds offsets by timestamp', () => {
    const dir = tmpDir();
    const log = open(dir, { indexIntervalBytes: 100 });
    for (let i = 0; i < 20; i++) log.appendAsLeader(batch(2, 10_000 + i * 100, 50), 0);
    const seg = log.activeSegment;
    expect(seg.offsetIndex.entries).toBeGreaterThan(5);
    for (let i = 0; i < seg.offsetIndex.entries; i++) {
      const pos = seg.offsetIndex.positionAt(i);
      const r = recordsOf(log.read(seg.offsetIndex.offsetAt(i), 1, true))!;
      expect(batchesOf(r)[0]!.lastOffset).toBe(seg.offsetIndex.offsetAt(i));
      expect(pos).toBeGreaterThan(0);
    }
    expect(log.fetchOffsetByTimestamp(10_550)).toEqual({ offset: 12, timestamp: 10_601 });
    expect(log.fetchOffsetByTimestamp(0)).toEqual({ offset: 0, timestamp: 10_001 });
    expect(log.fetchOffsetByTimestamp(99_999)).toBeNull();
    expect(log.maxTimestampAndOffset()).toEqual({ timestamp: 11_901, offset: 39 });
    log.close();
    // close wrote the final time-index entry: last entry = (segment max, its offset)
    const reopened = open(dir, { indexIntervalBytes: 100 }, new ManualClock(), { hadCleanShutdown: true });
    expect(reopened.activeSegment.timeIndex.lastEntry()).toEqual({ timestamp: 11_901, offset: 39 });
  });

  it('rolls by size and by time (segment.ms)', () => {
    const one = batch(1).length;
    const log = open(tmpDir(), { segmentBytes: one * 3 });
    for (let i = 0; i < 7; i++) log.appendAsLeader(batch(1), 0);
    expect(log.segmentBaseOffsets()).toEqual([0, 3, 6]);

    const clock = new ManualClock(1_000_000);
    const timed = open(tmpDir(), { segmentMs: 1000 }, clock);
    timed.appendAsLeader(batch(1, 1_000_000), 0);
    timed.appendAsLeader(batch(1, 1_000_500), 0);
    expect(timed.numberOfSegments).toBe(1);
    timed.appendAsLeader(batch(1, 1_001_001), 0);
    expect(timed.segmentBaseOffsets()).toEqual([0, 2]);
  });

  it('deleteRecordsBefore moves logStartOffset and removes whole segments below it', () => {
    const dir = tmpDir();
    const one = batch(2).length;
    const log = open(dir, { segmentBytes: one * 2 });
    for (let i = 0; i < 6; i++) log.appendAsLeader(batch(2), 0);
    expect(log.segmentBaseOffsets()).toEqual([0, 4, 8]);
    expect(() => log.deleteRecordsBefore(5)).toThrow(LogOffsetOutOfRangeError);
    log.updateHighWatermark(12);
    log.deleteRecordsBefore(5);
    expect(log.logStartOffset).toBe(5);
    expect(log.segmentBaseOffsets()).toEqual([4, 8]);
    expect(fs.existsSync(path.join(dir, '00000000000000000000.log'))).toBe(false);
    expect(log.read(3, 100, true)).toEqual({ error: 'OFFSET_OUT_OF_RANGE' });
    expect(batchesOf(recordsOf(log.read(5, 1 << 20, true)))[0]!.baseOffset).toBe(4);
  });

  it('retention by time deletes old segments below the high watermark', () => {
    const dir = tmpDir();
    const clock = new ManualClock(1_000_000);
    const one = batch(1).length;
    const log = open(dir, { segmentBytes: one * 2, retentionMs: 10_000 }, clock);
    for (let i = 0; i < 6; i++) log.appendAsLeader(batch(1, 1_000_000 + i * 5_000), 0);
    expect(log.segmentBaseOffsets()).toEqual([0, 2, 4]);
    clock.t = 1_000_000 + 5_000 + 10_001; // segment 0 (max ts +5000) has expired
    expect(log.applyRetention()).toBe(0); // nothing below the high watermark yet
    log.updateHighWatermark(log.logEndOffset);
    expect(log.applyRetention()).toBe(1);
    expect(log.logStartOffset).toBe(2);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.log'))).toEqual([
      '00000000000000000002.log',
      '00000000000000000004.log',
    ]);
    clock.t = 10_000_000; // everything expired: the active segment goes too, a new empty one is rolled
    expect(log.applyRetention()).toBe(2);
    expect(log.segmentBaseOffsets()).toEqual([6]);
    expect(log.logStartOffset).toBe(6);
    expect(log.logEndOffset).toBe(6);
  });

  it('retention by bytes deletes the oldest segments that fit in the excess', () => {
    const dir = tmpDir();
    const one = batch(1).length;
    const log = open(dir, { segmentBytes: one * 2, retentionBytes: one * 3 });
    for (let i = 0; i < 6; i++) log.appendAsLeader(batch(1), 0);
    log.updateHighWatermark(6);
    expect(log.applyRetention()).toBe(1);
    expect(log.segmentBaseOffsets()).toEqual([2, 4]);
    expect(log.logStartOffset).toBe(2);
    expect(fs.existsSync(path.join(dir, '00000000000000000000.index'))).toBe(false);
  });

  describe('cleanup.policy (Kafka: retention.ms/bytes delete only with delete)', () => {
    /** Six one-record segments of old records, all below the high watermark. */
    function oldLog(cleanupPolicy: ('delete' | 'compact')[]) {
      const dir = tmpDir();
      const clock = new ManualClock(1_000_000 + 30 * 86_400_000);
      const one = batch(1).length;
      const log = open(
        dir,
        { segmentBytes: one, retentionMs: 1000, retentionBytes: 1, cleanupPolicy },
        clock,
      );
      for (let i = 0; i < 6; i++) log.appendAsLeader(batch(1, 1_000_000 + i), 0);
      log.updateHighWatermark(6);
      return { dir, log, clock };
    }

    it('compact keeps every segment whatever retention.ms and retention.bytes say', () => {
      const { dir, log } = oldLog(['compact']);
      expect(log.numberOfSegments).toBe(6);
      expect(log.applyRetention()).toBe(0);
      expect(log.applyRetention()).toBe(0);
      expect(log.logStartOffset).toBe(0);
      expect(log.segmentBaseOffsets()).toEqual([0, 1, 2, 3, 4, 5]);
      for (let o = 0; o < 6; o++)
        expect(batchesOf(recordsOf(log.read(o, 1 << 20, false)))[0]!.baseOffset).toBe(o);
      log.close();
      const reopened = open(dir, { cleanupPolicy: ['compact'], retentionMs: 1000, retentionBytes: 1 });
      expect(reopened.applyRetention()).toBe(0);
      expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([0, 6]);
    });

    it('compact,delete and delete apply retention', () => {
      for (const policy of [['compact', 'delete'], ['delete']] as const) {
        const { log } = oldLog([...policy]);
        expect(log.applyRetention()).toBe(6);
        expect([log.logStartOffset, log.logEndOffset]).toEqual([6, 6]);
      }
    });

    it('an empty policy deletes nothing by retention', () => {
      const { log } = oldLog([]);
      expect(log.applyRetention()).toBe(0);
    });

    it('DeleteRecords moves the log start offset of a compact log; segments wholly below it go', () => {
      const { log } = oldLog(['compact']);
      log.deleteRecordsBefore(3);
      expect(log.logStartOffset).toBe(3);
      expect(log.segmentBaseOffsets()).toEqual([3, 4, 5]);
      expect(log.read(2, 100, true)).toEqual({ error: 'OFFSET_OUT_OF_RANGE' });
      expect(log.applyRetention()).toBe(0);
    });
  });

  it('delays file deletion by file.delete.delay.ms with .deleted files', () => {
    const dir = tmpDir();
    const one = batch(1).length;
    const log = open(dir, { segmentBytes: one, fileDeleteDelayMs: 60_000 });
    for (let i = 0; i < 3; i++) log.appendAsLeader(batch(1), 0);
    log.updateHighWatermark(3);
    log.deleteRecordsBefore(2);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.deleted')).length).toBeGreaterThan(0);
    log.close();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.deleted'))).toEqual([]);
  });

  it('keeps leader epochs per batch and stamps them', () => {
    const log = open(tmpDir());
    log.appendAsLeader(batch(1), 1);
    log.appendAsLeader(batch(1), 3);
    const recs = recordsOf(log.read(0, 1 << 20, false))!;
    expect(readPartitionLeaderEpoch(recs, 0)).toBe(1);
    expect(log.leaderEpochCache.endOffsetFor(1, log.logEndOffset)).toEqual({ epoch: 1, endOffset: 1 });
  });
});

describe('flush.messages: group commit', () => {
  it('client appends of one event-loop turn share one fsync; acknowledgements wait for it', async () => {
    const log = open(tmpDir(), { flushMessages: 1 });
    // biome-ignore lint/suspicious/noExplicitAny: the LocalLog behind the Log, to count its fsync passes
    const local = (log as any).local;
    let fsyncs = 0;
    const inBackground = local.flushInBackground.bind(local);
    local.flushInBackground = () => {
      fsyncs++;
      return inBackground();
    };
    log.appendAsLeader(batch(2), 0);
    const pending = log.pendingFlush;
    log.appendAsLeader(batch(2), 0);
    log.appendAsLeader(batch(2), 0);
    expect(pending).not.toBeNull();
    expect(log.pendingFlush).toBe(pending);
    expect(log.recoveryPoint).toBe(0);
    expect(await pending).toBeNull();
    expect(fsyncs).toBe(1);
    expect(log.recoveryPoint).toBe(6);
    expect(log.pendingFlush).toBeNull();
    // Coordinator writes (and markers) are fsynced before append returns.
    log.appendAsLeader(batch(1), 0, 'coordinator');
    expect(log.recoveryPoint).toBe(7);
    expect(log.pendingFlush).toBeNull();
    log.close();
  });

  it('appends made while a group fsync runs (off the loop) share the next one, started when it ends', async () => {
    const log = open(tmpDir(), { flushMessages: 1 });
    // biome-ignore lint/suspicious/noExplicitAny: the LocalLog behind the Log, to hold its fsync
    const local = (log as any).local;
    const inBackground = local.flushInBackground.bind(local);
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let passes = 0;
    local.flushInBackground = async () => {
      const n = ++passes;
      events.push(`start ${n} at ${log.logEndOffset}`);
      if (n === 1) await held;
      await inBackground();
      events.push(`end ${n}`);
    };
    log.appendAsLeader(batch(2), 0);
    const first = log.pendingFlush!;
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['start 1 at 2']);
    // The first fsync is running: these wait for a second one (the loop is not blocked meanwhile).
    log.appendAsLeader(batch(2), 0);
    const second = log.pendingFlush!;
    expect(second).not.toBe(first);
    log.appendAsLeader(batch(3), 0);
    expect(log.pendingFlush).toBe(second);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['start 1 at 2']);
    release();
    expect(await first).toBeNull();
    expect(await second).toBeNull();
    expect(events).toEqual(['start 1 at 2', 'end 1', 'start 2 at 7', 'end 2']);
    expect(log.recoveryPoint).toBe(7);
    log.close();
  });

  it('a segment closed under the background fsync is flushed on the loop instead; close() leaves nothing pending unflushed', async () => {
    const log = open(tmpDir(), { flushMessages: 1 });
    log.appendAsLeader(batch(2), 0);
    const pending = log.pendingFlush!;
    await new Promise((r) => setImmediate(r));
    log.close(); // flushes on the loop and closes the files while the fsync may still run
    expect(await pending).toBeNull();
  });

  it('without flush.messages nothing is scheduled', () => {
    const log = open(tmpDir());
    log.appendAsLeader(batch(2), 0);
    expect(log.pendingFlush).toBeNull();
    log.close();
  });
});
