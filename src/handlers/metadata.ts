/**
 * Metadata (key 3), v0–12.
 * v0: an empty topic list means all topics; v1+: null means all, empty means none; v1 adds
 * controller id and isInternal; v2 cluster id; v4 allowAutoTopicCreation; v5 offline replicas;
 * v7 leader epoch; v8+ topic authorized operations and v8–10 cluster authorized operations
 * (every supported operation when requested, as there is no authorizer; else -2147483648); v9 flexible;
 * v10 topic ids; v12 topics may be named by id only. A topic requested twice is answered once.
 * Unknown topics are auto-created (when allowed) and returned at once, rather than answered
 * LEADER_NOT_AVAILABLE first as Kafka does: the client saves a metadata round trip.
 * With an authorizer (KafkaApis.handleTopicMetadataRequest): all-topics requests list only the
 * topics the principal may DESCRIBE; a named topic it may not describe is TOPIC_AUTHORIZATION_FAILED
 * (whether it exists is not told); one that would be auto-created needs CREATE on the cluster or
 * the topic, else TOPIC_AUTHORIZATION_FAILED; authorized operations are the principal's (cluster
 * ones 0 without DESCRIBE on the cluster).
 */

import { INTERNAL_TOPICS, invalidTopicReason } from '../common/topic-name.js';
import type { TopicImage } from '../metadata/image.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  MetadataRequest,
  type MetadataRequestData,
  MetadataResponse,
  type MetadataResponseData,
  type MetadataResponseMetadataResponseTopic,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizeCluster, authorizedOperations } from './authz.js';
import { defineHandler } from './handler.js';
import { CLUSTER_AUTHORIZED_OPERATIONS, TOPIC_AUTHORIZED_OPERATIONS } from './topic-admin.js';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Replicas on brokers that are not alive (fenced or gone): Kafka's offline_replicas
 * (KRaftMetadataCache.getOfflineReplicas), what `kafka-topics --describe` and under-replication
 * reports read.
 */
export function offlineReplicas(replicas: readonly number[], live: ReadonlySet<number>): number[] {
  return replicas.filter((id) => !live.has(id));
}

function describeTopic(t: TopicImage, live: ReadonlySet<number>): MetadataResponseMetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: INTERNAL_TOPICS.has(t.name),
    partitions: t.partitions.map((p) => ({
      // No leader (every ISR member fenced): Kafka's LEADER_NOT_AVAILABLE, clients retry.
      errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p.partitionId,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      offlineReplicas: offlineReplicas(p.replicas, live),
    })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function missingTopic(
  name: string | null,
  topicId: string,
  errorCode: number,
): MetadataResponseMetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export const metadataHandler = defineHandler<MetadataRequestData, MetadataResponseData>({
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  request: MetadataRequest,
  response: MetadataResponse,
  async handle(ctx, req) {
    const { apiVersion } = ctx;
    const md = ctx.metadata;
    const allTopics = req.topics === null || (apiVersion === 0 && req.topics.length === 0);
    let topics: MetadataResponseMetadataResponseTopic[];
    const open = allowsAll(ctx);
    const brokers = md.brokers(ctx.listenerName);
    let liveSet: ReadonlySet<number> | undefined;
    const live = () => {
      liveSet ??= new Set(brokers.map((b) => b.nodeId));
      return liveSet;
    };
    if (allTopics) {
      topics = md
        .topics()
        .filter((t) => open || authorize(ctx, 'DESCRIBE', 'TOPIC', t.name))
        .map((t) => describeTopic(t, live()));
    } else {
      const allowAuto = apiVersion < 4 || req.allowAutoTopicCreation !== false;
      // Kafka answers the set of requested topics: a topic named twice is answered once.
      const seen = new Set<string>();
      const requested = req.topics!.filter((t) => {
        const byId =
          t.name == null || (apiVersion >= 12 && t.topicId !== undefined && t.topicId !== ZERO_UUID);
        const k = byId ? `id:${t.topicId}` : `name:${t.name}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      topics = await Promise.all(
        requested.map(async (t) => {
          // A topic id asks by id, whatever the name says (the Java client leaves it "", as Kafka's
          // default): Kafka uses the ids as soon as the request has one.
          if (t.name == null || (apiVersion >= 12 && t.topicId !== undefined && t.topicId !== ZERO_UUID)) {
            const byId = t.topicId ? md.topicById(t.topicId) : undefined;
            return byId
              ? describeTopic(byId, live())
              : missingTopic(null, t.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID);
          }
          if (!open) {
            if (!authorize(ctx, 'DESCRIBE', 'TOPIC', t.name)) {
              return missingTopic(t.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            }
            const creates = allowAuto && ctx.configs.bool('auto.create.topics.enable') && !md.topic(t.name);
            if (creates && !authorizeCluster(ctx, 'CREATE') && !authorize(ctx, 'CREATE', 'TOPIC', t.name)) {
              return missingTopic(t.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            }
          }
          if (invalidTopicReason(t.name) !== null)
            return missingTopic(t.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
          const info = await ctx.controller.maybeAutoCreateTopic(t.name, allowAuto);
          return info
            ? describeTopic(info, live())
            : missingTopic(t.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        }),
      );
    }
    // v8+: authorized operations when asked; without an authorizer, every supported operation
    // (Kafka sets them on every topic it looked up, not on unknown topic ids).
    if (apiVersion >= 8 && req.includeTopicAuthorizedOperations) {
      for (const t of topics) {
        if (t.errorCode !== ErrorCode.UNKNOWN_TOPIC_ID)
          t.topicAuthorizedOperations = open
            ? TOPIC_AUTHORIZED_OPERATIONS
            : authorizedOperations(ctx, 'TOPIC', t.name ?? '');
      }
    }
    const askCluster = apiVersion >= 8 && apiVersion <= 10 && req.includeClusterAuthorizedOperations === true;
    return {
      throttleTimeMs: 0,
      brokers: brokers.map((b) => ({ ...b })),
      clusterId: ctx.metadata.clusterId,
      controllerId: ctx.metadata.controllerId,
      topics,
      clusterAuthorizedOperations: !askCluster
        ? AUTHORIZED_OPERATIONS_OMITTED
        : open
          ? CLUSTER_AUTHORIZED_OPERATIONS
          : authorizeCluster(ctx, 'DESCRIBE')
            ? authorizedOperations(ctx, 'CLUSTER', 'kafka-cluster')
            : 0,
    };
  },
});
