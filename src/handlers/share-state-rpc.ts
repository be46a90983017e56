/**
 * What the five share-state RPCs (InitializeShareGroupState, ReadShareGroupState,
 * WriteShareGroupState, DeleteShareGroupState, ReadShareGroupStateSummary — KIP-932, sent by
 * share-partition leaders to the share coordinator of each key) have in common: CLUSTER_ACTION on
 * the cluster (else every partition CLUSTER_AUTHORIZATION_FAILED, as Kafka's KafkaApis), then one
 * share coordinator operation per partition, answered on its own with Kafka's coordinator errors
 * (NOT_COORDINATOR when the key's `__share_group_state` partition is not led here,
 * COORDINATOR_NOT_AVAILABLE when a write could not be committed in time, FENCED_LEADER_EPOCH,
 * FENCED_STATE_EPOCH, INVALID_REQUEST).
 */

import { coordinatorErrorOf } from '../coordinator/runtime/coordinator-runtime.js';
import { UnknownSharePartitionError } from '../coordinator/share/share-coordinator.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { errorOf, KafkaError } from '../protocol/kafka-error.js';
import { authorizeCluster } from './authz.js';
import type { RequestContext } from './handler.js';

export interface PartitionError {
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

export async function forEachSharePartition<P extends { partition: number }, R>(
  ctx: RequestContext,
  api: string,
  req: { groupId: string; topics: { topicId: string; partitions: P[] }[] },
  run: (topicId: string, p: P) => Promise<R> | R,
  failed: (e: PartitionError) => R,
): Promise<{ topicId: string; partitions: R[] }[]> {
  const allowed = authorizeCluster(ctx, 'CLUSTER_ACTION');
  return Promise.all(
    req.topics.map(async (t) => ({
      topicId: t.topicId,
      partitions: await Promise.all(
        t.partitions.map(async (p) => {
          if (!allowed)
            return failed({
              partition: p.partition,
              errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
              errorMessage: 'Cluster authorization failed.',
            });
          try {
            return await run(t.topicId, p);
          } catch (err) {
            if (!(err instanceof KafkaError))
              ctx.log.error(`${api} of ${req.groupId} ${t.topicId}-${p.partition} failed`, err);
            const error =
              err instanceof UnknownSharePartitionError
                ? err.error
                : coordinatorErrorOf(err, 'UNKNOWN_SERVER_ERROR');
            const message = errorOf(err).error === error ? errorOf(err).message : null;
            return failed({ partition: p.partition, errorCode: ErrorCode[error], errorMessage: message });
          }
        }),
      ),
    })),
  );
}
