/**
 * One clock and timer for the whole broker (Kafka's `org.apache.kafka.common.utils.Time`).
 * Everything that reads the time or waits takes a `Time`, so tests drive time with `MockTime`
 * instead of sleeping: session and transaction timeouts, retention, expiry.
 *
 * Timers from `systemTime` never keep the process alive (unref'd), as the broker's own
 * listener is what keeps it running.
 */

export interface Timer {
  /** Stops the timer; calling it again, or after a one-shot timer fired, does nothing. */
  cancel(): void;
}

export interface Time {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Runs `task` once, `delayMs` from now. */
  setTimeout(task: () => void, delayMs: number): Timer;
  /** Runs `task` every `intervalMs`, the first time `intervalMs` from now. */
  setInterval(task: () => void, intervalMs: number): Timer;
  /** Resolves `ms` from now (by this clock). */
  sleep(ms: number): Promise<void>;
}

/** Node's timers cap delays at 2^31-1 ms; a longer one would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

function clampDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_DELAY_MS);
}

export const systemTime: Time = {
  now: () => Date.now(),
  setTimeout(task, delayMs) {
    const t = setTimeout(task, clampDelay(delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(task, intervalMs) {
    const t = setInterval(task, clampDelay(Math.max(1, intervalMs)));
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
  sleep(ms) {
    // A sleep is awaited by someone, so it keeps the process alive like any pending promise.
    return new Promise((resolve) => setTimeout(resolve, clampDelay(ms)));
  },
};

interface MockTimer {
  id: number;
  due: number;
  task: () => void;
  /** 0 for a one-shot timer. */
  interval: number;
  cancelled: boolean;
}

/**
 * A clock that moves only when told (Kafka's `MockTime`). `advance(ms)` runs every timer that
 * falls due on the way, in order of due time (ties in order of creation), with `now()` equal to
 * each timer's due time while it runs.
 */
export class MockTime implements Time {
  private current: number;
  private nextId = 0;
  private timers: MockTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(task: () => void, delayMs: number): Timer {
    return this.add(task, Math.max(0, delayMs), 0);
  }

  setInterval(task: () => void, intervalMs: number): Timer {
    const interval = Math.max(1, intervalMs);
    return this.add(task, interval, interval);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock forward by `ms`, running what falls due. */
  advance(ms: number): void {
    const target = this.current + Math.max(0, ms);
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.current = Math.max(this.current, next.due);
      if (next.interval > 0) next.due += next.interval;
      else this.remove(next);
      next.task();
    }
    this.current = target;
  }

  /**
   * `advance` in steps of at most `stepMs`, letting promises and I/O callbacks run between
   * steps, so async work started by a timer can finish before the next one fires.
   */
  async advanceAsync(ms: number, stepMs = ms): Promise<void> {
    let left = Math.max(0, ms);
    do {
      const step = Math.min(left, Math.max(1, stepMs));
      this.advance(step);
      left -= step;
      await new Promise((r) => setImmediate(r));
    } while (left > 0);
  }

  private add(task: () => void, delay: number, interval: number): Timer {
    const timer: MockTimer = {
      id: this.nextId++,
      due: this.current + delay,
      task,
      interval,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.remove(timer);
      },
    };
  }

  private nextDue(limit: number): MockTimer | undefined {
    let best: MockTimer | undefined;
    for (const t of this.timers) {
      if (t.cancelled || t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }

  private remove(timer: MockTimer): void {
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  }
}
