/**
 * Kafka's ConnectionQuotas, for accepting: `max.connections.per.ip` with
 * `max.connections.per.ip.overrides` (`ip:count,...`; kbroker compares the text of the address and
 * does not resolve host names) — a connection over it is closed as soon as it is accepted — and
 * `max.connections`, the broker's and each listener's (`listener.name.<listener>.max.connections`,
 * else the broker's value; KIP-402): while a listener has no slot its acceptor takes no connection
 * (accept-gate.ts), they wait in the backlog until one closes. The inter-broker listener, when there
 * are several, is not held by the broker-wide limit: a connection it takes past it makes the broker
 * close the least recently active connection of another listener (Kafka's closeExcessConnections).
 *
 * And the client quota `connection_creation_rate` of an IP (KIP-612: `kafka-configs --entity-type
 * ips`, by address or `--entity-default`): the connections an address opened per second, a rate over
 * `quota.window.num` × `quota.window.size.seconds` windows as the other client quotas. A connection
 * that takes it over the quota is not counted, never served, and closed after the time that brings
 * the rate back (at most one window), as Kafka's acceptor holds it in its throttled sockets.
 *
 * And `max.connection.creation.rate`, the broker's (not counting the inter-broker listener when
 * there are several) and each listener's (`listener.name.<listener>.max.connection.creation.rate`,
 * else the broker's value): past it the listener takes no connection for the throttle time
 * (accept-gate.ts), as Kafka's acceptor waits.
 */
import type { Time } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { type ClientQuotasImage, clientQuotaEntityKey, IP_ENTITY } from '../metadata/client-quota-image.js';
import {
  QuotaSensors,
  type QuotaWindow,
  SampledRate,
  ThrottleTimeAvg,
} from '../quota/client-quota-manager.js';

export const CONNECTION_CREATION_RATE = 'connection_creation_rate';
const MAX_INT = 2147483647;

/** A connection creation rate and its bound (max.connection.creation.rate). */
interface RateLimit {
  readonly rate: SampledRate;
  readonly bound: number;
}

interface IpRateSensor {
  readonly ip: string;
  readonly rate: SampledRate;
  lastRecordMs: number;
}

/** Kafka's socket-server-metrics of the connection rates and their throttling. */
export interface ConnectionRateMetrics {
  /** connection-accept-throttle-time by listener: max.connection.creation.rate's throttles. */
  readonly acceptThrottleMs: [listener: string, avgMs: number][];
  /** ip-connection-accept-throttle-time by listener: connection_creation_rate's throttles. */
  readonly ipAcceptThrottleMs: [listener: string, avgMs: number][];
  /** connection-accept-rate of the listeners with a max.connection.creation.rate. */
  readonly listenerAcceptRate: [listener: string, perSecond: number][];
  /** broker-connection-accept-rate, when the broker has a max.connection.creation.rate. */
  readonly brokerAcceptRate: number | null;
  /** connection-creation-rate of the addresses under a connection_creation_rate quota. */
  readonly ipCreationRate: [ip: string, perSecond: number][];
}

export class ConnectionQuotas {
  private readonly perIp = new Map<string, number>();
  private total = 0;
  private readonly maxTotal: number;
  private readonly perListener = new Map<string, number>();
  /** max.connections of each listener (its own value, else the broker's). */
  private readonly maxPerListener = new Map<string, number>();
  private readonly maxPerIp: number;
  private readonly overrides = new Map<string, number>();

  private readonly ipRates: QuotaSensors<IpRateSensor>;
  /** max.connection.creation.rate of the broker (null: unbounded) and of each listener. */
  private readonly brokerRate: RateLimit | null;
  private readonly listenerRates = new Map<string, RateLimit | null>();
  /** The inter-broker listener, out of the broker-wide rate when there are several (Kafka's protectedListener). */
  private readonly protectedListener: string | null;
  private readonly acceptThrottles = new Map<string, ThrottleTimeAvg>();
  private readonly ipAcceptThrottles = new Map<string, ThrottleTimeAvg>();

  constructor(
    config: BrokerConfig,
    private readonly time: Time,
    /** The client quotas of the metadata image (connection_creation_rate of `ip` entities). */
    private readonly quotas: () => ClientQuotasImage | undefined,
    private readonly window: QuotaWindow = {
      samples: config.int('quota.window.num'),
      windowMs: config.int('quota.window.size.seconds') * 1000,
    },
  ) {
    this.ipRates = new QuotaSensors(time.now(), (tags, now) => ({
      ip: tags.clientId,
      rate: new SampledRate(this.window),
      lastRecordMs: now,
    }));
    const limit = (bound: number): RateLimit | null =>
      bound >= MAX_INT ? null : { rate: new SampledRate(this.window), bound };
    this.brokerRate = limit(config.int('max.connection.creation.rate'));
    // A listener's own value, else the broker's (as Kafka's valuesWithPrefixOverride gives it).
    for (const e of config.endpoints) {
      this.listenerRates.set(
        e.name,
        limit(Number(config.listenerValue(e.name, 'max.connection.creation.rate'))),
      );
    }
    this.protectedListener = config.endpoints.length > 1 ? config.interBrokerListenerName : null;
    this.maxTotal = config.int('max.connections');
    for (const e of config.endpoints) {
      this.maxPerListener.set(e.name, Number(config.listenerValue(e.name, 'max.connections')));
    }
    this.maxPerIp = config.int('max.connections.per.ip');
    for (const entry of config.string('max.connections.per.ip.overrides').split(',')) {
      const e = entry.trim();
      if (e === '') continue;
      const colon = e.lastIndexOf(':');
      const count = Number(e.slice(colon + 1));
      if (colon <= 0 || !Number.isInteger(count) || count < 0) {
        throw new Error(
          `Invalid value ${e} for configuration max.connections.per.ip.overrides: not ip:count`,
        );
      }
      this.overrides.set(normalize(e.slice(0, colon)), count);
    }
  }

  /**
   * Whether `listener`'s acceptor may take a connection now (Kafka's connectionSlotAvailable): under
   * the listener's max.connections and, unless it is the protected inter-broker listener, the broker's.
   */
  slotAvailable(listener: string): boolean {
    if ((this.perListener.get(listener) ?? 0) >= (this.maxPerListener.get(listener) ?? MAX_INT)) return false;
    return listener === this.protectedListener || this.total < this.maxTotal;
  }

  /** Connections over max.connections (the protected listener took them past it): to close elsewhere. */
  excessConnections(): number {
    return Math.max(0, this.total - this.maxTotal);
  }

  /** Whether `listener` is the inter-broker listener the broker-wide limit does not hold. */
  isProtected(listener: string): boolean {
    return listener === this.protectedListener;
  }

  /**
   * Counts a connection the acceptor took (its slot was checked by the gate); null if taken, else
   * the limit it broke: max.connections.per.ip, which closes it at once as Kafka does.
   */
  tryAcquire(address: string | undefined, listener: string): string | null {
    const ip = normalize(address ?? '');
    const limit = this.overrides.get(ip) ?? this.maxPerIp;
    const n = this.perIp.get(ip) ?? 0;
    if (n >= limit) return `max.connections.per.ip ${limit} for ${ip}`;
    this.perIp.set(ip, n + 1);
    this.perListener.set(listener, (this.perListener.get(listener) ?? 0) + 1);
    this.total++;
    return null;
  }

  /**
   * Records a connection being taken on `listener` against max.connection.creation.rate (the
   * broker's, unless this is the protected inter-broker listener, and the listener's) and returns
   * how long Kafka's acceptor waits before taking it: 0 within the rates, at most one window.
   */
  acceptThrottleMs(listener: string): number {
    const now = this.time.now();
    let ms = 0;
    if (this.brokerRate && listener !== this.protectedListener) ms = this.record(this.brokerRate, now);
    const own = this.listenerRates.get(listener);
    if (own) ms = Math.max(ms, this.record(own, now));
    if (ms > 0) throttleAvg(this.acceptThrottles, listener).record(ms);
    return ms;
  }

  /** Takes back what acceptThrottleMs recorded (a connection its IP's rate refuses, as Kafka does). */
  unrecordAccept(listener: string): void {
    const now = this.time.now();
    if (this.brokerRate && listener !== this.protectedListener) this.brokerRate.rate.record(-1, now);
    this.listenerRates.get(listener)?.rate.record(-1, now);
  }

  /** Records one connection; the throttle time that brings the rate back to its bound (Kafka's QuotaUtils). */
  private record(limit: RateLimit, now: number): number {
    limit.rate.record(1, now);
    const rate = limit.rate.measure(now);
    if (rate <= limit.bound) return 0;
    const ms = Math.round(((rate - limit.bound) / limit.bound) * limit.rate.windowSize(now));
    return Math.max(1, Math.min(ms, this.window.windowMs));
  }

  /**
   * Records a new connection from `address` against its connection_creation_rate (KIP-612) and
   * returns how long to hold it before closing it unserved: 0 while the address is within its
   * quota. A throttled connection is taken back out of the rate, as Kafka does.
   */
  throttleNewConnectionMs(address: string | undefined, listener: string): number {
    const image = this.quotas();
    if (!image) return 0;
    const ip = normalize(address ?? '');
    const bound =
      image.quotasByKey(clientQuotaEntityKey({ [IP_ENTITY]: ip }))?.get(CONNECTION_CREATION_RATE) ??
      image.quotasByKey(clientQuotaEntityKey({ [IP_ENTITY]: null }))?.get(CONNECTION_CREATION_RATE);
    if (bound === undefined) return 0;
    const now = this.time.now();
    const sensor = this.ipRates.get({ user: '', clientId: ip }, now);
    const ms = this.record({ rate: sensor.rate, bound }, now);
    if (ms > 0) {
      sensor.rate.record(-1, now);
      throttleAvg(this.ipAcceptThrottles, listener).record(ms);
    }
    return ms;
  }

  /** The rates and throttle times for /metrics (listeners and the addresses with a live sensor). */
  metrics(): ConnectionRateMetrics {
    const now = this.time.now();
    const avgs = (m: Map<string, ThrottleTimeAvg>) =>
      [...m].map(([listener, a]): [string, number] => [listener, a.avgMs]);
    const listenerAcceptRate: [string, number][] = [];
    for (const [listener, limit] of this.listenerRates) {
      if (limit) listenerAcceptRate.push([listener, limit.rate.measure(now)]);
    }
    return {
      acceptThrottleMs: avgs(this.acceptThrottles),
      ipAcceptThrottleMs: avgs(this.ipAcceptThrottles),
      listenerAcceptRate,
      brokerAcceptRate: this.brokerRate ? this.brokerRate.rate.measure(now) : null,
      ipCreationRate: [...this.ipRates.live(now)].map((s) => [s.ip, s.rate.measure(now)]),
    };
  }

  release(address: string | undefined, listener: string): void {
    const ip = normalize(address ?? '');
    const n = this.perIp.get(ip) ?? 0;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
    const l = this.perListener.get(listener) ?? 0;
    if (l > 0) this.perListener.set(listener, l - 1);
    if (this.total > 0) this.total--;
  }
}

/** The listener's throttle-time average (listeners are few and fixed: made on first throttle). */
function throttleAvg(m: Map<string, ThrottleTimeAvg>, listener: string): ThrottleTimeAvg {
  let a = m.get(listener);
  if (!a) {
    a = new ThrottleTimeAvg();
    m.set(listener, a);
  }
  return a;
}

function normalize(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip;
}
