/**
 * A broker killed and started again before its session expired is fenced when it comes back, as
 * Kafka's controller fences a broker registering after an unclean shutdown: its leaderships move
 * to another ISR member at a new leader epoch (what it lost in the crash may be what its followers
 * have), then it follows, catches up and rejoins the ISR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';

let tc: TestCluster;

beforeAll(async () => {
  tc = await startTestCluster(3, {
    'replica.fetch.wait.max.ms': '50',
    'replica.fetch.backoff.ms': '20',
    // The session outlives the test: only the restart can fence it.
    'broker.session.timeout.ms': String(24 * 3600_000),
  });
});

afterAll(async () => {
  await tc?.close();
});

describe('a broker restarted after a crash, before its session expired', () => {
  it('loses its leaderships at a new leader epoch, then rejoins the ISR as a follower', async () => {
    tc.createTopic('bounce', [[1, 2, 3]]);
    const image = () => tc.cluster.controller.image;
    await until(() => image().partition('bounce', 0)!.isr.length === 3, 10_000, 'full ISR');
    const before = image().partition('bounce', 0)!;
    expect(before.leader).toBe(1);

    await tc.cluster.killBroker(1);
    // Not fenced yet: its session has not expired.
    expect(image().brokers.get(1)!.fenced).toBe(false);
    expect(image().partition('bounce', 0)!.leader).toBe(1);

    await tc.cluster.startBroker(1);
    const after = image().partition('bounce', 0)!;
    expect([2, 3]).toContain(after.leader);
    expect(after.leaderEpoch).toBe(before.leaderEpoch + 1);
    expect(image().brokers.get(1)!.fenced).toBe(false);
    await until(() => image().partition('bounce', 0)!.isr.length === 3, 10_000, 'back in the ISR');
    expect(tc.partitionOn(1, 'bounce').isLeader).toBe(false);

    // A clean restart (controlled shutdown) moves leadership at shutdown, not at start.
    const led = image().partition('bounce', 0)!;
    await tc.cluster.stopBroker(led.leader);
    const moved = image().partition('bounce', 0)!;
    expect(moved.leaderEpoch).toBe(led.leaderEpoch + 1);
    await tc.cluster.startBroker(led.leader);
    expect(image().partition('bounce', 0)!.leaderEpoch).toBe(moved.leaderEpoch);
  });
});
