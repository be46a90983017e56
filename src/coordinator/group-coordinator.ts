/**
 * The classic group coordinator (Kafka's `GroupCoordinator` + `GroupMetadataManager`, classic
 * protocol only): JoinGroup/SyncGroup/Heartbeat/LeaveGroup, committed offsets, DescribeGroups,
 * ListGroups, DeleteGroups, OffsetDelete, offset retention, the offsets of deleted topics
 * (`onPartitionsDeleted`), and persistence in `__consumer_offsets` (offsets-topic.ts), replayed
 * by `startup()` before the broker listens.
 *
 * Kafka's purgatories become timers: the join (rebalance timeout, or the initial rebalance delay
 * for an empty group, extended while new members keep arriving, up to the rebalance timeout),
 * one heartbeat timer per member (session timeout; 5 minutes for a member whose first join has
 * not completed), one per pending member (KIP-394), and the pending-sync timer. Appends to the
 * log are synchronous, so a commit is visible once answered.
 *
 * Bounds on memory (documented deviations from Kafka, whose defaults are unbounded):
 * - `group.max.size` (default 1000) also caps members waiting for a member id;
 * - a group's protocol metadata may not exceed what one `__consumer_offsets` batch holds
 *   (`message.max.bytes`): a join that would pass it gets GROUP_MAX_SIZE_REACHED at once rather
 *   than Kafka's later UNKNOWN_SERVER_ERROR from SyncGroup when the group record fails to store.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.js';
import { type ScheduledTask, Scheduler } from '../common/scheduler.js';
import { systemTime, type Time } from '../common/time.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import type { GroupMetadataValueData } from '../protocol/generated/messages.js';
import {
  ClassicGroup,
  GroupState,
  type JoinGroupResult,
  MemberMetadata,
  NO_GENERATION,
  type Protocol,
  type SyncGroupResult,
  UNKNOWN_MEMBER_ID,
} from './group-metadata.js';
import {
  committedRecords,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  groupMetadataKey,
  groupMetadataValue,
  type OffsetAndMetadata,
  offsetCommitKey,
  offsetCommitValue,
  partitionFor,
  tryDecodeCoordinatorKey,
} from './offsets-topic.js';
import {
  type CoordinatorLog,
  type CoordinatorRecord,
  RecordTooLargeError,
  type TransactionalProducer,
} from './runtime/coordinator-log.js';

/** Kafka's `GroupCoordinator.NewMemberJoinTimeoutMs`. */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface GroupCoordinatorConfig {
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  groupInitialRebalanceDelayMs: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  /** Most protocol metadata bytes one group may hold. */
  maxGroupMetadataBytes: number;
}

export interface JoinGroupParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  /** JoinGroup v4+: an unknown member first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a stable group may skip the assignment. */
  supportSkippingAssignment: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  /** From OffsetCommit v2–4 retentionTimeMs; null when not asked. */
  expireTimestamp: number | null;
}

export interface CommittedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface GroupSummary {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

const EMPTY = Buffer.alloc(0);

function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return {
    errorCode,
    generationId: NO_GENERATION,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export class GroupCoordinator {
  private readonly groups = new Map<string, ClassicGroup>();
  private active = false;
  private retentionTask: ScheduledTask | null = null;
  private readonly scheduler: Scheduler;

  constructor(
    readonly config: GroupCoordinatorConfig,
    private readonly offsetsLog: CoordinatorLog,
    private readonly log: Logger,
    private readonly time: Time = systemTime,
    /** The broker's scheduler for the periodic offset expiry; its own on `time` when not given. */
    scheduler?: Scheduler,
  ) {
    this.scheduler = scheduler ?? new Scheduler(time, log);
  }

  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.offsetsLog.numPartitions);
  }

  /** FindCoordinator for a group: make sure `__consumer_offsets` exists, as Kafka does. */
  ensureOffsetsTopic(): void {
    this.offsetsLog.ensureCreated();
  }

  get isActive(): boolean {
    return this.active;
  }

  // ---- lifecycle ----

  /** Replays `__consumer_offsets` into memory, then starts the offset expiry timer. */
  startup(): void {
    for (let p = 0; p < this.offsetsLog.numPartitions; p++) this.loadPartition(p);
    this.active = true;
    this.retentionTask = this.scheduler.schedule(
      'offsets.retention.check.interval.ms',
      this.config.offsetsRetentionCheckIntervalMs,
      () => this.cleanupGroupMetadata(),
    );
  }

  /** Stops timers and answers every waiting JoinGroup/SyncGroup with NOT_COORDINATOR. */
  shutdown(): void {
    this.active = false;
    this.retentionTask?.cancel();
    this.retentionTask = null;
    for (const group of this.groups.values()) {
      this.clearGroupTimers(group);
      for (const m of group.allMembers()) {
        group.maybeInvokeJoinCallback(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        group.maybeInvokeSyncCallback(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  /**
   * Drops every group and its offsets (tombstones written), answering waiting requests with
   * NOT_COORDINATOR: the broker's `reset()` for test isolation.
   */
  reset(): void {
    for (const group of [...this.groups.values()]) {
      this.clearGroupTimers(group);
      for (const m of group.allMembers()) {
        group.maybeInvokeJoinCallback(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        group.maybeInvokeSyncCallback(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
      const removed = group.allOffsets().map(({ topic, partition }) => ({ topic, partition }));
      group.state = GroupState.Dead;
      this.removeDeadGroup(group, removed);
    }
  }

  private loadPartition(p: number): void {
    const groupValues = new Map<string, GroupMetadataValueData | null>();
    const offsets = new Map<
      string,
      Map<string, { topic: string; partition: number; value: OffsetAndMetadata }>
    >();
    let skipped = 0;
    for (const rec of committedRecords(this.offsetsLog.read(p))) {
      const key = tryDecodeCoordinatorKey(rec.key);
      if (key instanceof Error) {
        skipped++;
        continue;
      }
      try {
        if (key.type === 'offset') {
          let byKey = offsets.get(key.group);
          if (!byKey) {
            byKey = new Map();
            offsets.set(key.group, byKey);
          }
          const k = `${key.topic}\u0000${key.partition}`;
          if (rec.value === null) byKey.delete(k);
          else
            byKey.set(k, {
              topic: key.topic,
              partition: key.partition,
              value: decodeOffsetCommitValue(rec.value),
            });
        } else if (key.type === 'group') {
          groupValues.set(key.group, rec.value === null ? null : decodeGroupMetadataValue(rec.value));
        }
      } catch (err) {
        skipped++;
        this.log.warn(
          `__consumer_offsets-${p}: skipping a record that does not decode: ${(err as Error).message}`,
        );
      }
    }
    if (skipped > 0) this.log.warn(`__consumer_offsets-${p}: skipped ${skipped} unreadable record(s)`);
    const now = this.time.now();
    const ids = new Set<string>([...offsets.keys(), ...groupValues.keys()]);
    for (const groupId of ids) {
      const value = groupValues.get(groupId) ?? null;
      const groupOffsets = offsets.get(groupId);
      if (value === null && (!groupOffsets || groupOffsets.size === 0)) continue;
      const group = new ClassicGroup(groupId, now);
      if (value !== null) this.loadGroupMetadata(group, value);
      for (const o of groupOffsets?.values() ?? []) group.putOffset(o.topic, o.partition, o.value);
      this.groups.set(groupId, group);
      for (const m of group.allMembers()) this.scheduleHeartbeatExpiration(group, m, m.sessionTimeoutMs);
    }
  }

  /** Kafka's `GroupMetadata.loadGroup`: members present → Stable, otherwise Empty. */
  private loadGroupMetadata(group: ClassicGroup, v: GroupMetadataValueData): void {
    group.generationId = v.generation;
    group.protocolType = v.protocolType === '' ? null : v.protocolType;
    group.protocolName = v.protocol;
    if (v.currentStateTimestamp !== undefined && v.currentStateTimestamp >= 0) {
      group.currentStateTimestamp = v.currentStateTimestamp;
    }
    for (const mv of v.members) {
      const member = new MemberMetadata(
        mv.memberId,
        mv.groupInstanceId ?? null,
        mv.clientId,
        mv.clientHost,
        mv.rebalanceTimeout !== undefined && mv.rebalanceTimeout >= 0
          ? mv.rebalanceTimeout
          : mv.sessionTimeout,
        mv.sessionTimeout,
        v.protocolType,
        [{ name: v.protocol ?? '', metadata: mv.subscription }],
      );
      member.assignment = mv.assignment;
      group.add(member, null);
    }
    group.leaderId = v.leader;
    if (group.size > 0) group.state = GroupState.Stable;
    group.subscribedTopics = group.computeSubscribedTopics();
  }

  // ---- validation ----

  /** Kafka's `validateGroupStatus`; membership APIs also reject an empty group id. */
  private validateGroupStatus(groupId: string | null, membershipApi: boolean): number {
    if (groupId === null || (membershipApi && groupId === '')) return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return ErrorCode.NONE;
  }

  /** `group.instance.id`, when given, must map to this member id; the member must exist. */
  private validateCurrentMember(
    group: ClassicGroup,
    memberId: string,
    groupInstanceId: string | null,
  ): number {
    const current = group.currentStaticMemberId(groupInstanceId);
    if (current !== undefined && current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    return ErrorCode.NONE;
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.config.groupMaxSize;
    switch (group.state) {
      case GroupState.Empty:
      case GroupState.Dead:
        return true;
      case GroupState.PreparingRebalance:
        return (
          (group.has(memberId) && group.get(memberId).isAwaitingJoin) || group.numMembersAwaitingJoin < max
        );
      default:
        return group.has(memberId) || group.size < max;
    }
  }

  // ---- JoinGroup ----

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    return new Promise<JoinGroupResult>((respond) => {
      const status = this.validateGroupStatus(p.groupId, true);
      if (status !== ErrorCode.NONE) return respond(joinError(p.memberId, status));
      if (
        p.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs ||
        p.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs
      ) {
        return respond(joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
      }
      const isUnknownMember = p.memberId === UNKNOWN_MEMBER_ID;
      let group = this.groups.get(p.groupId);
      if (!group) {
        if (!isUnknownMember) return respond(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        group = new ClassicGroup(p.groupId, this.time.now());
        this.groups.set(p.groupId, group);
      }
      if (!this.acceptJoiningMember(group, p.memberId) || !this.fitsMetadataBudget(group, p)) {
        this.removePendingMember(group, p.memberId);
        return respond(joinError(p.memberId, ErrorCode.GROUP_MAX_SIZE_REACHED));
      }
      if (isUnknownMember) this.doNewMemberJoinGroup(group, p, respond);
      else this.doCurrentMemberJoinGroup(group, p, respond);
      if (group.is(GroupState.PreparingRebalance)) this.tryCompleteJoin(group);
    });
  }

  private fitsMetadataBudget(group: ClassicGroup, p: JoinGroupParams): boolean {
    let incoming = 0;
    for (const proto of p.protocols) incoming += proto.metadata.length + proto.name.length;
    const knownId =
      p.memberId !== UNKNOWN_MEMBER_ID ? p.memberId : group.currentStaticMemberId(p.groupInstanceId);
    const replaced = knownId !== undefined ? (group.members.get(knownId)?.metadataBytes ?? 0) : 0;
    return group.metadataBytes - replaced + incoming <= this.config.maxGroupMetadataBytes;
  }

  private doNewMemberJoinGroup(
    group: ClassicGroup,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    if (group.is(GroupState.Dead)) return respond(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols)) {
      return respond(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${p.groupInstanceId ?? p.clientId}-${randomUUID()}`;
    if (p.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(p.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, p, respond);
      } else {
        this.addMemberAndRebalance(group, newMemberId, p, respond);
      }
      return;
    }
    if (p.requireKnownMemberId) {
      if (group.pendingMembers.size >= this.config.groupMaxSize) {
        return respond(joinError(p.memberId, ErrorCode.GROUP_MAX_SIZE_REACHED));
      }
      group.pendingMembers.add(newMemberId);
      group.pendingMemberTimers.set(
        newMemberId,
        this.time.setTimeout(() => this.onExpirePendingMember(group, newMemberId), p.sessionTimeoutMs),
      );
      return respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(group, newMemberId, p, respond);
  }

  private doCurrentMemberJoinGroup(
    group: ClassicGroup,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const memberId = p.memberId;
    if (group.is(GroupState.Dead)) return respond(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols, memberId)) {
      return respond(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.isPendingMember(memberId)) {
      // Member ids handed out with MEMBER_ID_REQUIRED belong to dynamic members only.
      if (p.groupInstanceId !== null) return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      this.removePendingMember(group, memberId);
      this.addMemberAndRebalance(group, memberId, p, respond);
      return;
    }
    const error = this.validateCurrentMember(group, memberId, p.groupInstanceId);
    if (error !== ErrorCode.NONE) return respond(joinError(memberId, error));
    const member = group.get(memberId);
    switch (group.state) {
      case GroupState.PreparingRebalance:
        this.updateMemberAndRebalance(group, member, p, respond);
        return;
      case GroupState.CompletingRebalance:
        if (member.matches(p.protocols)) {
          // The member lost the JoinGroup response: send it again.
          respond(this.currentGenerationResult(group, memberId, group.isLeader(memberId)));
        } else {
          this.updateMemberAndRebalance(group, member, p, respond);
        }
        return;
      case GroupState.Stable:
        if (group.isLeader(memberId) || !member.matches(p.protocols)) {
          this.updateMemberAndRebalance(group, member, p, respond);
        } else {
          this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
          respond(this.currentGenerationResult(group, memberId, false));
        }
        return;
      default:
        respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private currentGenerationResult(
    group: ClassicGroup,
    memberId: string,
    withMembers: boolean,
  ): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    memberId: string,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const member = new MemberMetadata(
      memberId,
      p.groupInstanceId,
      p.clientId,
      p.clientHost,
      p.rebalanceTimeoutMs,
      p.sessionTimeoutMs,
      p.protocolType,
      p.protocols,
    );
    member.isNew = true;
    // A member joining during the initial delay extends it.
    if (group.is(GroupState.PreparingRebalance) && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, respond);
    // A new member cannot heartbeat before its join completes: it gets the new-member timeout.
    this.scheduleHeartbeatExpiration(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, `adding new member ${memberId}`);
  }

  private updateMemberAndRebalance(
    group: ClassicGroup,
    member: MemberMetadata,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    // A JoinGroup replaced by a newer one of the same member (a client retry on a new connection).
    group.maybeInvokeJoinCallback(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
    this.maybePrepareRebalance(group, `updating metadata of member ${member.memberId}`);
  }

  private updateStaticMemberAndRebalance(
    group: ClassicGroup,
    oldMemberId: string,
    newMemberId: string,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const instanceId = p.groupInstanceId!;
    const currentLeader = group.leaderId;
    const old = group.get(oldMemberId);
    // Fence whoever still waits under the old member id.
    group.maybeInvokeJoinCallback(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    group.maybeInvokeSyncCallback(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
    const oldProtocols = member.supportedProtocols;
    const oldRebalanceTimeout = member.rebalanceTimeoutMs;
    const oldSessionTimeout = member.sessionTimeoutMs;
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
    switch (group.state) {
      case GroupState.Stable: {
        if (group.protocolName === group.selectProtocol()) {
          // Same protocol next generation: persist the new member id, no rebalance.
          const error = this.storeGroup(
            group,
            new Map(group.allMembers().map((m) => [m.memberId, m.assignment])),
          );
          if (error !== ErrorCode.NONE) {
            group.updateMember(member, oldProtocols, oldRebalanceTimeout, oldSessionTimeout, null);
            group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
            respond({
              ...this.currentGenerationResult(group, UNKNOWN_MEMBER_ID, false),
              errorCode: error,
              leader: currentLeader ?? '',
            });
            return;
          }
          const isLeader = group.isLeader(newMemberId);
          if (p.supportSkippingAssignment) {
            group.maybeInvokeJoinCallback(member, {
              ...this.currentGenerationResult(group, newMemberId, isLeader),
              skipAssignment: isLeader,
            });
          } else {
            // Before v9 the old leader id is returned so that the rejoining member does not
            // compute an assignment a stable group would not hand out.
            group.maybeInvokeJoinCallback(member, {
              ...this.currentGenerationResult(group, newMemberId, false),
              leader: currentLeader ?? '',
            });
          }
        } else {
          this.maybePrepareRebalance(group, `static member ${instanceId} changed the group's protocol`);
        }
        return;
      }
      case GroupState.CompletingRebalance:
        // The leader may already have the old member id: assign again.
        this.prepareRebalance(group, `updating static member ${instanceId}`);
        return;
      default:
        return;
    }
  }

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is(GroupState.CompletingRebalance)) {
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    }
    this.clearSyncTimer(group);
    this.clearJoinTimer(group);
    const wasEmpty = group.is(GroupState.Empty);
    group.transitionTo(GroupState.PreparingRebalance, this.time.now());
    this.log.info(
      `preparing to rebalance group ${group.groupId} in state PreparingRebalance with old generation ${group.generationId} (${reason})`,
    );
    const delay = this.config.groupInitialRebalanceDelayMs;
    if (wasEmpty && delay > 0) {
      group.initialDelayActive = true;
      group.newMemberAdded = false;
      this.scheduleInitialDelayedJoin(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0));
    } else {
      const generation = group.generationId;
      group.joinTimer = this.time.setTimeout(
        () => this.onJoinTimeout(group, generation),
        group.rebalanceTimeoutMs,
      );
      this.tryCompleteJoin(group);
    }
  }

  /** Kafka's `InitialDelayedJoin`: waits, and waits again while new members keep arriving. */
  private scheduleInitialDelayedJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    group.joinTimer = this.time.setTimeout(() => {
      group.joinTimer = null;
      if (!group.is(GroupState.PreparingRebalance) || this.groups.get(group.groupId) !== group) return;
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const delay = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
        this.scheduleInitialDelayedJoin(group, delay, Math.max(remainingMs - delay, 0));
      } else {
        group.initialDelayActive = false;
        this.onCompleteJoin(group);
      }
    }, delayMs);
  }

  private onJoinTimeout(group: ClassicGroup, generation: number): void {
    group.joinTimer = null;
    if (group.generationId !== generation || !group.is(GroupState.PreparingRebalance)) return;
    if (this.groups.get(group.groupId) !== group) return;
    this.onCompleteJoin(group);
  }

  private tryCompleteJoin(group: ClassicGroup): void {
    if (group.is(GroupState.PreparingRebalance) && !group.initialDelayActive && group.hasAllMembersJoined) {
      this.onCompleteJoin(group);
    }
  }

  private onCompleteJoin(group: ClassicGroup): void {
    if (!group.is(GroupState.PreparingRebalance)) return;
    this.clearJoinTimer(group);
    group.initialDelayActive = false;
    // Dynamic members that did not rejoin in time are out; static ones keep their place.
    for (const m of group.allMembers()) {
      if (!m.isAwaitingJoin && !m.isStaticMember) {
        this.clearHeartbeat(m);
        group.remove(m.memberId);
        this.log.info(`group ${group.groupId}: removing member ${m.memberId}, it did not rejoin in time`);
      }
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined: wait for them (or their session timeouts).
      const generation = group.generationId;
      group.joinTimer = this.time.setTimeout(
        () => this.onJoinTimeout(group, generation),
        group.rebalanceTimeoutMs,
      );
      return;
    }
    group.initNextGeneration(this.time.now());
    if (group.is(GroupState.Empty)) {
      this.log.info(`group ${group.groupId} with generation ${group.generationId} is now empty`);
      const error = this.storeGroup(group, new Map());
      if (error !== ErrorCode.NONE)
        this.log.warn(`failed to write empty metadata for group ${group.groupId}`);
      return;
    }
    this.log.info(
      `stabilized group ${group.groupId} generation ${group.generationId} with ${group.size} member(s), protocol ${group.protocolName}`,
    );
    for (const member of group.allMembers()) {
      group.maybeInvokeJoinCallback(
        member,
        this.currentGenerationResult(group, member.memberId, group.isLeader(member.memberId)),
      );
      member.isNew = false;
      this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  private schedulePendingSync(group: ClassicGroup): void {
    this.clearSyncTimer(group);
    const generation = group.generationId;
    group.syncTimer = this.time.setTimeout(
      () => this.onExpirePendingSync(group, generation),
      group.rebalanceTimeoutMs,
    );
  }

  private onExpirePendingSync(group: ClassicGroup, generation: number): void {
    group.syncTimer = null;
    if (generation !== group.generationId || this.groups.get(group.groupId) !== group) return;
    if (!group.is(GroupState.CompletingRebalance) && !group.is(GroupState.Stable)) return;
    if (group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    for (const id of missing) {
      const m = group.members.get(id);
      if (!m) continue;
      this.clearHeartbeat(m);
      group.maybeInvokeSyncCallback(m, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      group.remove(id);
    }
    this.prepareRebalance(group, `members ${missing.join(', ')} did not send SyncGroup in time`);
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.clearSyncTimer(group);
  }

  // ---- SyncGroup ----

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    return new Promise<SyncGroupResult>((respond) => {
      const status = this.validateGroupStatus(p.groupId, true);
      if (status !== ErrorCode.NONE) return respond(syncError(status));
      const group = this.groups.get(p.groupId);
      if (!group) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      if (group.is(GroupState.Dead)) return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      const error = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
      if (error !== ErrorCode.NONE) return respond(syncError(error));
      if (p.generationId !== group.generationId) return respond(syncError(ErrorCode.ILLEGAL_GENERATION));
      if (
        (p.protocolType !== null && p.protocolType !== group.protocolType) ||
        (p.protocolName !== null && p.protocolName !== group.protocolName)
      ) {
        return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      }
      const member = group.get(p.memberId);
      switch (group.state) {
        case GroupState.Empty:
          return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
        case GroupState.PreparingRebalance:
          return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        case GroupState.CompletingRebalance: {
          // A SyncGroup repeated on a new connection replaces the old one.
          group.maybeInvokeSyncCallback(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
          member.awaitingSync = respond;
          this.removePendingSyncMember(group, p.memberId);
          if (group.isLeader(p.memberId)) {
            const known = new Map<string, Buffer>();
            for (const a of p.assignments) if (group.has(a.memberId)) known.set(a.memberId, a.assignment);
            for (const m of group.allMembers()) if (!known.has(m.memberId)) known.set(m.memberId, EMPTY);
            const storeError = this.storeGroup(group, known);
            if (storeError !== ErrorCode.NONE) {
              this.resetAndPropagateAssignmentError(group, storeError);
              this.maybePrepareRebalance(group, `failed to store the assignment: error ${storeError}`);
            } else {
              this.setAndPropagateAssignment(group, known);
              group.transitionTo(GroupState.Stable, this.time.now());
            }
          }
          return;
        }
        case GroupState.Stable:
          this.removePendingSyncMember(group, p.memberId);
          this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
          return respond({
            errorCode: ErrorCode.NONE,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            assignment: member.assignment,
          });
        default:
          return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
    });
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: Map<string, Buffer>): void {
    for (const m of group.allMembers()) m.assignment = assignment.get(m.memberId) ?? EMPTY;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.allMembers()) m.assignment = EMPTY;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.allMembers()) {
      const invoked = group.maybeInvokeSyncCallback(m, {
        errorCode,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        assignment: m.assignment,
      });
      // The member is alive now; it must heartbeat from here.
      if (invoked) this.scheduleHeartbeatExpiration(group, m, m.sessionTimeoutMs);
    }
  }

  // ---- Heartbeat ----

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const status = this.validateGroupStatus(groupId, true);
    if (status !== ErrorCode.NONE) return status;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = this.validateCurrentMember(group, memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.get(memberId);
    switch (group.state) {
      case GroupState.Empty:
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case GroupState.PreparingRebalance:
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        // CompletingRebalance: heartbeats may start right after the JoinGroup response.
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
    }
  }

  private scheduleHeartbeatExpiration(group: ClassicGroup, member: MemberMetadata, timeoutMs: number): void {
    this.clearHeartbeat(member);
    member.heartbeatTimer = this.time.setTimeout(() => this.onExpireHeartbeat(group, member), timeoutMs);
  }

  private onExpireHeartbeat(group: ClassicGroup, member: MemberMetadata): void {
    member.heartbeatTimer = null;
    if (this.groups.get(group.groupId) !== group || group.members.get(member.memberId) !== member) return;
    // Members waiting for a rebalance to finish satisfy their heartbeats (unless new).
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) {
      this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
      return;
    }
    this.log.info(
      `member ${member.memberId} in group ${group.groupId} has failed, removing it from the group`,
    );
    this.removeMemberAndUpdateGroup(
      group,
      member,
      `removing member ${member.memberId} on heartbeat expiration`,
    );
  }

  private onExpirePendingMember(group: ClassicGroup, memberId: string): void {
    group.pendingMemberTimers.delete(memberId);
    if (!group.pendingMembers.has(memberId)) return;
    this.log.info(
      `pending member ${memberId} in group ${group.groupId} has been removed after session timeout expiration`,
    );
    this.removePendingMember(group, memberId);
    this.tryCompleteJoin(group);
  }

  private removePendingMember(group: ClassicGroup, memberId: string): void {
    group.pendingMembers.delete(memberId);
    const t = group.pendingMemberTimers.get(memberId);
    t?.cancel();
    group.pendingMemberTimers.delete(memberId);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: MemberMetadata, reason: string): void {
    group.maybeInvokeJoinCallback(member, joinError(UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID));
    group.maybeInvokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    this.clearHeartbeat(member);
    group.remove(member.memberId);
    switch (group.state) {
      case GroupState.Stable:
      case GroupState.CompletingRebalance:
        this.maybePrepareRebalance(group, reason);
        break;
      case GroupState.PreparingRebalance:
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  // ---- LeaveGroup ----

  leaveGroup(
    groupId: string,
    leaving: readonly { memberId: string; groupInstanceId: string | null }[],
  ): {
    errorCode: number;
    members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
  } {
    const status = this.validateGroupStatus(groupId, true);
    if (status !== ErrorCode.NONE) return { errorCode: status, members: [] };
    const group = this.groups.get(groupId);
    if (!group) {
      return {
        errorCode: ErrorCode.NONE,
        members: leaving.map((l) => ({ ...l, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    if (group.is(GroupState.Dead)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((l) => {
      let errorCode: number = ErrorCode.NONE;
      if (l.memberId === UNKNOWN_MEMBER_ID) {
        const current = group.currentStaticMemberId(l.groupInstanceId);
        if (current === undefined) errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        else
          this.removeMemberAndUpdateGroup(
            group,
            group.get(current),
            `static member ${l.groupInstanceId} left`,
          );
      } else if (group.isPendingMember(l.memberId)) {
        this.removePendingMember(group, l.memberId);
        this.tryCompleteJoin(group);
      } else {
        errorCode = this.validateCurrentMember(group, l.memberId, l.groupInstanceId);
        if (errorCode === ErrorCode.NONE) {
          this.removeMemberAndUpdateGroup(
            group,
            group.get(l.memberId),
            `member ${l.memberId} left the group`,
          );
        }
      }
      return { memberId: l.memberId, groupInstanceId: l.groupInstanceId, errorCode };
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---- offsets ----

  /**
   * Commits `offsets` (topics already checked by the handler). Returns one error code per entry.
   * `apiVersion` picks the error for a member commit to a group that does not exist:
   * GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before (as Kafka 4).
   */
  commitOffsets(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    offsets: readonly OffsetCommitEntry[],
    apiVersion: number,
  ): number[] {
    const all = (code: number) => offsets.map(() => code);
    const status = this.validateGroupStatus(groupId, false);
    if (status !== ErrorCode.NONE) return all(status);
    let group = this.groups.get(groupId);
    if (!group) {
      if (generationId >= 0 || memberId !== UNKNOWN_MEMBER_ID || groupInstanceId !== null) {
        return all(apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
      // Not using group management (admin, standalone consumer): a simple group.
      group = new ClassicGroup(groupId, this.time.now());
      this.groups.set(groupId, group);
    }
    const error = this.validateOffsetCommit(group, generationId, memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return all(error);
    switch (group.state) {
      case GroupState.Empty:
        return this.storeOffsets(group, offsets);
      case GroupState.Stable:
      case GroupState.PreparingRebalance: {
        // Commits go on during PreparingRebalance: the heartbeat tells the member to rejoin.
        const member = group.get(memberId);
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return this.storeOffsets(group, offsets);
      }
      case GroupState.CompletingRebalance:
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      default:
        return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  private validateOffsetCommit(
    group: ClassicGroup,
    generationId: number,
    memberId: string,
    groupInstanceId: string | null,
  ): number {
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId >= 0 || memberId !== UNKNOWN_MEMBER_ID || groupInstanceId !== null) {
      const error = this.validateCurrentMember(group, memberId, groupInstanceId);
      if (error !== ErrorCode.NONE) return error;
      if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      return ErrorCode.NONE;
    }
    // Without member id and generation only an empty group may be committed to.
    if (!group.is(GroupState.Empty)) return ErrorCode.UNKNOWN_MEMBER_ID;
    return ErrorCode.NONE;
  }

  private storeOffsets(group: ClassicGroup, offsets: readonly OffsetCommitEntry[]): number[] {
    const now = this.time.now();
    const codes = offsets.map(() => ErrorCode.NONE as number);
    const records: CoordinatorRecord[] = [];
    const accepted: { index: number; value: OffsetAndMetadata }[] = [];
    offsets.forEach((o, index) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata) > this.config.offsetMetadataMaxBytes) {
        codes[index] = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        return;
      }
      const value: OffsetAndMetadata = {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: now,
        expireTimestamp: o.expireTimestamp,
      };
      records.push({
        key: offsetCommitKey(group.groupId, o.topic, o.partition),
        value: offsetCommitValue(value),
      });
      accepted.push({ index, value });
    });
    if (records.length === 0) return codes;
    try {
      this.offsetsLog.append(this.partitionFor(group.groupId), records);
    } catch (err) {
      const code =
        err instanceof RecordTooLargeError
          ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE
          : ErrorCode.COORDINATOR_NOT_AVAILABLE;
      if (code === ErrorCode.COORDINATOR_NOT_AVAILABLE)
        this.log.error(`storing offsets of group ${group.groupId} failed`, err);
      for (const a of accepted) codes[a.index] = code;
      return codes;
    }
    for (const a of accepted) {
      const o = offsets[a.index]!;
      group.putOffset(o.topic, o.partition, a.value);
    }
    return codes;
  }

  // ---- transactional offsets (TxnOffsetCommit, staged by the transaction coordinator) ----

  /**
   * Kafka's `doTxnCommitOffsets` checks: a group that does not exist is created (Empty) so a
   * producer can stage offsets for it; a known member id must be in the group (UNKNOWN_MEMBER_ID),
   * a static member must not be fenced and a generation (>= 0) must be current (ILLEGAL_GENERATION).
   */
  validateTxnOffsetCommit(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    const status = this.validateGroupStatus(groupId, false);
    if (status !== ErrorCode.NONE) return status;
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ClassicGroup(groupId, this.time.now());
      this.groups.set(groupId, group);
    }
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const staticMember = group.currentStaticMemberId(groupInstanceId);
    if (staticMember !== undefined && staticMember !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    if (memberId !== UNKNOWN_MEMBER_ID && !group.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId >= 0 && generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return ErrorCode.NONE;
  }

  /** Writes offsets staged by a transaction as its transactional batch; throws when the append fails. */
  appendTxnOffsets(
    groupId: string,
    producer: TransactionalProducer,
    offsets: readonly { topic: string; partition: number; value: OffsetAndMetadata }[],
  ): void {
    this.offsetsLog.append(
      this.partitionFor(groupId),
      offsets.map((o) => ({
        key: offsetCommitKey(groupId, o.topic, o.partition),
        value: offsetCommitValue(o.value),
      })),
      producer,
    );
  }

  /**
   * A COMMIT marker reached `__consumer_offsets`: the transaction's staged offsets (already in the
   * log) become the group's committed offsets.
   */
  applyCommittedTxnOffsets(
    groupId: string,
    offsets: readonly { topic: string; partition: number; value: OffsetAndMetadata }[],
  ): void {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ClassicGroup(groupId, this.time.now());
      this.groups.set(groupId, group);
    }
    for (const o of offsets) group.putOffset(o.topic, o.partition, o.value);
  }

  /**
   * Committed offsets of a group: the requested partitions (-1 when none), or every committed
   * offset when `topics` is null. A group that does not exist has no offsets (no error).
   */
  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
  ): { errorCode: number; topics: { name: string; partitions: CommittedOffset[] }[] } {
    const status = this.validateGroupStatus(groupId, false);
    if (status !== ErrorCode.NONE) return { errorCode: status, topics: [] };
    const group = this.groups.get(groupId);
    const toResult = (p: number, o: OffsetAndMetadata | undefined): CommittedOffset => ({
      partitionIndex: p,
      committedOffset: o ? o.offset : -1,
      committedLeaderEpoch: o ? o.leaderEpoch : -1,
      metadata: o ? o.metadata : '',
      errorCode: ErrorCode.NONE,
    });
    if (topics === null) {
      if (!group) return { errorCode: ErrorCode.NONE, topics: [] };
      return {
        errorCode: ErrorCode.NONE,
        topics: [...group.offsets].map(([name, byPartition]) => ({
          name,
          partitions: [...byPartition].map(([p, o]) => toResult(p, o)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => toResult(p, group?.offset(t.name, p))),
      })),
    };
  }

  // ---- admin ----

  describeGroup(groupId: string): GroupSummary {
    const status = this.validateGroupStatus(groupId, false);
    const dead: GroupSummary = {
      errorCode: status,
      groupId,
      groupState: GroupState.Dead,
      protocolType: '',
      protocolData: '',
      members: [],
    };
    if (status !== ErrorCode.NONE) return dead;
    const group = this.groups.get(groupId);
    if (!group) return dead;
    const stable = group.is(GroupState.Stable);
    const protocol = stable ? group.protocolName : null;
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: protocol ?? '',
      members: group.allMembers().map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: protocol !== null ? m.metadata(protocol) : EMPTY,
        memberAssignment: protocol !== null ? m.assignment : EMPTY,
      })),
    };
  }

  listGroups(): ListedGroup[] {
    const out: ListedGroup[] = [];
    for (const g of this.groups.values()) {
      if (g.is(GroupState.Dead)) continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.protocolType ?? '',
        groupState: g.state,
        groupType: 'classic',
      });
    }
    return out;
  }

  /** Deletes empty groups with their offsets; NON_EMPTY_GROUP while members remain. */
  deleteGroups(groupIds: readonly string[]): { groupId: string; errorCode: number }[] {
    return groupIds.map((groupId) => {
      const status = this.validateGroupStatus(groupId, false);
      if (status !== ErrorCode.NONE) return { groupId, errorCode: status };
      const group = this.groups.get(groupId);
      if (!group || group.is(GroupState.Dead)) return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
      if (!group.is(GroupState.Empty)) return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
      group.transitionTo(GroupState.Dead, this.time.now());
      const removed = group.allOffsets().map(({ topic, partition }) => ({ topic, partition }));
      for (const r of removed) group.removeOffset(r.topic, r.partition);
      this.removeDeadGroup(group, removed);
      this.log.info(`group ${groupId} deleted with ${removed.length} offset(s)`);
      return { groupId, errorCode: ErrorCode.NONE };
    });
  }

  /**
   * OffsetDelete: an empty group loses the offsets; a consumer group with members only those of
   * topics it does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise); any other group with
   * members answers NON_EMPTY_GROUP. Partitions come already checked for unknown topics.
   */
  deleteOffsets(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[],
  ): { errorCode: number; partitionErrors: number[] } {
    const status = this.validateGroupStatus(groupId, false);
    if (status !== ErrorCode.NONE) return { errorCode: status, partitionErrors: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is(GroupState.Dead))
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitionErrors: [] };
    let eligible: boolean[];
    if (group.is(GroupState.Empty)) {
      eligible = partitions.map(() => true);
    } else if (group.protocolType === 'consumer') {
      eligible = partitions.map((p) => !group.isSubscribedToTopic(p.topic));
    } else {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitionErrors: [] };
    }
    const removed: { topic: string; partition: number }[] = [];
    partitions.forEach((p, i) => {
      if (eligible[i] && group.removeOffset(p.topic, p.partition)) removed.push(p);
    });
    this.afterOffsetsRemoved(group, removed);
    return {
      errorCode: ErrorCode.NONE,
      partitionErrors: eligible.map((ok) => (ok ? ErrorCode.NONE : ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC)),
    };
  }

  /**
   * Kafka's `onPartitionsDeleted`: the offsets committed for partitions of a deleted topic are
   * removed, with tombstones in `__consumer_offsets` so that they stay gone after a restart, and
   * a group left Empty without offsets is removed (as Kafka's `cleanupGroupMetadata`). `pending`
   * names offsets that open transactions had staged for those partitions (already dropped by
   * their holder): they get tombstones too, which also keeps a later COMMIT marker from bringing
   * them back when the log is replayed. Returns the number of offsets removed.
   */
  onPartitionsDeleted(
    partitions: readonly { topic: string; partition: number }[],
    pending: readonly { groupId: string; topic: string; partition: number }[] = [],
  ): number {
    const deleted = new Map<string, Set<number>>();
    for (const tp of partitions) {
      let ps = deleted.get(tp.topic);
      if (!ps) {
        ps = new Set();
        deleted.set(tp.topic, ps);
      }
      ps.add(tp.partition);
    }
    const removedByGroup = new Map<string, Map<string, { topic: string; partition: number }>>();
    const note = (groupId: string, topic: string, partition: number) => {
      let removed = removedByGroup.get(groupId);
      if (!removed) {
        removed = new Map();
        removedByGroup.set(groupId, removed);
      }
      removed.set(`${topic}\u0000${partition}`, { topic, partition });
    };
    let count = 0;
    for (const group of this.groups.values()) {
      for (const [topic, ps] of deleted) {
        const committed = group.offsets.get(topic);
        if (!committed) continue;
        for (const partition of [...committed.keys()]) {
          if (!ps.has(partition)) continue;
          group.removeOffset(topic, partition);
          note(group.groupId, topic, partition);
          count++;
        }
      }
    }
    for (const p of pending) note(p.groupId, p.topic, p.partition);
    for (const [groupId, removed] of removedByGroup) {
      const group = this.groups.get(groupId);
      if (group) this.afterOffsetsRemoved(group, [...removed.values()]);
      else this.appendTombstones(groupId, [...removed.values()], false);
    }
    if (count > 0 || pending.length > 0) {
      const topics = [...deleted.keys()].join(', ');
      this.log.info(
        `removed ${count} committed and ${pending.length} pending transactional offset(s) of deleted topic(s) ${topics}`,
      );
    }
    return count;
  }

  /** Offset retention (`offsets.retention.minutes`), run every `offsets.retention.check.interval.ms`. */
  cleanupGroupMetadata(): number {
    const now = this.time.now();
    let total = 0;
    for (const group of [...this.groups.values()]) {
      const expired = group.expiredOffsets(now, this.config.offsetsRetentionMs);
      for (const e of expired) group.removeOffset(e.topic, e.partition);
      total += expired.length;
      this.afterOffsetsRemoved(group, expired);
    }
    if (total > 0) this.log.info(`removed ${total} expired offset(s)`);
    return total;
  }

  /** Writes tombstones; an empty group without offsets left becomes Dead and is removed. */
  private afterOffsetsRemoved(
    group: ClassicGroup,
    removed: readonly { topic: string; partition: number }[],
  ): void {
    if (group.is(GroupState.Empty) && !group.hasOffsets) {
      group.transitionTo(GroupState.Dead, this.time.now());
      this.removeDeadGroup(group, removed);
      return;
    }
    this.appendTombstones(group.groupId, removed, false);
  }

  private removeDeadGroup(
    group: ClassicGroup,
    removed: readonly { topic: string; partition: number }[],
  ): void {
    this.clearGroupTimers(group);
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
    this.appendTombstones(group.groupId, removed, true);
  }

  private appendTombstones(
    groupId: string,
    removed: readonly { topic: string; partition: number }[],
    group: boolean,
  ): void {
    const records: CoordinatorRecord[] = removed.map((r) => ({
      key: offsetCommitKey(groupId, r.topic, r.partition),
      value: null,
    }));
    if (group) records.push({ key: groupMetadataKey(groupId), value: null });
    if (records.length === 0) return;
    try {
      this.offsetsLog.append(this.partitionFor(groupId), records);
    } catch (err) {
      this.log.error(`writing tombstones for group ${groupId} failed`, err);
    }
  }

  // ---- persistence of group metadata ----

  /** Writes the group record; returns the error Kafka's storeGroup maps a failure to. */
  private storeGroup(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): number {
    const protocol = group.protocolName;
    const value: GroupMetadataValueData = {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol,
      leader: group.leaderId,
      currentStateTimestamp: group.currentStateTimestamp,
      members: group.allMembers().map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: protocol !== null ? m.metadata(protocol) : EMPTY,
        assignment: assignment.get(m.memberId) ?? EMPTY,
      })),
    };
    try {
      this.offsetsLog.append(this.partitionFor(group.groupId), [
        { key: groupMetadataKey(group.groupId), value: groupMetadataValue(value) },
      ]);
      return ErrorCode.NONE;
    } catch (err) {
      if (err instanceof RecordTooLargeError) return ErrorCode.UNKNOWN_SERVER_ERROR;
      this.log.error(`storing metadata of group ${group.groupId} failed`, err);
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  // ---- timers ----

  private clearHeartbeat(member: MemberMetadata): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = null;
  }

  private clearJoinTimer(group: ClassicGroup): void {
    group.joinTimer?.cancel();
    group.joinTimer = null;
  }

  private clearSyncTimer(group: ClassicGroup): void {
    group.syncTimer?.cancel();
    group.syncTimer = null;
  }

  private clearGroupTimers(group: ClassicGroup): void {
    this.clearJoinTimer(group);
    this.clearSyncTimer(group);
    for (const m of group.allMembers()) this.clearHeartbeat(m);
    for (const t of group.pendingMemberTimers.values()) t.cancel();
    group.pendingMemberTimers.clear();
  }

  // ---- introspection (tests, lag) ----

  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }
}
