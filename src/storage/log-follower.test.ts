// A follower's log (Log.appendAsFollower, truncateTo, truncateFullyAndStartAt): the leader's batches kept
// byte for byte, epochs and producer state taken from them, and truncation undoing all of it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { iterateBatches } from '../protocol/record-batch.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { encodeControlBatch } from '../protocol/records.js';
import { CorruptRecordError, Log, UnexpectedAppendOffsetError } from './log.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

const open = (dir: string, over = {}) => Log.open(dir, 't', 0, testConfig(over), new ManualClock());

/** Everything from `from` to the log end (a read returns one segment's batches at most). */
function readAll(log: Log, from = log.logStartOffset): Buffer {
  const parts: Buffer[] = [];
  for (let offset = from; offset < log.logEndOffset; ) {
    const r = log.read(offset, 1 << 30, true);
    if ('error' in r || r.records === null) throw new Error(`nothing at ${offset}`);
    parts.push(r.records);
    offset = lastOffsetIn(r.records) + 1;
  }
  return Buffer.concat(parts);
}

function lastOffsetIn(records: Buffer): number {
  let last = -1;
  for (const b of iterateBatches(records)) last = b.lastOffset;
  return last;
}

function segmentBytes(dir: string): Buffer {
  const names = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
  return Buffer.concat(names.map((n) => fs.readFileSync(path.join(dir, n))));
}

const idempotent = (producerId: number, seq: number, n: number, transactional = false) =>
  buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      value: `p${producerId}-${seq + i}`,
      timestamp: 1_700_000_000_000 + i,
    })),
    producerId,
    producerEpoch: 0,
    baseSequence: seq,
    transactional,
  });

describe('Log.appendAsFollower', () => {
  it("keeps the leader's offsets, epochs and bytes, across segments, and its epoch cache", () => {
    const leader = open(tmpDir(), { segmentBytes: 300 });
    leader.appendAsLeader(batch(3), 0);
    leader.appendAsLeader(batch(2), 0);
    leader.appendAsLeader(batch(4), 3);
    leader.appendAsLeader(batch(1), 5);
    const fdir = tmpDir();
    const follower = open(fdir, { segmentBytes: 300 });
    // In two fetches, the second starting where the first ended.
    const all = readAll(leader);
    const first = follower.appendAsFollower(all.subarray(0, firstTwo(all)));
    expect(first).toMatchObject({ firstOffset: 0, lastOffset: 4, batches: 2 });
    expect(follower.appendAsFollower(readAll(leader, 5))).toMatchObject({ firstOffset: 5, lastOffset: 9 });
    expect(follower.logEndOffset).toBe(10);
    expect(follower.leaderEpochCache.epochEntries()).toEqual(leader.leaderEpochCache.epochEntries());
    expect(follower.leaderEpochCache.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 5 },
      { epoch: 5, startOffset: 9 },
    ]);
    expect(segmentBytes(fdir)).toEqual(segmentBytes(leader.dir));
    expect(follower.numberOfSegments).toBeGreaterThan(1);
    // The follower's high watermark is the leader's to give.
    expect(follower.highWatermark).toBe(0);
    follower.updateHighWatermark(7);
    expect(follower.highWatermark).toBe(7);
  });

  it('appends nothing from a set with a corrupt batch, or one starting below the log end', () => {
    const leader = open(tmpDir());
    leader.appendAsLeader(batch(2), 0);
    leader.appendAsLeader(batch(2), 0);
    const follower = open(tmpDir());
    const bytes = Buffer.from(readAll(leader));
    bytes[bytes.length - 1]! ^= 0xff; // the second batch's CRC no longer matches
    expect(() => follower.appendAsFollower(bytes)).toThrow(CorruptRecordError);
    expect(follower.logEndOffset).toBe(0);
    expect(follower.size).toBe(0);
    follower.appendAsFollower(readAll(leader));
    expect(() => follower.appendAsFollower(readAll(leader, 2))).toThrow(UnexpectedAppendOffsetError);
    expect(follower.logEndOffset).toBe(4);
    const bad = Buffer.from(readAll(leader));
    bad.writeInt8(1, 16); // magic
    expect(() => open(tmpDir()).appendAsFollower(bad)).toThrow(CorruptRecordError);
  });

  it('leaves a partial batch at the end for the next fetch', () => {
    const leader = open(tmpDir());
    leader.appendAsLeader(batch(2), 0);
    leader.appendAsLeader(batch(2), 0);
    const all = readAll(leader);
    const follower = open(tmpDir());
    expect(follower.appendAsFollower(all.subarray(0, all.length - 5))).toMatchObject({ lastOffset: 1 });
    expect(follower.logEndOffset).toBe(2);
    expect(follower.appendAsFollower(all.subarray(0, 20))).toBeNull();
    expect(follower.logEndOffset).toBe(2);
  });

  it('takes producer state and transactions from the batches (no sequence checks)', () => {
    const leader = open(tmpDir());
    leader.appendAsLeader(idempotent(7, 0, 3), 0);
    leader.appendAsLeader(idempotent(8, 0, 2, true), 0);
    leader.appendAsLeader(
      encodeControlBatch({ type: 'ABORT', producerId: 8, producerEpoch: 0, coordinatorEpoch: 1 }),
      0,
      'coordinator',
    );
    leader.appendAsLeader(idempotent(9, 0, 1, true), 0); // still open
    const follower = open(tmpDir());
    follower.appendAsFollower(readAll(leader));
    expect(follower.producerStateManager.lastEntry(7)?.batchMetadata.at(-1)).toMatchObject({
      lastSeq: 2,
      lastOffset: 2,
    });
    expect(follower.producerStateManager.firstUnstableOffset()).toBe(6);
    follower.updateHighWatermark(7);
    expect(follower.lastStableOffset).toBe(6);
    expect(follower.collectAbortedTransactions(0, 7)).toEqual(leader.collectAbortedTransactions(0, 7));
    expect(follower.collectAbortedTransactions(0, 7)).toHaveLength(1);
  });
});

describe('Log.truncateTo / truncateFullyAndStartAt', () => {
  it('removes the tail: segments, epochs starting there, producer state, high watermark', () => {
    const dir = tmpDir();
    const log = open(dir, { segmentBytes: 150 });
    log.appendAsLeader(idempotent(7, 0, 2), 0); // 0-1
    log.appendAsLeader(batch(3), 1); // 2-4
    log.appendAsLeader(idempotent(7, 2, 2), 2); // 5-6
    log.appendAsLeader(batch(3), 3); // 7-9
    log.updateHighWatermark(10);
    const segmentsBefore = log.numberOfSegments;
    expect(segmentsBefore).toBeGreaterThan(2);
    expect(log.truncateTo(5)).toBe(true);
    expect(log.logEndOffset).toBe(5);
    expect(log.highWatermark).toBe(5);
    expect(log.numberOfSegments).toBeLessThan(segmentsBefore);
    expect(log.leaderEpochCache.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 2 },
    ]);
    // The producer's batch at 5-6 is gone: its last sequence is 1 again.
    expect(log.producerStateManager.lastEntry(7)?.batchMetadata.at(-1)?.lastSeq).toBe(1);
    expect(log.truncateTo(9)).toBe(false);
    // The data and the epoch file agree after reopening.
    log.close();
    const reopened = open(dir, { segmentBytes: 150 });
    expect(reopened.logEndOffset).toBe(5);
    expect(reopened.leaderEpochCache.latestEpoch()).toBe(1);
    // A new leader's data appends after the cut.
    reopened.appendAsLeader(batch(1), 4);
    expect(reopened.logEndOffset).toBe(6);
  });

  it('truncateFullyAndStartAt empties the log and restarts it at the offset', () => {
    const dir = tmpDir();
    const log = open(dir);
    log.appendAsLeader(batch(5), 0);
    log.updateHighWatermark(5);
    log.truncateFullyAndStartAt(100);
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark]).toEqual([100, 100, 100]);
    expect(log.leaderEpochCache.epochEntries()).toEqual([]);
    expect(log.segmentBaseOffsets()).toEqual([100]);
    const leader = open(tmpDir());
    leader.truncateFullyAndStartAt(100);
    leader.appendAsLeader(batch(2), 4);
    log.appendAsFollower(readAll(leader));
    expect(log.logEndOffset).toBe(102);
    expect(log.leaderEpochCache.epochEntries()).toEqual([{ epoch: 4, startOffset: 100 }]);
    log.close();
    expect(open(dir).logStartOffset).toBe(100);
  });

  it("maybeIncrementLogStartOffset follows the leader's log start, not past the high watermark", () => {
    const log = open(tmpDir(), { segmentBytes: 200 });
    for (let i = 0; i < 6; i++) log.appendAsLeader(batch(2), 0);
    log.updateHighWatermark(6);
    log.maybeIncrementLogStartOffset(9, 'LeaderOffsetIncremented');
    expect(log.logStartOffset).toBe(6);
    log.maybeIncrementLogStartOffset(3, 'LeaderOffsetIncremented');
    expect(log.logStartOffset).toBe(6);
  });
});

function firstTwo(records: Buffer): number {
  return records.readInt32BE(8) + 12 + records.readInt32BE(records.readInt32BE(8) + 12 + 8) + 12;
}
