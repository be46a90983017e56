/**
 * Follows keys in etcd without missing a change across lost connections: `sync` reads the state
 * (at some revision R) and brings the follower up to it, then a watch streams the changes from
 * R + 1. When the stream breaks or its start was compacted away, or `onEvents` asks for it, the
 * follower syncs again from what it holds, and watches from the new revision. So every change is
 * seen either in a sync or as an event, never lost; the callbacks make repeats harmless (they
 * compare with what they delivered). It stops when closed, when a callback throws, or when the
 * client is closed.
 */
import type { Time, Timer } from '../../common/time.js';
import type { EtcdClient, Watch, WatchEvent } from './client.js';
import type { Subscription } from './interfaces.js';

export interface ResumableWatchSpec {
  key: string;
  /** Watch every key starting with `key`. */
  prefix?: boolean;
  /** Brings the follower up to the current state; returns the revision it was read at. */
  sync(): Promise<number>;
  /** Changes after the last sync, in order; 'resync' ends the watch and syncs again. */
  onEvents(events: WatchEvent[], revision: number): 'resync' | undefined;
  /** A failure that is retried after `retryBackoffMs`. */
  onError?(err: Error): void;
  /** Called once when the follower stops for good because a callback threw. */
  onFatal?(err: Error): void;
}

/** Thrown by a spec's callback to stop following for good (a listener failed, not etcd). */
export class StopFollowing extends Error {
  override name = 'StopFollowing';
}

export function resumableWatch(
  client: EtcdClient,
  time: Time,
  spec: ResumableWatchSpec,
  retryBackoffMs = 500,
): Subscription {
  let closed = false;
  let current: Watch | undefined;
  let wake: (() => void) | undefined;
  let sleepTimer: Timer | undefined;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
      sleepTimer = time.setTimeout(resolve, ms);
    });

  const stop = (err: Error): void => {
    closed = true;
    spec.onFatal?.(err instanceof StopFollowing && err.cause instanceof Error ? err.cause : err);
  };

  const run = async (): Promise<void> => {
    while (!closed) {
      let failure: Error | undefined;
      try {
        const revision = await spec.sync();
        if (closed) return;
        const outcome = await new Promise<Error | undefined>((resolve) => {
          wake = () => resolve(undefined);
          current = client.watch(
            spec.key,
            { prefix: spec.prefix ?? false, startRevision: revision + 1 },
            {
              onEvents: (events, rev) => {
                let next: 'resync' | undefined;
                try {
                  next = spec.onEvents(events, rev);
                } catch (err) {
                  current?.cancel();
                  resolve(
                    err instanceof StopFollowing ? err : new StopFollowing('listener failed', { cause: err }),
                  );
                  return;
                }
                if (next === 'resync') {
                  current?.cancel();
                  resolve(undefined);
                }
              },
              onCompacted: () => resolve(undefined),
              onError: (err) => resolve(err),
            },
          );
        });
        current = undefined;
        if (outcome instanceof StopFollowing) {
          stop(outcome);
          return;
        }
        failure = outcome;
      } catch (err) {
        if (err instanceof StopFollowing) {
          stop(err);
          return;
        }
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (client.isClosed) {
        closed = true;
        return;
      }
      if (failure && !closed) {
        spec.onError?.(failure);
        await sleep(retryBackoffMs);
      }
    }
  };
  void run();
  return {
    close: () => {
      if (closed) return;
      closed = true;
      current?.cancel();
      sleepTimer?.cancel();
      wake?.();
    },
  };
}
