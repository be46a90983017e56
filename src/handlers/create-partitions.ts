/**
 * CreatePartitions (key 37), v0–3 (`kafka-topics --alter --partitions`). v1 same layout; v2
 * flexible; v3 same. Grows a topic; new partitions start empty. The controller checks, with
 * Kafka's messages: duplicate names INVALID_REQUEST, unknown topics
 * UNKNOWN_TOPIC_OR_PARTITION, a count that is not an increase INVALID_PARTITIONS, assignments
 * that do not match INVALID_REPLICA_ASSIGNMENT. validate_only checks without changing anything.
 */
import {
  CreatePartitionsRequest,
  type CreatePartitionsRequestData,
  CreatePartitionsResponse,
  type CreatePartitionsResponseData,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';

export const createPartitionsHandler = defineHandler<
  CreatePartitionsRequestData,
  CreatePartitionsResponseData
>({
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  request: CreatePartitionsRequest,
  response: CreatePartitionsResponse,
  handle(ctx, req) {
    const results = ctx.controller.createPartitions(req.topics, req.validateOnly);
    return { throttleTimeMs: 0, results };
  },
});
