import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

const fetchBody = (topic: string, maxWaitMs: number) => ({
  replicaId: -1,
  maxWaitMs,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
});

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Fetch long poll', () => {
  it('waits by the broker clock and answers empty at maxWaitMs', async () => {
    const time = new MockTime();
    const tb = await startTestBroker({}, undefined, { time });
    try {
      tb.broker.replicaManager.createTopic('clock', 1);
      const c = await TestClient.connect(tb.port);
      let answered = false;
      const res = c.request<{ responses: { partitions: { records: Buffer | null }[] }[] }>(
        1,
        12,
        fetchBody('clock', 30_000),
      );
      void res.then(() => {
        answered = true;
      });
      for (let i = 0; i < 5; i++) await tick();
      expect(tb.broker.replicaManager.fetchPurgatorySize).toBe(1);
      await time.advanceAsync(29_999);
      expect(answered).toBe(false);
      await time.advanceAsync(1);
      const r = await res;
      expect(r.responses[0]!.partitions[0]!.records?.length ?? 0).toBe(0);
      expect(tb.broker.replicaManager.fetchPurgatorySize).toBe(0);
      c.close();
    } finally {
      await tb.close();
    }
  });

  it('releases a wait completed by data, by timeout and by the connection closing', async () => {
    const time = new MockTime();
    const tb = await startTestBroker({}, undefined, { time });
    try {
      const rm = tb.broker.replicaManager;
      rm.createTopic('release', 1);
      const timersBefore = time.pendingTimers;
      const c = await TestClient.connect(tb.port);

      // By data: an append wakes it, and its timer goes with it.
      const byData = c.request(1, 12, fetchBody('release', 30_000));
      for (let i = 0; i < 5; i++) await tick();
      expect(rm.fetchPurgatorySize).toBe(1);
      expect(time.pendingTimers).toBe(timersBefore + 1);
      rm.getPartition('release', 0)!.appendRecordsToLeader(buildRecordBatch({ records: [{ value: 'x' }] }));
      await byData;
      expect(rm.fetchPurgatorySize).toBe(0);
      expect(time.pendingTimers).toBe(timersBefore);

      // By close: the wait ends at once, releasing its timer and its partition listener.
      const byClose = c.request(1, 12, { ...fetchBody('release', 30_000), topics: [] });
      await byClose; // an empty fetch answers at once
      const waiting = c.request(1, 12, {
        ...fetchBody('release', 30_000),
        topics: [
          { topic: 'release', partitions: [{ partition: 0, fetchOffset: 1, partitionMaxBytes: 1024 }] },
        ],
      });
      waiting.catch(() => {});
      for (let i = 0; i < 5; i++) await tick();
      expect(rm.fetchPurgatorySize).toBe(1);
      c.close();
      for (let i = 0; i < 50 && rm.fetchPurgatorySize > 0; i++) await tick();
      expect(rm.fetchPurgatorySize).toBe(0);
      expect(time.pendingTimers).toBe(timersBefore);
    } finally {
      await tb.close();
    }
  });
});
