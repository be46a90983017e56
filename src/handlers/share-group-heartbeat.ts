/**
 * ShareGroupHeartbeat (key 76), v1: KIP-932's share group protocol, the one request a member of a
 * share group sends to join (epoch 0, with its subscription), stay, get its assignment and leave
 * (epoch -1). v0 was Kafka 4.0's early access, removed in 4.1. The work — member epochs, the
 * simple assignor's target, session timeouts, the records — is the group coordinator's
 * (coordinator/share/share-groups.ts); the answer is released once its records are committed.
 * With share groups off (`group.share.enable=false`) it is UNSUPPORTED_VERSION, as Kafka answers
 * when share.version is not finalized.
 * Authorization (KafkaApis.handleShareGroupHeartbeat): READ on the group, else
 * GROUP_AUTHORIZATION_FAILED; DESCRIBE on every subscribed topic, else TOPIC_AUTHORIZATION_FAILED.
 */

import { ErrorCode } from '../protocol/generated/errors.js';
import {
  ShareGroupHeartbeatRequest,
  type ShareGroupHeartbeatRequestData,
  ShareGroupHeartbeatResponse,
  type ShareGroupHeartbeatResponseData,
} from '../protocol/generated/messages.js';
import { allowsAll, authorize } from './authz.js';
import { defineHandler } from './handler.js';
import { clientHost } from './join-group.js';

export const shareGroupHeartbeatHandler = defineHandler<
  ShareGroupHeartbeatRequestData,
  ShareGroupHeartbeatResponseData
>({
  apiKey: 76,
  name: 'ShareGroupHeartbeat',
  minVersion: 1,
  maxVersion: 1,
  request: ShareGroupHeartbeatRequest,
  response: ShareGroupHeartbeatResponse,
  async handle(ctx, req) {
    const refused = (errorCode: number, errorMessage: string | null) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (!ctx.groups.shareGroups.enabled) return refused(ErrorCode.UNSUPPORTED_VERSION, null);
    if (!allowsAll(ctx)) {
      if (!authorize(ctx, 'READ', 'GROUP', req.groupId))
        return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
      const hidden = (req.subscribedTopicNames ?? []).filter((t) => !authorize(ctx, 'DESCRIBE', 'TOPIC', t));
      if (hidden.length > 0) {
        return refused(
          ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          `The client is not authorized to describe topics: ${hidden.join(', ')}`,
        );
      }
    }
    const { error, ...r } = await ctx.groups.shareGroupHeartbeat({
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      rackId: req.rackId,
      subscribedTopicNames: req.subscribedTopicNames,
      clientId: ctx.clientId ?? '',
      clientHost: clientHost(ctx.remote),
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode[error], ...r };
  },
});
