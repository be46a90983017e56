/**
 * The follower side: where truncation stops (offsetTruncationState, Kafka's getOffsetTruncationState),
 * the bounded broker connection, and a fetcher starting over at its leader's log start offset when
 * its own log ends below it (OFFSET_OUT_OF_RANGE → ListOffsets → truncateFullyAndStartAt).
 */
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { systemTime } from '../common/time.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { Log } from '../storage/log.js';
import { ManualClock, testConfig, tmpDir } from '../storage/test-helpers.js';
import { startTestBroker } from '../test-support/broker.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';
import { BrokerClient, BrokerConnectionError } from './broker-client.js';
import { Partition } from './partition.js';
import { offsetTruncationState } from './replica-fetcher.js';

const batch = (n: number) =>
  buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ value: `v${i}`, timestamp: 1_700_000_000_000 })),
  });

/** A follower partition whose log has epochs 0@0, 1@5, 3@8 and ends at 10. */
function followerWithEpochs(): Partition {
  const log = Log.open(tmpDir(), 't', 0, testConfig(), new ManualClock());
  log.appendAsLeader(batch(5), 0);
  log.appendAsLeader(batch(3), 1);
  log.appendAsLeader(batch(2), 3);
  log.updateHighWatermark(4);
  const p = new Partition('t', 0, log, 2, 3, [1, 2], [1, 2]);
  p.makeFollower({ leader: 1, leaderEpoch: 4, isr: [1, 2], replicas: [1, 2], partitionEpoch: 1 });
  return p;
}

describe('offsetTruncationState', () => {
  it("truncates to where the leader's copy of our latest epoch ends, or asks again for an epoch we lack", () => {
    const p = followerWithEpochs();
    expect(p.log.leaderEpochCache.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 5 },
      { epoch: 3, startOffset: 8 },
    ]);
    // Same epoch on both: the smaller end.
    expect(offsetTruncationState(p, 3, 9)).toEqual({ offset: 9, completed: true });
    expect(offsetTruncationState(p, 3, 12)).toEqual({ offset: 10, completed: true });
    // The leader's largest epoch at or below ours is 2, which we lack: cut to the end of our epoch 1, ask again.
    expect(offsetTruncationState(p, 2, 7)).toEqual({ offset: 8, completed: false });
    // Epoch 1 ends at 6 on the leader, at 8 here.
    expect(offsetTruncationState(p, 1, 6)).toEqual({ offset: 6, completed: true });
    // The leader knows no epoch at or below ours: the high watermark.
    expect(offsetTruncationState(p, -1, -1)).toEqual({ offset: 4, completed: true });
  });
});

describe('BrokerClient', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('fails the request and closes when a response frame is larger than its bound, buffering none of it', async () => {
    server = createServer((socket) => {
      socket.once('data', () => {
        const head = Buffer.alloc(8);
        head.writeInt32BE(100 * 1024 * 1024, 0); // claims 100 MiB
        head.writeInt32BE(1, 4);
        socket.write(head);
        socket.write(Buffer.alloc(64 * 1024));
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = await BrokerClient.connect(
      { host: '127.0.0.1', port },
      { clientId: 'test', time: systemTime, maxResponseBytes: 1024 * 1024, requestTimeoutMs: 5000 },
    );
    await expect(client.send(18, 0, {})).rejects.toThrow(BrokerConnectionError);
    expect(client.isOpen).toBe(false);
  });
});

describe('ReplicaFetcherThread', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.close()));
  });

  it("starts a new follower over at the leader's log start offset when its log ends below it", async () => {
    const tc = await startTestCluster(2, {
      'replica.fetch.wait.max.ms': '50',
      'replica.fetch.backoff.ms': '20',
    });
    clusters.push(tc);
    const { cluster } = tc;
    await tc.createTopic('late', [[1, 2]]);
    // Broker 2 goes away (controlled shutdown: out of the ISR) and its log with it.
    const dir = cluster.brokerDir(2);
    await cluster.stopBroker(2);
    rmSync(dir, { recursive: true, force: true });
    const leader = tc.partitionOn(1, 'late');
    leader.appendRecordsToLeader(batch(6));
    leader.appendRecordsToLeader(batch(4));
    expect(leader.isr).toEqual([1]);
    expect(leader.highWatermark).toBe(10);
    leader.log.deleteRecordsBefore(6);

    // Broker 2 comes back with an empty log: offset 0 is out of the leader's range.
    await cluster.startBroker(2);
    const follower = tc.partitionOn(2, 'late');
    await until(() => follower.logEndOffset === 10, 10_000, 'the follower fetched from the log start');
    expect(follower.logStartOffset).toBe(6);
    expect(follower.log.segmentBaseOffsets()).toEqual([6]);
    // Caught up: the leader adds it to the ISR through the controller (AlterPartition).
    await until(() => leader.isr.length === 2, 10_000, 'ISR expansion');
    expect(cluster.controller.image.partition('late', 0)!.isr).toEqual([1, 2]);
    await until(() => follower.highWatermark === 10, 10_000, "the leader's high watermark");
    const fetcher = cluster.broker(2)!.replicaManager.replicaFetcherManager.fetcher(1)!;
    expect(fetcher.fetchState('late', 0)).toMatchObject({
      state: 'Fetching',
      fetchOffset: 10,
      currentLeaderEpoch: 0,
    });

    // Leading it (broker 1 shut down) stops the fetcher (idle fetchers are shut down).
    await cluster.stopBroker(1);
    await until(
      () => cluster.broker(2)!.replicaManager.replicaFetcherManager.fetcherCount === 0,
      5000,
      'fetcher stopped',
    );
    expect([follower.isLeader, follower.leaderEpoch]).toEqual([true, 1]);
    await cluster.startBroker(1);
    expect(cluster.broker(1)!.replicaManager.replicaFetcherManager.fetcher(2)).toBeDefined();
  });
});

describe('ReplicaFetcherThread bookkeeping', () => {
  it('backs off after a connection error, and drops a partition whose topic is gone instead of spinning', async () => {
    const { ReplicaFetcherThread } = await import('./replica-fetcher.js');
    const p = followerWithEpochs();
    let hosted: Partition | undefined = p;
    const deps = (port: number) =>
      [
        1,
        { host: '127.0.0.1', port },
        {
          localBrokerId: 2,
          time: systemTime,
          log: { debug() {}, info() {}, warn() {}, error() {} },
          config: {
            fetchBackoffMs: 10_000,
            fetchMaxBytes: 1 << 20,
            fetchResponseMaxBytes: 1 << 20,
            fetchWaitMaxMs: 10,
            fetchMinBytes: 1,
            socketTimeoutMs: 1000,
            messageMaxBytes: 1 << 20,
          },
          partition: () => hosted,
        },
      ] as const;
    // Port 1 refuses: the partition is delayed by the backoff; nothing is sent meanwhile.
    const refused = new ReplicaFetcherThread(...deps(1));
    refused.addPartitions([{ topic: 't', partition: 0, leaderEpoch: 4, fetchOffset: 10 }]);
    refused.start();
    await until(() => refused.fetchState('t', 0)?.delayedUntil !== 0, 5000, 'the connection error backoff');
    expect(refused.requests).toBe(0);
    await refused.shutdown();

    const leader = await startTestBroker();
    try {
      const fetcher = new ReplicaFetcherThread(...deps(leader.port));
      fetcher.addPartitions([{ topic: 't', partition: 0, leaderEpoch: 4, fetchOffset: 10 }]);
      hosted = undefined; // the topic was deleted
      fetcher.start();
      await until(() => fetcher.partitionCount === 0, 5000, 'the state dropped');
      await new Promise((r) => setTimeout(r, 50));
      expect(fetcher.requests).toBe(0);
      await fetcher.shutdown();
    } finally {
      await leader.close();
    }
  });
});
