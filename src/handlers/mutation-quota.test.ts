/**
 * controller_mutation_rate (KIP-599) over TCP: CreateTopics v7, CreatePartitions v3 and DeleteTopics v6
 * refuse the topics met with a spent quota (THROTTLING_QUOTA_EXCEEDED, their partitions not counted)
 * and answer the throttle time; the connection then stays muted that long (broker clock: MockTime).
 * Older versions are only throttled. The test client's client id is `kbroker-test`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { scrape } from '../ops/prometheus.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { clientSeries, seriesValue } from '../test-support/metrics.js';
import { ZERO_UUID } from './topic-admin.js';

let tb: TestBroker | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  await tb?.close();
  tb = undefined;
  client = undefined;
});

/** A broker on `time` where the test client may create or delete 2 partitions a second (burst 22). */
async function withQuota(time: MockTime): Promise<TestClient> {
  tb = await startTestBroker({}, undefined, { time });
  const [r] = await tb.broker.controller.alterClientQuotas(
    [
      {
        entity: [{ entityType: 'client-id', entityName: 'kbroker-test' }],
        ops: [{ key: 'controller_mutation_rate', value: 2 }],
      },
    ],
    false,
  );
  expect(r!.errorCode).toBe(0);
  client = await TestClient.connect(tb.port);
  return client;
}

type Topics = {
  throttleTimeMs: number;
  topics: { name: string; errorCode: number; errorMessage: string | null }[];
};
const creatable = (name: string, numPartitions: number) => ({
  name,
  numPartitions,
  replicationFactor: 1,
  assignments: [],
  configs: [],
});
const createTopics = (c: TestClient, version: number, topics: [string, number][], validateOnly = false) =>
  c.request<Topics>(19, version, {
    topics: topics.map(([n, p]) => creatable(n, p)),
    timeoutMs: 5000,
    validateOnly,
  });

/** Resolves true if `p` settles before the broker's clock is moved (the connection was not muted). */
function answeredWithoutTime<T>(p: Promise<T>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 300))]);
}

describe('controller_mutation_rate (KIP-599)', () => {
  it('CreateTopics v7: topics past the spent quota are refused with the throttle time, then the connection is muted', async () => {
    const time = new MockTime();
    const c = await withQuota(time);
    // 22 tokens: a (10) → 12, b (10) → 2, c (10) → −8 goes through (checked before), d is refused.
    const r = await createTopics(c, 7, [
      ['a', 10],
      ['b', 10],
      ['c', 10],
      ['d', 1],
    ]);
    expect(r.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 0],
      ['d', ErrorCode.THROTTLING_QUOTA_EXCEEDED],
    ]);
    expect(r.topics[3]!.errorMessage).toBe('The throttling quota has been exceeded.');
    expect(r.throttleTimeMs).toBe(4000); // −8 tokens at 2 a second
    expect(tb!.broker.metadata.topic('d')).toBeUndefined();
    // Kafka's ControllerMutation sensors of the client: the bucket 8 below zero, 30 partitions over
    // the 10 s window, one request throttled 4 s.
    const text = await scrape(tb!.broker);
    const series = (name: string) => seriesValue(text, clientSeries(name, 'kbroker-test'));
    expect(series('kafka_server_controllermutation_tokens')).toBe(-8);
    expect(series('kafka_server_controllermutation_mutation_rate')).toBe(3);
    expect(series('kafka_server_controllermutation_throttle_time')).toBe(4000);
    // Muted for the throttle time: the next request waits for the broker's clock.
    const next = createTopics(c, 7, [['d', 1]]);
    expect(await answeredWithoutTime(next)).toBe(false);
    time.advance(4000);
    const later = await next;
    expect(later.topics.map((t) => t.errorCode)).toEqual([0]); // the bucket is back at zero: goes through
    expect(tb!.broker.metadata.topic('d')!.partitions).toHaveLength(1);
  });

  it('validate_only counts too; CreatePartitions v3 and DeleteTopics v6 are held by the same bucket', async () => {
    const time = new MockTime();
    const c = await withQuota(time);
    const v = await createTopics(c, 7, [['x', 20]], true); // 22 → 2, nothing created
    expect(v.topics[0]!.errorCode).toBe(0);
    expect(tb!.broker.metadata.topic('x')).toBeUndefined();
    await createTopics(c, 7, [['x', 4]]); // 2 → −2
    time.advance(1000); // the mute (1 s) is over; 0 tokens: not below zero
    const grow = await c.request<{ throttleTimeMs: number; results: { name: string; errorCode: number }[] }>(
      37,
      3,
      { topics: [{ name: 'x', count: 10, assignments: null }], timeoutMs: 5000, validateOnly: false },
    );
    expect(grow.results).toEqual([expect.objectContaining({ name: 'x', errorCode: 0 })]); // 0 → −6
    expect(grow.throttleTimeMs).toBe(0); // no violation was recorded by this request
    const del = await c.request<{
      throttleTimeMs: number;
      responses: { name: string; errorCode: number; errorMessage: string | null }[];
    }>(20, 6, { topics: [{ name: 'x', topicId: ZERO_UUID }], timeoutMs: 5000 });
    expect(del.responses.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['x', ErrorCode.THROTTLING_QUOTA_EXCEEDED, 'The throttling quota has been exceeded.'],
    ]);
    expect(del.throttleTimeMs).toBe(3000);
    expect(tb!.broker.metadata.topic('x')!.partitions).toHaveLength(10);
  });

  it('older versions (CreateTopics v5) are never refused, only throttled', async () => {
    const time = new MockTime();
    const c = await withQuota(time);
    const r = await createTopics(c, 5, [
      ['p', 20],
      ['q', 20],
    ]);
    expect(r.topics.map((t) => t.errorCode)).toEqual([0, 0]);
    expect(r.throttleTimeMs).toBe(9000); // 22 − 40 = −18 at 2 a second
    expect(tb!.broker.metadata.topic('q')!.partitions).toHaveLength(20);
  });

  it('leaves clients without the quota alone', async () => {
    tb = await startTestBroker();
    client = await TestClient.connect(tb.port);
    const r = await createTopics(client, 7, [
      ['m', 100],
      ['n', 100],
    ]);
    expect(r.topics.map((t) => t.errorCode)).toEqual([0, 0]);
    expect(r.throttleTimeMs).toBe(0);
  });
});
