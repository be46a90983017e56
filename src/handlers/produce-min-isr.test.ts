/**
 * `min.insync.replicas` in Produce over TCP, as Kafka's Partition.appendRecordsToLeader (3.7+):
 * acks=-1 is refused with NOT_ENOUGH_REPLICAS and nothing is appended while the ISR is smaller than
 * min(min.insync.replicas, replica count); acks=0 and acks=1 are not checked. With replication factor
 * 1 (every topic of a single node) the effective min ISR is 1, so acks=-1 is accepted whatever the
 * topic sets. A partition with followers out of the ISR is made by hand (replicas [1, 2, 3], ISR
 * [1]), as multi-broker replication would leave it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { createHostedTopic, startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { fakePartition } from '../test-support/fake-services.js';

interface ProduceBody {
  responses: {
    name: string;
    partitionResponses: {
      index: number;
      errorCode: number;
      baseOffset: bigint | number;
      errorMessage: string | null;
    }[];
  }[];
}

describe('Produce and min.insync.replicas', () => {
  let tb: TestBroker;
  let c: TestClient;

  beforeAll(async () => {
    tb = await startTestBroker({ 'auto.create.topics.enable': 'false' });
    c = await TestClient.connect(tb.port);
  });
  afterAll(async () => {
    c?.socket.destroy();
    await tb?.close();
  });

  const batch = (n: number) =>
    buildRecordBatch({
      records: Array.from({ length: n }, (_, i) => ({ value: `v${i}`, timestamp: Date.now() })),
    });

  async function produce(topic: string, acks: number, partitions = [0], version = 9) {
    const body = {
      transactionalId: null,
      acks,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: partitions.map((index) => ({ index, records: batch(2) })) }],
    };
    if (acks === 0) {
      // No response: follow with a request that has one, so the append has been handled.
      await c.sendRaw(Buffer.concat([c.frame(0, version, body), c.frame(18, 0, {})]));
      return null;
    }
    return (await c.request<ProduceBody>(0, version, body)).responses[0]!.partitionResponses;
  }

  const leo = (topic: string, p = 0) => tb.broker.replicaManager.getPartition(topic, p)!.logEndOffset;

  it('replication factor 1: acks=-1 is accepted whatever min.insync.replicas says (effective min ISR 1)', async () => {
    await tb.broker.controller.createTopic('misr-rf1', 1, { 'min.insync.replicas': '3' });
    const r = await produce('misr-rf1', -1);
    expect(r!.map((p) => [p.errorCode, Number(p.baseOffset)])).toEqual([[0, 0]]);
    expect(leo('misr-rf1')).toBe(2);
  });

  it('followers out of the ISR: acks=-1 gets NOT_ENOUGH_REPLICAS and appends nothing; acks=0/1 append', async () => {
    const topic = {
      partitions: await createHostedTopic(tb.broker, 'misr', 2, { 'min.insync.replicas': '2' }),
    };
    const nodeId = topic.partitions[0]!.leaderId;
    // Partition 0 has lost its followers from the ISR; partition 1 has one in sync.
    topic.partitions[0]!.replicas = [nodeId, nodeId + 1, nodeId + 2];
    topic.partitions[1]!.replicas = [nodeId, nodeId + 1, nodeId + 2];
    topic.partitions[1]!.isr = [nodeId, nodeId + 1];
    // Its follower keeps up with everything appended (as if it fetched at once), so acks=-1 is
    // answered when the append lands rather than waiting for a fetch that never comes.
    topic.partitions[1]!.updateFollowerFetchState(nodeId + 1, Number.MAX_SAFE_INTEGER);

    for (const version of [3, 9, 11]) {
      const r = await produce('misr', -1, [0, 1], version);
      expect(r![0]).toMatchObject({ index: 0, errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
      expect(Number(r![0]!.baseOffset)).toBe(-1);
      expect(r![1]).toMatchObject({ index: 1, errorCode: ErrorCode.NONE });
    }
    // As Kafka: the reason is logged, the response carries the bare code.
    const r = await produce('misr', -1, [0], 9);
    expect(r![0]!.errorMessage).toBeNull();
    expect(() => topic.partitions[0]!.appendRecordsToLeader(batch(1), 'client', -1, 2)).toThrow(
      `The size of the current ISR Set(${nodeId}) is insufficient to satisfy the min.isr requirement of 2 for partition misr-0`,
    );
    expect(leo('misr', 0)).toBe(0);
    expect(leo('misr', 1)).toBe(6);

    // acks=1 and acks=0 do not wait for the ISR: appended.
    const one = await produce('misr', 1);
    expect(one!.map((p) => [p.errorCode, Number(p.baseOffset)])).toEqual([[0, 0]]);
    await produce('misr', 0);
    expect(leo('misr', 0)).toBe(4);

    // Raising the ISR back to min.insync.replicas accepts acks=-1 again (the returning follower
    // keeps up with every append).
    topic.partitions[0]!.updateFollowerFetchState(nodeId + 1, Number.MAX_SAFE_INTEGER);
    topic.partitions[0]!.updateIsr([nodeId, nodeId + 1]);
    const ok = await produce('misr', -1);
    expect(ok!.map((p) => [p.errorCode, Number(p.baseOffset)])).toEqual([[0, 4]]);
  });

  it('effective min ISR is min(min.insync.replicas, replica count)', () => {
    const p = fakePartition('t', 0, { replicas: [1, 2, 3] });
    expect([1, 2, 3, 5].map((m) => p.effectiveMinIsr(m))).toEqual([1, 2, 3, 3]);
    p.replicas = [1];
    expect(p.effectiveMinIsr(2)).toBe(1);
  });
});
