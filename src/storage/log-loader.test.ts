import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEADER_EPOCH_CHECKPOINT_FILE } from './leader-epoch-cache.js';
import { Log } from './log.js';
import { LogLoader, type LogLoaderParams, openLeaderEpochCache } from './log-loader.js';
import { LogSegments } from './log-segments.js';
import { ProducerStateManager } from './producer-state-manager.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

/** A partition directory with `n` two-record batches, `perSegment` batches a segment, closed cleanly. */
function build(dir: string, n: number, perSegment = 3): void {
  const one = batch(2, 1_000, 20).length;
  const log = Log.open(dir, 't', 0, testConfig({ segmentBytes: one * perSegment }), new ManualClock());
  for (let i = 0; i < n; i++) log.appendAsLeader(batch(2, 1_000 + i, 20), i < 2 ? 1 : 2);
  log.close();
}

function load(dir: string, over: Partial<LogLoaderParams> = {}) {
  const segments = new LogSegments();
  const { cache, corrupt } = openLeaderEpochCache(dir);
  const params: LogLoaderParams = {
    dir,
    config: testConfig(),
    clock: new ManualClock(),
    segments,
    leaderEpochCache: cache,
    producerStateManager: new ProducerStateManager(dir, 't-0'),
    recoverAll: corrupt,
    ...over,
  };
  const offsets = new LogLoader(params).load();
  return { offsets, segments, cache, corrupt };
}

describe('LogLoader', () => {
  it('opens an empty directory with one empty segment at the checkpointed log start offset', () => {
    const dir = tmpDir();
    const { offsets, segments } = load(dir, { logStartOffset: 42 });
    expect(offsets).toEqual({ logStartOffset: 42, logEndOffset: 42, recoveryPoint: 42 });
    expect(segments.baseOffsets()).toEqual([42]);
    expect(fs.existsSync(path.join(dir, '00000000000000000042.log'))).toBe(true);
  });

  it('hands back the segments in order and the offsets they end at', () => {
    const dir = tmpDir();
    build(dir, 8); // 16 records: segments at 0, 6, 12
    const { offsets, segments } = load(dir, { hadCleanShutdown: true });
    expect(segments.baseOffsets()).toEqual([0, 6, 12]);
    expect(offsets).toEqual({ logStartOffset: 0, logEndOffset: 16, recoveryPoint: 16 });
  });

  it('takes the checkpointed log start offset inside the log, else the first segment or the end', () => {
    const dir = tmpDir();
    build(dir, 8);
    expect(load(dir, { hadCleanShutdown: true, logStartOffset: 7 }).offsets.logStartOffset).toBe(7);
    fs.rmSync(path.join(dir, '00000000000000000000.log'));
    expect(load(dir, { hadCleanShutdown: true, logStartOffset: 2 }).offsets.logStartOffset).toBe(6);
    expect(load(dir, { hadCleanShutdown: true, logStartOffset: 99 }).offsets.logStartOffset).toBe(16);
  });

  it('truncates a torn tail and reports the log end offset after it', () => {
    const dir = tmpDir();
    build(dir, 8);
    const last = path.join(dir, '00000000000000000012.log');
    fs.truncateSync(last, fs.statSync(last).size - 5);
    const { offsets, segments } = load(dir, { recoveryPoint: 12 });
    expect(offsets.logEndOffset).toBe(14);
    expect(segments.activeSegment.nextOffset()).toBe(14);
  });

  it('trims the leader epoch cache to the loaded log', () => {
    const dir = tmpDir();
    build(dir, 8); // epoch 1 from offset 0, epoch 2 from offset 4
    const { cache } = load(dir, { hadCleanShutdown: true, logStartOffset: 5 });
    expect(cache.epochEntries()).toEqual([{ epoch: 2, startOffset: 5 }]);
  });

  it('rebuilds an unreadable leader-epoch-checkpoint from every batch', () => {
    const dir = tmpDir();
    build(dir, 8);
    fs.writeFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 'garbage\n');
    const { cache, corrupt } = load(dir, { hadCleanShutdown: true });
    expect(corrupt).toBe(true);
    expect(cache.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 4 },
    ]);
    expect(fs.readFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n2\n1 0\n2 4\n');
  });

  it('deletes leftovers of interrupted operations, .swap included (nothing completes swaps yet)', () => {
    const dir = tmpDir();
    build(dir, 2);
    for (const f of ['00000000000000000004.log.swap', '00000000000000000000.log.cleaned', 'a.tmp'])
      fs.writeFileSync(path.join(dir, f), 'x');
    load(dir, { hadCleanShutdown: true });
    expect(fs.readdirSync(dir).filter((f) => /\.(swap|cleaned|tmp)$/.test(f))).toEqual([]);
  });
});
