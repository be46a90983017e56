/**
 * The share-state RPCs between brokers (KIP-932) over TCP with our codec, on one broker:
 * FindCoordinator key type SHARE (creates `__share_group_state`, answers its leader; malformed
 * keys and versions below 6 refused), then WriteShareGroupState / ReadShareGroupState /
 * ReadShareGroupStateSummary / InitializeShareGroupState / DeleteShareGroupState with Kafka's
 * semantics: a never-initialized state reads start offset -1, the leader epoch of a read is kept
 * and older leaders are FENCED_LEADER_EPOCH, an initialize bumps the state epoch and writes at the
 * older one are FENCED_STATE_EPOCH, a delete leaves nothing. ApiVersions advertises 83–87, and
 * CLUSTER_ACTION is required when an authorizer is configured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies of many message types, checked field by field
type Body = Record<string, any>;

let tb: TestBroker;
let c: TestClient;
let topicId: string;

beforeAll(async () => {
  tb = await startTestBroker({ 'share.coordinator.state.topic.num.partitions': '5' });
  await tb.broker.controller.createTopic('q', 2);
  topicId = tb.broker.metadata.topic('q')!.topicId;
  c = await TestClient.connect(tb.port);
});
afterAll(async () => {
  c?.close();
  await tb?.close();
});

const one = (r: Body) => r.results[0].partitions[0];
const read = (partition: number, leaderEpoch: number, groupId = 'g') =>
  c.request<Body>(84, 0, { groupId, topics: [{ topicId, partitions: [{ partition, leaderEpoch }] }] });
const write = (partition: number, p: Body) =>
  c.request<Body>(85, 1, {
    groupId: 'g',
    topics: [
      {
        topicId,
        partitions: [
          {
            partition,
            stateEpoch: 0,
            leaderEpoch: 0,
            startOffset: 0,
            deliveryCompleteCount: -1,
            stateBatches: [],
            ...p,
          },
        ],
      },
    ],
  });
const summary = (partition: number) =>
  c.request<Body>(87, 1, {
    groupId: 'g',
    topics: [{ topicId, partitions: [{ partition, leaderEpoch: -1 }] }],
  });

describe('share-state RPCs', () => {
  it('ApiVersions advertises the five share-state APIs', async () => {
    const v = await c.request<Body>(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    const keys = new Map(v.apiKeys.map((k: Body) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect([83, 84, 85, 86, 87].map((k) => keys.get(k))).toEqual([
      [0, 0],
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 1],
    ]);
  });

  it('FindCoordinator key type SHARE creates __share_group_state and names its leader', async () => {
    const key = `g:${topicId}:0`;
    const r = await c.request<Body>(10, 6, { key: '', keyType: 2, coordinatorKeys: [key, 'nope'] });
    expect(r.coordinators[0]).toMatchObject({ key, errorCode: 0, nodeId: tb.broker.nodeId, port: tb.port });
    expect(r.coordinators[1]).toMatchObject({ key: 'nope', errorCode: ErrorCode.INVALID_REQUEST });
    expect(tb.broker.metadata.topic('__share_group_state')?.partitions).toHaveLength(5);
    const old = await c.request<Body>(10, 5, { key: '', keyType: 2, coordinatorKeys: [key] });
    expect(old.coordinators[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('read, write, summary with leader-epoch fencing', async () => {
    expect(one(await read(0, 1))).toMatchObject({
      errorCode: 0,
      startOffset: -1,
      stateEpoch: 0,
      stateBatches: [],
    });
    expect(
      one(
        await write(0, {
          leaderEpoch: 1,
          startOffset: 2,
          stateBatches: [
            { firstOffset: 2, lastOffset: 3, deliveryState: 2, deliveryCount: 1 },
            { firstOffset: 4, lastOffset: 6, deliveryState: 0, deliveryCount: 2 },
          ],
        }),
      ).errorCode,
    ).toBe(0);
    expect(one(await read(0, 2))).toEqual({
      partition: 0,
      errorCode: 0,
      errorMessage: null,
      stateEpoch: 0,
      startOffset: 2,
      stateBatches: [
        { firstOffset: 2, lastOffset: 3, deliveryState: 2, deliveryCount: 1 },
        { firstOffset: 4, lastOffset: 6, deliveryState: 0, deliveryCount: 2 },
      ],
    });
    // The read at epoch 2 fenced the leader of epoch 1.
    expect(one(await write(0, { leaderEpoch: 1 })).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(one(await read(0, 1)).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(one(await summary(0))).toMatchObject({
      errorCode: 0,
      stateEpoch: 0,
      leaderEpoch: 2,
      startOffset: 2,
      deliveryCompleteCount: 2,
    });
    expect(one(await read(0, 0, '')).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('initialize bumps the state epoch (older writes fenced); delete removes the state', async () => {
    await write(1, {
      startOffset: 0,
      stateBatches: [{ firstOffset: 0, lastOffset: 0, deliveryState: 2, deliveryCount: 1 }],
    });
    const init = await c.request<Body>(83, 0, {
      groupId: 'g',
      topics: [{ topicId, partitions: [{ partition: 1, stateEpoch: 1, startOffset: 7 }] }],
    });
    expect(one(init)).toEqual({ partition: 1, errorCode: 0, errorMessage: null });
    expect(one(await write(1, { stateEpoch: 0 })).errorCode).toBe(ErrorCode.FENCED_STATE_EPOCH);
    expect(one(await read(1, 0))).toMatchObject({ stateEpoch: 1, startOffset: 7, stateBatches: [] });
    const del = await c.request<Body>(86, 0, {
      groupId: 'g',
      topics: [{ topicId, partitions: [{ partition: 1 }] }],
    });
    expect(one(del).errorCode).toBe(0);
    expect(one(await read(1, 0))).toMatchObject({ errorCode: 0, startOffset: -1, stateEpoch: 0 });
  });

  it('bad input is refused at once: offsets beyond a state, bad batches, unknown partitions', async () => {
    const huge = await write(0, {
      leaderEpoch: 5,
      stateBatches: [{ firstOffset: 0, lastOffset: 2 ** 53, deliveryState: 0, deliveryCount: 1 }],
    });
    expect(one(huge).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const backwards = await write(0, {
      leaderEpoch: 5,
      stateBatches: [{ firstOffset: 9, lastOffset: 3, deliveryState: 0, deliveryCount: 1 }],
    });
    expect(one(backwards).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const badState = await write(0, {
      leaderEpoch: 5,
      stateBatches: [{ firstOffset: 3, lastOffset: 3, deliveryState: 1, deliveryCount: 1 }],
    });
    expect(one(badState).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(one(await read(7, 0)).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const other = Buffer.alloc(16, 3).toString('base64url');
    const r = await c.request<Body>(84, 0, {
      groupId: 'g',
      topics: [{ topicId: other, partitions: [{ partition: 0, leaderEpoch: 0 }] }],
    });
    expect(one(r).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
