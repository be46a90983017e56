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
 *
 * Reassignments, as Kafka's builder: every change first checks whether an ongoing reassignment
 * (adding / removing replicas) can complete with the target ISR (every replica it keeps is in the
 * ISR once the removed ones leave it): then the replica set becomes the target, the removed replicas
 * leave the ISR, and the election runs over the new set. A change that takes a replica out of the
 * replica set bumps the leader epoch (image.ts), so the removed replica is fenced.
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
  /** The replica set wanted (default: the current one). */
  readonly targetReplicas?: readonly number[];
  /** A reassignment's adding / removing replicas wanted (default: the current ones). */
  readonly targetAdding?: readonly number[];
  readonly targetRemoving?: readonly number[];
}

/**
 * Kafka's PartitionReassignmentReplicas.maybeCompleteReassignment: an ongoing reassignment ends
 * once the ISR without the removed replicas is not empty and holds every replica that stays. Returns
 * the replica set and ISR after it, or null while it cannot end (or none is in progress).
 */
export function maybeCompleteReassignment(
  replicas: readonly number[],
  adding: readonly number[],
  removing: readonly number[],
  targetIsr: readonly number[],
): { replicas: number[]; isr: number[] } | null {
  if (adding.length === 0 && removing.length === 0) return null;
  const isr = targetIsr.filter((id) => !removing.includes(id));
  const kept = replicas.filter((id) => !removing.includes(id));
  if (isr.length === 0 || kept.length === 0) return null;
  if (!kept.every((id) => isr.includes(id))) return null;
  return { replicas: kept, isr };
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
  let replicas = options.targetReplicas ?? partition.replicas;
  let adding = options.targetAdding ?? partition.addingReplicas;
  let removing = options.targetRemoving ?? partition.removingReplicas;
  const completed = maybeCompleteReassignment(replicas, adding, removing, isr);
  if (completed) {
    replicas = completed.replicas;
    isr = completed.isr;
    adding = [];
    removing = [];
  }
  const { leader, unclean } = electLeader(
    { ...partition, replicas },
    isr,
    options.election,
    options.isAcceptableLeader,
  );
  if (unclean) isr = [leader];
  const leaderChanged = leader !== partition.leader;
  const isrChanged = !sameMembers(isr, partition.isr);
  const replicasChanged = !sameMembers(replicas, partition.replicas);
  const addingChanged = !sameMembers(adding, partition.addingReplicas);
  const removingChanged = !sameMembers(removing, partition.removingReplicas);
  if (!leaderChanged && !isrChanged && !replicasChanged && !addingChanged && !removingChanged) return null;
  return {
    type: 'PartitionChangeRecord',
    topicId,
    partitionId: partition.partitionId,
    ...(leaderChanged ? { leader } : {}),
    ...(isrChanged ? { isr: [...isr] } : {}),
    ...(replicasChanged ? { replicas: [...replicas] } : {}),
    ...(addingChanged ? { addingReplicas: [...adding] } : {}),
    ...(removingChanged ? { removingReplicas: [...removing] } : {}),
  };
}
