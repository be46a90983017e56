/**
 * One scheduler for the broker's periodic background work (Kafka's KafkaScheduler): retention,
 * log flushes, checkpoints, producer-id and transactional-id expiry, offset expiry. Every task
 * runs on the broker's `Time`, so tests drive them with `MockTime`; a failing run is logged and
 * the task keeps its schedule; `shutdown()` stops them all.
 */
import type { Time, Timer } from './time.js';

export interface SchedulerLog {
  error(message: string, err?: unknown): void;
}

export interface ScheduledTask {
  readonly name: string;
  readonly periodMs: number;
  /** Stops this task. */
  cancel(): void;
}

export class Scheduler {
  private readonly tasks = new Map<ScheduledTask, Timer>();
  private stopped = false;

  constructor(
    private readonly time: Time,
    private readonly log: SchedulerLog,
  ) {}

  /** Runs `task` every `periodMs` (the first time after `periodMs`), until cancelled or shutdown. */
  schedule(name: string, periodMs: number, task: () => void): ScheduledTask {
    if (this.stopped) throw new Error(`scheduler is shut down: cannot schedule ${name}`);
    const handle: ScheduledTask = {
      name,
      periodMs,
      cancel: () => {
        this.tasks.get(handle)?.cancel();
        this.tasks.delete(handle);
      },
    };
    const timer = this.time.setInterval(() => {
      try {
        task();
      } catch (err) {
        this.log.error(`scheduled task ${name} failed`, err);
      }
    }, periodMs);
    this.tasks.set(handle, timer);
    return handle;
  }

  /** Names of the tasks scheduled now. */
  get taskNames(): string[] {
    return [...this.tasks.keys()].map((t) => t.name);
  }

  shutdown(): void {
    this.stopped = true;
    for (const timer of this.tasks.values()) timer.cancel();
    this.tasks.clear();
  }
}
