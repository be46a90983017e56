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

function count(a: Assignment): number {
  let n = 0;
  for (const s of a.values()) n += s.size;
  return n;
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
    const eligible = (topicId: string) => sorted.filter((m) => m.subscribedTopicIds.has(topicId));
    // Each member's fair share: the partitions it could take, split among those who could take them.
    let totalEligible = 0;
    for (const [topicId, n] of partitionCounts) if (eligible(topicId).length > 0) totalEligible += n;
    const share = sorted.length === 0 ? 0 : Math.ceil(totalEligible / sorted.length);
    const owner = new Map<string, string>(); // "topic:partition" → member
    // 1. Stickiness: keep what is still subscribed and exists, up to the share.
    for (const m of sorted) {
      for (const [topicId, ps] of m.current) {
        const n = partitionCounts.get(topicId);
        if (n === undefined || !m.subscribedTopicIds.has(topicId)) continue;
        for (const p of [...ps].sort((a, b) => a - b)) {
          const k = `${topicId}:${p}`;
          if (p >= n || owner.has(k) || count(out.get(m.memberId)!) >= share) continue;
          owner.set(k, m.memberId);
          add(out.get(m.memberId)!, topicId, p);
        }
      }
    }
    // 2. The rest to the eligible member with the fewest partitions.
    for (const [topicId, n] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const subs = eligible(topicId);
      if (subs.length === 0) continue;
      for (let p = 0; p < n; p++) {
        const k = `${topicId}:${p}`;
        if (owner.has(k)) continue;
        let best = subs[0]!;
        for (const m of subs) if (count(out.get(m.memberId)!) < count(out.get(best.memberId)!)) best = m;
        owner.set(k, best.memberId);
        add(out.get(best.memberId)!, topicId, p);
      }
    }
    // 3. Balance: move a partition to an eligible member holding at least two fewer.
    for (let moved = true, rounds = 0; moved && rounds < 10_000; rounds++) {
      moved = false;
      for (const from of sorted) {
        const fromA = out.get(from.memberId)!;
        for (const [topicId, ps] of fromA) {
          for (const to of eligible(topicId)) {
            const toA = out.get(to.memberId)!;
            if (count(fromA) - count(toA) < 2) continue;
            const p = Math.max(...ps);
            ps.delete(p);
            if (ps.size === 0) fromA.delete(topicId);
            add(toA, topicId, p);
            moved = true;
            break;
          }
          if (moved) break;
        }
        if (moved) break;
      }
    }
    return out;
  },
};
