/**
 * The runtime's shard of one `__consumer_offsets` partition: the one replay function that turns
 * its records into groups, committed offsets and the offsets open transactions staged — when the
 * partition is loaded and after each write that asks for replay (offset commits, TxnOffsetCommit,
 * transaction markers). Record layouts are in offsets-topic.ts.
 *
 * - OffsetCommit record: the group's committed offset (a tombstone removes it and cancels what
 *   open transactions staged for it); in a transactional batch, staged for its producer instead.
 * - GroupMetadata record: the group as last stored (Kafka's `GroupMetadata.loadGroup`: members
 *   present → Stable, otherwise Empty), keeping its offsets; a tombstone leaves only the offsets.
 * - A marker: COMMIT makes the producer's staged offsets committed, ABORT drops them.
 */
import type { GroupMetadataValueData } from '../../protocol/generated/messages.js';
import { ClassicGroup, GroupState, MemberMetadata } from '../group-metadata.js';
import {
  type DecodedOffsetCommit,
  decodeCoordinatorKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
} from '../offsets-topic.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import type { ReplayContext } from '../runtime/coordinator-runtime.js';
import { isShareGroupRecord, replayShareGroupRecord, type ShareGroup } from '../share/share-group.js';
import { type ConsumerGroup, consumerGroupRecordType, replayConsumerGroupRecord } from './consumer-group.js';
import { clearGroupTimers, type GroupContext, type GroupShardView } from './context.js';
import { isStreamsGroupRecord, replayStreamsGroupRecord, type StreamsGroup } from './streams-group.js';
import { PendingTxnOffsets } from './txn-offsets.js';

export interface GroupShardHooks {
  /** The partition's groups are loaded (membership starts their members' session timers). */
  onLoaded(groups: ClassicGroup[], consumerGroups: ConsumerGroup[]): void;
  /** The partition is unloaded: its groups are about to be dropped. */
  onUnloaded(groups: ClassicGroup[], consumerGroups: ConsumerGroup[]): void;
  /** Share groups of the partition loaded / about to be dropped. */
  onShareGroupsLoaded?(groups: ShareGroup[]): void;
  onShareGroupsUnloaded?(groups: ShareGroup[]): void;
  /** Streams groups of the partition loaded / about to be dropped. */
  onStreamsGroupsLoaded?(groups: StreamsGroup[]): void;
  onStreamsGroupsUnloaded?(groups: StreamsGroup[]): void;
}

export class GroupShard implements GroupShardView {
  readonly pendingTxnOffsets = new PendingTxnOffsets();
  /** Groups with a GroupMetadata record seen while loading. */
  private readonly stored = new Set<string>();

  constructor(
    readonly partition: number,
    private readonly ctx: GroupContext,
    private readonly hooks: GroupShardHooks,
  ) {}

  /** The groups that live in this partition. */
  groups(): ClassicGroup[] {
    return [...this.ctx.groups.values()].filter((g) => this.ctx.partitionFor(g.groupId) === this.partition);
  }

  /** The KIP-848 consumer groups that live in this partition. */
  consumerGroups(): ConsumerGroup[] {
    return [...this.ctx.consumerGroups.values()].filter(
      (g) => this.ctx.partitionFor(g.groupId) === this.partition,
    );
  }

  /** The share groups that live in this partition. */
  shareGroups(): ShareGroup[] {
    return [...this.ctx.shareGroups.values()].filter(
      (g) => this.ctx.partitionFor(g.groupId) === this.partition,
    );
  }

  /** The streams groups that live in this partition. */
  streamsGroups(): StreamsGroup[] {
    return [...this.ctx.streamsGroups.values()].filter(
      (g) => this.ctx.partitionFor(g.groupId) === this.partition,
    );
  }

  replay(record: CoordinatorRecord, rc: ReplayContext): void {
    if (record.decoded === undefined && isStreamsGroupRecord(record.key)) {
      replayStreamsGroupRecord(this.ctx.streamsGroups, record);
      return;
    }
    if (record.decoded === undefined && consumerGroupRecordType(record.key) !== undefined) {
      replayConsumerGroupRecord(this.ctx.consumerGroups, record);
      return;
    }
    if (record.decoded === undefined && isShareGroupRecord(record.key)) {
      replayShareGroupRecord(this.ctx.shareGroups, record);
      return;
    }
    // A commit just written carries its decoded form (offsetCommitRecord): no decoding it back.
    const known = record.decoded as DecodedOffsetCommit | undefined;
    const key = known?.key ?? decodeCoordinatorKey(record.key);
    if (key.type === 'offset') {
      if (rc.isTransactional) {
        if (record.value === null) return;
        this.pendingTxnOffsets.stage(rc.producerId, key.group, {
          topic: key.topic,
          partition: key.partition,
          value: known?.value ?? decodeOffsetCommitValue(record.value),
        });
      } else if (record.value === null) {
        this.ctx.groups.get(key.group)?.removeOffset(key.topic, key.partition);
        this.pendingTxnOffsets.drop(key.group, key.topic, key.partition);
      } else {
        const value = known?.value ?? decodeOffsetCommitValue(record.value);
        this.ctx.getOrCreateGroup(key.group).putOffset(key.topic, key.partition, value);
      }
    } else if (key.type === 'group') {
      const old = this.ctx.groups.get(key.group);
      const group = new ClassicGroup(key.group, this.ctx.time.now());
      if (record.value !== null) {
        loadGroupMetadata(group, decodeGroupMetadataValue(record.value));
        this.stored.add(key.group);
      } else this.stored.delete(key.group);
      for (const o of old?.allOffsets() ?? []) group.putOffset(o.topic, o.partition, o.offset);
      if (old) {
        // The group as it was is replaced (or gone): nothing of it may run on.
        clearGroupTimers(old);
        old.transitionTo(GroupState.Dead, this.ctx.time.now());
      }
      if (record.value === null && !group.hasOffsets) this.ctx.groups.delete(key.group);
      else this.ctx.groups.set(key.group, group);
    }
  }

  replayEndTransactionMarker(producerId: number, result: 'COMMIT' | 'ABORT'): void {
    const staged = this.pendingTxnOffsets.end(producerId);
    if (result !== 'COMMIT') return;
    for (const [groupId, offsets] of staged) {
      const group = this.ctx.getOrCreateGroup(groupId);
      for (const o of offsets) group.putOffset(o.topic, o.partition, o.value);
    }
  }

  onLoaded(): void {
    // As the loader always did: a group is only what it stored or the offsets it still has.
    for (const g of this.groups())
      if (!this.stored.has(g.groupId) && !g.hasOffsets && g.size === 0) this.ctx.groups.delete(g.groupId);
    this.stored.clear();
    this.hooks.onLoaded(this.groups(), this.consumerGroups());
    this.hooks.onShareGroupsLoaded?.(this.shareGroups());
    this.hooks.onStreamsGroupsLoaded?.(this.streamsGroups());
  }

  onUnloaded(): void {
    const groups = this.groups();
    const consumerGroups = this.consumerGroups();
    this.hooks.onUnloaded(groups, consumerGroups);
    const shareGroups = this.shareGroups();
    this.hooks.onShareGroupsUnloaded?.(shareGroups);
    for (const g of shareGroups) this.ctx.shareGroups.delete(g.groupId);
    const streamsGroups = this.streamsGroups();
    this.hooks.onStreamsGroupsUnloaded?.(streamsGroups);
    for (const g of streamsGroups) this.ctx.streamsGroups.delete(g.groupId);
    for (const g of groups) if (this.ctx.groups.get(g.groupId) === g) this.ctx.groups.delete(g.groupId);
    for (const g of consumerGroups) this.ctx.consumerGroups.delete(g.groupId);
    this.pendingTxnOffsets.clear();
  }
}

/** Kafka's `GroupMetadata.loadGroup`: members present → Stable, otherwise Empty. */
export function loadGroupMetadata(group: ClassicGroup, v: GroupMetadataValueData): void {
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
      mv.rebalanceTimeout !== undefined && mv.rebalanceTimeout >= 0 ? mv.rebalanceTimeout : mv.sessionTimeout,
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
