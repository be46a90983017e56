/**
 * The streams task assignor: every task active once, balanced, sticky to the previous target,
 * standbys of stateful tasks on other processes.
 */
import { describe, expect, it } from 'vitest';
import { assignStreamsTasks } from './streams-assignor.js';
import { emptyTasks, type Tasks, type TasksTuple } from './streams-group.js';

const tuple = (active: Record<string, number[]>): TasksTuple => ({
  ...emptyTasks(),
  active: new Map(Object.entries(active).map(([s, ps]) => [s, new Set(ps)])),
});
const count = (t: Tasks) => [...t.values()].reduce((n, s) => n + s.size, 0);
const subtopologies = new Map([
  ['0', 4],
  ['1', 3],
]);

describe('assignStreamsTasks', () => {
  it('gives every task to exactly one member, counts within one of each other', () => {
    const out = assignStreamsTasks({
      members: ['a', 'b', 'c'].map((id) => ({ memberId: id, processId: id, current: emptyTasks() })),
      subtopologies,
      stateful: new Set(),
      numStandbyReplicas: 0,
    });
    const seen = new Map<string, number>();
    for (const t of out.values())
      for (const [s, ps] of t.active)
        for (const p of ps) seen.set(`${s}-${p}`, (seen.get(`${s}-${p}`) ?? 0) + 1);
    expect(seen.size).toBe(7);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    const counts = [...out.values()].map((t) => count(t.active)).sort();
    expect(counts).toEqual([2, 2, 3]);
  });

  it('is sticky: a joining member takes tasks only from the overloaded, the others keep theirs', () => {
    const previous = {
      a: tuple({ '0': [0, 1], '1': [0, 1] }),
      b: tuple({ '0': [2, 3], '1': [2] }),
    };
    const out = assignStreamsTasks({
      members: [
        { memberId: 'a', processId: 'pa', current: previous.a },
        { memberId: 'b', processId: 'pb', current: previous.b },
        { memberId: 'c', processId: 'pc', current: emptyTasks() },
      ],
      subtopologies,
      stateful: new Set(),
      numStandbyReplicas: 0,
    });
    for (const id of ['a', 'b'] as const) {
      const kept = out.get(id)!.active;
      for (const [s, ps] of kept) for (const p of ps) expect(previous[id].active.get(s)?.has(p)).toBe(true);
    }
    expect(count(out.get('c')!.active)).toBe(2);
  });

  it('places standbys of stateful tasks on another process than the active one, none where impossible', () => {
    const out = assignStreamsTasks({
      members: [
        { memberId: 'a1', processId: 'p1', current: emptyTasks() },
        { memberId: 'a2', processId: 'p1', current: emptyTasks() },
        { memberId: 'b1', processId: 'p2', current: emptyTasks() },
      ],
      subtopologies,
      stateful: new Set(['1']),
      numStandbyReplicas: 2,
    });
    const process = new Map([
      ['a1', 'p1'],
      ['a2', 'p1'],
      ['b1', 'p2'],
    ]);
    for (let p = 0; p < 3; p++) {
      const active = [...out].find(([, t]) => t.active.get('1')?.has(p))![0];
      const standbys = [...out].filter(([, t]) => t.standby.get('1')?.has(p)).map(([id]) => id);
      // Two processes: one standby only, on the other process.
      expect(standbys.length).toBe(1);
      expect(process.get(standbys[0]!)).not.toBe(process.get(active));
    }
    expect([...out.values()].every((t) => !t.standby.has('0'))).toBe(true);
  });
});
