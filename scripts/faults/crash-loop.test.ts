/**
 * The short variant of the kill -9 loop (`npm run crash-loop -- --loops 100` is the real run):
 * three idempotent producers, offset commits and transactions against a broker process killed
 * with SIGKILL at a random moment, restarted, and checked, three times.
 */
import { describe, expect, it } from 'vitest';
import { runCrashLoop } from './crash-loop.js';

describe('kill -9 loops', () => {
  it('flush.messages=1: every acknowledged record, commit and transaction survives exactly once', async () => {
    const res = await runCrashLoop({
      loops: 3,
      flush: 'always',
      seed: 3,
      killAfterMs: [300, 1500],
      dumpLogEvery: 0,
    });
    expect(res.violations).toEqual([]);
    expect(res.kills).toBe(3);
    expect(res.ackedRecords).toBeGreaterThan(100);
    expect(res.ackedCommits).toBeGreaterThan(10);
    expect(res.committedTransactions).toBeGreaterThan(0);
  }, 240_000);

  it('default flush policy: nothing acknowledged lost, nothing duplicated or reordered', async () => {
    const res = await runCrashLoop({
      loops: 3,
      flush: 'default',
      seed: 4,
      killAfterMs: [300, 1500],
      dumpLogEvery: 0,
    });
    expect(res.violations).toEqual([]);
    expect(res.ackedRecords).toBeGreaterThan(100);
  }, 240_000);
});
