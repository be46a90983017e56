/**
 * Two brokers in one process, wired over the same seams (they do not replicate): nothing in kbroker
 * is a process-wide singleton. Different node ids, ports, data directories and clocks (one a
 * MockTime); each one's topics, groups, transactions, metrics, metadata view and dynamic configs
 * are its own; moving one's clock, resetting or closing one leaves the other as it was. Real kafkajs
 * clients talk to each.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { scrape } from '../ops/prometheus.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { until } from '../test-support/until.js';

const FAST_GROUPS = { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '1' };
const BROKER = 4; // ConfigResource type

let a: TestBroker; // node 1, system clock
let b: TestBroker; // node 2, a MockTime
const time = new MockTime(Date.now());
let kafkaA: Kafka;
let kafkaB: Kafka;
let adminA: Admin;
let adminB: Admin;

beforeAll(async () => {
  a = await startTestBroker({ ...FAST_GROUPS, 'node.id': '1' });
  b = await startTestBroker({ ...FAST_GROUPS, 'node.id': '2' }, undefined, { time });
  kafkaA = new Kafka({ brokers: [a.bootstrap], clientId: 'two-a', logLevel: logLevel.NOTHING });
  kafkaB = new Kafka({ brokers: [b.bootstrap], clientId: 'two-b', logLevel: logLevel.NOTHING });
  adminA = kafkaA.admin();
  adminB = kafkaB.admin();
  await adminA.connect();
  await adminB.connect();
});

afterAll(async () => {
  await adminA?.disconnect().catch(() => {});
  await adminB?.disconnect();
  await a?.close();
  await b?.close();
});

async function produce(kafka: Kafka, topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
}

async function consume(kafka: Kafka, groupId: string, topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value!.toString());
    },
  });
  try {
    await until(() => seen.length >= expected, 15_000, `${expected} records of ${topic} for ${groupId}`);
  } finally {
    await consumer.disconnect(); // commits
  }
  return seen;
}

const userTopics = (tb: TestBroker) =>
  tb.broker.services.metadata
    .topics()
    .map((t) => t.name)
    .filter((n) => !n.startsWith('__'))
    .sort();

describe('two brokers in one process', () => {
  it('are two clusters of one node each: own node id, port, data dir, cluster id and metadata', async () => {
    expect([a.broker.nodeId, b.broker.nodeId]).toEqual([1, 2]);
    expect(a.port).not.toBe(b.port);
    expect(a.dataDir).not.toBe(b.dataDir);
    expect(a.broker.clusterId).not.toBe(b.broker.clusterId);
    expect(a.broker.time).not.toBe(b.broker.time);
    expect(b.broker.time).toBe(time);
    const [ca, cb] = [await adminA.describeCluster(), await adminB.describeCluster()];
    expect(ca).toMatchObject({
      controller: 1,
      clusterId: a.broker.clusterId,
      brokers: [{ nodeId: 1, port: a.port }],
    });
    expect(cb).toMatchObject({
      controller: 2,
      clusterId: b.broker.clusterId,
      brokers: [{ nodeId: 2, port: b.port }],
    });
    expect(a.broker.services.metadata.brokers('PLAINTEXT').map((x) => x.nodeId)).toEqual([1]);
    expect(b.broker.services.metadata.brokers('PLAINTEXT').map((x) => x.nodeId)).toEqual([2]);
  });

  it('keeps topics, records and metrics apart, even under the same topic name', async () => {
    await adminA.createTopics({ topics: [{ topic: 'same', numPartitions: 1 }, { topic: 'only-a' }] });
    await adminB.createTopics({ topics: [{ topic: 'same', numPartitions: 3 }] });
    await produce(kafkaA, 'same', ['a0', 'a1', 'a2', 'a3', 'a4']);
    await produce(kafkaB, 'same', ['b0', 'b1']);

    expect(userTopics(a)).toEqual(['only-a', 'same']);
    expect(userTopics(b)).toEqual(['same']);
    expect(a.broker.services.metadata.topic('same')!.partitions).toHaveLength(1);
    expect(b.broker.services.metadata.topic('same')!.partitions).toHaveLength(3);
    expect(a.broker.services.metadata.topic('same')!.topicId).not.toBe(
      b.broker.services.metadata.topic('same')!.topicId,
    );
    const hw = (tb: TestBroker) =>
      tb.broker.services.metadata
        .topic('same')!
        .partitions.reduce(
          (sum, p) => sum + tb.broker.replicaManager.getPartition('same', p.partitionId)!.highWatermark,
          0,
        );
    expect([hw(a), hw(b)]).toEqual([5, 2]);
    expect((await consume(kafkaA, 'readers', 'same', 5)).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect((await consume(kafkaB, 'readers', 'same', 2)).sort()).toEqual(['b0', 'b1']);

    expect([a.broker.metrics.messagesIn.get('same'), b.broker.metrics.messagesIn.get('same')]).toEqual([
      5, 2,
    ]);
    const [promA, promB] = [
      await scrape(a.broker, { runtime: 'none' }),
      await scrape(b.broker, { runtime: 'none' }),
    ];
    expect(promA).toMatch(/kafka_server_brokertopicmetrics_messagesin_total\{topic="same"\} 5\b/);
    expect(promB).toMatch(/kafka_server_brokertopicmetrics_messagesin_total\{topic="same"\} 2\b/);
    expect(promA).toContain('topic="only-a"');
    expect(promB).not.toContain('topic="only-a"');
  });

  it('keeps groups and committed offsets apart under the same group id', async () => {
    // Committed by the consumers of the test above: 5 on A, 2 on B, under the same group id.
    const committed = async (admin: Admin) =>
      (await admin.fetchOffsets({ groupId: 'readers', topics: ['same'] }))[0]!.partitions
        .map((p) => Number(p.offset))
        .reduce((sum, o) => sum + Math.max(o, 0), 0);
    expect([await committed(adminA), await committed(adminB)]).toEqual([5, 2]);
    // A group only one of them knows: a consumer of the topic only A has.
    await consume(kafkaA, 'only-on-a', 'only-a', 0);
    expect((await adminA.listGroups()).groups.map((g) => g.groupId).sort()).toEqual(['only-on-a', 'readers']);
    expect((await adminB.listGroups()).groups.map((g) => g.groupId)).toEqual(['readers']);
    expect(b.broker.groupCoordinator.groupIds()).toEqual(['readers']);
  });

  it('applies a dynamic broker config (AlterConfigs) to the broker it was sent to only', async () => {
    await adminA.alterConfigs({
      validateOnly: false,
      resources: [
        { type: BROKER, name: '1', configEntries: [{ name: 'log.retention.ms', value: '3600000' }] },
      ],
    });
    const retention = async (admin: Admin, node: string) =>
      (
        await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: BROKER, name: node, configNames: ['log.retention.ms'] }],
        })
      ).resources[0]!.configEntries[0]!.configValue;
    expect(await retention(adminA, '1')).toBe('3600000');
    expect(await retention(adminB, '2')).not.toBe('3600000');
    await adminA.createTopics({ topics: [{ topic: 'after-alter' }] });
    await adminB.createTopics({ topics: [{ topic: 'after-alter' }] });
    expect(a.broker.logManager.getLog('after-alter', 0)!.config.retentionMs).toBe(3_600_000);
    expect(b.broker.logManager.getLog('after-alter', 0)!.config.retentionMs).toBe(7 * 24 * 3_600_000);
  });

  it("moves only the mock-clocked broker's time: its transaction times out, the other's stays open", async () => {
    const open = async (kafka: Kafka, topic: string) => {
      const producer = kafka.producer({
        transactionalId: 'same-txn-id',
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 60_000,
      });
      await producer.connect();
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ value: 'pending' }] });
      return { producer, txn };
    };
    await adminA.createTopics({ topics: [{ topic: 'txn' }] });
    await adminB.createTopics({ topics: [{ topic: 'txn' }] });
    const onA = await open(kafkaA, 'txn');
    const onB = await open(kafkaB, 'txn');
    const state = (tb: TestBroker) =>
      tb.broker.transactionCoordinator.describeTransaction('same-txn-id').transactionState;
    expect([state(a), state(b)]).toEqual(['Ongoing', 'Ongoing']);

    await time.advanceAsync(75_000, 1_000);
    const pb = b.broker.replicaManager.getPartition('txn', 0)!;
    await until(() => pb.lastStableOffset === pb.highWatermark, 5000, "B's abort markers");
    expect(state(b)).toBe('CompleteAbort');
    expect(state(a)).toBe('Ongoing');
    expect(a.broker.replicaManager.getPartition('txn', 0)!.lastStableOffset).toBe(0);

    await onA.txn.commit();
    expect(state(a)).toBe('CompleteCommit');
    await expect(onB.txn.commit()).rejects.toThrow();
    await onA.producer.disconnect();
    await onB.producer.disconnect().catch(() => {});
  });

  it('reset() of one leaves the other; close() of one leaves the other serving', async () => {
    const bTopics = userTopics(b);
    const bGroups = b.broker.groupCoordinator.groupIds();
    const bTasks = b.broker.scheduler.taskNames;
    expect(bTasks.length).toBeGreaterThan(0);

    await a.broker.reset();
    expect(userTopics(a)).toEqual([]);
    expect(a.broker.groupCoordinator.groupIds()).toEqual([]);
    expect(userTopics(b)).toEqual(bTopics);
    expect(b.broker.groupCoordinator.groupIds()).toEqual(bGroups);
    expect(b.broker.transactionCoordinator.describeTransaction('same-txn-id').transactionState).toBe(
      'CompleteAbort',
    );

    await adminA.disconnect();
    await a.close();
    expect(a.broker.listening).toBe(false);
    expect(a.broker.scheduler.taskNames).toEqual([]);
    expect(b.broker.listening).toBe(true);
    expect(b.broker.scheduler.taskNames).toEqual(bTasks);
    await produce(kafkaB, 'after-close', ['still here']);
    expect(await consume(kafkaB, 'after-close-readers', 'after-close', 1)).toEqual(['still here']);
    // B's scheduler still runs on its clock after A is gone: a retention check trims an expired log.
    await adminB.createTopics({
      topics: [
        {
          topic: 'expiring',
          configEntries: [
            { name: 'segment.bytes', value: '1000' },
            { name: 'retention.ms', value: '1000' },
          ],
        },
      ],
    });
    const producer = kafkaB.producer();
    await producer.connect();
    const old = String(time.now() - 3_600_000);
    for (let i = 0; i < 8; i++)
      await producer.send({ topic: 'expiring', messages: [{ value: Buffer.alloc(200, i), timestamp: old }] });
    await producer.disconnect();
    const expiring = b.broker.replicaManager.getPartition('expiring', 0)!;
    expect(expiring.logStartOffset).toBe(0);
    await time.advanceAsync(b.broker.config.int('log.retention.check.interval.ms'), 60_000);
    expect(expiring.logStartOffset).toBeGreaterThan(0);
  });
});
