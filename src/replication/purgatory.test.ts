import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { DelayedOperation, DelayedOperationPurgatory } from './purgatory.js';

/** Waits until `available` reaches `wanted`; records how it ended. */
class WaitFor extends DelayedOperation {
  outcome: 'done' | 'expired' | undefined;
  completions = 0;
  expirations = 0;

  constructor(
    delayMs: number,
    private readonly state: { available: number },
    private readonly wanted: number,
  ) {
    super(delayMs);
  }

  tryComplete(): boolean {
    return this.state.available >= this.wanted ? this.forceComplete() : false;
  }

  protected override onExpiration(): void {
    this.expirations++;
    this.outcome = 'expired';
  }

  protected override onComplete(): void {
    this.completions++;
    this.outcome ??= 'done';
  }
}

describe('DelayedOperationPurgatory', () => {
  it('completes at once when it can, else when a key it watches is checked and the condition holds', () => {
    const time = new MockTime();
    const purgatory = new DelayedOperationPurgatory<string>('fetch', time);
    const state = { available: 5 };
    expect(purgatory.tryCompleteElseWatch(new WaitFor(1000, state, 5), ['a'])).toBe(true);
    expect(purgatory.size).toBe(0);

    const op = new WaitFor(1000, state, 10);
    expect(purgatory.tryCompleteElseWatch(op, ['a', 'b'])).toBe(false);
    expect(purgatory.size).toBe(1);
    expect(purgatory.checkAndComplete('a')).toBe(0);
    state.available = 10;
    expect(purgatory.checkAndComplete('c')).toBe(0); // not watched there
    expect(purgatory.checkAndComplete('b')).toBe(1);
    expect(op.outcome).toBe('done');
    expect(op.completions).toBe(1);
    // Completed: out of every watcher list, its timer gone.
    expect(purgatory.size).toBe(0);
    expect(purgatory.watchedKeys).toBe(0);
    expect(time.pendingTimers).toBe(0);
    expect(purgatory.checkAndComplete('a')).toBe(0);
    time.advance(5000);
    expect(op.completions).toBe(1);
    expect(op.expirations).toBe(0);
  });

  it('expires an operation after its delay: onExpiration, then onComplete, once', () => {
    const time = new MockTime();
    const purgatory = new DelayedOperationPurgatory<string>('fetch', time);
    const op = new WaitFor(500, { available: 0 }, 1);
    purgatory.tryCompleteElseWatch(op, ['a']);
    time.advance(499);
    expect(op.outcome).toBeUndefined();
    time.advance(1);
    expect(op.outcome).toBe('expired');
    expect([op.expirations, op.completions]).toEqual([1, 1]);
    expect([purgatory.size, purgatory.watchedKeys, time.pendingTimers]).toEqual([0, 0, 0]);
  });

  it('completes when the request signal aborts (its connection closed) and drops the listener', () => {
    const time = new MockTime();
    const purgatory = new DelayedOperationPurgatory<string>('fetch', time);
    const controller = new AbortController();
    const op = new WaitFor(60_000, { available: 0 }, 1);
    purgatory.tryCompleteElseWatch(op, ['a'], controller.signal);
    controller.abort();
    expect(op.completions).toBe(1);
    expect(op.expirations).toBe(0);
    expect([purgatory.size, purgatory.watchedKeys, time.pendingTimers]).toEqual([0, 0, 0]);
    // An already aborted signal never waits.
    const late = new WaitFor(60_000, { available: 0 }, 1);
    expect(purgatory.tryCompleteElseWatch(late, ['a'], controller.signal)).toBe(true);
    expect(late.outcome).toBe('expired');
  });

  it('a completed operation leaves no listener on a long-lived signal (many waits on one connection)', () => {
    const time = new MockTime();
    const purgatory = new DelayedOperationPurgatory<string>('fetch', time);
    const connection = new AbortController();
    let listeners = 0;
    const add = connection.signal.addEventListener.bind(connection.signal);
    const remove = connection.signal.removeEventListener.bind(connection.signal);
    connection.signal.addEventListener = (...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    };
    connection.signal.removeEventListener = (...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    };
    const state = { available: 0 };
    for (let i = 0; i < 10_000; i++) {
      purgatory.tryCompleteElseWatch(new WaitFor(500, state, i + 1), ['a'], connection.signal);
      if (i % 2 === 0) time.advance(500);
      else {
        state.available = i + 1;
        purgatory.checkAndComplete('a');
      }
    }
    expect(listeners).toBe(0);
    expect([purgatory.size, purgatory.watchedKeys, time.pendingTimers]).toEqual([0, 0, 0]);
  });

  it('completeAll ends every waiter of a key; shutdown ends all and refuses to wait after', () => {
    const time = new MockTime();
    const purgatory = new DelayedOperationPurgatory<string>('fetch', time);
    const a = new WaitFor(1000, { available: 0 }, 1);
    const b = new WaitFor(1000, { available: 0 }, 1);
    const c = new WaitFor(1000, { available: 0 }, 1);
    purgatory.tryCompleteElseWatch(a, ['x']);
    purgatory.tryCompleteElseWatch(b, ['x', 'y']);
    purgatory.tryCompleteElseWatch(c, ['y']);
    expect(purgatory.completeAll('x')).toBe(2);
    expect([a.completions, b.completions, c.completions]).toEqual([1, 1, 0]);
    purgatory.shutdown();
    expect(c.outcome).toBe('expired');
    const d = new WaitFor(1000, { available: 0 }, 1);
    expect(purgatory.tryCompleteElseWatch(d, ['y'])).toBe(true);
    expect(d.outcome).toBe('expired');
    expect([purgatory.size, purgatory.watchedKeys, time.pendingTimers]).toEqual([0, 0, 0]);
  });

  it('bounds how many operations wait: past maxWaiting they complete at once', () => {
    const time = new MockTime();
    const purgatory = new DelayedOperationPurgatory<string>('fetch', time, { maxWaiting: 2 });
    const ops = [0, 1, 2].map(() => new WaitFor(1000, { available: 0 }, 1));
    expect(ops.map((op) => purgatory.tryCompleteElseWatch(op, ['a']))).toEqual([false, false, true]);
    expect(purgatory.size).toBe(2);
  });
});
