/**
 * Share groups (KIP-932, Kafka's ShareGroup / ShareGroupMember): the state the share group
 * records of ../shared/kafka-protocol-4.3.1/group-coordinator rebuild in `__consumer_offsets`,
 * and those records. The state changes only in `replayShareGroupRecord` (the shard's replay),
 * the same at load and after each write; the heartbeat (share-groups.ts) reads it and returns
 * records.
 *
 * Records (key = int16 record type + key struct v0, value = int16 version 0 + value struct):
 * - 11 ShareGroupMetadata: group epoch and the hash of the subscribed topics' metadata; a
 *   tombstone deletes the (empty) group;
 * - 10 ShareGroupMemberMetadata: a member's subscription, client and rack; a tombstone removes it;
 * - 12 ShareGroupTargetAssignmentMetadata: the epoch of the target assignment;
 * - 13 ShareGroupTargetAssignmentMember: a member's target partitions;
 * - 14 ShareGroupCurrentMemberAssignment: a member's epoch, previous epoch, state and partitions;
 * - 15 ShareGroupStatePartitionMetadata: the topic partitions whose share state is initialized.
 */
import type {
  ShareGroupCurrentMemberAssignmentValueData,
  ShareGroupMemberMetadataValueData,
  ShareGroupMetadataValueData,
  ShareGroupStatePartitionMetadataValueData,
  ShareGroupTargetAssignmentMemberValueData,
  ShareGroupTargetAssignmentMetadataValueData,
} from '../../protocol/generated/messages.js';
import {
  type Assignment,
  assignmentOf,
  openGroupRecord,
  groupRecord as record,
  replayGroup,
  topicPartitions,
} from '../group/group-records.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';

export type { Assignment };

export type ShareGroupStateName = 'Empty' | 'Stable' | 'Dead';

export interface ShareGroupMember {
  readonly memberId: string;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly assignedPartitions: Assignment;
}

export function newShareMember(memberId: string): ShareGroupMember {
  return {
    memberId,
    rackId: null,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: [],
    memberEpoch: 0,
    previousMemberEpoch: 0,
    assignedPartitions: new Map(),
  };
}

export class ShareGroup {
  groupEpoch = 0;
  metadataHash = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ShareGroupMember>();
  readonly targetAssignment = new Map<string, Assignment>();
  /** topic id → { name, partitions whose share state is initialized }. */
  readonly initialized = new Map<string, { topicName: string; partitions: Set<number> }>();

  constructor(readonly groupId: string) {}

  get state(): ShareGroupStateName {
    return this.members.size === 0 ? 'Empty' : 'Stable';
  }

  targetOf(memberId: string): Assignment {
    return this.targetAssignment.get(memberId) ?? new Map();
  }

  /** Every topic name a member subscribes to. */
  subscribedTopicNames(): Set<string> {
    const out = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) out.add(t);
    return out;
  }
}

// ---- records ----

export const SHARE_RECORD_TYPE = {
  memberMetadata: 10,
  metadata: 11,
  targetAssignmentMetadata: 12,
  targetAssignmentMember: 13,
  currentMemberAssignment: 14,
  statePartitionMetadata: 15,
} as const;

const SHARE_GROUP_RECORD_TYPES: ReadonlySet<number> = new Set(Object.values(SHARE_RECORD_TYPE));

export function shareGroupEpochRecord(
  groupId: string,
  epoch: number,
  metadataHash: number,
): CoordinatorRecord {
  return record(SHARE_RECORD_TYPE.metadata, { groupId }, {
    epoch,
    metadataHash,
  } satisfies ShareGroupMetadataValueData);
}

export function shareMemberMetadataRecord(groupId: string, m: ShareGroupMember): CoordinatorRecord {
  return record(SHARE_RECORD_TYPE.memberMetadata, { groupId, memberId: m.memberId }, {
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    subscribedTopicNames: [...m.subscribedTopicNames],
  } satisfies ShareGroupMemberMetadataValueData);
}

export function shareMemberTombstones(groupId: string, memberId: string): CoordinatorRecord[] {
  return [
    record(SHARE_RECORD_TYPE.currentMemberAssignment, { groupId, memberId }, null),
    record(SHARE_RECORD_TYPE.targetAssignmentMember, { groupId, memberId }, null),
    record(SHARE_RECORD_TYPE.memberMetadata, { groupId, memberId }, null),
  ];
}

export function shareTargetAssignmentRecord(
  groupId: string,
  memberId: string,
  a: Assignment,
): CoordinatorRecord {
  return record(SHARE_RECORD_TYPE.targetAssignmentMember, { groupId, memberId }, {
    topicPartitions: topicPartitions(a),
  } satisfies ShareGroupTargetAssignmentMemberValueData);
}

export function shareTargetAssignmentEpochRecord(
  groupId: string,
  epoch: number,
  now: number,
): CoordinatorRecord {
  return record(SHARE_RECORD_TYPE.targetAssignmentMetadata, { groupId }, {
    assignmentEpoch: epoch,
    assignmentTimestamp: now,
  } satisfies ShareGroupTargetAssignmentMetadataValueData);
}

export function shareCurrentAssignmentRecord(groupId: string, m: ShareGroupMember): CoordinatorRecord {
  return record(SHARE_RECORD_TYPE.currentMemberAssignment, { groupId, memberId: m.memberId }, {
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: 0,
    assignedPartitions: topicPartitions(m.assignedPartitions),
  } satisfies ShareGroupCurrentMemberAssignmentValueData);
}

export function shareStatePartitionMetadataRecord(
  groupId: string,
  initialized: ReadonlyMap<string, { topicName: string; partitions: ReadonlySet<number> }>,
): CoordinatorRecord {
  return record(SHARE_RECORD_TYPE.statePartitionMetadata, { groupId }, {
    initializingTopics: [],
    initializedTopics: [...initialized].map(([topicId, t]) => ({
      topicId,
      topicName: t.topicName,
      partitions: [...t.partitions].sort((a, b) => a - b),
    })),
    deletingTopics: [],
  } satisfies ShareGroupStatePartitionMetadataValueData);
}

/** The records deleting an empty share group (Kafka's order: state metadata, target epoch, group). */
export function shareGroupTombstones(groupId: string): CoordinatorRecord[] {
  return [
    record(SHARE_RECORD_TYPE.statePartitionMetadata, { groupId }, null),
    record(SHARE_RECORD_TYPE.targetAssignmentMetadata, { groupId }, null),
    record(SHARE_RECORD_TYPE.metadata, { groupId }, null),
  ];
}

/** Whether a `__consumer_offsets` key is a share group record. */
export function isShareGroupRecord(key: Buffer): boolean {
  return key.length >= 2 && SHARE_GROUP_RECORD_TYPES.has(key.readInt16BE(0));
}

/** Applies one share group record to `groups` (creating the group on its first record). */
export function replayShareGroupRecord(groups: Map<string, ShareGroup>, rec: CoordinatorRecord): string {
  const { type, groupId, memberId, read: value } = openGroupRecord(rec);
  const group = replayGroup(groups, groupId, rec.value === null, (id) => new ShareGroup(id));
  if (!group) return groupId;
  switch (type) {
    case SHARE_RECORD_TYPE.metadata:
      if (rec.value === null) groups.delete(groupId);
      else {
        const v = value<ShareGroupMetadataValueData>();
        group.groupEpoch = v.epoch;
        group.metadataHash = v.metadataHash ?? 0;
      }
      break;
    case SHARE_RECORD_TYPE.memberMetadata:
      if (rec.value === null) group.members.delete(memberId);
      else {
        const v = value<ShareGroupMemberMetadataValueData>();
        const old = group.members.get(memberId) ?? newShareMember(memberId);
        group.members.set(memberId, {
          ...old,
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          subscribedTopicNames: v.subscribedTopicNames,
        });
      }
      break;
    case SHARE_RECORD_TYPE.targetAssignmentMetadata:
      group.assignmentEpoch =
        rec.value === null ? 0 : value<ShareGroupTargetAssignmentMetadataValueData>().assignmentEpoch;
      break;
    case SHARE_RECORD_TYPE.targetAssignmentMember:
      if (rec.value === null) group.targetAssignment.delete(memberId);
      else
        group.targetAssignment.set(
          memberId,
          assignmentOf(value<ShareGroupTargetAssignmentMemberValueData>().topicPartitions),
        );
      break;
    case SHARE_RECORD_TYPE.currentMemberAssignment: {
      const old = group.members.get(memberId);
      if (rec.value === null) {
        if (old)
          group.members.set(memberId, {
            ...old,
            memberEpoch: 0,
            previousMemberEpoch: 0,
            assignedPartitions: new Map(),
          });
      } else {
        const v = value<ShareGroupCurrentMemberAssignmentValueData>();
        group.members.set(memberId, {
          ...(old ?? newShareMember(memberId)),
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          assignedPartitions: assignmentOf(v.assignedPartitions),
        });
      }
      break;
    }
    case SHARE_RECORD_TYPE.statePartitionMetadata:
      group.initialized.clear();
      if (rec.value !== null) {
        for (const t of value<ShareGroupStatePartitionMetadataValueData>().initializedTopics)
          group.initialized.set(t.topicId, { topicName: t.topicName, partitions: new Set(t.partitions) });
      }
      break;
  }
  return groupId;
}

/** Every record deleting an empty share group: what is left of its members, then the group. */
export function shareGroupDeletion(group: ShareGroup): CoordinatorRecord[] {
  const members = new Set([...group.members.keys(), ...group.targetAssignment.keys()]);
  return [
    ...[...members].flatMap((m) => shareMemberTombstones(group.groupId, m)),
    ...shareGroupTombstones(group.groupId),
  ];
}
