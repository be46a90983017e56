/**
 * Classic group membership (Kafka's GroupCoordinator/GroupMetadataManager for the classic
 * protocol): JoinGroup, SyncGroup, Heartbeat and LeaveGroup, with Kafka's purgatories as timers
 * on the context's Time: the join (rebalance timeout, or the initial rebalance delay for an empty
 * group, extended while new members keep arriving, up to the rebalance timeout), one heartbeat
 * timer per member (session timeout; 5 minutes for a member whose first join has not
 * completed), one per pending member (KIP-394), and the pending-sync timer.
 *
 * Membership changes its groups itself and stores the group record without replay (as Kafka
 * does for classic groups); the record is what a load rebuilds the group from.
 *
 * Bounds on memory (documented deviations from Kafka, whose defaults are unbounded):
 * - `group.max.size` (default 1000) also caps members waiting for a member id;
 * - a group's protocol metadata may not exceed what one `__consumer_offsets` batch holds
 *   (`message.max.bytes`): a join that would pass it gets GROUP_MAX_SIZE_REACHED at once rather
 *   than Kafka's later UNKNOWN_SERVER_ERROR from SyncGroup when the group record fails to store.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorName } from '../../protocol/generated/errors.js';
import {
  ClassicGroup,
  GroupState,
  type JoinGroupResult,
  MemberMetadata,
  type Protocol,
  type SyncGroupResult,
  UNKNOWN_MEMBER_ID,
} from '../group-metadata.js';
import { consumerGroupTombstones } from './consumer-group.js';
import { EMPTY, type GroupContext, joinError, syncError } from './context.js';
import { storeGroup } from './persistence.js';

/** Kafka's `GroupCoordinator.NewMemberJoinTimeoutMs`. */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

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

export class Membership {
  constructor(private readonly ctx: GroupContext) {}

  /**
   * A consumer group became `group` (its last member speaking the consumer protocol left, or was
   * replaced by a classic static member; Kafka's online downgrade): its members heartbeat from now
   * on, and rejoin through a rebalance when one left.
   */
  adoptDowngradedGroup(group: ClassicGroup, rebalance: boolean): void {
    for (const m of group.allMembers()) this.scheduleHeartbeatExpiration(group, m, m.sessionTimeoutMs);
    if (rebalance)
      this.prepareRebalance(group, `downgrade of group ${group.groupId} from consumer to classic`);
  }

  /** A loaded group's members must heartbeat from now on. */
  onGroupsLoaded(groups: readonly ClassicGroup[]): void {
    for (const group of groups)
      for (const m of group.allMembers()) this.scheduleHeartbeatExpiration(group, m, m.sessionTimeoutMs);
  }

  // ---- validation ----

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.ctx.config.groupMaxSize;
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

  /** The checks every JoinGroup passes first, whichever kind of group it reaches (Kafka's GroupCoordinatorService). */
  validateJoin(p: JoinGroupParams): ErrorName {
    const status = this.ctx.validateGroupStatus(p.groupId, true);
    if (status !== 'NONE') return status;
    if (
      p.sessionTimeoutMs < this.ctx.config.groupMinSessionTimeoutMs ||
      p.sessionTimeoutMs > this.ctx.config.groupMaxSessionTimeoutMs
    ) {
      return 'INVALID_SESSION_TIMEOUT';
    }
    // A streams group's id is not a classic group's (Kafka: INCONSISTENT_GROUP_PROTOCOL).
    if (this.ctx.streamsGroups.has(p.groupId)) return 'INCONSISTENT_GROUP_PROTOCOL';
    return 'NONE';
  }

  /** JoinGroup to a classic group (or an empty consumer group, which becomes one). */
  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    return new Promise<JoinGroupResult>((respond) => {
      const invalid = this.validateJoin(p);
      if (invalid !== 'NONE') return respond(joinError(p.memberId, invalid));
      const isUnknownMember = p.memberId === UNKNOWN_MEMBER_ID;
      const consumerGroup = this.ctx.consumerGroups.get(p.groupId);
      if (consumerGroup) {
        // An empty consumer group becomes a classic group, as Kafka converts it: its records go.
        this.ctx.runtime.appendNow(
          this.ctx.partitionFor(p.groupId),
          consumerGroupTombstones(consumerGroup),
          true,
        );
      }
      let group = this.ctx.groups.get(p.groupId);
      if (!group) {
        if (!isUnknownMember) return respond(joinError(p.memberId, 'UNKNOWN_MEMBER_ID'));
        group = new ClassicGroup(p.groupId, this.ctx.time.now());
        this.ctx.groups.set(p.groupId, group);
      }
      if (!this.acceptJoiningMember(group, p.memberId) || !this.fitsMetadataBudget(group, p)) {
        this.removePendingMember(group, p.memberId);
        return respond(joinError(p.memberId, 'GROUP_MAX_SIZE_REACHED'));
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
    return group.metadataBytes - replaced + incoming <= this.ctx.config.maxGroupMetadataBytes;
  }

  private doNewMemberJoinGroup(
    group: ClassicGroup,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    if (group.is(GroupState.Dead)) return respond(joinError(p.memberId, 'COORDINATOR_NOT_AVAILABLE'));
    if (!group.supportsProtocols(p.protocolType, p.protocols)) {
      return respond(joinError(p.memberId, 'INCONSISTENT_GROUP_PROTOCOL'));
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
      if (group.pendingMembers.size >= this.ctx.config.groupMaxSize) {
        return respond(joinError(p.memberId, 'GROUP_MAX_SIZE_REACHED'));
      }
      group.pendingMembers.add(newMemberId);
      group.pendingMemberTimers.set(
        newMemberId,
        this.ctx.time.setTimeout(() => this.onExpirePendingMember(group, newMemberId), p.sessionTimeoutMs),
      );
      return respond(joinError(newMemberId, 'MEMBER_ID_REQUIRED'));
    }
    this.addMemberAndRebalance(group, newMemberId, p, respond);
  }

  private doCurrentMemberJoinGroup(
    group: ClassicGroup,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const memberId = p.memberId;
    if (group.is(GroupState.Dead)) return respond(joinError(memberId, 'COORDINATOR_NOT_AVAILABLE'));
    if (!group.supportsProtocols(p.protocolType, p.protocols, memberId)) {
      return respond(joinError(memberId, 'INCONSISTENT_GROUP_PROTOCOL'));
    }
    if (group.isPendingMember(memberId)) {
      // Member ids handed out with MEMBER_ID_REQUIRED belong to dynamic members only.
      if (p.groupInstanceId !== null) return respond(joinError(memberId, 'UNKNOWN_MEMBER_ID'));
      this.removePendingMember(group, memberId);
      this.addMemberAndRebalance(group, memberId, p, respond);
      return;
    }
    const error = this.ctx.validateCurrentMember(group, memberId, p.groupInstanceId);
    if (error !== 'NONE') return respond(joinError(memberId, error));
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
        respond(joinError(memberId, 'UNKNOWN_MEMBER_ID'));
    }
  }

  private currentGenerationResult(
    group: ClassicGroup,
    memberId: string,
    withMembers: boolean,
  ): JoinGroupResult {
    return {
      error: 'NONE',
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
    group.maybeInvokeJoinCallback(member, joinError(member.memberId, 'REBALANCE_IN_PROGRESS'));
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
    group.maybeInvokeJoinCallback(old, joinError(oldMemberId, 'FENCED_INSTANCE_ID'));
    group.maybeInvokeSyncCallback(old, syncError('FENCED_INSTANCE_ID'));
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
          const assignment = new Map(group.allMembers().map((m) => [m.memberId, m.assignment]));
          storeGroup(this.ctx, group, assignment, (error) => {
            if (error !== 'NONE') {
              group.updateMember(member, oldProtocols, oldRebalanceTimeout, oldSessionTimeout, null);
              group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
              this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
              respond({
                ...this.currentGenerationResult(group, UNKNOWN_MEMBER_ID, false),
                error,
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
          });
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
      this.resetAndPropagateAssignmentError(group, 'REBALANCE_IN_PROGRESS');
    }
    this.clearSyncTimer(group);
    this.clearJoinTimer(group);
    const wasEmpty = group.is(GroupState.Empty);
    group.transitionTo(GroupState.PreparingRebalance, this.ctx.time.now());
    this.ctx.log.info(
      `preparing to rebalance group ${group.groupId} in state PreparingRebalance with old generation ${group.generationId} (${reason})`,
    );
    const delay = this.ctx.config.groupInitialRebalanceDelayMs;
    if (wasEmpty && delay > 0) {
      group.initialDelayActive = true;
      group.newMemberAdded = false;
      this.scheduleInitialDelayedJoin(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0));
    } else {
      const generation = group.generationId;
      group.joinTimer = this.ctx.time.setTimeout(
        () => this.onJoinTimeout(group, generation),
        group.rebalanceTimeoutMs,
      );
      this.tryCompleteJoin(group);
    }
  }

  /** Kafka's `InitialDelayedJoin`: waits, and waits again while new members keep arriving. */
  private scheduleInitialDelayedJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    group.joinTimer = this.ctx.time.setTimeout(() => {
      group.joinTimer = null;
      if (!group.is(GroupState.PreparingRebalance) || this.ctx.groups.get(group.groupId) !== group) return;
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const delay = Math.min(this.ctx.config.groupInitialRebalanceDelayMs, remainingMs);
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
    if (this.ctx.groups.get(group.groupId) !== group) return;
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
        this.ctx.log.info(`group ${group.groupId}: removing member ${m.memberId}, it did not rejoin in time`);
      }
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined: wait for them (or their session timeouts).
      const generation = group.generationId;
      group.joinTimer = this.ctx.time.setTimeout(
        () => this.onJoinTimeout(group, generation),
        group.rebalanceTimeoutMs,
      );
      return;
    }
    group.initNextGeneration(this.ctx.time.now());
    if (group.is(GroupState.Empty)) {
      this.ctx.log.info(`group ${group.groupId} with generation ${group.generationId} is now empty`);
      storeGroup(this.ctx, group, new Map(), (error) => {
        if (error !== 'NONE') this.ctx.log.warn(`failed to write empty metadata for group ${group.groupId}`);
      });
      return;
    }
    this.ctx.log.info(
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
    group.syncTimer = this.ctx.time.setTimeout(
      () => this.onExpirePendingSync(group, generation),
      group.rebalanceTimeoutMs,
    );
  }

  private onExpirePendingSync(group: ClassicGroup, generation: number): void {
    group.syncTimer = null;
    if (generation !== group.generationId || this.ctx.groups.get(group.groupId) !== group) return;
    if (!group.is(GroupState.CompletingRebalance) && !group.is(GroupState.Stable)) return;
    if (group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    for (const id of missing) {
      const m = group.members.get(id);
      if (!m) continue;
      this.clearHeartbeat(m);
      group.maybeInvokeSyncCallback(m, syncError('UNKNOWN_MEMBER_ID'));
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
      const status = this.ctx.validateGroupStatus(p.groupId, true);
      if (status !== 'NONE') return respond(syncError(status));
      const group = this.ctx.groups.get(p.groupId);
      if (!group) return respond(syncError('UNKNOWN_MEMBER_ID'));
      if (group.is(GroupState.Dead)) return respond(syncError('COORDINATOR_NOT_AVAILABLE'));
      const error = this.ctx.validateCurrentMember(group, p.memberId, p.groupInstanceId);
      if (error !== 'NONE') return respond(syncError(error));
      if (p.generationId !== group.generationId) return respond(syncError('ILLEGAL_GENERATION'));
      if (
        (p.protocolType !== null && p.protocolType !== group.protocolType) ||
        (p.protocolName !== null && p.protocolName !== group.protocolName)
      ) {
        return respond(syncError('INCONSISTENT_GROUP_PROTOCOL'));
      }
      const member = group.get(p.memberId);
      switch (group.state) {
        case GroupState.Empty:
          return respond(syncError('UNKNOWN_MEMBER_ID'));
        case GroupState.PreparingRebalance:
          return respond(syncError('REBALANCE_IN_PROGRESS'));
        case GroupState.CompletingRebalance: {
          // A SyncGroup repeated on a new connection replaces the old one.
          group.maybeInvokeSyncCallback(member, syncError('REBALANCE_IN_PROGRESS'));
          member.awaitingSync = respond;
          this.removePendingSyncMember(group, p.memberId);
          if (group.isLeader(p.memberId)) {
            const known = new Map<string, Buffer>();
            for (const a of p.assignments) if (group.has(a.memberId)) known.set(a.memberId, a.assignment);
            for (const m of group.allMembers()) if (!known.has(m.memberId)) known.set(m.memberId, EMPTY);
            const generation = group.generationId;
            storeGroup(this.ctx, group, known, (storeError) => {
              // Members may have joined (or the partition moved) while the record was written:
              // only the same generation, still waiting for its assignment, gets it.
              if (
                this.ctx.groups.get(group.groupId) !== group ||
                !group.is(GroupState.CompletingRebalance) ||
                group.generationId !== generation
              )
                return;
              if (storeError !== 'NONE') {
                this.resetAndPropagateAssignmentError(group, storeError);
                this.maybePrepareRebalance(group, `failed to store the assignment: error ${storeError}`);
              } else {
                this.setAndPropagateAssignment(group, known);
                group.transitionTo(GroupState.Stable, this.ctx.time.now());
              }
            });
          }
          return;
        }
        case GroupState.Stable:
          this.removePendingSyncMember(group, p.memberId);
          this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
          return respond({
            error: 'NONE',
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            assignment: member.assignment,
          });
        default:
          return respond(syncError('COORDINATOR_NOT_AVAILABLE'));
      }
    });
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: Map<string, Buffer>): void {
    for (const m of group.allMembers()) m.assignment = assignment.get(m.memberId) ?? EMPTY;
    this.propagateAssignment(group, 'NONE');
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, error: ErrorName): void {
    for (const m of group.allMembers()) m.assignment = EMPTY;
    this.propagateAssignment(group, error);
  }

  private propagateAssignment(group: ClassicGroup, error: ErrorName): void {
    for (const m of group.allMembers()) {
      const invoked = group.maybeInvokeSyncCallback(m, {
        error,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        assignment: m.assignment,
      });
      // The member is alive now; it must heartbeat from here.
      if (invoked) this.scheduleHeartbeatExpiration(group, m, m.sessionTimeoutMs);
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
    const group = this.ctx.groups.get(groupId);
    if (!group) return 'UNKNOWN_MEMBER_ID';
    if (group.is(GroupState.Dead)) return 'COORDINATOR_NOT_AVAILABLE';
    const error = this.ctx.validateCurrentMember(group, memberId, groupInstanceId);
    if (error !== 'NONE') return error;
    if (generationId !== group.generationId) return 'ILLEGAL_GENERATION';
    const member = group.get(memberId);
    switch (group.state) {
      case GroupState.Empty:
        return 'UNKNOWN_MEMBER_ID';
      case GroupState.PreparingRebalance:
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return 'REBALANCE_IN_PROGRESS';
      default:
        // CompletingRebalance: heartbeats may start right after the JoinGroup response.
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return 'NONE';
    }
  }

  scheduleHeartbeatExpiration(group: ClassicGroup, member: MemberMetadata, timeoutMs: number): void {
    this.clearHeartbeat(member);
    member.heartbeatTimer = this.ctx.time.setTimeout(() => this.onExpireHeartbeat(group, member), timeoutMs);
  }

  private onExpireHeartbeat(group: ClassicGroup, member: MemberMetadata): void {
    member.heartbeatTimer = null;
    if (this.ctx.groups.get(group.groupId) !== group || group.members.get(member.memberId) !== member) return;
    // Members waiting for a rebalance to finish satisfy their heartbeats (unless new).
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) {
      this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
      return;
    }
    this.ctx.log.info(
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
    this.ctx.log.info(
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
    group.maybeInvokeJoinCallback(member, joinError(UNKNOWN_MEMBER_ID, 'UNKNOWN_MEMBER_ID'));
    group.maybeInvokeSyncCallback(member, syncError('UNKNOWN_MEMBER_ID'));
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
    error: ErrorName;
    members: { memberId: string; groupInstanceId: string | null; error: ErrorName }[];
  } {
    const status = this.ctx.validateGroupStatus(groupId, true);
    if (status !== 'NONE') return { error: status, members: [] };
    const group = this.ctx.groups.get(groupId);
    if (!group) {
      return {
        error: 'NONE',
        members: leaving.map((l) => ({ ...l, error: 'UNKNOWN_MEMBER_ID' })),
      };
    }
    if (group.is(GroupState.Dead)) return { error: 'COORDINATOR_NOT_AVAILABLE', members: [] };
    const members = leaving.map((l) => {
      let error: ErrorName = 'NONE';
      if (l.memberId === UNKNOWN_MEMBER_ID) {
        const current = group.currentStaticMemberId(l.groupInstanceId);
        if (current === undefined) error = 'UNKNOWN_MEMBER_ID';
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
        error = this.ctx.validateCurrentMember(group, l.memberId, l.groupInstanceId);
        if (error === 'NONE') {
          this.removeMemberAndUpdateGroup(
            group,
            group.get(l.memberId),
            `member ${l.memberId} left the group`,
          );
        }
      }
      return { memberId: l.memberId, groupInstanceId: l.groupInstanceId, error };
    });
    return { error: 'NONE', members };
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
}
