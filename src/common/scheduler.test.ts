import { describe, expect, it } from 'vitest';
import { Scheduler } from './scheduler.js';
import { MockTime } from './time.js';

describe('Scheduler', () => {
  it('runs tasks on the broker clock, logs a failing run and keeps the schedule, stops on shutdown', () => {
    const time = new MockTime(0);
    const errors: string[] = [];
    const scheduler = new Scheduler(time, { error: (m) => errors.push(m) });
    let retention = 0;
    let flaky = 0;
    scheduler.schedule('log-retention', 100, () => retention++);
    const task = scheduler.schedule('flaky', 50, () => {
      flaky++;
      throw new Error('disk hiccup');
    });
    expect(scheduler.taskNames).toEqual(['log-retention', 'flaky']);
    time.advance(250);
    expect([retention, flaky]).toEqual([2, 5]);
    expect(errors).toHaveLength(5);
    expect(errors[0]).toContain('flaky');
    task.cancel();
    time.advance(100);
    expect([retention, flaky]).toEqual([3, 5]);
    scheduler.shutdown();
    time.advance(1000);
    expect(retention).toBe(3);
    expect(time.pendingTimers).toBe(0);
    expect(() => scheduler.schedule('late', 10, () => {})).toThrow('shut down');
  });
});
