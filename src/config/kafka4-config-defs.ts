/**
 * Broker configs of Kafka 4's protocols (issue 17): incremental fetch sessions (KIP-227) and, as
 * they come, KIP-848 consumer groups; Kafka's names, defaults and bounds (ServerConfigs,
 * GroupCoordinatorConfig). Part of the one config registry (definitions.ts spreads them into
 * brokerConfigDefs).
 */
import type { ConfigDef } from './config-def.js';

export const kafka4ConfigDefs: readonly ConfigDef[] = [
  {
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: '1000',
    min: 0,
    doc: 'The maximum number of incremental fetch sessions that we will maintain.',
  },
  {
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: '45000',
    min: 1,
    doc: 'The timeout to detect client failures when using the consumer group protocol.',
  },
  {
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    min: 1,
    doc: 'The heartbeat interval given to the members of a consumer group.',
  },
  {
    name: 'group.consumer.max.size',
    type: 'int',
    default: '2147483647',
    min: 1,
    doc: 'The maximum number of consumers that a single consumer group can accommodate.',
  },
  {
    name: 'group.consumer.assignors',
    type: 'list',
    default: 'uniform,range',
    doc: 'The server side assignors as a list of names (uniform, range) or Kafka class names. The first one in the list is considered as the default assignor to be used in the case where the consumer does not specify an assignor.',
  },
  {
    name: 'group.consumer.migration.policy',
    type: 'string',
    default: 'bidirectional',
    validValues: ['disabled', 'upgrade', 'downgrade', 'bidirectional'],
    doc: 'The config that enables converting the non-empty classic group using the consumer embedded protocol to the non-empty consumer group using the consumer group protocol and vice versa; conversions of empty groups in both directions are always enabled regardless of this policy. bidirectional: both upgrade from classic group to consumer group and downgrade from consumer group to classic group are enabled, upgrade: only upgrade from classic group to consumer group is enabled, downgrade: only downgrade from consumer group to classic group is enabled, disabled: neither upgrade nor downgrade is enabled.',
  },
];
