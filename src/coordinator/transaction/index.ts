/**
 * Builds the broker's transaction coordinator from Kafka's transaction.* settings, with
 * `__transaction_state` on this broker's partitions.
 */
import type { Scheduler } from '../../common/scheduler.js';
import type { Time } from '../../common/time.js';
import type { BrokerConfig } from '../../config/broker-config.js';
import { TransactionCoordinator, type TransactionCoordinatorDeps } from './transaction-coordinator.js';

export { TransactionCoordinator } from './transaction-coordinator.js';

export function createTransactionCoordinator(
  broker: TransactionCoordinatorDeps & {
    readonly config: BrokerConfig;
    readonly time: Time;
    readonly scheduler: Scheduler;
  },
): TransactionCoordinator {
  const c = broker.config;
  return new TransactionCoordinator(
    broker,
    {
      transactionStateLogNumPartitions: c.int('transaction.state.log.num.partitions'),
      transactionStateLogSegmentBytes: c.int('transaction.state.log.segment.bytes'),
      transactionMaxTimeoutMs: c.int('transaction.max.timeout.ms'),
      abortTimedOutTransactionCleanupIntervalMs: c.int(
        'transaction.abort.timed.out.transaction.cleanup.interval.ms',
      ),
      transactionalIdExpirationMs: c.int('transactional.id.expiration.ms'),
      removeExpiredTransactionalIdCleanupIntervalMs: c.int(
        'transaction.remove.expired.transaction.cleanup.interval.ms',
      ),
      offsetMetadataMaxBytes: c.int('offset.metadata.max.bytes'),
      messageMaxBytes: c.int('message.max.bytes'),
      requestTimeoutMs: c.int('request.timeout.ms'),
    },
    broker.time,
    broker.scheduler,
  );
}
