/**
 * request_percentage (Kafka's request quota) over TCP, on the broker's clock (MockTime): a client
 * whose requests take more of the broker's time than its quota is answered with a throttle time
 * (at most one quota window, 1 s here) on every kind of request, then its connection stays muted
 * that long; a consumer's fetch throttled by it answers no data. Requests no quota applies to
 * (produce with acks=0) count as exempt and mute nothing. The test client's client id is
 * `kbroker-test`; the quota is far below what any request takes, so each one is over it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { scrape } from '../ops/prometheus.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { createHostedTopic, startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { clientSeries, seriesValue } from '../test-support/metrics.js';

const brokers: TestBroker[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.close();
});

async function broker(time: MockTime, quotas: { clientId: string; percent: number }[]): Promise<TestBroker> {
  const tb = await startTestBroker({ 'num.partitions': '1' }, undefined, { time });
  brokers.push(tb);
  await createHostedTopic(tb.broker, 'rq', 1); // produced to below (a Produce creates no topic)
  const results = await tb.broker.controller.alterClientQuotas(
    quotas.map((q) => ({
      entity: [{ entityType: 'client-id', entityName: q.clientId }],
      ops: [{ key: 'request_percentage', value: q.percent }],
    })),
    false,
  );
  expect(results.map((r) => r.errorCode)).toEqual(quotas.map(() => 0));
  return tb;
}

async function connect(port: number): Promise<TestClient> {
  const c = await TestClient.connect(port);
  clients.push(c);
  return c;
}

/** Resolves true if `p` settles before the broker's clock is moved (the connection was not muted). */
function answeredWithoutTime<T>(p: Promise<T>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 300))]);
}

type Throttled = { throttleTimeMs: number };
const metadata = (c: TestClient) => c.request<Throttled & { topics: unknown[] }>(3, 12, { topics: null });
const apiVersions = (c: TestClient) =>
  c.request<Throttled>(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
const produceBody = (acks: number) => ({
  transactionalId: null,
  acks,
  timeoutMs: 5000,
  topicData: [
    {
      name: 'rq',
      partitionData: [
        { index: 0, records: buildRecordBatch({ records: [{ key: null, value: Buffer.from('v') }] }) },
      ],
    },
  ],
});
type FetchAnswer = Throttled & {
  errorCode: number;
  sessionId: number;
  responses: { topic: string; partitions: { partitionIndex: number; logStartOffset: number }[] }[];
};
/** Fetch v11 of rq-0 from `fetchOffset`; by default sessionless (epoch −1). */
const fetch = (c: TestClient, fetchOffset = 0, session = { id: 0, epoch: -1 }, partitions = true) =>
  c.request<FetchAnswer>(1, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: session.id,
    sessionEpoch: session.epoch,
    topics: partitions
      ? [
          {
            topic: 'rq',
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset,
                logStartOffset: -1,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ]
      : [],
    forgottenTopicsData: [],
    rackId: '',
  });

describe('request_percentage', () => {
  it('answers every request over the quota with a throttle time of at most one window, then mutes the connection', async () => {
    const time = new MockTime();
    const b = await broker(time, [{ clientId: 'kbroker-test', percent: 1e-9 }]);
    const c = await connect(b.port);
    const m = await metadata(c);
    expect(m.throttleTimeMs).toBe(1000); // Kafka bounds a request quota's throttle time to the window
    // Muted: the next request waits for the broker's clock.
    const next = apiVersions(c);
    expect(await answeredWithoutTime(next)).toBe(false);
    time.advance(1000);
    expect((await next).throttleTimeMs).toBe(1000);
    time.advance(1000);
    const produced = await c.request<
      Throttled & { responses: { partitionResponses: { errorCode: number }[] }[] }
    >(0, 7, produceBody(1));
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0); // throttled, not refused
    expect(produced.throttleTimeMs).toBe(1000);
    time.advance(1000);
    // A consumer's fetch over the quota answers no data (the record is there).
    const f = await fetch(c);
    expect(f.throttleTimeMs).toBe(1000);
    expect(f.responses).toEqual([]);
    expect(b.broker.replicaManager.getPartition('rq', 0)!.logEndOffset).toBe(1);
  });

  it('does not throttle a produce with acks=0 (exempt) nor a client without the quota; the sensors are on /metrics', async () => {
    const time = new MockTime();
    const b = await broker(time, [{ clientId: 'kbroker-test', percent: 1e-9 }]);
    const c = await connect(b.port);
    // No response to acks=0, and no mute: the next request is read at once (and is itself over).
    c.socket.write(c.frame(0, 7, produceBody(0)));
    const v = apiVersions(c);
    expect(await answeredWithoutTime(v)).toBe(true);
    expect((await v).throttleTimeMs).toBe(1000);
    // The same quota on another client id's entity does not hold this broker's other clients.
    const other = await broker(new MockTime(), [{ clientId: 'someone-else', percent: 1e-9 }]);
    const o = await connect(other.port);
    expect((await metadata(o)).throttleTimeMs).toBe(0);
    expect(await answeredWithoutTime(metadata(o))).toBe(true);
    const text = await scrape(b.broker);
    const value = (name: string) => seriesValue(text, clientSeries(name, 'kbroker-test'));
    expect(value('kafka_server_request_request_time')).toBeGreaterThan(0);
    expect(value('kafka_server_request_throttle_time')).toBe(1000);
    expect(seriesValue(text, 'kafka_server_request_exempt_request_time')).toBeGreaterThan(0);
  });

  it("a throttled fetch leaves the fetch sessions as they were (Kafka's getThrottledResponse)", async () => {
    const time = new MockTime();
    const b = await broker(time, []);
    const c = await connect(b.port);
    for (let i = 0; i < 3; i++) await c.request(0, 7, produceBody(1));
    // A session of rq-0, caught up at offset 3.
    const full = await fetch(c, 3, { id: 0, epoch: 0 });
    expect(full.sessionId).not.toBe(0);
    const sessionId = full.sessionId;
    // The log start moves: the next incremental answer must carry rq-0 with its new log start offset.
    await c.request(21, 2, {
      topics: [{ name: 'rq', partitions: [{ partitionIndex: 0, offset: 2 }] }],
      timeoutMs: 5000,
    });
    const setQuota = (value: number | null) =>
      b.broker.controller.alterClientQuotas(
        [
          {
            entity: [{ entityType: 'client-id', entityName: 'kbroker-test' }],
            ops: [{ key: 'request_percentage', value }],
          },
        ],
        false,
      );
    await setQuota(1e-9);
    const throttled = await fetch(c, 3, { id: sessionId, epoch: 1 }, false);
    expect([throttled.throttleTimeMs, throttled.errorCode, throttled.sessionId, throttled.responses]).toEqual(
      [1000, 0, sessionId, []],
    );
    // A full fetch over the quota creates no session (INVALID_SESSION_ID), as Kafka's.
    time.advance(1000);
    const sessionsBefore = b.broker.services.fetchSessions.size;
    const fullThrottled = await fetch(await connect(b.port), 0, { id: 0, epoch: 0 });
    expect([fullThrottled.throttleTimeMs, fullThrottled.sessionId]).toEqual([1000, 0]);
    expect(b.broker.services.fetchSessions.size).toBe(sessionsBefore);
    await setQuota(null);
    // The session did not take the throttled answer as sent: rq-0 comes with log start 2.
    const next = await fetch(c, 3, { id: sessionId, epoch: 2 }, false);
    expect(next.errorCode).toBe(0);
    expect(
      next.responses.map((t) => t.partitions.map((p) => [t.topic, p.partitionIndex, p.logStartOffset])),
    ).toEqual([[['rq', 0, 2]]]);
  });
});
