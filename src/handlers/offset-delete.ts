/**
 * OffsetDelete (key 47), v0 (`kafka-consumer-groups --delete-offsets`).
 * Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION. An Empty group loses the offsets;
 * a consumer group with members keeps those of topics it subscribes to
 * (GROUP_SUBSCRIBED_TO_TOPIC); other groups with members answer NON_EMPTY_GROUP; a group that
 * does not exist GROUP_ID_NOT_FOUND (group-level errors leave `topics` empty).
 * Authorization: DELETE on the group (else GROUP_AUTHORIZATION_FAILED) and READ on each topic.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  OffsetDeleteRequest,
  type OffsetDeleteRequestData,
  OffsetDeleteResponse,
  type OffsetDeleteResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize, filterAuthorized } from './authz.js';
import { defineHandler } from './handler.js';

export const offsetDeleteHandler = defineHandler<OffsetDeleteRequestData, OffsetDeleteResponseData>({
  apiKey: 47,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  request: OffsetDeleteRequest,
  response: OffsetDeleteResponse,
  async handle(ctx, req) {
    let readable: Set<string> | null = null;
    if (!allowsAll(ctx)) {
      if (!authorize(ctx, 'DELETE', 'GROUP', req.groupId)) {
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
      }
      readable = filterAuthorized(ctx, 'READ', 'TOPIC', req.topics, (t) => t.name);
    }
    const known: { topic: string; partition: number }[] = [];
    const slots: { topic: number; partition: number }[] = [];
    const topics = req.topics.map((t, ti) => ({
      name: t.name,
      partitions: t.partitions.map((p, pi) => {
        if (readable !== null && !readable.has(t.name)) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED as number,
          };
        }
        // Any partition of the cluster's metadata, hosted here or not (Kafka: metadataCache.contains).
        if (!ctx.metadata.topic(t.name)?.partitions[p.partitionIndex]) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION as number,
          };
        }
        known.push({ topic: t.name, partition: p.partitionIndex });
        slots.push({ topic: ti, partition: pi });
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number };
      }),
    }));
    const result = await ctx.groups.deleteOffsets(req.groupId, known);
    if (result.error !== 'NONE') {
      return { errorCode: ErrorCode[result.error], throttleTimeMs: 0, topics: [] };
    }
    result.partitionErrors.forEach((error, i) => {
      const s = slots[i]!;
      topics[s.topic]!.partitions[s.partition]!.errorCode = ErrorCode[error];
    });
    return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics };
  },
});
