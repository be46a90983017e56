import { describe, expect, it } from 'vitest';
import { assignmentOf, groupRecord, openGroupRecord, topicPartitions } from './group-records.js';

describe('group records', () => {
  it('writes the type then the key, the value behind its version, and reads them back', () => {
    // ConsumerGroupMetadata (type 3): key { groupId }, value { epoch, metadataHash }.
    const rec = groupRecord(3, { groupId: 'g' }, { epoch: 7, metadataHash: 9 });
    expect(rec.key.toString('hex')).toBe('0003' + '0001' + '67');
    expect(rec.value!.readInt16BE(0)).toBe(0);
    const opened = openGroupRecord(rec);
    expect(opened.type).toBe(3);
    expect(opened.groupId).toBe('g');
    expect(opened.memberId).toBe('');
    expect(opened.value!<{ epoch: number }>().epoch).toBe(7);
  });

  it('opens a tombstone with no value', () => {
    const opened = openGroupRecord(groupRecord(5, { groupId: 'g', memberId: 'm' }, null));
    expect(opened).toMatchObject({ type: 5, groupId: 'g', memberId: 'm', value: null });
  });

  it('converts assignments to sorted wire lists and back, dropping empty topics', () => {
    const wire = topicPartitions(new Map([['t', new Set([2, 0, 1])]]));
    expect(wire).toEqual([{ topicId: 't', partitions: [0, 1, 2] }]);
    expect(assignmentOf([...wire, { topicId: 'u', partitions: [] }])).toEqual(
      new Map([['t', new Set([0, 1, 2])]]),
    );
  });
});
