/**
 * Share groups on the group coordinator runtime (KIP-932, Kafka's GroupMetadataManager
 * shareGroupHeartbeat / shareGroupDescribe): ShareGroupHeartbeat is a write operation that reads
 * the group (share-group.ts), returns its records and the response, and changes nothing itself —
 * the shard's replay applies the records. As Kafka:
 *
 * 1. validate (INVALID_REQUEST: empty group id, member id or rack, no subscription on joining,
 *    an epoch below -1);
 * 2. find the group (created by a member joining with epoch 0; a classic group with members or a
 *    consumer group of that id is GROUP_ID_NOT_FOUND, "not a share group") and the member: epoch 0
 *    joins (`group.share.max.size`, else GROUP_MAX_SIZE_REACHED), a known member's epoch must be
 *    its current one (else FENCED_MEMBER_EPOCH), an unknown member is UNKNOWN_MEMBER_ID; epoch -1
 *    leaves (its records tombstoned, the group epoch bumped, its acquired records released);
 * 3. a changed subscription, a new member or changed subscribed topics' partitions bump the group
 *    epoch and compute a new target assignment with the simple assignor (share-assignor.ts);
 * 4. no revocation in share groups: the member moves to the target at once (Kafka's
 *    ShareGroupAssignmentBuilder); the answer carries the assignment when it changed or on joining.
 *
 * Session timeouts (`group.share.session.timeout.ms`) fence a member that stops heartbeating.
 * Timers are not state: set by the operation, cleared when the partition unloads.
 */
import type { ErrorName } from '../../protocol/generated/errors.js';
import type { ShareGroupDescribeResponseDescribedGroup } from '../../protocol/generated/messages.js';
import type { TopicsView } from '../group/consumer-groups.js';
import type { GroupContext } from '../group/context.js';
import { topicPartitions } from '../group/group-records.js';
import { fail, MemberTimers, metadataHash, runHeartbeat, sameAssignment } from '../group/heartbeat.js';
import { GroupState } from '../group-metadata.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import { simpleAssign } from './share-assignor.js';
import {
  type Assignment,
  newShareMember,
  ShareGroup,
  type ShareGroupMember,
  shareCurrentAssignmentRecord,
  shareGroupEpochRecord,
  shareGroupTombstones,
  shareMemberMetadataRecord,
  shareMemberTombstones,
  shareStatePartitionMetadataRecord,
  shareTargetAssignmentEpochRecord,
  shareTargetAssignmentRecord,
} from './share-group.js';

/** Kafka's group.share.* configs. */
export interface ShareGroupConfig {
  enabled: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxSize: number;
}

export const DEFAULT_SHARE_GROUP_CONFIG: ShareGroupConfig = {
  enabled: true,
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  maxSize: 200,
};

export interface ShareGroupHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  rackId: string | null;
  subscribedTopicNames: readonly string[] | null;
  clientId: string;
  clientHost: string;
}

export interface ShareGroupHeartbeatResult {
  error: ErrorName;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

export type ShareGroupDescription = Omit<ShareGroupDescribeResponseDescribedGroup, 'errorCode'> & {
  error: ErrorName;
};

export class ShareGroups {
  private readonly sessionTimers = new MemberTimers(() => this.ctx.time);
  /** Called when a member leaves or is fenced: the partition leaders release its records. */
  onMemberRemoved: (groupId: string, memberId: string) => void = () => {};

  constructor(
    private readonly ctx: GroupContext,
    private readonly groups: Map<string, ShareGroup>,
    private readonly config: ShareGroupConfig,
    private readonly topics: TopicsView,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  heartbeat(p: ShareGroupHeartbeatParams): Promise<ShareGroupHeartbeatResult> {
    return runHeartbeat(
      this.ctx,
      p.groupId,
      () => this.validate(p),
      () => this.heartbeatOperation(p),
    );
  }

  /** Kafka's throwIfShareGroupHeartbeatRequestIsInvalid. */
  private validate(p: ShareGroupHeartbeatParams): void {
    const invalid = (message: string) => fail('INVALID_REQUEST', message);
    if (p.groupId === '') invalid("GroupId can't be empty.");
    if (p.rackId === '') invalid("RackId can't be empty.");
    if (p.memberId === '') invalid("MemberId can't be empty.");
    if (p.memberEpoch === 0) {
      if (p.subscribedTopicNames === null || p.subscribedTopicNames.length === 0) {
        invalid('SubscribedTopicNames must be set in first request.');
      }
    } else if (p.memberEpoch < -1) invalid('MemberEpoch is invalid.');
  }

  private heartbeatOperation(p: ShareGroupHeartbeatParams): {
    records: CoordinatorRecord[];
    response: ShareGroupHeartbeatResult;
  } {
    const now = this.ctx.time.now();
    const records: CoordinatorRecord[] = [];
    let group = this.groups.get(p.groupId);
    if (!group) {
      const classic = this.ctx.groups.get(p.groupId);
      if (
        this.ctx.consumerGroups.has(p.groupId) ||
        this.ctx.streamsGroups.has(p.groupId) ||
        (classic && (classic.size > 0 || (!classic.is(GroupState.Empty) && !classic.is(GroupState.Dead))))
      ) {
        fail('GROUP_ID_NOT_FOUND', `Group ${p.groupId} is not a share group.`);
      }
      if (p.memberEpoch !== 0) fail('GROUP_ID_NOT_FOUND', `Share group ${p.groupId} not found.`);
      group = new ShareGroup(p.groupId);
    }
    if (p.memberEpoch === -1) {
      const member = group.members.get(p.memberId);
      if (!member) fail('UNKNOWN_MEMBER_ID', `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      records.push(...this.fenceRecords(group, member.memberId));
      this.sessionTimers.cancel(p.groupId, member.memberId);
      this.onMemberRemoved(p.groupId, member.memberId);
      return {
        records,
        response: {
          error: 'NONE',
          errorMessage: null,
          memberId: member.memberId,
          memberEpoch: -1,
          heartbeatIntervalMs: 0,
          assignment: null,
        },
      };
    }
    const existing = group.members.get(p.memberId);
    let member: ShareGroupMember;
    if (p.memberEpoch === 0) {
      if (!existing && group.members.size >= this.config.maxSize) {
        fail(
          'GROUP_MAX_SIZE_REACHED',
          `The share group has reached its maximum capacity of ${this.config.maxSize} members.`,
        );
      }
      member = existing ?? newShareMember(p.memberId);
    } else if (!existing) {
      fail('UNKNOWN_MEMBER_ID', `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    } else {
      if (p.memberEpoch !== existing.memberEpoch) {
        fail(
          'FENCED_MEMBER_EPOCH',
          `The share group member has a ${p.memberEpoch > existing.memberEpoch ? 'greater' : 'smaller'} member epoch (${p.memberEpoch}) than the one known by the group coordinator (${existing.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
      member = existing;
    }
    const updated: ShareGroupMember = {
      ...member,
      rackId: p.rackId ?? member.rackId,
      clientId: p.clientId,
      clientHost: p.clientHost,
      subscribedTopicNames: p.subscribedTopicNames
        ? [...p.subscribedTopicNames]
        : member.subscribedTopicNames,
    };
    const isNew = !existing;
    let bump = isNew;
    if (
      isNew ||
      updated.rackId !== member.rackId ||
      updated.clientId !== member.clientId ||
      updated.clientHost !== member.clientHost ||
      updated.subscribedTopicNames.join('\0') !== member.subscribedTopicNames.join('\0')
    ) {
      records.push(shareMemberMetadataRecord(p.groupId, updated));
      if (updated.subscribedTopicNames.join('\0') !== member.subscribedTopicNames.join('\0')) bump = true;
    }
    const members = new Map(group.members);
    members.set(updated.memberId, updated);
    const allTopics = new Set<string>();
    for (const m of members.values()) for (const t of m.subscribedTopicNames) allTopics.add(t);
    const hash = metadataHash(
      [...allTopics]
        .sort()
        .map((n) => {
          const t = this.topics.topic(n);
          return t ? `${n}/${t.topicId}/${t.numPartitions}` : `${n}/-`;
        })
        .join(','),
    );
    if (hash !== group.metadataHash) bump = true;
    let groupEpoch = group.groupEpoch;
    if (bump) {
      groupEpoch += 1;
      records.push(shareGroupEpochRecord(p.groupId, groupEpoch, hash));
    }
    let target: Assignment;
    if (groupEpoch > group.assignmentEpoch) {
      const targets = this.computeTargets(members);
      for (const [id, a] of targets) {
        if (!sameAssignment(a, group.targetOf(id)) || (isNew && id === updated.memberId)) {
          records.push(shareTargetAssignmentRecord(p.groupId, id, a));
        }
      }
      records.push(shareTargetAssignmentEpochRecord(p.groupId, groupEpoch, now));
      target = targets.get(updated.memberId) ?? new Map();
      // Partitions assigned for the first time get their share state initialized.
      const init = new Map(
        [...group.initialized].map(([id, t]) => [
          id,
          { topicName: t.topicName, partitions: new Set(t.partitions) },
        ]),
      );
      let grew = false;
      for (const a of targets.values()) {
        for (const [topicId, ps] of a) {
          const name = this.topics.topicName(topicId) ?? '';
          let t = init.get(topicId);
          if (!t) {
            t = { topicName: name, partitions: new Set() };
            init.set(topicId, t);
          }
          for (const x of ps) {
            if (!t.partitions.has(x)) {
              t.partitions.add(x);
              grew = true;
            }
          }
        }
      }
      if (grew) records.push(shareStatePartitionMetadataRecord(p.groupId, init));
    } else target = group.targetOf(updated.memberId);
    const targetEpoch = Math.max(groupEpoch, group.assignmentEpoch);
    const reconciled: ShareGroupMember =
      updated.memberEpoch === targetEpoch && sameAssignment(updated.assignedPartitions, target) && !isNew
        ? updated
        : {
            ...updated,
            previousMemberEpoch: updated.memberEpoch,
            memberEpoch: targetEpoch,
            assignedPartitions: target,
          };
    if (reconciled !== updated || isNew) records.push(shareCurrentAssignmentRecord(p.groupId, reconciled));
    this.scheduleSessionTimeout(p.groupId, updated.memberId);
    const changed = isNew || !sameAssignment(member.assignedPartitions, reconciled.assignedPartitions);
    return {
      records,
      response: {
        error: 'NONE',
        errorMessage: null,
        memberId: updated.memberId,
        memberEpoch: reconciled.memberEpoch,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        assignment:
          p.memberEpoch === 0 || changed || p.subscribedTopicNames !== null
            ? { topicPartitions: topicPartitions(reconciled.assignedPartitions) }
            : null,
      },
    };
  }

  private computeTargets(members: ReadonlyMap<string, ShareGroupMember>): Map<string, Assignment> {
    const subscriptions = new Map<string, Set<string>>();
    const partitionCounts = new Map<string, number>();
    for (const m of members.values()) {
      const ids = new Set<string>();
      for (const name of m.subscribedTopicNames) {
        const t = this.topics.topic(name);
        if (!t) continue;
        ids.add(t.topicId);
        partitionCounts.set(t.topicId, t.numPartitions);
      }
      subscriptions.set(m.memberId, ids);
    }
    return simpleAssign(subscriptions, partitionCounts);
  }

  private fenceRecords(group: ShareGroup, memberId: string): CoordinatorRecord[] {
    return [
      ...shareMemberTombstones(group.groupId, memberId),
      shareGroupEpochRecord(group.groupId, group.groupEpoch + 1, group.metadataHash),
    ];
  }

  private fence(groupId: string, memberId: string): void {
    this.ctx.runtime
      .scheduleWriteOperation(this.ctx.partitionFor(groupId), () => {
        const group = this.groups.get(groupId);
        if (!group?.members.has(memberId)) return { records: [], response: undefined };
        this.ctx.log.info(
          `[GroupId ${groupId}] Member ${memberId} fenced from the share group because its session expired.`,
        );
        this.onMemberRemoved(groupId, memberId);
        return { records: this.fenceRecords(group, memberId), response: undefined };
      })
      .catch((err: unknown) =>
        this.ctx.log.warn(`fencing ${memberId} of ${groupId} failed: ${(err as Error).message}`),
      );
  }

  private scheduleSessionTimeout(groupId: string, memberId: string): void {
    this.sessionTimers.schedule(groupId, memberId, this.config.sessionTimeoutMs, () =>
      this.fence(groupId, memberId),
    );
  }

  onLoaded(groups: readonly ShareGroup[]): void {
    for (const g of groups) for (const m of g.members.keys()) this.scheduleSessionTimeout(g.groupId, m);
  }

  onUnloaded(groups: readonly ShareGroup[]): void {
    for (const g of groups) for (const m of g.members.keys()) this.sessionTimers.cancel(g.groupId, m);
  }

  /** ShareGroupDescribe of one group. */
  describe(
    groupId: string,
    includeAuthorizedOperations: boolean,
    authorizedOperations: number,
  ): ShareGroupDescription {
    const base: ShareGroupDescription = {
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
    const group = this.groups.get(groupId);
    if (!group) {
      const other =
        this.ctx.consumerGroups.has(groupId) ||
        this.ctx.streamsGroups.has(groupId) ||
        (this.ctx.groups.get(groupId) !== undefined && !this.ctx.groups.get(groupId)!.is(GroupState.Dead));
      return {
        ...base,
        error: 'GROUP_ID_NOT_FOUND',
        errorMessage: other ? `Group ${groupId} is not a share group.` : `Group ${groupId} not found.`,
      };
    }
    return {
      ...base,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: 'simple',
      authorizedOperations: includeAuthorizedOperations ? authorizedOperations : base.authorizedOperations,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        assignment: {
          topicPartitions: [...m.assignedPartitions].map(([topicId, ps]) => ({
            topicId,
            topicName: this.topics.topicName(topicId) ?? '',
            partitions: [...ps].sort((a, b) => a - b),
          })),
        },
      })),
    };
  }

  /** The share groups, for ListGroups. */
  all(): ShareGroup[] {
    return [...this.groups.values()].filter((g) =>
      this.ctx.runtime.isLoaded(this.ctx.partitionFor(g.groupId)),
    );
  }

  get(groupId: string): ShareGroup | undefined {
    return this.groups.get(groupId);
  }

  /**
   * The share group for the offsets admin APIs: COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR as
   * any group API, GROUP_ID_NOT_FOUND when there is no share group of that id, NON_EMPTY_GROUP
   * when `mustBeEmpty` and members remain (Kafka alters and deletes offsets of empty groups only).
   */
  lookup(
    groupId: string,
    mustBeEmpty: boolean,
    /** AlterShareGroupOffsets: a missing group is made (empty), as Kafka does. */
    create = false,
  ): { error: ErrorName; message: string | null; group?: ShareGroup } {
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return { error: status, message: null };
    const group = this.groups.get(groupId);
    const classic = this.ctx.groups.get(groupId);
    if (
      !group &&
      create &&
      !this.ctx.consumerGroups.has(groupId) &&
      !this.ctx.streamsGroups.has(groupId) &&
      (!classic || classic.is(GroupState.Dead))
    )
      return { error: 'NONE', message: null, group: new ShareGroup(groupId) };
    if (!group) return { error: 'GROUP_ID_NOT_FOUND', message: `Group ${groupId} not found.` };
    if (mustBeEmpty && group.members.size > 0)
      return { error: 'NON_EMPTY_GROUP', message: 'The group is not empty.' };
    return { error: 'NONE', message: null, group };
  }

  /**
   * Changes which partitions of `groupId` have share state (AlterShareGroupOffsets adds,
   * DeleteShareGroupOffsets removes topics): a ShareGroupStatePartitionMetadata record.
   */
  updateInitialized(
    groupId: string,
    add: readonly { topicId: string; topicName: string; partition: number }[],
    removeTopicIds: readonly string[],
  ): Promise<void> {
    return this.ctx.runtime.scheduleWriteOperation<void>(this.ctx.partitionFor(groupId), () => {
      const existing = this.groups.get(groupId);
      if (!existing && add.length === 0) return { records: [], response: undefined };
      const group = existing ?? new ShareGroup(groupId);
      // A group made by AlterShareGroupOffsets: its ShareGroupMetadata record first (epoch 0).
      const records = existing ? [] : [shareGroupEpochRecord(groupId, 0, 0)];
      const init = new Map(
        [...group.initialized].map(([id, t]) => [
          id,
          { topicName: t.topicName, partitions: new Set(t.partitions) },
        ]),
      );
      for (const id of removeTopicIds) init.delete(id);
      for (const a of add) {
        const t = init.get(a.topicId) ?? { topicName: a.topicName, partitions: new Set<number>() };
        t.partitions.add(a.partition);
        init.set(a.topicId, t);
      }
      records.push(shareStatePartitionMetadataRecord(groupId, init));
      return { records, response: undefined };
    });
  }

  /** Drops every share group (the broker's reset). */
  reset(): void {
    for (const group of [...this.groups.values()]) {
      this.onUnloaded([group]);
      const records = [...group.members.keys()].flatMap((m) => shareMemberTombstones(group.groupId, m));
      records.push(...shareGroupTombstones(group.groupId));
      try {
        this.ctx.runtime.appendNow(this.ctx.partitionFor(group.groupId), records, true);
      } catch (err) {
        this.ctx.log.error(`writing tombstones for share group ${group.groupId} failed`, err);
        this.groups.delete(group.groupId);
      }
    }
  }
}
