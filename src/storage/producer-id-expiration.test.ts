/**
 * Producer ids expire while the broker runs (Kafka's PeriodicProducerExpirationCheck): every
 * `producer.id.expiration.check.interval.ms`, a partition forgets the producers whose last batch
 * is `producer.id.expiration.ms` old and that have no open transaction. kafkajs idempotent
 * producers on a broker driven by MockTime: the idle one leaves DescribeProducers, the recent one
 * stays; a retry of the expired producer's old sequence is then taken as from an unknown producer
 * (appended again, as Kafka since KIP-360 accepts any sequence from a producer it has no state
 * for), while the live producer's retry is still answered as a duplicate; a restart keeps it so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { encodeRecordBatch } from '../protocol/records.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded response bodies are checked field by field
type Any = any;

const CONFIG = {
  'producer.id.expiration.ms': '60000',
  'producer.id.expiration.check.interval.ms': '1000',
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('producer id expiration', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(dataDir: string, time: MockTime): Promise<{ tb: TestBroker; c: TestClient }> {
    const tb = await startTestBroker(CONFIG, dataDir, { time });
    const c = await TestClient.connect(tb.port);
    // Bound before Object.assign below replaces tb.close with this wrapper (calling tb.close()
    // inside it would call the wrapper itself: no broker closed, the directory removed under it).
    const closeBroker = tb.close.bind(tb);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      c.close();
      await closeBroker();
    };
    cleanups.push(close);
    return { tb: Object.assign(tb, { close }), c };
  }

  async function producers(c: TestClient, topic: string): Promise<Any[]> {
    const r: Any = await c.request(61, 0, { topics: [{ name: topic, partitionIndexes: [0] }] });
    expect(r.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    return r.topics[0].partitions[0].activeProducers;
  }

  async function produceRaw(c: TestClient, topic: string, producerId: number, values: string[]) {
    const records = encodeRecordBatch({
      producerId,
      producerEpoch: 0,
      baseSequence: 0,
      records: values.map((value) => ({ value })),
    });
    const r: Any = await c.request(0, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    return r.responses[0].partitionResponses[0];
  }

  it('forgets idle producers and their dedup state, keeps recent ones, also after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-pid-expiry-'));
    dirs.push(dataDir);
    const time = new MockTime(Date.now());
    let { tb, c } = await start(dataDir, time);
    const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'idem', numPartitions: 1 }] });
    await admin.disconnect();

    const newProducer = async (): Promise<Producer> => {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      return p;
    };
    // Batch timestamps follow the broker's clock: expiry is measured from them, as in Kafka.
    const at = () => String(time.now());
    const idle = await newProducer();
    await idle.send({
      topic: 'idem',
      messages: [
        { value: 'i0', timestamp: at() },
        { value: 'i1', timestamp: at() },
      ],
    });
    await idle.disconnect();
    const [idleState] = await producers(c, 'idem');
    const idleId = Number(idleState.producerId);

    await time.advanceAsync(40_000, 1000);
    const recent = await newProducer();
    await recent.send({ topic: 'idem', messages: [{ value: 'r0', timestamp: at() }] });
    await recent.disconnect();
    expect((await producers(c, 'idem')).map((p) => Number(p.producerId)).sort()).toHaveLength(2);
    const recentId = Number(
      (await producers(c, 'idem')).find((p) => Number(p.producerId) !== idleId).producerId,
    );

    // 60 s after the idle producer's batch the next check removes it; the recent one is 20 s old.
    await time.advanceAsync(20_000, 1000);
    expect((await producers(c, 'idem')).map((p) => Number(p.producerId))).toEqual([recentId]);

    // The expired producer's retry of its first batch is not recognised any more: appended anew.
    const retryIdle = await produceRaw(c, 'idem', idleId, ['i0', 'i1']);
    expect(retryIdle).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 3 });
    // The live producer's retry is still a duplicate, answered with its original offset.
    const retryRecent = await produceRaw(c, 'idem', recentId, ['r0']);
    expect(retryRecent).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    expect(tb.broker.logManager.getLog('idem', 0)!.logEndOffset).toBe(5);

    // The re-appended idle producer is known again (timestamped by the client, here long ago);
    // it expires at the next check, the live one 60 s after its batch.
    await time.advanceAsync(1000, 1000);
    expect((await producers(c, 'idem')).map((p) => Number(p.producerId))).toEqual([recentId]);

    // A restart (snapshot written at close) brings back only what had not expired.
    await (tb as TestBroker & { close(): Promise<void> }).close();
    ({ tb, c } = await start(dataDir, time));
    expect((await producers(c, 'idem')).map((p) => Number(p.producerId))).toEqual([recentId]);
    await time.advanceAsync(40_000, 1000);
    expect(await producers(c, 'idem')).toEqual([]);
  });
});
