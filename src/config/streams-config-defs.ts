/**
 * Broker configs of streams groups (KIP-1071, issue 17): Kafka 4.3's names, defaults and bounds
 * (GroupCoordinatorConfig). Part of the one config registry (definitions.ts spreads them into
 * brokerConfigDefs). `group.coordinator.rebalance.protocols` is read only for `streams` here:
 * without it StreamsGroupHeartbeat/StreamsGroupDescribe are neither advertised nor served and
 * `streams.version` is not finalized (classic and consumer groups are always on in kbroker).
 */
import type { ConfigDef } from './config-def.js';

export const streamsConfigDefs: readonly ConfigDef[] = [
  {
    name: 'group.coordinator.rebalance.protocols',
    type: 'list',
    default: 'classic,consumer,streams',
    doc: 'The list of enabled rebalance protocols (deprecated in Kafka 4.3 in favour of the group.version/streams.version features). kbroker reads only "streams": without it streams groups are off.',
  },
  {
    name: 'group.streams.session.timeout.ms',
    type: 'int',
    default: '45000',
    min: 1,
    doc: 'The timeout to detect client failures when using the streams group protocol.',
  },
  {
    name: 'group.streams.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    min: 1,
    doc: 'The heartbeat interval given to the members.',
  },
  {
    name: 'group.streams.max.size',
    type: 'int',
    default: '2147483647',
    min: 1,
    doc: 'The maximum number of streams clients that a single streams group can accommodate.',
  },
  {
    name: 'group.streams.initial.rebalance.delay.ms',
    type: 'int',
    default: '3000',
    min: 0,
    doc: 'The amount of time the group coordinator will wait for more streams clients to join a new group before performing the first rebalance. A longer delay means potentially fewer rebalances.',
  },
  {
    name: 'group.streams.assignment.interval.ms',
    type: 'int',
    default: '1000',
    min: 0,
    doc: 'The interval between assignment updates for a streams group.',
  },
  {
    name: 'group.streams.num.standby.replicas',
    type: 'int',
    default: '0',
    min: 0,
    doc: 'The number of standby replicas for each task.',
  },
];

/** Whether streams groups are on: `group.coordinator.rebalance.protocols` names `streams`. */
export function streamsGroupsEnabled(configs: { get(name: string): string | null }): boolean {
  return (configs.get('group.coordinator.rebalance.protocols') ?? '')
    .split(',')
    .some((s) => s.trim().toLowerCase() === 'streams');
}
