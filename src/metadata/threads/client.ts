/**
 * A broker thread's side of the cluster metadata the main thread holds (host.ts): the metadata
 * log, broker registry and controller election of SharedClusterMetadata as requests over the
 * thread's MessagePort. When the port closes (the main thread let go, or `close`), every call
 * still waiting fails and every session and leadership held ends.
 */
import type { MessagePort } from 'node:worker_threads';
import { KafkaError } from '../../protocol/kafka-error.js';
import type {
  BrokerRegistrationInfo,
  BrokerRegistry,
  BrokerRegistryListener,
  BrokerSession,
  ControllerElection,
  ControllerLeadership,
  LeaderAndEpoch,
  MetadataLogListener,
  MetadataSnapshot,
  RegisteredBroker,
  SharedClusterMetadata,
  SharedMetadataLog,
  Subscription,
} from '../etcd/interfaces.js';
import type { MetadataRecord } from '../records.js';
import { fromWireError, type HostRequest, type ToHost, type ToThread } from './protocol.js';

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** Something that ends once: when told to, or when the port closes. */
class Ending {
  private done = false;
  private resolveEnd!: () => void;
  readonly ended = new Promise<void>((resolve) => {
    this.resolveEnd = resolve;
  });
  get isOver(): boolean {
    return this.done;
  }
  end(): void {
    if (this.done) return;
    this.done = true;
    this.resolveEnd();
  }
}

export class ThreadClusterMetadata implements SharedClusterMetadata {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Map<number, (m: ToThread) => void>();
  /** Registrations held, by broker epoch; leaderships held, by controller epoch. */
  private readonly sessions = new Map<number, Ending>();
  private readonly leaderships = new Map<number, Ending>();
  private closed = false;

  readonly log: SharedMetadataLog;
  readonly registry: BrokerRegistry;

  private readonly heartbeat: NodeJS.Timeout;

  /**
   * `sessionTimeoutMs` (`broker.session.timeout.ms`): how long this thread may be silent before the
   * host ends its registration; it sends a heartbeat every third of it from its event loop, so only
   * a loop stuck that long loses it.
   */
  constructor(
    private readonly port: MessagePort,
    private readonly sessionTimeoutMs = 9_000,
  ) {
    port.on('message', (m: ToThread) => this.receive(m));
    port.once('close', () => this.shutDown());
    this.heartbeat = setInterval(
      () => this.call({ op: 'heartbeat' }).catch(() => {}),
      Math.max(10, Math.floor(sessionTimeoutMs / 3)),
    );
    this.heartbeat.unref();
    this.log = {
      endOffset: () => this.call<number>({ op: 'endOffset' }),
      follow: (fromOffset, listener) => this.follow(fromOffset, listener),
      appendAsBroker: (baseOffset, records) =>
        this.call<{ baseOffset: number; endOffset: number }>({ op: 'appendAsBroker', baseOffset, records }),
      appendUnlessRegistered: (leadership, baseOffset, records, brokerId) =>
        this.appendAsController(leadership, baseOffset, records, brokerId),
      writeSnapshot: async (leadership, snapshot) => {
        await this.call({ op: 'writeSnapshot', epoch: leadership.epoch, offset: snapshot.offset });
      },
    };
    this.registry = {
      register: (info) => this.register(info),
      registeredBrokers: () => this.call<RegisteredBroker[]>({ op: 'registeredBrokers' }),
      watch: (listener: BrokerRegistryListener): Subscription =>
        this.subscribe(
          (sub) => ({ op: 'watchRegistry', sub }),
          (m) => {
            if (m.t === 'registered') listener.handleBrokerRegistered(m.broker);
            else if (m.t === 'unregistered') listener.handleBrokerUnregistered(m.brokerId, m.brokerEpoch);
          },
        ),
    };
  }

  election(nodeId: number): ControllerElection {
    return new ThreadControllerElection(this, nodeId);
  }

  clusterId(proposed: string): Promise<string> {
    return this.call<string>({ op: 'clusterId', proposed });
  }

  close(): void {
    this.port.close();
    this.shutDown();
  }

  /** @internal One request; its answer, or its error rebuilt. */
  call<T>(req: HostRequest, onId?: (id: number) => void): Promise<T> {
    if (this.closed)
      return Promise.reject(new KafkaError('NOT_CONTROLLER', 'the cluster metadata is closed'));
    const id = this.nextId++;
    onId?.(id);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const m: ToHost = { t: 'req', id, req };
      this.port.postMessage(m);
    });
  }

  /** @internal A subscription: `start` is the request that opens it, `on` gets its events in order. */
  subscribe(start: (sub: number) => HostRequest, on: (m: ToThread) => void): Subscription {
    const sub = this.nextId++;
    this.subscriptions.set(sub, on);
    this.call(start(sub)).catch(() => {});
    return {
      close: () => {
        if (!this.subscriptions.delete(sub)) return;
        this.call({ op: 'unsubscribe', sub }).catch(() => {});
      },
    };
  }

  /** @internal A leadership won: it lasts until resigned, lost, or the port closes. */
  leadershipFor(nodeId: number, epoch: number): ControllerLeadership {
    const held = this.hold(this.leaderships, epoch, { op: 'resign', epoch });
    return { nodeId, epoch, isActive: held.isActive, lost: held.lost, resign: held.release };
  }

  /**
   * Something held from the host under `key` (a registration, a leadership): over once released
   * (`release` is sent), lost (the host says so), or the port closes.
   */
  private hold(map: Map<number, Ending>, key: number, release: HostRequest) {
    const ending = new Ending();
    if (this.closed) ending.end();
    else map.set(key, ending);
    return {
      isActive: () => !ending.isOver,
      lost: ending.ended,
      release: async (): Promise<void> => {
        if (ending.isOver) return;
        ending.end();
        map.delete(key);
        await this.call(release).catch(() => {});
      },
    };
  }

  private follow(fromOffset: number, listener: MetadataLogListener): Subscription {
    return this.subscribe(
      (sub) => ({ op: 'follow', sub, fromOffset }),
      (m) => {
        if (m.t === 'snapshot') listener.handleLoadSnapshot(m.snapshot as MetadataSnapshot);
        else if (m.t === 'batch') listener.handleCommit(m.batch);
      },
    );
  }

  private async appendAsController(
    leadership: ControllerLeadership,
    baseOffset: number,
    records: readonly MetadataRecord[],
    brokerId: number,
  ): Promise<{ baseOffset: number; endOffset: number }> {
    if (!leadership.isActive()) {
      throw new KafkaError('NOT_CONTROLLER', `controller epoch ${leadership.epoch} is no longer active`);
    }
    return this.call({
      op: 'appendUnlessRegistered',
      epoch: leadership.epoch,
      baseOffset,
      records,
      brokerId,
    });
  }

  private async register(info: BrokerRegistrationInfo): Promise<BrokerSession> {
    const broker = await this.call<RegisteredBroker>({
      op: 'register',
      info,
      sessionTimeoutMs: this.sessionTimeoutMs,
    });
    const { brokerId, brokerEpoch } = broker;
    const held = this.hold(this.sessions, brokerEpoch, { op: 'unregister', brokerId, brokerEpoch });
    return { broker, isActive: held.isActive, lost: held.lost, close: held.release };
  }

  private receive(m: ToThread): void {
    switch (m.t) {
      case 'res':
      case 'err': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.t === 'res') p.resolve(m.value);
        else p.reject(fromWireError(m.error));
        return;
      }
      case 'sessionLost':
        this.sessions.get(m.brokerEpoch)?.end();
        this.sessions.delete(m.brokerEpoch);
        return;
      case 'leadershipLost':
        this.leaderships.get(m.epoch)?.end();
        this.leaderships.delete(m.epoch);
        return;
      default:
        this.subscriptions.get(m.sub)?.(m);
    }
  }

  /** The port is closed: calls fail, sessions and leaderships end, subscriptions stop. */
  private shutDown(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    const err = new KafkaError('NOT_CONTROLLER', 'the cluster metadata is closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const s of this.sessions.values()) s.end();
    this.sessions.clear();
    for (const l of this.leaderships.values()) l.end();
    this.leaderships.clear();
    this.subscriptions.clear();
  }
}

class ThreadControllerElection implements ControllerElection {
  private readonly held = new Set<ControllerLeadership>();
  private readonly watches = new Set<Subscription>();

  constructor(
    private readonly metadata: ThreadClusterMetadata,
    private readonly nodeId: number,
  ) {}

  async campaign(signal?: AbortSignal): Promise<ControllerLeadership> {
    signal?.throwIfAborted();
    let campaignId = 0;
    const onAbort = () => {
      this.metadata.call({ op: 'cancelCampaign', campaign: campaignId }).catch(() => {});
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const epoch = await this.metadata.call<number>({ op: 'campaign', nodeId: this.nodeId }, (id) => {
        campaignId = id;
      });
      const leadership = this.metadata.leadershipFor(this.nodeId, epoch);
      this.held.add(leadership);
      void leadership.lost.then(() => this.held.delete(leadership));
      return leadership;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  currentLeader(): Promise<LeaderAndEpoch> {
    return this.metadata.call<LeaderAndEpoch>({ op: 'currentLeader' });
  }

  watchLeader(listener: (leader: LeaderAndEpoch) => void): Subscription {
    const s = this.metadata.subscribe(
      (sub) => ({ op: 'watchLeader', sub }),
      (m) => {
        if (m.t === 'leader') listener(m.leader);
      },
    );
    this.watches.add(s);
    return s;
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.close();
    this.watches.clear();
    await Promise.allSettled([...this.held].map((l) => l.resign()));
  }
}
