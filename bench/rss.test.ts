import { describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { nextOffsetAfter } from './rss.js';

describe('bench:rss consumer position', () => {
  it('moves past the last whole batch of a fetch, not into a partial one', () => {
    const a = Buffer.from(buildRecordBatch({ baseOffset: 10, records: [{ value: 'a' }, { value: 'b' }] }));
    const b = Buffer.from(
      buildRecordBatch({ baseOffset: 12, records: [{ value: 'c' }, { value: 'd' }, { value: 'e' }] }),
    );
    expect(nextOffsetAfter(Buffer.concat([a, b]), 10)).toBe(15);
    // A fetch ends inside a batch (partitionMaxBytes): the partial one is read again next time.
    expect(nextOffsetAfter(Buffer.concat([a, b.subarray(0, b.length - 5)]), 10)).toBe(12);
    expect(nextOffsetAfter(Buffer.alloc(0), 7)).toBe(7);
  });
});
