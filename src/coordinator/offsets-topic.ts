/**
 * `__consumer_offsets`: the internal, compacted topic holding committed offsets and group
 * metadata, with Kafka's record layouts (../shared/kafka-protocol-4.3.1/group-coordinator/*.json).
 *
 * Every key starts with an int16 record type (the definition's `apiKey`; older Kafka called it the
 * key version), then the key struct at version 0; every value with an int16 version, then the
 * struct at that version:
 * - type 0/1: LegacyOffsetCommitKey / OffsetCommitKey (group, topic, partition), one layout →
 *   value OffsetCommitValue (written as v3, or v1 when an OffsetCommit v2–4 asked for a
 *   retention time); type 1 is written;
 * - type 2: GroupMetadataKey (group) → value GroupMetadataValue (written as v3);
 * - other types (KIP-848/share/streams groups) are not read here and skipped on load.
 * A null value is a tombstone: the key (one offset, or a whole group) is deleted. One key per
 * (group, topic, partition) and per group, so compaction keeps exactly the latest state.
 *
 * A group lives in partition `abs(javaStringHashCode(groupId)) % offsets.topic.num.partitions`
 * (Kafka's `Utils.abs(groupId.hashCode) % groupMetadataTopicPartitionCount`).
 */
import { decode, encode } from '../protocol/codec.js';
import {
  GroupMetadataKey,
  type GroupMetadataKeyData,
  GroupMetadataValue,
  type GroupMetadataValueData,
  LegacyOffsetCommitKey,
  OffsetCommitKey,
  type OffsetCommitKeyData,
  OffsetCommitValue,
  type OffsetCommitValueData,
} from '../protocol/generated/messages.js';
import { versioned } from './runtime/record-codec.js';

export const GROUP_METADATA_TOPIC_NAME = '__consumer_offsets';

/** Java's `String.hashCode` over UTF-16 code units, as a signed 32-bit int. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's `Utils.abs`: Integer.MIN_VALUE maps to 0. */
function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

export function partitionFor(groupId: string, numPartitions: number): number {
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions;
}

/** Record types (`apiKey` of the key definitions), written before the key struct. */
export const OFFSET_COMMIT_KEY_VERSION = OffsetCommitKey.apiKey!;
export const GROUP_METADATA_KEY_VERSION = GroupMetadataKey.apiKey!;
/** Kafka 4's record keys are all at version 0 after their record type. */
const KEY_STRUCT_VERSION = 0;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** The value version that carries `expireTimestamp` (OffsetCommit v2–4 retention time). */
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE = 1;
export const GROUP_METADATA_VALUE_VERSION = 3;

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return versioned(
    OFFSET_COMMIT_KEY_VERSION,
    encode<OffsetCommitKeyData>(OffsetCommitKey, KEY_STRUCT_VERSION, { group, topic, partition }),
  );
}

export function groupMetadataKey(group: string): Buffer {
  return versioned(
    GROUP_METADATA_KEY_VERSION,
    encode<GroupMetadataKeyData>(GroupMetadataKey, KEY_STRUCT_VERSION, { group }),
  );
}

export interface OffsetAndMetadata {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Only from OffsetCommit v2–4 with a retention time; null otherwise (Kafka's Optional). */
  expireTimestamp: number | null;
}

export function offsetCommitValue(o: OffsetAndMetadata): Buffer {
  const version =
    o.expireTimestamp === null ? OFFSET_COMMIT_VALUE_VERSION : OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE;
  return versioned(
    version,
    encode<OffsetCommitValueData>(OffsetCommitValue, version, {
      offset: o.offset,
      leaderEpoch: o.leaderEpoch,
      metadata: o.metadata,
      commitTimestamp: o.commitTimestamp,
      expireTimestamp: o.expireTimestamp ?? -1,
    }),
  );
}

export function groupMetadataValue(v: GroupMetadataValueData): Buffer {
  return versioned(
    GROUP_METADATA_VALUE_VERSION,
    encode<GroupMetadataValueData>(GroupMetadataValue, GROUP_METADATA_VALUE_VERSION, v),
  );
}

export type CoordinatorKey =
  | { type: 'offset'; group: string; topic: string; partition: number }
  | { type: 'group'; group: string }
  | { type: 'other'; version: number };

const LEGACY_OFFSET_COMMIT_KEY_TYPE = LegacyOffsetCommitKey.apiKey!;

export function decodeCoordinatorKey(buf: Buffer): CoordinatorKey {
  const version = buf.readInt16BE(0);
  const body = buf.subarray(2);
  if (version === LEGACY_OFFSET_COMMIT_KEY_TYPE || version === OFFSET_COMMIT_KEY_VERSION) {
    const spec = version === OFFSET_COMMIT_KEY_VERSION ? OffsetCommitKey : LegacyOffsetCommitKey;
    const k = decode<OffsetCommitKeyData>(spec, KEY_STRUCT_VERSION, body);
    return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition };
  }
  if (version === GROUP_METADATA_KEY_VERSION) {
    const k = decode<GroupMetadataKeyData>(GroupMetadataKey, KEY_STRUCT_VERSION, body);
    return { type: 'group', group: k.group };
  }
  return { type: 'other', version };
}

/** An offset commit record's content, carried beside its bytes from the write to its replay. */
export interface DecodedOffsetCommit {
  readonly key: CoordinatorKey & { type: 'offset' };
  readonly value: OffsetAndMetadata;
}

/** The offset commit record of `value` for a group's partition, with its decoded form. */
export function offsetCommitRecord(
  group: string,
  topic: string,
  partition: number,
  value: OffsetAndMetadata,
): { key: Buffer; value: Buffer; decoded: DecodedOffsetCommit } {
  return {
    key: offsetCommitKey(group, topic, partition),
    value: offsetCommitValue(value),
    decoded: { key: { type: 'offset', group, topic, partition }, value },
  };
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetAndMetadata {
  const version = buf.readInt16BE(0);
  const v = decodeWithTrailing<OffsetCommitValueData>(OffsetCommitValue, version, buf.subarray(2));
  return {
    offset: v.offset,
    leaderEpoch: v.leaderEpoch ?? -1,
    metadata: v.metadata,
    commitTimestamp: v.commitTimestamp,
    expireTimestamp: version === 1 && (v.expireTimestamp ?? -1) !== -1 ? v.expireTimestamp! : null,
  };
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValueData {
  const version = buf.readInt16BE(0);
  return decodeWithTrailing<GroupMetadataValueData>(GroupMetadataValue, version, buf.subarray(2));
}

/**
 * Values newer than the versions we know are read at our highest version, as Kafka's loader
 * does (the schemas only ever append fields, so the known prefix reads correctly).
 */
function decodeWithTrailing<T>(
  spec: typeof OffsetCommitValue | typeof GroupMetadataValue,
  version: number,
  body: Buffer,
): T {
  const max = spec.validVersions![1];
  if (version < 0) throw new Error(`${spec.name}: negative version ${version}`);
  return decode<T>(spec, Math.min(version, max), body);
}
