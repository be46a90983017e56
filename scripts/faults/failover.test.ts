/**
 * The short variant of the failover loops (`npm run failover -- --loops 20` is the real run): a
 * 3-broker cluster in this process, a broker (most often a leader) killed and restarted while
 * producers send numbered records, then everything read back, the followers' segment files
 * compared byte for byte with their leader's below the high watermark, and kafka-dump-log run over
 * every broker's files when Kafka's tools are installed (compat-tests/kafka-tools/run.sh --install-only).
 */
import { describe, expect, it } from 'vitest';
import { runInProcess } from './failover.js';

describe('failover loops in one process', () => {
  it('acks=all, idempotent, min.insync.replicas=2: every acknowledged record exactly once, in order', async () => {
    const res = await runInProcess({ loops: 3, acks: 'all', seed: 5 });
    expect(res.violations).toEqual([]);
    expect(res.kills).toBe(3);
    expect(res.leaderKills).toBeGreaterThan(0);
    expect(res.leaderEpochBumps).toBeGreaterThan(0);
    expect(res.ackedRecords).toBeGreaterThan(100);
    expect(res.lost).toBe(0);
    expect(res.duplicated).toBe(0);
    // The followers' segment files were compared with their leader's (violations list differences).
    expect(res.replicaBytesCompared).toBeGreaterThan(0);
  }, 120_000);

  it('acks=all: the leader isolated (cut off, fenced at session expiry, healed) instead of killed', async () => {
    const res = await runInProcess({ loops: 2, acks: 'all', seed: 7, fault: 'isolate' });
    expect(res.violations).toEqual([]);
    expect(res.kills).toBe(2);
    expect(res.leaderEpochBumps).toBeGreaterThan(0);
    expect(res.ackedRecords).toBeGreaterThan(50);
  }, 120_000);

  it('acks=1: reports how many acknowledged records were lost', async () => {
    const res = await runInProcess({ loops: 2, acks: '1', seed: 6 });
    expect(res.kills).toBe(2);
    expect(res.ackedRecords).toBeGreaterThan(100);
    // Only what the killed leader had alone can go: a handful of records per kill at most.
    expect(res.lost).toBeLessThanOrEqual(res.leaderKills * 10);
    expect(res.violations).toEqual([]);
  }, 120_000);
});
