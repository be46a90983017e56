import { describe, expect, it } from 'vitest';
import {
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  groupMetadataKey,
  groupMetadataValue,
  javaStringHashCode,
  offsetCommitKey,
  offsetCommitValue,
  partitionFor,
} from './offsets-topic.js';

const hex = (b: Buffer) => b.toString('hex');

describe('__consumer_offsets partitioning', () => {
  it("matches Java's String.hashCode", () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'));
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    // UTF-16 code units, as Java: a surrogate pair counts twice.
    expect(javaStringHashCode('\u{1F600}')).toBe((0xd83d * 31 + 0xde00) | 0);
  });

  it("is Kafka's Utils.abs(hashCode) % partitions", () => {
    expect(partitionFor('hello', 50)).toBe(99162322 % 50);
    expect(partitionFor('polygenelubricants', 50)).toBe(0);
    const negative = 'my-group';
    expect(javaStringHashCode(negative)).toBeLessThan(0);
    expect(partitionFor(negative, 50)).toBe(1906497762 % 50);
  });
});

describe('record layouts', () => {
  it('writes OffsetCommitKey v1 and GroupMetadataKey v2 byte for byte', () => {
    expect(hex(offsetCommitKey('g', 't', 7))).toBe('0001' + '000167' + '000174' + '00000007');
    expect(hex(groupMetadataKey('g'))).toBe('0002' + '000167');
    expect(decodeCoordinatorKey(offsetCommitKey('grp', 'topic', 3))).toEqual({
      type: 'offset',
      group: 'grp',
      topic: 'topic',
      partition: 3,
    });
    expect(decodeCoordinatorKey(groupMetadataKey('grp'))).toEqual({ type: 'group', group: 'grp' });
    // Key version 0 (older brokers) reads the same way; KIP-848 keys are reported, not read.
    const v0 = offsetCommitKey('g', 't', 1);
    v0.writeInt16BE(0, 0);
    expect(decodeCoordinatorKey(v0).type).toBe('offset');
    expect(decodeCoordinatorKey(Buffer.from('0003000167', 'hex'))).toEqual({ type: 'other', version: 3 });
  });

  it('writes OffsetCommitValue v3, or v1 when an expire timestamp is set', () => {
    const v3 = offsetCommitValue({
      offset: 5,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 1000,
      expireTimestamp: null,
    });
    expect(hex(v3)).toBe('0003' + '0000000000000005' + '00000002' + '00016d' + '00000000000003e8');
    const v1 = offsetCommitValue({
      offset: 5,
      leaderEpoch: 2,
      metadata: '',
      commitTimestamp: 1000,
      expireTimestamp: 2000,
    });
    expect(hex(v1)).toBe('0001' + '0000000000000005' + '0000' + '00000000000003e8' + '00000000000007d0');
    expect(decodeOffsetCommitValue(v3)).toEqual({
      offset: 5,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 1000,
      expireTimestamp: null,
    });
    expect(decodeOffsetCommitValue(v1)).toEqual({
      offset: 5,
      leaderEpoch: -1,
      metadata: '',
      commitTimestamp: 1000,
      expireTimestamp: 2000,
    });
  });

  it('writes GroupMetadataValue v3 and reads it back', () => {
    const value = {
      protocolType: 'consumer',
      generation: 4,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 99,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: null,
          clientId: 'c',
          clientHost: '/127.0.0.1',
          rebalanceTimeout: 60000,
          sessionTimeout: 30000,
          subscription: Buffer.from([1, 2]),
          assignment: Buffer.from([3]),
        },
      ],
    };
    const buf = groupMetadataValue(value);
    expect(buf.readInt16BE(0)).toBe(3);
    // protocolType "consumer" right after the version, then generation 4.
    expect(hex(buf.subarray(2, 16))).toBe(`0008${Buffer.from('consumer').toString('hex')}00000004`);
    expect(decodeGroupMetadataValue(buf)).toMatchObject({ ...value, members: [{ ...value.members[0] }] });
  });
});
