import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { AcceptGate } from './accept-gate.js';

/** What the gate uses of a socket. */
function fakeSocket(name: string) {
  const s = {
    name,
    paused: false,
    destroyed: false,
    pause() {
      s.paused = true;
    },
    resume() {
      s.paused = false;
    },
    destroy() {
      s.destroyed = true;
    },
    on() {},
  };
  return s;
}

describe('AcceptGate (max.connection.creation.rate at the acceptor)', () => {
  it('records each connection once; one over the rate and those behind it wait, then are taken in order', () => {
    const time = new MockTime();
    const waits = [0, 500, 0, 300, 0];
    let recorded = 0;
    const taken: string[] = [];
    const gate = new AcceptGate(time, () => waits[recorded++] ?? 0);
    const sockets = ['a', 'b', 'c', 'd', 'e'].map(fakeSocket);
    for (const s of sockets) gate.offer(s as unknown as Socket, () => taken.push(s.name));
    expect(taken).toEqual(['a']);
    expect(recorded).toBe(2); // a, then b (which waits); c, d, e not yet recorded
    expect(sockets.slice(1).every((s) => s.paused)).toBe(true);
    expect(gate.held).toBe(4);
    time.advance(499);
    expect(taken).toEqual(['a']);
    time.advance(1);
    expect(taken).toEqual(['a', 'b', 'c']); // d waits 300 ms at the head of the line
    expect(recorded).toBe(4);
    time.advance(300);
    expect(taken).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(recorded).toBe(5);
    expect(sockets.every((s) => !s.paused && !s.destroyed)).toBe(true);
  });

  it('closes what is past the backlog, and everything held at close', () => {
    const time = new MockTime();
    const taken: string[] = [];
    const gate = new AcceptGate(time, () => 1000, undefined, 2);
    const sockets = ['a', 'b', 'c', 'd'].map(fakeSocket);
    for (const s of sockets) gate.offer(s as unknown as Socket, () => taken.push(s.name));
    // a waits at the acceptor, b and c in the backlog, d is refused.
    expect(sockets.map((s) => s.destroyed)).toEqual([false, false, false, true]);
    gate.close();
    expect(sockets.every((s) => s.destroyed)).toBe(true);
    time.advance(5000);
    expect(taken).toEqual([]);
    const late = fakeSocket('late');
    gate.offer(late as unknown as Socket, () => taken.push(late.name));
    expect(late.destroyed).toBe(true);
  });

  it('takes nothing while no connection slot is free (max.connections), then the first in line once one is', () => {
    const time = new MockTime();
    let open = 2;
    const taken: string[] = [];
    const gate = new AcceptGate(
      time,
      () => 0,
      () => open < 2,
    );
    const sockets = ['a', 'b', 'c'].map(fakeSocket);
    // Taking a connection uses a slot, as the broker counts it.
    for (const s of sockets)
      gate.offer(s as unknown as Socket, () => {
        taken.push(s.name);
        open++;
      });
    expect(taken).toEqual([]);
    expect(sockets.every((s) => s.paused && !s.destroyed)).toBe(true);
    time.advance(60_000); // no clock frees a slot
    expect(taken).toEqual([]);
    gate.slotFreed(); // still full: nothing
    expect(taken).toEqual([]);
    open = 1;
    gate.slotFreed();
    expect(taken).toEqual(['a']); // taken once a slot is free, which it then uses
    gate.slotFreed();
    expect(taken).toEqual(['a']);
    expect(gate.held).toBe(2);
    open = 0;
    gate.slotFreed();
    expect(taken).toEqual(['a', 'b', 'c']);
    expect(sockets.every((s) => !s.paused)).toBe(true);
  });
});
