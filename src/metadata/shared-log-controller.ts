/**
 * The Controller of a broker whose cluster metadata is shared with other brokers through a
 * SharedClusterMetadata (src/metadata/etcd/interfaces.ts): in etcd for separate processes
 * (`--etcd`, etcd-controller.ts), or in the main thread for a broker per thread (`--threads`,
 * src/metadata/threads/). The same checks as LocalController (it is one), with the metadata log
 * held elsewhere instead of on local disk.
 *
 * - Reads: the broker follows the metadata log from the start (snapshot, then batches) and
 *   applies every batch to its image, then tells its listeners (the replica manager becomes leader,
 *   follower or deletes logs; the coordinators follow) — as brokers of the in-process cluster hear
 *   the shared controller.
 * - Writes: a change asked of this broker (CreateTopics, AlterConfigs, its own registration, an
 *   AlterPartition of a partition it leads...) is checked against its image at offset N with
 *   LocalController's rules and appended as one batch compared on the log ending at N. When another
 *   broker wrote first, the append fails, the broker waits until its image has the newer batches
 *   and checks the request again — optimistic concurrency on the log's end. This is why no
 *   request is forwarded to the elected controller: a check against the exact image the batch
 *   follows is what the controller would do, without a forwarding RPC and its failure modes.
 *   A call returns once this broker's image has the change (what LocalController guarantees too).
 * - The elected controller (one at a time) does what needs a single actor: it follows the broker
 *   registry (one session per broker) and fences a broker whose session ended — its leaderships
 *   move to another ISR member with a bumped leader epoch — with the append also conditional on the
 *   broker not being registered, so a broker that has registered again is never fenced by a stale
 *   expiry. It also writes snapshots of the log.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.js';
import { systemTime } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { unresolvableIpEntities } from './client-quota-control.js';
import { LocalController } from './controller.js';
import type { TokenChange } from './delegation-token-control.js';
import type { DelegationTokenImage } from './delegation-token-image.js';
import { ExtraCompareFailedError, UnexpectedBaseOffsetError } from './etcd/errors.js';
import type {
  BrokerSession,
  ControllerLeadership,
  SharedClusterMetadata,
  Subscription,
} from './etcd/interfaces.js';
import { type MetadataDelta, MetadataImage } from './image.js';
import type { MetadataLogWriter } from './metadata-log.js';
import type { BrokerEndpointRecord, MetadataRecord } from './records.js';

export interface SharedLogControllerOptions {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  /** Where the cluster's metadata log, registry and election are (closed with the controller). */
  readonly metadata: (sessionTimeoutMs: number) => SharedClusterMetadata;
  readonly logger?: Logger;
  /** Called when following the metadata log failed for good: the process must restart. */
  readonly onFatal?: (err: Error) => void;
}

/** Nothing is written to a local metadata log: the shared one holds it. */
const NO_LOCAL_LOG: MetadataLogWriter = {
  append() {
    throw new Error('SharedLogController writes to the shared metadata log');
  },
  snapshot() {},
  bytesSinceSnapshot: 0,
  close() {},
};

/** Attempts of one change when other brokers keep writing first. */
const MAX_ATTEMPTS = 50;

export class SharedLogController extends LocalController {
  readonly shared: SharedClusterMetadata;
  private readonly nodeId: number;
  private readonly logger: Logger | undefined;
  /** The image of the log as followed (every batch applied); `current` is it outside a change. */
  private followed: MetadataImage = MetadataImage.EMPTY;
  /** Records a change being checked would write; null outside one. */
  private pending: MetadataRecord[] | null = null;
  /** True while a change's check runs (synchronously). */
  private checking = false;
  /** One change of this broker at a time (each checked against the image its batch follows). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly waiters: { offset: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private follower: Subscription | undefined;
  private session: BrokerSession | undefined;
  private registration:
    | { endpoints: readonly BrokerEndpointRecord[]; rack: string | null; incarnationId: string }
    | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  private leadership: ControllerLeadership | undefined;
  private registryWatch: Subscription | undefined;
  private snapshotting = false;
  private recordsSinceSnapshot = 0;
  private readonly sessionTimeoutMs: number;

  private constructor(private readonly o: SharedLogControllerOptions) {
    super({
      nodeId: o.nodeId,
      config: o.config,
      log: NO_LOCAL_LOG,
      image: MetadataImage.EMPTY,
      ...(o.logger ? { logger: o.logger } : {}),
    });
    this.nodeId = o.nodeId;
    this.logger = o.logger;
    this.sessionTimeoutMs = Math.max(1000, o.config.int('broker.session.timeout.ms'));
    this.shared = o.metadata(this.sessionTimeoutMs);
  }

  /** Connects, loads the metadata log to its end, and campaigns for the controller role. */
  static async open(o: SharedLogControllerOptions): Promise<SharedLogController> {
    const c = new SharedLogController(o);
    try {
      await c.start();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  private async start(): Promise<void> {
    const end = await this.shared.log.endOffset();
    this.follower = this.shared.log.follow(0, {
      handleLoadSnapshot: (s) => {
        if (this.followed.offset > 0) {
          // Behind the log's start while running: the image cannot be diffed here; a restart loads it.
          const err = new Error(
            `metadata log: this broker (at ${this.followed.offset}) fell behind the snapshot at ${s.offset}; restart it`,
          );
          this.o.onFatal?.(err);
          throw err;
        }
        const { image, delta } = MetadataImage.EMPTY.apply(s.records, s.offset);
        this.advance(image, delta);
      },
      handleCommit: (b) => {
        const { image, delta } = this.followed.apply(b.records);
        this.recordsSinceSnapshot += b.records.length;
        this.advance(image, delta);
        this.maybeSnapshot();
      },
      handleError: (err) => this.logger?.warn(`following the shared metadata log: ${err.message}`),
    });
    await this.waitFor(end);
    void this.campaign();
  }

  /** The followed image moves on: listeners hear it (outside a change being checked, `current` too). */
  private advance(image: MetadataImage, delta: MetadataDelta): void {
    this.followed = image;
    if (this.pending === null) this.current = image;
    for (const listener of [...this.listeners]) listener(delta, image);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.offset <= image.offset) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once the followed image has reached `offset`. */
  private waitFor(offset: number): Promise<void> {
    if (this.followed.offset >= offset) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('controller closed'));
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }

  /** Captures what LocalController's checks would commit; applied to the image being checked only. */
  protected override commit(records: readonly MetadataRecord[]): void {
    if (this.pending === null) {
      throw new Error(
        'SharedLogController: a metadata change was made outside `change` (not written to the log)',
      );
    }
    if (records.length === 0) return;
    this.pending.push(...records);
    this.current = this.current.apply(records).image;
  }

  /**
   * Runs `check` (a LocalController method) against the followed image, appends what it would
   * commit at that image's offset, and returns its result once this broker has applied the batch.
   * Another writer first: wait for its batch, check again.
   */
  private change<T>(
    check: () => Promise<T>,
    as?: { leadership: ControllerLeadership; brokerId: number },
  ): Promise<T> {
    // A LocalController method calling another (maybeAutoCreateTopic → createTopic): part of the
    // change being checked.
    if (this.checking) return check();
    const run = async (): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        if (this.closed) throw new KafkaError('NOT_CONTROLLER', 'the controller is closed');
        const base = this.followed;
        this.current = base;
        this.pending = [];
        let result: T;
        let records: MetadataRecord[];
        try {
          // LocalController's checks run synchronously; only that part may add records.
          this.checking = true;
          let checked: Promise<T>;
          try {
            checked = check();
          } finally {
            this.checking = false;
          }
          result = await checked;
        } finally {
          records = this.pending;
          this.pending = null;
          this.current = this.followed;
        }
        if (records.length === 0) return result;
        try {
          const { endOffset } = as
            ? await this.shared.log.appendUnlessRegistered(as.leadership, base.offset, records, as.brokerId)
            : await this.shared.log.appendAsBroker(base.offset, records);
          await this.waitFor(endOffset);
          return result;
        } catch (err) {
          if (!(err instanceof UnexpectedBaseOffsetError) || attempt >= MAX_ATTEMPTS) throw err;
          await this.waitFor(err.endOffset);
        }
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  // --- every change goes through `change` ---

  override registerBroker(
    brokerId: number,
    endpoints: readonly BrokerEndpointRecord[],
    rack: string | null,
    fenced = false,
  ): Promise<number> {
    return (async () => {
      if (brokerId === this.nodeId) {
        this.registration = { endpoints, rack, incarnationId: randomUUID() };
        await this.registerSession();
      }
      return this.change(() => super.registerBroker(brokerId, endpoints, rack, fenced));
    })();
  }

  /**
   * This broker's liveness: a registration bound to its session (an etcd lease, or its thread's life). A previous incarnation's lease
   * may still be held (kill -9, then a quick restart): registration waits for it to expire.
   */
  private async registerSession(): Promise<void> {
    const r = this.registration!;
    const deadline = systemTime.now() + this.sessionTimeoutMs * 3 + 10_000;
    for (;;) {
      try {
        this.session = await this.shared.registry.register({
          brokerId: this.nodeId,
          rack: r.rack,
          endpoints: r.endpoints,
          incarnationId: r.incarnationId,
        });
        break;
      } catch (err) {
        if (!(err instanceof KafkaError) || err.error !== 'DUPLICATE_BROKER_REGISTRATION') throw err;
        if (systemTime.now() > deadline || this.closed) throw err;
        this.logger?.info(`broker ${this.nodeId}: waiting for the previous registration's lease to expire`);
        await systemTime.sleep(500);
      }
    }
    const session = this.session;
    // Lost while running (etcd unreachable past the session timeout): the controller fences this
    // broker; it registers again and unfences itself once the store is back.
    void session.lost.then(async () => {
      if (this.closed || this.session !== session) return;
      this.logger?.warn(`broker ${this.nodeId}: session lost; registering again`);
      for (;;) {
        if (this.closed) return;
        try {
          await this.registerSession();
          await this.change(() => super.unfenceBroker(this.nodeId));
          return;
        } catch (err) {
          this.logger?.warn(`broker ${this.nodeId}: registering again failed: ${String(err)}`);
          await systemTime.sleep(1000);
        }
      }
    });
  }

  override fenceBroker(brokerId: number): Promise<void> {
    return this.change(() => super.fenceBroker(brokerId));
  }

  override unfenceBroker(brokerId: number): Promise<void> {
    return this.change(() => super.unfenceBroker(brokerId));
  }

  override alterPartition(...args: Parameters<LocalController['alterPartition']>) {
    return this.change(() => super.alterPartition(...args));
  }

  override electLeaders(...args: Parameters<LocalController['electLeaders']>) {
    return this.change(() => super.electLeaders(...args));
  }

  override createTopics(...args: Parameters<LocalController['createTopics']>) {
    return this.change(() => super.createTopics(...args));
  }

  override createTopic(...args: Parameters<LocalController['createTopic']>) {
    return this.change(() => super.createTopic(...args)).then((t) => this.followed.topicById(t.topicId) ?? t);
  }

  override async maybeAutoCreateTopic(name: string, allowAutoCreate: boolean) {
    const existing = this.followed.topic(name);
    if (existing) return existing;
    return this.change(() => super.maybeAutoCreateTopic(name, allowAutoCreate)).then((t) =>
      t ? (this.followed.topicById(t.topicId) ?? t) : undefined,
    );
  }

  override deleteTopics(...args: Parameters<LocalController['deleteTopics']>) {
    return this.change(() => super.deleteTopics(...args));
  }

  override createPartitions(...args: Parameters<LocalController['createPartitions']>) {
    return this.change(() => super.createPartitions(...args));
  }

  override alterConfigs(...args: Parameters<LocalController['alterConfigs']>) {
    return this.change(() => super.alterConfigs(...args));
  }

  override incrementalAlterConfigs(...args: Parameters<LocalController['incrementalAlterConfigs']>) {
    return this.change(() => super.incrementalAlterConfigs(...args));
  }

  override alterUserScramCredentials(...args: Parameters<LocalController['alterUserScramCredentials']>) {
    return this.change(() => super.alterUserScramCredentials(...args));
  }

  override alterAcls(...args: Parameters<LocalController['alterAcls']>) {
    return this.change(() => super.alterAcls(...args));
  }

  override changeDelegationTokens<T>(compute: (tokens: DelegationTokenImage) => TokenChange<T>): Promise<T> {
    return this.change(() => super.changeDelegationTokens(compute));
  }

  override async alterClientQuotas(...args: Parameters<LocalController['alterClientQuotas']>) {
    // Hosts of ip entities resolved before the change: its check must be synchronous.
    const unresolvable = await unresolvableIpEntities(args[0]);
    return this.change(() => super.alterClientQuotasResolved(...args, unresolvable));
  }

  override alterPartitionReassignments(...args: Parameters<LocalController['alterPartitionReassignments']>) {
    return this.change(() => super.alterPartitionReassignments(...args));
  }

  override maybeBalancePartitionLeaders() {
    return this.change(() => super.maybeBalancePartitionLeaders());
  }

  override migrateLegacySecurity(): number {
    return 0; // a broker of a shared-log cluster has no legacy file store to migrate
  }

  // --- the elected controller ---

  /** Whether this broker is the elected controller now. */
  get isActiveController(): boolean {
    return this.leadership?.isActive() ?? false;
  }

  private async campaign(): Promise<void> {
    const election = this.shared.election(this.nodeId);
    while (!this.closed) {
      try {
        const leadership = await election.campaign(this.abort.signal);
        this.leadership = leadership;
        this.logger?.info(`broker ${this.nodeId}: elected controller (epoch ${leadership.epoch})`);
        this.superviseBrokers(leadership);
        await leadership.lost;
        this.registryWatch?.close();
        this.registryWatch = undefined;
        this.leadership = undefined;
        if (!this.closed) this.logger?.warn(`broker ${this.nodeId}: controller leadership lost`);
      } catch (err) {
        if (this.closed) break;
        this.logger?.warn(`broker ${this.nodeId}: controller election: ${String(err)}`);
        await systemTime.sleep(500);
      }
    }
    await election.close().catch(() => {});
  }

  /**
   * Fences the brokers whose registration is gone: those the image has unfenced when this term
   * starts, and each one whose lease ends during it.
   */
  private superviseBrokers(leadership: ControllerLeadership): void {
    const fenceIfGone = (brokerId: number): void => {
      if (!leadership.isActive() || this.closed) return;
      const reg = this.followed.brokers.get(brokerId);
      if (!reg || reg.fenced) return;
      this.logger?.info(`controller: broker ${brokerId}'s session ended; fencing it`);
      this.change(() => super.fenceBroker(brokerId), { leadership, brokerId }).catch((err) => {
        // Registered again meanwhile (ExtraCompareFailedError): it is alive, nothing to fence.
        if (!(err instanceof ExtraCompareFailedError)) {
          this.logger?.warn(`controller: fencing broker ${brokerId} failed: ${String(err)}`);
        }
      });
    };
    this.registryWatch = this.shared.registry.watch({
      handleBrokerRegistered: () => {},
      handleBrokerUnregistered: (brokerId) => fenceIfGone(brokerId),
      handleError: (err) => this.logger?.warn(`controller: broker registry watch: ${err.message}`),
    });
    void this.shared.registry
      .registeredBrokers()
      .then((live) => {
        const alive = new Set(live.map((b) => b.brokerId));
        for (const b of this.followed.liveBrokers()) if (!alive.has(b.brokerId)) fenceIfGone(b.brokerId);
      })
      .catch((err) => this.logger?.warn(`controller: reading the broker registry: ${String(err)}`));
  }

  /** The controller snapshots the log (so the shared log stays bounded) every `metadata.log.max.records...`. */
  private maybeSnapshot(): void {
    const leadership = this.leadership;
    if (!leadership?.isActive() || this.snapshotting) return;
    if (this.recordsSinceSnapshot < SNAPSHOT_EVERY_RECORDS) return;
    this.snapshotting = true;
    const image = this.followed;
    this.shared.log
      .writeSnapshot(leadership, { offset: image.offset, records: image.toRecords() })
      .then(() => {
        this.recordsSinceSnapshot = 0;
      })
      .catch((err) => this.logger?.warn(`controller: metadata snapshot failed: ${String(err)}`))
      .finally(() => {
        this.snapshotting = false;
      });
  }

  /**
   * Controlled shutdown first (`fenceBroker` of this broker, by the caller), then: the registration
   * and any leadership are given up at once (not left to expire), and the shared metadata is let go.
   */
  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failWaiters();
    this.abort.abort();
    this.follower?.close();
    this.registryWatch?.close();
    const session = this.session;
    const leadership = this.leadership;
    void Promise.allSettled([session?.close(), leadership?.resign()]).finally(() => this.shared.close());
  }

  /** Changes waiting for the log to reach their batch fail: nothing will be followed any more. */
  private failWaiters(): void {
    for (const w of this.waiters.splice(0))
      w.reject(new KafkaError('NOT_CONTROLLER', 'the controller is closed'));
  }

  /** Like `close`, but waits for the shared metadata to have dropped this broker's registration and leadership. */
  async closeAndWait(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failWaiters();
    this.abort.abort();
    this.follower?.close();
    this.registryWatch?.close();
    await Promise.allSettled([this.session?.close(), this.leadership?.resign()]);
    this.shared.close();
  }
}

/** Records between two snapshots of the shared metadata log. */
const SNAPSHOT_EVERY_RECORDS = 10_000;
