// Producer state, `.snapshot` and `.txnindex` at the Log level: dedupe of retried batches, sequence and
// epoch checks, the last stable offset, aborted transactions across segment rolls, compression and
// restarts (clean and unclean), and Kafka's snapshot file layout.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../protocol/record-batch.js';
import { encodeControlBatch, encodeRecordBatch } from '../protocol/records.js';
import { Log } from './log.js';
import { ProducerStateError, ProducerStateManager } from './producer-state-manager.js';
import { ManualClock, testConfig, tmpDir } from './test-helpers.js';

const open = (dir: string, over = {}, opts = {}) =>
  Log.open(dir, 't', 0, testConfig(over), new ManualClock(), opts);

function data(
  producerId: number,
  producerEpoch: number,
  baseSequence: number,
  n: number,
  opts: { txn?: boolean; compression?: 'gzip' | 'none' } = {},
): Buffer {
  return encodeRecordBatch({
    producerId,
    producerEpoch,
    baseSequence,
    isTransactional: opts.txn ?? false,
    compression: opts.compression ?? 'none',
    records: Array.from({ length: n }, (_, i) => ({
      value: `v${baseSequence + i}`,
      timestamp: 1_700_000_000_000,
    })),
  });
}

const marker = (type: 'COMMIT' | 'ABORT', producerId: number, producerEpoch: number) =>
  encodeControlBatch({ type, producerId, producerEpoch, coordinatorEpoch: 0, timestamp: 1_700_000_000_000 });

/** Appends as the Partition does: the high watermark follows the log end (single replica). */
function append(log: Log, batch: Buffer, origin: 'client' | 'coordinator' = 'client') {
  const info = log.appendAsLeader(batch, 0, origin);
  log.updateHighWatermark(log.logEndOffset);
  return info;
}

function expectRefused(f: () => unknown, error: string): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProducerStateError);
    expect((e as ProducerStateError).error).toBe(error);
    return;
  }
  throw new Error(`expected ${error}`);
}

describe('idempotent appends', () => {
  it('answers a retried batch with its original offsets and appends nothing', () => {
    const log = open(tmpDir());
    expect(log.appendAsLeader(data(7, 0, 0, 3), 0).baseOffset).toBe(0);
    expect(log.appendAsLeader(data(7, 0, 3, 2), 0).baseOffset).toBe(3);
    const retry = log.appendAsLeader(data(7, 0, 0, 3), 0);
    expect(retry).toMatchObject({ baseOffset: 0, lastOffset: 2, duplicate: true });
    expect(log.logEndOffset).toBe(5);
  });

  it('keeps only the last 5 batches for dedupe; older retries are out of order', () => {
    const log = open(tmpDir());
    for (let i = 0; i < 6; i++) log.appendAsLeader(data(7, 0, i, 1), 0);
    expect(log.appendAsLeader(data(7, 0, 1, 1), 0).duplicate).toBe(true);
    expectRefused(() => log.appendAsLeader(data(7, 0, 0, 1), 0), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
  });

  it('refuses gaps and old epochs; a new epoch must start at sequence 0', () => {
    const log = open(tmpDir());
    log.appendAsLeader(data(9, 1, 0, 2), 0);
    expectRefused(() => log.appendAsLeader(data(9, 1, 5, 1), 0), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    expectRefused(() => log.appendAsLeader(data(9, 0, 2, 1), 0), 'INVALID_PRODUCER_EPOCH');
    expectRefused(() => log.appendAsLeader(data(9, 2, 3, 1), 0), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(log.appendAsLeader(data(9, 2, 0, 1), 0).baseOffset).toBe(2);
    // An unknown producer (state expired or deleted) is accepted at any sequence, as Kafka 2.5+.
    expect(log.appendAsLeader(data(10, 0, 42, 1), 0).baseOffset).toBe(3);
    expect(log.logEndOffset).toBe(4);
  });

  it('ignores producer fields when the producer id is -1 (kafkajs sends epoch 0, sequence 0)', () => {
    const log = open(tmpDir());
    log.appendAsLeader(data(-1, 0, 0, 2), 0);
    log.appendAsLeader(data(-1, 0, 0, 2), 0);
    expect(log.logEndOffset).toBe(4);
    expect(log.producerStateManager.activeProducers()).toEqual([]);
  });

  it('survives a clean restart (snapshot) and an unclean one (replayed from the log)', () => {
    for (const clean of [true, false]) {
      const dir = tmpDir();
      const log = open(dir);
      log.appendAsLeader(data(7, 0, 0, 3), 0);
      if (clean) log.close();
      else log.flush(); // kill -9: no snapshot at close, no clean-shutdown marker
      const again = open(dir, {}, { hadCleanShutdown: clean });
      expect(again.appendAsLeader(data(7, 0, 0, 3), 0)).toMatchObject({ baseOffset: 0, duplicate: true });
      expectRefused(() => again.appendAsLeader(data(7, 0, 9, 1), 0), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      expect(again.appendAsLeader(data(7, 0, 3, 1), 0).baseOffset).toBe(3);
      again.close();
    }
  });
});

describe('transactions in the log', () => {
  it('holds the LSO at the first open transaction and indexes aborts in .txnindex', () => {
    const dir = tmpDir();
    const log = open(dir);
    append(log, data(1, 0, 0, 2, { txn: true })); // 0-1 producer 1
    append(log, data(2, 0, 0, 1, { txn: true })); // 2 producer 2
    append(log, data(-1, -1, -1, 1)); // 3 plain
    expect(log.lastStableOffset).toBe(0);
    append(log, marker('ABORT', 1, 0), 'coordinator'); // 4
    expect(log.lastStableOffset).toBe(2);
    append(log, marker('COMMIT', 2, 0), 'coordinator'); // 5
    expect(log.lastStableOffset).toBe(6);
    expect(log.collectAbortedTransactions(0, 6)).toEqual([
      { producerId: 1, firstOffset: 0, lastOffset: 4, lastStableOffset: 2 },
    ]);
    // Not overlapping the fetched range: nothing.
    expect(log.collectAbortedTransactions(5, 6)).toEqual([]);
    const entry = fs.readFileSync(path.join(dir, '00000000000000000000.txnindex'));
    expect(entry.length).toBe(34);
  });

  it('refuses a non-transactional write inside an open transaction and a zombie marker epoch', () => {
    const log = open(tmpDir());
    append(log, data(1, 3, 0, 1, { txn: true }));
    expectRefused(() => append(log, data(1, 3, 1, 1)), 'INVALID_TXN_STATE');
    append(log, marker('ABORT', 1, 4), 'coordinator'); // fenced abort, bumped epoch
    expectRefused(() => append(log, data(1, 3, 1, 1, { txn: true })), 'INVALID_PRODUCER_EPOCH');
    expect(log.lastStableOffset).toBe(log.logEndOffset);
  });

  it('finds aborted transactions across segment rolls, compressed batches and restarts', () => {
    const dir = tmpDir();
    const log = open(dir, { segmentBytes: 300 });
    let seq = 0;
    for (let i = 0; i < 6; i++) {
      append(log, data(5, 0, seq, 3, { txn: true, compression: 'gzip' }));
      seq += 3;
      append(log, marker(i % 2 === 0 ? 'ABORT' : 'COMMIT', 5, 0), 'coordinator');
    }
    expect(log.numberOfSegments).toBeGreaterThan(2);
    const expected = [0, 8, 16].map((first) => ({
      producerId: 5,
      firstOffset: first,
      lastOffset: first + 3,
    }));
    const pick = (l: Log) =>
      l.collectAbortedTransactions(0, l.logEndOffset).map(({ producerId, firstOffset, lastOffset }) => ({
        producerId,
        firstOffset,
        lastOffset,
      }));
    expect(pick(log)).toEqual(expected);
    // A fetch starting in a later segment still sees the abort whose marker follows it.
    expect(log.collectAbortedTransactions(17, 18).map((t) => t.firstOffset)).toEqual([16]);
    log.close();
    const clean = open(dir, { segmentBytes: 300 }, { hadCleanShutdown: true });
    expect(pick(clean)).toEqual(expected);
    clean.flush();
    // Unclean: every .txnindex is rebuilt from the log.
    for (const f of fs.readdirSync(dir))
      if (f.endsWith('.txnindex') || f.endsWith('.snapshot')) fs.rmSync(path.join(dir, f));
    const unclean = open(dir, { segmentBytes: 300 }, { recoveryPoint: 0 });
    expect(pick(unclean)).toEqual(expected);
    unclean.updateHighWatermark(unclean.logEndOffset);
    expect(unclean.lastStableOffset).toBe(unclean.logEndOffset);
  });

  it('keeps an open transaction open across an unclean restart (LSO stays below it)', () => {
    const dir = tmpDir();
    const log = open(dir);
    append(log, data(-1, -1, -1, 2));
    append(log, data(3, 0, 0, 2, { txn: true }));
    log.flush();
    const again = open(dir, {}, { recoveryPoint: 0, highWatermark: 4 });
    again.updateHighWatermark(again.logEndOffset);
    expect(again.lastStableOffset).toBe(2);
    append(again, marker('ABORT', 3, 1), 'coordinator');
    expect(again.lastStableOffset).toBe(5);
    expect(again.collectAbortedTransactions(0, 5).map((t) => t.firstOffset)).toEqual([2]);
  });
});

describe('.snapshot files', () => {
  it("writes Kafka's layout: version 1, CRC-32C of the rest, 46-byte entries", () => {
    const dir = tmpDir();
    const log = open(dir);
    log.appendAsLeader(data(77, 2, 0, 4, { txn: true }), 0);
    log.close();
    const buf = fs.readFileSync(path.join(dir, '00000000000000000004.snapshot'));
    expect(buf.readInt16BE(0)).toBe(1);
    expect(buf.readUInt32BE(2)).toBe(crc32c(buf.subarray(6)));
    expect(buf.readInt32BE(6)).toBe(1);
    expect(buf.length).toBe(10 + 46);
    expect(Number(buf.readBigInt64BE(10))).toBe(77); // producerId
    expect(buf.readInt16BE(18)).toBe(2); // epoch
    expect(buf.readInt32BE(20)).toBe(3); // lastSequence
    expect(Number(buf.readBigInt64BE(24))).toBe(3); // lastOffset
    expect(buf.readInt32BE(32)).toBe(3); // offsetDelta
    expect(Number(buf.readBigInt64BE(48))).toBe(0); // currentTxnFirstOffset
    const [entry] = ProducerStateManager.readSnapshot(path.join(dir, '00000000000000000004.snapshot'));
    expect(entry).toMatchObject({ producerId: 77, producerEpoch: 2, currentTxnFirstOffset: 0 });
  });

  it('ignores a corrupt snapshot and rebuilds from the log', () => {
    const dir = tmpDir();
    const log = open(dir);
    log.appendAsLeader(data(8, 0, 0, 2), 0);
    log.close();
    const snap = path.join(dir, '00000000000000000002.snapshot');
    const buf = fs.readFileSync(snap);
    buf[buf.length - 1] ^= 0xff;
    fs.writeFileSync(snap, buf);
    const again = open(dir, {}, { hadCleanShutdown: true });
    expect(again.appendAsLeader(data(8, 0, 0, 2), 0).duplicate).toBe(true);
  });
});
