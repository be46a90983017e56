import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { AcknowledgeType, type PersistedStateBatch, RecordState, SharePartition } from './share-partition.js';

const config = { lockDurationMs: 30_000, deliveryCountLimit: 3, maxInFlightRecords: 100 };

function partition(time = new MockTime(), start = 0, persisted: PersistedStateBatch[] = [], cfg = config) {
  const sp = new SharePartition('g', 'tid', 0, time, cfg, start, persisted);
  const changes: PersistedStateBatch[][] = [];
  let available = 0;
  sp.onChange = (b) => changes.push(b);
  sp.onAvailable = () => available++;
  return { sp, time, changes, available: () => available };
}

const batch = (baseOffset: number, lastOffset: number) => ({ baseOffset, lastOffset });

function errorName(f: () => void): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof KafkaError ? err.error : 'not a KafkaError';
  }
  return undefined;
}

describe('SharePartition', () => {
  it('acquires new records from SPEO for one member at a time, each once', () => {
    const { sp } = partition();
    expect(sp.acquire('a', [batch(0, 9)], 500)).toEqual([
      { firstOffset: 0, lastOffset: 9, deliveryCount: 1 },
    ]);
    expect(sp.endOffset).toBe(10);
    // The same batch fetched again by another member: nothing left to acquire.
    expect(sp.acquire('b', [batch(0, 9)], 500)).toEqual([]);
    expect(sp.nextFetchOffset()).toBe(10);
    expect(sp.stateOf(3)).toEqual({ state: RecordState.ACQUIRED, deliveryCount: 1, memberId: 'a' });
  });

  it('stops at maxRecords and the in-flight limit', () => {
    const { sp } = partition(new MockTime(), 0, [], { ...config, maxInFlightRecords: 100 });
    expect(sp.acquire('a', [batch(0, 9)], 4)).toEqual([{ firstOffset: 0, lastOffset: 3, deliveryCount: 1 }]);
    expect(sp.acquire('b', [batch(0, 9)], 500)).toEqual([
      { firstOffset: 4, lastOffset: 9, deliveryCount: 1 },
    ]);
    expect(sp.acquire('c', [batch(10, 200)], 500)).toEqual([
      { firstOffset: 10, lastOffset: 99, deliveryCount: 1 },
    ]);
    expect(sp.inFlightCount).toBe(100);
    expect(sp.nextFetchOffset()).toBeUndefined();
  });

  it('the in-flight limit met in one batch stops the walk: later batches of the read are neither acquired nor taken for gaps', () => {
    // TestShareGroupETL (franz-go, 20,000 records): a read of many small batches met the limit
    // in one of them; the next batches started past SPEO and their offsets were taken as a gap
    // in the log, archived above SPEO, so the map stayed over the limit and the partition never
    // gave out records again once the acquired ones were accepted.
    const { sp, changes } = partition(new MockTime(), 0, [], { ...config, maxInFlightRecords: 100 });
    const read = Array.from({ length: 30 }, (_, i) => batch(i * 10, i * 10 + 9)); // 300 records
    expect(sp.acquire('a', read, 500)).toEqual([{ firstOffset: 0, lastOffset: 99, deliveryCount: 1 }]);
    expect(sp.endOffset).toBe(100);
    expect(sp.inFlightCount).toBe(100);
    expect(sp.stateOf(100)).toBeUndefined(); // never acquired, not archived
    // Nothing stored as archived: the records above SPEO are still to be delivered.
    expect(changes.flat().some((b) => b.deliveryState === RecordState.ARCHIVED)).toBe(false);
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 99, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.startOffset).toBe(100);
    expect(sp.inFlightCount).toBe(0);
    expect(sp.nextFetchOffset()).toBe(100);
    // The same read again (from SPEO): the next 100 records, each delivered once.
    expect(sp.acquire('b', read.slice(10), 500)).toEqual([
      { firstOffset: 100, lastOffset: 199, deliveryCount: 1 },
    ]);
    sp.acknowledge('b', [{ firstOffset: 100, lastOffset: 199, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.acquire('c', read.slice(20), 500)).toEqual([
      { firstOffset: 200, lastOffset: 299, deliveryCount: 1 },
    ]);
  });

  it('a control batch past the in-flight limit waits too', () => {
    const { sp } = partition(new MockTime(), 0, [], { ...config, maxInFlightRecords: 100 });
    expect(sp.acquire('a', [batch(0, 99), { baseOffset: 100, lastOffset: 100, control: true }], 500)).toEqual(
      [{ firstOffset: 0, lastOffset: 99, deliveryCount: 1 }],
    );
    expect(sp.endOffset).toBe(100);
    expect(sp.inFlightCount).toBe(100);
  });

  it('offsets missing from the log between batches are archived without state: SPEO and SPSO move over them, a huge gap costs nothing', () => {
    const { sp, changes } = partition();
    expect(sp.acquire('a', [batch(0, 4), batch(8, 9)], 500)).toEqual([
      { firstOffset: 0, lastOffset: 4, deliveryCount: 1 },
      { firstOffset: 8, lastOffset: 9, deliveryCount: 1 },
    ]);
    expect(sp.endOffset).toBe(10);
    expect(sp.inFlightCount).toBe(7);
    expect(sp.stateOf(6)?.state).toBe(RecordState.ARCHIVED);
    // The stored state has the same hole (read back as archived, see the restore test).
    expect(changes[0]).toEqual([
      { firstOffset: 0, lastOffset: 4, deliveryState: RecordState.AVAILABLE, deliveryCount: 1 },
      { firstOffset: 8, lastOffset: 9, deliveryState: RecordState.AVAILABLE, deliveryCount: 1 },
    ]);
    sp.acknowledge('a', [
      { firstOffset: 0, lastOffset: 4, acknowledgeTypes: [AcknowledgeType.ACCEPT] },
      { firstOffset: 8, lastOffset: 9, acknowledgeTypes: [AcknowledgeType.ACCEPT] },
    ]);
    expect(sp.startOffset).toBe(10);
    expect(sp.inFlightCount).toBe(0);
    // A compacted log with a billion offsets gone between two records: two entries, not a billion.
    const far = 10 + 1_000_000_000;
    expect(sp.acquire('a', [batch(10, 10), batch(far, far)], 500)).toEqual([
      { firstOffset: 10, lastOffset: 10, deliveryCount: 1 },
      { firstOffset: far, lastOffset: far, deliveryCount: 1 },
    ]);
    expect(sp.inFlightCount).toBe(2);
    expect(sp.deliveryCompleteCount).toBe(far - 11);
    sp.acknowledge('a', [{ firstOffset: 10, lastOffset: 10, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.startOffset).toBe(far);
    expect(sp.nextFetchOffset()).toBe(far + 1);
  });

  it('an available record gone from the log (compacted while in flight) is archived when a read passes it', () => {
    const { sp, changes } = partition();
    sp.acquire('a', [batch(0, 9)], 500, 0);
    sp.acknowledge('a', [
      { firstOffset: 5, lastOffset: 5, acknowledgeTypes: [AcknowledgeType.RELEASE] },
      { firstOffset: 8, lastOffset: 8, acknowledgeTypes: [AcknowledgeType.RELEASE] },
    ]);
    expect(sp.nextFetchOffset()).toBe(5);
    // Only one record wanted: the walk stops after 5, so 8 (not looked at) stays available.
    expect(sp.acquire('b', [batch(0, 9)], 1, 5)).toEqual([
      { firstOffset: 5, lastOffset: 5, deliveryCount: 2 },
    ]);
    expect(sp.stateOf(8)?.state).toBe(RecordState.AVAILABLE);
    // 8 is compacted away: the read from 8 starts at the next batch, and 8 is archived, not fetched forever.
    changes.length = 0;
    expect(sp.acquire('b', [batch(9, 9), batch(10, 12)], 500, 8)).toEqual([
      { firstOffset: 10, lastOffset: 12, deliveryCount: 1 },
    ]);
    expect(sp.stateOf(8)?.state).toBe(RecordState.ARCHIVED);
    expect(changes[0]).toContainEqual({
      firstOffset: 8,
      lastOffset: 8,
      deliveryState: RecordState.ARCHIVED,
      deliveryCount: 1,
    });
    expect(sp.nextFetchOffset()).toBe(13);
  });

  it('a hole in the stored state is a gap: archived, SPSO moves over it', () => {
    const { sp } = partition(new MockTime(), 0, [
      { firstOffset: 0, lastOffset: 1, deliveryState: RecordState.ACQUIRED, deliveryCount: 1 },
      { firstOffset: 5, lastOffset: 6, deliveryState: RecordState.ACQUIRED, deliveryCount: 1 },
    ]);
    expect(sp.stateOf(3)?.state).toBe(RecordState.ARCHIVED);
    expect(sp.nextFetchOffset()).toBe(0);
    expect(sp.acquire('a', [batch(0, 1), batch(5, 6)], 500)).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryCount: 2 },
      { firstOffset: 5, lastOffset: 6, deliveryCount: 2 },
    ]);
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.startOffset).toBe(5);
    sp.acknowledge('a', [{ firstOffset: 5, lastOffset: 6, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.startOffset).toBe(7);
    expect(sp.nextFetchOffset()).toBe(7);
  });

  it('accepting records of a share-partition at its in-flight limit wakes waiting fetches once SPSO moves', () => {
    const { sp, available } = partition(new MockTime(), 0, [], { ...config, maxInFlightRecords: 100 });
    sp.acquire('a', [batch(0, 49)], 500);
    sp.acquire('b', [batch(50, 149)], 500);
    expect(sp.nextFetchOffset()).toBeUndefined();
    // b's accepts leave SPSO where it is (a holds 0..49): still full, nothing to wake for.
    sp.acknowledge('b', [{ firstOffset: 50, lastOffset: 99, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(available()).toBe(0);
    expect(sp.nextFetchOffset()).toBeUndefined();
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 49, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.startOffset).toBe(100);
    expect(available()).toBe(1);
    expect(sp.nextFetchOffset()).toBe(100);
  });

  it('accept moves SPSO over the acknowledged prefix and forgets it; a gap in the middle keeps it', () => {
    const { sp, changes } = partition();
    sp.acquire('a', [batch(0, 9)], 500);
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 3, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.startOffset).toBe(4);
    sp.acknowledge('a', [{ firstOffset: 6, lastOffset: 7, acknowledgeTypes: [AcknowledgeType.ACCEPT] }]);
    expect(sp.startOffset).toBe(4);
    expect(sp.stateOf(6)?.state).toBe(RecordState.ACKNOWLEDGED);
    expect(sp.stateOf(2)?.state).toBe(RecordState.ARCHIVED); // below SPSO: done with
    sp.acknowledge('a', [
      { firstOffset: 4, lastOffset: 5, acknowledgeTypes: [AcknowledgeType.ACCEPT, AcknowledgeType.GAP] },
      { firstOffset: 8, lastOffset: 9, acknowledgeTypes: [AcknowledgeType.REJECT, AcknowledgeType.ACCEPT] },
    ]);
    expect(sp.startOffset).toBe(10);
    expect(sp.inFlightCount).toBe(0);
    // Each change was reported with its persisted state (acquired persisted as available).
    expect(changes[0]).toEqual([
      { firstOffset: 0, lastOffset: 9, deliveryState: RecordState.AVAILABLE, deliveryCount: 1 },
    ]);
  });

  it('refuses acknowledgements of records the member does not hold, changing nothing', () => {
    const { sp } = partition();
    sp.acquire('a', [batch(0, 4)], 500);
    sp.acquire('b', [batch(5, 9)], 500);
    expect(
      errorName(() =>
        sp.acknowledge('a', [
          { firstOffset: 0, lastOffset: 1, acknowledgeTypes: [1] },
          { firstOffset: 5, lastOffset: 5, acknowledgeTypes: [1] },
        ]),
      ),
    ).toBe('INVALID_RECORD_STATE');
    expect(sp.stateOf(0)?.state).toBe(RecordState.ACQUIRED);
    expect(
      errorName(() => sp.acknowledge('a', [{ firstOffset: 20, lastOffset: 20, acknowledgeTypes: [1] }])),
    ).toBe('INVALID_RECORD_STATE');
    expect(
      errorName(() => sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 2, acknowledgeTypes: [1, 1] }])),
    ).toBe('INVALID_REQUEST');
    expect(
      errorName(() => sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [9] }])),
    ).toBe('INVALID_REQUEST');
    // Accepting twice: the second time the record is no longer acquired.
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }]);
    expect(
      errorName(() => sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }])),
    ).toBe('INVALID_RECORD_STATE');
  });

  it('release makes records available again with their delivery count; the limit archives them', () => {
    const { sp, available } = partition();
    sp.acquire('a', [batch(0, 1)], 500);
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [AcknowledgeType.RELEASE] }]);
    expect(available()).toBe(1);
    expect(sp.nextFetchOffset()).toBe(0);
    expect(sp.acquire('b', [batch(0, 1)], 500)).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryCount: 2 },
    ]);
    sp.acknowledge('b', [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [AcknowledgeType.RELEASE] }]);
    expect(sp.acquire('c', [batch(0, 1)], 500)).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryCount: 3 },
    ]);
    // Third delivery was the last (group.share.delivery.count.limit=3): released now means archived.
    sp.acknowledge('c', [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [AcknowledgeType.RELEASE] }]);
    expect(sp.startOffset).toBe(2);
    expect(sp.acquire('d', [batch(0, 1)], 500)).toEqual([]);
  });

  it('an expired acquisition lock (broker clock) makes the records available; acknowledging them then fails', () => {
    const { sp, time, available } = partition();
    sp.acquire('a', [batch(0, 4)], 500);
    time.advance(29_999);
    expect(sp.stateOf(0)?.state).toBe(RecordState.ACQUIRED);
    time.advance(1);
    expect(sp.stateOf(0)).toEqual({ state: RecordState.AVAILABLE, deliveryCount: 1, memberId: null });
    expect(available()).toBe(1);
    expect(
      errorName(() => sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }])),
    ).toBe('INVALID_RECORD_STATE');
    expect(sp.acquire('b', [batch(0, 4)], 500)).toEqual([
      { firstOffset: 0, lastOffset: 4, deliveryCount: 2 },
    ]);
    // A lock whose records were all acknowledged is cancelled: nothing fires later.
    sp.acknowledge('b', [{ firstOffset: 0, lastOffset: 4, acknowledgeTypes: [1] }]);
    expect(time.pendingTimers).toBe(0);
    // Three expiries reach the limit: archived.
    const { sp: sp2, time: t2 } = partition();
    for (let i = 0; i < 3; i++) {
      expect(sp2.acquire('a', [batch(0, 0)], 1)).toHaveLength(1);
      t2.advance(30_000);
    }
    expect(sp2.startOffset).toBe(1);
  });

  it('renew extends the lock of the records it names', () => {
    const { sp, time } = partition();
    sp.acquire('a', [batch(0, 1)], 500);
    time.advance(20_000);
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [AcknowledgeType.RENEW] }]);
    time.advance(10_000);
    expect(sp.stateOf(0)?.state).toBe(RecordState.ACQUIRED);
    expect(sp.stateOf(1)?.state).toBe(RecordState.AVAILABLE);
    time.advance(20_000);
    expect(sp.stateOf(0)?.state).toBe(RecordState.AVAILABLE);
  });

  it('releaseMember gives back everything a member holds (its session closed)', () => {
    const { sp } = partition();
    sp.acquire('a', [batch(0, 2)], 500);
    sp.acquire('b', [batch(3, 5)], 500);
    expect(sp.releaseMember('a')).toBe(3);
    expect(sp.stateOf(0)?.state).toBe(RecordState.AVAILABLE);
    expect(sp.stateOf(3)?.state).toBe(RecordState.ACQUIRED);
  });

  it('control batches are archived, never delivered; offsets missing from the log are skipped', () => {
    const { sp } = partition();
    expect(
      sp.acquire('a', [batch(0, 1), { baseOffset: 2, lastOffset: 2, control: true }, batch(5, 6)], 500),
    ).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryCount: 1 },
      { firstOffset: 5, lastOffset: 6, deliveryCount: 1 },
    ]);
    sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 1, acknowledgeTypes: [1] }]);
    expect(sp.startOffset).toBe(5);
  });

  it('restores persisted state: acknowledged stays, acquired comes back available', () => {
    const { sp } = partition(new MockTime(), 10, [
      { firstOffset: 10, lastOffset: 11, deliveryState: RecordState.ACKNOWLEDGED, deliveryCount: 1 },
      { firstOffset: 12, lastOffset: 14, deliveryState: RecordState.ACQUIRED, deliveryCount: 2 },
      { firstOffset: 15, lastOffset: 15, deliveryState: RecordState.ARCHIVED, deliveryCount: 1 },
    ]);
    expect(sp.startOffset).toBe(12);
    expect(sp.endOffset).toBe(16);
    expect(sp.nextFetchOffset()).toBe(12);
    expect(sp.acquire('a', [batch(10, 20)], 500)).toEqual([
      { firstOffset: 12, lastOffset: 14, deliveryCount: 3 },
      { firstOffset: 16, lastOffset: 20, deliveryCount: 1 },
    ]);
    expect(sp.snapshot()[0]).toEqual({
      firstOffset: 12,
      lastOffset: 14,
      deliveryState: RecordState.AVAILABLE,
      deliveryCount: 3,
    });
  });

  it('the log start moving past SPSO archives what lies below', () => {
    const { sp } = partition();
    sp.acquire('a', [batch(0, 9)], 500);
    sp.updateLogStartOffset(5);
    expect(sp.startOffset).toBe(5);
    expect(sp.inFlightCount).toBe(5);
    expect(
      errorName(() => sp.acknowledge('a', [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }])),
    ).toBe('INVALID_RECORD_STATE');
  });
});
