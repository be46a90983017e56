/**
 * Test helper: a cluster of brokers in this process (src/server/cluster.ts) over a fresh temporary
 * directory, removed on close; topics placed by hand through the shared controller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import type { RawConfig } from '../config/broker-config.js';
import type { Partition } from '../replication/partition.js';
import { Cluster } from '../server/cluster.js';

export interface TestCluster {
  readonly cluster: Cluster;
  /** The partition `partition` of `topic` on broker `id` (which must be running and host it). */
  partitionOn(id: number, topic: string, partition?: number): Partition;
  /** host:port of broker `id`. */
  bootstrap(id: number): string;
  /** Creates `topic` with the given replica lists, the first of each the leader. */
  createTopic(
    topic: string,
    assignment: readonly (readonly number[])[],
    configs?: Record<string, string>,
  ): Promise<void>;
  close(): Promise<void>;
}

export async function startTestCluster(
  brokers: number,
  config: RawConfig = {},
  options: { time?: Time; purgatoryTime?: Time } = {},
): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kbroker-cluster-'));
  const cluster = await Cluster.start({
    brokers,
    dataDir: dir,
    config,
    logger: createLogger(process.env.KBROKER_TEST_LOG ? 'debug' : 'silent'),
    ...options,
  });
  return {
    cluster,
    partitionOn(id, topic, partition = 0) {
      const b = cluster.broker(id);
      if (!b) throw new Error(`broker ${id} is not running`);
      const p = b.replicaManager.getPartition(topic, partition);
      if (!p) throw new Error(`broker ${id} hosts no ${topic}-${partition}`);
      return p;
    },
    bootstrap(id) {
      const b = cluster.broker(id);
      if (!b) throw new Error(`broker ${id} is not running`);
      return `${b.advertised.host}:${b.advertised.port}`;
    },
    async createTopic(topic, assignment, configs = {}) {
      const [result] = await cluster.controller.createTopics(
        [
          {
            name: topic,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: assignment.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
            configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
          },
        ],
        false,
      );
      if (result!.errorCode !== 0) throw new Error(`creating ${topic}: ${result!.errorMessage}`);
    },
    async close() {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
