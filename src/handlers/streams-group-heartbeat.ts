/**
 * StreamsGroupHeartbeat (key 88), v0: KIP-1071's streams group protocol, the one request a Kafka
 * Streams member (`group.protocol=streams`) sends to join with its topology, stay, reconcile its
 * active/standby/warm-up tasks and leave. The work — topology, member epochs, the target
 * assignment, revocation before assignment, session timeouts, the records — is the group
 * coordinator's (coordinator/group/streams-groups.ts); the answer is released once its records
 * are committed. Internal topics the topology needs and that do not exist yet (repartition and
 * changelog topics) are created here afterwards, as KafkaApis does with its auto topic creation
 * manager: the member hears MISSING_INTERNAL_TOPICS until they exist.
 * With `streams` left out of `group.coordinator.rebalance.protocols` the API is not advertised
 * and is answered UNSUPPORTED_VERSION.
 * Authorization (KafkaApis.handleStreamsGroupHeartbeat): READ on the group, else
 * GROUP_AUTHORIZATION_FAILED; DESCRIBE on every topic of a topology, else TOPIC_AUTHORIZATION_FAILED;
 * CREATE (cluster or topic) to have internal topics created, else they are left missing.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  StreamsGroupHeartbeatRequest,
  type StreamsGroupHeartbeatRequestData,
  StreamsGroupHeartbeatResponse,
  type StreamsGroupHeartbeatResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';
import { clientHost } from './join-group.js';

export const streamsGroupHeartbeatHandler = defineHandler<
  StreamsGroupHeartbeatRequestData,
  StreamsGroupHeartbeatResponseData
>({
  apiKey: 88,
  name: 'StreamsGroupHeartbeat',
  minVersion: 0,
  maxVersion: 0,
  request: StreamsGroupHeartbeatRequest,
  response: StreamsGroupHeartbeatResponse,
  async handle(ctx, req) {
    const refused = (errorCode: number, errorMessage: string | null): StreamsGroupHeartbeatResponseData => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      memberId: req.memberId,
      memberEpoch: -1,
      heartbeatIntervalMs: 0,
      acceptableRecoveryLag: 0,
      taskOffsetIntervalMs: 0,
      status: null,
      activeTasks: null,
      standbyTasks: null,
      warmupTasks: null,
      endpointInformationEpoch: 0,
      partitionsByUserEndpoint: null,
    });
    if (!ctx.groups.streamsGroups.enabled) return refused(ErrorCode.UNSUPPORTED_VERSION, null);
    const open = allowsAll(ctx);
    if (!open) {
      if (!authorize(ctx, 'READ', 'GROUP', req.groupId))
        return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
      const topics = new Set<string>();
      for (const s of req.topology?.subtopologies ?? []) {
        for (const t of s.sourceTopics) topics.add(t);
        for (const t of s.repartitionSinkTopics) topics.add(t);
        for (const t of s.repartitionSourceTopics) topics.add(t.name);
        for (const t of s.stateChangelogTopics) topics.add(t.name);
      }
      const hidden = [...topics].filter((t) => !authorize(ctx, 'DESCRIBE', 'TOPIC', t));
      if (hidden.length > 0) {
        return refused(
          ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          `The client is not authorized to describe topics: ${hidden.sort().join(', ')}`,
        );
      }
    }
    const { error, creatableTopics, ...r } = await ctx.groups.streamsGroupHeartbeat({
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      endpointInformationEpoch: req.endpointInformationEpoch,
      instanceId: req.instanceId,
      rackId: req.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      topology: req.topology && {
        epoch: req.topology.epoch,
        subtopologies: req.topology.subtopologies.map((s) => ({
          subtopologyId: s.subtopologyId,
          sourceTopics: s.sourceTopics,
          sourceTopicRegex: s.sourceTopicRegex,
          stateChangelogTopics: s.stateChangelogTopics.map(topicInfo),
          repartitionSinkTopics: s.repartitionSinkTopics,
          repartitionSourceTopics: s.repartitionSourceTopics.map(topicInfo),
          copartitionGroups: s.copartitionGroups.map((g) => ({
            sourceTopics: g.sourceTopics,
            sourceTopicRegex: g.sourceTopicRegex,
            repartitionSourceTopics: g.repartitionSourceTopics,
          })),
        })),
      },
      activeTasks: req.activeTasks,
      standbyTasks: req.standbyTasks,
      warmupTasks: req.warmupTasks,
      processId: req.processId,
      userEndpoint: req.userEndpoint && { host: req.userEndpoint.host, port: req.userEndpoint.port },
      clientTags: req.clientTags ? req.clientTags.map((t) => ({ key: t.key, value: t.value })) : null,
      taskOffsets: req.taskOffsets,
      taskEndOffsets: req.taskEndOffsets,
      shutdownApplication: req.shutdownApplication,
      clientId: ctx.clientId ?? '',
      clientHost: clientHost(ctx.remote),
    });
    const allowedToCreate = creatableTopics.filter(
      (t) => open || authorizeCluster(ctx, 'CREATE') || authorize(ctx, 'CREATE', 'TOPIC', t.name),
    );
    if (allowedToCreate.length > 0) {
      const results = await ctx.controller
        .createTopics(
          allowedToCreate.map((t) => ({
            name: t.name,
            numPartitions: t.numPartitions,
            replicationFactor: t.replicationFactor,
            assignments: [],
            configs: t.configs,
          })),
          false,
        )
        .catch((err: unknown) => {
          ctx.log.warn(
            `creating internal topics of streams group ${req.groupId} failed: ${(err as Error).message}`,
          );
          return [];
        });
      for (const res of results) {
        if (res.errorCode !== ErrorCode.NONE && res.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          ctx.log.warn(
            `internal topic ${res.name} of streams group ${req.groupId} not created: ${res.errorMessage ?? res.errorCode}`,
          );
        }
      }
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode[error], ...r };
  },
});

function topicInfo(t: {
  name: string;
  partitions: number;
  replicationFactor: number;
  topicConfigs: { key: string; value: string }[];
}) {
  return {
    name: t.name,
    partitions: t.partitions,
    replicationFactor: t.replicationFactor,
    topicConfigs: t.topicConfigs.map((c) => ({ key: c.key, value: c.value })),
  };
}
