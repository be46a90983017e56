/**
 * The task assignor of streams groups: a sticky, balanced assignor standing in for Kafka's
 * `sticky` StickyTaskAssignor (the only one Kafka 4.3 ships). What it keeps of Kafka's:
 *
 * - every task (subtopology, partition) is active on exactly one member;
 * - active tasks are balanced over the members (counts differ by at most one), and a member keeps
 *   the active tasks it had in the previous target as far as balance allows (so tasks move only
 *   when they must — on a join, a leave, a change of partitions);
 * - `group.streams.num.standby.replicas` standby copies of each stateful task (one with changelog
 *   topics) go to other members, on another process than the active one, least loaded first,
 *   preferring the members that had them; a task gets fewer when there are not enough processes.
 *
 * What it does not do (documented simplification): Kafka balances per process first, then over
 * the members of a process, uses warm-up tasks with `acceptableRecoveryLag` to move stateful tasks
 * only after a warm copy caught up, and looks at rack tags. Here there are no warm-up tasks.
 */
import { emptyTasks, type Tasks, type TasksTuple } from './streams-group.js';

export interface StreamsAssignorMember {
  readonly memberId: string;
  readonly processId: string;
  /** The member's previous target. */
  readonly current: TasksTuple;
}

export interface StreamsAssignorInput {
  readonly members: readonly StreamsAssignorMember[];
  /** subtopology id → number of tasks. */
  readonly subtopologies: ReadonlyMap<string, number>;
  /** Subtopologies with state (changelog topics): the ones given standby tasks. */
  readonly stateful: ReadonlySet<string>;
  readonly numStandbyReplicas: number;
}

const taskKey = (sub: string, p: number) => `${sub}\0${p}`;

function add(t: Tasks, sub: string, p: number): void {
  const s = t.get(sub) ?? new Set<number>();
  s.add(p);
  t.set(sub, s);
}

export function assignStreamsTasks(input: StreamsAssignorInput): Map<string, TasksTuple> {
  const out = new Map<string, TasksTuple>();
  const members = [...input.members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  for (const m of members) out.set(m.memberId, emptyTasks());
  if (members.length === 0) return out;
  const tasks: [string, number][] = [];
  for (const [sub, n] of [...input.subtopologies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (let p = 0; p < n; p++) tasks.push([sub, p]);
  }
  const valid = new Set(tasks.map(([s, p]) => taskKey(s, p)));
  const owner = new Map<string, string>();
  const load = new Map<string, number>(members.map((m) => [m.memberId, 0]));
  const base = Math.floor(tasks.length / members.length);
  let extra = tasks.length % members.length;

  // 1. Each member keeps its previous active tasks, up to its fair share.
  for (const m of members) {
    const previous: [string, number][] = [];
    for (const [sub, ps] of m.current.active) for (const p of ps) previous.push([sub, p]);
    previous.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x - y));
    for (const [sub, p] of previous) {
      const k = taskKey(sub, p);
      if (!valid.has(k) || owner.has(k)) continue;
      const n = load.get(m.memberId)!;
      if (n < base || (n === base && extra > 0)) {
        if (n === base) extra--;
        owner.set(k, m.memberId);
        load.set(m.memberId, n + 1);
        add(out.get(m.memberId)!.active, sub, p);
      }
    }
  }
  // 2. The rest go to the least loaded member.
  for (const [sub, p] of tasks) {
    const k = taskKey(sub, p);
    if (owner.has(k)) continue;
    let best = members[0]!;
    for (const m of members) if (load.get(m.memberId)! < load.get(best.memberId)!) best = m;
    owner.set(k, best.memberId);
    load.set(best.memberId, load.get(best.memberId)! + 1);
    add(out.get(best.memberId)!.active, sub, p);
  }

  // 3. Standby replicas of stateful tasks on other processes.
  if (input.numStandbyReplicas > 0) {
    const processOf = new Map(members.map((m) => [m.memberId, m.processId]));
    const hadStandby = (m: StreamsAssignorMember, sub: string, p: number) =>
      m.current.standby.get(sub)?.has(p) === true;
    for (const [sub, p] of tasks) {
      if (!input.stateful.has(sub)) continue;
      const used = new Set([processOf.get(owner.get(taskKey(sub, p))!)]);
      for (let r = 0; r < input.numStandbyReplicas; r++) {
        let best: StreamsAssignorMember | undefined;
        for (const m of members) {
          if (used.has(m.processId)) continue;
          if (
            !best ||
            (hadStandby(m, sub, p) && !hadStandby(best, sub, p)) ||
            (hadStandby(m, sub, p) === hadStandby(best, sub, p) &&
              load.get(m.memberId)! < load.get(best.memberId)!)
          )
            best = m;
        }
        if (!best) break;
        used.add(best.processId);
        load.set(best.memberId, load.get(best.memberId)! + 1);
        add(out.get(best.memberId)!.standby, sub, p);
      }
    }
  }
  return out;
}
