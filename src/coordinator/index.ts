/**
 * Builds the broker's group coordinator from its configuration: Kafka's group.* and offsets.*
 * settings, with `__consumer_offsets` on this broker's partitions.
 */

import type { Logger } from '../common/logger.js';
import type { Scheduler } from '../common/scheduler.js';
import type { Time } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { streamsGroupsEnabled } from '../config/streams-config-defs.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { assignorByName } from './group/assignors.js';
import { migrationPolicy, type TopicsView } from './group/consumer-groups.js';
import { GroupCoordinator } from './group-coordinator.js';
import { GROUP_METADATA_TOPIC_NAME } from './offsets-topic.js';
import { type InternalTopics, ReplicaCoordinatorLog } from './runtime/coordinator-log.js';

export type { TopicsView } from './group/consumer-groups.js';
export { GroupCoordinator } from './group-coordinator.js';

export interface GroupCoordinatorDeps {
  readonly config: BrokerConfig;
  readonly replicaManager: ReplicaManager;
  readonly internalTopics: InternalTopics;
  readonly log: Logger;
  readonly time: Time;
  readonly scheduler: Scheduler;
  /** The topics KIP-848 consumer groups subscribe to (the metadata image, internal topics included). */
  readonly topics: TopicsView;
}

export function createGroupCoordinator(broker: GroupCoordinatorDeps): GroupCoordinator {
  const c = broker.config;
  const assignors = (c.get('group.consumer.assignors') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = assignors.filter((a) => assignorByName(a) === undefined);
  if (assignors.length === 0 || unknown.length > 0) {
    throw new Error(
      `group.consumer.assignors: unknown assignor(s) ${unknown.join(', ') || '(none given)'} (kbroker has uniform and range)`,
    );
  }
  const offsetsLog = new ReplicaCoordinatorLog(broker.replicaManager, broker.internalTopics, {
    topic: GROUP_METADATA_TOPIC_NAME,
    configuredPartitions: c.int('offsets.topic.num.partitions'),
    segmentBytes: c.int('offsets.topic.segment.bytes'),
    defaultMaxMessageBytes: c.int('message.max.bytes'),
    time: broker.time,
  });
  return new GroupCoordinator(
    {
      groupMinSessionTimeoutMs: c.int('group.min.session.timeout.ms'),
      groupMaxSessionTimeoutMs: c.int('group.max.session.timeout.ms'),
      groupMaxSize: c.int('group.max.size'),
      groupInitialRebalanceDelayMs: c.int('group.initial.rebalance.delay.ms'),
      offsetsRetentionMs: c.int('offsets.retention.minutes') * 60_000,
      offsetsRetentionCheckIntervalMs: c.int('offsets.retention.check.interval.ms'),
      offsetMetadataMaxBytes: c.int('offset.metadata.max.bytes'),
      maxGroupMetadataBytes: offsetsLog.maxBatchBytes(),
      offsetsCommitTimeoutMs: c.int('offsets.commit.timeout.ms'),
    },
    offsetsLog,
    broker.log,
    broker.time,
    broker.scheduler,
    {
      config: {
        sessionTimeoutMs: c.int('group.consumer.session.timeout.ms'),
        heartbeatIntervalMs: c.int('group.consumer.heartbeat.interval.ms'),
        maxSize: c.int('group.consumer.max.size'),
        assignors,
        migrationPolicy: migrationPolicy(c.get('group.consumer.migration.policy')),
      },
      topics: broker.topics,
    },
    {
      enabled: c.bool('group.share.enable'),
      sessionTimeoutMs: c.int('group.share.session.timeout.ms'),
      heartbeatIntervalMs: c.int('group.share.heartbeat.interval.ms'),
      maxSize: c.int('group.share.max.size'),
    },
    {
      enabled: streamsGroupsEnabled(c),
      sessionTimeoutMs: c.int('group.streams.session.timeout.ms'),
      heartbeatIntervalMs: c.int('group.streams.heartbeat.interval.ms'),
      maxSize: c.int('group.streams.max.size'),
      numStandbyReplicas: c.int('group.streams.num.standby.replicas'),
      initialRebalanceDelayMs: c.int('group.streams.initial.rebalance.delay.ms'),
      assignmentIntervalMs: c.int('group.streams.assignment.interval.ms'),
    },
  );
}
