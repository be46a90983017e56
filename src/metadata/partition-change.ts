/**
 * Kafka's PartitionChangeBuilder: the one place a partition's leader and ISR change. Given a
 * target ISR and an election type it elects a leader and returns the PartitionChangeRecord that
 * moves the partition there, or null when nothing would change. The image bumps the leader epoch
 * when the leader changes and the partition epoch on every change.
 *
 * Elections, as Kafka's:
 * - PREFERRED: the first replica when it is in the ISR and may lead; else the current leader if it
 *   still may; else the first other replica that may.
 * - ONLINE: the current leader if it is in the ISR and may lead; else the first replica (in
 *   replica order) in the ISR that may lead; else no leader (-1).
 * - UNCLEAN: as ONLINE, but when no ISR member may lead, the first live replica does, and the
 *   ISR becomes that replica alone (data it lacks is lost: `unclean.leader.election.enable`).
 */
import type { PartitionState } from './image.js';
import type { PartitionChangeRecord } from './records.js';

export const NO_LEADER = -1;

export type Election = 'PREFERRED' | 'ONLINE' | 'UNCLEAN';

export interface PartitionChangeOptions {
  /** The ISR wanted (default: the current one). */
  readonly targetIsr?: readonly number[];
  readonly election: Election;
  /** Whether a broker may lead: registered and not fenced. */
  readonly isAcceptableLeader: (brokerId: number) => boolean;
}

const sameMembers = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The leader the election picks and whether it was unclean (outside the ISR). */
export function electLeader(
  partition: PartitionState,
  targetIsr: readonly number[],
  election: Election,
  isAcceptableLeader: (brokerId: number) => boolean,
): { leader: number; unclean: boolean } {
  const valid = (id: number) => id !== NO_LEADER && targetIsr.includes(id) && isAcceptableLeader(id);
  if (election === 'PREFERRED') {
    const preferred = partition.replicas[0];
    if (preferred !== undefined && valid(preferred)) return { leader: preferred, unclean: false };
    if (valid(partition.leader)) return { leader: partition.leader, unclean: false };
    const other = partition.replicas.slice(1).find(valid);
    return { leader: other ?? NO_LEADER, unclean: false };
  }
  if (valid(partition.leader)) return { leader: partition.leader, unclean: false };
  const online = partition.replicas.find(valid);
  if (online !== undefined) return { leader: online, unclean: false };
  if (election === 'UNCLEAN') {
    const live = partition.replicas.find((id) => isAcceptableLeader(id));
    if (live !== undefined) return { leader: live, unclean: true };
  }
  return { leader: NO_LEADER, unclean: false };
}

/** The record that applies the election and target ISR to `partition`, or null if nothing changes. */
export function buildPartitionChange(
  topicId: string,
  partition: PartitionState,
  options: PartitionChangeOptions,
): PartitionChangeRecord | null {
  let isr = options.targetIsr ?? partition.isr;
  const { leader, unclean } = electLeader(partition, isr, options.election, options.isAcceptableLeader);
  if (unclean) isr = [leader];
  const leaderChanged = leader !== partition.leader;
  const isrChanged = !sameMembers(isr, partition.isr);
  if (!leaderChanged && !isrChanged) return null;
  return {
    type: 'PartitionChangeRecord',
    topicId,
    partitionId: partition.partitionId,
    ...(leaderChanged ? { leader } : {}),
    ...(isrChanged ? { isr: [...isr] } : {}),
  };
}
