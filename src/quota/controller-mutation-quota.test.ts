import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { ClientQuotasImage } from '../metadata/client-quota-image.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { ControllerMutationQuotaManager, TokenBucket } from './controller-mutation-quota.js';

const window = { samples: 11, windowMs: 1000 };

describe('TokenBucket (Kafka’s)', () => {
  it('starts full at quota × samples × window, refills at the quota, and may go below zero', () => {
    const b = new TokenBucket(window);
    expect(b.measure(2, 0)).toBe(22);
    b.record(2, 30, 0);
    expect(b.measure(2, 0)).toBe(-8);
    expect(b.measure(2, 1000)).toBe(-6);
    expect(b.measure(2, 100_000)).toBe(22); // never above the burst
  });
});

function manager(time: MockTime, rate: number | null) {
  let image = ClientQuotasImage.EMPTY;
  if (rate !== null) {
    image = image.apply([
      {
        type: 'ClientQuotaRecord',
        entity: [{ entityType: 'client-id', entityName: 'admin' }],
        key: 'controller_mutation_rate',
        value: rate,
        remove: false,
      },
    ]);
  }
  return new ControllerMutationQuotaManager(window, time, () => image);
}

const refused = (f: () => void) => {
  try {
    f();
  } catch (err) {
    return err instanceof KafkaError ? err.error : String(err);
  }
  return null;
};

describe('ControllerMutationQuotaManager (KIP-599)', () => {
  it('strict: refuses once the bucket is below zero, with the time it needs to come back', () => {
    const time = new MockTime();
    const q = manager(time, 2).newQuotaFor('User:ANONYMOUS', 'admin', true);
    expect(refused(() => q.record(10))).toBeNull(); // 22 → 12
    expect(refused(() => q.record(10))).toBeNull(); // 12 → 2
    expect(refused(() => q.record(10))).toBeNull(); // 2 → −8: checked before, so it goes through
    expect(q.throttleTimeMs()).toBe(0);
    expect(refused(() => q.record(1))).toBe('THROTTLING_QUOTA_EXCEEDED'); // −8 / 2 a second: 4 s
    expect(q.throttleTimeMs()).toBe(4000);
    time.advance(1000);
    expect(q.throttleTimeMs()).toBe(3000);
    time.advance(3000); // −8 + 4 s × 2: zero, not below
    expect(q.throttleTimeMs()).toBe(0);
    expect(refused(() => q.record(1))).toBeNull();
  });

  it('the same client’s requests share one bucket; refused partitions are not counted', () => {
    const time = new MockTime();
    const m = manager(time, 2);
    const a = m.newQuotaFor('User:ANONYMOUS', 'admin', true);
    a.record(30); // 22 → −8
    expect(refused(() => a.record(5))).toBe('THROTTLING_QUOTA_EXCEEDED');
    const b = m.newQuotaFor('User:ANONYMOUS', 'admin', true);
    expect(refused(() => b.record(5))).toBe('THROTTLING_QUOTA_EXCEEDED');
    time.advance(4000); // −8 + 8: zero, not below
    expect(refused(() => b.record(5))).toBeNull();
    expect(m.sensorCount).toBe(1);
  });

  it('permissive (older versions): never refuses, only throttles', () => {
    const time = new MockTime();
    const q = manager(time, 2).newQuotaFor('User:ANONYMOUS', 'admin', false);
    expect(refused(() => q.record(30))).toBeNull(); // −8
    expect(q.throttleTimeMs()).toBe(4000);
    expect(refused(() => q.record(10))).toBeNull(); // −18
    expect(q.throttleTimeMs()).toBe(9000);
  });

  it('is unbounded for clients without the quota and when no entity has it', () => {
    const time = new MockTime();
    const other = manager(time, 2).newQuotaFor('User:ANONYMOUS', 'someone-else', true);
    const none = manager(time, null).newQuotaFor('User:ANONYMOUS', 'admin', true);
    for (const q of [other, none]) {
      for (let i = 0; i < 10; i++) expect(refused(() => q.record(1000))).toBeNull();
      expect(q.throttleTimeMs()).toBe(0);
    }
  });
});
