/**
 * ClientQuotaManager with MockTime: Kafka's rate over sampled windows (the first seconds read as
 * `samples − 1` full windows), the throttle time (rate − bound) / bound × window, Kafka's
 * precedence of user / client-id entities (and a user quota shared by the user's client ids),
 * quotas followed as the image changes, the fetch bound, unrecord, and idle sensors expired.
 */
import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { MetadataImage } from '../metadata/image.js';
import type { ClientQuotaRecord } from '../metadata/records.js';
import {
  ClientQuotaManager,
  ClientQuotaManagers,
  INACTIVE_SENSOR_EXPIRATION_MS,
  SampledRate,
} from './client-quota-manager.js';

const rec = (entity: Record<string, string | null>, key: string, value: number): ClientQuotaRecord => ({
  type: 'ClientQuotaRecord',
  entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
  key,
  value,
  remove: false,
});

const WINDOW = { samples: 11, windowMs: 1000 };

function manager(records: ClientQuotaRecord[], time = new MockTime()) {
  let image = MetadataImage.EMPTY.apply(records).image;
  const m = new ClientQuotaManager('producer_byte_rate', WINDOW, time, () => image.clientQuotas);
  return {
    m,
    time,
    change(more: ClientQuotaRecord[]) {
      image = image.apply(more).image;
    },
  };
}

describe('SampledRate (Kafka Rate over SampledStat)', () => {
  it('takes the window as at least samples − 1 full windows, then the real elapsed time', () => {
    const time = new MockTime();
    const r = new SampledRate(WINDOW);
    r.record(5000, time.now());
    expect(r.windowSize(time.now())).toBe(10_000);
    expect(r.measure(time.now())).toBe(500);
    time.advance(10_500);
    r.record(0, time.now());
    expect(r.windowSize(time.now())).toBe(10_500);
    // A sample idle for the whole monitored window (11 s) is dropped.
    time.advance(11_000);
    expect(r.measure(time.now())).toBe(0);
  });
});

describe('ClientQuotaManager', () => {
  it('no quota of its key: nothing recorded, never throttled', () => {
    const { m } = manager([rec({ user: 'alice' }, 'consumer_byte_rate', 1)]);
    expect(m.enabled).toBe(false);
    expect(m.recordAndGetThrottleTimeMs('alice', 'app', 1e9)).toBe(0);
    expect(m.sensorCount).toBe(0);
  });

  it("throttles by Kafka's formula once the rate passes the bound", () => {
    const { m, time } = manager([rec({ user: 'alice' }, 'producer_byte_rate', 1000)]);
    // 5000 B over the assumed 10 s: 500 B/s.
    expect(m.recordAndGetThrottleTimeMs('alice', 'app', 5000)).toBe(0);
    // 11000 B / 10 s = 1100 B/s: (1100 − 1000) / 1000 × 10000 ms.
    expect(m.recordAndGetThrottleTimeMs('alice', 'app', 6000)).toBe(1000);
    // The same user from another client id shares the user's quota.
    expect(m.recordAndGetThrottleTimeMs('alice', 'other', 1000)).toBe(2000);
    // Time passing brings the rate down: 12000 B over 12 s is 1000 B/s.
    time.advance(12_000);
    expect(m.recordAndGetThrottleTimeMs('alice', 'app', 0)).toBe(0);
    const [metric] = m.metrics();
    expect(metric).toMatchObject({ user: 'alice', clientId: '', bound: 1000, throttleTimeAvgMs: 1500 });
  });

  it("follows Kafka's precedence of entities", () => {
    const { m, change } = manager([
      rec({ 'client-id': null }, 'producer_byte_rate', 8),
      rec({ 'client-id': 'app' }, 'producer_byte_rate', 7),
      rec({ user: null }, 'producer_byte_rate', 6),
      rec({ user: null, 'client-id': null }, 'producer_byte_rate', 5),
      rec({ user: null, 'client-id': 'app' }, 'producer_byte_rate', 4),
      rec({ user: 'alice' }, 'producer_byte_rate', 3),
      rec({ user: 'alice', 'client-id': null }, 'producer_byte_rate', 2),
      rec({ user: 'alice', 'client-id': 'app' }, 'producer_byte_rate', 1),
    ]);
    // The bound shows as max value in a quota window: bound × (samples − 1) × window seconds.
    const bound = (user: string, clientId: string) => m.maxValueInQuotaWindow(user, clientId) / 10;
    expect(bound('alice', 'app')).toBe(1);
    expect(bound('alice', 'x')).toBe(2);
    expect(bound('bob', 'app')).toBe(4);
    expect(bound('bob', 'x')).toBe(5);
    change([
      { ...rec({ user: 'alice', 'client-id': null }, 'producer_byte_rate', 0), remove: true },
      { ...rec({ user: 'alice', 'client-id': 'app' }, 'producer_byte_rate', 0), remove: true },
      { ...rec({ user: null, 'client-id': null }, 'producer_byte_rate', 0), remove: true },
      { ...rec({ user: null, 'client-id': 'app' }, 'producer_byte_rate', 0), remove: true },
    ]);
    expect(bound('alice', 'app')).toBe(3);
    expect(bound('bob', 'app')).toBe(6);
    change([{ ...rec({ user: null }, 'producer_byte_rate', 0), remove: true }]);
    expect(bound('bob', 'app')).toBe(7);
    expect(bound('bob', 'x')).toBe(8);
    change([{ ...rec({ 'client-id': null }, 'producer_byte_rate', 0), remove: true }]);
    expect(bound('bob', 'x')).toBe(Number.MAX_SAFE_INTEGER / 10);
    expect(m.recordAndGetThrottleTimeMs('bob', 'x', 1e12)).toBe(0);
  });

  it('unrecord takes a value back', () => {
    const { m } = manager([rec({ 'client-id': 'c' }, 'producer_byte_rate', 100)]);
    expect(m.recordAndGetThrottleTimeMs('u', 'c', 2000)).toBe(10_000);
    m.unrecord('u', 'c', 2000);
    expect(m.recordAndGetThrottleTimeMs('u', 'c', 500)).toBe(0);
  });

  it('drops sensors idle for an hour', () => {
    const { m, time } = manager([rec({ user: null, 'client-id': null }, 'producer_byte_rate', 100)]);
    for (let i = 0; i < 50; i++) m.recordAndGetThrottleTimeMs(`user-${i}`, `client-${i}`, 1);
    expect(m.sensorCount).toBe(50);
    time.advance(INACTIVE_SENSOR_EXPIRATION_MS / 2);
    m.recordAndGetThrottleTimeMs('user-0', 'client-0', 1);
    time.advance(INACTIVE_SENSOR_EXPIRATION_MS / 2 + 1);
    m.recordAndGetThrottleTimeMs('late', 'client', 1);
    expect(m.sensorCount).toBe(2);
  });
});

describe('request_percentage (ClientQuotaManagers.request)', () => {
  it("bounds the throttle time to one window (Kafka's request quota) and records a response's time without a throttle", () => {
    const time = new MockTime();
    const image = MetadataImage.EMPTY.apply([rec({ 'client-id': 'c' }, 'request_percentage', 1)]).image;
    const q = new ClientQuotaManagers(WINDOW, time, () => image.clientQuotas);
    // 50 % of a thread for a second, over a 10 s window: 5 %/s against 1 %/s → 40 s unbounded.
    expect(q.request.recordAndGetThrottleTimeMs('', 'c', 50)).toBe(1000);
    // The byte-rate quotas keep Kafka's unbounded throttle time.
    const bytes = MetadataImage.EMPTY.apply([rec({ 'client-id': 'c' }, 'producer_byte_rate', 1)]).image;
    const p = new ClientQuotaManagers(WINDOW, time, () => bytes.clientQuotas);
    expect(p.produce.recordAndGetThrottleTimeMs('', 'c', 50)).toBe(40_000);
    // record(): counted, never a throttle time of its own; the next request pays for it.
    const r = new ClientQuotaManagers(WINDOW, time, () => image.clientQuotas);
    r.request.record('', 'c', 9);
    expect(r.request.metrics()[0]!.rate).toBeCloseTo(0.9);
    expect(r.request.recordAndGetThrottleTimeMs('', 'c', 0.5)).toBe(0); // 0.95 %/s: within 1
    expect(r.request.recordAndGetThrottleTimeMs('', 'c', 1)).toBe(500); // 1.05: (0.05 / 1) × 10 s
    r.recordExempt(20);
    expect(r.exemptRequestTime()).toBe(2);
  });
});
