/**
 * Dynamic broker configs (AlterConfigs on a BROKER resource) survive restarts in
 * `<log dir>/kbroker-broker-configs.json`, as a KRaft broker keeps them in __cluster_metadata:
 * `default` holds the cluster-wide values (resource name ""), `broker` this broker's own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';

export const DYNAMIC_BROKER_CONFIGS_FILE = 'kbroker-broker-configs.json';

export interface DynamicBrokerConfigs {
  default: Record<string, string>;
  broker: Record<string, string>;
}

export function loadDynamicBrokerConfigs(dataDir: string): DynamicBrokerConfigs {
  const file = path.join(dataDir, DYNAMIC_BROKER_CONFIGS_FILE);
  if (!fs.existsSync(file)) return { default: {}, broker: {} };
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DynamicBrokerConfigs>;
  return { default: parsed.default ?? {}, broker: parsed.broker ?? {} };
}

export function saveDynamicBrokerConfigs(dataDir: string, configs: DynamicBrokerConfigs): void {
  writeFileAtomic(
    path.join(dataDir, DYNAMIC_BROKER_CONFIGS_FILE),
    `${JSON.stringify({ version: 0, ...configs }, null, 2)}\n`,
  );
}
