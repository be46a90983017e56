/**
 * Classic members inside a KIP-848 consumer group (Kafka's classicGroupJoinToConsumerGroup,
 * classicGroupSyncToConsumerGroup, classicGroupHeartbeatToConsumerGroup and
 * classicGroupLeaveToConsumerGroup): during a rolling upgrade of an application from
 * `group.protocol=classic` to `consumer`, or with clients that only speak the classic protocol
 * (kafkajs, librdkafka's classic consumers) beside ones that speak KIP-848, one group holds both.
 *
 * A classic member is a consumer group member with `classicMemberMetadata` (its session timeout
 * and JoinGroup protocols). Its JoinGroup runs the same member update, target assignment and
 * reconciliation as a ConsumerGroupHeartbeat (ConsumerGroups.updateMember) with the subscription
 * and owned partitions read from its embedded consumer protocol; the answer is its member epoch as
 * the generation, no leader and no member list (it never assigns), and SyncGroup hands it its
 * assigned partitions in its protocol's version. Heartbeat answers REBALANCE_IN_PROGRESS when it
 * must rejoin: the group epoch moved past its epoch, it has partitions to revoke, or partitions it
 * waited for were released. Deadlines, as Kafka's: its session timeout; after being told to
 * rejoin, its rebalance timeout to send JoinGroup; after JoinGroup, its rebalance timeout to send
 * SyncGroup — each fences it.
 *
 * Deviation: a JoinGroup whose subscription does not parse is INCONSISTENT_GROUP_PROTOCOL (Kafka
 * throws an IllegalStateException, UNKNOWN_SERVER_ERROR).
 */
import { randomUUID } from 'node:crypto';
import type { ErrorName } from '../../protocol/generated/errors.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  type JoinGroupResult,
  type SyncGroupResult,
  UNKNOWN_MEMBER_ID,
} from '../group-metadata.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import { coordinatorErrorOf } from '../runtime/coordinator-runtime.js';
import {
  type ConsumerGroup,
  type ConsumerGroupMember,
  groupEpochRecord,
  MemberState,
  memberTombstones,
  newMember,
} from './consumer-group.js';
import type { ConsumerGroups } from './consumer-groups.js';
import {
  byTopicId,
  byTopicName,
  decodeSubscription,
  encodeAssignment,
  protocolVersion,
} from './consumer-protocol.js';
import { type GroupContext, joinError, syncError } from './context.js';
import { topicPartitions } from './group-records.js';
import { fail, HeartbeatError } from './heartbeat.js';
import type { JoinGroupParams, SyncGroupParams } from './membership.js';

export interface LeaveGroupResult {
  error: ErrorName;
  members: { memberId: string; groupInstanceId: string | null; error: ErrorName }[];
}

function refusal(err: unknown): ErrorName {
  if (err instanceof HeartbeatError) return err.error;
  throw err;
}

export class ConsumerGroupClassicMembers {
  constructor(
    private readonly ctx: GroupContext,
    private readonly groups: ConsumerGroups,
  ) {}

  /**
   * Whether the classic membership APIs of `groupId` go to its consumer group: any of them once it
   * exists; a JoinGroup only while it has members (an empty one becomes a classic group).
   */
  serves(groupId: string, join: boolean): boolean {
    const group = this.ctx.consumerGroups.get(groupId);
    return group !== undefined && (!join || group.members.size > 0);
  }

  // ---- JoinGroup ----

  join(p: JoinGroupParams): Promise<JoinGroupResult> {
    const failed = (err: unknown) => joinError(p.memberId, coordinatorErrorOf(err));
    const written = this.ctx.runtime.scheduleWriteOperation<JoinGroupResult>(
      this.ctx.partitionFor(p.groupId),
      () => {
        try {
          return { ...this.joinOperation(p), onAppendError: failed };
        } catch (err) {
          return { records: [], response: joinError(p.memberId, refusal(err)) };
        }
      },
    );
    // The join may have turned the group classic (a static member replacing the last KIP-848 one).
    this.groups.finishDowngrade();
    return written.then((r) => {
      // Still a consumer group (else the classic group's heartbeats run the member).
      if (r.error === 'NONE' && this.ctx.consumerGroups.has(p.groupId)) {
        // Committed: the member's session runs, and it owes a SyncGroup.
        this.groups.cancelJoinTimeout(p.groupId, r.memberId);
        this.groups.scheduleSessionTimeout(p.groupId, r.memberId, p.sessionTimeoutMs);
        this.groups.scheduleSyncTimeout(p.groupId, r.memberId, p.rebalanceTimeoutMs);
      }
      return r;
    }, failed);
  }

  private joinOperation(p: JoinGroupParams): { records: CoordinatorRecord[]; response: JoinGroupResult } {
    const group = this.group(p.groupId);
    const isUnknown = p.memberId === UNKNOWN_MEMBER_ID;
    const memberId = isUnknown ? randomUUID() : p.memberId;
    const maxSize = this.groups.config.maxSize;
    if (group.members.size >= maxSize && (isUnknown || !group.members.has(memberId))) {
      fail(
        'GROUP_MAX_SIZE_REACHED',
        `The consumer group has reached its maximum capacity of ${maxSize} members.`,
      );
    }
    const names = p.protocols.map((x) => x.name);
    if (!group.supportsClassicProtocols(p.protocolType, names)) {
      fail('INCONSISTENT_GROUP_PROTOCOL', `Member ${memberId}'s protocols are not supported.`);
    }
    if (p.requireKnownMemberId && isUnknown && p.groupInstanceId === null) {
      // Kafka's MEMBER_ID_REQUIRED: the id is not kept; the member is created when it rejoins with it.
      return { records: [], response: joinError(memberId, 'MEMBER_ID_REQUIRED') };
    }
    const records: CoordinatorRecord[] = [];
    let member: ConsumerGroupMember;
    let replaced: ConsumerGroupMember | undefined;
    if (p.groupInstanceId === null) {
      member = group.members.get(memberId) ?? newMember(memberId);
    } else {
      const holder = group.staticMember(p.groupInstanceId);
      if (isUnknown) {
        // A static member (re)joining with a new id takes the place of the one holding its instance id.
        replaced = holder;
        if (holder) this.groups.cancelTimers(p.groupId, holder.memberId);
        member = newMember(memberId);
      } else {
        if (!holder) fail('UNKNOWN_MEMBER_ID', `Instance id ${p.groupInstanceId} is unknown.`);
        this.checkInstanceOwner(holder, p.groupId, memberId, p.groupInstanceId);
        member = holder;
      }
    }
    let subscription: ReturnType<typeof decodeSubscription>;
    try {
      subscription = decodeSubscription(p.protocols[0]!.metadata);
    } catch {
      fail(
        'INCONSISTENT_GROUP_PROTOCOL',
        'Malformed embedded consumer protocol in subscription deserialization.',
      );
    }
    const owned = topicPartitions(
      byTopicId(subscription.ownedPartitions ?? [], (name) => this.groups.topics.topic(name)?.topicId),
    );
    const updated: ConsumerGroupMember = {
      ...member,
      instanceId: p.groupInstanceId ?? member.instanceId,
      rackId: subscription.rackId ?? member.rackId,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs !== -1 ? p.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
      subscribedTopicNames: [...subscription.topics].sort(),
      clientId: p.clientId,
      clientHost: p.clientHost,
      classicMemberMetadata: {
        sessionTimeoutMs: p.sessionTimeoutMs,
        supportedProtocols: [...p.protocols],
      },
    };
    if (replaced && replaced.classicMemberMetadata === null) {
      // The last member speaking the consumer protocol may be replaced: the group goes classic.
      const downgrade = this.groups.downgradeReplacing(group, replaced, updated);
      if (downgrade) {
        return {
          records: downgrade.records,
          response: {
            error: 'NONE',
            generationId: group.groupEpoch,
            protocolType: CONSUMER_PROTOCOL_TYPE,
            protocolName: downgrade.protocol,
            leader: '',
            skipAssignment: false,
            memberId,
            members: [],
          },
        };
      }
    }
    if (!group.members.has(memberId)) {
      this.ctx.log.info(
        `[GroupId ${p.groupId}] Member ${memberId} joins the consumer group using the classic protocol.`,
      );
    }
    const reconciled = this.groups.updateMember(group, member, updated, owned, records, replaced);
    return {
      records,
      response: {
        error: 'NONE',
        generationId: reconciled.memberEpoch,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: p.protocols[0]!.name,
        leader: '',
        skipAssignment: false,
        memberId,
        members: [],
      },
    };
  }

  // ---- SyncGroup ----

  sync(p: SyncGroupParams): Promise<SyncGroupResult> {
    const status = this.ctx.validateGroupStatus(p.groupId, true);
    if (status !== 'NONE') return Promise.resolve(syncError(status));
    try {
      const group = this.group(p.groupId);
      if (group.members.size === 0) fail('UNKNOWN_MEMBER_ID', `Group ${p.groupId} is empty.`);
      const member = this.classicMember(group, p.memberId, p.groupInstanceId);
      this.checkGeneration(member, p.generationId);
      const protocol = member.classicMemberMetadata!.supportedProtocols[0]!;
      if (p.protocolType !== null && p.protocolType !== CONSUMER_PROTOCOL_TYPE) {
        fail(
          'INCONSISTENT_GROUP_PROTOCOL',
          `The protocol type ${p.protocolType} from member ${member.memberId} request is not equal to the group protocol type ${CONSUMER_PROTOCOL_TYPE}.`,
        );
      }
      if (p.protocolName !== null && p.protocolName !== protocol.name) {
        fail(
          'INCONSISTENT_GROUP_PROTOCOL',
          `The protocol name ${p.protocolName} from member ${member.memberId} request is not equal to the protocol name ${protocol.name} returned in the join response.`,
        );
      }
      // A member behind the group epoch rejoins first — unless it is revoking, which it finishes first.
      if (group.groupEpoch > member.memberEpoch && member.state !== MemberState.UNREVOKED_PARTITIONS) {
        this.groups.scheduleJoinTimeoutIfAbsent(p.groupId, member.memberId, member.rebalanceTimeoutMs);
        fail(
          'REBALANCE_IN_PROGRESS',
          `A new rebalance is triggered in group ${p.groupId} and member ${member.memberId} should rejoin to catch up.`,
        );
      }
      this.groups.cancelSyncTimeout(p.groupId, member.memberId);
      this.groups.scheduleSessionTimeout(
        p.groupId,
        member.memberId,
        member.classicMemberMetadata!.sessionTimeoutMs,
      );
      return Promise.resolve({
        error: 'NONE',
        protocolType: p.protocolType,
        protocolName: p.protocolName,
        assignment: encodeAssignment(protocolVersion(protocol.metadata), {
          assignedPartitions: byTopicName(member.assignedPartitions, (id) =>
            this.groups.topics.topicName(id),
          ),
          userData: null,
        }),
      });
    } catch (err) {
      return Promise.resolve(syncError(refusal(err)));
    }
  }

  // ---- Heartbeat ----

  heartbeat(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): ErrorName {
    const status = this.ctx.validateGroupStatus(groupId, true);
    if (status !== 'NONE') return status;
    try {
      const group = this.group(groupId);
      const member = this.classicMember(group, memberId, groupInstanceId);
      this.checkGeneration(member, generationId);
      this.groups.scheduleSessionTimeout(
        groupId,
        member.memberId,
        member.classicMemberMetadata!.sessionTimeoutMs,
      );
      if (
        member.memberEpoch < group.groupEpoch ||
        member.state === MemberState.UNREVOKED_PARTITIONS ||
        (member.state === MemberState.UNRELEASED_PARTITIONS && !group.waitingOnUnreleasedPartition(member))
      ) {
        this.groups.scheduleJoinTimeoutIfAbsent(groupId, member.memberId, member.rebalanceTimeoutMs);
        return 'REBALANCE_IN_PROGRESS';
      }
      return 'NONE';
    } catch (err) {
      return refusal(err);
    }
  }

  // ---- LeaveGroup ----

  leave(
    groupId: string,
    leaving: readonly { memberId: string; groupInstanceId: string | null }[],
  ): Promise<LeaveGroupResult> {
    const status = this.ctx.validateGroupStatus(groupId, true);
    if (status !== 'NONE') return Promise.resolve({ error: status, members: [] });
    const failed = (err: unknown): LeaveGroupResult => ({ error: coordinatorErrorOf(err), members: [] });
    return this.ctx.runtime
      .scheduleWriteOperation<LeaveGroupResult>(this.ctx.partitionFor(groupId), () => {
        const group = this.ctx.consumerGroups.get(groupId);
        const records: CoordinatorRecord[] = [];
        const members = leaving.map((l) => {
          try {
            if (!group) fail('UNKNOWN_MEMBER_ID', `Group ${groupId} not found.`);
            let member: ConsumerGroupMember;
            if (l.groupInstanceId === null) member = this.classicMember(group, l.memberId, null);
            else {
              const holder = group.staticMember(l.groupInstanceId);
              if (!holder) fail('UNKNOWN_MEMBER_ID', `Instance id ${l.groupInstanceId} is unknown.`);
              // An admin may remove a static member by its instance id alone.
              if (l.memberId !== UNKNOWN_MEMBER_ID)
                this.checkInstanceOwner(holder, groupId, l.memberId, l.groupInstanceId);
              member = this.classicMember(group, holder.memberId, null);
            }
            this.ctx.log.info(
              `[GroupId ${groupId}] Member ${member.memberId} has left the group (LeaveGroup).`,
            );
            records.push(...memberTombstones(groupId, member.memberId));
            this.groups.cancelTimers(groupId, member.memberId);
            return {
              memberId: member.memberId,
              groupInstanceId: l.groupInstanceId,
              error: 'NONE' as ErrorName,
            };
          } catch (err) {
            return { memberId: l.memberId, groupInstanceId: l.groupInstanceId, error: refusal(err) };
          }
        });
        if (group && records.length > 0)
          records.push(groupEpochRecord(groupId, group.groupEpoch + 1, group.metadataHash));
        return { records, response: { error: 'NONE', members }, onAppendError: failed };
      })
      .catch(failed);
  }

  // ---- validation (Kafka's throwIf… helpers) ----

  private group(groupId: string): ConsumerGroup {
    const group = this.ctx.consumerGroups.get(groupId);
    if (!group) fail('UNKNOWN_MEMBER_ID', `Group ${groupId} not found.`);
    return group;
  }

  private checkInstanceOwner(
    holder: ConsumerGroupMember,
    groupId: string,
    memberId: string,
    instanceId: string,
  ) {
    if (holder.memberId !== memberId) {
      fail(
        'FENCED_INSTANCE_ID',
        `Static member ${memberId} with instance id ${instanceId} was fenced by member ${holder.memberId} of group ${groupId}.`,
      );
    }
  }

  /** Kafka's validateConsumerGroupMember and throwIfMemberDoesNotUseClassicProtocol. */
  private classicMember(
    group: ConsumerGroup,
    memberId: string,
    groupInstanceId: string | null,
  ): ConsumerGroupMember {
    let member: ConsumerGroupMember | undefined;
    if (groupInstanceId === null) member = group.members.get(memberId);
    else {
      member = group.staticMember(groupInstanceId);
      if (!member) {
        fail(
          'UNKNOWN_MEMBER_ID',
          `Member with instance id ${groupInstanceId} is not a member of group ${group.groupId}.`,
        );
      }
      this.checkInstanceOwner(member, group.groupId, memberId, groupInstanceId);
    }
    if (!member) fail('UNKNOWN_MEMBER_ID', `Member ${memberId} is not a member of group ${group.groupId}.`);
    if (member.classicMemberMetadata === null) {
      fail('UNKNOWN_MEMBER_ID', `Member ${member.memberId} does not use the classic protocol.`);
    }
    return member;
  }

  private checkGeneration(member: ConsumerGroupMember, generationId: number): void {
    if (member.memberEpoch !== generationId) {
      fail(
        'ILLEGAL_GENERATION',
        `The request generation id ${generationId} is not equal to the member epoch ${member.memberEpoch} of member ${member.memberId}.`,
      );
    }
  }
}
