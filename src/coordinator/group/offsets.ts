/**
 * Committed offsets (Kafka's OffsetMetadataManager, classic groups): OffsetCommit on the
 * coordinator runtime (records replayed into the group, answered once committed), OffsetFetch,
 * OffsetDelete, offset retention, and the offsets of deleted topics.
 */
import type { ErrorName } from '../../protocol/generated/errors.js';
import { type ClassicGroup, GroupState, type MemberMetadata, UNKNOWN_MEMBER_ID } from '../group-metadata.js';
import { type OffsetAndMetadata, offsetCommitRecord } from '../offsets-topic.js';
import { type CoordinatorRecord, RecordTooLargeError } from '../runtime/coordinator-log.js';
import { coordinatorErrorOf, offsetCommitErrorOf } from '../runtime/coordinator-runtime.js';
import { validateConsumerGroupCommit } from './consumer-group.js';
import type { GroupContext } from './context.js';
import { tombstoneRecords } from './persistence.js';
import { streamsSourceTopics, validateStreamsGroupCommit } from './streams-group.js';

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
  error: ErrorName;
}

export class Offsets {
  constructor(
    private readonly ctx: GroupContext,
    /** A member committed: its session is alive (membership restarts its heartbeat timer). */
    private readonly onMemberActivity: (group: ClassicGroup, member: MemberMetadata) => void,
  ) {}

  /**
   * Commits `offsets` (topics already checked by the handler). Resolves with one error name per
   * entry once the commit is in `__consumer_offsets` (high watermark past it). `apiVersion` picks
   * the error for a member commit to a group that does not exist: GROUP_ID_NOT_FOUND from v9,
   * ILLEGAL_GENERATION before (as Kafka 4).
   */
  commitOffsets(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    offsets: readonly OffsetCommitEntry[],
    apiVersion: number,
  ): Promise<ErrorName[]> {
    const all = (error: ErrorName) => offsets.map(() => error);
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return Promise.resolve(all(status));
    return this.ctx.runtime
      .scheduleWriteOperation<ErrorName[]>(this.ctx.partitionFor(groupId), () => {
        const response = (errors: ErrorName[]) => ({ records: [], response: errors });
        const streamsGroup = this.ctx.streamsGroups.get(groupId);
        if (streamsGroup) {
          const error = validateStreamsGroupCommit(streamsGroup, memberId, generationId, false);
          if (error !== 'NONE') return response(all(error));
          return this.offsetRecords(this.ctx.getOrCreateGroup(groupId), offsets);
        }
        const consumerGroup = this.ctx.consumerGroups.get(groupId);
        if (consumerGroup) {
          const error = validateConsumerGroupCommit(
            consumerGroup,
            memberId,
            groupInstanceId,
            generationId,
            false,
            apiVersion,
          );
          if (error !== 'NONE') return response(all(error));
          return this.offsetRecords(this.ctx.getOrCreateGroup(groupId), offsets);
        }
        let group = this.ctx.groups.get(groupId);
        if (!group) {
          if (generationId >= 0 || memberId !== UNKNOWN_MEMBER_ID || groupInstanceId !== null) {
            return response(all(apiVersion >= 9 ? 'GROUP_ID_NOT_FOUND' : 'ILLEGAL_GENERATION'));
          }
          // Not using group management (admin, standalone consumer): a simple group.
          group = this.ctx.getOrCreateGroup(groupId);
        }
        const error = this.validateOffsetCommit(group, generationId, memberId, groupInstanceId);
        if (error !== 'NONE') return response(all(error));
        switch (group.state) {
          case GroupState.Empty:
            return this.offsetRecords(group, offsets);
          case GroupState.Stable:
          case GroupState.PreparingRebalance:
            // Commits go on during PreparingRebalance: the heartbeat tells the member to rejoin.
            this.onMemberActivity(group, group.get(memberId));
            return this.offsetRecords(group, offsets);
          case GroupState.CompletingRebalance:
            return response(all('REBALANCE_IN_PROGRESS'));
          default:
            return response(all('COORDINATOR_NOT_AVAILABLE'));
        }
      })
      .catch((err: unknown) => all(coordinatorErrorOf(err)));
  }

  private validateOffsetCommit(
    group: ClassicGroup,
    generationId: number,
    memberId: string,
    groupInstanceId: string | null,
  ): ErrorName {
    if (group.is(GroupState.Dead)) return 'COORDINATOR_NOT_AVAILABLE';
    if (generationId >= 0 || memberId !== UNKNOWN_MEMBER_ID || groupInstanceId !== null) {
      const error = this.ctx.validateCurrentMember(group, memberId, groupInstanceId);
      if (error !== 'NONE') return error;
      if (generationId !== group.generationId) return 'ILLEGAL_GENERATION';
      return 'NONE';
    }
    // Without member id and generation only an empty group may be committed to.
    if (!group.is(GroupState.Empty)) return 'UNKNOWN_MEMBER_ID';
    return 'NONE';
  }

  /** The records of a commit: the runtime writes them, then replays them into the group. */
  private offsetRecords(group: ClassicGroup, offsets: readonly OffsetCommitEntry[]) {
    const now = this.ctx.time.now();
    const errors = offsets.map((): ErrorName => 'NONE');
    const records: CoordinatorRecord[] = [];
    const accepted: number[] = [];
    offsets.forEach((o, index) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata) > this.ctx.config.offsetMetadataMaxBytes) {
        errors[index] = 'OFFSET_METADATA_TOO_LARGE';
        return;
      }
      const value: OffsetAndMetadata = {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: now,
        expireTimestamp: o.expireTimestamp,
      };
      records.push(offsetCommitRecord(group.groupId, o.topic, o.partition, value));
      accepted.push(index);
    });
    return {
      records,
      response: errors,
      onAppendError: (err: unknown) => {
        const error = offsetCommitErrorOf(err);
        if (!(err instanceof RecordTooLargeError))
          this.ctx.log.error(`storing offsets of group ${group.groupId} failed`, err);
        const failed = [...errors];
        for (const i of accepted) failed[i] = error;
        return failed;
      },
    };
  }

  /**
   * Committed offsets of a group: the requested partitions (-1 when none), or every committed
   * offset when `topics` is null. A group that does not exist has no offsets (no error).
   */
  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    /** OffsetFetch v9+: the KIP-848 member asking (Kafka's ConsumerGroup.validateOffsetFetch). */
    member?: { memberId: string | null; memberEpoch: number },
  ): { error: ErrorName; topics: { name: string; partitions: CommittedOffset[] }[] } {
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return { error: status, topics: [] };
    const streamsGroup = this.ctx.streamsGroups.get(groupId);
    if (streamsGroup && member && (member.memberId !== null || member.memberEpoch >= 0)) {
      const error = validateStreamsGroupCommit(
        streamsGroup,
        member.memberId ?? '',
        member.memberEpoch,
        false,
      );
      if (error !== 'NONE') return { error, topics: [] };
    }
    const consumerGroup = this.ctx.consumerGroups.get(groupId);
    if (consumerGroup && member && (member.memberId !== null || member.memberEpoch >= 0)) {
      // An admin fetch names no member (epoch -1); a member must be known, at its current epoch.
      const m = consumerGroup.members.get(member.memberId ?? '');
      if (!m) return { error: 'UNKNOWN_MEMBER_ID', topics: [] };
      if (m.memberEpoch !== member.memberEpoch) return { error: 'STALE_MEMBER_EPOCH', topics: [] };
    }
    const group = this.ctx.groups.get(groupId);
    const toResult = (p: number, o: OffsetAndMetadata | undefined): CommittedOffset => ({
      partitionIndex: p,
      committedOffset: o ? o.offset : -1,
      committedLeaderEpoch: o ? o.leaderEpoch : -1,
      metadata: o ? o.metadata : '',
      error: 'NONE',
    });
    if (topics === null) {
      if (!group) return { error: 'NONE', topics: [] };
      return {
        error: 'NONE',
        topics: [...group.offsets].map(([name, byPartition]) => ({
          name,
          partitions: [...byPartition].map(([p, o]) => toResult(p, o)),
        })),
      };
    }
    return {
      error: 'NONE',
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => toResult(p, group?.offset(t.name, p))),
      })),
    };
  }

  /**
   * OffsetDelete: an empty group loses the offsets; a consumer group with members only those of
   * topics it does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise); any other group with
   * members answers NON_EMPTY_GROUP. Partitions come already checked for unknown topics. The
   * tombstones (and the group's, when an empty group is left without offsets) are written and
   * replayed; the answer goes out once they are committed.
   */
  deleteOffsets(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<{ error: ErrorName; partitionErrors: ErrorName[] }> {
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== 'NONE') return Promise.resolve({ error: status, partitionErrors: [] });
    const failed = (err: unknown) => ({
      error: coordinatorErrorOf(err),
      partitionErrors: [],
    });
    return this.ctx.runtime
      .scheduleWriteOperation<{ error: ErrorName; partitionErrors: ErrorName[] }>(
        this.ctx.partitionFor(groupId),
        () => {
          const fail = (error: ErrorName) => ({ records: [], response: { error, partitionErrors: [] } });
          const group = this.ctx.groups.get(groupId);
          if (!group || group.is(GroupState.Dead)) return fail('GROUP_ID_NOT_FOUND');
          let eligible: boolean[];
          const consumerGroup = this.ctx.consumerGroups.get(groupId);
          const streamsGroup = this.ctx.streamsGroups.get(groupId);
          if (streamsGroup && streamsGroup.members.size > 0) {
            // A streams group keeps the offsets of its topology's source topics (repartition ones included).
            const subscribed = streamsSourceTopics(streamsGroup);
            eligible = partitions.map((p) => !subscribed.has(p.topic));
          } else if (consumerGroup && consumerGroup.members.size > 0) {
            // A KIP-848 group keeps the offsets of the topics its members subscribe to.
            const subscribed = new Set<string>();
            for (const m of consumerGroup.members.values()) {
              for (const t of m.subscribedTopicNames) subscribed.add(t);
              if (m.subscribedTopicRegex) {
                for (const t of consumerGroup.resolvedRegexes.get(m.subscribedTopicRegex) ?? [])
                  subscribed.add(t);
              }
            }
            eligible = partitions.map((p) => !subscribed.has(p.topic));
          } else if (group.is(GroupState.Empty)) {
            eligible = partitions.map(() => true);
          } else if (group.protocolType === 'consumer') {
            eligible = partitions.map((p) => !group.isSubscribedToTopic(p.topic));
          } else {
            return fail('NON_EMPTY_GROUP');
          }
          const removed = new Map<string, { topic: string; partition: number }>();
          partitions.forEach((p, i) => {
            if (eligible[i] && group.offset(p.topic, p.partition) !== undefined)
              removed.set(`${p.topic}\u0000${p.partition}`, { topic: p.topic, partition: p.partition });
          });
          const groupGone = group.is(GroupState.Empty) && group.allOffsets().length === removed.size;
          return {
            records: tombstoneRecords(groupId, [...removed.values()], groupGone),
            response: {
              error: 'NONE',
              partitionErrors: eligible.map((ok) => (ok ? 'NONE' : 'GROUP_SUBSCRIBED_TO_TOPIC')),
            },
            onAppendError: failed,
          };
        },
      )
      .catch(failed);
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
    pending: readonly { groupId: string; topic: string; partition: number }[],
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
    for (const group of this.ctx.groups.values()) {
      for (const [topic, ps] of deleted) {
        const committed = group.offsets.get(topic);
        if (!committed) continue;
        for (const partition of committed.keys()) {
          if (!ps.has(partition)) continue;
          note(group.groupId, topic, partition);
          count++;
        }
      }
    }
    for (const p of pending) note(p.groupId, p.topic, p.partition);
    for (const [groupId, removed] of removedByGroup)
      this.removeOffsets(groupId, [...removed.values()], 'deleted topic');
    if (count > 0 || pending.length > 0) {
      const topics = [...deleted.keys()].join(', ');
      this.ctx.log.info(
        `removed ${count} committed and ${pending.length} pending transactional offset(s) of deleted topic(s) ${topics}`,
      );
    }
    return count;
  }

  /** Offset retention (`offsets.retention.minutes`), run every `offsets.retention.check.interval.ms`. */
  cleanupGroupMetadata(): number {
    const now = this.ctx.time.now();
    let total = 0;
    for (const group of [...this.ctx.groups.values()]) {
      // A consumer group's offsets stay while it has members (Kafka expires them once it is empty).
      if ((this.ctx.consumerGroups.get(group.groupId)?.members.size ?? 0) > 0) continue;
      if ((this.ctx.streamsGroups.get(group.groupId)?.members.size ?? 0) > 0) continue;
      const expired = group.expiredOffsets(now, this.ctx.config.offsetsRetentionMs);
      total += expired.length;
      this.removeOffsets(group.groupId, expired, 'expired offsets');
    }
    if (total > 0) this.ctx.log.info(`removed ${total} expired offset(s)`);
    return total;
  }

  /**
   * Writes tombstones for `removed` offsets of `groupId` — and for the group, when an empty group
   * is left without offsets (Kafka's cleanupGroupMetadata) — and replays them: the offsets (and
   * what open transactions staged for them) go once the append succeeded, and stay if it fails.
   */
  private removeOffsets(
    groupId: string,
    removed: readonly { topic: string; partition: number }[],
    why: string,
  ): void {
    const group = this.ctx.groups.get(groupId);
    const gone = new Set(removed.map((r) => `${r.topic}\u0000${r.partition}`));
    const groupGone =
      group?.is(GroupState.Empty) === true &&
      group.allOffsets().every((o) => gone.has(`${o.topic}\u0000${o.partition}`));
    const records = tombstoneRecords(groupId, removed, groupGone);
    if (records.length === 0) return;
    this.ctx.runtime
      .scheduleWriteOperation(this.ctx.partitionFor(groupId), () => ({ records, response: undefined }))
      .catch((err: unknown) =>
        this.ctx.log.error(`removing offsets of group ${groupId} (${why}) failed`, err),
      );
  }
}
