/**
 * Partition reassignment on `startCluster({ brokers: 4 })` while an idempotent acks=-1 kafkajs
 * producer keeps writing: AlterPartitionReassignments (over TCP, as kafka-reassign-partitions
 * sends it) moves each partition to other brokers — the leader's broker among the removed ones —
 * the added replicas catch up and join the ISR, the reassignment ends (ListPartitionReassignments
 * empty), leadership moves off the removed brokers, their logs are deleted, and every acknowledged
 * record is on the new leader exactly once and in order; the new followers' logs equal the
 * leader's up to the high watermark.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedCluster, startCluster } from '../index.js';
import { decodeRecordBatches } from '../protocol/records.js';
import { TestClient } from '../test-support/client.js';
import { until } from '../test-support/until.js';

const TOPIC = 'moving';
let kafka: EmbeddedCluster;
let producer: Producer;

beforeAll(async () => {
  kafka = await startCluster({
    brokers: 4,
    config: { 'min.insync.replicas': 2, 'replica.fetch.wait.max.ms': 100, 'replica.fetch.backoff.ms': 100 },
  });
  const client = new Kafka({
    clientId: 'cluster-reassignment',
    brokers: kafka.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  producer = client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await kafka?.close();
});

const state = (p: number) => kafka.cluster.controller.image.partition(TOPIC, p)!;

/**
 * A replica's log up to `end` as broker `brokerId` holds it: the batches' bytes and the record values
 * (read from its local log, so a follower can be compared with the leader byte for byte).
 */
function readReplica(brokerId: number, partition: number, end: number): { values: string[]; bytes: Buffer } {
  const p = kafka.broker(brokerId)!.replicaManager.getPartition(TOPIC, partition)!;
  const values: string[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < end) {
    const result = p.log.read(offset, 8 << 20, true, end);
    if ('error' in result || !result.records || result.records.length === 0) break;
    const before = offset;
    let pos = 0;
    for (const batch of decodeRecordBatches(result.records)) {
      chunks.push(result.records.subarray(pos, pos + batch.sizeInBytes));
      pos += batch.sizeInBytes;
      for (const r of batch.records) values.push(r.value!.toString());
      offset = batch.lastOffset + 1;
    }
    if (offset === before) break;
  }
  return { values, bytes: Buffer.concat(chunks) };
}

describe('partition reassignment under load', () => {
  it('moves replicas (the leader too) while producing: nothing acknowledged lost, old logs deleted', async () => {
    kafka.createTopic(TOPIC, { partitions: 2, replicationFactor: 2 });
    const before = [0, 1].map((p) => state(p).replicas);
    const acked: string[][] = [[], []];
    let seq = 0;
    let stop = false;
    let failed = 0;
    const producing = (async () => {
      while (!stop) {
        await Promise.all(
          [0, 1].map(async (partition) => {
            const value = `p${partition}-${seq++}`;
            try {
              await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition, value }] });
              acked[partition]!.push(value);
            } catch {
              failed++;
            }
          }),
        );
      }
    })();
    await until(() => acked[0]!.length > 30 && acked[1]!.length > 30, 20_000, 'records before the move');

    // Each partition moves to the two brokers it is not on: its leader is removed.
    const targets = before.map((replicas) => [1, 2, 3, 4].filter((id) => !replicas.includes(id)));
    const admin = await TestClient.connect(kafka.broker(1)!.port);
    const res = await admin.request<{
      errorCode: number;
      responses: { partitions: { errorCode: number }[] }[];
    }>(45, 1, {
      timeoutMs: 30_000,
      allowReplicationFactorChange: true,
      topics: [
        {
          name: TOPIC,
          partitions: targets.map((replicas, partitionIndex) => ({ partitionIndex, replicas })),
        },
      ],
    });
    expect(res.errorCode).toBe(0);
    expect(res.responses[0]!.partitions.map((p) => p.errorCode)).toEqual([0, 0]);
    const list = () =>
      admin.request<{ topics: { partitions: { addingReplicas: number[] }[] }[] }>(46, 0, {
        timeoutMs: 30_000,
        topics: null,
      });
    await until(async () => (await list()).topics.length === 0, 30_000, 'the reassignments end');
    const countAtEnd = acked[0]!.length + acked[1]!.length;
    await until(
      () => acked[0]!.length + acked[1]!.length > countAtEnd + 40,
      20_000,
      'records after the move',
    );
    stop = true;
    await producing;
    admin.close();

    for (const p of [0, 1]) {
      const s = state(p);
      expect([...s.replicas]).toEqual(targets[p]);
      expect([...s.isr].sort()).toEqual([...targets[p]!].sort());
      expect(targets[p]).toContain(s.leader);
      expect(s.addingReplicas).toEqual([]);
      expect(s.removingReplicas).toEqual([]);
      // The removed brokers no longer hold the partition.
      for (const id of before[p]!) {
        expect(kafka.broker(id)!.replicaManager.getPartition(TOPIC, p)).toBeUndefined();
        expect(fs.existsSync(path.join(kafka.cluster.brokerDir(id), `${TOPIC}-${p}`))).toBe(false);
      }
    }
    let lost = 0;
    let duplicated = 0;
    for (const p of [0, 1]) {
      // Followers have the same bytes as the leader up to the high watermark.
      const follower = targets[p]!.find((id) => id !== state(p).leader)!;
      await until(
        () =>
          kafka.broker(follower)!.replicaManager.getPartition(TOPIC, p)!.logEndOffset >=
          kafka.broker(state(p).leader)!.replicaManager.getPartition(TOPIC, p)!.highWatermark,
        10_000,
        'the follower has the high watermark',
      );
      const hw = kafka.broker(state(p).leader)!.replicaManager.getPartition(TOPIC, p)!.highWatermark;
      const leaderRead = readReplica(state(p).leader, p, hw);
      const followerRead = readReplica(follower, p, hw);
      expect(leaderRead.bytes.length).toBeGreaterThan(0);
      expect(followerRead.bytes.equals(leaderRead.bytes)).toBe(true);
      const seen = new Map<string, number>();
      for (const v of leaderRead.values) seen.set(v, (seen.get(v) ?? 0) + 1);
      for (const v of acked[p]!) if (!seen.has(v)) lost++;
      for (const n of seen.values()) if (n > 1) duplicated += n - 1;
      const ackedSet = new Set(acked[p]);
      expect(leaderRead.values.filter((v) => ackedSet.has(v))).toEqual(acked[p]);
    }
    const total = acked[0]!.length + acked[1]!.length;
    console.log(
      `reassignment: ${total} records acknowledged, ${failed} send(s) failed after retries, lost ${lost}, duplicated ${duplicated}`,
    );
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
  });
});
