/**
 * The classic group coordinator (Kafka's `GroupCoordinatorService` over its shards, classic
 * protocol only). It runs on the coordinator runtime (runtime/): one shard per
 * `__consumer_offsets` partition, loaded by replaying the partition at `startup()` before the
 * broker listens, and unloaded at `shutdown()`. The work is split by concern under group/:
 *
 * - membership.ts — JoinGroup, SyncGroup, Heartbeat, LeaveGroup and their timers;
 * - offsets.ts — OffsetCommit (written and replayed by the runtime, answered once committed),
 *   OffsetFetch, OffsetDelete, retention, the offsets of deleted topics;
 * - txn-offsets.ts — TxnOffsetCommit, the offsets open transactions staged, their markers;
 * - consumer-groups.ts / consumer-group.ts / assignors.ts — KIP-848 consumer groups:
 *   ConsumerGroupHeartbeat and ConsumerGroupDescribe, their records, the server-side assignors,
 *   the conversions between a classic and a consumer group with members (online migration);
 * - consumer-group-classic.ts / consumer-protocol.ts — classic members inside a consumer group
 *   (JoinGroup, SyncGroup, Heartbeat, LeaveGroup routed there) and the embedded consumer protocol;
 * - admin.ts — DescribeGroups, ListGroups, DeleteGroups (both kinds of groups);
 * - persistence.ts / group-shard.ts — the records written, and the replay that reads them back;
 * - context.ts — the groups, config, clock and runtime the parts share.
 */
import type { Logger } from '../common/logger.js';
import { type ScheduledTask, Scheduler } from '../common/scheduler.js';
import { systemTime, type Time } from '../common/time.js';
import type { ErrorName } from '../protocol/generated/errors.js';
import { GroupAdmin, type GroupSummary, type ListedGroup } from './group/admin.js';
import type { ConsumerGroup } from './group/consumer-group.js';
import { ConsumerGroupClassicMembers, type LeaveGroupResult } from './group/consumer-group-classic.js';
import {
  type ConsumerGroupConfig,
  type ConsumerGroupHeartbeatParams,
  type ConsumerGroupHeartbeatResult,
  ConsumerGroups,
  DEFAULT_CONSUMER_GROUP_CONFIG,
  NO_TOPICS,
  type TopicsView,
} from './group/consumer-groups.js';
import {
  clearGroupTimers,
  failWaitingMembers,
  GroupContext,
  type GroupCoordinatorConfig,
  joinError,
} from './group/context.js';
import { GroupShard } from './group/group-shard.js';
import { type JoinGroupParams, Membership, type SyncGroupParams } from './group/membership.js';
import { type CommittedOffset, type OffsetCommitEntry, Offsets } from './group/offsets.js';
import { removeDeadGroup } from './group/persistence.js';
import {
  DEFAULT_STREAMS_GROUP_CONFIG,
  type StreamsGroupConfig,
  type StreamsGroupDescription,
  type StreamsGroupHeartbeatParams,
  type StreamsGroupHeartbeatResult,
  StreamsGroups,
} from './group/streams-groups.js';
import { type TxnOffsetCommitPartition, TxnOffsets } from './group/txn-offsets.js';
import {
  type ClassicGroup,
  GroupState,
  type JoinGroupResult,
  type SyncGroupResult,
} from './group-metadata.js';
import type { CoordinatorLog, TransactionalProducer } from './runtime/coordinator-log.js';
import { CoordinatorRuntime } from './runtime/coordinator-runtime.js';
import {
  DEFAULT_SHARE_GROUP_CONFIG,
  type ShareGroupConfig,
  type ShareGroupDescription,
  type ShareGroupHeartbeatParams,
  type ShareGroupHeartbeatResult,
  ShareGroups,
} from './share/share-groups.js';

export type { GroupSummary, ListedGroup } from './group/admin.js';
export type {
  ConsumerGroupConfig,
  ConsumerGroupHeartbeatParams,
  ConsumerGroupHeartbeatResult,
  TopicsView,
} from './group/consumer-groups.js';
export type { GroupCoordinatorConfig } from './group/context.js';
export {
  type JoinGroupParams,
  NEW_MEMBER_JOIN_TIMEOUT_MS,
  type SyncGroupParams,
} from './group/membership.js';
export type { CommittedOffset, OffsetCommitEntry } from './group/offsets.js';
export type {
  StreamsGroupConfig,
  StreamsGroupHeartbeatParams,
  StreamsGroupHeartbeatResult,
} from './group/streams-groups.js';
export type { TxnOffsetCommitPartition } from './group/txn-offsets.js';

export class GroupCoordinator {
  private readonly ctx: GroupContext;
  private readonly runtime: CoordinatorRuntime<GroupShard>;
  private readonly membership: Membership;
  private readonly offsets: Offsets;
  private readonly txnOffsets: TxnOffsets;
  private readonly admin: GroupAdmin;
  private readonly consumerGroups: ConsumerGroups;
  /** Classic members of KIP-848 consumer groups (JoinGroup, SyncGroup, Heartbeat, LeaveGroup routed there). */
  private readonly classicMembers: ConsumerGroupClassicMembers;
  /** KIP-932 share groups (coordinator/share). */
  readonly shareGroups: ShareGroups;
  /** KIP-1071 streams groups (group/streams-*.ts). */
  readonly streamsGroups: StreamsGroups;
  private retentionTask: ScheduledTask | null = null;
  private readonly scheduler: Scheduler;

  constructor(
    readonly config: GroupCoordinatorConfig,
    private readonly offsetsLog: CoordinatorLog,
    log: Logger,
    time: Time = systemTime,
    /** The broker's scheduler for the periodic offset expiry; its own on `time` when not given. */
    scheduler?: Scheduler,
    /** KIP-848 consumer groups: their group.consumer.* configs and the topics they subscribe to. */
    consumer: { config: ConsumerGroupConfig; topics: TopicsView } = {
      config: DEFAULT_CONSUMER_GROUP_CONFIG,
      topics: NO_TOPICS,
    },
    /** KIP-932 share groups: their group.share.* configs. */
    shareConfig: ShareGroupConfig = DEFAULT_SHARE_GROUP_CONFIG,
    /** KIP-1071 streams groups: their group.streams.* configs. */
    streamsConfig: StreamsGroupConfig = DEFAULT_STREAMS_GROUP_CONFIG,
  ) {
    this.scheduler = scheduler ?? new Scheduler(time, log);
    this.runtime = new CoordinatorRuntime<GroupShard>({
      name: 'GroupCoordinator',
      log: offsetsLog,
      time,
      logger: log,
      writeTimeoutMs: config.offsetsCommitTimeoutMs,
      newShard: (partition) =>
        new GroupShard(partition, this.ctx, {
          onLoaded: (groups, consumerGroups) => {
            this.membership.onGroupsLoaded(groups);
            this.consumerGroups.onLoaded(consumerGroups);
          },
          onUnloaded: (groups, consumerGroups) => {
            for (const g of groups) {
              clearGroupTimers(g);
              failWaitingMembers(g, 'NOT_COORDINATOR');
            }
            this.consumerGroups.onUnloaded(consumerGroups);
          },
          onShareGroupsLoaded: (groups) => this.shareGroups.onLoaded(groups),
          onShareGroupsUnloaded: (groups) => this.shareGroups.onUnloaded(groups),
          onStreamsGroupsLoaded: (groups) => this.streamsGroups.onLoaded(groups),
          onStreamsGroupsUnloaded: (groups) => this.streamsGroups.onUnloaded(groups),
        }),
    });
    this.ctx = new GroupContext(config, time, log, this.runtime);
    this.membership = new Membership(this.ctx);
    this.offsets = new Offsets(this.ctx, (group, member) =>
      this.membership.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs),
    );
    this.txnOffsets = new TxnOffsets(this.ctx);
    this.consumerGroups = new ConsumerGroups(this.ctx, consumer.config, consumer.topics, (group, rebalance) =>
      this.membership.adoptDowngradedGroup(group, rebalance),
    );
    this.classicMembers = new ConsumerGroupClassicMembers(this.ctx, this.consumerGroups);
    this.admin = new GroupAdmin(this.ctx, this.consumerGroups, consumer.topics);
    this.shareGroups = new ShareGroups(this.ctx, this.ctx.shareGroups, shareConfig, consumer.topics);
    this.streamsGroups = new StreamsGroups(this.ctx, streamsConfig, consumer.topics);
    this.admin.streamsState = (g) => this.streamsGroups.stateOf(g);
  }

  /** A share group was deleted (DeleteGroups): `listener` drops its share-partition state. */
  onShareGroupDeleted(
    listener: (groupId: string, partitions: { topicId: string; partition: number }[]) => void,
  ): void {
    this.admin.onShareGroupDeleted = listener;
  }

  partitionFor(groupId: string): number {
    return this.ctx.partitionFor(groupId);
  }

  /** FindCoordinator for a group: make sure `__consumer_offsets` exists, as Kafka does. */
  ensureOffsetsTopic(): void {
    this.offsetsLog.ensureCreated();
  }

  get isActive(): boolean {
    return this.ctx.active;
  }

  // ---- lifecycle ----

  /** Loads every `__consumer_offsets` partition (replay), then starts the offset expiry timer. */
  startup(): void {
    for (let p = 0; p < this.offsetsLog.numPartitions; p++) this.runtime.load(p);
    this.ctx.active = true;
    this.retentionTask = this.scheduler.schedule(
      'offsets.retention.check.interval.ms',
      this.config.offsetsRetentionCheckIntervalMs,
      () => this.cleanupGroupMetadata(),
    );
  }

  /** Stops timers and answers every waiting JoinGroup/SyncGroup with NOT_COORDINATOR. */
  shutdown(): void {
    this.ctx.active = false;
    this.retentionTask?.cancel();
    this.retentionTask = null;
    this.runtime.close();
  }

  /** Unloads one `__consumer_offsets` partition (its leadership moved): its groups leave memory. */
  unloadPartition(partition: number): void {
    this.runtime.unload(partition);
  }

  /** Whether this broker coordinates the groups of `partition` now (it is loaded). */
  isPartitionLoaded(partition: number): boolean {
    return this.runtime.isLoaded(partition);
  }

  /** Loads one `__consumer_offsets` partition (became its leader): its groups are rebuilt by replay. */
  loadPartition(partition: number): void {
    this.runtime.load(partition);
  }

  /**
   * Drops every group and its offsets (tombstones written), answering waiting requests with
   * NOT_COORDINATOR: the broker's `reset()` for test isolation.
   */
  reset(): void {
    this.consumerGroups.reset();
    this.shareGroups.reset();
    this.streamsGroups.reset();
    for (const group of [...this.ctx.groups.values()]) {
      clearGroupTimers(group);
      failWaitingMembers(group, 'NOT_COORDINATOR');
      const removed = group.allOffsets().map(({ topic, partition }) => ({ topic, partition }));
      group.state = GroupState.Dead;
      removeDeadGroup(this.ctx, group, removed);
    }
  }

  // ---- membership ----

  joinGroup(p: JoinGroupParams): Promise<JoinGroupResult> {
    if (this.classicMembers.serves(p.groupId, true)) {
      const invalid = this.membership.validateJoin(p);
      if (invalid !== 'NONE') return Promise.resolve(joinError(p.memberId, invalid));
      return this.classicMembers.join(p);
    }
    return this.membership.joinGroup(p);
  }

  syncGroup(p: SyncGroupParams): Promise<SyncGroupResult> {
    if (this.classicMembers.serves(p.groupId, false)) return this.classicMembers.sync(p);
    return this.membership.syncGroup(p);
  }

  heartbeat(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): ErrorName {
    if (this.classicMembers.serves(groupId, false))
      return this.classicMembers.heartbeat(groupId, memberId, groupInstanceId, generationId);
    return this.membership.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  /** A classic group's members leave at once; a consumer group's once their tombstones are committed. */
  leaveGroup(
    groupId: string,
    leaving: readonly { memberId: string; groupInstanceId: string | null }[],
  ): LeaveGroupResult | Promise<LeaveGroupResult> {
    if (this.classicMembers.serves(groupId, false)) return this.classicMembers.leave(groupId, leaving);
    return this.membership.leaveGroup(groupId, leaving);
  }

  // ---- KIP-848 consumer groups ----

  consumerGroupHeartbeat(p: ConsumerGroupHeartbeatParams): Promise<ConsumerGroupHeartbeatResult> {
    return this.consumerGroups.heartbeat(p);
  }

  consumerGroupDescribe(
    groupId: string,
    includeAuthorizedOperations: boolean,
    authorizedOperations: number,
  ): ReturnType<ConsumerGroups['describe']> {
    return this.consumerGroups.describe(groupId, includeAuthorizedOperations, authorizedOperations);
  }

  shareGroupHeartbeat(p: ShareGroupHeartbeatParams): Promise<ShareGroupHeartbeatResult> {
    return this.shareGroups.heartbeat(p);
  }

  shareGroupDescribe(
    groupId: string,
    includeAuthorizedOperations: boolean,
    authorizedOperations: number,
  ): ShareGroupDescription {
    return this.shareGroups.describe(groupId, includeAuthorizedOperations, authorizedOperations);
  }

  streamsGroupHeartbeat(p: StreamsGroupHeartbeatParams): Promise<StreamsGroupHeartbeatResult> {
    return this.streamsGroups.heartbeat(p);
  }

  streamsGroupDescribe(
    groupId: string,
    includeAuthorizedOperations: boolean,
    authorizedOperations: number,
  ): StreamsGroupDescription {
    return this.streamsGroups.describe(groupId, includeAuthorizedOperations, authorizedOperations);
  }

  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.ctx.consumerGroups.get(groupId);
  }

  // ---- offsets ----

  commitOffsets(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    offsets: readonly OffsetCommitEntry[],
    apiVersion: number,
  ): Promise<ErrorName[]> {
    return this.offsets.commitOffsets(groupId, memberId, groupInstanceId, generationId, offsets, apiVersion);
  }

  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    /** OffsetFetch v9+: the KIP-848 member asking, checked against a consumer group. */
    member?: { memberId: string | null; memberEpoch: number },
  ): { error: ErrorName; topics: { name: string; partitions: CommittedOffset[] }[] } {
    return this.offsets.fetchOffsets(groupId, topics, member);
  }

  deleteOffsets(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<{ error: ErrorName; partitionErrors: ErrorName[] }> {
    return this.offsets.deleteOffsets(groupId, partitions);
  }

  /**
   * A topic was deleted: its committed offsets go (tombstones written), and so do the offsets
   * open transactions staged for it, so that their COMMIT does not bring them back.
   */
  onPartitionsDeleted(partitions: readonly { topic: string; partition: number }[]): number {
    return this.offsets.onPartitionsDeleted(partitions, this.txnOffsets.removePartitions(partitions));
  }

  /** Offset retention (`offsets.retention.minutes`), run every `offsets.retention.check.interval.ms`. */
  cleanupGroupMetadata(): number {
    return this.offsets.cleanupGroupMetadata();
  }

  // ---- transactional offsets ----

  /** TxnOffsetCommit, once the transaction coordinator has checked the transaction. */
  commitTxnOffsets(
    groupId: string,
    producer: TransactionalProducer,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    offsets: readonly TxnOffsetCommitPartition[],
  ): Promise<ErrorName[]> {
    return this.txnOffsets.commit(groupId, producer, memberId, groupInstanceId, generationId, offsets);
  }

  /** Writes `producer`'s transaction marker to `__consumer_offsets-<partition>` and replays it. */
  completeTransaction(
    partition: number,
    producer: TransactionalProducer,
    result: 'COMMIT' | 'ABORT',
    coordinatorEpoch: number,
  ): Promise<void> {
    return this.txnOffsets.completeTransaction(partition, producer, result, coordinatorEpoch);
  }

  /** Whether an open transaction staged an offset for this group partition (KIP-447 requireStable). */
  hasPendingTxnOffsets(groupId: string, topic: string, partition: number): boolean {
    return this.txnOffsets.hasPending(groupId, topic, partition);
  }

  /** Forgets what open transactions staged (the broker's reset, after they were aborted). */
  clearPendingTxnOffsets(): void {
    this.txnOffsets.clear();
  }

  // ---- admin ----

  describeGroup(groupId: string): GroupSummary {
    return this.admin.describeGroup(groupId);
  }

  listGroups(): ListedGroup[] {
    return this.admin.listGroups();
  }

  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; error: ErrorName }[]> {
    return this.admin.deleteGroups(groupIds);
  }

  // ---- introspection (tests, lag) ----

  group(groupId: string): ClassicGroup | undefined {
    return this.ctx.groups.get(groupId);
  }

  groupIds(): string[] {
    return [...this.ctx.groups.keys()];
  }
}
