/**
 * Broker configs of the transaction coordinator and producer state, under Kafka's names and defaults
 * (TransactionLogConfig / TransactionStateManagerConfig / ProducerStateManagerConfig). Part of the one
 * config registry (definitions.ts spreads them into brokerConfigDefs).
 */
import type { ConfigDef } from './config-def.js';

export const transactionConfigDefs: readonly ConfigDef[] = [
  {
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: '50',
    min: 1,
    doc: 'Partitions of __transaction_state (fixed once the topic exists).',
  },
  {
    name: 'transaction.state.log.segment.bytes',
    type: 'int',
    default: '104857600',
    min: 1,
    doc: 'Segment size of __transaction_state.',
  },
  {
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: '900000',
    min: 1,
    doc: 'Largest transaction.timeout.ms a producer may ask for (InitProducerId answers INVALID_TRANSACTION_TIMEOUT above it).',
  },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: '10000',
    min: 1,
    doc: 'How often the coordinator aborts transactions open longer than their transaction.timeout.ms.',
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: '604800000',
    min: 1,
    doc: 'How long a transactional id without transaction stays known to the coordinator.',
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: '3600000',
    min: 1,
    doc: 'How often expired transactional ids are removed.',
  },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: '86400000',
    min: 1,
    doc: 'How long a partition keeps the state of an idle producer without an open transaction (measured from the timestamp of its last batch).',
  },
  {
    name: 'producer.id.expiration.check.interval.ms',
    type: 'int',
    default: '600000',
    min: 1,
    doc: 'How often producer ids past producer.id.expiration.ms are removed from the partitions (an internal config in Kafka).',
  },
];
