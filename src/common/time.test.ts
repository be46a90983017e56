import { describe, expect, it } from 'vitest';
import { MockTime, systemTime } from './time.js';

describe('MockTime', () => {
  it('runs timers in due order as the clock advances, with now() at each due time', () => {
    const time = new MockTime(1000);
    const seen: [string, number][] = [];
    time.setTimeout(() => seen.push(['b', time.now()]), 20);
    time.setTimeout(() => seen.push(['a', time.now()]), 10);
    time.setTimeout(() => seen.push(['c', time.now()]), 20);
    time.advance(15);
    expect(seen).toEqual([['a', 1010]]);
    expect(time.now()).toBe(1015);
    time.advance(100);
    expect(seen).toEqual([
      ['a', 1010],
      ['b', 1020],
      ['c', 1020],
    ]);
    expect(time.now()).toBe(1115);
    expect(time.pendingTimers).toBe(0);
  });

  it('repeats intervals and stops them on cancel; a cancelled timeout never runs', () => {
    const time = new MockTime(0);
    let ticks = 0;
    let fired = false;
    const interval = time.setInterval(() => ticks++, 100);
    const timeout = time.setTimeout(() => {
      fired = true;
    }, 50);
    timeout.cancel();
    time.advance(350);
    expect(ticks).toBe(3);
    interval.cancel();
    time.advance(1000);
    expect(ticks).toBe(3);
    expect(fired).toBe(false);
    expect(time.pendingTimers).toBe(0);
  });

  it('runs timers that a timer schedules within the same advance', () => {
    const time = new MockTime(0);
    const at: number[] = [];
    time.setTimeout(() => {
      at.push(time.now());
      time.setTimeout(() => at.push(time.now()), 30);
    }, 10);
    time.advance(100);
    expect(at).toEqual([10, 40]);
  });

  it('sleep resolves once the clock passes it; advanceAsync lets async work run between steps', async () => {
    const time = new MockTime(0);
    const done: number[] = [];
    void (async () => {
      await time.sleep(10);
      done.push(time.now());
      await time.sleep(10);
      done.push(time.now());
    })();
    await time.advanceAsync(30, 5);
    expect(done).toEqual([10, 20]);
  });
});

describe('systemTime', () => {
  it('reads the wall clock and fires real timers, clamping delays beyond 2^31-1 ms', async () => {
    expect(Math.abs(systemTime.now() - Date.now())).toBeLessThan(50);
    const far = systemTime.setTimeout(() => {
      throw new Error('a clamped delay must not fire at once');
    }, 2 ** 40);
    await systemTime.sleep(5);
    far.cancel();
  });
});
