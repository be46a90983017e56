/**
 * The controller mutation quota (KIP-599, the client quota key `controller_mutation_rate`): how
 * many partitions a client (user, client-id, with the precedence of the other client quotas) may
 * create or delete per second through CreateTopics, CreatePartitions and DeleteTopics. As Kafka's
 * ControllerMutationQuotaManager, each quota entity has a token bucket (Kafka's TokenBucket stat):
 * it refills at the quota a second up to a burst of quota × `controller.quota.window.num` ×
 * `controller.quota.window.size.seconds`, and a mutation takes as many tokens as partitions, which
 * may leave it below zero.
 *
 * Requests from the versions that know the error (CreateTopics v6+, CreatePartitions v3+,
 * DeleteTopics v5+) get a strict quota: a topic met with an empty bucket (below zero) is refused
 * with THROTTLING_QUOTA_EXCEEDED, its partitions not counted; the others go through. Older
 * versions get a permissive one: nothing is refused, the client is only throttled. Either way the
 * response carries the time the bucket needs to come back to zero (−tokens / quota), and the
 * connection is muted that long.
 *
 * Kafka counts at its one active controller; here each broker counts the requests it receives, so
 * a client spreading its admin requests over N brokers of a cluster gets up to N times the quota.
 */
import type { Time } from '../common/time.js';
import type { ClientQuotasImage } from '../metadata/client-quota-image.js';
import { KafkaError } from '../protocol/kafka-error.js';
import {
  QuotaImageView,
  QuotaSensors,
  type QuotaTags,
  type QuotaWindow,
  SampledRate,
  ThrottleTimeAvg,
} from './client-quota-manager.js';

export const CONTROLLER_MUTATION_RATE = 'controller_mutation_rate';

/**
 * Kafka's TokenBucket: `tokens` refilled at `quota` a second up to the burst; a record takes its
 * value (at most down to any depth; up to the burst when the value is negative).
 */
export class TokenBucket {
  private tokens: number | null = null;
  private lastUpdateMs = 0;

  constructor(private readonly window: QuotaWindow) {}

  /** Tokens left at `now` under `quota` (a full bucket the first time). */
  measure(quota: number, now: number): number {
    const burst = this.burst(quota);
    const tokens =
      this.tokens === null
        ? burst
        : Math.min(burst, this.tokens + (quota * (now - this.lastUpdateMs)) / 1000);
    this.tokens = tokens;
    this.lastUpdateMs = now;
    return tokens;
  }

  record(quota: number, value: number, now: number): void {
    this.tokens = Math.min(this.burst(quota), this.measure(quota, now) - value);
  }

  private burst(quota: number): number {
    return this.window.samples * (this.window.windowMs / 1000) * quota;
  }
}

interface MutationSensor {
  readonly tags: QuotaTags;
  readonly bucket: TokenBucket;
  /** Partitions created or deleted per second (Kafka's mutation-rate). */
  readonly rate: SampledRate;
  /** The quota at the last record. */
  bound: number;
  /** Throttled requests' throttle times (Kafka's throttle-time sensor). */
  readonly throttle: ThrottleTimeAvg;
  lastRecordMs: number;
}

/** Kafka's kafka.server:type=ControllerMutation metrics of one quota entity. */
export interface MutationQuotaMetric {
  readonly user: string;
  readonly clientId: string;
  /** Tokens left in the bucket now (Kafka's tokens; below zero while throttled). */
  readonly tokens: number;
  /** Partitions created or deleted per second (mutation-rate). */
  readonly mutationRate: number;
  /** Average throttle time of the throttled requests, ms (0: none). */
  readonly throttleTimeAvgMs: number;
}

/** One request's quota (Kafka's ControllerMutationQuota). */
export interface ControllerMutationQuota {
  /**
   * Counts `partitions` created or deleted. Strict: throws THROTTLING_QUOTA_EXCEEDED, counting
   * nothing, when the bucket is already below zero.
   */
  record(partitions: number): void;
  /** The throttle time of the last violation, less the time since (Kafka's throttleTime). */
  throttleTimeMs(): number;
}

const UNBOUNDED: ControllerMutationQuota = {
  record() {},
  throttleTimeMs: () => 0,
};

export class ControllerMutationQuotaManager {
  private readonly view: QuotaImageView;
  private readonly sensors: QuotaSensors<MutationSensor>;

  constructor(
    private readonly window: QuotaWindow,
    private readonly time: Time,
    quotas: () => ClientQuotasImage | undefined,
  ) {
    this.view = new QuotaImageView(CONTROLLER_MUTATION_RATE, quotas);
    this.sensors = new QuotaSensors(time.now(), (tags, now) => ({
      tags,
      bucket: new TokenBucket(this.window),
      rate: new SampledRate(this.window),
      bound: Number.POSITIVE_INFINITY,
      throttle: new ThrottleTimeAvg(),
      lastRecordMs: now,
    }));
  }

  /**
   * The quota of one request from (user, clientId): strict from the version that knows
   * THROTTLING_QUOTA_EXCEEDED, else permissive; unbounded when no entity has this quota.
   */
  newQuotaFor(user: string, clientId: string, strict: boolean): ControllerMutationQuota {
    const lookup = this.view.current();
    if (!lookup?.enabled) return UNBOUNDED;
    const resolved = lookup.resolve(user, clientId);
    if (!resolved) return UNBOUNDED;
    const { bound } = resolved;
    const time = this.time;
    const sensor = this.sensors.get(resolved.tags, time.now());
    sensor.bound = bound;
    let lastThrottleMs = 0;
    let throttleCounted = false;
    let lastRecordedMs = 0;
    /** −tokens / quota in ms when the bucket is below zero (Kafka's throttleTimeMs of a TokenBucket). */
    const violation = (now: number): number => {
      const tokens = sensor.bucket.measure(bound, now);
      return tokens < 0 ? Math.round((-tokens / bound) * 1000) : 0;
    };
    return {
      record(partitions: number): void {
        const now = time.now();
        sensor.lastRecordMs = now;
        if (strict) {
          const throttle = violation(now);
          if (throttle > 0) {
            lastThrottleMs = throttle;
            lastRecordedMs = now;
            throw new KafkaError('THROTTLING_QUOTA_EXCEEDED', 'The throttling quota has been exceeded.');
          }
          sensor.bucket.record(bound, partitions, now);
          sensor.rate.record(partitions, now);
        } else {
          sensor.bucket.record(bound, partitions, now);
          sensor.rate.record(partitions, now);
          const throttle = violation(now);
          if (throttle > 0) {
            lastThrottleMs = throttle;
            lastRecordedMs = now;
          }
        }
      },
      throttleTimeMs: () => {
        const ms = Math.max(0, lastThrottleMs - (time.now() - lastRecordedMs));
        // The request's throttle time, counted once (Kafka records it when it throttles the channel).
        if (ms > 0 && !throttleCounted) {
          throttleCounted = true;
          sensor.throttle.record(ms);
        }
        return ms;
      },
    };
  }

  /** The live sensors' tokens, mutation rates and throttle times (bounded by expiry). */
  metrics(): MutationQuotaMetric[] {
    const now = this.time.now();
    return [...this.sensors.live(now)].map((s) => ({
      user: s.tags.user,
      clientId: s.tags.clientId,
      tokens: s.bucket.measure(s.bound, now),
      mutationRate: s.rate.measure(now),
      throttleTimeAvgMs: s.throttle.avgMs,
    }));
  }

  /** Sensors held now (tests: expiry). */
  get sensorCount(): number {
    return this.sensors.size;
  }
}
