// The messages-out counter (kbroker_server_brokertopicmetrics_messagesout_total): records counted
// from the headers of the batches a fetch returns — compressed batches by their header count,
// control batches not at all, a batch cut at the fetch's byte limit not at all.
import { describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../protocol/records.js';
import { countRecords, Metrics } from '../server/metrics.js';

const batch = (n: number, opts: { baseOffset?: number; compression?: 'gzip'; control?: boolean } = {}) =>
  encodeRecordBatch({
    baseOffset: opts.baseOffset ?? 0,
    ...(opts.compression ? { compression: opts.compression } : {}),
    ...(opts.control ? { isControl: true, isTransactional: true, producerId: 7, producerEpoch: 0 } : {}),
    records: Array.from({ length: n }, (_, i) => ({
      key: opts.control ? Buffer.from([0, 0, 0, 0]) : Buffer.from(`k${i}`),
      value: opts.control ? Buffer.from([0, 0, 0, 0, 0, 0]) : Buffer.from(`value ${i}`),
      timestamp: 1_700_000_000_000 + i,
    })),
  });

describe('messages out', () => {
  it('counts the records of whole batches from their headers, skipping control batches and a cut last batch', () => {
    const plain = batch(3);
    const gzip = batch(40, { baseOffset: 3, compression: 'gzip' });
    const marker = batch(1, { baseOffset: 43, control: true });
    const next = batch(5, { baseOffset: 44 });
    const all = Buffer.concat([plain, gzip, marker, next]);
    expect(countRecords(all)).toBe(3 + 40 + 5);
    // A fetch may end inside a batch (its byte limit): that batch is not sent whole, not counted.
    expect(countRecords(all.subarray(0, all.length - 10))).toBe(3 + 40);
    expect(countRecords(Buffer.alloc(0))).toBe(0);
  });

  it('adds them per topic and in the all-topics total, beside bytes out, and forgets a deleted topic', () => {
    const m = new Metrics();
    const a = Buffer.concat([batch(10), batch(2, { baseOffset: 10, compression: 'gzip' })]);
    m.fetched('a', a);
    m.fetched('a', batch(1));
    m.fetched('b', batch(4));
    expect(m.messagesOut.get('a')).toBe(13);
    expect(m.messagesOut.get('b')).toBe(4);
    expect(m.totals.messagesOut).toBe(17);
    expect(m.bytesOut.get('a')).toBe(a.length + batch(1).length);
    m.topicDeleted('a');
    expect(m.messagesOut.has('a')).toBe(false);
    expect(m.totals.messagesOut).toBe(17);
  });
});
