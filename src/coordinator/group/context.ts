/**
 * What the parts of the group coordinator share (membership, offsets, transactional offsets,
 * admin, persistence): the configuration, the groups, the clock, the logger and the runtime that
 * writes `__consumer_offsets`. Each part is a module over this context; none imports another's
 * internals, and the runtime's shards (group-shard.ts) change the same groups by replay.
 */
import type { Logger } from '../../common/logger.js';
import type { Time } from '../../common/time.js';
import type { ErrorName } from '../../protocol/generated/errors.js';
import {
  ClassicGroup,
  type JoinGroupResult,
  NO_GENERATION,
  type SyncGroupResult,
} from '../group-metadata.js';
import { partitionFor } from '../offsets-topic.js';
import type { CoordinatorRuntime, CoordinatorShard } from '../runtime/coordinator-runtime.js';
import type { ShareGroup } from '../share/share-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { StreamsGroup } from './streams-group.js';
import type { PendingTxnOffsets } from './txn-offsets.js';

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
  /** How long a write to `__consumer_offsets` may wait for its commit (Kafka's offsets.commit.timeout.ms). */
  offsetsCommitTimeoutMs: number;
}

/** The shard of one `__consumer_offsets` partition as the other parts see it. */
export interface GroupShardView extends CoordinatorShard {
  readonly partition: number;
  /** Offsets staged by open transactions in this partition. */
  readonly pendingTxnOffsets: PendingTxnOffsets;
}

export class GroupContext {
  readonly groups = new Map<string, ClassicGroup>();
  /**
   * KIP-848 consumer groups, changed only by replay (group-shard.ts). Their committed offsets are
   * kept by an empty classic group of the same id in `groups`, as for any group.
   */
  readonly consumerGroups = new Map<string, ConsumerGroup>();
  /** KIP-932 share groups, changed only by replay (group-shard.ts, coordinator/share/share-group.ts). */
  readonly shareGroups = new Map<string, ShareGroup>();
  /** KIP-1071 streams groups, changed only by replay (group-shard.ts, streams-group.ts); offsets as consumer groups. */
  readonly streamsGroups = new Map<string, StreamsGroup>();
  active = false;

  constructor(
    readonly config: GroupCoordinatorConfig,
    readonly time: Time,
    readonly log: Logger,
    readonly runtime: CoordinatorRuntime<GroupShardView>,
  ) {}

  get numPartitions(): number {
    return this.runtime.log.numPartitions;
  }

  partitionFor(groupId: string): number {
    return partitionFor(groupId, this.numPartitions);
  }

  /** The group, created Empty when it does not exist. */
  getOrCreateGroup(groupId: string): ClassicGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ClassicGroup(groupId, this.time.now());
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** Kafka's `validateGroupStatus`; membership APIs also reject an empty group id. */
  validateGroupStatus(groupId: string | null, membershipApi: boolean): ErrorName {
    if (groupId === null || (membershipApi && groupId === '')) return 'INVALID_GROUP_ID';
    if (!this.active) return 'COORDINATOR_NOT_AVAILABLE';
    if (!this.runtime.isLoaded(this.partitionFor(groupId))) return 'NOT_COORDINATOR';
    return 'NONE';
  }

  /** `group.instance.id`, when given, must map to this member id; the member must exist. */
  validateCurrentMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null): ErrorName {
    const current = group.currentStaticMemberId(groupInstanceId);
    if (current !== undefined && current !== memberId) return 'FENCED_INSTANCE_ID';
    if (!group.has(memberId)) return 'UNKNOWN_MEMBER_ID';
    return 'NONE';
  }
}

export const EMPTY = Buffer.alloc(0);

export function joinError(memberId: string, error: ErrorName): JoinGroupResult {
  return {
    error,
    generationId: NO_GENERATION,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(error: ErrorName): SyncGroupResult {
  return { error, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** Cancels every timer of a group and its members. */
export function clearGroupTimers(group: ClassicGroup): void {
  group.joinTimer?.cancel();
  group.joinTimer = null;
  group.syncTimer?.cancel();
  group.syncTimer = null;
  for (const m of group.allMembers()) {
    m.heartbeatTimer?.cancel();
    m.heartbeatTimer = null;
  }
  for (const t of group.pendingMemberTimers.values()) t.cancel();
  group.pendingMemberTimers.clear();
}

/** Answers whoever waits in a JoinGroup or SyncGroup of `group` with `error`. */
export function failWaitingMembers(group: ClassicGroup, error: ErrorName): void {
  for (const m of group.allMembers()) {
    group.maybeInvokeJoinCallback(m, joinError(m.memberId, error));
    group.maybeInvokeSyncCallback(m, syncError(error));
  }
}
