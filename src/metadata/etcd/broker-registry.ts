/**
 * Broker liveness in etcd (the role of KRaft's broker registration and heartbeats): each broker
 * puts `brokers/<id>` = its id, rack, listeners and incarnation, bound to a lease it renews. When
 * the process dies or loses etcd for `sessionTimeoutMs`, the lease expires and the key is deleted,
 * and the controller, which watches `brokers/`, sees the broker go (then fences it and moves its
 * leaderships, as Kafka's controller does when heartbeats stop).
 *
 * The key is created only when absent (create revision 0), so two live processes cannot hold one
 * broker id: the second gets DUPLICATE_BROKER_REGISTRATION until the first's session ends. The
 * key's create revision is the registration's broker epoch: it grows with every registration.
 */
import { systemTime, type Time } from '../../common/time.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import type { EtcdClient, KeyValue, WatchEvent } from './client.js';
import type {
  BrokerRegistrationInfo,
  BrokerRegistry,
  BrokerRegistryListener,
  BrokerSession,
  RegisteredBroker,
  Subscription,
} from './interfaces.js';
import type { EtcdLayout } from './layout.js';
import { EtcdLease } from './lease.js';
import { resumableWatch, StopFollowing } from './resumable-watch.js';

export interface EtcdBrokerRegistryOptions {
  /** How long after a broker stops renewing its registration it is gone. */
  sessionTimeoutMs: number;
  time?: Time;
  retryBackoffMs?: number;
}

function registeredOf(kv: KeyValue): RegisteredBroker | undefined {
  try {
    const v = JSON.parse(kv.value.toString('utf8')) as BrokerRegistrationInfo;
    if (!Number.isInteger(v.brokerId) || !Array.isArray(v.endpoints)) return undefined;
    return {
      brokerId: v.brokerId,
      rack: v.rack ?? null,
      endpoints: v.endpoints,
      incarnationId: String(v.incarnationId),
      brokerEpoch: kv.createRevision,
    };
  } catch {
    return undefined;
  }
}

class EtcdBrokerSession implements BrokerSession {
  constructor(
    readonly broker: RegisteredBroker,
    readonly lease: EtcdLease,
  ) {}

  get lost(): Promise<void> {
    return this.lease.lost;
  }

  isActive(): boolean {
    return this.lease.isAlive();
  }

  close(): Promise<void> {
    return this.lease.revoke();
  }
}

export class EtcdBrokerRegistry implements BrokerRegistry {
  private readonly time: Time;
  private readonly retryBackoffMs: number;

  constructor(
    private readonly client: EtcdClient,
    private readonly layout: EtcdLayout,
    private readonly options: EtcdBrokerRegistryOptions,
  ) {
    this.time = options.time ?? systemTime;
    this.retryBackoffMs = options.retryBackoffMs ?? 500;
  }

  async register(info: BrokerRegistrationInfo): Promise<BrokerSession> {
    if (!Number.isInteger(info.brokerId) || info.brokerId < 0)
      throw new RangeError(`bad broker id ${info.brokerId}`);
    const key = this.layout.brokerKey(info.brokerId);
    const lease = await EtcdLease.grant(this.client, this.options.sessionTimeoutMs, this.time);
    try {
      const value = JSON.stringify({
        brokerId: info.brokerId,
        rack: info.rack,
        endpoints: info.endpoints,
        incarnationId: info.incarnationId,
      });
      const result = await this.client.txn(
        [{ key, target: 'CREATE', createRevision: 0 }],
        [{ put: { key, value, lease: lease.id } }],
        [{ range: { key } }],
      );
      if (!result.succeeded) {
        const holder = result.responses[0]![0];
        const other = holder ? registeredOf(holder) : undefined;
        throw new KafkaError(
          'DUPLICATE_BROKER_REGISTRATION',
          `broker ${info.brokerId} is registered already${other ? ` (incarnation ${other.incarnationId})` : ''}`,
        );
      }
      return new EtcdBrokerSession({ ...info, brokerEpoch: result.revision }, lease);
    } catch (err) {
      await lease.revoke().catch(() => {});
      throw err;
    }
  }

  async registeredBrokers(): Promise<RegisteredBroker[]> {
    const res = await this.client.range(this.layout.brokersPrefix, { prefix: true });
    return res.kvs.flatMap((kv) => registeredOf(kv) ?? []);
  }

  watch(listener: BrokerRegistryListener): Subscription {
    /** Broker id → epoch of the registration the listener was last told about. */
    const known = new Map<number, number>();
    const call = (f: () => void): void => {
      try {
        f();
      } catch (err) {
        throw new StopFollowing('broker registry listener failed', { cause: err });
      }
    };
    const registered = (b: RegisteredBroker): void => {
      const epoch = known.get(b.brokerId);
      if (epoch === b.brokerEpoch) return;
      if (epoch !== undefined) unregistered(b.brokerId);
      known.set(b.brokerId, b.brokerEpoch);
      call(() => listener.handleBrokerRegistered(b));
    };
    const unregistered = (brokerId: number): void => {
      const epoch = known.get(brokerId);
      if (epoch === undefined) return;
      known.delete(brokerId);
      call(() => listener.handleBrokerUnregistered(brokerId, epoch));
    };
    return resumableWatch(
      this.client,
      this.time,
      {
        key: this.layout.brokersPrefix,
        prefix: true,
        sync: async () => {
          const res = await this.client.range(this.layout.brokersPrefix, { prefix: true });
          const now = new Map<number, RegisteredBroker>();
          for (const kv of res.kvs) {
            const b = registeredOf(kv);
            if (b) now.set(b.brokerId, b);
          }
          for (const id of [...known.keys()]) if (!now.has(id)) unregistered(id);
          for (const b of now.values()) registered(b);
          return res.revision;
        },
        onEvents: (events: WatchEvent[]) => {
          for (const e of events) {
            if (e.type === 'DELETE') unregistered(this.layout.brokerIdOfKey(e.kv.key));
            else {
              const b = registeredOf(e.kv);
              if (b) registered(b);
            }
          }
          return undefined;
        },
        onError: (err) => listener.handleError?.(err),
        onFatal: (err) => listener.handleError?.(err),
      },
      this.retryBackoffMs,
    );
  }
}
