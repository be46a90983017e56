/**
 * The short fuzz run of `npm test`: 20,000 mutated frames of real clients' captures over TCP to
 * a broker process, then a restart that reads every partition back. `npm run fuzz -- --frames N`
 * is the long run.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from './run.js';

describe('protocol fuzzing over TCP', () => {
  it('20,000 mutated frames: no crash, no hang, heap flat, every partition read back clean after a restart', async () => {
    // A 15 s bound: the 2-core CI machine is shared, and a starved broker process is not a hang.
    const res = await runFuzz({ frames: 20_000, seed: 20_000, concurrency: 16, hangBoundMs: 15_000 });
    expect(res.crashOutputs).toEqual([]);
    expect(res.crashes).toBe(0);
    expect(res.hangSamples).toEqual([]);
    expect(res.hangs).toBe(0);
    expect(res.correlationMismatches).toBe(0);
    // Every frame was either answered, closed by the broker, or hung up by us.
    expect(res.answered + res.closedByBroker + res.hungUpByUs + res.longWaitsAsked).toBe(20_000);
    expect(res.answered).toBeGreaterThan(2_000);
    expect(res.heapDeltaMB).toBeLessThan(20);
    expect(res.before.problems).toEqual([]);
    expect(res.after.problems).toEqual([]);
    expect(res.restartMismatches).toEqual([]);
    expect(res.before.partitions.length).toBeGreaterThan(0);
  }, 240_000);
});
