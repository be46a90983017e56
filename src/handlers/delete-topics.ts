/**
 * DeleteTopics (key 20), v1–6 (Kafka 4 removed v0). v1 throttle time; v2–3 same layout (v3:
 * TOPIC_DELETION_DISABLED instead of INVALID_REQUEST when delete.topic.enable=false); v4
 * flexible; v5 error messages; v6 topics by name or by id (and the id in the result).
 * Kafka's ControllerApis checks: a row with neither name nor id, or both, a duplicate name or
 * id, and a name whose id another row names are INVALID_REQUEST; unknown names are
 * UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID. A deleted topic's partition
 * directories are removed at once, fetches waiting on it are answered
 * (UNKNOWN_TOPIC_OR_PARTITION), and the group coordinator drops the offsets committed for its
 * partitions (ReplicaManager.onPartitionsDeleted). Internal topics belong to their coordinators
 * and are refused.
 * Authorization: DELETE on each topic, checked before its existence (TOPIC_AUTHORIZATION_FAILED);
 * a topic named by id also needs DESCRIBE, else its name is not returned.
 */
import { INTERNAL_TOPICS } from '../common/topic-name.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DeleteTopicsRequest,
  type DeleteTopicsRequestData,
  DeleteTopicsResponse,
  type DeleteTopicsResponseData,
  type DeleteTopicsResponseDeletableTopicResult,
} from '../protocol/generated/messages.js';
import { errorOf } from '../protocol/kafka-error.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { mutationQuotaFor } from './mutation-quota.js';
import { UNKNOWN_TOPIC_ID_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION_MESSAGE, ZERO_UUID } from './topic-admin.js';

export const deleteTopicsHandler = defineHandler<DeleteTopicsRequestData, DeleteTopicsResponseData>({
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 1,
  maxVersion: 6,
  request: DeleteTopicsRequest,
  response: DeleteTopicsResponse,
  async handle(ctx, req) {
    const { apiVersion } = ctx;
    const md = ctx.metadata;
    const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
    const respond = (name: string | null, topicId: string, errorCode: number, errorMessage: string | null) =>
      responses.push({ name, topicId, errorCode, errorMessage });

    const rows =
      apiVersion >= 6
        ? (req.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
        : (req.topicNames ?? []).map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
    const names: string[] = [];
    const ids: string[] = [];
    for (const r of rows) {
      if (r.name === null && r.topicId === ZERO_UUID) {
        respond(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.');
      } else if (r.name !== null && r.topicId !== ZERO_UUID) {
        respond(
          r.name,
          r.topicId,
          ErrorCode.INVALID_REQUEST,
          'You may not specify both topic name and topic id.',
        );
      } else if (r.name !== null) names.push(r.name);
      else ids.push(r.topicId);
    }
    const dupNames = new Set(names.filter((n, i) => names.indexOf(n) !== i));
    const dupIds = new Set(ids.filter((n, i) => ids.indexOf(n) !== i));
    for (const n of dupNames) respond(n, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
    for (const id of dupIds) respond(null, id, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.');

    // Resolve to names; an id given twice (once as id, once through its name) is refused.
    const toDelete = new Map<string, string>(); // topicId -> name
    const open = allowsAll(ctx);
    for (const id of new Set(ids)) {
      if (dupIds.has(id)) continue;
      const t = md.topicById(id);
      if (!t) respond(null, id, ErrorCode.UNKNOWN_TOPIC_ID, UNKNOWN_TOPIC_ID_MESSAGE);
      else if (!open && !authorize(ctx, 'DESCRIBE', 'TOPIC', t.name)) {
        // The name is not told to a principal that may not describe the topic.
        respond(null, id, ErrorCode.TOPIC_AUTHORIZATION_FAILED, null);
      } else if (!open && !authorize(ctx, 'DELETE', 'TOPIC', t.name)) {
        respond(t.name, id, ErrorCode.TOPIC_AUTHORIZATION_FAILED, null);
      } else toDelete.set(id, t.name);
    }
    for (const n of new Set(names)) {
      if (dupNames.has(n)) continue;
      if (!open && !authorize(ctx, 'DELETE', 'TOPIC', n)) {
        respond(n, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED, null);
        continue;
      }
      const t = md.topic(n);
      if (!t) respond(n, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION_MESSAGE);
      else if (toDelete.has(t.topicId)) {
        toDelete.delete(t.topicId);
        respond(
          n,
          t.topicId,
          ErrorCode.INVALID_REQUEST,
          'The provided topic name maps to an ID that was already supplied.',
        );
      } else toDelete.set(t.topicId, n);
    }

    const enabled = ctx.configs.bool('delete.topic.enable');
    // KIP-599: the topic's partitions are counted once it passed every check; strict from v5.
    const quota = mutationQuotaFor(ctx, 5);
    const doomed: string[] = [];
    for (const [topicId, name] of toDelete) {
      const t = md.topic(name)!;
      if (!enabled) {
        if (apiVersion >= 3)
          respond(name, topicId, ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
        else respond(name, topicId, ErrorCode.INVALID_REQUEST, 'Topic deletion is disabled.');
      } else if (INTERNAL_TOPICS.has(t.name)) {
        respond(
          name,
          topicId,
          ErrorCode.INVALID_REQUEST,
          `Topic ${name} is internal to the broker's coordinators and cannot be deleted.`,
        );
      } else {
        try {
          quota.charge(name, t.partitions.length);
        } catch (err) {
          const { code, message } = errorOf(err);
          respond(name, topicId, code, message);
          continue;
        }
        doomed.push(name);
        respond(name, topicId, ErrorCode.NONE, null);
      }
    }
    // One change of the metadata for the whole request.
    await ctx.controller.deleteTopics(doomed);
    return { throttleTimeMs: quota.throttleTimeMs(), responses };
  },
});
