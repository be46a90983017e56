/**
 * The share group assignor (Kafka's SimpleAssignor, `simple`): a partition of a share group may
 * go to several members at once, since records, not partitions, are what its members divide.
 * For each subscribed topic, among the members subscribed to it (in member id order):
 * - at least as many partitions as members: the partitions are dealt round-robin, each to one
 *   member;
 * - more members than partitions: every member gets one partition, dealt round-robin, so each
 *   partition is shared by ⌈members / partitions⌉ or ⌊members / partitions⌋ members (one
 *   partition and three members: all three share it).
 */
import type { Assignment } from './share-group.js';

export function simpleAssign(
  /** member id → subscribed topic ids */
  subscriptions: ReadonlyMap<string, ReadonlySet<string>>,
  /** topic id → partition count */
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  const memberIds = [...subscriptions.keys()].sort();
  for (const m of memberIds) out.set(m, new Map());
  for (const topicId of [...partitionCounts.keys()].sort()) {
    const n = partitionCounts.get(topicId) ?? 0;
    const members = memberIds.filter((m) => subscriptions.get(m)?.has(topicId));
    if (n === 0 || members.length === 0) continue;
    const give = (member: string, partition: number) => {
      const a = out.get(member)!;
      let ps = a.get(topicId);
      if (!ps) {
        ps = new Set();
        a.set(topicId, ps);
      }
      ps.add(partition);
    };
    if (n >= members.length) for (let p = 0; p < n; p++) give(members[p % members.length]!, p);
    else
      members.forEach((m, i) => {
        give(m, i % n);
      });
  }
  return out;
}
