/**
 * auto.leader.rebalance.enable on three brokers in one process, driven by the cluster's MockTime: a
 * broker stopped loses its leaderships, comes back and rejoins the ISRs; it leads again only when
 * leader.imbalance.check.interval.seconds has passed on the broker clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';

const time = new MockTime(Date.now());
let tc: TestCluster;

beforeAll(async () => {
  tc = await startTestCluster(
    3,
    {
      'replica.fetch.wait.max.ms': '50',
      'replica.fetch.backoff.ms': '20',
      'offsets.topic.num.partitions': '1',
      'leader.imbalance.check.interval.seconds': '60',
    },
    { time },
  );
});

afterAll(async () => {
  await tc?.close();
});

describe('automatic leader balancing in a cluster', () => {
  it('a broker back in the ISRs leads its preferred partitions again after the check interval', async () => {
    tc.createTopic('b', [
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2],
    ]);
    const leaders = () => tc.cluster.controller.image.topic('b')!.partitions.map((p) => p.leader);
    expect(leaders()).toEqual([1, 2, 3]);
    await tc.cluster.stopBroker(1);
    expect(leaders()[0]).not.toBe(1);
    await tc.cluster.startBroker(1);
    await until(
      () => tc.cluster.controller.image.topic('b')!.partitions.every((p) => p.isr.length === 3),
      10_000,
      'broker 1 rejoins every ISR',
    );
    // Not before the interval: a pass ran at most once since the start, before broker 1 was back.
    expect(leaders()[0]).not.toBe(1);
    time.advance(60_000);
    await until(() => leaders()[0] === 1, 5_000, 'broker 1 leads partition 0 again');
    expect(leaders()).toEqual([1, 2, 3]);
    // Its follower copy became the leader at a new epoch; data written before is there.
    expect(tc.partitionOn(1, 'b', 0).isLeader).toBe(true);
  });
});
