/**
 * The server-side assignors of KIP-848 consumer groups (`group.consumer.assignors`), by Kafka's
 * names `uniform` (UniformAssignor) and `range` (RangeAssignor); Kafka's class names are accepted
 * for them too.
 *
 * - uniform: every member gets as even a share as its subscription allows, moving as few
 *   partitions as it can: a member keeps what it has while it still subscribes to the topic and is
 *   not above its share; the rest goes to the eligible member with the fewest partitions; then
 *   partitions move from a member to an eligible one with at least two fewer until none can.
 * - range: per topic, the subscribed members in member-id order get consecutive ranges of
 *   partitions, the first `partitions % members` one more (the classic RangeAssignor's split).
 *
 * The input is the members' subscriptions as topic ids and the partition counts; the output a
 * target assignment per member. Assignments are not a wire fact: the same members and topics give
 * the same assignment, which is what clients need.
 */
import type { Assignment } from './consumer-group.js';

export interface AssignorMember {
  readonly memberId: string;
  readonly subscribedTopicIds: ReadonlySet<string>;
  /** The member's current target (stickiness). */
  readonly current: Assignment;
}

export interface ServerAssignor {
  readonly name: string;
  assign(
    members: readonly AssignorMember[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, Assignment>;
}

const CLASS_NAMES: Record<string, string> = {
  'org.apache.kafka.coordinator.group.assignor.UniformAssignor': 'uniform',
  'org.apache.kafka.coordinator.group.assignor.RangeAssignor': 'range',
};

/** `uniform`/`range` (or Kafka's class name for them); undefined for any other. */
export function assignorByName(name: string): ServerAssignor | undefined {
  const short = CLASS_NAMES[name] ?? name;
  return short === 'uniform' ? uniformAssignor : short === 'range' ? rangeAssignor : undefined;
}

function add(a: Assignment, topicId: string, partition: number): void {
  let s = a.get(topicId);
  if (!s) {
    s = new Set();
    a.set(topicId, s);
  }
  s.add(partition);
}

function byId(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort((x, y) => (x.memberId < y.memberId ? -1 : x.memberId > y.memberId ? 1 : 0));
}

export const rangeAssignor: ServerAssignor = {
  name: 'range',
  assign(members, partitionCounts) {
    const out = new Map<string, Assignment>(members.map((m) => [m.memberId, new Map()]));
    const sorted = byId(members);
    for (const [topicId, n] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const subs = sorted.filter((m) => m.subscribedTopicIds.has(topicId));
      if (subs.length === 0) continue;
      const per = Math.floor(n / subs.length);
      const extra = n % subs.length;
      let next = 0;
      subs.forEach((m, i) => {
        const take = per + (i < extra ? 1 : 0);
        for (let k = 0; k < take; k++) add(out.get(m.memberId)!, topicId, next++);
      });
    }
    return out;
  },
};

export const uniformAssignor: ServerAssignor = {
  name: 'uniform',
  assign(members, partitionCounts) {
    const sorted = byId(members);
    const out = new Map<string, Assignment>(sorted.map((m) => [m.memberId, new Map()]));
    const counts = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
    const give = (memberId: string, topicId: string, p: number) => {
      add(out.get(memberId)!, topicId, p);
      counts.set(memberId, counts.get(memberId)! + 1);
    };
    // Who may take each topic, computed once.
    const eligibleByTopic = new Map<string, AssignorMember[]>();
    for (const topicId of partitionCounts.keys()) {
      eligibleByTopic.set(
        topicId,
        sorted.filter((m) => m.subscribedTopicIds.has(topicId)),
      );
    }
    // Each member's fair share: the partitions it could take, split among those who could take them.
    let totalEligible = 0;
    for (const [topicId, n] of partitionCounts)
      if (eligibleByTopic.get(topicId)!.length > 0) totalEligible += n;
    const share = sorted.length === 0 ? 0 : Math.ceil(totalEligible / sorted.length);
    const owned = new Set<string>(); // "topic:partition"
    // 1. Stickiness: keep what is still subscribed and exists, up to the share.
    for (const m of sorted) {
      for (const [topicId, ps] of m.current) {
        const n = partitionCounts.get(topicId);
        if (n === undefined || !m.subscribedTopicIds.has(topicId)) continue;
        for (const p of [...ps].sort((a, b) => a - b)) {
          const k = `${topicId}:${p}`;
          if (p >= n || owned.has(k) || counts.get(m.memberId)! >= share) continue;
          owned.add(k);
          give(m.memberId, topicId, p);
        }
      }
    }
    // 2. The rest to the eligible member with the fewest partitions.
    for (const [topicId, n] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const subs = eligibleByTopic.get(topicId)!;
      if (subs.length === 0) continue;
      for (let p = 0; p < n; p++) {
        if (owned.has(`${topicId}:${p}`)) continue;
        let best = subs[0]!;
        for (const m of subs) if (counts.get(m.memberId)! < counts.get(best.memberId)!) best = m;
        give(best.memberId, topicId, p);
      }
    }
    // 3. Balance: move a partition to an eligible member holding at least two fewer, until none
    // can move (each move narrows the gap, so this ends; bounded by the partition count anyway).
    let budget = totalEligible * 2 + 1;
    for (let moved = true; moved && budget > 0; budget--) {
      moved = false;
      for (const from of sorted) {
        const fromA = out.get(from.memberId)!;
        for (const [topicId, ps] of fromA) {
          let to: AssignorMember | undefined;
          for (const m of eligibleByTopic.get(topicId)!) {
            if (
              counts.get(from.memberId)! - counts.get(m.memberId)! >= 2 &&
              (!to || counts.get(m.memberId)! < counts.get(to.memberId)!)
            )
              to = m;
          }
          if (!to) continue;
          const p = Math.max(...ps);
          ps.delete(p);
          if (ps.size === 0) fromA.delete(topicId);
          counts.set(from.memberId, counts.get(from.memberId)! - 1);
          give(to.memberId, topicId, p);
          moved = true;
          break;
        }
        if (moved) break;
      }
    }
    return out;
  },
};
