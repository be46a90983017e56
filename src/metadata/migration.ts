/**
 * First start of a data directory written before the metadata log existed: the topic registry
 * `kbroker-topics.json` (name, topic id, partition count, config overrides) and the dynamic broker
 * configs `kbroker-broker-configs.json` become the records of the metadata log's first snapshot.
 * Topic ids are kept — they are in every partition's `partition.metadata` and clients hold them.
 * Every partition was led by this broker alone at leader epoch 0, as before. Once the snapshot is
 * written the old files are removed (again at the next start if a crash came in between).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MetadataRecord } from './records.js';

export const LEGACY_TOPICS_FILE = 'kbroker-topics.json';
export const LEGACY_BROKER_CONFIGS_FILE = 'kbroker-broker-configs.json';

interface LegacyTopic {
  name: string;
  topicId: string;
  partitions: number;
  configs?: Record<string, string>;
}

/** The records that rebuild what the legacy files of `dataDir` hold (empty when there are none). */
export function legacyMetadataRecords(dataDir: string, nodeId: number): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  const topicsFile = path.join(dataDir, LEGACY_TOPICS_FILE);
  if (fs.existsSync(topicsFile)) {
    const parsed = JSON.parse(fs.readFileSync(topicsFile, 'utf8')) as { topics?: LegacyTopic[] };
    for (const t of parsed.topics ?? []) {
      records.push({ type: 'TopicRecord', name: t.name, topicId: t.topicId });
      for (let p = 0; p < t.partitions; p++) {
        records.push({
          type: 'PartitionRecord',
          topicId: t.topicId,
          partitionId: p,
          replicas: [nodeId],
          isr: [nodeId],
          leader: nodeId,
          leaderEpoch: 0,
          partitionEpoch: 0,
        });
      }
      for (const [name, value] of Object.entries(t.configs ?? {})) {
        records.push({ type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: t.name, name, value });
      }
    }
  }
  const configsFile = path.join(dataDir, LEGACY_BROKER_CONFIGS_FILE);
  if (fs.existsSync(configsFile)) {
    const parsed = JSON.parse(fs.readFileSync(configsFile, 'utf8')) as {
      default?: Record<string, string>;
      broker?: Record<string, string>;
    };
    const scopes: [string, Record<string, string> | undefined][] = [
      ['', parsed.default],
      [String(nodeId), parsed.broker],
    ];
    for (const [resourceName, configs] of scopes) {
      for (const [name, value] of Object.entries(configs ?? {})) {
        records.push({ type: 'ConfigRecord', resourceType: 'BROKER', resourceName, name, value });
      }
    }
  }
  return records;
}

/** Removes the legacy files once the metadata log holds what they said. */
export function removeLegacyMetadataFiles(dataDir: string): void {
  for (const f of [LEGACY_TOPICS_FILE, LEGACY_BROKER_CONFIGS_FILE]) {
    fs.rmSync(path.join(dataDir, f), { force: true });
    fs.rmSync(path.join(dataDir, `${f}.tmp`), { force: true });
  }
}
