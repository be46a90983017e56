/**
 * The persisters of share-partition state. Two brokers' share coordinators over one in-memory
 * `__share_group_state` (as its replicas would be), the network between them the real handlers
 * with our codec (encoded and decoded each way), the broker clock a MockTime:
 * - a key coordinated by the other broker is read and written with the share-state RPCs; one
 *   coordinated here with direct calls;
 * - before `__share_group_state` is in the metadata, FindCoordinator key type SHARE finds it;
 * - when the coordinator moves, NOT_COORDINATOR (or a lost connection) is retried after Kafka's
 *   backoff with the coordinator found again; after 5 attempts the error is returned;
 * - FENCED_LEADER_EPOCH and FENCED_STATE_EPOCH are returned at once;
 * - AlterShareGroupOffsets (alter) is ReadShareGroupStateSummary then InitializeShareGroupState.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import { deleteShareGroupStateHandler } from '../../handlers/delete-share-group-state.js';
import type { AnyHandler } from '../../handlers/handler.js';
import { initializeShareGroupStateHandler } from '../../handlers/initialize-share-group-state.js';
import { readShareGroupStateHandler } from '../../handlers/read-share-group-state.js';
import { readShareGroupStateSummaryHandler } from '../../handlers/read-share-group-state-summary.js';
import { writeShareGroupStateHandler } from '../../handlers/write-share-group-state.js';
import { BrokerConnectionError } from '../../replication/broker-client.js';
import { call, fakeContext } from '../../test-support/fake-services.js';
import { MemoryCoordinatorLog } from '../runtime/memory-coordinator-log.js';
import { ShareCoordinator } from './share-coordinator.js';
import { LocalSharePersister, NetworkSharePersister } from './share-persister.js';

const T = Buffer.alloc(16, 9).toString('base64url');
const handlers = new Map<number, AnyHandler>(
  [
    initializeShareGroupStateHandler,
    readShareGroupStateHandler,
    writeShareGroupStateHandler,
    deleteShareGroupStateHandler,
    readShareGroupStateSummaryHandler,
  ].map((h) => [h.apiKey, h as unknown as AnyHandler]),
);

function twoBrokers() {
  const time = new MockTime();
  const log = new MemoryCoordinatorLog(3, '__share_group_state');
  const cluster = {
    /** The broker leading the state partitions. */
    leader: 2,
    /** What the metadata says leads them, when it lags behind `leader`; undefined: up to date. */
    staleLeader: undefined as number | undefined,
    topicExists: true,
    down: new Set<number>(),
    sent: [] as string[],
  };
  const coordinators = new Map<number, ShareCoordinator>();
  for (const id of [1, 2]) {
    // One log for both (the partition's replicas); each broker serves it while it leads.
    const view = Object.create(log) as MemoryCoordinatorLog;
    coordinators.set(
      id,
      new ShareCoordinator(
        Object.assign(view, { partitionLedHere: () => cluster.leader === id }),
        time,
        createLogger('silent'),
        5000,
      ),
    );
  }
  const persister = new NetworkSharePersister(
    coordinators.get(1)!,
    {
      nodeId: 1,
      stateTopic: () =>
        cluster.topicExists
          ? { partitions: 3, leaderOf: () => cluster.staleLeader ?? cluster.leader }
          : undefined,
      liveBrokers: () => [2],
      async send<R>(brokerId: number, apiKey: number, version: number, body: unknown): Promise<R> {
        cluster.sent.push(`${apiKey}@${brokerId}`);
        // The metadata catches up once the stale leader was asked.
        cluster.staleLeader = undefined;
        if (cluster.down.has(brokerId)) throw new BrokerConnectionError(`broker ${brokerId} is down`);
        if (apiKey === 10) {
          // FindCoordinator SHARE (its handler is tested over TCP): creates the topic, names its leader.
          expect(body).toMatchObject({ keyType: 2, coordinatorKeys: [`g:${T}:0`] });
          cluster.topicExists = true;
          return { throttleTimeMs: 0, coordinators: [{ nodeId: cluster.leader, errorCode: 0 }] } as R;
        }
        const ctx = fakeContext({
          apiVersion: version,
          shareCoordinator: coordinators.get(brokerId)!,
          log: createLogger('silent'),
        });
        return (await call(handlers.get(apiKey)!, ctx, body as never)) as R;
      },
    },
    time,
    createLogger('silent'),
  );
  /** Resolves `p`, moving the clock on while it waits (the persister's backoff). */
  async function settle<R>(p: Promise<R>): Promise<R> {
    let done = false;
    const out = p.finally(() => {
      done = true;
    });
    out.catch(() => {});
    for (let i = 0; i < 200 && !done; i++) {
      await new Promise((r) => setImmediate(r));
      if (!done) time.advance(500);
    }
    return out;
  }
  return { time, cluster, coordinators, persister, settle };
}

describe('NetworkSharePersister', () => {
  it('reads and writes the state of a key coordinated by another broker with the RPCs', async () => {
    const { cluster, coordinators, persister, settle } = twoBrokers();
    expect(await settle(persister.read('g', T, 0, 3))).toBeUndefined();
    await settle(
      persister.write(
        'g',
        T,
        0,
        3,
        4,
        [{ firstOffset: 4, lastOffset: 6, deliveryState: 0, deliveryCount: 2 }],
        0,
      ),
    );
    expect(await settle(persister.read('g', T, 0, 3))).toEqual({
      startOffset: 4,
      stateEpoch: 0,
      leaderEpoch: 3,
      stateBatches: [{ firstOffset: 4, lastOffset: 6, deliveryState: 0, deliveryCount: 2 }],
    });
    expect(cluster.sent).toEqual(['84@2', '85@2', '84@2']);
    const p = coordinators.get(2)!.partitionFor('g', T, 0);
    expect(coordinators.get(2)!.isPartitionLoaded(p)).toBe(true);
    expect(coordinators.get(1)!.isPartitionLoaded(p)).toBe(false);
    // Coordinated here: direct calls, nothing sent.
    cluster.leader = 1;
    coordinators.get(2)!.unloadPartition(p);
    expect(await settle(persister.read('g', T, 0, 3))).toMatchObject({ startOffset: 4 });
    expect(cluster.sent).toHaveLength(3);
  });

  it('finds the coordinator with FindCoordinator key type SHARE before the topic is in the metadata', async () => {
    const { cluster, persister, settle } = twoBrokers();
    cluster.topicExists = false;
    await settle(persister.write('g', T, 0, 0, 0, [], 0));
    expect(cluster.sent).toEqual(['10@2', '85@2']);
  });

  it('the coordinator moves: NOT_COORDINATOR, backoff, found again, stored on the new one', async () => {
    const { time, cluster, coordinators, persister, settle } = twoBrokers();
    await settle(
      persister.write(
        'g',
        T,
        0,
        0,
        0,
        [{ firstOffset: 0, lastOffset: 1, deliveryState: 2, deliveryCount: 1 }],
        0,
      ),
    );
    // Leadership moves to broker 1 (broker 2's shard unloads); the metadata still names broker 2.
    const p = coordinators.get(2)!.partitionFor('g', T, 0);
    cluster.leader = 1;
    cluster.staleLeader = 2;
    coordinators.get(2)!.unloadPartition(p);
    const start = time.now();
    await settle(
      persister.write(
        'g',
        T,
        0,
        0,
        2,
        [{ firstOffset: 2, lastOffset: 2, deliveryState: 2, deliveryCount: 1 }],
        0,
      ),
    );
    expect(time.now() - start).toBeGreaterThanOrEqual(1000);
    // Sent to broker 2 (NOT_COORDINATOR), then run here on the new coordinator, which loaded the log.
    expect(cluster.sent).toEqual(['85@2', '85@2']);
    expect(coordinators.get(1)!.readStateSummary('g', T, 0, -1)).toMatchObject({
      startOffset: 2,
      deliveryCompleteCount: 1,
    });
  });

  it('a lost connection is retried; after 5 attempts its error is returned', async () => {
    const { time, cluster, persister, settle } = twoBrokers();
    cluster.down.add(2);
    const start = time.now();
    await expect(settle(persister.read('g', T, 0, 0))).rejects.toBeInstanceOf(BrokerConnectionError);
    expect(cluster.sent).toEqual(['84@2', '84@2', '84@2', '84@2', '84@2']);
    // Kafka's backoff: 1 s, 2 s, 4 s, 8 s between the attempts.
    expect(time.now() - start).toBeGreaterThanOrEqual(15_000);
  });

  it('fenced leader and state epochs are returned at once; alter bumps the state epoch', async () => {
    const { cluster, persister, settle } = twoBrokers();
    await settle(persister.write('g', T, 0, 5, 0, [], 0));
    await expect(settle(persister.write('g', T, 0, 4, 0, [], 0))).rejects.toMatchObject({
      error: 'FENCED_LEADER_EPOCH',
    });
    await expect(settle(persister.read('g', T, 0, 4))).rejects.toMatchObject({
      error: 'FENCED_LEADER_EPOCH',
    });
    expect(cluster.sent).toEqual(['85@2', '85@2', '84@2']);
    await settle(persister.alter('g', T, 0, 9));
    expect(cluster.sent.slice(3)).toEqual(['87@2', '83@2']);
    expect(await settle(persister.summary('g', T, 0))).toMatchObject({ stateEpoch: 1, startOffset: 9 });
    await expect(settle(persister.write('g', T, 0, 5, 9, [], 0))).rejects.toMatchObject({
      error: 'FENCED_STATE_EPOCH',
    });
    await settle(persister.write('g', T, 0, 5, 10, [], 1));
    await settle(persister.delete('g', T, 0));
    expect(await settle(persister.read('g', T, 0, 5))).toBeUndefined();
  });
});

describe('LocalSharePersister', () => {
  it('direct calls on the coordinator of this process', async () => {
    const sc = new ShareCoordinator(
      Object.assign(new MemoryCoordinatorLog(3, '__share_group_state'), { partitionLedHere: () => true }),
      new MockTime(),
      createLogger('silent'),
      5000,
    );
    const ps = new LocalSharePersister(sc);
    await ps.write(
      'g',
      T,
      1,
      2,
      7,
      [{ firstOffset: 7, lastOffset: 7, deliveryState: 4, deliveryCount: 5 }],
      0,
    );
    expect(await ps.read('g', T, 1, 2)).toEqual({
      startOffset: 7,
      stateEpoch: 0,
      leaderEpoch: 2,
      stateBatches: [{ firstOffset: 7, lastOffset: 7, deliveryState: 4, deliveryCount: 5 }],
    });
    await ps.alter('g', T, 1, 8);
    expect(await ps.summary('g', T, 1)).toEqual({
      stateEpoch: 1,
      leaderEpoch: 2,
      startOffset: 8,
      deliveryCompleteCount: 0,
    });
    ps.close();
  });
});
