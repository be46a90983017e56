/**
 * KIP-1071 streams groups (Kafka's `StreamsGroup` / `StreamsGroupMember`): the state the
 * `__consumer_offsets` records of ../shared/kafka-protocol-4.3.1/group-coordinator rebuild, and
 * those records. As for consumer groups (consumer-group.ts) the state changes only in
 * `replayStreamsGroupRecord` (the shard's replay), the same at load and after each write; the
 * heartbeat (streams-groups.ts) reads it and returns records.
 *
 * Records (key = int16 record type + key struct v0, value = int16 version 0 + value struct):
 * - 17 StreamsGroupMetadata: group epoch, hash of the topology's topics, validated topology epoch;
 *   a tombstone deletes the (empty) group;
 * - 19 StreamsGroupMemberMetadata: a member's client, process id, endpoint, tags, topology epoch;
 * - 20 StreamsGroupTargetAssignmentMetadata: the epoch of the target assignment;
 * - 21 StreamsGroupTargetAssignmentMember: a member's target active/standby/warm-up tasks;
 * - 22 StreamsGroupCurrentMemberAssignment: a member's epochs, state, tasks and tasks pending
 *   revocation;
 * - 23 StreamsGroupTopology: the topology the first member sent (subtopologies, source,
 *   repartition and changelog topics).
 * A task is a subtopology id and a partition; tasks are kept as subtopology id → partitions.
 */
import type {
  StreamsGroupCurrentMemberAssignmentValueData,
  StreamsGroupMemberMetadataValueData,
  StreamsGroupMetadataValueData,
  StreamsGroupTargetAssignmentMemberValueData,
  StreamsGroupTargetAssignmentMetadataValueData,
  StreamsGroupTopologyValueData,
} from '../../protocol/generated/messages.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import { groupRecord, openGroupRecord, replayGroup } from './group-records.js';

/** subtopology id → partitions (task ids). */
export type Tasks = Map<string, Set<number>>;

/** Active, standby and warm-up tasks (Kafka's TasksTuple). */
export interface TasksTuple {
  readonly active: Tasks;
  readonly standby: Tasks;
  readonly warmup: Tasks;
}

export const emptyTasks = (): TasksTuple => ({ active: new Map(), standby: new Map(), warmup: new Map() });

/** The topology as the members send it and the Topology record stores it. */
export type StreamsTopology = StreamsGroupTopologyValueData;

/** Kafka's streams MemberState (the byte stored in CurrentMemberAssignment). */
export const StreamsMemberState = {
  STABLE: 1,
  UNREVOKED_TASKS: 2,
  UNRELEASED_TASKS: 3,
  UNKNOWN: 127,
} as const;

/** Kafka's StreamsGroupState names (StreamsGroupDescribe, ListGroups). */
export type StreamsGroupStateName = 'Empty' | 'NotReady' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';

export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface StreamsGroupMember {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly topologyEpoch: number;
  readonly processId: string;
  readonly userEndpoint: Endpoint | null;
  readonly clientTags: readonly { key: string; value: string }[];
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: number;
  readonly assigned: TasksTuple;
  readonly pendingRevocation: TasksTuple;
}

export function newStreamsMember(memberId: string): StreamsGroupMember {
  return {
    memberId,
    instanceId: null,
    rackId: null,
    clientId: '',
    clientHost: '',
    rebalanceTimeoutMs: -1,
    topologyEpoch: -1,
    processId: '',
    userEndpoint: null,
    clientTags: [],
    memberEpoch: 0,
    previousMemberEpoch: -1,
    state: StreamsMemberState.STABLE,
    assigned: emptyTasks(),
    pendingRevocation: emptyTasks(),
  };
}

/** What a member last reported of its changelog offsets (kept in memory, for describe). */
export interface TaskOffsets {
  offsets: { subtopologyId: string; partition: number; offset: number }[];
  endOffsets: { subtopologyId: string; partition: number; offset: number }[];
}

export class StreamsGroup {
  groupEpoch = 0;
  metadataHash = 0;
  /** The topology epoch last validated against the topics (-1: none). */
  validatedTopologyEpoch = -1;
  assignmentEpoch = 0;
  /** When the target assignment was last computed (TargetAssignmentMetadata's timestamp). */
  assignmentTimestamp = 0;
  topology: StreamsTopology | null = null;
  readonly members = new Map<string, StreamsGroupMember>();
  /** member id → target tasks. */
  readonly targetAssignment = new Map<string, TasksTuple>();
  /** subtopology → partition → epoch of the member holding the task active (assigned or revoking). */
  readonly activeTaskEpochs = new Map<string, Map<number, number>>();
  /** Not stored (as Kafka): bumped when a member with an endpoint gets a new assignment. */
  endpointInformationEpoch = 0;
  /** Not stored: the member that asked the whole application to shut down. */
  shutdownRequestMemberId: string | null = null;
  /** Not stored: the members' reported changelog offsets. */
  readonly taskOffsets = new Map<string, TaskOffsets>();

  constructor(readonly groupId: string) {}

  currentActiveTaskEpoch(subtopologyId: string, partition: number): number {
    return this.activeTaskEpochs.get(subtopologyId)?.get(partition) ?? -1;
  }

  targetOf(memberId: string): TasksTuple {
    return this.targetAssignment.get(memberId) ?? emptyTasks();
  }

  /** Kafka's StreamsGroup state; `ready`: whether the topology's topics are all there. */
  state(ready: boolean): StreamsGroupStateName {
    if (this.members.size === 0) return 'Empty';
    if (this.topology === null || !ready) return 'NotReady';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.state !== StreamsMemberState.STABLE || m.memberEpoch !== this.assignmentEpoch)
        return 'Reconciling';
    }
    return 'Stable';
  }

  private holdTasks(member: StreamsGroupMember, hold: boolean): void {
    for (const tasks of [member.assigned.active, member.pendingRevocation.active]) {
      for (const [sub, partitions] of tasks) {
        let epochs = this.activeTaskEpochs.get(sub);
        if (!epochs) {
          if (!hold) continue;
          epochs = new Map();
          this.activeTaskEpochs.set(sub, epochs);
        }
        for (const p of partitions) {
          if (hold) epochs.set(p, member.memberEpoch);
          else epochs.delete(p);
        }
        if (epochs.size === 0) this.activeTaskEpochs.delete(sub);
      }
    }
  }

  putMember(member: StreamsGroupMember): void {
    const old = this.members.get(member.memberId);
    if (old) this.holdTasks(old, false);
    this.members.set(member.memberId, member);
    this.holdTasks(member, true);
  }

  removeMember(memberId: string): void {
    const old = this.members.get(memberId);
    if (!old) return;
    this.holdTasks(old, false);
    this.members.delete(memberId);
    this.taskOffsets.delete(memberId);
    if (this.shutdownRequestMemberId === memberId) this.shutdownRequestMemberId = null;
  }
}

/**
 * Kafka's StreamsGroup.validateOffsetCommit, for OffsetCommit (v9+ carries the member epoch as
 * its generation) and TxnOffsetCommit to a streams group: without a member epoch only an empty
 * group (or a transaction naming no member), else a member of the group (UNKNOWN_MEMBER_ID) at its
 * current epoch — or its previous one, standing in for Kafka 4.3's per-task assignment epochs
 * that let a member commit the tasks it kept across an epoch bump (STALE_MEMBER_EPOCH otherwise).
 */
export function validateStreamsGroupCommit(
  group: StreamsGroup,
  memberId: string,
  memberEpoch: number,
  isTransactional: boolean,
): 'NONE' | 'UNKNOWN_MEMBER_ID' | 'STALE_MEMBER_EPOCH' {
  if (memberEpoch < 0 && group.members.size === 0) return 'NONE';
  if (isTransactional && memberEpoch === -1 && memberId === '') return 'NONE';
  const member = group.members.get(memberId);
  if (!member) return 'UNKNOWN_MEMBER_ID';
  if (memberEpoch !== member.memberEpoch && memberEpoch !== member.previousMemberEpoch)
    return 'STALE_MEMBER_EPOCH';
  return 'NONE';
}

/** The topics a streams group reads (its offsets' topics): source topics and repartition sources. */
export function streamsSourceTopics(group: StreamsGroup): Set<string> {
  const out = new Set<string>();
  for (const s of group.topology?.subtopologies ?? []) {
    for (const t of s.sourceTopics) out.add(t);
    for (const t of s.repartitionSourceTopics) out.add(t.name);
  }
  return out;
}

// ---- tasks helpers ----

export function copyTasks(t: Tasks): Tasks {
  return new Map([...t].map(([s, ps]) => [s, new Set(ps)]));
}

export function sameTasks(a: Tasks, b: Tasks): boolean {
  if (a.size !== b.size) return false;
  for (const [s, ps] of a) {
    const o = b.get(s);
    if (!o || o.size !== ps.size) return false;
    for (const p of ps) if (!o.has(p)) return false;
  }
  return true;
}

export function sameTuple(a: TasksTuple, b: TasksTuple): boolean {
  return sameTasks(a.active, b.active) && sameTasks(a.standby, b.standby) && sameTasks(a.warmup, b.warmup);
}

export function tuplesEmpty(t: TasksTuple): boolean {
  return t.active.size === 0 && t.standby.size === 0 && t.warmup.size === 0;
}

/** Tasks as the wire lists them: subtopologies and partitions sorted. */
export function tasksToWire(t: Tasks): { subtopologyId: string; partitions: number[] }[] {
  return [...t]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([subtopologyId, ps]) => ({ subtopologyId, partitions: [...ps].sort((x, y) => x - y) }));
}

export function tasksFromWire(
  list: readonly { subtopologyId: string; partitions: readonly number[] }[],
): Tasks {
  const t: Tasks = new Map();
  for (const e of list) {
    if (e.partitions.length === 0) continue;
    const s = t.get(e.subtopologyId) ?? new Set<number>();
    for (const p of e.partitions) s.add(p);
    t.set(e.subtopologyId, s);
  }
  return t;
}

// ---- records ----

const TYPE = {
  metadata: 17,
  memberMetadata: 19,
  targetAssignmentMetadata: 20,
  targetAssignmentMember: 21,
  currentMemberAssignment: 22,
  topology: 23,
} as const;

/** The record types of streams groups (the int16 opening each key). */
export const STREAMS_GROUP_RECORD_TYPES: ReadonlySet<number> = new Set(Object.values(TYPE));

export function isStreamsGroupRecord(key: Buffer): boolean {
  return key.length >= 2 && STREAMS_GROUP_RECORD_TYPES.has(key.readInt16BE(0));
}

export function streamsGroupEpochRecord(
  groupId: string,
  epoch: number,
  metadataHash: number,
  validatedTopologyEpoch: number,
): CoordinatorRecord {
  return groupRecord(TYPE.metadata, { groupId }, {
    epoch,
    metadataHash,
    validatedTopologyEpoch,
    lastAssignmentConfigs: null,
  } satisfies StreamsGroupMetadataValueData);
}

export function streamsTopologyRecord(groupId: string, topology: StreamsTopology): CoordinatorRecord {
  return groupRecord(TYPE.topology, { groupId }, topology);
}

export function streamsMemberMetadataRecord(groupId: string, m: StreamsGroupMember): CoordinatorRecord {
  return groupRecord(TYPE.memberMetadata, { groupId, memberId: m.memberId }, {
    instanceId: m.instanceId,
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    topologyEpoch: m.topologyEpoch,
    processId: m.processId,
    userEndpoint: m.userEndpoint && { host: m.userEndpoint.host, port: m.userEndpoint.port },
    clientTags: m.clientTags.map((t) => ({ key: t.key, value: t.value })),
  } satisfies StreamsGroupMemberMetadataValueData);
}

export function streamsTargetAssignmentRecord(groupId: string, memberId: string, t: TasksTuple) {
  return groupRecord(TYPE.targetAssignmentMember, { groupId, memberId }, {
    activeTasks: tasksToWire(t.active),
    standbyTasks: tasksToWire(t.standby),
    warmupTasks: tasksToWire(t.warmup),
  } satisfies StreamsGroupTargetAssignmentMemberValueData);
}

export function streamsTargetAssignmentEpochRecord(groupId: string, epoch: number, now: number) {
  return groupRecord(TYPE.targetAssignmentMetadata, { groupId }, {
    assignmentEpoch: epoch,
    assignmentTimestamp: now,
  } satisfies StreamsGroupTargetAssignmentMetadataValueData);
}

export function streamsCurrentAssignmentRecord(groupId: string, m: StreamsGroupMember): CoordinatorRecord {
  return groupRecord(TYPE.currentMemberAssignment, { groupId, memberId: m.memberId }, {
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: m.state,
    activeTasks: tasksToWire(m.assigned.active),
    standbyTasks: tasksToWire(m.assigned.standby),
    warmupTasks: tasksToWire(m.assigned.warmup),
    activeTasksPendingRevocation: tasksToWire(m.pendingRevocation.active),
    standbyTasksPendingRevocation: tasksToWire(m.pendingRevocation.standby),
    warmupTasksPendingRevocation: tasksToWire(m.pendingRevocation.warmup),
  } satisfies StreamsGroupCurrentMemberAssignmentValueData);
}

/** A member leaving: current assignment, target assignment, then the member (as Kafka's fence). */
export function streamsMemberTombstones(groupId: string, memberId: string): CoordinatorRecord[] {
  return [
    groupRecord(TYPE.currentMemberAssignment, { groupId, memberId }, null),
    groupRecord(TYPE.targetAssignmentMember, { groupId, memberId }, null),
    groupRecord(TYPE.memberMetadata, { groupId, memberId }, null),
  ];
}

/** An empty streams group deleted: target assignment epoch, topology, then the group. */
export function streamsGroupTombstones(groupId: string): CoordinatorRecord[] {
  return [
    groupRecord(TYPE.targetAssignmentMetadata, { groupId }, null),
    groupRecord(TYPE.topology, { groupId }, null),
    groupRecord(TYPE.metadata, { groupId }, null),
  ];
}

function tupleOf(
  active: readonly { subtopologyId: string; partitions: readonly number[] }[],
  standby: readonly { subtopologyId: string; partitions: readonly number[] }[],
  warmup: readonly { subtopologyId: string; partitions: readonly number[] }[],
): TasksTuple {
  return { active: tasksFromWire(active), standby: tasksFromWire(standby), warmup: tasksFromWire(warmup) };
}

/**
 * Applies one streams group record to `groups` (creating the group on its first record), as
 * Kafka's GroupMetadataManager.replay. Returns the id of the group touched.
 */
export function replayStreamsGroupRecord(groups: Map<string, StreamsGroup>, rec: CoordinatorRecord): string {
  const { type, groupId, memberId, read: value } = openGroupRecord(rec);
  const group = replayGroup(groups, groupId, rec.value === null, (id) => new StreamsGroup(id));
  if (!group) return groupId;
  switch (type) {
    case TYPE.metadata:
      if (rec.value === null) groups.delete(groupId);
      else {
        const v = value<StreamsGroupMetadataValueData>();
        group.groupEpoch = v.epoch;
        group.metadataHash = v.metadataHash;
        group.validatedTopologyEpoch = v.validatedTopologyEpoch ?? -1;
      }
      break;
    case TYPE.topology:
      group.topology = rec.value === null ? null : value<StreamsGroupTopologyValueData>();
      break;
    case TYPE.memberMetadata:
      if (rec.value === null) group.removeMember(memberId);
      else {
        const v = value<StreamsGroupMemberMetadataValueData>();
        const old = group.members.get(memberId) ?? newStreamsMember(memberId);
        group.putMember({
          ...old,
          instanceId: v.instanceId,
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          rebalanceTimeoutMs: v.rebalanceTimeoutMs,
          topologyEpoch: v.topologyEpoch,
          processId: v.processId,
          userEndpoint: v.userEndpoint && { host: v.userEndpoint.host, port: v.userEndpoint.port },
          clientTags: v.clientTags.map((t) => ({ key: t.key, value: t.value })),
        });
      }
      break;
    case TYPE.targetAssignmentMetadata: {
      const v = rec.value === null ? null : value<StreamsGroupTargetAssignmentMetadataValueData>();
      group.assignmentEpoch = v?.assignmentEpoch ?? 0;
      group.assignmentTimestamp = v?.assignmentTimestamp ?? 0;
      break;
    }
    case TYPE.targetAssignmentMember:
      if (rec.value === null) group.targetAssignment.delete(memberId);
      else {
        const v = value<StreamsGroupTargetAssignmentMemberValueData>();
        group.targetAssignment.set(memberId, tupleOf(v.activeTasks, v.standbyTasks, v.warmupTasks));
      }
      break;
    case TYPE.currentMemberAssignment: {
      const old = group.members.get(memberId);
      if (rec.value === null) {
        if (old) {
          group.putMember({
            ...old,
            memberEpoch: 0,
            previousMemberEpoch: -1,
            state: StreamsMemberState.STABLE,
            assigned: emptyTasks(),
            pendingRevocation: emptyTasks(),
          });
        }
      } else {
        const v = value<StreamsGroupCurrentMemberAssignmentValueData>();
        group.putMember({
          ...(old ?? newStreamsMember(memberId)),
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          state: v.state,
          assigned: tupleOf(v.activeTasks, v.standbyTasks, v.warmupTasks),
          pendingRevocation: tupleOf(
            v.activeTasksPendingRevocation,
            v.standbyTasksPendingRevocation,
            v.warmupTasksPendingRevocation,
          ),
        });
      }
      break;
    }
  }
  return groupId;
}
