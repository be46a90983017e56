/**
 * Share-partition state across brokers (KIP-932) on `startCluster({ brokers: 3 })`, with a raw
 * client (our codec over TCP): the share group's coordinator (G), the leader of the share-partition
 * `q-qp` (L) and the share coordinator of its key — the leader of its `__share_group_state`
 * partition (S) — are three different brokers, so L reads and writes the state with the share-state
 * RPCs. A member acquires 10 records on L and accepts 0–4 (the state is on S, not on L); S is
 * killed, or isolated (it still answers L but cannot commit: the write times out there): its
 * partition moves, L's acknowledgement of 5 sent at once is retried until it is stored on the new
 * coordinator (G); S comes back (started / healed), then L is killed: the new leader of q-qp (S)
 * loads the state from the coordinator on G and delivers the held records 6–9 again with delivery
 * count 2, never 0–5.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedCluster, startCluster } from '../../index.js';
import { TestClient } from '../../test-support/client.js';
import { until } from '../../test-support/until.js';
import { partitionFor } from '../offsets-topic.js';
import { SHARE_GROUP_STATE_TOPIC_NAME, shareCoordinatorKey, sharePartitionFor } from './share-coordinator.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies of many message types, checked field by field
type Body = Record<string, any>;

let kafka: EmbeddedCluster;
/** The partition of `q` the test's share-partition is (chosen for its replicas). */
let qp = 0;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await kafka?.close();
});

const image = () => kafka.cluster.controller.image;
const leaderOf = (topic: string, partition: number) => image().partition(topic, partition)?.leader ?? -1;

async function connect(brokerId: number): Promise<TestClient> {
  const c = await TestClient.connect(kafka.broker(brokerId)!.port);
  clients.push(c);
  return c;
}

/** Every acquired offset with its delivery count, from ShareFetch responses until `want` offsets came. */
async function fetchUntil(
  c: TestClient,
  groupId: string,
  topicId: string,
  firstEpoch: number,
  want: number,
): Promise<{ acquired: Map<number, number>; nextEpoch: number }> {
  const acquired = new Map<number, number>();
  let epoch = firstEpoch;
  await until(
    async () => {
      const r = await c.request<Body>(78, 1, {
        groupId,
        memberId: 'm1',
        shareSessionEpoch: epoch,
        maxWaitMs: 200,
        minBytes: 1,
        maxBytes: 1 << 20,
        maxRecords: 500,
        batchSize: 500,
        topics: [{ topicId, partitions: [{ partitionIndex: qp, acknowledgementBatches: [] }] }],
        forgottenTopicsData: [],
      });
      expect(r.errorCode).toBe(0);
      epoch++;
      for (const t of r.responses)
        for (const p of t.partitions) {
          expect(p.errorCode).toBe(0);
          for (const a of p.acquiredRecords)
            for (let o = Number(a.firstOffset); o <= Number(a.lastOffset); o++)
              acquired.set(o, a.deliveryCount);
        }
      return acquired.size >= want;
    },
    30_000,
    () => `${want} acquired records (have ${[...acquired.keys()]})`,
  );
  return { acquired, nextEpoch: epoch };
}

async function acknowledge(
  c: TestClient,
  groupId: string,
  topicId: string,
  epoch: number,
  firstOffset: number,
  lastOffset: number,
) {
  const r = await c.request<Body>(79, 1, {
    groupId,
    memberId: 'm1',
    shareSessionEpoch: epoch,
    topics: [
      {
        topicId,
        partitions: [
          {
            partitionIndex: qp,
            acknowledgementBatches: [{ firstOffset, lastOffset, acknowledgeTypes: [1] }],
          },
        ],
      },
    ],
  });
  expect(r.errorCode).toBe(0);
  return r.responses[0].partitions[0];
}

describe('share state across brokers', () => {
  it(
    'survives the share coordinator killed, then the share-partition leader killed',
    () => scenario('kill'),
    120_000,
  );
  it(
    'survives the share coordinator cut off (isolated), then the share-partition leader killed',
    () => scenario('isolate'),
    120_000,
  );
});

async function scenario(fault: 'kill' | 'isolate'): Promise<void> {
  {
    kafka = await startCluster({
      brokers: 3,
      config: {
        'broker.session.timeout.ms': 1000,
        'replica.fetch.wait.max.ms': 100,
        'replica.fetch.backoff.ms': 100,
        'offsets.topic.num.partitions': 3,
        'share.coordinator.state.topic.num.partitions': 12,
        'share.coordinator.write.timeout.ms': 2000,
      },
    });
    await kafka.createTopic('q', { partitions: 3, replicationFactor: 3 });
    const topicId = image().topic('q')!.topicId;
    // Both internal topics exist before the group is chosen (FindCoordinator creates them).
    const any = await connect(leaderOf('q', 0));
    await any.request<Body>(10, 6, { key: '', keyType: 0, coordinatorKeys: ['any'] });
    const share = await any.request<Body>(10, 6, {
      key: '',
      keyType: 2,
      coordinatorKeys: [shareCoordinatorKey('any', topicId, 0)],
    });
    expect(share.coordinators[0].errorCode).toBe(0);
    await until(
      () =>
        [0, 1, 2].every((p) => leaderOf('__consumer_offsets', p) >= 0 && leaderOf('q', p) >= 0) &&
        Array.from({ length: 12 }, (_, p) => p).every((p) => leaderOf(SHARE_GROUP_STATE_TOPIC_NAME, p) >= 0),
      10_000,
      'the internal topics led',
    );
    // A group whose coordinator (G), share-partition leader (L) and share coordinator (S) differ,
    // placed so that every later step crosses brokers: leaders are elected in replica order, so
    // with q-qp's replicas [L, S, G] and the state partition's [S, G, L], the state moves to G when
    // S dies and q-qp to S when L dies — the new leader then reads the state from G.
    let groupId = '';
    let stateP = -1;
    let [L, S, G] = [-1, -1, -1];
    for (let i = 0; i < 5000 && groupId === ''; i++) {
      const g = `sg${i}`;
      for (const p of [0, 1, 2]) {
        const q = image().partition('q', p)!;
        const sp = sharePartitionFor(shareCoordinatorKey(g, topicId, p), 12);
        const state = image().partition(SHARE_GROUP_STATE_TOPIC_NAME, sp)!;
        const [l, s, c] = q.replicas as [number, number, number];
        if (
          q.leader === l &&
          leaderOf('__consumer_offsets', partitionFor(g, 3)) === c &&
          state.leader === s &&
          state.replicas.filter((r) => r !== s)[0] === c
        ) {
          [groupId, stateP, qp, L, S, G] = [g, sp, p, l, s, c];
          break;
        }
      }
    }
    expect(groupId, 'a group whose share-partition, coordinators and replicas are placed as needed').not.toBe(
      '',
    );

    const member = await connect(G);
    const heartbeat = async (memberEpoch: number) =>
      member.request<Body>(76, 1, {
        groupId,
        memberId: 'm1',
        memberEpoch,
        rackId: null,
        subscribedTopicNames: memberEpoch === 0 ? ['q'] : null,
      });
    // The assignment comes in the heartbeat answer where it changed (null in the others).
    const assigned = (r: Body) => r.assignment?.topicPartitions?.[0]?.partitions?.includes(qp) ?? false;
    let hb = await heartbeat(0);
    expect(hb.errorCode).toBe(0);
    let isAssigned = assigned(hb);
    await until(
      async () => {
        if (isAssigned) return true;
        hb = await heartbeat(hb.memberEpoch);
        isAssigned = assigned(hb);
        return isAssigned;
      },
      10_000,
      'q-qp assigned',
    );

    // The session opens on L (q-qp only); the share-partition starts at the latest offset, stored on S.
    const onL = await connect(L);
    expect((await onL.request<Body>(78, 1, emptyFetch(groupId, topicId, 0))).errorCode).toBe(0);
    const coordinatorOn = (id: number) => kafka.broker(id)!.services.shareCoordinator;
    await until(
      () =>
        coordinatorOn(S).isPartitionLoaded(stateP) &&
        coordinatorOn(S).readStateSummary(groupId, topicId, qp, -1).startOffset === 0,
      10_000,
      'the share-partition initialized on S',
    );
    expect(coordinatorOn(L).isPartitionLoaded(stateP)).toBe(false);

    const kc = new Kafka({ clientId: 'share-cluster', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = kc.producer();
    await producer.connect();
    await producer.send({
      topic: 'q',
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: qp, value: `r${i}` })),
    });
    await producer.disconnect();

    let { acquired, nextEpoch } = await fetchUntil(onL, groupId, topicId, 1, 10);
    expect([...acquired.values()]).toEqual(Array(10).fill(1));
    expect((await acknowledge(onL, groupId, topicId, nextEpoch++, 0, 4)).errorCode).toBe(0);
    // Stored on S over WriteShareGroupState: 0–4 done, the start offset past them.
    expect(coordinatorOn(S).readStateSummary(groupId, topicId, qp, -1)).toMatchObject({ startOffset: 5 });
    expect(coordinatorOn(L).isPartitionLoaded(stateP)).toBe(false);

    // The share coordinator's broker dies, or is cut off from the cluster (it still answers L but
    // cannot commit: its writes time out, COORDINATOR_NOT_AVAILABLE). An acknowledgement at once:
    // L retries until the metadata names the new coordinator (G, fenced S's successor) and stores it there.
    if (fault === 'kill') await kafka.killBroker(S);
    else kafka.isolate(S);
    const t0 = performance.now();
    expect((await acknowledge(onL, groupId, topicId, nextEpoch++, 5, 5)).errorCode).toBe(0);
    // Isolated, S took the write and could not commit it: it timed out there before the retry.
    if (fault === 'isolate') expect(performance.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(leaderOf(SHARE_GROUP_STATE_TOPIC_NAME, stateP)).toBe(G);
    expect(coordinatorOn(G).readStateSummary(groupId, topicId, qp, -1)).toMatchObject({ startOffset: 6 });
    expect(coordinatorOn(L).isPartitionLoaded(stateP)).toBe(false);
    // S comes back and catches up on q-qp.
    if (fault === 'kill') await kafka.startBroker(S);
    else kafka.heal(S);
    await until(() => image().partition('q', qp)!.isr.includes(S), 15_000, 'S back in the ISR of q-qp');

    // The share-partition leader dies with 6–9 still acquired: the new leader loads the state.
    await kafka.killBroker(L);
    await until(() => ![L, -1].includes(leaderOf('q', qp)), 15_000, 'q-qp led elsewhere');
    expect(leaderOf('q', qp)).toBe(S);
    expect(leaderOf(SHARE_GROUP_STATE_TOPIC_NAME, stateP)).toBe(G);
    expect(coordinatorOn(S).isPartitionLoaded(stateP)).toBe(false);
    hb = await heartbeat(hb.memberEpoch);
    expect(hb.errorCode).toBe(0);
    const onN = await connect(S);
    ({ acquired } = await fetchUntil(onN, groupId, topicId, 0, 4));
    expect([...acquired.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [6, 2],
      [7, 2],
      [8, 2],
      [9, 2],
    ]);
  }
}

function emptyFetch(groupId: string, topicId: string, shareSessionEpoch: number): Body {
  return {
    groupId,
    memberId: 'm1',
    shareSessionEpoch,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    maxRecords: 500,
    batchSize: 500,
    topics: [{ topicId, partitions: [{ partitionIndex: qp, acknowledgementBatches: [] }] }],
    forgottenTopicsData: [],
  };
}
