/**
 * The `__consumer_offsets` record plumbing the server-assigned group kinds share (KIP-848 consumer
 * groups, KIP-932 share groups): a record is an int16 type opening the key, then the key body, and a
 * value opened by its int16 version (a null value is a tombstone). Kafka's GroupMetadataManager
 * replays every kind through the same decoding; so do we.
 */
import { decode } from '../../protocol/codec.js';
import { groupCoordinatorRecords } from '../../protocol/generated/messages.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import { recordSpecs, registryRecord } from '../runtime/record-codec.js';

/** topic id → partitions. */
export type Assignment = Map<string, Set<number>>;

const GROUP_RECORDS = 'group coordinator';

/** A group coordinator record of `type` (version 0 key and value; `value` null for a tombstone). */
export function groupRecord(type: number, key: object, value: object | null): CoordinatorRecord {
  return registryRecord(groupCoordinatorRecords, GROUP_RECORDS, type, key, value);
}

/** A stored record opened for replay: its type, decoded key, and its value decoded on demand. */
export interface OpenedGroupRecord {
  readonly type: number;
  readonly key: { readonly groupId: string; readonly memberId?: string; readonly regularExpression?: string };
  readonly groupId: string;
  readonly memberId: string;
  /** Null for a tombstone. */
  readonly value: (<T>() => T) | null;
  /** The decoded value, where the record type's replay knows it is not a tombstone. */
  readonly read: <T>() => T;
}

/** Opens a record for replay (a newer value version than we know is read as the newest we know). */
export function openGroupRecord(rec: CoordinatorRecord): OpenedGroupRecord {
  const type = rec.key.readInt16BE(0);
  const s = recordSpecs(groupCoordinatorRecords, GROUP_RECORDS, type);
  const key = decode<OpenedGroupRecord['key']>(s.key, 0, rec.key.subarray(2));
  const stored = rec.value;
  const value =
    stored === null
      ? null
      : <T>() =>
          decode<T>(s.value, Math.min(stored.readInt16BE(0), s.value.validVersions![1]), stored.subarray(2));
  const read = <T>(): T => {
    if (value === null)
      throw new Error(`group record type ${type} of ${key.groupId}: a tombstone has no value`);
    return value<T>();
  };
  return { type, key, groupId: key.groupId, memberId: key.memberId ?? '', value, read };
}

/**
 * The group a record replays into: made on the group's first record; null for a tombstone of a
 * group not held (nothing to remove).
 */
export function replayGroup<G>(
  groups: Map<string, G>,
  groupId: string,
  tombstone: boolean,
  create: (groupId: string) => G,
): G | null {
  let group = groups.get(groupId);
  if (!group) {
    if (tombstone) return null;
    group = create(groupId);
    groups.set(groupId, group);
  }
  return group;
}

export function topicPartitions(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a].map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }));
}

export function assignmentOf(
  list: readonly { topicId: string; partitions: readonly number[] }[],
): Assignment {
  const a: Assignment = new Map();
  for (const t of list) if (t.partitions.length > 0) a.set(t.topicId, new Set(t.partitions));
  return a;
}
