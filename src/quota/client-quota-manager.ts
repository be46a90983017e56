/**
 * Client quota enforcement, as Kafka's ClientQuotaManager: one manager per quota type
 * (producer_byte_rate on Produce, consumer_byte_rate on Fetch), a sensor per quota entity a
 * client resolves to, the rate over `quota.window.num` samples of `quota.window.size.seconds`
 * (Kafka's Rate over a SampledStat, with its window-size rule), and the throttle time that brings
 * the rate back to the bound: (rate − bound) / bound × window. Kafka ≥ 2.0 semantics: the broker
 * answers at once with that throttle time and then mutes the connection for as long
 * (server/connection.ts).
 *
 * Which quota applies to (user, client-id) is Kafka's precedence over the entities of the image
 * that have this quota's key:
 *   1. user + client-id, 2. user + default client-id, 3. user, 4. default user + client-id,
 *   5. default user + default client-id, 6. default user, 7. client-id, 8. default client-id.
 * The sensor is shared by every client that resolves to the same entity tags (a user quota is
 * shared by all the user's client ids, as in Kafka). Sensors idle for an hour go (Kafka's
 * InactiveSensorExpirationTimeSeconds), so clients that come and go leave nothing behind.
 * Everything runs on the broker's clock, so tests drive it with MockTime.
 */
import type { Time } from '../common/time.js';
import {
  CLIENT_ID_ENTITY,
  type ClientQuotaEntity,
  type ClientQuotasImage,
  clientQuotaEntityKey,
  USER_ENTITY,
} from '../metadata/client-quota-image.js';

/** Kafka's ClientQuotaManager.InactiveSensorExpirationTimeSeconds. */
export const INACTIVE_SENSOR_EXPIRATION_MS = 3600 * 1000;

export interface QuotaWindow {
  /** quota.window.num */
  readonly samples: number;
  /** quota.window.size.seconds × 1000 */
  readonly windowMs: number;
}

interface Sample {
  startMs: number;
  lastEventMs: number;
  value: number;
}

/**
 * Kafka's Rate over a SampledStat: `samples + 1` slots (one extra for the sample overlapping the
 * start of the window), a sample idle for the whole window reset, and the window taken as at least
 * `samples − 1` full windows so the first second of traffic does not read as a huge rate.
 */
export class SampledRate {
  private readonly slots: Sample[] = [];
  private current = 0;

  constructor(private readonly window: QuotaWindow) {}

  record(value: number, now: number): void {
    let sample = this.currentSample(now);
    if (now - sample.startMs >= this.window.windowMs) sample = this.advance(now);
    sample.value += value;
    sample.lastEventMs = now;
  }

  /** Units per second. */
  measure(now: number): number {
    this.purge(now);
    let total = 0;
    for (const s of this.slots) total += s.value;
    return total / (this.windowSize(now) / 1000);
  }

  /** Milliseconds the rate is taken over (Kafka's Rate.windowSize). */
  windowSize(now: number): number {
    this.purge(now);
    let oldest = this.currentSample(now).startMs;
    for (const s of this.slots) if (s.startMs < oldest) oldest = s.startMs;
    let elapsed = now - oldest;
    const full = Math.floor(elapsed / this.window.windowMs);
    const minFull = this.window.samples - 1;
    if (full < minFull) elapsed += (minFull - full) * this.window.windowMs;
    return Math.max(elapsed, 1);
  }

  private currentSample(now: number): Sample {
    if (this.slots.length === 0) this.slots.push({ startMs: now, lastEventMs: now, value: 0 });
    return this.slots[this.current]!;
  }

  private advance(now: number): Sample {
    this.current = (this.current + 1) % (this.window.samples + 1);
    if (this.current >= this.slots.length) {
      const s = { startMs: now, lastEventMs: now, value: 0 };
      this.slots.push(s);
      return s;
    }
    const s = this.slots[this.current]!;
    reset(s, now);
    return s;
  }

  private purge(now: number): void {
    const expireAge = this.window.samples * this.window.windowMs;
    for (const s of this.slots) if (now - s.lastEventMs >= expireAge) reset(s, now);
  }
}

function reset(s: Sample, now: number): void {
  s.startMs = now;
  s.lastEventMs = now;
  s.value = 0;
}

/** Kafka's throttle-time sensor (an Avg): the average of the throttle times given, 0 before any. */
export class ThrottleTimeAvg {
  private count = 0;
  private sumMs = 0;

  record(ms: number): void {
    this.count++;
    this.sumMs += ms;
  }

  get avgMs(): number {
    return this.count === 0 ? 0 : this.sumMs / this.count;
  }
}

/** The quota entity tags a client's usage is counted under (Kafka's metric tags user / client-id). */
export interface QuotaTags {
  readonly user: string;
  readonly clientId: string;
}

export interface ClientSensor {
  readonly tags: QuotaTags;
  readonly rate: SampledRate;
  /** Throttle times recorded (Kafka's throttle-time sensor). */
  readonly throttle: ThrottleTimeAvg;
  lastRecordMs: number;
  /** The quota at the last record. */
  bound: number;
}

/** Per-client metrics: Kafka's byte-rate and throttle-time of a quota sensor. */
export interface ClientQuotaMetric {
  readonly user: string;
  readonly clientId: string;
  /** Units (bytes) per second now. */
  readonly rate: number;
  /** Average throttle time of the throttled requests, ms (0: none). */
  readonly throttleTimeAvgMs: number;
  readonly bound: number;
}

export interface Resolved {
  readonly tags: QuotaTags;
  readonly bound: number;
}

/** What the image's quotas resolve to for one quota key, rebuilt when the image changes. */
export class QuotaLookup {
  readonly enabled: boolean;
  private readonly cache = new Map<string, Resolved | null>();

  constructor(
    readonly image: ClientQuotasImage,
    private readonly key: string,
  ) {
    this.enabled = image.entries().some((e) => e.quotas.has(key));
  }

  resolve(user: string, clientId: string): Resolved | null {
    const cacheKey = `${user.length}:${user}${clientId}`;
    let r = this.cache.get(cacheKey);
    if (r === undefined) {
      r = this.compute(user, clientId);
      // Bounded like the sensors: cleared rather than grown past a limit.
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(cacheKey, r);
    }
    return r;
  }

  private bound(entity: ClientQuotaEntity): number | undefined {
    return this.image.quotasByKey(clientQuotaEntityKey(entity))?.get(this.key);
  }

  private compute(user: string, clientId: string): Resolved | null {
    const U = USER_ENTITY;
    const C = CLIENT_ID_ENTITY;
    const levels: [ClientQuotaEntity, QuotaTags][] = [
      [
        { [U]: user, [C]: clientId },
        { user, clientId },
      ],
      [
        { [U]: user, [C]: null },
        { user, clientId },
      ],
      [{ [U]: user }, { user, clientId: '' }],
      [
        { [U]: null, [C]: clientId },
        { user, clientId },
      ],
      [
        { [U]: null, [C]: null },
        { user, clientId },
      ],
      [{ [U]: null }, { user, clientId: '' }],
      [{ [C]: clientId }, { user: '', clientId }],
      [{ [C]: null }, { user: '', clientId }],
    ];
    for (const [entity, tags] of levels) {
      const bound = this.bound(entity);
      if (bound !== undefined) return { tags, bound };
    }
    return null;
  }
}

/**
 * The sensors of one quota, by the entity tags clients resolve to: a sensor idle for
 * INACTIVE_SENSOR_EXPIRATION_MS goes (looked for at most once a minute), so clients that come and
 * go leave nothing behind.
 */
export class QuotaSensors<S extends { lastRecordMs: number }> {
  private readonly sensors = new Map<string, S>();
  private lastExpiryMs: number;

  constructor(
    now: number,
    private readonly create: (tags: QuotaTags, now: number) => S,
  ) {
    this.lastExpiryMs = now;
  }

  /** The sensor of `tags` (made on first use), marked used at `now`. */
  get(tags: QuotaTags, now: number): S {
    this.expire(now);
    const key = `${tags.user.length}:${tags.user}${tags.clientId}`;
    let s = this.sensors.get(key);
    if (!s) {
      s = this.create(tags, now);
      this.sensors.set(key, s);
    }
    s.lastRecordMs = now;
    return s;
  }

  /** The live sensors. */
  live(now: number): IterableIterator<S> {
    this.expire(now);
    return this.sensors.values();
  }

  get size(): number {
    return this.sensors.size;
  }

  private expire(now: number): void {
    if (now - this.lastExpiryMs < 60_000) return;
    this.lastExpiryMs = now;
    for (const [key, s] of this.sensors) {
      if (now - s.lastRecordMs >= INACTIVE_SENSOR_EXPIRATION_MS) this.sensors.delete(key);
    }
  }
}

/** The quotas of the image for one quota key, looked up again when the image changes. */
export class QuotaImageView {
  private lookup: QuotaLookup | null = null;

  constructor(
    private readonly quotaKey: string,
    private readonly quotas: () => ClientQuotasImage | undefined,
  ) {}

  current(): QuotaLookup | null {
    const image = this.quotas();
    if (!image) return null;
    if (this.lookup === null || this.lookup.image !== image)
      this.lookup = new QuotaLookup(image, this.quotaKey);
    return this.lookup;
  }
}

export class ClientQuotaManager {
  private readonly view: QuotaImageView;
  private readonly sensors: QuotaSensors<ClientSensor>;

  constructor(
    /** The quota key: producer_byte_rate or consumer_byte_rate. */
    readonly quotaKey: string,
    private readonly window: QuotaWindow,
    private readonly time: Time,
    /** The client quotas of the image this broker last applied. */
    quotas: () => ClientQuotasImage | undefined,
    /**
     * The longest throttle time given (Kafka's request quota bounds it to one window,
     * ClientRequestQuotaManager.throttleTime); the byte-rate quotas have none.
     */
    private readonly maxThrottleMs = Number.POSITIVE_INFINITY,
  ) {
    this.view = new QuotaImageView(quotaKey, quotas);
    this.sensors = new QuotaSensors(time.now(), (tags, now) => ({
      tags,
      rate: new SampledRate(this.window),
      throttle: new ThrottleTimeAvg(),
      lastRecordMs: now,
      bound: Number.POSITIVE_INFINITY,
    }));
  }

  /** Whether any entity of the image has this quota (Kafka's quotasEnabled): else nothing is recorded. */
  get enabled(): boolean {
    return this.view.current()?.enabled ?? false;
  }

  /**
   * Records `value` (bytes) for the client and returns the throttle time in ms: 0 while the rate
   * is within its quota (Kafka's maybeRecordAndGetThrottleTimeMs).
   */
  recordAndGetThrottleTimeMs(user: string, clientId: string, value: number): number {
    const lookup = this.view.current();
    if (!lookup?.enabled) return 0;
    const now = this.time.now();
    const resolved = lookup.resolve(user, clientId);
    if (!resolved) return 0;
    const sensor = this.sensors.get(resolved.tags, now);
    sensor.bound = resolved.bound;
    sensor.rate.record(value, now);
    const rate = sensor.rate.measure(now);
    if (rate <= resolved.bound) return 0;
    const throttleMs = Math.min(
      Math.round(((rate - resolved.bound) / resolved.bound) * sensor.rate.windowSize(now)),
      this.maxThrottleMs,
    );
    sensor.throttle.record(throttleMs);
    return throttleMs;
  }

  /**
   * Records `value` for the client without asking for a throttle time (Kafka's recordNoThrottle:
   * the request quota's network-thread time, counted once the response is on its way).
   */
  record(user: string, clientId: string, value: number): void {
    const resolved = this.view.current()?.resolve(user, clientId);
    if (!resolved) return;
    const now = this.time.now();
    const sensor = this.sensors.get(resolved.tags, now);
    sensor.bound = resolved.bound;
    sensor.rate.record(value, now);
  }

  /**
   * Takes back a recorded value (Kafka's unrecordQuotaSensor): a throttled fetch answers with no
   * data, so what it would have sent does not count.
   */
  unrecord(user: string, clientId: string, value: number): void {
    const resolved = this.view.current()?.resolve(user, clientId);
    if (!resolved) return;
    const now = this.time.now();
    this.sensors.get(resolved.tags, now).rate.record(-value, now);
  }

  /**
   * The most that can be recorded at once without certain throttling (Kafka's
   * getMaxValueInQuotaWindow): a fetch is bounded by it, or a large fetch could never get through.
   */
  maxValueInQuotaWindow(user: string, clientId: string): number {
    const lookup = this.view.current();
    if (!lookup?.enabled) return Number.MAX_SAFE_INTEGER;
    const resolved = lookup.resolve(user, clientId);
    if (!resolved) return Number.MAX_SAFE_INTEGER;
    return resolved.bound * (this.window.samples - 1) * (this.window.windowMs / 1000);
  }

  /** The live sensors' rates and throttle times (bounded by expiry). */
  metrics(): ClientQuotaMetric[] {
    const now = this.time.now();
    return [...this.sensors.live(now)].map((s) => ({
      user: s.tags.user,
      clientId: s.tags.clientId,
      rate: s.rate.measure(now),
      throttleTimeAvgMs: s.throttle.avgMs,
      bound: s.bound,
    }));
  }

  /** Sensors held now (tests: expiry). */
  get sensorCount(): number {
    return this.sensors.size;
  }
}

/**
 * Kafka's ClientRequestQuotaManager.NanosToPercentagePerSecond, per millisecond: a request's time
 * on the broker counted as a percentage of one thread over a second (request_percentage 100 is a
 * whole thread, 200 two).
 */
export const PERCENT_PER_MS = 0.1;

/**
 * The broker's client quota managers (Kafka's QuotaManagers): producer_byte_rate on Produce,
 * consumer_byte_rate on Fetch, and request_percentage on every request a client sends (its time
 * on the broker; a throttle time at most one window, Kafka's ClientRequestQuotaManager). Requests
 * a quota does not apply to (cluster actions, followers' fetches, acks=0 produce) are counted in
 * one exempt rate while request quotas are in use (Kafka's exempt-request-time).
 */
export class ClientQuotaManagers {
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;
  readonly request: ClientQuotaManager;
  private readonly exempt: SampledRate;

  constructor(
    window: QuotaWindow,
    private readonly time: Time,
    quotas: () => ClientQuotasImage | undefined,
  ) {
    this.produce = new ClientQuotaManager('producer_byte_rate', window, time, quotas);
    this.fetch = new ClientQuotaManager('consumer_byte_rate', window, time, quotas);
    this.request = new ClientQuotaManager('request_percentage', window, time, quotas, window.windowMs);
    this.exempt = new SampledRate(window);
  }

  /** Time (percent of a thread) of a request no quota applies to (Kafka's maybeRecordExempt). */
  recordExempt(percent: number): void {
    this.exempt.record(percent, this.time.now());
  }

  /** Kafka's exempt-request-time: percent of a thread per second spent on exempt requests. */
  exemptRequestTime(): number {
    return this.exempt.measure(this.time.now());
  }
}
