/**
 * Metadata (key 3), v0–12.
 * v0: an empty topic list means all topics; v1+: null means all, empty means none; v1 adds
 * controller id and isInternal; v2 cluster id; v4 allowAutoTopicCreation; v5 offline replicas;
 * v7 leader epoch; v8–10 authorized operations (not requested → -2147483648); v9 flexible;
 * v10 topic ids; v12 topics may be named by id only.
 * Unknown topics are auto-created (when allowed) and returned at once, rather than answered
 * LEADER_NOT_AVAILABLE first as Kafka does: the client saves a metadata round trip.
 */

import { invalidTopicReason } from '../common/topic-name.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  MetadataRequest,
  type MetadataRequestData,
  MetadataResponse,
  type MetadataResponseData,
  type MetadataResponseMetadataResponseTopic,
} from '../protocol/generated/messages.js';
import type { TopicInfo } from '../replication/replica-manager.js';
import { defineHandler } from '../server/handler.js';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

function describeTopic(t: TopicInfo): MetadataResponseMetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.isInternal,
    partitions: t.partitions.map((p) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: p.partition,
      leaderId: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: [],
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
  handle(ctx, req) {
    const { apiVersion } = ctx;
    const md = ctx.metadata;
    const allTopics = req.topics === null || (apiVersion === 0 && req.topics.length === 0);
    let topics: MetadataResponseMetadataResponseTopic[];
    if (allTopics) {
      topics = md.topics().map(describeTopic);
    } else {
      const allowAuto = apiVersion < 4 || req.allowAutoTopicCreation !== false;
      topics = req.topics!.map((t) => {
        if (t.name == null) {
          const byId = t.topicId ? md.topicById(t.topicId) : undefined;
          return byId
            ? describeTopic(byId)
            : missingTopic(null, t.topicId ?? ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_ID);
        }
        if (invalidTopicReason(t.name) !== null)
          return missingTopic(t.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
        const info = ctx.controller.maybeAutoCreateTopic(t.name, allowAuto);
        return info
          ? describeTopic(info)
          : missingTopic(t.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      });
    }
    return {
      throttleTimeMs: 0,
      brokers: ctx.metadata.brokers(ctx.listenerName).map((b) => ({ ...b })),
      clusterId: ctx.metadata.clusterId,
      controllerId: ctx.metadata.controllerId,
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});
