/**
 * Broker configs of share groups (KIP-932, issue 17): Kafka's names, defaults and bounds
 * (GroupCoordinatorConfig, ShareGroupConfig, ShareCoordinatorConfig). Part of the one config
 * registry (definitions.ts spreads them into brokerConfigDefs).
 */
import type { ConfigDef } from './config-def.js';

/**
 * The group configs kbroker serves (Kafka's GroupConfig, `kafka-configs --entity-type groups`):
 * their broker default (the value when the group has none) and the check of a new value.
 */
export const groupConfigDefs: ReadonlyMap<
  string,
  { serverDefault: string; doc: string; validate: (value: string) => string | null }
> = new Map([
  [
    'share.auto.offset.reset',
    {
      serverDefault: '',
      doc: 'The strategy to initialize the share-partition start offset: latest or earliest.',
      validate: (v: string) =>
        v === 'latest' || v === 'earliest'
          ? null
          : `Invalid value ${v} for configuration share.auto.offset.reset: kbroker supports latest and earliest`,
    },
  ],
  [
    'share.record.lock.duration.ms',
    {
      serverDefault: 'group.share.record.lock.duration.ms',
      doc: 'The record acquisition lock duration in milliseconds for share groups.',
      validate: (v: string) => {
        const n = Number(v);
        return Number.isInteger(n) && n >= 15_000 && n <= 60_000
          ? null
          : `Invalid value ${v} for configuration share.record.lock.duration.ms: Value must be between 15000 and 60000`;
      },
    },
  ],
]);

/** Kafka's GroupConfig.validate: unknown names and bad values are INVALID_CONFIG (the message). */
export function validateGroupConfigs(configs: Readonly<Record<string, string>>): string | null {
  for (const [name, value] of Object.entries(configs)) {
    const def = groupConfigDefs.get(name);
    if (!def) return `Unknown group config name: ${name}`;
    const error = def.validate(value);
    if (error) return error;
  }
  return null;
}

export const shareConfigDefs: readonly ConfigDef[] = [
  {
    name: 'group.share.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Whether share groups are served (Kafka gates them with this internal config or the share.version feature; kbroker finalizes share.version=1 when true, as a Kafka 4.2+ cluster formatted with its defaults).',
  },
  {
    name: 'group.share.session.timeout.ms',
    type: 'int',
    default: '45000',
    min: 1,
    doc: 'The timeout to detect client failures when using the share group protocol.',
  },
  {
    name: 'group.share.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    min: 1,
    doc: 'The heartbeat interval given to the members of a share group.',
  },
  {
    name: 'group.share.max.size',
    type: 'int',
    default: '200',
    min: 1,
    doc: 'The maximum number of members that a single share group can accommodate.',
  },
  {
    name: 'group.share.record.lock.duration.ms',
    type: 'int',
    default: '30000',
    min: 1000,
    doc: 'The record acquisition lock duration in milliseconds for share groups.',
  },
  {
    name: 'group.share.delivery.count.limit',
    type: 'int',
    default: '5',
    min: 2,
    doc: 'The maximum number of delivery attempts for a record delivered to a share group.',
  },
  {
    name: 'group.share.partition.max.record.locks',
    type: 'int',
    default: '2000',
    min: 100,
    doc: 'Share-group record lock limit per share-partition.',
  },
  {
    name: 'group.share.max.share.sessions',
    type: 'int',
    default: '2000',
    min: 1,
    doc: 'The maximum number of share sessions per broker.',
  },
  {
    name: 'share.coordinator.state.topic.num.partitions',
    type: 'int',
    default: '50',
    min: 1,
    doc: 'The number of partitions for the share-group state topic (should not change after deployment).',
  },
  {
    name: 'share.coordinator.state.topic.segment.bytes',
    type: 'int',
    default: '104857600',
    min: 1,
    doc: 'The log segment size for the share-group state topic.',
  },
  {
    name: 'share.coordinator.write.timeout.ms',
    type: 'int',
    default: '5000',
    min: 1,
    doc: 'The duration in milliseconds that the share coordinator will wait for all replicas of the share-group state topic to receive a write.',
  },
];
