/**
 * Proof of replication with failover on `startCluster({ brokers: 3 })`, with kafkajs only on the
 * client side: a topic of 6 partitions and replication factor 3 created through the admin API,
 * leaders spread over the brokers (Metadata); an idempotent producer (acks=-1) keeps producing
 * while the leader of partition 0 is killed (no clean shutdown) and, once its session expires, the
 * controller moves its leaderships to other ISR members at a new leader epoch. Every record the
 * producer had acknowledged is read back (Fetch to the current leaders) exactly once and in order.
 * Then the killed broker starts again, catches up and rejoins every ISR.
 */
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedCluster, startCluster } from '../index.js';
import { decodeRecordBatches } from '../protocol/records.js';
import { TestClient } from '../test-support/client.js';
import { until } from '../test-support/until.js';

const TOPIC = 'failover';
const PARTITIONS = 6;
let kafka: EmbeddedCluster;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  kafka = await startCluster({
    brokers: 3,
    ...(process.env.DEBUG_FAILOVER ? { logLevel: 'debug' as const } : {}),
    config: {
      // A killed broker is fenced 1 s later (Kafka's default is 9 s): the test stays short.
      'broker.session.timeout.ms': 1000,
      'min.insync.replicas': 2,
      'replica.fetch.wait.max.ms': 100,
      'replica.fetch.backoff.ms': 100,
    },
  });
  const client = new Kafka({
    clientId: 'cluster-failover',
    brokers: kafka.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  admin = client.admin();
  producer = client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await Promise.all([admin.connect(), producer.connect()]);
});

afterAll(async () => {
  await Promise.all([producer?.disconnect(), admin?.disconnect()]);
  await kafka?.close();
});

/** Leader of each partition as Metadata answers it. */
async function leaders(): Promise<number[]> {
  const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  return md.topics[0]!.partitions.sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader);
}

/** Every record value of a partition, read with Fetch v12 from its current leader up to the high watermark. */
async function readPartition(partition: number): Promise<string[]> {
  const state = kafka.cluster.controller.image.partition(TOPIC, partition)!;
  const leader = kafka.broker(state.leader)!;
  const c = await TestClient.connect(leader.port);
  const values: string[] = [];
  try {
    let offset = 0;
    for (;;) {
      const res = await c.request<{
        responses: { partitions: { errorCode: number; highWatermark: bigint; records: Buffer | null }[] }[];
      }>(1, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 8 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: TOPIC,
            partitions: [
              {
                partition,
                currentLeaderEpoch: state.leaderEpoch,
                fetchOffset: offset,
                logStartOffset: -1,
                partitionMaxBytes: 8 << 20,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      const p = res.responses[0]!.partitions[0]!;
      expect(p.errorCode).toBe(0);
      const hw = Number(p.highWatermark);
      for (const batch of decodeRecordBatches(p.records ?? Buffer.alloc(0))) {
        for (const r of batch.records) {
          if (r.offset >= offset) values.push(r.value!.toString());
        }
        offset = batch.lastOffset + 1;
      }
      if (offset >= hw) return values;
    }
  } finally {
    c.close();
  }
}

describe('three brokers in one process: failover under an idempotent acks=-1 producer', () => {
  it('loses no acknowledged record and duplicates none when the leader of a partition is killed', async () => {
    await admin.createTopics({
      topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }],
      waitForLeaders: true,
    });
    const before = await leaders();
    // Leaders spread over the brokers (Kafka's striped placement).
    expect(new Set(before).size).toBe(3);
    const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    for (const p of md.topics[0]!.partitions) {
      expect([...p.replicas].sort()).toEqual([1, 2, 3]);
      expect([...p.isr].sort()).toEqual([1, 2, 3]);
    }
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);

    const acked: string[][] = Array.from({ length: PARTITIONS }, () => []);
    let failedSends = 0;
    let seq = 0;
    // One send per partition: kafkajs's send of several partitions loses the records of a
    // partition whose new leader already answered the same send before a retry (its responses are
    // kept per broker: tulios/kafkajs#1303, seen here as one acknowledged record missing).
    const sendRound = async () => {
      await Promise.all(
        Array.from({ length: PARTITIONS }, async (_, partition) => {
          const value = `p${partition}-${seq++}`;
          try {
            await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition, value }] });
            acked[partition]!.push(value);
          } catch {
            failedSends++;
          }
        }),
      );
    };
    for (let i = 0; i < 50; i++) await sendRound();

    const victim = before[0]!;
    const killedAt = performance.now();
    await kafka.killBroker(victim);
    for (let i = 0; i < 150; i++) await sendRound();
    const producingMs = performance.now() - killedAt;

    // Leadership moved off the killed broker, at a new leader epoch, from the ISR.
    const after = await leaders();
    expect(after).not.toContain(victim);
    for (let p = 0; p < PARTITIONS; p++) {
      const state = kafka.cluster.controller.image.partition(TOPIC, p)!;
      expect(state.isr).not.toContain(victim);
      if (before[p] === victim) expect(state.leaderEpoch).toBeGreaterThan(0);
    }

    let lost = 0;
    let duplicated = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const read = await readPartition(p);
      const seen = new Map<string, number>();
      for (const v of read) seen.set(v, (seen.get(v) ?? 0) + 1);
      for (const v of acked[p]!) if (!seen.has(v)) lost++;
      for (const n of seen.values()) if (n > 1) duplicated += n - 1;
      if (process.env.DEBUG_FAILOVER) {
        const missing = acked[p]!.filter((v) => !seen.has(v));
        console.log(
          `p${p}: leader ${before[p]}→${after[p]} read ${read.length} acked ${acked[p]!.length} missing ${missing.join(',')} first-after-kill ${read.slice(48, 53).join(',')}`,
        );
      }
      // In order: the acknowledged records appear in the order they were sent.
      const ackedSet = new Set(acked[p]);
      expect(read.filter((v) => ackedSet.has(v))).toEqual(acked[p]);
    }
    const total = acked.reduce((n, a) => n + a.length, 0);
    console.log(
      `failover: ${total} records acknowledged, ${failedSends} send(s) failed after retries, ` +
        `lost ${lost}, duplicated ${duplicated}; 150 rounds after the kill took ${Math.round(producingMs)} ms`,
    );
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(total).toBeGreaterThan(0);

    // The killed broker comes back: it recovers its log, follows the new leaders and rejoins every ISR.
    await kafka.startBroker(victim);
    await until(
      () =>
        Array.from(
          { length: PARTITIONS },
          (_, p) => kafka.cluster.controller.image.partition(TOPIC, p)!,
        ).every((s) => s.isr.length === 3),
      20_000,
      'the restarted broker rejoins every ISR',
    );
  });
});
