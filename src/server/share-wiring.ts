/**
 * Wiring of share groups (KIP-932) into the broker: the SharePartitionManager on this broker's
 * partitions, told when a share group member leaves (its acquired records are released), when a
 * partition stops being led here, when a share group is deleted, and at reset. Its state goes
 * through the network persister to the share coordinator of each key (this broker's or another's),
 * and this broker's share coordinator loads and unloads `__share_group_state` partitions as their
 * leadership arrives and goes.
 */
import type { Logger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { GroupCoordinator, TopicsView } from '../coordinator/index.js';
import { type InternalTopics, ReplicaCoordinatorLog } from '../coordinator/runtime/coordinator-log.js';
import {
  MAX_STATE_OFFSETS,
  SHARE_GROUP_STATE_TOPIC_NAME,
  ShareCoordinator,
} from '../coordinator/share/share-coordinator.js';
import { NetworkSharePersister } from '../coordinator/share/share-persister.js';
import type { MetadataView } from '../metadata/metadata-view.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { SharePartitionManager } from '../replication/share-partition-manager.js';

export interface ShareWiringDeps {
  readonly replicaManager: ReplicaManager;
  readonly groupCoordinator: GroupCoordinator;
  readonly time: Time;
  readonly log: Logger;
  readonly topics: TopicsView;
  readonly internalTopics: InternalTopics;
  /** Read lazily (group configs): the broker's metadata view. */
  readonly metadata: MetadataView;
  /** Requests to the other brokers (the share-state RPCs). */
  readonly interBroker: {
    readonly nodeId: number;
    send<T>(brokerId: number, apiKey: number, version: number, body: unknown): Promise<T>;
  };
  onReset(hook: () => void): () => void;
}

export function createSharePartitionManager(
  broker: ShareWiringDeps,
  config: BrokerConfig,
): { shares: SharePartitionManager; shareCoordinator: ShareCoordinator } {
  const shares = new SharePartitionManager(
    broker.replicaManager,
    broker.time,
    broker.log,
    (groupId) => ({
      lockDurationMs: Number(
        (groupId && broker.metadata.groupConfigs?.(groupId)['share.record.lock.duration.ms']) ||
          config.int('group.share.record.lock.duration.ms'),
      ),
      deliveryCountLimit: config.int('group.share.delivery.count.limit'),
      maxInFlightRecords: config.int('group.share.partition.max.record.locks'),
      maxShareSessions: config.int('group.share.max.share.sessions'),
    }),
    (topicId) => broker.topics.topicName(topicId),
    // The group's share.auto.offset.reset (a GROUP config), latest by default as Kafka.
    (groupId) =>
      broker.metadata.groupConfigs?.(groupId)['share.auto.offset.reset'] === 'earliest'
        ? 'earliest'
        : 'latest',
  );
  // The share coordinator on `__share_group_state` keeps every share-partition's state.
  const stateLog = new ReplicaCoordinatorLog(broker.replicaManager, broker.internalTopics, {
    topic: SHARE_GROUP_STATE_TOPIC_NAME,
    configuredPartitions: config.int('share.coordinator.state.topic.num.partitions'),
    segmentBytes: config.int('share.coordinator.state.topic.segment.bytes'),
    defaultMaxMessageBytes: config.int('message.max.bytes'),
    time: broker.time,
  });
  const coordinator = new ShareCoordinator(
    Object.assign(stateLog, {
      partitionLedHere: (p: number) => stateLog.partition(p, true)?.isLeader ?? false,
    }),
    broker.time,
    broker.log,
    config.int('share.coordinator.write.timeout.ms'),
    {
      // A state holds at most the share-partition's in-flight records (twice, for overlapping writes).
      maxStateOffsets: Math.max(MAX_STATE_OFFSETS, 2 * config.int('group.share.partition.max.record.locks')),
      partitionExists: (topicId, partition) =>
        partition < (broker.metadata.topicById(topicId)?.partitions.length ?? 0),
    },
  );
  const listener = config.listeners[0]?.name ?? 'PLAINTEXT';
  shares.setPersister(
    new NetworkSharePersister(
      coordinator,
      {
        nodeId: broker.interBroker.nodeId,
        stateTopic: () => {
          const t = broker.metadata.topic(SHARE_GROUP_STATE_TOPIC_NAME);
          return (
            t && {
              partitions: t.partitions.length,
              leaderOf: (p: number) => t.partitions[p]?.leader ?? -1,
            }
          );
        },
        liveBrokers: () => broker.metadata.brokers(listener).map((b) => b.nodeId),
        send: (brokerId, apiKey, version, body) => broker.interBroker.send(brokerId, apiKey, version, body),
      },
      broker.time,
      broker.log,
    ),
  );
  broker.groupCoordinator.shareGroups.onMemberRemoved = (groupId, memberId) =>
    shares.releaseMember(groupId, memberId);
  broker.groupCoordinator.onShareGroupDeleted((groupId, partitions) => {
    shares.dropGroup(groupId);
    for (const { topicId, partition } of partitions)
      shares
        .deleteState(groupId, topicId, partition)
        .catch((err: unknown) =>
          broker.log.warn(`deleting share state of ${groupId} failed: ${(err as Error).message}`),
        );
  });
  broker.replicaManager.onLeadershipChange((topic, partition, isLeader) => {
    // The share coordinator follows the leadership of `__share_group_state` (Kafka's onElection /
    // onResignation); a partition led here before this listener existed loads on first use.
    if (topic === SHARE_GROUP_STATE_TOPIC_NAME) {
      if (isLeader && !coordinator.isPartitionLoaded(partition)) {
        broker.log.info(`share coordinator of ${topic}-${partition} loaded here (leader)`);
        coordinator.loadPartition(partition);
      } else if (!isLeader && coordinator.isPartitionLoaded(partition)) {
        broker.log.info(`share coordinator of ${topic}-${partition} unloaded (leadership moved)`);
        coordinator.unloadPartition(partition);
      }
    }
    if (isLeader) return;
    const t = broker.topics.topic(topic);
    if (t) shares.dropPartition(t.topicId, partition);
  });
  broker.onReset(() => shares.shutdown());
  return { shares, shareCoordinator: coordinator };
}
