/**
 * Automatic leader balancing on the controller: a broker whose share of preferred partitions led by
 * others is above leader.imbalance.per.broker.percentage gets them back (when alive and in the
 * ISR); at or below it, or out of the ISR, nothing moves; the balancer runs on the broker clock.
 */
import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { BrokerConfig } from '../config/broker-config.js';
import { tmpDir } from '../storage/test-helpers.js';
import { openLocalController } from './controller.js';
import { AutoLeaderBalancer, partitionsToRebalance } from './leader-balance.js';

const endpoint = (port: number) => [{ name: 'PLAINTEXT', host: 'h', port, securityProtocol: 'PLAINTEXT' }];

/** Three brokers; topic t with two partitions preferring each broker; broker 1 fenced and back (out of the ISR). */
function setup(config: Record<string, string> = {}) {
  const c = openLocalController({
    dataDir: tmpDir(),
    nodeId: 1,
    config: new BrokerConfig(config),
    random: () => 0,
  });
  for (const id of [1, 2, 3]) c.registerBroker(id, endpoint(9090 + id), null);
  const replicas = [
    [1, 2, 3],
    [1, 3, 2],
    [2, 3, 1],
    [2, 1, 3],
    [3, 1, 2],
    [3, 2, 1],
  ];
  c.createTopics(
    [
      {
        name: 't',
        numPartitions: -1,
        replicationFactor: -1,
        assignments: replicas.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
        configs: [],
      },
    ],
    false,
  );
  c.fenceBroker(1);
  c.unfenceBroker(1);
  const leaders = () => c.image.topic('t')!.partitions.map((p) => p.leader);
  /** The leader of partition p takes broker 1 back into its ISR. */
  const rejoin = (p: number) => {
    const part = c.image.topic('t')!.partitions[p]!;
    c.alterPartition(
      {
        brokerId: part.leader,
        brokerEpoch: -1,
        topics: [
          {
            topicId: c.image.topic('t')!.topicId,
            partitions: [
              {
                partitionIndex: p,
                leaderEpoch: part.leaderEpoch,
                partitionEpoch: part.partitionEpoch,
                newIsrWithEpochs: [...part.isr, 1].map((brokerId) => ({ brokerId, brokerEpoch: -1 })),
                leaderRecoveryState: 0,
              },
            ],
          },
        ],
      },
      3,
    );
  };
  return { c, leaders, rejoin };
}

describe('automatic leader balancing', () => {
  it('elects the preferred replica back once it is in the ISR and its broker is above the imbalance', async () => {
    const { c, leaders, rejoin } = setup();
    expect(leaders()).toEqual([2, 3, 2, 2, 3, 3]);
    // Broker 1 leads none of its 2 preferred partitions (100% > 10%), but is in no ISR yet.
    expect(await c.maybeBalancePartitionLeaders()).toBe(0);
    rejoin(0);
    expect(partitionsToRebalance(c.image, 10, () => true).map((x) => x.partition.partitionId)).toEqual([0]);
    expect(await c.maybeBalancePartitionLeaders()).toBe(1);
    expect(leaders()).toEqual([1, 3, 2, 2, 3, 3]);
    expect(c.image.topic('t')!.partitions[0]!.leaderEpoch).toBe(2);
    // Now 1 of 2 (50%): still above 10%; once partition 1 has it in its ISR, it moves too.
    rejoin(1);
    expect(await c.maybeBalancePartitionLeaders()).toBe(1);
    expect(leaders()).toEqual([1, 1, 2, 2, 3, 3]);
    expect(await c.maybeBalancePartitionLeaders()).toBe(0);
  });

  it('leaves a broker at or below leader.imbalance.per.broker.percentage alone', async () => {
    const { c, leaders, rejoin } = setup({ 'leader.imbalance.per.broker.percentage': '50' });
    rejoin(0);
    rejoin(1);
    // 2 of 2 not led (100% > 50%): both elected.
    expect(await c.maybeBalancePartitionLeaders()).toBe(2);
    expect(leaders()).toEqual([1, 1, 2, 2, 3, 3]);
    c.fenceBroker(1);
    c.unfenceBroker(1);
    rejoin(0);
    rejoin(1);
    expect(partitionsToRebalance(c.image, 100, () => true)).toEqual([]);
  });

  it('runs every leader.imbalance.check.interval.seconds on the broker clock while enabled', async () => {
    const time = new MockTime();
    const passes: number[] = [];
    const controller = {
      maybeBalancePartitionLeaders: async () => {
        passes.push(time.now());
        return 0;
      },
    };
    const config = new BrokerConfig({ 'leader.imbalance.check.interval.seconds': '5' });
    const balancer = new AutoLeaderBalancer(controller, config, time);
    const start = time.now();
    balancer.start();
    time.advance(4999);
    expect(passes).toEqual([]);
    time.advance(1);
    await Promise.resolve();
    await Promise.resolve();
    time.advance(5000);
    expect(passes).toEqual([start + 5000, start + 10000]);
    balancer.stop();
    time.advance(20_000);
    expect(passes).toHaveLength(2);
    expect(time.pendingTimers).toBe(0);
    const disabled = new AutoLeaderBalancer(
      controller,
      new BrokerConfig({ 'auto.leader.rebalance.enable': 'false' }),
      time,
    );
    disabled.start();
    expect(time.pendingTimers).toBe(0);
  });
});
