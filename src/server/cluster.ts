/**
 * Several brokers in one process sharing one controller and metadata log (a KRaft cluster whose
 * controller quorum is this process): each broker has its own node id, listener and data
 * directory; topics are placed over the live brokers, followers replicate from leaders over TCP,
 * and leadership follows the brokers' lifecycle as Kafka's controller drives it:
 *
 * - `stopBroker(id)`: controlled shutdown — the broker is fenced first (its leaderships move to
 *   another ISR member with a new leader epoch, it leaves every ISR), then closes cleanly.
 * - `killBroker(id)`: a crash — connections cut, no flush or checkpoint, no clean-shutdown
 *   marker; the controller then fences it, as when its session expires.
 * - `startBroker(id)`: starts it again from its data directory on the same port; it registers
 *   fenced, is unfenced once listening (leaderless partitions get it as leader again), follows its
 *   leaders (truncating with OffsetForLeaderEpoch) and rejoins the ISRs once caught up.
 * - `isolate(id)` / `heal(id)`: a network partition around one broker, see `isolate`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '../common/logger.js';
import { systemTime, type Time, type Timer } from '../common/time.js';
import { BrokerConfig, type RawConfig } from '../config/broker-config.js';
import { ProducerIdManager } from '../coordinator/transaction/producer-id-manager.js';
import { type LocalController, openLocalController } from '../metadata/controller.js';
import { AutoLeaderBalancer } from '../metadata/leader-balance.js';
import { newTopicId } from '../storage/partition-metadata.js';
import { Broker } from './broker.js';

export interface ClusterOptions {
  /** Node ids of the brokers (1..N when given as a count). */
  readonly brokers: number | readonly number[];
  /** Directory holding `broker-<id>/` per broker and the controller's `metadata/`. */
  readonly dataDir: string;
  /** Host the listeners bind to. */
  readonly host?: string;
  /** Port of the first broker, the next ones on the following ports; 0: each an ephemeral port. */
  readonly port?: number;
  /** Broker configs every broker gets (Kafka's names); node.id, listeners and log.dirs are per broker. */
  readonly config?: RawConfig;
  /** Configs of one broker on top of `config` (e.g. its `broker.rack`). */
  readonly brokerConfig?: (nodeId: number) => RawConfig;
  readonly logger?: Logger;
  readonly time?: Time;
  readonly purgatoryTime?: Time;
}

export class Cluster {
  readonly controller: LocalController;
  /** Producer id blocks for every broker (kept in the metadata directory): no id handed out twice. */
  private readonly producerIds: ProducerIdManager;
  readonly clusterId: string;
  readonly nodeIds: readonly number[];
  private readonly running = new Map<number, Broker>();
  /** The port each broker bound first: a restarted broker listens on it again. */
  private readonly ports = new Map<number, number>();
  private readonly log: Logger;
  private readonly time: Time;
  /** Killed brokers whose session has not expired yet: fenced when it does. */
  private readonly sessionTimers = new Map<number, Timer>();
  /** Brokers cut off from the others and from the controller (`isolate`). */
  private readonly isolated = new Set<number>();
  /** The drop faults on each running broker that make the cuts, by broker id. */
  private readonly cutFaults = new Map<number, number[]>();
  private closed = false;
  /** auto.leader.rebalance.enable: preferred leaders elected back on the cluster's clock. */
  private readonly leaderBalancer: AutoLeaderBalancer;

  private constructor(private readonly options: ClusterOptions) {
    this.log = options.logger ?? createLogger();
    this.time = options.time ?? systemTime;
    this.nodeIds =
      typeof options.brokers === 'number'
        ? Array.from({ length: options.brokers }, (_, i) => i + 1)
        : [...options.brokers];
    if (this.nodeIds.length === 0) throw new Error('a cluster needs at least one broker');
    if (new Set(this.nodeIds).size !== this.nodeIds.length) throw new Error('duplicate broker ids');
    const metadataDir = path.join(options.dataDir, 'metadata');
    fs.mkdirSync(metadataDir, { recursive: true });
    this.clusterId = options.config?.['cluster.id'] ?? readOrCreateClusterId(options.dataDir);
    this.producerIds = new ProducerIdManager(metadataDir);
    const controllerConfig = this.brokerConfig(this.nodeIds[0]!);
    this.controller = openLocalController({
      dataDir: metadataDir,
      nodeId: this.nodeIds[0]!,
      config: controllerConfig,
      logger: this.log,
    });
    this.leaderBalancer = new AutoLeaderBalancer(this.controller, controllerConfig, this.time, this.log);
  }

  /** Starts every broker, in id order (each registers and is unfenced before the next). */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(options);
    try {
      for (const id of cluster.nodeIds) await cluster.startBroker(id);
      cluster.leaderBalancer.start();
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  private brokerConfig(id: number): BrokerConfig {
    const host = this.options.host ?? '127.0.0.1';
    const base = this.options.port ?? 0;
    const port = this.ports.get(id) ?? (base === 0 ? 0 : base + this.nodeIds.indexOf(id));
    return new BrokerConfig({
      ...this.options.config,
      ...this.options.brokerConfig?.(id),
      'node.id': String(id),
      'cluster.id': this.clusterId,
      listeners: `PLAINTEXT://${host.includes(':') ? `[${host}]` : host}:${port}`,
      'log.dirs': this.brokerDir(id),
    });
  }

  /** The data directory of broker `id`. */
  brokerDir(id: number): string {
    return path.join(this.options.dataDir, `broker-${id}`);
  }

  /** The running broker `id`, or undefined when stopped or killed. */
  broker(id: number): Broker | undefined {
    return this.running.get(id);
  }

  /** The running brokers, by id. */
  get brokers(): Broker[] {
    return this.nodeIds.flatMap((id) => this.running.get(id) ?? []);
  }

  /** host:port of every running broker (a bootstrap list). */
  get bootstrap(): string[] {
    return this.brokers.map((b) => `${b.advertised.host}:${b.advertised.port}`);
  }

  async startBroker(id: number): Promise<Broker> {
    if (this.closed) throw new Error('cluster closed');
    if (!this.nodeIds.includes(id)) throw new Error(`no broker ${id} in this cluster`);
    if (this.running.has(id)) throw new Error(`broker ${id} is running`);
    // Back from a crash before its session expired: as Kafka's controller does when a broker
    // registers after an unclean shutdown (handleBrokerUncleanShutdown), it is fenced first — its
    // leaderships move to other ISR members at a new leader epoch and it leaves the ISRs — since
    // what it lost in the crash may be what its followers have; it then registers as usual.
    const timer = this.sessionTimers.get(id);
    if (timer) {
      timer.cancel();
      this.sessionTimers.delete(id);
      await this.controller.fenceBroker(id);
    }
    const broker = await Broker.start(this.brokerConfig(id), {
      logger: this.log,
      controller: this.controller,
      producerIds: this.producerIds,
      ...(this.options.time ? { time: this.options.time } : {}),
      ...(this.options.purgatoryTime ? { purgatoryTime: this.options.purgatoryTime } : {}),
    });
    this.running.set(id, broker);
    this.cutFaults.delete(id);
    if (!this.ports.has(id)) this.ports.set(id, broker.port);
    if (this.isolated.size > 0) this.applyCuts();
    return broker;
  }

  /** Controlled shutdown: leadership moves away (the broker is fenced), then a clean close. */
  async stopBroker(id: number): Promise<void> {
    const broker = this.running.get(id);
    if (!broker) throw new Error(`broker ${id} is not running`);
    await this.controller.controlledShutdown(id, broker.replicaManager.brokerEpoch);
    this.running.delete(id);
    this.endIsolation(id);
    await broker.close();
  }

  /**
   * A crash: the broker dies without a clean shutdown. The controller notices when its session
   * expires, `broker.session.timeout.ms` later on the cluster's clock (Kafka's heartbeat timeout),
   * and fences it then: its leaderships move to other ISR members, it leaves every ISR.
   */
  async killBroker(id: number): Promise<void> {
    const broker = this.running.get(id);
    if (!broker) throw new Error(`broker ${id} is not running`);
    this.running.delete(id);
    this.endIsolation(id);
    await broker.kill();
    this.expireSessionLater(id, broker.config.int('broker.session.timeout.ms'));
  }

  /** Fences `id` after `timeoutMs` on the cluster's clock unless it is back (running, not isolated). */
  private expireSessionLater(id: number, timeoutMs: number): void {
    this.sessionTimers.get(id)?.cancel();
    this.sessionTimers.set(
      id,
      this.time.setTimeout(() => {
        this.sessionTimers.delete(id);
        if (this.closed || (this.running.has(id) && !this.isolated.has(id))) return;
        this.log.info(`broker ${id}: session expired after ${timeoutMs} ms; fenced`);
        this.controller
          .fenceBroker(id)
          .catch((err) => this.log.error(`fencing broker ${id} after its session expired failed`, err));
      }, timeoutMs),
    );
  }

  /**
   * A network partition around broker `id`: its replica fetchers cannot reach the other brokers
   * and theirs cannot reach it (each request of a fetcher crossing the cut — Fetch,
   * OffsetForLeaderEpoch, ListOffsets with the fetcher's client id — loses its connection, as the
   * `drop` faults of `broker.faults` do), and its link to the controller is cut: it keeps acting on
   * the metadata it had, its ISR proposals wait, and its heartbeats stop, so the controller fences
   * it when `broker.session.timeout.ms` passes (its leaderships move to other ISR members).
   * Clients still reach it. As in Kafka, an isolated leader cannot move its high watermark (its
   * followers do not fetch, its ISR shrink cannot be committed): acks=all writes to it wait and
   * time out, and once it is fenced clients find the new leaders through the other brokers.
   * Admin requests it forwards to the controller are not cut.
   */
  isolate(id: number): void {
    const broker = this.running.get(id);
    if (!broker) throw new Error(`broker ${id} is not running`);
    if (this.isolated.has(id)) return;
    this.isolated.add(id);
    this.applyCuts();
    broker.controllerLink.cut();
    this.expireSessionLater(id, broker.config.int('broker.session.timeout.ms'));
  }

  /**
   * The partition around `id` ends: fetchers reconnect, the broker catches up with the metadata
   * (leaderships it lost become followings, truncating what it appended alone), its waiting ISR
   * proposals reach the controller, and its heartbeats unfence it if it was fenced meanwhile.
   */
  heal(id: number): void {
    if (!this.isolated.has(id)) return;
    this.endIsolation(id);
    const broker = this.running.get(id);
    if (!broker) return;
    broker.controllerLink.restore();
    if (this.controller.image.brokers.get(id)?.fenced) {
      this.controller
        .unfenceBroker(id)
        .catch((err) => this.log.error(`unfencing broker ${id} after healing failed`, err));
    }
  }

  /** Whether `id` is isolated. */
  isIsolated(id: number): boolean {
    return this.isolated.has(id);
  }

  private endIsolation(id: number): void {
    if (!this.isolated.delete(id)) return;
    this.sessionTimers.get(id)?.cancel();
    this.sessionTimers.delete(id);
    this.applyCuts();
  }

  /** Makes every running broker's drop faults match the isolated set: one per fetcher crossing a cut. */
  private applyCuts(): void {
    for (const [id, broker] of this.running) {
      for (const faultId of this.cutFaults.get(id) ?? []) broker.faults.clear(faultId);
      const ids: number[] = [];
      for (const follower of this.nodeIds) {
        if (follower === id || !(this.isolated.has(id) || this.isolated.has(follower))) continue;
        for (const api of ['Fetch', 'OffsetForLeaderEpoch', 'ListOffsets']) {
          const f = broker.faults.inject({
            api,
            clientId: `broker-${follower}-fetcher-${id}`,
            drop: 'before',
            count: null,
          });
          ids.push(f.id);
        }
      }
      this.cutFaults.set(id, ids);
    }
    // What is in flight across a cut is lost with it: those fetchers' connections close now.
    for (const [id, broker] of this.running) {
      for (const source of this.nodeIds) {
        if (source !== id && (this.isolated.has(id) || this.isolated.has(source)))
          broker.replicaManager.replicaFetcherManager.fetcher(source)?.closeConnection();
      }
    }
  }

  /** Stops every broker (controlled shutdowns, the last one keeping its leaderships) and the controller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.leaderBalancer.stop();
    for (const t of this.sessionTimers.values()) t.cancel();
    this.sessionTimers.clear();
    const ids = [...this.running.keys()];
    for (const id of ids.slice(0, -1)) {
      const broker = this.running.get(id)!;
      await this.controller.controlledShutdown(id, broker.replicaManager.brokerEpoch);
      this.running.delete(id);
      await broker.close();
    }
    for (const id of ids.slice(-1)) {
      await this.running.get(id)!.close();
      this.running.delete(id);
    }
    this.controller.close();
  }
}

/** The cluster id kept in `<dataDir>/cluster.id`, so a cluster restarted from its directory keeps it. */
function readOrCreateClusterId(dataDir: string): string {
  const file = path.join(dataDir, 'cluster.id');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const id = newTopicId();
  fs.writeFileSync(file, `${id}\n`);
  return id;
}
