/**
 * Test helper: a broker in this process on an ephemeral port with a fresh temporary data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import { BrokerConfig, type RawConfig } from '../config/broker-config.js';
import type { Partition } from '../replication/partition.js';
import { Broker } from '../server/broker.js';

export interface TestBroker {
  broker: Broker;
  port: number;
  bootstrap: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestBroker(
  overrides: RawConfig = {},
  dataDir?: string,
  options: { time?: Time; purgatoryTime?: Time } = {},
): Promise<TestBroker> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'kbroker-test-'));
  let broker: Broker;
  try {
    const config = new BrokerConfig({
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'log.dirs': dir,
      ...overrides,
    });
    broker = await Broker.start(config, {
      logger: createLogger(process.env.KBROKER_TEST_LOG ? 'debug' : 'silent'),
      ...(options.time ? { time: options.time } : {}),
      ...(options.purgatoryTime ? { purgatoryTime: options.purgatoryTime } : {}),
    });
  } catch (err) {
    // A refused configuration (the tests of bad settings) leaves no directory behind.
    if (!dataDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    broker,
    port: broker.port,
    bootstrap: `127.0.0.1:${broker.port}`,
    dataDir: dir,
    async close() {
      await broker.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates a topic through the broker's controller and returns the partitions this broker hosts
 * of it (the Partition objects of its replica manager), for tests that drive them directly.
 */
export async function createHostedTopic(
  broker: Broker,
  name: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<Partition[]> {
  await broker.controller.createTopic(name, partitions, configs);
  return hostedPartitions(broker, name);
}

/** The partitions this broker hosts of a topic, by partition id. */
export function hostedPartitions(broker: Broker, name: string): Partition[] {
  const t = broker.metadata.topic(name);
  if (!t) throw new Error(`no topic ${name}`);
  return t.partitions.map((p) => broker.replicaManager.getPartition(name, p.partitionId)!);
}
