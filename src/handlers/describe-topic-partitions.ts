/**
 * DescribeTopicPartitions (key 75), v0 (KIP-966; what the Java Admin's describeTopics and
 * `kafka-topics --describe` use since 3.8). An empty topic list means every topic. Topics are
 * answered sorted by name, partitions in order, from the cursor on, at most
 * `response_partition_limit` partitions (capped at Kafka's default
 * max.request.partition.size.limit, 2000); when the limit cuts a topic short, `next_cursor`
 * names the first partition not returned. Unknown topics are UNKNOWN_TOPIC_OR_PARTITION, bad
 * names INVALID_TOPIC_EXCEPTION. ELR fields are empty (no eligible leader replicas on one node).
 * Authorization: DESCRIBE on each topic (all-topics answers leave the others out; a named one is
 * TOPIC_AUTHORIZATION_FAILED); authorized operations are the principal's.
 */

import { INTERNAL_TOPICS, invalidTopicReason } from '../common/topic-name.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsRequestData,
  DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponseData,
  type DescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, authorizedOperations } from './authz.js';
import { defineHandler } from './handler.js';
import { offlineReplicas } from './metadata.js';
import { TOPIC_AUTHORIZED_OPERATIONS, ZERO_UUID } from './topic-admin.js';

const MAX_PARTITION_LIMIT = 2000;

export const describeTopicPartitionsHandler = defineHandler<
  DescribeTopicPartitionsRequestData,
  DescribeTopicPartitionsResponseData
>({
  apiKey: 75,
  name: 'DescribeTopicPartitions',
  minVersion: 0,
  maxVersion: 0,
  request: DescribeTopicPartitionsRequest,
  response: DescribeTopicPartitionsResponse,
  handle(ctx, req) {
    const md = ctx.metadata;
    const all = req.topics.length === 0;
    const open = allowsAll(ctx);
    let names = all
      ? md
          .topics()
          .map((t) => t.name)
          .filter((n) => open || authorize(ctx, 'DESCRIBE', 'TOPIC', n))
      : [...new Set(req.topics.map((t) => t.name))];
    names.sort();
    const cursor = req.cursor;
    if (cursor) names = names.filter((n) => n >= cursor.topicName);
    let budget = Math.max(1, Math.min(req.responsePartitionLimit, MAX_PARTITION_LIMIT));
    const topics: DescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic[] = [];
    let nextCursor: DescribeTopicPartitionsResponseData['nextCursor'] = null;
    const missing = (name: string, errorCode: number) =>
      topics.push({
        errorCode,
        name,
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: -2147483648,
      });
    const live = new Set(md.brokers(ctx.listenerName).map((b) => b.nodeId));
    for (const name of names) {
      if (invalidTopicReason(name) !== null) {
        missing(name, ErrorCode.INVALID_TOPIC_EXCEPTION);
        continue;
      }
      if (!open && !authorize(ctx, 'DESCRIBE', 'TOPIC', name)) {
        missing(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        continue;
      }
      const t = md.topic(name);
      if (!t) {
        missing(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      if (budget === 0) {
        nextCursor = {
          topicName: name,
          partitionIndex: cursor && name === cursor.topicName ? cursor.partitionIndex : 0,
        };
        break;
      }
      const first = cursor && name === cursor.topicName ? Math.max(0, cursor.partitionIndex) : 0;
      const parts = t.partitions.slice(first, first + budget);
      budget -= parts.length;
      topics.push({
        errorCode: ErrorCode.NONE,
        name: t.name,
        topicId: t.topicId,
        isInternal: INTERNAL_TOPICS.has(t.name),
        partitions: parts.map((p) => ({
          errorCode: ErrorCode.NONE,
          partitionIndex: p.partitionId,
          leaderId: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: [...p.replicas],
          isrNodes: [...p.isr],
          eligibleLeaderReplicas: [],
          lastKnownElr: [],
          offlineReplicas: offlineReplicas(p.replicas, live),
        })),
        topicAuthorizedOperations: open
          ? TOPIC_AUTHORIZED_OPERATIONS
          : authorizedOperations(ctx, 'TOPIC', t.name),
      });
      if (first + parts.length < t.partitions.length) {
        nextCursor = { topicName: t.name, partitionIndex: first + parts.length };
        break;
      }
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
});
