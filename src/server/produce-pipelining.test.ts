/**
 * A produce that only waits — for its replicas (acks=-1) or its fsync (flush.messages) — lets the
 * connection go on to its next request (RequestContext.releaseOrder), so a pipelining producer's
 * next batches are appended meanwhile and share the replicas' fetch or the fsync; the answers still
 * leave in request order.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';

let tc: TestCluster | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  await tc?.close();
  tc = undefined;
});

interface ProduceResult {
  responses: {
    name: string;
    partitionResponses: { index: number; errorCode: number; baseOffset: number }[];
  }[];
}

const produce = (c: TestClient, topic: string, value: string, acks = -1) =>
  c.request<ProduceResult>(0, 7, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [
      {
        name: topic,
        partitionData: [
          { index: 0, records: buildRecordBatch({ records: [{ key: null, value: Buffer.from(value) }] }) },
        ],
      },
    ],
  });

describe('pipelined produce on one connection', () => {
  it('appends the next acks=-1 batch while the one before waits for its replica; answers in request order', async () => {
    tc = await startTestCluster(2);
    await tc.createTopic('pipe', [[1, 2]]);
    const leader = tc.partitionOn(1, 'pipe');
    await until(() => leader.isLeader && tc!.partitionOn(2, 'pipe').leaderEpoch === leader.leaderEpoch, 5000);
    // Broker 2 cut off: the leader's high watermark cannot move (Cluster.isolate), so an acks=-1
    // produce waits — until broker 2's session times out and the ISR shrinks, long after this test.
    tc.cluster.isolate(2);
    client = await TestClient.connect(Number(tc.bootstrap(1).split(':')[1]));
    // Three requests back to back: TestClient takes answers in order and checks each one's
    // correlation id, so an answer overtaking another fails its request.
    const first = produce(client, 'pipe', 'a');
    const second = produce(client, 'pipe', 'b');
    const versions = client.request<{ errorCode: number }>(18, 3, {
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    });
    let answered = 0;
    for (const p of [first, second, versions]) void p.then(() => answered++);
    // Both batches are in the leader's log while neither is answered: the first one's wait did not
    // hold the second (processed one at a time, the log would end at 1 here).
    await until(() => leader.logEndOffset === 2, 5000, 'both batches appended');
    expect(leader.highWatermark).toBe(0);
    expect(answered).toBe(0); // not even the ApiVersions behind them
    tc.cluster.heal(2);
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.responses[0]!.partitionResponses[0])).toMatchObject([
      { index: 0, errorCode: 0, baseOffset: 0 },
      { index: 0, errorCode: 0, baseOffset: 1 },
    ]);
    expect((await versions).errorCode).toBe(0);
  });

  it('kafkajs: concurrent acks=-1 sends on one connection are all appended while the first waits, acknowledged in order', async () => {
    tc = await startTestCluster(2);
    await tc.createTopic('sends', [[1, 2]]);
    const leader = tc.partitionOn(1, 'sends');
    await until(
      () => leader.isLeader && tc!.partitionOn(2, 'sends').leaderEpoch === leader.leaderEpoch,
      5000,
    );
    const kafka = new Kafka({ brokers: [tc.bootstrap(1)], clientId: 'pipe', logLevel: logLevel.NOTHING });
    // kafkajs's default: no limit on the requests in flight on a connection (not idempotent).
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: 'sends', acks: -1, messages: [{ value: 'warm' }] }); // metadata, connection
      tc.cluster.isolate(2);
      // Offsets in the order the acknowledgements arrive (kafkajs may put concurrent sends on the
      // wire in another order than they were called: the log's order is the requests' order).
      const acked: number[] = [];
      const sends = Array.from({ length: 5 }, (_, i) =>
        producer.send({ topic: 'sends', acks: -1, messages: [{ value: `m${i}` }] }).then((r) => {
          acked.push(Number(r[0]!.baseOffset));
        }),
      );
      await until(() => leader.logEndOffset === 6, 5000, 'the five batches appended');
      expect(acked).toEqual([]);
      tc.cluster.heal(2);
      await Promise.all(sends);
      expect(acked).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await producer.disconnect();
    }
  });

  it('answers 40 pipelined acks=1 produces to a flush.messages=1 topic in order, each after its fsync', async () => {
    const tb = await startTestBroker();
    try {
      client = await TestClient.connect(tb.port);
      await client.request(19, 4, {
        topics: [
          {
            name: 'durable',
            numPartitions: 1,
            replicationFactor: 1,
            assignments: [],
            configs: [{ name: 'flush.messages', value: '1' }],
          },
        ],
        timeoutMs: 10_000,
        validateOnly: false,
      });
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => produce(client!, 'durable', `v${i}`, 1)),
      );
      expect(answers.map((r) => r.responses[0]!.partitionResponses[0]!.baseOffset)).toEqual(
        Array.from({ length: 40 }, (_, i) => i),
      );
      // Acknowledged only once fsynced: the log's recovery point covers every batch.
      expect(tb.broker.logManager.getLog('durable', 0)!.recoveryPoint).toBe(40);
    } finally {
      client?.close();
      client = undefined;
      await tb.close();
    }
  });
});
