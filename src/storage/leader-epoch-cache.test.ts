import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { tmpDir } from './test-helpers.js';

describe('LeaderEpochCache', () => {
  it('assigns only newer epochs and persists checkpoint v0', () => {
    const dir = tmpDir();
    const c = new LeaderEpochCache(dir);
    expect(c.latestEpoch()).toBe(-1);
    c.assign(0, 0);
    c.assign(0, 5);
    c.assign(2, 10);
    c.assign(1, 12);
    expect(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n0 0\n2 10\n');
    expect(new LeaderEpochCache(dir).epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
    ]);
  });

  it('answers endOffsetFor like LeaderEpochFileCache', () => {
    const c = new LeaderEpochCache(tmpDir());
    c.assign(2, 10);
    c.assign(4, 20);
    c.assign(7, 30);
    expect(c.endOffsetFor(7, 42)).toEqual({ epoch: 7, endOffset: 42 });
    expect(c.endOffsetFor(4, 42)).toEqual({ epoch: 4, endOffset: 30 });
    expect(c.endOffsetFor(5, 42)).toEqual({ epoch: 4, endOffset: 30 });
    expect(c.endOffsetFor(1, 42)).toEqual({ epoch: 1, endOffset: 10 });
    expect(c.endOffsetFor(9, 42)).toEqual({ epoch: -1, endOffset: -1 });
    expect(c.endOffsetFor(-1, 42)).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('truncates from end and from start', () => {
    const c = new LeaderEpochCache(tmpDir());
    c.assign(1, 0);
    c.assign(2, 10);
    c.assign(3, 20);
    c.truncateFromEnd(20);
    expect(c.latestEpoch()).toBe(2);
    c.truncateFromStart(15);
    expect(c.epochEntries()).toEqual([{ epoch: 2, startOffset: 15 }]);
  });
});
