/**
 * Kafka's delayed operations and their purgatory (DelayedOperation, DelayedOperationPurgatory):
 * the one mechanism for requests that wait — a long-poll Fetch until enough data arrives, an
 * acks=all Produce until the high watermark passes its batch, a DeleteRecords until the replicas'
 * log start offsets do.
 *
 * An operation waits under one or more keys (its partitions). Whoever changes what it waits for
 * calls `checkAndComplete(key)`; the operation's `tryComplete()` then decides whether it is done.
 * It completes exactly once: by its condition, by its timeout (`onExpiration`, then
 * `onComplete`), by its request's connection going away (an AbortSignal), or by shutdown. On
 * completion it leaves every watcher list, cancels its timer and drops its abort listener, so a
 * completed operation holds nothing and is held by nothing.
 */
import type { Time, Timer } from '../common/time.js';

export abstract class DelayedOperation {
  private completed = false;
  /** Set by the purgatory while the operation waits. */
  private release: (() => void) | undefined;

  constructor(readonly delayMs: number) {}

  get isCompleted(): boolean {
    return this.completed;
  }

  /**
   * Checks whether the operation can complete now and, if so, completes it through
   * `forceComplete()`. Returns whether this call completed it.
   */
  abstract tryComplete(): boolean;

  /** The operation's work once done (build and send the response). Called exactly once. */
  protected abstract onComplete(): void;

  /** Called once, before `onComplete`, when the operation completes by its timeout. */
  protected onExpiration(): void {}

  /**
   * Completes the operation if nobody has yet: releases what it holds, then runs `onComplete`.
   * Returns false when it was already completed.
   */
  forceComplete(): boolean {
    if (this.completed) return false;
    this.completed = true;
    const release = this.release;
    this.release = undefined;
    release?.();
    this.onComplete();
    return true;
  }

  /** @internal the purgatory's expiry path. */
  expire(): void {
    if (this.completed) return;
    this.onExpiration();
    this.forceComplete();
  }

  /** @internal */
  setRelease(release: () => void): void {
    this.release = release;
  }
}

export interface PurgatoryOptions {
  /** Operations that may wait at once; past it new ones complete at once (Kafka bounds these by request quotas and connections; a cap keeps memory bounded all the same). */
  maxWaiting?: number;
}

export class DelayedOperationPurgatory<K, Op extends DelayedOperation = DelayedOperation> {
  private readonly watchers = new Map<K, Set<Op>>();
  private waiting = 0;
  private shuttingDown = false;
  private readonly maxWaiting: number;

  constructor(
    readonly name: string,
    private readonly time: Time,
    options: PurgatoryOptions = {},
  ) {
    this.maxWaiting = options.maxWaiting ?? 100_000;
  }

  /** Operations waiting now. */
  get size(): number {
    return this.waiting;
  }

  /** Keys with at least one waiting operation. */
  get watchedKeys(): number {
    return this.watchers.size;
  }

  /**
   * Completes `op` at once if it can; otherwise makes it wait under `keys` until its condition
   * holds, `op.delayMs` passes, `signal` aborts or the purgatory shuts down. Returns whether it
   * completed at once.
   */
  tryCompleteElseWatch(op: Op, keys: readonly K[], signal?: AbortSignal): boolean {
    if (op.tryComplete()) return true;
    if (op.isCompleted) return true;
    if (this.shuttingDown || op.delayMs <= 0 || signal?.aborted || this.waiting >= this.maxWaiting) {
      op.expire();
      return true;
    }
    for (const key of keys) {
      let set = this.watchers.get(key);
      if (!set) {
        set = new Set();
        this.watchers.set(key, set);
      }
      set.add(op);
    }
    this.waiting++;
    const timer: Timer = this.time.setTimeout(() => op.expire(), op.delayMs);
    const onAbort = () => op.forceComplete();
    signal?.addEventListener('abort', onAbort, { once: true });
    op.setRelease(() => {
      this.waiting--;
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      for (const key of keys) {
        const set = this.watchers.get(key);
        if (!set) continue;
        set.delete(op);
        if (set.size === 0) this.watchers.delete(key);
      }
    });
    // The condition may have become true between the first check and the watch (Kafka checks
    // twice for the same reason).
    op.tryComplete();
    return op.isCompleted;
  }

  /** Something `key`'s operations wait for changed: completes those that can now. */
  checkAndComplete(key: K): number {
    const set = this.watchers.get(key);
    if (!set) return 0;
    let completed = 0;
    for (const op of [...set]) {
      if (!op.isCompleted && op.tryComplete()) completed++;
    }
    return completed;
  }

  /** Completes every operation waiting under `key` now, whatever its condition (a deleted partition). */
  completeAll(key: K): number {
    const set = this.watchers.get(key);
    if (!set) return 0;
    let completed = 0;
    for (const op of [...set]) if (op.forceComplete()) completed++;
    return completed;
  }

  /** Completes everything waiting and accepts nothing more: shutdown does not wait for long polls. */
  shutdown(): void {
    this.shuttingDown = true;
    const all = new Set<Op>();
    for (const set of this.watchers.values()) for (const op of set) all.add(op);
    for (const op of all) op.expire();
  }
}
