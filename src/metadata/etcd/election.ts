/**
 * Controller election in etcd (the role of KRaft's quorum vote; etcd is the quorum here).
 *
 * A candidate holds a lease (its session, renewed while the process lives) and, when there is no
 * leader, creates `controller/leader` = `{nodeId, epoch}` bound to that lease in one transaction
 * that also raises `controller/epoch` — compared on the leader key not existing (create revision
 * 0) and on the epoch key being the one it read. So at most one candidate wins each epoch, and
 * epochs grow by one per election. The others watch the leader key and try again once it is
 * deleted: when the leader resigns (revokes its lease) or its process dies (the lease expires
 * after `sessionTimeoutMs`).
 *
 * A leadership is identified in etcd by the create revision of its leader key: every write of the
 * controller compares on it (`fence()`), so a controller that lost its lease — even one that has
 * not noticed yet — cannot change anything.
 */
import { systemTime, type Time } from '../../common/time.js';
import type { Compare, EtcdClient, WatchEvent } from './client.js';
import type { ControllerElection, ControllerLeadership, LeaderAndEpoch, Subscription } from './interfaces.js';
import type { EtcdLayout } from './layout.js';
import { EtcdLease } from './lease.js';
import { resumableWatch, StopFollowing } from './resumable-watch.js';

export interface EtcdControllerElectionOptions {
  nodeId: number;
  /** How long after this process stops renewing its session another controller is elected. */
  sessionTimeoutMs: number;
  time?: Time;
  /** Pause before retrying after etcd failed. */
  retryBackoffMs?: number;
}

interface LeaderValue {
  nodeId: number;
  epoch: number;
}

function parseLeader(value: Buffer): LeaderValue | undefined {
  try {
    const v = JSON.parse(value.toString('utf8')) as Partial<LeaderValue>;
    if (Number.isInteger(v.nodeId) && Number.isInteger(v.epoch)) return v as LeaderValue;
  } catch {
    // not ours
  }
  return undefined;
}

export class EtcdControllerLeadership implements ControllerLeadership {
  constructor(
    readonly nodeId: number,
    readonly epoch: number,
    /** Create revision of the leader key this term wrote: what identifies it in etcd. */
    readonly createRevision: number,
    private readonly leaderKey: string,
    readonly lease: EtcdLease,
  ) {}

  get lost(): Promise<void> {
    return this.lease.lost;
  }

  isActive(): boolean {
    return this.lease.isAlive();
  }

  /** Compares that hold only while this term is the active one, for every write it makes. */
  fence(): Compare[] {
    return [{ key: this.leaderKey, target: 'CREATE', createRevision: this.createRevision }];
  }

  resign(): Promise<void> {
    return this.lease.revoke();
  }
}

export class EtcdControllerElection implements ControllerElection {
  private readonly time: Time;
  private readonly retryBackoffMs: number;
  private closed = false;
  private readonly leaderships = new Set<EtcdControllerLeadership>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly aborts = new Set<() => void>();

  constructor(
    private readonly client: EtcdClient,
    private readonly layout: EtcdLayout,
    private readonly options: EtcdControllerElectionOptions,
  ) {
    this.time = options.time ?? systemTime;
    this.retryBackoffMs = options.retryBackoffMs ?? 200;
  }

  async campaign(signal?: AbortSignal): Promise<EtcdControllerLeadership> {
    if (this.closed) throw new Error('election is closed');
    let abort!: () => void;
    const aborted = new Promise<void>((resolve) => {
      abort = resolve;
    });
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    this.aborts.add(abort);
    const checkAborted = (): void => {
      if (this.closed) throw new Error('election is closed');
      signal?.throwIfAborted();
    };
    const lease = await EtcdLease.grant(this.client, this.options.sessionTimeoutMs, this.time);
    try {
      for (;;) {
        checkAborted();
        if (!lease.isAlive())
          throw new Error(`controller candidate ${this.options.nodeId}: session ${lease.lostReason}`);
        const read = await this.client.txn(
          [],
          [{ range: { key: this.layout.leaderKey } }, { range: { key: this.layout.epochKey } }],
        );
        const leader = read.responses[0]![0];
        const epochKv = read.responses[1]![0];
        if (!leader) {
          const epoch = (epochKv ? Number(epochKv.value.toString('utf8')) : 0) + 1;
          const value: LeaderValue = { nodeId: this.options.nodeId, epoch };
          const won = await this.client.txn(
            [
              { key: this.layout.leaderKey, target: 'CREATE', createRevision: 0 },
              epochKv
                ? { key: this.layout.epochKey, target: 'MOD', modRevision: epochKv.modRevision }
                : { key: this.layout.epochKey, target: 'VERSION', version: 0 },
            ],
            [
              { put: { key: this.layout.leaderKey, value: JSON.stringify(value), lease: lease.id } },
              { put: { key: this.layout.epochKey, value: String(epoch) } },
            ],
          );
          if (won.succeeded) {
            const leadership = new EtcdControllerLeadership(
              this.options.nodeId,
              epoch,
              won.revision,
              this.layout.leaderKey,
              lease,
            );
            this.leaderships.add(leadership);
            void lease.lost.then(() => this.leaderships.delete(leadership));
            return leadership;
          }
          continue;
        }
        // Someone leads: wait until its key changes (deleted at its lease's end), then try again.
        await this.waitForChange(read.revision, Promise.race([aborted, lease.lost]));
      }
    } catch (err) {
      await lease.revoke().catch(() => {});
      throw err;
    } finally {
      this.aborts.delete(abort);
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Resolves at the first change of the leader key after `revision`, an etcd failure (after a pause), or `stop`. */
  private waitForChange(revision: number, stop: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        watch.cancel();
        resolve();
      };
      const watch = this.client.watch(
        this.layout.leaderKey,
        { startRevision: revision + 1 },
        {
          onEvents: () => finish(),
          onCompacted: () => finish(),
          onError: () => {
            this.time.setTimeout(finish, this.retryBackoffMs);
          },
        },
      );
      void stop.then(finish);
    });
  }

  async currentLeader(): Promise<LeaderAndEpoch> {
    const read = await this.client.txn(
      [],
      [{ range: { key: this.layout.leaderKey } }, { range: { key: this.layout.epochKey } }],
    );
    return leaderAndEpochOf(read.responses[0]![0]?.value, read.responses[1]![0]?.value);
  }

  watchLeader(listener: (leader: LeaderAndEpoch) => void): Subscription {
    let last: LeaderAndEpoch | undefined;
    const emit = (next: LeaderAndEpoch): void => {
      if (last && last.leaderId === next.leaderId && last.epoch === next.epoch) return;
      last = next;
      try {
        listener(next);
      } catch (err) {
        throw new StopFollowing('leader listener failed', { cause: err });
      }
    };
    const sub = resumableWatch(
      this.client,
      this.time,
      {
        key: this.layout.controllerPrefix,
        prefix: true,
        sync: async () => {
          const read = await this.client.txn(
            [],
            [{ range: { key: this.layout.leaderKey } }, { range: { key: this.layout.epochKey } }],
          );
          emit(leaderAndEpochOf(read.responses[0]![0]?.value, read.responses[1]![0]?.value));
          return read.revision;
        },
        onEvents: (events: WatchEvent[]) => {
          for (const e of events) {
            if (e.kv.key !== this.layout.leaderKey) continue;
            if (e.type === 'DELETE') emit({ leaderId: null, epoch: last?.epoch ?? 0 });
            else {
              const v = parseLeader(e.kv.value);
              if (v) emit({ leaderId: v.nodeId, epoch: v.epoch });
            }
          }
          return undefined;
        },
      },
      this.retryBackoffMs,
    );
    this.subscriptions.add(sub);
    return {
      close: () => {
        this.subscriptions.delete(sub);
        sub.close();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const abort of this.aborts) abort();
    for (const s of this.subscriptions) s.close();
    this.subscriptions.clear();
    await Promise.all([...this.leaderships].map((l) => l.resign().catch(() => {})));
  }
}

function leaderAndEpochOf(leader: Buffer | undefined, epoch: Buffer | undefined): LeaderAndEpoch {
  const v = leader ? parseLeader(leader) : undefined;
  if (v) return { leaderId: v.nodeId, epoch: v.epoch };
  return { leaderId: null, epoch: epoch ? Number(epoch.toString('utf8')) : 0 };
}
