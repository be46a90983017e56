/**
 * KIP-848 consumer groups on the coordinator runtime (Kafka's GroupMetadataManager,
 * consumerGroupHeartbeat / consumerGroupDescribe): ConsumerGroupHeartbeat is a write operation
 * that reads the group (consumer-group.ts), returns its records and the response, and changes
 * nothing itself — the shard's replay applies the records. The steps, as Kafka:
 *
 * 1. validate the request (INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION);
 * 2. find the group (created by a member joining with epoch 0; a classic group with members is
 *    GROUP_ID_NOT_FOUND, "not a consumer group"; an empty classic group is converted) and the
 *    member: epoch 0 joins (a static member's `group.instance.id` replaces the member that left
 *    with epoch -2, else UNRELEASED_INSTANCE_ID), a known member's epoch must be its current one
 *    or its previous one with owned partitions within its assignment (else FENCED_MEMBER_EPOCH),
 *    an unknown member is UNKNOWN_MEMBER_ID; epoch -1 leaves (the member is fenced: its records
 *    tombstoned, the group epoch bumped), epoch -2 is a static member leaving for a while (it keeps
 *    its partitions until its session times out);
 * 3. a changed subscription (topic names, a regular expression resolved against the topics — a
 *    full match, as Kafka's RE2J patterns —, or the subscribed topics' partitions) bumps the group
 *    epoch; a group epoch above the target assignment's epoch computes a new target assignment with
 *    the server assignor (`uniform`/`range`, the one most members ask for, else the first of
 *    `group.consumer.assignors`);
 * 4. the member reconciles towards its target (Kafka's CurrentAssignmentBuilder): partitions it
 *    must give up are revoked first (UNREVOKED_PARTITIONS, same epoch, until its heartbeat no
 *    longer reports them), partitions another member still holds wait (UNRELEASED_PARTITIONS), and
 *    the member moves to the target epoch;
 * 5. the answer carries the member id and epoch, the heartbeat interval, and the assigned
 *    partitions when they changed or the request was a full one.
 *
 * Session timeouts (`group.consumer.session.timeout.ms`) fence a member that stops heartbeating;
 * a member that does not revoke within its rebalance timeout is fenced too. Timers are not state:
 * they are set by the operation and cleared when the partition unloads.
 */
import type { ErrorName } from '../../protocol/generated/errors.js';
import type { ConsumerGroupDescribeResponseDescribedGroup } from '../../protocol/generated/messages.js';
import { ClassicGroup, CONSUMER_PROTOCOL_TYPE, GroupState, MemberMetadata } from '../group-metadata.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import { type AssignorMember, assignorByName } from './assignors.js';
import {
  type Assignment,
  ConsumerGroup,
  type ConsumerGroupMember,
  consumerGroupTombstones,
  currentAssignmentRecord,
  groupEpochRecord,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  MemberState,
  memberMetadataRecord,
  memberTombstones,
  newMember,
  regexRecord,
  replayConsumerGroupRecord,
  sameClassicMetadata,
  targetAssignmentEpochRecord,
  targetAssignmentRecord,
} from './consumer-group.js';
import {
  byTopicId,
  byTopicName,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  protocolVersion,
} from './consumer-protocol.js';
import { failWaitingMembers, type GroupContext } from './context.js';
import { fail, MemberTimers, metadataHash, runHeartbeat, sameAssignment } from './heartbeat.js';
import { groupMetadataRecord, tombstoneRecords } from './persistence.js';

/** The topics a consumer group can subscribe to, as the metadata knows them now. */
export interface TopicsView {
  topic(name: string): { topicId: string; numPartitions: number } | undefined;
  topicName(topicId: string): string | undefined;
  /** Every topic name (internal ones too), for regular expressions. */
  topicNames(): readonly string[];
}

export const NO_TOPICS: TopicsView = {
  topic: () => undefined,
  topicName: () => undefined,
  topicNames: () => [],
};

/** Kafka's group.consumer.* configs (GroupCoordinatorConfig). */
export interface ConsumerGroupConfig {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxSize: number;
  /** `group.consumer.assignors`: the first is the default. */
  assignors: readonly string[];
  /** `group.consumer.migration.policy`: which way a group with members may change protocol. */
  migrationPolicy: MigrationPolicy;
}

/** Kafka's ConsumerGroupMigrationPolicy. */
export interface MigrationPolicy {
  readonly upgrade: boolean;
  readonly downgrade: boolean;
}

export function migrationPolicy(name: string | null | undefined): MigrationPolicy {
  const n = (name ?? 'bidirectional').trim().toLowerCase();
  return {
    upgrade: n === 'upgrade' || n === 'bidirectional',
    downgrade: n === 'downgrade' || n === 'bidirectional',
  };
}

export const DEFAULT_CONSUMER_GROUP_CONFIG: ConsumerGroupConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  maxSize: 2147483647,
  assignors: ['uniform', 'range'],
  migrationPolicy: migrationPolicy('bidirectional'),
};

export interface ConsumerGroupHeartbeatParams {
  apiVersion: number;
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: readonly string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: readonly { topicId: string; partitions: readonly number[] }[] | null;
  clientId: string;
  clientHost: string;
}

/** ConsumerGroupDescribe's answer for one group, its error a name (the handler puts the code). */
export type ConsumerGroupDescription = Omit<ConsumerGroupDescribeResponseDescribedGroup, 'errorCode'> & {
  error: ErrorName;
};

export interface ConsumerGroupHeartbeatResult {
  error: ErrorName;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

type Owned = ConsumerGroupHeartbeatParams['topicPartitions'];

function copy(a: Assignment): Assignment {
  return new Map([...a].map(([t, ps]) => [t, new Set(ps)]));
}

function toWire(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a].map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }));
}

/** Kafka's isSubset: every owned partition is in the assignment. */
function ownedWithin(owned: Owned, a: Assignment): boolean {
  if (owned === null) return false;
  for (const t of owned) {
    const ps = a.get(t.topicId);
    for (const p of t.partitions) if (!ps?.has(p)) return false;
  }
  return true;
}

/** Whether `owned` still holds one of `revoking` (an unreported ownership counts as yes). */
function ownsRevoked(owned: Owned, revoking: Assignment): boolean {
  if (owned === null) return true;
  for (const t of owned) {
    const ps = revoking.get(t.topicId);
    if (ps) for (const p of t.partitions) if (ps.has(p)) return true;
  }
  return false;
}

/** A regular expression as Kafka matches it (the whole topic name). */
function compileRegex(regex: string): RegExp {
  try {
    return new RegExp(`^(?:${regex})$`, 'u');
  } catch (err) {
    fail(
      'INVALID_REGULAR_EXPRESSION',
      `SubscribedTopicRegex \`${regex}\` is not a valid regular expression: ${(err as Error).message}.`,
    );
  }
}

/** Kafka's CurrentAssignmentBuilder.build. */
export function reconcile(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: Assignment,
  owned: Owned,
  currentPartitionEpoch: (topicId: string, partition: number) => number,
): ConsumerGroupMember {
  const next = (memberEpoch: number, assigned: Assignment): ConsumerGroupMember => {
    let unreleased = false;
    const newAssigned: Assignment = new Map();
    const revoking: Assignment = new Map();
    const pendingAssignment: Assignment = new Map();
    for (const topicId of new Set([...target.keys(), ...assigned.keys()])) {
      const t = target.get(topicId) ?? new Set<number>();
      const current = assigned.get(topicId) ?? new Set<number>();
      const keep = new Set([...current].filter((p) => t.has(p)));
      const revoke = new Set([...current].filter((p) => !keep.has(p)));
      const pending = new Set<number>();
      for (const p of t) {
        if (keep.has(p)) continue;
        if (currentPartitionEpoch(topicId, p) !== -1) unreleased = true;
        else pending.add(p);
      }
      if (keep.size > 0) newAssigned.set(topicId, keep);
      if (revoke.size > 0) revoking.set(topicId, revoke);
      if (pending.size > 0) pendingAssignment.set(topicId, pending);
    }
    const base = { ...member, previousMemberEpoch: member.memberEpoch };
    if (revoking.size > 0 && ownsRevoked(owned, revoking)) {
      return {
        ...base,
        state: MemberState.UNREVOKED_PARTITIONS,
        memberEpoch,
        assignedPartitions: newAssigned,
        partitionsPendingRevocation: revoking,
      };
    }
    for (const [topicId, ps] of pendingAssignment) {
      const s = newAssigned.get(topicId) ?? new Set<number>();
      for (const p of ps) s.add(p);
      newAssigned.set(topicId, s);
    }
    return {
      ...base,
      state: unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE,
      memberEpoch: targetEpoch,
      assignedPartitions: newAssigned,
      partitionsPendingRevocation: new Map(),
    };
  };
  switch (member.state) {
    case MemberState.STABLE:
      return member.memberEpoch !== targetEpoch
        ? next(member.memberEpoch, member.assignedPartitions)
        : member;
    case MemberState.UNREVOKED_PARTITIONS:
      if (ownsRevoked(owned, member.partitionsPendingRevocation)) return member;
      return next(member.memberEpoch + 1, member.assignedPartitions);
    case MemberState.UNRELEASED_PARTITIONS:
      return next(member.memberEpoch, member.assignedPartitions);
    default:
      if (owned === null || owned.length > 0) {
        fail(
          'FENCED_MEMBER_EPOCH',
          'The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin.',
        );
      }
      return next(targetEpoch, member.assignedPartitions);
  }
}

function memberChanged(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.instanceId !== b.instanceId ||
    a.rackId !== b.rackId ||
    a.clientId !== b.clientId ||
    a.clientHost !== b.clientHost ||
    a.subscribedTopicRegex !== b.subscribedTopicRegex ||
    a.rebalanceTimeoutMs !== b.rebalanceTimeoutMs ||
    a.serverAssignor !== b.serverAssignor ||
    a.subscribedTopicNames.length !== b.subscribedTopicNames.length ||
    a.subscribedTopicNames.some((t, i) => t !== b.subscribedTopicNames[i]) ||
    !sameClassicMetadata(a.classicMemberMetadata, b.classicMemberMetadata)
  );
}

function assignmentChanged(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.memberEpoch !== b.memberEpoch ||
    a.previousMemberEpoch !== b.previousMemberEpoch ||
    a.state !== b.state ||
    !sameAssignment(a.assignedPartitions, b.assignedPartitions) ||
    !sameAssignment(a.partitionsPendingRevocation, b.partitionsPendingRevocation)
  );
}

export class ConsumerGroups {
  private readonly sessionTimers = new MemberTimers(() => this.ctx.time);
  private readonly rebalanceTimers = new MemberTimers(() => this.ctx.time);
  /** Classic members' join and sync deadlines (Kafka's consumerGroupJoinKey / consumerGroupSyncKey). */
  private readonly joinTimers = new MemberTimers(() => this.ctx.time);
  private readonly syncTimers = new MemberTimers(() => this.ctx.time);
  /** The classic group a write in progress turns its consumer group into (finishDowngrade). */
  private downgraded: { classic: ClassicGroup; rebalance: boolean } | null = null;

  constructor(
    private readonly ctx: GroupContext,
    readonly config: ConsumerGroupConfig,
    readonly topics: TopicsView,
    /** A consumer group became this classic group: its members heartbeat, and rejoin when `rebalance` (membership). */
    private readonly onDowngraded: (group: ClassicGroup, rebalance: boolean) => void = () => {},
  ) {}

  private get defaultAssignor(): string {
    return this.config.assignors[0] ?? 'uniform';
  }

  heartbeat(p: ConsumerGroupHeartbeatParams): Promise<ConsumerGroupHeartbeatResult> {
    const result = runHeartbeat(
      this.ctx,
      p.groupId,
      () => this.validate(p),
      () => this.heartbeatOperation(p),
    );
    this.finishDowngrade();
    return result;
  }

  /** Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid. */
  private validate(p: ConsumerGroupHeartbeatParams): void {
    const invalid = (message: string) => fail('INVALID_REQUEST', message);
    if (p.groupId === '') invalid("GroupId can't be empty.");
    if (p.instanceId === '') invalid("InstanceId can't be empty.");
    if (p.rackId === '') invalid("RackId can't be empty.");
    if (p.apiVersion >= 1 && p.memberId === '') invalid("MemberId can't be empty.");
    if ((p.memberEpoch > 0 || p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) && p.memberId === '') {
      invalid("MemberId can't be empty.");
    }
    if (p.memberEpoch === 0) {
      if (p.rebalanceTimeoutMs === -1) invalid('RebalanceTimeoutMs must be provided in first request.');
      if (p.topicPartitions === null || p.topicPartitions.length > 0) {
        invalid('TopicPartitions must be empty when (re-)joining.');
      }
      if (p.subscribedTopicNames === null && p.subscribedTopicRegex === null) {
        invalid('Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.');
      }
    } else if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (p.instanceId === null) invalid("InstanceId can't be null.");
    } else if (p.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) invalid('MemberEpoch is invalid.');
    if (
      p.serverAssignor !== null &&
      !this.config.assignors.some((a) => assignorByName(a) === assignorByName(p.serverAssignor!))
    ) {
      fail(
        'UNSUPPORTED_ASSIGNOR',
        `ServerAssignor ${p.serverAssignor} is not supported. Supported assignors: ${this.config.assignors.join(', ')}.`,
      );
    }
    if (p.subscribedTopicRegex !== null && p.subscribedTopicRegex !== '')
      compileRegex(p.subscribedTopicRegex);
  }

  private heartbeatOperation(p: ConsumerGroupHeartbeatParams): {
    records: CoordinatorRecord[];
    response: ConsumerGroupHeartbeatResult;
  } {
    const records: CoordinatorRecord[] = [];
    const classic = this.ctx.groups.get(p.groupId);
    let group = this.ctx.consumerGroups.get(p.groupId);
    if (!group && (this.ctx.shareGroups.has(p.groupId) || this.ctx.streamsGroups.has(p.groupId))) {
      fail('GROUP_ID_NOT_FOUND', `Group ${p.groupId} is not a consumer group.`);
    }
    if (!group && classic && (classic.size > 0 || !classic.is(GroupState.Empty))) {
      // A classic group with members: the first member joining with the consumer protocol
      // converts it (Kafka's online upgrade), when the policy and the group allow.
      if (p.memberEpoch !== 0 || !this.canUpgrade(classic)) {
        fail('GROUP_ID_NOT_FOUND', `Group ${p.groupId} is not a consumer group.`);
      }
      group = this.fromClassicGroup(classic, records);
    }
    if (!group) {
      if (p.memberEpoch !== 0) fail('GROUP_ID_NOT_FOUND', `Consumer group ${p.groupId} not found.`);
      // An empty classic group (offsets only, or a stored empty generation) becomes a consumer group.
      if (classic && (classic.protocolType !== null || classic.generationId > 0)) {
        records.push(...tombstoneRecords(p.groupId, [], true));
      }
      // A group about to be created: nothing of it exists until its records are replayed.
      group = new ConsumerGroup(p.groupId);
    }
    if (p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      return this.leave(group, p, records);
    }
    if (p.memberEpoch === 0 && !group.members.has(p.memberId) && group.members.size >= this.config.maxSize) {
      fail(
        'GROUP_MAX_SIZE_REACHED',
        `The consumer group has reached its maximum capacity of ${this.config.maxSize} members.`,
      );
    }
    const memberId = p.memberId === '' ? crypto.randomUUID() : p.memberId;
    let member: ConsumerGroupMember;
    let replaced: ConsumerGroupMember | undefined;
    const existing = group.members.get(memberId);
    if (p.instanceId !== null && (!existing || p.memberEpoch === 0)) {
      const holder = group.staticMember(p.instanceId);
      if (p.memberEpoch !== 0 && holder?.memberId !== memberId) {
        fail('UNKNOWN_MEMBER_ID', `Member ${memberId} is not a member of group ${p.groupId}.`);
      }
      if (holder && holder.memberId !== memberId) {
        if (holder.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          fail(
            'UNRELEASED_INSTANCE_ID',
            `Static member ${memberId} with instance id ${p.instanceId} cannot join the group because the instance id is owned by member ${holder.memberId}.`,
          );
        }
        replaced = holder;
      }
    }
    if (existing && p.memberEpoch !== 0) {
      member = existing;
      if (p.memberEpoch > existing.memberEpoch) {
        fail(
          'FENCED_MEMBER_EPOCH',
          `The consumer group member has a greater member epoch (${p.memberEpoch}) than the one known by the group coordinator (${existing.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
      if (p.memberEpoch < existing.memberEpoch) {
        if (
          p.memberEpoch !== existing.previousMemberEpoch ||
          !ownedWithin(p.topicPartitions, existing.assignedPartitions)
        ) {
          fail(
            'FENCED_MEMBER_EPOCH',
            `The consumer group member has a smaller member epoch (${p.memberEpoch}) than the one known by the group coordinator (${existing.memberEpoch}). The member must abandon all its partitions and rejoin.`,
          );
        }
      }
    } else if (p.memberEpoch === 0) {
      member = existing ?? newMember(memberId);
    } else {
      fail('UNKNOWN_MEMBER_ID', `Member ${memberId} is not a member of group ${p.groupId}.`);
    }
    const updated: ConsumerGroupMember = {
      ...member,
      instanceId: p.instanceId ?? member.instanceId,
      rackId: p.rackId ?? member.rackId,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs !== -1 ? p.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
      serverAssignor: p.serverAssignor ?? member.serverAssignor,
      subscribedTopicNames: p.subscribedTopicNames ?? member.subscribedTopicNames,
      subscribedTopicRegex: p.subscribedTopicRegex ?? member.subscribedTopicRegex,
      clientId: p.clientId,
      clientHost: p.clientHost,
      // A member speaking ConsumerGroupHeartbeat is a consumer-protocol member from now on.
      classicMemberMetadata: null,
    };
    const isNew = !group.members.has(memberId);
    const reconciled = this.updateMember(group, member, updated, p.topicPartitions, records, replaced);
    this.scheduleSessionTimeout(p.groupId, memberId);
    if (
      reconciled.state === MemberState.UNREVOKED_PARTITIONS &&
      updated.state !== MemberState.UNREVOKED_PARTITIONS
    ) {
      this.scheduleRebalanceTimeout(
        p.groupId,
        memberId,
        reconciled.memberEpoch,
        reconciled.rebalanceTimeoutMs,
      );
    } else if (reconciled.state !== MemberState.UNREVOKED_PARTITIONS) {
      this.rebalanceTimers.cancel(p.groupId, memberId);
    }
    const full =
      p.memberEpoch === 0 ||
      (p.rebalanceTimeoutMs !== -1 &&
        (p.subscribedTopicNames !== null || p.subscribedTopicRegex !== null) &&
        p.topicPartitions !== null);
    const changed = !sameAssignment(member.assignedPartitions, reconciled.assignedPartitions) || isNew;
    return {
      records,
      response: {
        error: 'NONE',
        errorMessage: null,
        memberId,
        memberEpoch: reconciled.memberEpoch,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        assignment: full || changed ? { topicPartitions: toWire(reconciled.assignedPartitions) } : null,
      },
    };
  }

  /**
   * Kafka's steps 1–3 of a member's join or heartbeat, shared by ConsumerGroupHeartbeat and a
   * classic member's JoinGroup: the member's record when it is new or changed (a returning static
   * member replacing `replaced` takes over its target), a group epoch bump when subscriptions or
   * their topics changed, a new target assignment when the group epoch passed it, and the member
   * reconciled towards its target. Returns the member as it will be once the records replay.
   */
  updateMember(
    group: ConsumerGroup,
    member: ConsumerGroupMember,
    updated: ConsumerGroupMember,
    owned: Owned,
    records: CoordinatorRecord[],
    replaced?: ConsumerGroupMember,
  ): ConsumerGroupMember {
    const now = this.ctx.time.now();
    const groupId = group.groupId;
    const memberId = updated.memberId;
    let targetOverride: Assignment | undefined;
    if (replaced) {
      // The returning static member takes over what the one that left was given.
      records.push(...memberTombstones(groupId, replaced.memberId));
      targetOverride = group.targetOf(replaced.memberId);
    }

    const isNew = !group.members.has(memberId);
    let bump = isNew || replaced !== undefined;
    if (isNew || memberChanged(member, updated)) {
      records.push(memberMetadataRecord(groupId, updated));
      if (
        member.subscribedTopicRegex !== updated.subscribedTopicRegex ||
        member.subscribedTopicNames.join('\0') !== updated.subscribedTopicNames.join('\0')
      ) {
        bump = true;
      }
    }
    // The members as they will be, for subscriptions and the assignor.
    const members = new Map(group.members);
    if (replaced) members.delete(replaced.memberId);
    members.set(memberId, updated);
    const regexTopics = this.resolveRegexes(group, members, records, now);
    const subscribed = new Map<string, Set<string>>();
    const allTopics = new Set<string>();
    for (const m of members.values()) {
      const names = new Set(m.subscribedTopicNames);
      if (m.subscribedTopicRegex) for (const t of regexTopics.get(m.subscribedTopicRegex) ?? []) names.add(t);
      subscribed.set(m.memberId, names);
      for (const n of names) allTopics.add(n);
    }
    const hashText = [...allTopics]
      .sort()
      .map((n) => {
        const t = this.topics.topic(n);
        return t ? `${n}/${t.topicId}/${t.numPartitions}` : `${n}/-`;
      })
      .join(',');
    const hash = metadataHash(hashText);
    if (hash !== group.metadataHash) bump = true;
    let groupEpoch = group.groupEpoch;
    if (bump) {
      groupEpoch += 1;
      records.push(groupEpochRecord(groupId, groupEpoch, hash));
    }

    let targetEpoch = group.assignmentEpoch;
    let target: Assignment;
    if (groupEpoch > group.assignmentEpoch) {
      const targets = this.computeTargets(
        group,
        members,
        subscribed,
        targetOverride && { memberId, target: targetOverride },
      );
      for (const [id, a] of targets) {
        if (!sameAssignment(a, group.targetOf(id)) || (replaced && id === memberId)) {
          records.push(targetAssignmentRecord(groupId, id, a));
        }
      }
      records.push(targetAssignmentEpochRecord(groupId, groupEpoch, now));
      targetEpoch = groupEpoch;
      target = targets.get(memberId) ?? new Map();
    } else {
      target = targetOverride ?? group.targetOf(memberId);
      if (targetOverride) records.push(targetAssignmentRecord(groupId, memberId, targetOverride));
    }

    const epochOf = (topicId: string, partition: number) => {
      const e = group.currentPartitionEpoch(topicId, partition);
      // The replaced static member's partitions are released by its tombstones.
      if (replaced && e !== -1 && replaced.assignedPartitions.get(topicId)?.has(partition)) return -1;
      return e;
    };
    const reconciled = reconcile(updated, targetEpoch, target, owned, epochOf);
    if (isNew || replaced || assignmentChanged(updated, reconciled)) {
      records.push(currentAssignmentRecord(groupId, reconciled));
    }
    return reconciled;
  }

  /** Resolves the members' regular expressions; records the ones whose topics changed. */
  private resolveRegexes(
    group: ConsumerGroup,
    members: ReadonlyMap<string, ConsumerGroupMember>,
    records: CoordinatorRecord[],
    now: number,
  ): Map<string, readonly string[]> {
    const out = new Map<string, readonly string[]>();
    const names = this.topics.topicNames();
    for (const m of members.values()) {
      const regex = m.subscribedTopicRegex;
      if (!regex || out.has(regex)) continue;
      const re = compileRegex(regex);
      const topics = names.filter((n) => re.test(n)).sort();
      out.set(regex, topics);
      const known = group.resolvedRegexes.get(regex);
      if (!known || known.join('\0') !== topics.join('\0'))
        records.push(regexRecord(group.groupId, regex, topics, now));
    }
    for (const regex of group.resolvedRegexes.keys()) {
      if (!out.has(regex)) records.push(regexRecord(group.groupId, regex, null, now));
    }
    return out;
  }

  private computeTargets(
    group: ConsumerGroup,
    members: ReadonlyMap<string, ConsumerGroupMember>,
    subscribed: ReadonlyMap<string, ReadonlySet<string>>,
    override: { memberId: string; target: Assignment } | undefined,
  ): Map<string, Assignment> {
    const counts = new Map<string, number>();
    const input: AssignorMember[] = [];
    for (const m of members.values()) {
      const ids = new Set<string>();
      for (const name of subscribed.get(m.memberId) ?? []) {
        const t = this.topics.topic(name);
        if (!t) continue;
        ids.add(t.topicId);
        counts.set(t.topicId, t.numPartitions);
      }
      const current = override?.memberId === m.memberId ? override.target : group.targetOf(m.memberId);
      input.push({ memberId: m.memberId, subscribedTopicIds: ids, current: copy(current) });
    }
    const name = group.preferredAssignor(this.defaultAssignor, members.values());
    const assignor = assignorByName(name) ?? assignorByName(this.defaultAssignor)!;
    return assignor.assign(input, counts);
  }

  /** Epoch -1: the member leaves (fenced); -2: a static member leaves for now, keeping its partitions. */
  private leave(
    group: ConsumerGroup,
    p: ConsumerGroupHeartbeatParams,
    records: CoordinatorRecord[],
  ): { records: CoordinatorRecord[]; response: ConsumerGroupHeartbeatResult } {
    let member = group.members.get(p.memberId);
    if (!member && p.instanceId !== null) {
      member = group.staticMember(p.instanceId);
      if (member && p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && member.memberId !== p.memberId) {
        fail(
          'FENCED_INSTANCE_ID',
          `Static member ${p.memberId} with instance id ${p.instanceId} is not the member owning the instance id.`,
        );
      }
    }
    if (!member) fail('UNKNOWN_MEMBER_ID', `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    const response = (memberEpoch: number): ConsumerGroupHeartbeatResult => ({
      error: 'NONE',
      errorMessage: null,
      memberId: member!.memberId,
      memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      records.push(
        currentAssignmentRecord(p.groupId, { ...member, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH }),
      );
      this.rebalanceTimers.cancel(p.groupId, member.memberId);
      return { records, response: response(LEAVE_GROUP_STATIC_MEMBER_EPOCH) };
    }
    records.push(...this.fenceRecords(group, member.memberId));
    return { records, response: response(LEAVE_GROUP_MEMBER_EPOCH) };
  }

  /**
   * The records removing a member (Kafka's consumerGroupFenceMember): its tombstones and a group
   * epoch bump, so the others rebalance — or, when it is the last member speaking the consumer
   * protocol and classic members remain, the group turned back into a classic group (Kafka's
   * online downgrade), finished by `finishDowngrade` once the records replayed.
   */
  private fenceRecords(group: ConsumerGroup, memberId: string): CoordinatorRecord[] {
    this.cancelTimers(group.groupId, memberId);
    if (this.canDowngrade(group, memberId)) {
      const { classic, records } = this.toClassicGroup(group, memberId);
      this.downgraded = { classic, rebalance: true };
      return records;
    }
    return [
      ...memberTombstones(group.groupId, memberId),
      groupEpochRecord(group.groupId, group.groupEpoch + 1, group.metadataHash),
    ];
  }

  /**
   * Fences a member whose session, rebalance, join or sync timed out (a write of its own);
   * `expectedEpoch`, when given, must still be the member's epoch.
   */
  fence(groupId: string, memberId: string, why: string, expectedEpoch?: number): void {
    this.ctx.runtime
      .scheduleWriteOperation(this.ctx.partitionFor(groupId), () => {
        const group = this.ctx.consumerGroups.get(groupId);
        const member = group?.members.get(memberId);
        if (!group || !member || (expectedEpoch !== undefined && member.memberEpoch !== expectedEpoch)) {
          return { records: [], response: undefined };
        }
        this.ctx.log.info(`[GroupId ${groupId}] Member ${memberId} fenced from the group because ${why}.`);
        return { records: this.fenceRecords(group, memberId), response: undefined };
      })
      .catch((err: unknown) =>
        this.ctx.log.warn(`fencing ${memberId} of ${groupId} failed: ${(err as Error).message}`),
      );
    this.finishDowngrade();
  }

  // ---- converting between the classic and the consumer protocol (Kafka's online migration) ----

  /** Kafka's validateOnlineUpgrade. */
  private canUpgrade(classic: ClassicGroup): boolean {
    const why = !this.config.migrationPolicy.upgrade
      ? 'the online upgrade is disabled'
      : classic.protocolType !== CONSUMER_PROTOCOL_TYPE
        ? 'the group does not use the consumer embedded protocol'
        : classic.size > this.config.maxSize
          ? 'the group size exceeds the consumer group maximum size'
          : null;
    if (why !== null)
      this.ctx.log.info(`Cannot upgrade classic group ${classic.groupId} to consumer group because ${why}.`);
    return why === null;
  }

  /**
   * Kafka's convertToConsumerGroup: the classic group's members become consumer group members
   * using the classic protocol, at its generation, Stable, each assigned what it last got from
   * SyncGroup; the classic group's record is tombstoned (its offsets stay). Members waiting in a
   * JoinGroup or SyncGroup are told to rejoin. Returns the group as its records will make it.
   */
  private fromClassicGroup(classic: ClassicGroup, records: CoordinatorRecord[]): ConsumerGroup {
    const groupId = classic.groupId;
    const generation = classic.generationId;
    const members: ConsumerGroupMember[] = [];
    try {
      for (const cm of classic.allMembers()) {
        const subscription = decodeSubscription(
          cm.metadata(classic.protocolName ?? cm.supportedProtocols[0]?.name ?? ''),
        );
        const assigned = byTopicId(
          decodeAssignment(cm.assignment).assignedPartitions,
          (name) => this.topics.topic(name)?.topicId,
        );
        members.push({
          ...newMember(cm.memberId),
          instanceId: cm.groupInstanceId,
          rackId: subscription.rackId ?? null,
          rebalanceTimeoutMs: cm.rebalanceTimeoutMs,
          clientId: cm.clientId,
          clientHost: cm.clientHost,
          subscribedTopicNames: subscription.topics,
          memberEpoch: generation,
          previousMemberEpoch: generation,
          assignedPartitions: assigned,
          classicMemberMetadata: {
            sessionTimeoutMs: cm.sessionTimeoutMs,
            supportedProtocols: [...cm.supportedProtocols],
          },
        });
      }
    } catch (err) {
      this.ctx.log.warn(
        `Cannot upgrade the classic group ${groupId} to consumer group: ${(err as Error).message}`,
      );
      fail(
        'GROUP_ID_NOT_FOUND',
        `Cannot upgrade the classic group ${groupId} to consumer group because the embedded consumer protocol is malformed.`,
      );
    }
    failWaitingMembers(classic, 'REBALANCE_IN_PROGRESS');
    records.push(...tombstoneRecords(groupId, [], true));
    const converted: CoordinatorRecord[] = members.map((m) => memberMetadataRecord(groupId, m));
    converted.push(groupEpochRecord(groupId, generation, 0));
    for (const m of members)
      converted.push(targetAssignmentRecord(groupId, m.memberId, m.assignedPartitions));
    converted.push(targetAssignmentEpochRecord(groupId, generation, this.ctx.time.now()));
    for (const m of members) converted.push(currentAssignmentRecord(groupId, m));
    records.push(...converted);
    for (const m of members)
      this.scheduleSessionTimeout(groupId, m.memberId, m.classicMemberMetadata!.sessionTimeoutMs);
    this.ctx.log.info(`[GroupId ${groupId}] Converting the classic group to a consumer group.`);
    // The group as the records make it (replay is the one place a consumer group is built).
    const built = new Map<string, ConsumerGroup>();
    for (const r of converted) replayConsumerGroupRecord(built, r);
    return built.get(groupId) ?? new ConsumerGroup(groupId);
  }

  /** Kafka's validateOnlineDowngradeWithFencedMember (and, `replaced`, WithReplacedMemberId). */
  private canDowngrade(group: ConsumerGroup, leavingMemberId: string, replaced = false): boolean {
    if (!group.allMembersUseClassicProtocolExcept(leavingMemberId)) return false;
    // A member leaving the last one: the group just empties. A replaced one leaves its successor.
    if (!replaced && group.members.size <= 1) return false;
    const size = replaced ? group.members.size : group.members.size - 1;
    const why = !this.config.migrationPolicy.downgrade
      ? 'the online downgrade is disabled'
      : size > this.ctx.config.groupMaxSize
        ? 'its group size is greater than classic group max size'
        : null;
    if (why !== null)
      this.ctx.log.info(`Cannot downgrade consumer group ${group.groupId} to classic group because ${why}.`);
    return why === null;
  }

  /**
   * Kafka's convertToClassicGroup / ClassicGroup.fromConsumerGroup: the records deleting the
   * consumer group, then the classic group's record — its generation the group epoch, Stable, the
   * protocol its members vote for, each member's target assignment in its protocol's version.
   */
  private toClassicGroup(
    group: ConsumerGroup,
    leavingMemberId: string,
    /** A classic static member replacing the leaving one: it joins with the leaving one's partitions. */
    joining?: ConsumerGroupMember,
  ): { classic: ClassicGroup; records: CoordinatorRecord[] } {
    const records: CoordinatorRecord[] = [];
    for (const id of group.members.keys()) records.push(...memberTombstones(group.groupId, id));
    records.push(...consumerGroupTombstones(group));
    const classic = new ClassicGroup(group.groupId, this.ctx.time.now());
    classic.generationId = group.groupEpoch;
    const members = [...group.members.values()].filter((m) => m.memberId !== leavingMemberId);
    if (joining) members.push(joining);
    const targetOf = (id: string) =>
      group.targetOf(joining && id === joining.memberId ? leavingMemberId : id);
    for (const m of members) {
      const cm = m.classicMemberMetadata;
      if (cm === null) continue;
      classic.add(
        new MemberMetadata(
          m.memberId,
          m.instanceId,
          m.clientId,
          m.clientHost,
          m.rebalanceTimeoutMs,
          cm.sessionTimeoutMs,
          CONSUMER_PROTOCOL_TYPE,
          [...cm.supportedProtocols],
        ),
        null,
      );
    }
    const protocol = classic.selectProtocol();
    classic.protocolName = protocol;
    classic.state = GroupState.Stable;
    classic.subscribedTopics = classic.computeSubscribedTopics();
    const assignment = new Map<string, Buffer>();
    for (const m of classic.allMembers()) {
      m.assignment = encodeAssignment(protocolVersion(m.metadata(protocol)), {
        assignedPartitions: byTopicName(targetOf(m.memberId), (id) => this.topics.topicName(id)),
        userData: null,
      });
      assignment.set(m.memberId, m.assignment);
    }
    records.push(groupMetadataRecord(classic, assignment));
    this.ctx.log.info(`[GroupId ${group.groupId}] Converting the consumer group to a classic group.`);
    return { classic, records };
  }

  /**
   * Kafka's downgrade when a classic static member replaces the group's last consumer-protocol
   * member (classicGroupJoinToConsumerGroup, step 4): the records turning the group into a classic
   * one, Stable at the group epoch, the joining member holding what the replaced one was given —
   * no rebalance. Null when the policy or the group does not allow it. `finishDowngrade` after.
   */
  downgradeReplacing(
    group: ConsumerGroup,
    replaced: ConsumerGroupMember,
    joining: ConsumerGroupMember,
  ): { records: CoordinatorRecord[]; protocol: string } | null {
    if (!this.canDowngrade(group, replaced.memberId, true)) return null;
    const { classic, records } = this.toClassicGroup(group, replaced.memberId, joining);
    this.downgraded = { classic, rebalance: false };
    return { records, protocol: classic.protocolName! };
  }

  /**
   * After a write that may have turned a consumer group into a classic one: once its records
   * replayed (the write runs and replays before scheduleWriteOperation returns), the classic group
   * built with every member's protocols takes the place of the one replayed from the record,
   * keeping its offsets, and rebalances (`onDowngraded`). A failed append left the consumer group.
   */
  finishDowngrade(): void {
    const downgraded = this.downgraded;
    this.downgraded = null;
    if (!downgraded) return;
    const { classic, rebalance } = downgraded;
    const replayed = this.ctx.groups.get(classic.groupId);
    if (this.ctx.consumerGroups.has(classic.groupId) || !replayed) return;
    for (const o of replayed.allOffsets()) classic.putOffset(o.topic, o.partition, o.offset);
    // Its members' consumer-group deadlines stop: the classic group's heartbeats take over.
    for (const id of classic.members.keys()) this.cancelTimers(classic.groupId, id);
    this.ctx.groups.set(classic.groupId, classic);
    this.onDowngraded(classic, rebalance);
  }

  // ---- timers ----

  /** A member's session: the group's timeout, or the one a classic member joined with. */
  scheduleSessionTimeout(groupId: string, memberId: string, timeoutMs = this.config.sessionTimeoutMs): void {
    this.sessionTimers.schedule(groupId, memberId, timeoutMs, () =>
      this.fence(groupId, memberId, 'its session expired'),
    );
  }

  private scheduleRebalanceTimeout(
    groupId: string,
    memberId: string,
    epoch: number,
    timeoutMs: number,
  ): void {
    this.rebalanceTimers.schedule(groupId, memberId, Math.max(timeoutMs, 0), () => {
      const m = this.ctx.consumerGroups.get(groupId)?.members.get(memberId);
      if (m?.state === MemberState.UNREVOKED_PARTITIONS) {
        this.fence(groupId, memberId, 'it failed to revoke partitions within the rebalance timeout', epoch);
      }
    });
  }

  /** A classic member told to rejoin must do so within its rebalance timeout (Kafka's join timeout). */
  scheduleJoinTimeoutIfAbsent(groupId: string, memberId: string, timeoutMs: number): void {
    if (this.joinTimers.has(groupId, memberId)) return;
    this.joinTimers.schedule(groupId, memberId, Math.max(timeoutMs, 0), () =>
      this.fence(groupId, memberId, 'the classic member failed to join within the rebalance timeout'),
    );
  }

  /** A classic member that joined must send SyncGroup within its rebalance timeout. */
  scheduleSyncTimeout(groupId: string, memberId: string, timeoutMs: number): void {
    this.syncTimers.schedule(groupId, memberId, Math.max(timeoutMs, 0), () =>
      this.fence(groupId, memberId, 'the member failed to sync within timeout'),
    );
  }

  cancelJoinTimeout(groupId: string, memberId: string): void {
    this.joinTimers.cancel(groupId, memberId);
  }

  cancelSyncTimeout(groupId: string, memberId: string): void {
    this.syncTimers.cancel(groupId, memberId);
  }

  /** Every timer of a member (Kafka's cancelTimers). */
  cancelTimers(groupId: string, memberId: string): void {
    for (const t of [this.sessionTimers, this.rebalanceTimers, this.joinTimers, this.syncTimers])
      t.cancel(groupId, memberId);
  }

  /** The partition's consumer groups are loaded: their members' sessions start now. */
  onLoaded(groups: readonly ConsumerGroup[]): void {
    for (const g of groups)
      for (const m of g.members.values())
        this.scheduleSessionTimeout(g.groupId, m.memberId, m.classicMemberMetadata?.sessionTimeoutMs);
  }

  /** The partition is unloaded: its groups' timers stop. */
  onUnloaded(groups: readonly ConsumerGroup[]): void {
    for (const g of groups) for (const m of g.members.keys()) this.cancelTimers(g.groupId, m);
  }

  /** ConsumerGroupDescribe of one group. */
  describe(
    groupId: string,
    includeAuthorizedOperations: boolean,
    /** What the principal may do on the group (the handler's GROUP_AUTHORIZED_OPERATIONS). */
    authorizedOperations: number,
  ): ConsumerGroupDescription {
    const base: ConsumerGroupDescription = {
      error: 'NONE',
      errorMessage: null,
      groupId,
      groupState: 'Dead',
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: '',
      members: [],
      authorizedOperations: -2147483648,
    };
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return { ...base, error: status };
    const group = this.ctx.consumerGroups.get(groupId);
    if (!group) {
      const classic = this.ctx.groups.get(groupId);
      const message =
        (classic && !classic.is(GroupState.Dead)) ||
        this.ctx.shareGroups.has(groupId) ||
        this.ctx.streamsGroups.has(groupId)
          ? `Group ${groupId} is not a consumer group.`
          : `Group ${groupId} not found.`;
      return { ...base, error: 'GROUP_ID_NOT_FOUND', errorMessage: message };
    }
    const toDescribe = (a: Assignment) => ({
      topicPartitions: [...a].map(([topicId, ps]) => ({
        topicId,
        topicName: this.topics.topicName(topicId) ?? '',
        partitions: [...ps].sort((x, y) => x - y),
      })),
    });
    return {
      ...base,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.preferredAssignor(this.defaultAssignor),
      authorizedOperations: includeAuthorizedOperations ? authorizedOperations : base.authorizedOperations,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: toDescribe(m.assignedPartitions),
        targetAssignment: toDescribe(group.targetOf(m.memberId)),
        // Kafka's MemberType: 0 a classic member, 1 a consumer-protocol one.
        memberType: m.classicMemberMetadata === null ? 1 : 0,
      })),
    };
  }

  /** Deletes an empty consumer group's records (DeleteGroups, and a classic member taking the id over). */
  tombstones(group: ConsumerGroup): CoordinatorRecord[] {
    return consumerGroupTombstones(group);
  }

  /** Drops every consumer group (the broker's reset): timers stopped, tombstones written and replayed. */
  reset(): void {
    for (const group of [...this.ctx.consumerGroups.values()]) {
      this.onUnloaded([group]);
      const records = [...group.members.keys()].flatMap((m) => memberTombstones(group.groupId, m));
      records.push(...consumerGroupTombstones(group));
      try {
        this.ctx.runtime.appendNow(this.ctx.partitionFor(group.groupId), records, true);
      } catch (err) {
        this.ctx.log.error(`writing tombstones for consumer group ${group.groupId} failed`, err);
        this.ctx.consumerGroups.delete(group.groupId);
      }
    }
  }
}
