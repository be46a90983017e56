/**
 * The admin side of groups: DescribeGroups, ListGroups and DeleteGroups, for classic groups and
 * KIP-848 consumer groups (described as Kafka's ConsumerGroup.asDescribedGroup: protocol type
 * `consumer`, each member's subscription and assignment in the consumer protocol's layouts).
 */
import type { ErrorName } from '../../protocol/generated/errors.js';
import { CONSUMER_PROTOCOL_TYPE, GroupState } from '../group-metadata.js';
import { coordinatorErrorOf } from '../runtime/coordinator-runtime.js';
import { shareGroupDeletion } from '../share/share-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { ConsumerGroups, TopicsView } from './consumer-groups.js';
import { byTopicName, encodeAssignment, encodeSubscription } from './consumer-protocol.js';
import { EMPTY, type GroupContext } from './context.js';
import { tombstoneRecords } from './persistence.js';
import { type StreamsGroup, streamsGroupTombstones } from './streams-group.js';

export interface GroupSummary {
  error: ErrorName;
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

export class GroupAdmin {
  constructor(
    private readonly ctx: GroupContext,
    private readonly consumerGroups: ConsumerGroups,
    private readonly topics: TopicsView,
  ) {}

  /** A streams group's state as ListGroups names it (set by the coordinator: it needs the topics). */
  streamsState: ((group: StreamsGroup) => string) | null = null;

  /** A share group was deleted: its share-partition state goes too (set by the coordinator). */
  onShareGroupDeleted: (groupId: string, partitions: { topicId: string; partition: number }[]) => void =
    () => {};

  /** A consumer group as DescribeGroups shows it. */
  private describeConsumerGroup(group: ConsumerGroup): GroupSummary {
    const topicName = (id: string) => this.topics.topicName(id);
    return {
      error: 'NONE',
      groupId: group.groupId,
      groupState: group.state,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolData: '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: encodeSubscription(0, { topics: [...m.subscribedTopicNames].sort(), userData: null }),
        memberAssignment: encodeAssignment(0, {
          assignedPartitions: byTopicName(m.assignedPartitions, topicName),
          userData: null,
        }),
      })),
    };
  }

  describeGroup(groupId: string): GroupSummary {
    const status = this.ctx.validateGroupStatus(groupId, false);
    const dead: GroupSummary = {
      error: status,
      groupId,
      groupState: GroupState.Dead,
      protocolType: '',
      protocolData: '',
      members: [],
    };
    if (status !== 'NONE') return dead;
    // A share group is not a classic group: Kafka answers GROUP_ID_NOT_FOUND.
    if (this.ctx.shareGroups.has(groupId) || this.ctx.streamsGroups.has(groupId))
      return { ...dead, error: 'GROUP_ID_NOT_FOUND' };
    const consumerGroup = this.ctx.consumerGroups.get(groupId);
    if (consumerGroup) return this.describeConsumerGroup(consumerGroup);
    const group = this.ctx.groups.get(groupId);
    if (!group) return dead;
    const stable = group.is(GroupState.Stable);
    const protocol = stable ? group.protocolName : null;
    return {
      error: 'NONE',
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
    for (const g of this.ctx.consumerGroups.values()) {
      out.push({
        groupId: g.groupId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        groupState: g.state,
        groupType: 'consumer',
      });
    }
    for (const g of this.ctx.shareGroups.values()) {
      if (!this.ctx.runtime.isLoaded(this.ctx.partitionFor(g.groupId))) continue;
      out.push({ groupId: g.groupId, protocolType: 'share', groupState: g.state, groupType: 'share' });
    }
    for (const g of this.ctx.streamsGroups.values()) {
      if (!this.ctx.runtime.isLoaded(this.ctx.partitionFor(g.groupId))) continue;
      out.push({
        groupId: g.groupId,
        protocolType: 'streams',
        groupState: this.streamsState?.(g) ?? g.state(true),
        groupType: 'streams',
      });
    }
    for (const g of this.ctx.groups.values()) {
      if (
        g.is(GroupState.Dead) ||
        this.ctx.consumerGroups.has(g.groupId) ||
        this.ctx.shareGroups.has(g.groupId) ||
        this.ctx.streamsGroups.has(g.groupId)
      )
        continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.protocolType ?? '',
        groupState: g.state,
        groupType: 'classic',
      });
    }
    return out;
  }

  /**
   * Deletes empty groups with their offsets (NON_EMPTY_GROUP while members remain): tombstones
   * written and replayed, each group answered once they are committed.
   */
  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; error: ErrorName }[]> {
    return Promise.all(groupIds.map((groupId) => this.deleteGroup(groupId)));
  }

  private deleteGroup(groupId: string): Promise<{ groupId: string; error: ErrorName }> {
    const answer = (error: ErrorName) => ({ groupId, error });
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return Promise.resolve(answer(status));
    const failed = (err: unknown) => answer(coordinatorErrorOf(err));
    return this.ctx.runtime
      .scheduleWriteOperation(this.ctx.partitionFor(groupId), () => {
        const shareGroup = this.ctx.shareGroups.get(groupId);
        if (shareGroup) {
          if (shareGroup.members.size > 0) return { records: [], response: answer('NON_EMPTY_GROUP') };
          this.ctx.log.info(`share group ${groupId} deleted`);
          this.onShareGroupDeleted(
            groupId,
            [...shareGroup.initialized].flatMap(([topicId, t]) =>
              [...t.partitions].map((partition) => ({ topicId, partition })),
            ),
          );
          return { records: shareGroupDeletion(shareGroup), response: answer('NONE'), onAppendError: failed };
        }
        const streamsGroup = this.ctx.streamsGroups.get(groupId);
        if (streamsGroup) {
          if (streamsGroup.members.size > 0) return { records: [], response: answer('NON_EMPTY_GROUP') };
          const offsets = this.ctx.groups.get(groupId)?.allOffsets() ?? [];
          const removed = offsets.map(({ topic, partition }) => ({ topic, partition }));
          this.ctx.log.info(`streams group ${groupId} deleted with ${removed.length} offset(s)`);
          return {
            records: [...streamsGroupTombstones(groupId), ...tombstoneRecords(groupId, removed, false)],
            response: answer('NONE'),
            onAppendError: failed,
          };
        }
        const consumerGroup = this.ctx.consumerGroups.get(groupId);
        if (consumerGroup) {
          if (consumerGroup.members.size > 0) return { records: [], response: answer('NON_EMPTY_GROUP') };
          const offsets = this.ctx.groups.get(groupId)?.allOffsets() ?? [];
          const removed = offsets.map(({ topic, partition }) => ({ topic, partition }));
          this.ctx.log.info(`consumer group ${groupId} deleted with ${removed.length} offset(s)`);
          return {
            records: [
              ...this.consumerGroups.tombstones(consumerGroup),
              ...tombstoneRecords(groupId, removed, false),
            ],
            response: answer('NONE'),
            onAppendError: failed,
          };
        }
        const group = this.ctx.groups.get(groupId);
        if (!group || group.is(GroupState.Dead))
          return { records: [], response: answer('GROUP_ID_NOT_FOUND') };
        if (!group.is(GroupState.Empty)) return { records: [], response: answer('NON_EMPTY_GROUP') };
        const removed = group.allOffsets().map(({ topic, partition }) => ({ topic, partition }));
        this.ctx.log.info(`group ${groupId} deleted with ${removed.length} offset(s)`);
        return {
          records: tombstoneRecords(groupId, removed, true),
          response: answer('NONE'),
          onAppendError: failed,
        };
      })
      .catch(failed);
  }
}
