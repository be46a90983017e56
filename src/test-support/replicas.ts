/**
 * Test helper: a real ReplicaManager over real storage in a temporary directory, on a MockTime,
 * without a broker, TCP or coordinators — for unit tests of the data path and of what runs on it.
 */
import { rmSync } from 'node:fs';
import { silentLogger } from '../common/logger.js';
import { MockTime } from '../common/time.js';
import { BrokerConfig, type RawConfig } from '../config/broker-config.js';
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
  return {
    dir,
    time,
    config,
    logManager,
    replicas,
    close() {
      replicas.shutdown();
      logManager.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
