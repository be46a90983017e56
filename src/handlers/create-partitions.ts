/**
 * CreatePartitions (key 37), v0–3 (`kafka-topics --alter --partitions`). v1 same layout; v2
 * flexible; v3 same. Grows a topic; new partitions start empty. The controller checks, with
 * Kafka's messages: duplicate names INVALID_REQUEST, unknown topics
 * UNKNOWN_TOPIC_OR_PARTITION, a count that is not an increase INVALID_PARTITIONS, assignments
 * that do not match INVALID_REPLICA_ASSIGNMENT. validate_only checks without changing anything.
 * controller_mutation_rate (KIP-599): the new partitions are counted; from v3 a topic met with the
 * quota spent gets THROTTLING_QUOTA_EXCEEDED.
 * Authorization: ALTER on each topic, else TOPIC_AUTHORIZATION_FAILED.
 */

import { duplicates } from '../metadata/controller.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  CreatePartitionsRequest,
  type CreatePartitionsRequestData,
  CreatePartitionsResponse,
  type CreatePartitionsResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { mutationQuotaFor } from './mutation-quota.js';

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
  async handle(ctx, req) {
    // Kafka's ControllerApis: duplicate names first (the controller answers them), then ALTER on
    // each topic, then the controller with what is left.
    let topics = req.topics;
    const denied: { name: string; errorCode: number; errorMessage: string }[] = [];
    if (!allowsAll(ctx)) {
      const dups = duplicates(req.topics.map((t) => t.name));
      topics = req.topics.filter((t) => {
        if (dups.has(t.name) || authorize(ctx, 'ALTER', 'TOPIC', t.name)) return true;
        denied.push({
          name: t.name,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: 'The topic authorization is failed.',
        });
        return false;
      });
    }
    // KIP-599: strict from v3.
    const quota = mutationQuotaFor(ctx, 3);
    const results = [
      ...(await ctx.controller.createPartitions(topics, req.validateOnly, quota.charge)),
      ...denied,
    ];
    return { throttleTimeMs: quota.throttleTimeMs(), results };
  },
});
