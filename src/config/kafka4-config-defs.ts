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
];
