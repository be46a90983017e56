/**
 * Broker epochs on the controller (Kafka's ClusterControlManager.checkBrokerEpoch, KIP-903): a
 * controlled shutdown or an AlterPartition from a broker at an epoch it no longer has (it restarted
 * and registered again) is refused with STALE_BROKER_EPOCH; an ISR member named with an old broker
 * epoch is INELIGIBLE_REPLICA. Over a real cluster, followers fetch with their epoch and the ISR
 * expands with it.
 */
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config/broker-config.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { tmpDir } from '../storage/test-helpers.js';
import { startTestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';
import { ControllerAlterPartitionManager } from './alter-partition.js';
import { openLocalController } from './controller.js';

const endpoint = (port: number) => [{ name: 'PLAINTEXT', host: 'h', port, securityProtocol: 'PLAINTEXT' }];

async function setup() {
  const c = openLocalController({
    dataDir: tmpDir(),
    nodeId: 1,
    config: new BrokerConfig({}),
    random: () => 0,
  });
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3]) epochs.set(id, await c.registerBroker(id, endpoint(9090 + id), null));
  await c.createTopics(
    [
      {
        name: 't',
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }],
        configs: [],
      },
    ],
    false,
  );
  return { c, epochs };
}

describe('broker epochs', () => {
  it('a controlled shutdown at a stale or unknown epoch is refused with STALE_BROKER_EPOCH', async () => {
    const { c, epochs } = await setup();
    const old = epochs.get(3)!;
    const fresh = await c.registerBroker(3, endpoint(9093), null);
    expect(fresh).toBeGreaterThan(old);
    await expect(c.controlledShutdown(3, old)).rejects.toMatchObject({
      error: 'STALE_BROKER_EPOCH',
      errorMessage: `Expected broker epoch ${fresh}, but got broker epoch ${old}`,
    });
    await expect(c.controlledShutdown(9, 0)).rejects.toBeInstanceOf(KafkaError);
    expect(c.image.brokers.get(3)!.fenced).toBe(false);
    await c.controlledShutdown(3, fresh);
    expect(c.image.brokers.get(3)!.fenced).toBe(true);
    expect(c.image.partition('t', 0)!.isr).toEqual([1, 2]);
  });

  it('AlterPartition: a stale leader epoch is STALE_BROKER_EPOCH, a member at an old epoch INELIGIBLE_REPLICA', async () => {
    const { c, epochs } = await setup();
    const tp = { topicId: c.image.topic('t')!.topicId, topic: 't', partition: 0 };
    const p = c.image.partition('t', 0)!;
    const proposal = (isr: number[], memberEpochs: Map<number, number>) => ({
      leader: 1,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: c.image.partition('t', 0)!.partitionEpoch,
      isr,
      isrWithEpochs: isr.map((brokerId) => ({ brokerId, brokerEpoch: memberEpochs.get(brokerId) ?? -1 })),
    });
    const stale = new ControllerAlterPartitionManager(c, 1, () => epochs.get(1)! + 100);
    expect(await stale.submit(tp, proposal([1, 2], epochs))).toEqual({ error: 'STALE_BROKER_EPOCH' });
    const leader = new ControllerAlterPartitionManager(c, 1, () => epochs.get(1)!);
    expect(await leader.submit(tp, proposal([1, 2], epochs))).toMatchObject({ error: 'NONE' });
    // Broker 3 restarts (a new epoch): the leader still naming its old epoch may not add it.
    await c.registerBroker(3, endpoint(9093), null);
    expect(await leader.submit(tp, proposal([1, 2, 3], epochs))).toEqual({ error: 'INELIGIBLE_REPLICA' });
    expect(c.image.partition('t', 0)!.isr).toEqual([1, 2]);
    const current = new Map([...epochs, [3, c.image.brokers.get(3)!.brokerEpoch]]);
    expect(await leader.submit(tp, proposal([1, 2, 3], current))).toMatchObject({ error: 'NONE' });
    expect(c.image.partition('t', 0)!.isr).toEqual([1, 2, 3]);
  });

  it('followers fetch with their broker epoch; a restarted follower rejoins the ISR at its new epoch', async () => {
    const tc = await startTestCluster(3, { 'replica.fetch.wait.max.ms': '50' });
    try {
      tc.createTopic('e', [[1, 2, 3]]);
      const epochOf = (id: number) => tc.cluster.controller.image.brokers.get(id)!.brokerEpoch;
      await until(
        () => tc.partitionOn(1, 'e').followerState(2)?.brokerEpoch === epochOf(2),
        5000,
        'epoch seen',
      );
      await tc.cluster.stopBroker(3);
      expect(tc.cluster.controller.image.partition('e', 0)!.isr).toEqual([1, 2]);
      const before = epochOf(3);
      await tc.cluster.startBroker(3);
      expect(epochOf(3)).toBeGreaterThan(before);
      expect(tc.cluster.broker(3)!.replicaManager.brokerEpoch).toBe(epochOf(3));
      await until(
        () => tc.cluster.controller.image.partition('e', 0)!.isr.length === 3,
        10_000,
        'broker 3 back in the ISR',
      );
      // Also once the long poll of its previous incarnation has completed on the leader.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(tc.partitionOn(1, 'e').followerState(3)!.brokerEpoch).toBe(epochOf(3));
    } finally {
      await tc.close();
    }
  });
});
