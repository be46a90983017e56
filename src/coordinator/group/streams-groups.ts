/**
 * KIP-1071 streams groups on the coordinator runtime (Kafka's GroupMetadataManager
 * streamsGroupHeartbeat / streamsGroupDescribe). StreamsGroupHeartbeat is a write operation that
 * reads the group (streams-group.ts), returns its records and the response, and changes nothing
 * itself — the shard's replay applies the records. The steps, as Kafka 4.3:
 *
 * 1. validate the request (INVALID_REQUEST; a topology that contradicts itself is
 *    STREAMS_INVALID_TOPOLOGY); static membership is not supported by Kafka's streams groups yet;
 * 2. find the group (created by a member joining with epoch 0 — an id used by a consumer, share or
 *    classic group with members is GROUP_ID_NOT_FOUND, "not a streams group"; an empty classic group
 *    holding only offsets becomes a streams group) and the member: epoch 0 joins, a known member's
 *    epoch must be its current one or its previous one with owned tasks within its assignment
 *    (else FENCED_MEMBER_EPOCH), an unknown member is UNKNOWN_MEMBER_ID; epoch -1 leaves (fenced:
 *    its records tombstoned, the group epoch bumped);
 * 3. the first member's topology becomes the group's (Topology record); a later member with a
 *    newer topology epoch is STREAMS_INVALID_TOPOLOGY_EPOCH ("Topology updates are not supported
 *    yet."), an older one is answered with the STALE_TOPOLOGY status;
 * 4. the topology is configured against the topics (streams-topology.ts): missing source topics,
 *    wrongly partitioned topics and internal topics still to be created are statuses of the answer
 *    (the handler creates the internal topics); the group is assigned tasks only once it is ready;
 * 5. a new member, changed member metadata (process, endpoint, tags, rack), a changed hash of the
 *    topology's topics or a topology epoch not yet validated bumps the group epoch; a group epoch
 *    above the target assignment's computes a new target (streams-assignor.ts);
 * 6. the member reconciles towards its target (Kafka's streams CurrentAssignmentBuilder): tasks it
 *    must give up are revoked first (UNREVOKED_TASKS, same epoch, until its heartbeat no longer
 *    reports them), active tasks another member still holds wait (UNRELEASED_TASKS), then the
 *    member moves to the target epoch;
 * 7. the answer carries the epoch, the heartbeat interval, the tasks when they changed or the
 *    member joined, the statuses, and the partitions by user endpoint (Interactive Queries) when the
 *    member's endpoint information epoch is behind the group's.
 *
 * Session timeouts (`group.streams.session.timeout.ms`) fence a member that stops heartbeating; a
 * member that does not revoke within its rebalance timeout is fenced too. Timers are not state.
 * As Kafka 4.3, the first member of an empty group starts `group.streams.initial.rebalance.delay.ms`
 * during which every member's target is empty, and a new target is computed at most every
 * `group.streams.assignment.interval.ms` (a heartbeat in between reconciles towards the last one).
 * Unlike Kafka (which keeps them at the assignment epoch, 0 in a new group), members in the delay
 * move to the group epoch, and the end of the delay bumps the group epoch so that the next heartbeat
 * computes the first target: the Kafka Streams 4.3.1 client answered epoch 0 took itself for joined
 * and heartbeated at epoch 0 without its join fields (INVALID_REQUEST), seen in compat-tests.
 * Not done as Kafka: warm-up tasks, the per-task assignment epochs that let a member commit offsets
 * with an older epoch (its previous epoch is accepted instead).
 */
import type { Timer } from '../../common/time.js';
import type { ErrorName } from '../../protocol/generated/errors.js';
import type {
  StreamsGroupDescribeResponseDescribedGroup,
  StreamsGroupHeartbeatResponseEndpointToPartitions,
} from '../../protocol/generated/messages.js';
import { GroupState } from '../group-metadata.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import type { GroupContext } from './context.js';
import { fail, MemberTimers, metadataHash, runHeartbeat } from './heartbeat.js';
import { tombstoneRecords } from './persistence.js';
import { assignStreamsTasks } from './streams-assignor.js';
import {
  type Endpoint,
  emptyTasks,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  newStreamsMember,
  StreamsGroup,
  type StreamsGroupMember,
  StreamsMemberState,
  type StreamsTopology,
  sameTuple,
  streamsCurrentAssignmentRecord,
  streamsGroupEpochRecord,
  streamsGroupTombstones,
  streamsMemberMetadataRecord,
  streamsMemberTombstones,
  streamsTargetAssignmentEpochRecord,
  streamsTargetAssignmentRecord,
  streamsTopologyRecord,
  type Tasks,
  type TasksTuple,
  tasksToWire,
} from './streams-group.js';
import {
  type ConfiguredTopology,
  configureTopology,
  type InternalTopicToCreate,
  StreamsStatus,
  type StreamsTopicsView,
  topologyError,
  topologyTopicNames,
} from './streams-topology.js';

/** Kafka's group.streams.* configs (GroupCoordinatorConfig). */
export interface StreamsGroupConfig {
  /** `streams` in group.coordinator.rebalance.protocols: the APIs are served and advertised. */
  enabled: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxSize: number;
  numStandbyReplicas: number;
  /** group.streams.initial.rebalance.delay.ms: a new group's first assignment waits for more members. */
  initialRebalanceDelayMs: number;
  /** group.streams.assignment.interval.ms: a new target at most this often. */
  assignmentIntervalMs: number;
}

export const DEFAULT_STREAMS_GROUP_CONFIG: StreamsGroupConfig = {
  enabled: true,
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  maxSize: 2147483647,
  numStandbyReplicas: 0,
  initialRebalanceDelayMs: 3_000,
  assignmentIntervalMs: 1_000,
};

type WireTasks = readonly { subtopologyId: string; partitions: readonly number[] }[];
type WireOffsets = readonly { subtopologyId: string; partition: number; offset: number }[];

export interface StreamsGroupHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  endpointInformationEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  topology: StreamsTopology | null;
  activeTasks: WireTasks | null;
  standbyTasks: WireTasks | null;
  warmupTasks: WireTasks | null;
  processId: string | null;
  userEndpoint: Endpoint | null;
  clientTags: readonly { key: string; value: string }[] | null;
  taskOffsets: WireOffsets | null;
  taskEndOffsets: WireOffsets | null;
  shutdownApplication: boolean;
  clientId: string;
  clientHost: string;
}

type WireTaskIds = { subtopologyId: string; partitions: number[] }[];

export interface StreamsGroupHeartbeatResult {
  error: ErrorName;
  errorMessage: string | null;
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  acceptableRecoveryLag: number;
  taskOffsetIntervalMs: number;
  status: { statusCode: number; statusDetail: string }[] | null;
  activeTasks: WireTaskIds | null;
  standbyTasks: WireTaskIds | null;
  warmupTasks: WireTaskIds | null;
  endpointInformationEpoch: number;
  partitionsByUserEndpoint: StreamsGroupHeartbeatResponseEndpointToPartitions[] | null;
  /** Internal topics the handler is to create (Kafka's StreamsGroupHeartbeatResult.creatableTopics). */
  creatableTopics: InternalTopicToCreate[];
}

export type StreamsGroupDescription = Omit<StreamsGroupDescribeResponseDescribedGroup, 'errorCode'> & {
  error: ErrorName;
};

/** The owned tasks a heartbeat reports (null lists: unchanged, counted as still owned). */
interface Owned {
  active: WireTasks | null;
  standby: WireTasks | null;
  warmup: WireTasks | null;
}

function ownsAny(owned: WireTasks | null, revoking: Tasks): boolean {
  if (revoking.size === 0) return false;
  if (owned === null) return true;
  for (const t of owned) {
    const ps = revoking.get(t.subtopologyId);
    if (ps) for (const p of t.partitions) if (ps.has(p)) return true;
  }
  return false;
}

function ownsRevoked(owned: Owned, revoking: TasksTuple): boolean {
  return (
    ownsAny(owned.active, revoking.active) ||
    ownsAny(owned.standby, revoking.standby) ||
    ownsAny(owned.warmup, revoking.warmup)
  );
}

function within(owned: WireTasks | null, tasks: Tasks): boolean {
  if (owned === null) return true;
  for (const t of owned) for (const p of t.partitions) if (!tasks.get(t.subtopologyId)?.has(p)) return false;
  return true;
}

/**
 * Kafka's streams CurrentAssignmentBuilder.build: moves `member` towards `target` at `targetEpoch`.
 * `activeOwnerEpoch` tells whether another member still holds an active task (-1: free).
 */
export function reconcileStreamsMember(
  member: StreamsGroupMember,
  targetEpoch: number,
  target: TasksTuple,
  owned: Owned,
  activeOwnerEpoch: (subtopologyId: string, partition: number) => number,
): StreamsGroupMember {
  const next = (memberEpoch: number): StreamsGroupMember => {
    const keep = emptyTasks();
    const revoke = emptyTasks();
    let unreleased = false;
    const newActive: Tasks = new Map();
    for (const kind of ['active', 'standby', 'warmup'] as const) {
      const current = member.assigned[kind];
      const want = target[kind];
      for (const sub of new Set([...current.keys(), ...want.keys()])) {
        const c = current.get(sub) ?? new Set<number>();
        const w = want.get(sub) ?? new Set<number>();
        const k = new Set([...c].filter((p) => w.has(p)));
        const r = new Set([...c].filter((p) => !w.has(p)));
        if (k.size > 0) keep[kind].set(sub, k);
        if (r.size > 0) revoke[kind].set(sub, r);
        const added = [...w].filter((p) => !c.has(p));
        for (const p of added) {
          if (kind === 'active' && activeOwnerEpoch(sub, p) !== -1) {
            unreleased = true;
            continue;
          }
          const into = kind === 'active' ? newActive : keep[kind];
          const s = into.get(sub) ?? new Set<number>();
          s.add(p);
          into.set(sub, s);
        }
      }
    }
    const base = { ...member, previousMemberEpoch: member.memberEpoch };
    if (ownsRevoked(owned, revoke)) {
      return {
        ...base,
        state: StreamsMemberState.UNREVOKED_TASKS,
        memberEpoch,
        assigned: keep,
        pendingRevocation: revoke,
      };
    }
    for (const [sub, ps] of newActive) {
      const s = keep.active.get(sub) ?? new Set<number>();
      for (const p of ps) s.add(p);
      keep.active.set(sub, s);
    }
    return {
      ...base,
      state: unreleased ? StreamsMemberState.UNRELEASED_TASKS : StreamsMemberState.STABLE,
      memberEpoch: targetEpoch,
      assigned: keep,
      pendingRevocation: emptyTasks(),
    };
  };
  switch (member.state) {
    case StreamsMemberState.STABLE:
      return member.memberEpoch !== targetEpoch ? next(member.memberEpoch) : member;
    case StreamsMemberState.UNREVOKED_TASKS:
      if (ownsRevoked(owned, member.pendingRevocation)) return member;
      return next(member.memberEpoch);
    case StreamsMemberState.UNRELEASED_TASKS:
      return next(member.memberEpoch);
    default:
      return next(targetEpoch);
  }
}

function metadataChanged(a: StreamsGroupMember, b: StreamsGroupMember): boolean {
  return (
    a.instanceId !== b.instanceId ||
    a.rackId !== b.rackId ||
    a.clientId !== b.clientId ||
    a.clientHost !== b.clientHost ||
    a.rebalanceTimeoutMs !== b.rebalanceTimeoutMs ||
    a.topologyEpoch !== b.topologyEpoch ||
    a.processId !== b.processId ||
    a.userEndpoint?.host !== b.userEndpoint?.host ||
    a.userEndpoint?.port !== b.userEndpoint?.port ||
    a.clientTags.length !== b.clientTags.length ||
    a.clientTags.some((t, i) => t.key !== b.clientTags[i]!.key || t.value !== b.clientTags[i]!.value)
  );
}

function assignmentChanged(a: StreamsGroupMember, b: StreamsGroupMember): boolean {
  return (
    a.memberEpoch !== b.memberEpoch ||
    a.previousMemberEpoch !== b.previousMemberEpoch ||
    a.state !== b.state ||
    !sameTuple(a.assigned, b.assigned) ||
    !sameTuple(a.pendingRevocation, b.pendingRevocation)
  );
}

export class StreamsGroups {
  private readonly sessionTimers = new MemberTimers(() => this.ctx.time);
  private readonly rebalanceTimers = new MemberTimers(() => this.ctx.time);
  /** Groups in their initial rebalance delay (Kafka's streamsInitialRebalanceKey timer). */
  private readonly initialRebalanceTimers = new Map<string, Timer>();
  /** The configured topology of a group, by its metadata hash and topology epoch. */
  private readonly configured = new WeakMap<StreamsGroup, { key: string; value: ConfiguredTopology }>();

  constructor(
    private readonly ctx: GroupContext,
    readonly config: StreamsGroupConfig,
    private readonly topics: StreamsTopicsView,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  async heartbeat(p: StreamsGroupHeartbeatParams): Promise<StreamsGroupHeartbeatResult> {
    const r = await runHeartbeat(
      this.ctx,
      p.groupId,
      () => this.validate(p),
      () => this.heartbeatOperation(p),
    );
    if ('creatableTopics' in r) return r;
    return {
      error: r.error,
      errorMessage: r.errorMessage,
      memberId: p.memberId,
      memberEpoch: -1,
      heartbeatIntervalMs: 0,
      acceptableRecoveryLag: 0,
      taskOffsetIntervalMs: 0,
      status: null,
      activeTasks: null,
      standbyTasks: null,
      warmupTasks: null,
      endpointInformationEpoch: 0,
      partitionsByUserEndpoint: null,
      creatableTopics: [],
    };
  }

  /** Kafka's throwIfStreamsGroupHeartbeatRequestIsInvalid. */
  private validate(p: StreamsGroupHeartbeatParams): void {
    const invalid = (message: string) => fail('INVALID_REQUEST', message);
    if (p.groupId === '') invalid("GroupId can't be empty.");
    if (p.memberId === '') invalid("MemberId can't be empty.");
    if (p.instanceId === '') invalid("InstanceId can't be empty.");
    if (p.rackId === '') invalid("RackId can't be empty.");
    if (p.instanceId !== null || p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      invalid('Static members are not supported yet.');
    }
    if (p.memberEpoch === 0) {
      if (p.rebalanceTimeoutMs === -1) invalid('RebalanceTimeoutMs must be provided in first request.');
      if (p.topology === null) invalid('Topology must be non-null when (re-)joining.');
      if (p.processId === null || p.processId === '') invalid('ProcessId must be provided in first request.');
      if (p.activeTasks === null || p.activeTasks.length > 0)
        invalid('ActiveTasks must be empty when (re-)joining.');
      if (p.standbyTasks === null || p.standbyTasks.length > 0)
        invalid('StandbyTasks must be empty when (re-)joining.');
      if (p.warmupTasks === null || p.warmupTasks.length > 0)
        invalid('WarmupTasks must be empty when (re-)joining.');
      const error = topologyError(p.topology!);
      if (error !== null) fail('STREAMS_INVALID_TOPOLOGY', error);
    } else if (p.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) invalid('MemberEpoch is invalid.');
    else if (p.topology !== null) invalid('Topology can only be provided when (re-)joining.');
    if (p.processId === '') invalid("ProcessId can't be empty.");
  }

  /** The group's topology against the topics now (cached while the topics' hash stays). */
  configuredTopology(
    group: StreamsGroup,
    topology: StreamsTopology | null = group.topology,
  ): ConfiguredTopology | null {
    if (topology === null) return null;
    const hash = this.topicsHash(topology);
    const key = `${topology.epoch}/${hash}`;
    const cached = this.configured.get(group);
    if (cached && cached.key === key && topology === group.topology) return cached.value;
    const value = configureTopology(topology, this.topics);
    if (topology === group.topology) this.configured.set(group, { key, value });
    return value;
  }

  private topicsHash(topology: StreamsTopology): number {
    const text = topologyTopicNames(topology, this.topics)
      .map((n) => {
        const t = this.topics.topic(n);
        return t ? `${n}/${t.topicId}/${t.numPartitions}` : `${n}/-`;
      })
      .join(',');
    return metadataHash(text);
  }

  private heartbeatOperation(p: StreamsGroupHeartbeatParams): {
    records: CoordinatorRecord[];
    response: StreamsGroupHeartbeatResult;
  } {
    const now = this.ctx.time.now();
    const records: CoordinatorRecord[] = [];
    let group = this.ctx.streamsGroups.get(p.groupId);
    if (!group) {
      const classic = this.ctx.groups.get(p.groupId);
      if (
        this.ctx.consumerGroups.has(p.groupId) ||
        this.ctx.shareGroups.has(p.groupId) ||
        (classic && (classic.size > 0 || !classic.is(GroupState.Empty)))
      ) {
        fail('GROUP_ID_NOT_FOUND', `Group ${p.groupId} is not a streams group.`);
      }
      if (p.memberEpoch !== 0) fail('GROUP_ID_NOT_FOUND', `Streams group ${p.groupId} not found.`);
      // An empty classic group (offsets only, or a stored empty generation) becomes a streams group.
      if (classic && (classic.protocolType !== null || classic.generationId > 0)) {
        records.push(...tombstoneRecords(p.groupId, [], true));
      }
      group = new StreamsGroup(p.groupId);
    }
    if (p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) return this.leave(group, p, records);

    const existing = group.members.get(p.memberId);
    if (p.memberEpoch === 0 && !existing && group.members.size >= this.config.maxSize) {
      fail(
        'GROUP_MAX_SIZE_REACHED',
        `The streams group has reached its maximum capacity of ${this.config.maxSize} members.`,
      );
    }
    const owned: Owned = { active: p.activeTasks, standby: p.standbyTasks, warmup: p.warmupTasks };
    let member: StreamsGroupMember;
    if (p.memberEpoch === 0) {
      // Joining, or rejoining after losing its tasks: it owns nothing now.
      member = existing
        ? {
            ...existing,
            memberEpoch: 0,
            previousMemberEpoch: -1,
            state: StreamsMemberState.STABLE,
            assigned: emptyTasks(),
            pendingRevocation: emptyTasks(),
          }
        : newStreamsMember(p.memberId);
    } else {
      if (!existing) fail('UNKNOWN_MEMBER_ID', `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      member = existing;
      if (p.memberEpoch !== member.memberEpoch) {
        const previousOk =
          p.memberEpoch === member.previousMemberEpoch &&
          within(p.activeTasks, member.assigned.active) &&
          within(p.standbyTasks, member.assigned.standby) &&
          within(p.warmupTasks, member.assigned.warmup);
        if (!previousOk) {
          fail(
            'FENCED_MEMBER_EPOCH',
            `The streams group member has a ${p.memberEpoch < member.memberEpoch ? 'smaller' : 'greater'} member epoch (${p.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its tasks and rejoin.`,
          );
        }
      }
    }

    // The topology: the first member's becomes the group's.
    let topology = group.topology;
    if (p.topology !== null) {
      if (topology === null) {
        topology = p.topology;
        records.push(streamsTopologyRecord(p.groupId, topology));
      } else if (p.topology.epoch > topology.epoch) {
        fail('STREAMS_INVALID_TOPOLOGY_EPOCH', 'Topology updates are not supported yet.');
      }
    }
    if (topology === null)
      fail('STREAMS_INVALID_TOPOLOGY', 'The topology is null and the group topology is also null.');

    const updated: StreamsGroupMember = {
      ...member,
      rackId: p.rackId ?? member.rackId,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs !== -1 ? p.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
      topologyEpoch: p.topology?.epoch ?? member.topologyEpoch,
      processId: p.processId ?? member.processId,
      userEndpoint: p.userEndpoint ?? member.userEndpoint,
      clientTags: p.clientTags ?? member.clientTags,
      clientId: p.clientId,
      clientHost: p.clientHost,
    };
    const isNew = !existing;
    let bump = isNew;
    if (isNew || metadataChanged(member, updated)) {
      records.push(streamsMemberMetadataRecord(p.groupId, updated));
      // As Kafka's hasStreamsMemberMetadataChanged: the assignor may see it, the group epoch moves.
      bump = true;
    }

    const configured = this.configuredTopology(group, topology)!;
    const hash = this.topicsHash(topology);
    if (hash !== group.metadataHash || group.validatedTopologyEpoch !== topology.epoch) bump = true;
    let groupEpoch = group.groupEpoch;
    if (bump) {
      groupEpoch += 1;
      records.push(streamsGroupEpochRecord(p.groupId, groupEpoch, hash, topology.epoch));
    }

    const members = new Map(group.members);
    members.set(p.memberId, updated);
    // The first member of an empty group: the first assignment waits for others to join.
    if (isNew && group.members.size === 0 && this.config.initialRebalanceDelayMs > 0) {
      this.scheduleInitialRebalance(p.groupId);
    }
    let targetEpoch = group.assignmentEpoch;
    let target: TasksTuple;
    if (this.initialRebalanceTimers.has(p.groupId)) {
      // Nothing assigned yet; the members move to the group epoch (a member answered epoch 0 would
      // be taken by the Streams client for a joined member and heartbeat without its join fields).
      targetEpoch = groupEpoch;
      target = emptyTasks();
    } else if (
      groupEpoch > group.assignmentEpoch &&
      now - group.assignmentTimestamp >= this.config.assignmentIntervalMs
    ) {
      const targets = this.computeTargets(group, members, configured, topology);
      for (const [id, t] of targets) {
        if (!sameTuple(t, group.targetOf(id)) || (isNew && id === p.memberId)) {
          records.push(streamsTargetAssignmentRecord(p.groupId, id, t));
        }
      }
      records.push(streamsTargetAssignmentEpochRecord(p.groupId, groupEpoch, now));
      targetEpoch = groupEpoch;
      target = targets.get(p.memberId) ?? emptyTasks();
    } else target = group.targetOf(p.memberId);

    const reconciled = reconcileStreamsMember(updated, targetEpoch, target, owned, (sub, partition) => {
      const e = group.currentActiveTaskEpoch(sub, partition);
      // The member's own tasks (before this rejoin reset them) do not block it.
      if (e !== -1 && existing?.assigned.active.get(sub)?.has(partition)) return -1;
      if (e !== -1 && existing?.pendingRevocation.active.get(sub)?.has(partition)) return -1;
      return e;
    });
    if (isNew || p.memberEpoch === 0 || assignmentChanged(member, reconciled)) {
      records.push(streamsCurrentAssignmentRecord(p.groupId, reconciled));
    }

    // Not stored, as Kafka: changelog offsets, the shutdown request, the endpoint epoch.
    if (p.taskOffsets !== null || p.taskEndOffsets !== null) {
      const known = group.taskOffsets.get(p.memberId) ?? { offsets: [], endOffsets: [] };
      group.taskOffsets.set(p.memberId, {
        offsets: p.taskOffsets ? p.taskOffsets.map((o) => ({ ...o })) : known.offsets,
        endOffsets: p.taskEndOffsets ? p.taskEndOffsets.map((o) => ({ ...o })) : known.endOffsets,
      });
    }
    if (p.shutdownApplication && group.members.has(p.memberId)) group.shutdownRequestMemberId = p.memberId;
    const tasksChanged = p.memberEpoch === 0 || !sameTuple(member.assigned, reconciled.assigned);
    if (tasksChanged && reconciled.userEndpoint !== null && !isNew) group.endpointInformationEpoch += 1;

    this.scheduleSessionTimeout(p.groupId, p.memberId);
    if (
      reconciled.state === StreamsMemberState.UNREVOKED_TASKS &&
      member.state !== StreamsMemberState.UNREVOKED_TASKS
    ) {
      this.scheduleRebalanceTimeout(
        p.groupId,
        p.memberId,
        reconciled.memberEpoch,
        reconciled.rebalanceTimeoutMs,
      );
    } else if (reconciled.state !== StreamsMemberState.UNREVOKED_TASKS) {
      this.rebalanceTimers.cancel(p.groupId, p.memberId);
    }

    const status: { statusCode: number; statusDetail: string }[] = [];
    if (updated.topologyEpoch < topology.epoch) {
      status.push({
        statusCode: StreamsStatus.STALE_TOPOLOGY,
        statusDetail: `The member's topology epoch ${updated.topologyEpoch} is behind the group's topology epoch ${topology.epoch}.`,
      });
    }
    if (configured.problem) {
      status.push({ statusCode: configured.problem.status, statusDetail: configured.problem.detail });
    }
    if (group.shutdownRequestMemberId !== null) {
      status.push({
        statusCode: StreamsStatus.SHUTDOWN_APPLICATION,
        statusDetail: `Streams group member ${group.shutdownRequestMemberId} encountered a fatal error and requested a shutdown for the entire application.`,
      });
    }
    const endpointsBehind = p.endpointInformationEpoch !== group.endpointInformationEpoch;
    return {
      records,
      response: {
        error: 'NONE',
        errorMessage: null,
        memberId: p.memberId,
        memberEpoch: reconciled.memberEpoch,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        acceptableRecoveryLag: 0,
        taskOffsetIntervalMs: 0,
        status,
        activeTasks: tasksChanged ? tasksToWire(reconciled.assigned.active) : null,
        standbyTasks: tasksChanged ? tasksToWire(reconciled.assigned.standby) : null,
        warmupTasks: tasksChanged ? tasksToWire(reconciled.assigned.warmup) : null,
        endpointInformationEpoch: group.endpointInformationEpoch,
        partitionsByUserEndpoint: endpointsBehind
          ? this.partitionsByEndpoint(members, reconciled, configured)
          : null,
        creatableTopics: configured.toCreate,
      },
    };
  }

  private computeTargets(
    group: StreamsGroup,
    members: ReadonlyMap<string, StreamsGroupMember>,
    configured: ConfiguredTopology,
    topology: StreamsTopology,
  ): Map<string, TasksTuple> {
    if (configured.subtopologies === null) {
      return new Map([...members.keys()].map((id) => [id, emptyTasks()]));
    }
    const stateful = new Set(
      topology.subtopologies.filter((s) => s.stateChangelogTopics.length > 0).map((s) => s.subtopologyId),
    );
    return assignStreamsTasks({
      members: [...members.values()].map((m) => ({
        memberId: m.memberId,
        processId: m.processId,
        current: group.targetOf(m.memberId),
      })),
      subtopologies: new Map(configured.subtopologies.map((s) => [s.subtopologyId, s.numTasks])),
      stateful,
      numStandbyReplicas: this.config.numStandbyReplicas,
    });
  }

  /** Interactive Queries: the partitions each user endpoint's active and standby tasks read. */
  private partitionsByEndpoint(
    members: ReadonlyMap<string, StreamsGroupMember>,
    self: StreamsGroupMember,
    configured: ConfiguredTopology,
  ): StreamsGroupHeartbeatResponseEndpointToPartitions[] {
    if (configured.subtopologies === null) return [];
    const subs = new Map(configured.subtopologies.map((s) => [s.subtopologyId, s]));
    const byEndpoint = new Map<
      string,
      { endpoint: Endpoint; active: Map<string, Set<number>>; standby: Map<string, Set<number>> }
    >();
    const add = (into: Map<string, Set<number>>, tasks: Tasks) => {
      for (const [sub, ps] of tasks) {
        const s = subs.get(sub);
        if (!s) continue;
        const topics = [
          ...s.sourceTopics.map((n) => ({ name: n, partitions: this.topics.topic(n)?.numPartitions ?? 0 })),
          ...s.repartitionSourceTopics,
        ];
        for (const t of topics) {
          const set = into.get(t.name) ?? new Set<number>();
          for (const p of ps) if (p < t.partitions) set.add(p);
          into.set(t.name, set);
        }
      }
    };
    for (const m0 of members.values()) {
      const m = m0.memberId === self.memberId ? self : m0;
      if (m.userEndpoint === null) continue;
      const k = `${m.userEndpoint.host}:${m.userEndpoint.port}`;
      let e = byEndpoint.get(k);
      if (!e) {
        e = { endpoint: m.userEndpoint, active: new Map(), standby: new Map() };
        byEndpoint.set(k, e);
      }
      add(e.active, m.assigned.active);
      add(e.standby, m.assigned.standby);
    }
    const toList = (m: Map<string, Set<number>>) =>
      [...m]
        .filter(([, ps]) => ps.size > 0)
        .map(([topic, ps]) => ({ topic, partitions: [...ps].sort((a, b) => a - b) }));
    return [...byEndpoint.values()].map((e) => ({
      userEndpoint: { host: e.endpoint.host, port: e.endpoint.port },
      activePartitions: toList(e.active),
      standbyPartitions: toList(e.standby),
    }));
  }

  private leave(
    group: StreamsGroup,
    p: StreamsGroupHeartbeatParams,
    records: CoordinatorRecord[],
  ): { records: CoordinatorRecord[]; response: StreamsGroupHeartbeatResult } {
    const member = group.members.get(p.memberId);
    if (!member) fail('UNKNOWN_MEMBER_ID', `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    records.push(...this.fenceRecords(group, member.memberId));
    this.sessionTimers.cancel(p.groupId, member.memberId);
    this.rebalanceTimers.cancel(p.groupId, member.memberId);
    return {
      records,
      response: {
        error: 'NONE',
        errorMessage: null,
        memberId: member.memberId,
        memberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
        heartbeatIntervalMs: 0,
        acceptableRecoveryLag: 0,
        taskOffsetIntervalMs: 0,
        status: null,
        activeTasks: null,
        standbyTasks: null,
        warmupTasks: null,
        endpointInformationEpoch: group.endpointInformationEpoch,
        partitionsByUserEndpoint: null,
        creatableTopics: [],
      },
    };
  }

  /** The records removing a member: its tombstones and a group epoch bump (the others rebalance). */
  private fenceRecords(group: StreamsGroup, memberId: string): CoordinatorRecord[] {
    return [
      ...streamsMemberTombstones(group.groupId, memberId),
      streamsGroupEpochRecord(
        group.groupId,
        group.groupEpoch + 1,
        group.metadataHash,
        group.validatedTopologyEpoch,
      ),
    ];
  }

  private fence(groupId: string, memberId: string, why: string, expectedEpoch?: number): void {
    this.ctx.runtime
      .scheduleWriteOperation(this.ctx.partitionFor(groupId), () => {
        const group = this.ctx.streamsGroups.get(groupId);
        const member = group?.members.get(memberId);
        if (!group || !member || (expectedEpoch !== undefined && member.memberEpoch !== expectedEpoch)) {
          return { records: [], response: undefined };
        }
        this.ctx.log.info(
          `[GroupId ${groupId}] Streams member ${memberId} fenced from the group because ${why}.`,
        );
        this.sessionTimers.cancel(groupId, memberId);
        this.rebalanceTimers.cancel(groupId, memberId);
        return { records: this.fenceRecords(group, memberId), response: undefined };
      })
      .catch((err: unknown) =>
        this.ctx.log.warn(
          `fencing ${memberId} of streams group ${groupId} failed: ${(err as Error).message}`,
        ),
      );
  }

  private scheduleInitialRebalance(groupId: string): void {
    if (this.initialRebalanceTimers.has(groupId)) return;
    this.initialRebalanceTimers.set(
      groupId,
      this.ctx.time.setTimeout(() => {
        this.initialRebalanceTimers.delete(groupId);
        // The delay is over: a group epoch bump has the next heartbeat compute the first target.
        this.ctx.runtime
          .scheduleWriteOperation(this.ctx.partitionFor(groupId), () => {
            const group = this.ctx.streamsGroups.get(groupId);
            if (!group) return { records: [], response: undefined };
            return {
              records: [
                streamsGroupEpochRecord(
                  groupId,
                  group.groupEpoch + 1,
                  group.metadataHash,
                  group.validatedTopologyEpoch,
                ),
              ],
              response: undefined,
            };
          })
          .catch((err: unknown) =>
            this.ctx.log.warn(
              `ending the initial rebalance delay of ${groupId} failed: ${(err as Error).message}`,
            ),
          );
      }, this.config.initialRebalanceDelayMs),
    );
  }

  private scheduleSessionTimeout(groupId: string, memberId: string): void {
    this.sessionTimers.schedule(groupId, memberId, this.config.sessionTimeoutMs, () =>
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
      const m = this.ctx.streamsGroups.get(groupId)?.members.get(memberId);
      if (m?.state === StreamsMemberState.UNREVOKED_TASKS) {
        this.fence(groupId, memberId, 'it failed to revoke tasks within the rebalance timeout', epoch);
      }
    });
  }

  /** The partition's streams groups are loaded: their members' sessions start now. */
  onLoaded(groups: readonly StreamsGroup[]): void {
    for (const g of groups) for (const m of g.members.keys()) this.scheduleSessionTimeout(g.groupId, m);
  }

  onUnloaded(groups: readonly StreamsGroup[]): void {
    for (const g of groups) {
      this.initialRebalanceTimers.get(g.groupId)?.cancel();
      this.initialRebalanceTimers.delete(g.groupId);
      for (const m of g.members.keys()) {
        this.sessionTimers.cancel(g.groupId, m);
        this.rebalanceTimers.cancel(g.groupId, m);
      }
    }
  }

  /** The state as ListGroups and StreamsGroupDescribe name it. */
  stateOf(group: StreamsGroup): string {
    const configured = this.configuredTopology(group);
    return group.state(configured !== null && configured.subtopologies !== null);
  }

  /** StreamsGroupDescribe of one group. */
  describe(
    groupId: string,
    includeAuthorizedOperations: boolean,
    authorizedOperations: number,
  ): StreamsGroupDescription {
    const base: StreamsGroupDescription = {
      error: 'NONE',
      errorMessage: null,
      groupId,
      groupState: 'Dead',
      groupEpoch: 0,
      assignmentEpoch: 0,
      topology: null,
      members: [],
      authorizedOperations: -2147483648,
    };
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return { ...base, error: status };
    const group = this.ctx.streamsGroups.get(groupId);
    if (!group) {
      const classic = this.ctx.groups.get(groupId);
      const other =
        (classic && !classic.is(GroupState.Dead)) ||
        this.ctx.consumerGroups.has(groupId) ||
        this.ctx.shareGroups.has(groupId);
      return {
        ...base,
        error: 'GROUP_ID_NOT_FOUND',
        errorMessage: other ? `Group ${groupId} is not a streams group.` : `Group ${groupId} not found.`,
      };
    }
    const configured = this.configuredTopology(group);
    const assignment = (t: TasksTuple) => ({
      activeTasks: tasksToWire(t.active),
      standbyTasks: tasksToWire(t.standby),
      warmupTasks: tasksToWire(t.warmup),
    });
    const topicInfo = (
      t: {
        name: string;
        partitions: number;
        replicationFactor: number;
        topicConfigs: { key: string; value: string }[];
      },
      partitions: number,
    ) => ({
      name: t.name,
      partitions,
      replicationFactor: t.replicationFactor,
      topicConfigs: t.topicConfigs.map((c) => ({ key: c.key, value: c.value })),
    });
    const topology = group.topology && {
      epoch: group.topology.epoch,
      subtopologies:
        configured?.subtopologies == null
          ? null
          : configured.subtopologies.map((cs) => {
              const s = group.topology!.subtopologies.find((x) => x.subtopologyId === cs.subtopologyId)!;
              return {
                subtopologyId: cs.subtopologyId,
                sourceTopics: cs.sourceTopics,
                repartitionSinkTopics: cs.repartitionSinkTopics,
                stateChangelogTopics: s.stateChangelogTopics.map((t, i) =>
                  topicInfo(t, cs.stateChangelogTopics[i]!.partitions),
                ),
                repartitionSourceTopics: s.repartitionSourceTopics.map((t, i) =>
                  topicInfo(t, cs.repartitionSourceTopics[i]!.partitions),
                ),
              };
            }),
    };
    return {
      ...base,
      groupState: group.state(configured !== null && configured.subtopologies !== null),
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      topology,
      authorizedOperations: includeAuthorizedOperations ? authorizedOperations : base.authorizedOperations,
      members: [...group.members.values()].map((m) => {
        const offsets = group.taskOffsets.get(m.memberId);
        return {
          memberId: m.memberId,
          memberEpoch: m.memberEpoch,
          instanceId: m.instanceId,
          rackId: m.rackId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          topologyEpoch: m.topologyEpoch,
          processId: m.processId,
          userEndpoint: m.userEndpoint && { host: m.userEndpoint.host, port: m.userEndpoint.port },
          clientTags: m.clientTags.map((t) => ({ key: t.key, value: t.value })),
          taskOffsets: offsets?.offsets ?? [],
          taskEndOffsets: offsets?.endOffsets ?? [],
          assignment: assignment(m.assigned),
          targetAssignment: assignment(group.targetOf(m.memberId)),
          isClassic: false,
        };
      }),
    };
  }

  /** The records deleting an empty streams group (DeleteGroups). */
  tombstones(group: StreamsGroup): CoordinatorRecord[] {
    return streamsGroupTombstones(group.groupId);
  }

  /** Drops every streams group (the broker's reset): timers stopped, tombstones written and replayed. */
  reset(): void {
    for (const group of [...this.ctx.streamsGroups.values()]) {
      this.onUnloaded([group]);
      const records = [...group.members.keys()].flatMap((m) => streamsMemberTombstones(group.groupId, m));
      records.push(...streamsGroupTombstones(group.groupId));
      try {
        this.ctx.runtime.appendNow(this.ctx.partitionFor(group.groupId), records, true);
      } catch (err) {
        this.ctx.log.error(`writing tombstones for streams group ${group.groupId} failed`, err);
        this.ctx.streamsGroups.delete(group.groupId);
      }
    }
  }
}
