/**
 * KIP-848 consumer groups (Kafka's `ConsumerGroup` / `ConsumerGroupMember`): the state the
 * `__consumer_offsets` records of ../shared/kafka-protocol-4.3.1/group-coordinator rebuild, and
 * those records. The state changes only in `replayConsumerGroupRecord` (the shard's replay), the
 * same at load and after each write; the heartbeat (consumer-group-heartbeat.ts) reads it and
 * returns records.
 *
 * Records (key = int16 record type + key struct v0, value = int16 version 0 + value struct):
 * - 3 ConsumerGroupMetadata: group epoch and the hash of the subscribed topics' metadata; a
 *   tombstone deletes the (empty) group;
 * - 5 ConsumerGroupMemberMetadata: a member's subscription, client, rack, instance id, rebalance
 *   timeout, server assignor; a tombstone removes the member;
 * - 6 ConsumerGroupTargetAssignmentMetadata: the epoch of the target assignment;
 * - 7 ConsumerGroupTargetAssignmentMember: a member's target partitions (tombstone: none);
 * - 8 ConsumerGroupCurrentMemberAssignment: a member's epoch, previous epoch, state, assigned
 *   partitions and partitions pending revocation (tombstone: none);
 * - 16 ConsumerGroupRegularExpression: the topics a subscribed regular expression resolved to.
 * ConsumerGroupPartitionMetadata (4) is what Kafka before 4.1 wrote instead of the hash; it is
 * skipped when read (the hash is recomputed on the next heartbeat).
 */
import type { ErrorName } from '../../protocol/generated/errors.js';
import type {
  ConsumerGroupCurrentMemberAssignmentValueData,
  ConsumerGroupMemberMetadataValueData,
  ConsumerGroupMetadataValueData,
  ConsumerGroupRegularExpressionValueData,
  ConsumerGroupTargetAssignmentMemberValueData,
  ConsumerGroupTargetAssignmentMetadataValueData,
} from '../../protocol/generated/messages.js';
import { CONSUMER_PROTOCOL_TYPE } from '../group-metadata.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import {
  type Assignment,
  assignmentOf,
  openGroupRecord,
  groupRecord as record,
  replayGroup,
  topicPartitions,
} from './group-records.js';

export type { Assignment };

/** Kafka's MemberState (the byte stored in CurrentMemberAssignment). */
export const MemberState = {
  STABLE: 0,
  UNREVOKED_PARTITIONS: 1,
  UNRELEASED_PARTITIONS: 2,
  UNKNOWN: 127,
} as const;

/** Kafka's ConsumerGroupState names (ConsumerGroupDescribe, ListGroups, DescribeGroups). */
export type ConsumerGroupStateName = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';

/** The epoch of a static member that left and may come back (Kafka's LEAVE_GROUP_STATIC_MEMBER_EPOCH). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;

/**
 * What a member using the classic protocol (JoinGroup/SyncGroup/Heartbeat) inside a consumer group
 * joined with (Kafka's ClassicMemberMetadata): its session timeout and its JoinGroup protocols.
 */
export interface ClassicMemberMetadata {
  readonly sessionTimeoutMs: number;
  readonly supportedProtocols: readonly { readonly name: string; readonly metadata: Buffer }[];
}

export interface ConsumerGroupMember {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly serverAssignor: string | null;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: number;
  readonly assignedPartitions: Assignment;
  readonly partitionsPendingRevocation: Assignment;
  /** Null for a member speaking ConsumerGroupHeartbeat. */
  readonly classicMemberMetadata: ClassicMemberMetadata | null;
}

export function newMember(memberId: string): ConsumerGroupMember {
  return {
    memberId,
    instanceId: null,
    rackId: null,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: [],
    subscribedTopicRegex: null,
    rebalanceTimeoutMs: -1,
    serverAssignor: null,
    memberEpoch: 0,
    previousMemberEpoch: 0,
    state: MemberState.STABLE,
    assignedPartitions: new Map(),
    partitionsPendingRevocation: new Map(),
    classicMemberMetadata: null,
  };
}

/** The same session timeout and protocols (name and bytes, in order). */
export function sameClassicMetadata(
  a: ClassicMemberMetadata | null,
  b: ClassicMemberMetadata | null,
): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.sessionTimeoutMs === b.sessionTimeoutMs &&
    a.supportedProtocols.length === b.supportedProtocols.length &&
    a.supportedProtocols.every(
      (p, i) =>
        p.name === b.supportedProtocols[i]!.name && p.metadata.equals(b.supportedProtocols[i]!.metadata),
    )
  );
}

export class ConsumerGroup {
  groupEpoch = 0;
  metadataHash = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** member id → target partitions. */
  readonly targetAssignment = new Map<string, Assignment>();
  /** instance id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** topic id → partition → epoch of the member holding it (assigned or pending revocation). */
  readonly partitionEpochs = new Map<string, Map<number, number>>();
  /** subscribed regular expression → the topics it resolved to. */
  readonly resolvedRegexes = new Map<string, readonly string[]>();

  constructor(readonly groupId: string) {}

  /** -1 when no member holds the partition. */
  currentPartitionEpoch(topicId: string, partition: number): number {
    return this.partitionEpochs.get(topicId)?.get(partition) ?? -1;
  }

  targetOf(memberId: string): Assignment {
    return this.targetAssignment.get(memberId) ?? new Map();
  }

  /** Kafka's ConsumerGroup.maybeUpdateGroupState. */
  get state(): ConsumerGroupStateName {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.state !== MemberState.STABLE || m.memberEpoch !== this.assignmentEpoch) return 'Reconciling';
    }
    return 'Stable';
  }

  /** The server assignor most members ask for, else `fallback` (Kafka's computePreferredServerAssignor). */
  preferredAssignor(
    fallback: string,
    members: Iterable<ConsumerGroupMember> = this.members.values(),
  ): string {
    const counts = new Map<string, number>();
    for (const m of members)
      if (m.serverAssignor) counts.set(m.serverAssignor, (counts.get(m.serverAssignor) ?? 0) + 1);
    let best = fallback;
    let most = 0;
    for (const [name, n] of counts) {
      if (n > most) {
        best = name;
        most = n;
      }
    }
    return best;
  }

  /** The member holding a static instance id. */
  staticMember(instanceId: string): ConsumerGroupMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  /** Members speaking the classic protocol (Kafka's numClassicProtocolMembers). */
  get classicMembers(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.classicMemberMetadata !== null) n++;
    return n;
  }

  /**
   * Whether a classic member with these protocols may join (Kafka's supportsClassicProtocols):
   * the consumer protocol type, and one protocol every classic member already here supports.
   */
  supportsClassicProtocols(protocolType: string, names: readonly string[]): boolean {
    if (protocolType !== CONSUMER_PROTOCOL_TYPE) return false;
    if (this.members.size === 0) return names.length > 0;
    const classic = [...this.members.values()].filter((m) => m.classicMemberMetadata !== null);
    return names.some((name) =>
      classic.every((m) => m.classicMemberMetadata!.supportedProtocols.some((p) => p.name === name)),
    );
  }

  /** Whether every member but `memberId` speaks the classic protocol, and `memberId` does not. */
  allMembersUseClassicProtocolExcept(memberId: string): boolean {
    const m = this.members.get(memberId);
    return (
      m !== undefined && m.classicMemberMetadata === null && this.classicMembers === this.members.size - 1
    );
  }

  /** Whether a member waits for a partition of its target that another member still holds. */
  waitingOnUnreleasedPartition(member: ConsumerGroupMember): boolean {
    if (member.state !== MemberState.UNRELEASED_PARTITIONS) return false;
    for (const [topicId, ps] of this.targetOf(member.memberId)) {
      const mine = member.assignedPartitions.get(topicId);
      for (const p of ps) if (!mine?.has(p) && this.currentPartitionEpoch(topicId, p) !== -1) return true;
    }
    return false;
  }

  private holdPartitions(member: ConsumerGroupMember, hold: boolean): void {
    for (const assignment of [member.assignedPartitions, member.partitionsPendingRevocation]) {
      for (const [topicId, partitions] of assignment) {
        let epochs = this.partitionEpochs.get(topicId);
        if (!epochs) {
          if (!hold) continue;
          epochs = new Map();
          this.partitionEpochs.set(topicId, epochs);
        }
        for (const p of partitions) {
          if (hold) epochs.set(p, member.memberEpoch);
          else if (epochs.get(p) !== undefined) epochs.delete(p);
        }
        if (epochs.size === 0) this.partitionEpochs.delete(topicId);
      }
    }
  }

  /** Replaces (or adds) a member, keeping the partition epochs and static ids in step. */
  putMember(member: ConsumerGroupMember): void {
    const old = this.members.get(member.memberId);
    if (old) {
      this.holdPartitions(old, false);
      if (old.instanceId !== null && this.staticMembers.get(old.instanceId) === old.memberId) {
        this.staticMembers.delete(old.instanceId);
      }
    }
    this.members.set(member.memberId, member);
    this.holdPartitions(member, true);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
  }

  removeMember(memberId: string): void {
    const old = this.members.get(memberId);
    if (!old) return;
    this.holdPartitions(old, false);
    if (old.instanceId !== null && this.staticMembers.get(old.instanceId) === memberId) {
      this.staticMembers.delete(old.instanceId);
    }
    this.members.delete(memberId);
  }
}

// ---- records ----

const TYPE = {
  metadata: 3,
  partitionMetadata: 4,
  memberMetadata: 5,
  targetAssignmentMetadata: 6,
  targetAssignmentMember: 7,
  currentMemberAssignment: 8,
  regularExpression: 16,
} as const;

/** The record types of consumer groups (the int16 opening each key). */
export const CONSUMER_GROUP_RECORD_TYPES: ReadonlySet<number> = new Set(Object.values(TYPE));

export function groupEpochRecord(groupId: string, epoch: number, metadataHash: number): CoordinatorRecord {
  return record(TYPE.metadata, { groupId }, {
    epoch,
    metadataHash,
  } satisfies ConsumerGroupMetadataValueData);
}

/** A deleted group's last records: its target assignment epoch, then the group itself. */
export function groupTombstones(groupId: string): CoordinatorRecord[] {
  return [record(TYPE.targetAssignmentMetadata, { groupId }, null), record(TYPE.metadata, { groupId }, null)];
}

export function memberMetadataRecord(groupId: string, m: ConsumerGroupMember): CoordinatorRecord {
  return record(TYPE.memberMetadata, { groupId, memberId: m.memberId }, {
    instanceId: m.instanceId,
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    subscribedTopicNames: [...m.subscribedTopicNames],
    subscribedTopicRegex: m.subscribedTopicRegex,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    serverAssignor: m.serverAssignor,
    classicMemberMetadata: m.classicMemberMetadata && {
      sessionTimeoutMs: m.classicMemberMetadata.sessionTimeoutMs,
      supportedProtocols: [...m.classicMemberMetadata.supportedProtocols],
    },
  } satisfies ConsumerGroupMemberMetadataValueData);
}

export function memberTombstones(groupId: string, memberId: string): CoordinatorRecord[] {
  // As Kafka's fence: current assignment, then target, then the member.
  return [
    record(TYPE.currentMemberAssignment, { groupId, memberId }, null),
    record(TYPE.targetAssignmentMember, { groupId, memberId }, null),
    record(TYPE.memberMetadata, { groupId, memberId }, null),
  ];
}

export function targetAssignmentRecord(groupId: string, memberId: string, a: Assignment): CoordinatorRecord {
  return record(TYPE.targetAssignmentMember, { groupId, memberId }, {
    topicPartitions: topicPartitions(a),
  } satisfies ConsumerGroupTargetAssignmentMemberValueData);
}

export function targetAssignmentEpochRecord(groupId: string, epoch: number, now: number): CoordinatorRecord {
  return record(TYPE.targetAssignmentMetadata, { groupId }, {
    assignmentEpoch: epoch,
    assignmentTimestamp: now,
  } satisfies ConsumerGroupTargetAssignmentMetadataValueData);
}

export function currentAssignmentRecord(groupId: string, m: ConsumerGroupMember): CoordinatorRecord {
  return record(TYPE.currentMemberAssignment, { groupId, memberId: m.memberId }, {
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: m.state,
    assignedPartitions: topicPartitions(m.assignedPartitions),
    partitionsPendingRevocation: topicPartitions(m.partitionsPendingRevocation),
  } satisfies ConsumerGroupCurrentMemberAssignmentValueData);
}

export function regexRecord(groupId: string, regex: string, topics: readonly string[] | null, now: number) {
  return record(
    TYPE.regularExpression,
    { groupId, regularExpression: regex },
    topics === null
      ? null
      : ({
          topics: [...topics],
          version: 0,
          timestamp: now,
        } satisfies ConsumerGroupRegularExpressionValueData),
  );
}

/** The records deleting an empty consumer group: its resolved expressions, then the group. */
export function consumerGroupTombstones(group: ConsumerGroup): CoordinatorRecord[] {
  const out: CoordinatorRecord[] = [];
  for (const regex of group.resolvedRegexes.keys()) out.push(regexRecord(group.groupId, regex, null, 0));
  out.push(...groupTombstones(group.groupId));
  return out;
}

/** The group of a consumer group record (for routing), or undefined for another record type. */
export function consumerGroupRecordType(key: Buffer): number | undefined {
  if (key.length < 2) return undefined;
  const type = key.readInt16BE(0);
  return CONSUMER_GROUP_RECORD_TYPES.has(type) ? type : undefined;
}

/**
 * Applies one consumer group record to `groups` (creating the group on its first record), as
 * Kafka's GroupMetadataManager.replay. Returns the id of the group touched.
 */
export function replayConsumerGroupRecord(
  groups: Map<string, ConsumerGroup>,
  rec: CoordinatorRecord,
): string {
  const { type, key, groupId, memberId, read: value } = openGroupRecord(rec);
  const group = replayGroup(groups, groupId, rec.value === null, (id) => new ConsumerGroup(id));
  if (!group) return groupId;
  switch (type) {
    case TYPE.metadata:
      if (rec.value === null) groups.delete(groupId);
      else {
        const v = value<ConsumerGroupMetadataValueData>();
        group.groupEpoch = v.epoch;
        group.metadataHash = v.metadataHash ?? 0;
      }
      break;
    case TYPE.partitionMetadata:
      break;
    case TYPE.memberMetadata:
      if (rec.value === null) group.removeMember(memberId);
      else {
        const v = value<ConsumerGroupMemberMetadataValueData>();
        const old = group.members.get(memberId) ?? newMember(memberId);
        group.putMember({
          ...old,
          instanceId: v.instanceId,
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          subscribedTopicNames: v.subscribedTopicNames,
          subscribedTopicRegex: v.subscribedTopicRegex,
          rebalanceTimeoutMs: v.rebalanceTimeoutMs,
          serverAssignor: v.serverAssignor,
          classicMemberMetadata: v.classicMemberMetadata ?? null,
        });
      }
      break;
    case TYPE.targetAssignmentMetadata:
      group.assignmentEpoch =
        rec.value === null ? 0 : value<ConsumerGroupTargetAssignmentMetadataValueData>().assignmentEpoch;
      break;
    case TYPE.targetAssignmentMember:
      if (rec.value === null) group.targetAssignment.delete(memberId);
      else {
        const v = value<ConsumerGroupTargetAssignmentMemberValueData>();
        group.targetAssignment.set(memberId, assignmentOf(v.topicPartitions));
      }
      break;
    case TYPE.currentMemberAssignment: {
      const old = group.members.get(memberId);
      if (rec.value === null) {
        if (old) {
          group.putMember({
            ...old,
            memberEpoch: 0,
            previousMemberEpoch: 0,
            state: MemberState.STABLE,
            assignedPartitions: new Map(),
            partitionsPendingRevocation: new Map(),
          });
        }
      } else {
        const v = value<ConsumerGroupCurrentMemberAssignmentValueData>();
        group.putMember({
          ...(old ?? newMember(memberId)),
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          state: v.state,
          assignedPartitions: assignmentOf(v.assignedPartitions),
          partitionsPendingRevocation: assignmentOf(v.partitionsPendingRevocation),
        });
      }
      break;
    }
    case TYPE.regularExpression:
      if (rec.value === null) group.resolvedRegexes.delete(key.regularExpression ?? '');
      else
        group.resolvedRegexes.set(
          key.regularExpression ?? '',
          value<ConsumerGroupRegularExpressionValueData>().topics,
        );
      break;
  }
  return groupId;
}

/**
 * Kafka's ConsumerGroup.validateOffsetCommit, for OffsetCommit (v9+ carries the member epoch as
 * its generation) and TxnOffsetCommit to a consumer group: without a member epoch only an empty
 * group (or a transaction naming no member), else a member of the group at its current epoch
 * (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH — ILLEGAL_GENERATION for a classic member); a
 * consumer-protocol member must use OffsetCommit v9+.
 */
export function validateConsumerGroupCommit(
  group: ConsumerGroup,
  memberId: string,
  instanceId: string | null,
  memberEpoch: number,
  isTransactional: boolean,
  apiVersion: number,
): ErrorName {
  if (memberEpoch < 0 && group.members.size === 0) return 'NONE';
  if (isTransactional && memberEpoch === -1 && memberId === '' && instanceId === null) return 'NONE';
  const member = group.members.get(memberId);
  if (!member) return 'UNKNOWN_MEMBER_ID';
  // A classic member commits with its generation (its member epoch) through any version.
  const classic = member.classicMemberMetadata !== null;
  if (!isTransactional && !classic && apiVersion < 9) return 'UNSUPPORTED_VERSION';
  if (memberEpoch !== member.memberEpoch) return classic ? 'ILLEGAL_GENERATION' : 'STALE_MEMBER_EPOCH';
  return 'NONE';
}
