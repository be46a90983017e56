/**
 * SharePartitionManager on a real replica manager (a broker in this process): a share-partition
 * starts at the latest offset (none stored), a waiting ShareFetch is answered when records are
 * produced or released (not at its deadline), acquired records are stored through the persister
 * and restored from it, and closing a member's session releases what it held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { RecordState } from './share-partition.js';
import { MemoryPersister, SharePartitionManager } from './share-partition-manager.js';

let tb: TestBroker;
let topicId: string;

beforeAll(async () => {
  tb = await startTestBroker();
  await tb.broker.controller.createTopic('spm', 1);
  topicId = tb.broker.metadata.topic('spm')!.topicId;
});
afterAll(async () => {
  await tb.close();
});

const produce = (n: number) =>
  tb.broker.replicaManager
    .getPartition('spm', 0)!
    .appendRecordsToLeader(
      buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ value: `v${i}` })) }),
    );

function manager(persister = new MemoryPersister(), time = tb.broker.time) {
  const m = new SharePartitionManager(
    tb.broker.replicaManager,
    time,
    tb.broker.log,
    () => ({ lockDurationMs: 30_000, deliveryCountLimit: 5, maxInFlightRecords: 100, maxShareSessions: 10 }),
    (id) => (id === topicId ? 'spm' : undefined),
    () => 'latest',
    persister,
  );
  return { m, persister };
}

describe('SharePartitionManager', () => {
  it('a waiting fetch is answered by a produce, not its deadline', async () => {
    const { m } = manager();
    const conn = new AbortController();
    const s = m.sessions.open('g1', 'a', conn.signal);
    s.add(topicId, 0);
    // First fetch initializes the share-partition at the log end.
    const start = tb.broker.replicaManager.getPartition('spm', 0)!.highWatermark;
    expect(await m.fetch(s, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 100 }, conn.signal)).toEqual([]);
    const t0 = Date.now();
    const waiting = m.fetch(s, { maxWaitMs: 10_000, maxBytes: 1 << 20, maxRecords: 100 }, conn.signal);
    setTimeout(() => produce(3), 100);
    const r = await waiting;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r[0]!.acquiredRecords).toEqual([{ firstOffset: start, lastOffset: start + 2, deliveryCount: 1 }]);
    m.shutdown();
  });

  it('a waiting fetch of another member is answered when the holder releases; closing a session releases', async () => {
    const { m, persister } = manager();
    const ca = new AbortController();
    const cb = new AbortController();
    const sa = m.sessions.open('g2', 'a', ca.signal);
    const sb = m.sessions.open('g2', 'b', cb.signal);
    sa.add(topicId, 0);
    sb.add(topicId, 0);
    await m.fetch(sa, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 100 }, ca.signal);
    produce(2);
    const got = await m.fetch(sa, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 100 }, ca.signal);
    const first = got[0]!.acquiredRecords[0]!.firstOffset;
    const t0 = Date.now();
    const waiting = m.fetch(sb, { maxWaitMs: 10_000, maxBytes: 1 << 20, maxRecords: 100 }, cb.signal);
    // a's connection closes: its session ends and its records are released to b.
    setTimeout(() => ca.abort(), 100);
    const r = await waiting;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r[0]!.acquiredRecords).toEqual([{ firstOffset: first, lastOffset: first + 1, deliveryCount: 2 }]);
    // b accepts: the state stored says so, and a new manager on the same store restores it.
    await m.acknowledge('g2', 'b', topicId, 0, [
      { firstOffset: first, lastOffset: first + 1, acknowledgeTypes: [1] },
    ]);
    const stored = await persister.read('g2', topicId, 0);
    expect(stored?.startOffset).toBe(first + 2);
    m.shutdown();
    const again = manager(persister).m;
    const sp = await again.sharePartition('g2', topicId, 0);
    expect(sp.startOffset).toBe(first + 2);
    expect(sp.stateOf(first)?.state).toBe(RecordState.ARCHIVED);
    again.shutdown();
  });

  it('a read of many small batches meeting the in-flight limit does not stall the share-partition; accepting at the limit wakes a waiting fetch', async () => {
    // TestShareGroupETL (franz-go, KGO_TEST_RECORDS=20000): once a 1-partition topic had 100
    // records in flight (here the limit is 100), the rest of the read was taken for a gap above
    // SPEO and kept in the state, so the share-partition never gave out records again.
    const time = new MockTime();
    const { m } = manager(new MemoryPersister(), time);
    const ca = new AbortController();
    const cb = new AbortController();
    const sa = m.sessions.open('g3', 'a', ca.signal);
    const sb = m.sessions.open('g3', 'b', cb.signal);
    sa.add(topicId, 0);
    sb.add(topicId, 0);
    await m.fetch(sa, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 500 }, ca.signal);
    const start = tb.broker.replicaManager.getPartition('spm', 0)!.highWatermark;
    for (let i = 0; i < 30; i++) await produce(10);
    const got = await m.fetch(sa, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 500 }, ca.signal);
    expect(got[0]!.acquiredRecords).toEqual([
      { firstOffset: start, lastOffset: start + 99, deliveryCount: 1 },
    ]);
    // b waits: the share-partition is at its limit, nothing to acquire until a's records are done.
    const waiting = m.fetch(sb, { maxWaitMs: 30_000, maxBytes: 1 << 20, maxRecords: 500 }, cb.signal);
    while (m.waitingFetches === 0) await new Promise((r) => setImmediate(r));
    await m.acknowledge('g3', 'a', topicId, 0, [
      { firstOffset: start, lastOffset: start + 99, acknowledgeTypes: [1] },
    ]);
    const r = await waiting; // answered by the acknowledgement (the mock clock never moved)
    expect(r[0]!.acquiredRecords).toEqual([
      { firstOffset: start + 100, lastOffset: start + 199, deliveryCount: 1 },
    ]);
    await m.acknowledge('g3', 'b', topicId, 0, [
      { firstOffset: start + 100, lastOffset: start + 199, acknowledgeTypes: [1] },
    ]);
    const last = await m.fetch(sa, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 500 }, ca.signal);
    expect(last[0]!.acquiredRecords).toEqual([
      { firstOffset: start + 200, lastOffset: start + 299, deliveryCount: 1 },
    ]);
    m.shutdown();
  }, 10_000);
});

// Share-state persistence across brokers (sharestate17): a fenced write drops the stale copy.
describe('SharePartitionManager persistence', () => {
  it('a write fenced by the coordinator (state epoch) drops the share-partition; the next use reads the state again', async () => {
    class FencingPersister extends MemoryPersister {
      fenced = false;
      reads: (number | undefined)[] = [];
      override read(g: string, t: string, p: number, leaderEpoch?: number) {
        this.reads.push(leaderEpoch);
        return super.read(g, t, p);
      }
      override write(...args: Parameters<MemoryPersister['write']>) {
        if (this.fenced) return Promise.reject(new KafkaError('FENCED_STATE_EPOCH', 'initialized again'));
        return super.write(...args);
      }
    }
    const persister = new FencingPersister();
    const { m } = manager(persister);
    const conn = new AbortController();
    const s = m.sessions.open('g3', 'a', conn.signal);
    s.add(topicId, 0);
    await m.fetch(s, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 100 }, conn.signal);
    produce(2);
    const got = await m.fetch(s, { maxWaitMs: 0, maxBytes: 1 << 20, maxRecords: 100 }, conn.signal);
    const first = got[0]!.acquiredRecords[0]!.firstOffset;
    // The leader's epoch goes with the read (ReadShareGroupState fences older leaders).
    expect(persister.reads).toEqual([tb.broker.replicaManager.getPartition('spm', 0)!.leaderEpoch]);
    persister.fenced = true;
    const ack = await m.acknowledge('g3', 'a', topicId, 0, [
      { firstOffset: first, lastOffset: first, acknowledgeTypes: [1] },
    ]);
    expect(ack.error).toBe('FENCED_STATE_EPOCH');
    expect(m.loadedPartitions().filter((sp) => sp.groupId === 'g3')).toEqual([]);
    persister.fenced = false;
    await m.sharePartition('g3', topicId, 0);
    expect(persister.reads).toHaveLength(2);
    m.shutdown();
  });
});
