/**
 * KIP-951 over TCP on three brokers in one process: a Produce (v10+) sent to a broker that does not
 * lead the partition is answered NOT_LEADER_OR_FOLLOWER with the current leader and epoch and the
 * leader's endpoint (checked against hand-written bytes of Kafka's layout); a Fetch (v16+) answered
 * NOT_LEADER_OR_FOLLOWER (from a broker without a replica) or FENCED_LEADER_EPOCH too; older versions carry neither.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { TestClient } from '../test-support/client.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster(3, { 'replica.fetch.wait.max.ms': '100' });
  c.createTopic('t', [[1, 2]]);
});

afterAll(async () => {
  await c?.close();
});

const port = (id: number) => c.cluster.broker(id)!.port;

function produceBody() {
  return {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [
      {
        name: 't',
        partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ value: 'v' }] }) }],
      },
    ],
  };
}

/** Sends a request and returns the response frame after the correlation id and header tags. */
async function rawResponse(
  client: TestClient,
  apiKey: number,
  version: number,
  body: unknown,
): Promise<Buffer> {
  const frame = await client.sendRaw(client.frame(apiKey, version, body, 77));
  expect(frame.readInt32BE(0)).toBe(77);
  expect(frame[4]).toBe(0); // no header tags
  return frame.subarray(5);
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

describe('KIP-951: NOT_LEADER_OR_FOLLOWER names the current leader', () => {
  it('Produce v11 to a follower: current leader and epoch, the leader endpoint (golden bytes)', async () => {
    const client = await TestClient.connect(port(2));
    try {
      const body = await rawResponse(client, 0, 11, produceBody());
      const host = Buffer.from('127.0.0.1');
      const expected = Buffer.concat([
        hex('02'), // responses: 1 topic
        hex('02 74'), // name "t"
        hex('02'), // partition_responses: 1
        hex('00000000 0006'), // index 0, NOT_LEADER_OR_FOLLOWER
        hex('ffffffffffffffff ffffffffffffffff ffffffffffffffff'), // base offset, log append time, log start
        hex('01 00'), // record_errors: empty; error_message: null
        hex('01 00 09'), // the partition's tagged fields: one, tag 0 (current_leader), 9 bytes
        hex('00000001 00000000 00'), // leader 1, leader epoch 0, no tags
        hex('00'), // topic tags
        hex('00000000'), // throttle_time_ms
        hex('01 00'), // the response's tagged fields: one, tag 0 (node_endpoints)
        Buffer.from([1 + 4 + 1 + host.length + 4 + 1 + 1]), // its size
        hex('02'), // 1 endpoint
        int32(1),
        Buffer.from([host.length + 1]),
        host,
        int32(port(1)),
        hex('00 00'), // rack null, no tags
      ]);
      expect(body.toString('hex')).toBe(expected.toString('hex'));

      // v9 has neither field: the same answer without tags.
      const v9 = await client.request<{
        responses: { partitionResponses: { errorCode: number; currentLeader?: unknown }[] }[];
        nodeEndpoints?: unknown;
      }>(0, 9, produceBody());
      expect(v9.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(v9.responses[0]!.partitionResponses[0]!.currentLeader).toBeUndefined();
      expect(v9.nodeEndpoints ?? []).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('Produce v11 to a broker without a replica: the leader from the metadata', async () => {
    const client = await TestClient.connect(port(3));
    try {
      const res = await client.request<{
        responses: {
          partitionResponses: {
            errorCode: number;
            currentLeader?: { leaderId: number; leaderEpoch: number };
          }[];
        }[];
        nodeEndpoints: { nodeId: number; port: number }[];
      }>(0, 11, produceBody());
      expect(res.responses[0]!.partitionResponses[0]).toMatchObject({
        errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
        currentLeader: { leaderId: 1, leaderEpoch: 0 },
      });
      expect(res.nodeEndpoints).toMatchObject([{ nodeId: 1, port: port(1) }]);
    } finally {
      client.close();
    }
  });

  it('Fetch v16: NOT_LEADER_OR_FOLLOWER from a broker without a replica, FENCED_LEADER_EPOCH after the leader moved', async () => {
    const fetch = (currentLeaderEpoch: number) => ({
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topicId: c.cluster.controller.image.topic('t')!.topicId,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch,
              fetchOffset: 0,
              logStartOffset: -1,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    type FetchRes = {
      responses: {
        partitions: { errorCode: number; currentLeader: { leaderId: number; leaderEpoch: number } }[];
      }[];
      nodeEndpoints: { nodeId: number; port: number }[];
    };
    // A broker without a replica (a follower may serve v11+ consumers, KIP-392).
    const toFollower = await TestClient.connect(port(3));
    try {
      const res = await toFollower.request<FetchRes>(1, 16, fetch(0));
      expect(res.responses[0]!.partitions[0]).toMatchObject({
        errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
        currentLeader: { leaderId: 1, leaderEpoch: 0 },
      });
      expect(res.nodeEndpoints).toMatchObject([{ nodeId: 1, port: port(1) }]);
      // v15: the same error, no leader.
      const v15 = await toFollower.request<FetchRes>(1, 15, fetch(0));
      expect(v15.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(v15.responses[0]!.partitions[0]!.currentLeader).toBeUndefined();
      expect(v15.nodeEndpoints ?? []).toEqual([]);
    } finally {
      toFollower.close();
    }
    // Broker 1 shuts down: broker 2 leads at epoch 1; a fetch at epoch 0 is fenced and told so.
    await c.cluster.stopBroker(1);
    const toLeader = await TestClient.connect(port(2));
    try {
      const res = await toLeader.request<FetchRes>(1, 16, fetch(0));
      expect(res.responses[0]!.partitions[0]).toMatchObject({
        errorCode: ErrorCode.FENCED_LEADER_EPOCH,
        currentLeader: { leaderId: 2, leaderEpoch: 1 },
      });
      expect(res.nodeEndpoints).toMatchObject([{ nodeId: 2, port: port(2) }]);
    } finally {
      toLeader.close();
    }
  });
});
