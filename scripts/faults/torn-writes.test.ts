/**
 * Torn tails of segments, indexes, producer snapshots and checkpoints: the broker restarts and
 * serves a valid prefix (`npm run torn-writes -- --rounds N` is the long run).
 */
import { describe, expect, it } from 'vitest';
import { runTornWrites } from './torn-writes.js';

describe('torn writes', () => {
  it('after a torn tail of any file the broker starts and serves a valid prefix; new writes follow it', async () => {
    const res = await runTornWrites({ rounds: 24, seed: 24 });
    expect(res.failures).toEqual([]);
    const targets = new Set(res.outcomes.map((o) => o.target));
    expect(targets.size).toBeGreaterThanOrEqual(4);
    // Some segment tears really cut records (the prefix is shorter than what was written).
    const cut = res.outcomes.filter(
      (o) => o.target === 'segment' && o.kept.some((k, p) => k < res.written[p]!),
    );
    expect(cut.length).toBeGreaterThan(0);
  }, 240_000);
});
