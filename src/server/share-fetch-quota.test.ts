/**
 * ShareFetch under consumer_byte_rate (Kafka's ShareFetch records into the same fetch quota as
 * Fetch), over TCP on the broker's clock (MockTime): a share consumer whose fetches pass its byte
 * rate is answered with a throttle time and no records, its connection muted that long, and the
 * records acquired for that answer go back to the share-partition at once (delivered again later,
 * delivery count 2). The fetch's maxBytes is capped to what one quota window allows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies, checked field by field
type Body = Record<string, any>;

const brokers: TestBroker[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.close();
});

describe('ShareFetch and consumer_byte_rate', () => {
  it('a share consumer over its byte rate gets no records and a throttle time; what it acquired is released', async () => {
    const time = new MockTime();
    const tb = await startTestBroker({}, undefined, { time });
    brokers.push(tb);
    await tb.broker.controller.createTopic('q', 1);
    const topicId = tb.broker.metadata.topic('q')!.topicId;
    const results = await tb.broker.controller.alterClientQuotas(
      [
        {
          entity: [{ entityType: 'client-id', entityName: 'kbroker-test' }],
          ops: [{ key: 'consumer_byte_rate', value: 1000 }],
        },
      ],
      false,
    );
    expect(results.map((r) => r.errorCode)).toEqual([0]);
    const c = await TestClient.connect(tb.port);
    clients.push(c);
    // 50 records of 100 B: ~5.6 KB a batch, so one batch stays under 1000 B/s over the 10 s the
    // rate is taken over, and two pass it.
    const produce = () =>
      tb.broker.replicaManager.getPartition('q', 0)!.appendRecordsToLeader(
        buildRecordBatch({
          records: Array.from({ length: 50 }, () => ({ value: Buffer.alloc(100, 120) })),
        }),
      );
    const joined = await c.request<Body>(76, 1, {
      groupId: 'sq',
      memberId: 'm1',
      memberEpoch: 0,
      rackId: null,
      subscribedTopicNames: ['q'],
    });
    expect(joined.errorCode).toBe(0);
    const shareFetch = (epoch: number) =>
      c.request<Body>(78, 1, {
        groupId: 'sq',
        memberId: 'm1',
        shareSessionEpoch: epoch,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        maxRecords: 500,
        batchSize: 500,
        topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }],
        forgottenTopicsData: [],
      });
    expect((await shareFetch(0)).errorCode).toBe(0);
    produce();
    const first = await shareFetch(1);
    expect(first.throttleTimeMs).toBe(0);
    expect(first.responses[0].partitions[0].acquiredRecords).toEqual([
      { firstOffset: 0, lastOffset: 49, deliveryCount: 1 },
    ]);
    produce();
    const throttled = await shareFetch(2);
    expect(throttled.throttleTimeMs).toBeGreaterThan(0);
    expect(throttled.responses).toEqual([]);
    // Muted: the next request waits for the broker's clock; past the window, the released
    // records come again.
    const next = shareFetch(3);
    time.advance(11_000);
    const again = await next;
    expect(again.throttleTimeMs).toBe(0);
    expect(again.responses[0].partitions[0].acquiredRecords).toEqual([
      { firstOffset: 50, lastOffset: 99, deliveryCount: 2 },
    ]);
  });
});
