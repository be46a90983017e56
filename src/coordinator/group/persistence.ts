/**
 * Records the group coordinator writes to `__consumer_offsets` besides offset commits: the group
 * record (Kafka's storeGroup, written without replay after membership changed the group itself)
 * and tombstones for removed offsets and dead groups (replayed by the operations that remove
 * them; written without replay only by the broker's test `reset()`). Loading the partition
 * replays all of them (group-shard.ts).
 */
import type { ErrorName } from '../../protocol/generated/errors.js';
import type { GroupMetadataValueData } from '../../protocol/generated/messages.js';
import type { ClassicGroup } from '../group-metadata.js';
import { groupMetadataKey, groupMetadataValue, offsetCommitKey } from '../offsets-topic.js';
import { type CoordinatorRecord, RecordTooLargeError } from '../runtime/coordinator-log.js';
import { CoordinatorError, coordinatorErrorOf } from '../runtime/coordinator-runtime.js';
import { clearGroupTimers, EMPTY, type GroupContext } from './context.js';

/** The group record of `group` with `assignment`. */
export function groupMetadataRecord(
  group: ClassicGroup,
  assignment: ReadonlyMap<string, Buffer>,
): CoordinatorRecord {
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
  return { key: groupMetadataKey(group.groupId), value: groupMetadataValue(value) };
}

/**
 * Writes the group record (Kafka's storeGroup) through the runtime; `done` gets NONE once it is
 * committed, or the error Kafka maps a failure to. The caller has already changed the group.
 */
export function storeGroup(
  ctx: GroupContext,
  group: ClassicGroup,
  assignment: ReadonlyMap<string, Buffer>,
  done: (error: ErrorName) => void,
): void {
  const failed = (err: unknown): ErrorName => {
    if (!(err instanceof CoordinatorError || err instanceof RecordTooLargeError))
      ctx.log.error(`storing metadata of group ${group.groupId} failed`, err);
    return coordinatorErrorOf(err);
  };
  ctx.runtime
    .scheduleWriteOperation<ErrorName>(ctx.partitionFor(group.groupId), () => ({
      records: [groupMetadataRecord(group, assignment)],
      response: 'NONE',
      replayRecords: false,
      onAppendError: failed,
    }))
    .catch(failed)
    .then(done);
}

/** Tombstones for `removed` offsets of `groupId`, then for the group itself when `group`. */
export function tombstoneRecords(
  groupId: string,
  removed: readonly { topic: string; partition: number }[],
  group: boolean,
): CoordinatorRecord[] {
  const records: CoordinatorRecord[] = removed.map((r) => ({
    key: offsetCommitKey(groupId, r.topic, r.partition),
    value: null,
  }));
  if (group) records.push({ key: groupMetadataKey(groupId), value: null });
  return records;
}

/** Writes tombstones for `removed` offsets of `groupId` (and for the group itself when `group`). */
export function appendTombstones(
  ctx: GroupContext,
  groupId: string,
  removed: readonly { topic: string; partition: number }[],
  group: boolean,
): void {
  const records = tombstoneRecords(groupId, removed, group);
  if (records.length === 0) return;
  try {
    ctx.runtime.appendNow(ctx.partitionFor(groupId), records, false);
  } catch (err) {
    ctx.log.error(`writing tombstones for group ${groupId} failed`, err);
  }
}

/** Drops a dead group and writes its tombstones (with those of its `removed` offsets). */
export function removeDeadGroup(
  ctx: GroupContext,
  group: ClassicGroup,
  removed: readonly { topic: string; partition: number }[],
): void {
  clearGroupTimers(group);
  if (ctx.groups.get(group.groupId) === group) ctx.groups.delete(group.groupId);
  appendTombstones(ctx, group.groupId, removed, true);
}
