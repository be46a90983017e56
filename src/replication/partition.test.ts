/**
 * The partition state as its leader keeps it (Kafka's Partition), over a real log in a temporary
 * directory: the high watermark kept apart from the log end and moved only for what the ISR has,
 * the effective min ISR, transaction markers, reading an internal topic back, append listeners.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { Log } from '../storage/log.js';
import { ManualClock, testConfig, tmpDir } from '../storage/test-helpers.js';
import { NotEnoughReplicasError, Partition } from './partition.js';

let dir: string;
let log: Log;

beforeEach(() => {
  dir = tmpDir();
  log = Log.open(dir, 't', 0, testConfig(), new ManualClock());
});

afterEach(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

const records = (n: number, opts: { producerId?: number; epoch?: number; transactional?: boolean } = {}) =>
  buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      timestamp: 1_700_000_000_000 + i,
    })),
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.epoch ?? -1,
    baseSequence: opts.producerId !== undefined ? 0 : -1,
    transactional: opts.transactional ?? false,
  });

describe('Partition', () => {
  it('as the only in-sync replica, moves the high watermark with every append and tells its listeners', () => {
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    let appends = 0;
    const unsubscribe = p.onAppend(() => appends++);
    const info = p.appendRecordsToLeader(records(3));
    expect(info.baseOffset).toBe(0);
    expect([p.logEndOffset, p.highWatermark]).toEqual([3, 3]);
    expect(appends).toBe(1);
    unsubscribe();
    p.appendRecordsToLeader(records(2));
    expect(p.highWatermark).toBe(5);
    expect(appends).toBe(1);
  });

  it('with followers in the ISR, keeps the high watermark where it was: the log end moves alone', () => {
    const p = new Partition('t', 0, log, 1, 0, [1, 2], [1, 2]);
    p.appendRecordsToLeader(records(4));
    expect(p.logEndOffset).toBe(4);
    expect(p.highWatermark).toBe(0);
  });

  it('refuses acks=-1 below the effective min ISR (min(min.insync.replicas, replicas)) before appending', () => {
    const p = new Partition('t', 0, log, 1, 0, [1, 2, 3], [1]);
    expect(p.effectiveMinIsr(2)).toBe(2);
    expect(() => p.appendRecordsToLeader(records(1), 'client', -1, 2)).toThrow(NotEnoughReplicasError);
    expect(p.logEndOffset).toBe(0);
    // acks=1 is not checked; a topic of one replica accepts acks=-1 whatever it sets.
    p.appendRecordsToLeader(records(1), 'client', 1, 2);
    expect(p.logEndOffset).toBe(1);
    const single = new Partition('t', 0, log, 1, 0, [1], [1]);
    expect(single.effectiveMinIsr(3)).toBe(1);
    single.appendRecordsToLeader(records(1), 'client', -1, 3);
    expect(single.logEndOffset).toBe(2);
  });

  it('a transaction holds the last stable offset until its marker; readBatches returns everything below the high watermark', () => {
    const p = new Partition('t', 0, log, 1, 0, [1], [1]);
    p.appendRecordsToLeader(records(2));
    p.appendRecordsToLeader(records(3, { producerId: 7, epoch: 0, transactional: true }));
    expect(p.highWatermark).toBe(5);
    expect(p.lastStableOffset).toBe(2);
    p.appendEndTxnMarker('COMMIT', 7, 0, 0);
    expect(p.lastStableOffset).toBe(6);
    const batches = [...p.readBatches(64)];
    expect(batches.map((b) => [b.baseOffset, b.lastOffset, b.isControl])).toEqual([
      [0, 1, false],
      [2, 4, false],
      [5, 5, true],
    ]);
  });
});
