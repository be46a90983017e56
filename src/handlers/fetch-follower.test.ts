/**
 * Fetch from a follower (replica_id before v15, ReplicaState from v15) over TCP: it reads up to the
 * log end offset, not the high watermark; its fetch offset moves the leader's high watermark; a broker
 * that is not a replica is NOT_LEADER_OR_FOLLOWER.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { iterateBatches } from '../protocol/record-batch.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

interface FetchBody {
  errorCode: number;
  responses: {
    topic?: string;
    topicId?: string;
    partitions: { errorCode: number; highWatermark: bigint | number; records: Buffer | null }[];
  }[];
}

let tb: TestBroker;
let c: TestClient;
let topicId: string;
const FOLLOWER = 99;

beforeAll(async () => {
  tb = await startTestBroker({ 'auto.create.topics.enable': 'false' });
  c = await TestClient.connect(tb.port);
  topicId = (await tb.broker.controller.createTopic('replicated', 1)).topicId;
  // A follower that is not a registered broker: the partition is made to lead it directly.
  const p = tb.broker.replicaManager.getPartition('replicated', 0)!;
  const self = tb.broker.nodeId;
  p.makeLeader(
    { leader: self, leaderEpoch: 1, isr: [self, FOLLOWER], replicas: [self, FOLLOWER], partitionEpoch: 1 },
    0,
  );
  const produced = await c.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      {
        name: 'replicated',
        partitionData: [
          {
            index: 0,
            records: buildRecordBatch({ records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] }),
          },
        ],
      },
    ],
  });
  expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  c?.close();
  await tb?.close();
});

function fetch(version: number, replicaId: number, fetchOffset: number, currentLeaderEpoch = 1) {
  const partitions = [
    { partition: 0, currentLeaderEpoch, fetchOffset, logStartOffset: 0, partitionMaxBytes: 1 << 20 },
  ];
  return c.request<FetchBody>(1, version, {
    replicaId: version >= 15 ? -1 : replicaId,
    ...(version >= 15 ? { replicaState: { replicaId, replicaEpoch: -1 } } : {}),
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 1, // read_committed: ignored for a follower
    sessionId: 0,
    sessionEpoch: -1,
    topics: [version >= 13 ? { topicId, partitions } : { topic: 'replicated', partitions }],
    forgottenTopicsData: [],
    rackId: '',
  });
}

const lastOffsetOf = (records: Buffer | null) => {
  let last = -1;
  for (const b of iterateBatches(records ?? Buffer.alloc(0))) last = b.lastOffset;
  return last;
};

describe('Fetch from a follower replica', () => {
  it('a consumer sees nothing past the high watermark; the follower reads to the log end and moves it', async () => {
    const p = tb.broker.replicaManager.getPartition('replicated', 0)!;
    expect([p.logEndOffset, p.highWatermark]).toEqual([3, 0]);
    const consumer = (await fetch(12, -1, 0)).responses[0]!.partitions[0]!;
    expect(consumer.errorCode).toBe(0);
    expect(consumer.records?.length ?? 0).toBe(0);

    const first = (await fetch(12, FOLLOWER, 0)).responses[0]!.partitions[0]!;
    expect(first.errorCode).toBe(0);
    expect(lastOffsetOf(first.records)).toBe(2);
    expect(Number(first.highWatermark)).toBe(0); // the follower has not said it has them yet
    expect(p.followerState(FOLLOWER)!.logEndOffset).toBe(0);

    // The next fetch, from v15 with ReplicaState, reports offset 3: the high watermark follows.
    const second = (await fetch(15, FOLLOWER, 3)).responses[0]!.partitions[0]!;
    expect(second.errorCode).toBe(0);
    expect(Number(second.highWatermark)).toBe(3);
    expect(p.highWatermark).toBe(3);
  });

  it('a broker that is not a replica, or a fenced leader epoch, is refused', async () => {
    expect((await fetch(12, 98, 0)).responses[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
    expect((await fetch(15, 98, 0)).responses[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
    expect((await fetch(15, FOLLOWER, 0, 0)).responses[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.FENCED_LEADER_EPOCH,
    );
    expect((await fetch(12, FOLLOWER, 9)).responses[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.OFFSET_OUT_OF_RANGE,
    );
  });
});
