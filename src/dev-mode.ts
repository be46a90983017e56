/**
 * Dev mode: the settings a test suite or a laptop wants, applied under everything the user sets
 * (a config file, KAFKA_* variables, --override and the embedding options all win over them).
 *
 * - `group.initial.rebalance.delay.ms=0`: a lone consumer joins at once instead of waiting 3 s
 *   for others.
 * - `group.streams.initial.rebalance.delay.ms=0`: the same for a streams group's first member
 *   (Kafka 4.3 waits 3 s before a new streams group's first assignment).
 * - `group.min.session.timeout.ms=1000`: clients may ask for 1 s sessions (Kafka's floor is 6 s),
 *   so a test that stops a consumer sees its partitions move quickly.
 * - `offsets.topic.num.partitions=1`, `offsets.topic.replication.factor=1`: one small
 *   `__consumer_offsets` log instead of 50, as single-node Kafka test images set them.
 * - `auto.create.topics.enable=true`.
 * - The data directory is a fresh temporary folder (removed when the broker stops) unless one
 *   is given.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawConfig } from './config/broker-config.js';

export const DEV_MODE_CONFIG: Readonly<RawConfig> = {
  'group.initial.rebalance.delay.ms': '0',
  'group.streams.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': '1',
  'offsets.topic.replication.factor': '1',
  'auto.create.topics.enable': 'true',
};

/** A fresh temporary data directory (`$TMPDIR/kbroker-XXXXXX`). */
export function makeTempDataDir(prefix = 'kbroker-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** One line describing the mode, for the CLI's start-up summary. */
export function describeMode(dev: boolean, dataDir: string, temporary: boolean): string {
  const data = temporary ? `temporary data in ${dataDir}, removed on exit` : `data in ${dataDir}`;
  if (!dev) return `Kafka's defaults (no --dev), ${data}`;
  const settings = Object.entries(DEV_MODE_CONFIG)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `dev mode (${settings}), ${data}`;
}
