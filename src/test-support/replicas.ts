/**
 * Test helper: a real ReplicaManager over real storage in a temporary directory, on a MockTime,
 * with the controller that creates its topics (over a metadata log in the same directory, node 1
 * registered), without a broker, TCP or coordinators — for unit tests of the data path and of
 * what runs on it.
 */
import { rmSync } from 'node:fs';
import { silentLogger } from '../common/logger.js';
import { MockTime } from '../common/time.js';
import { BrokerConfig, type RawConfig } from '../config/broker-config.js';
import { type LocalController, openLocalController } from '../metadata/controller.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import { Metrics } from '../server/metrics.js';
import { defaultLogConfig, logConfigFromProps } from '../storage/log-config.js';
import { LogManager } from '../storage/log-manager.js';
import { tmpDir } from '../storage/test-helpers.js';

export interface TestReplicas {
  dir: string;
  time: MockTime;
  config: BrokerConfig;
  logManager: LogManager;
  replicas: ReplicaManager;
  controller: LocalController;
  /** What the coordinators need of the metadata (their internal topics). */
  internalTopics: {
    partitionCount(topic: string): number | undefined;
    createTopic(name: string, n: number, c: Record<string, string>): unknown;
  };
  close(): void;
}

export function openTestReplicas(overrides: RawConfig = {}): TestReplicas {
  const dir = tmpDir();
  const time = new MockTime();
  const config = new BrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, ...overrides });
  const logManager = LogManager.open({
    logDirs: dir,
    nodeId: 1,
    defaultConfig: logConfigFromProps(defaultLogConfig, config.topicConfig()),
    clock: time,
  });
  const replicas = new ReplicaManager({
    nodeId: 1,
    config,
    logManager,
    log: silentLogger,
    metrics: new Metrics(),
    time,
    purgatoryTime: time,
  });
  const controller = openLocalController({ dataDir: dir, nodeId: 1, config });
  controller.onChange((delta, image) => replicas.applyDelta(delta, image));
  logManager.startupComplete();
  // A LocalController applies a change before its call returns (its promise settles later).
  void controller.registerBroker(
    1,
    [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' }],
    null,
  );
  return {
    dir,
    time,
    config,
    logManager,
    replicas,
    controller,
    internalTopics: {
      partitionCount: (topic) => controller.image.topic(topic)?.partitions.length,
      createTopic: (name, n, c) => controller.createTopic(name, n, c),
    },
    close() {
      controller.close();
      replicas.shutdown();
      logManager.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
