/**
 * WriteTxnMarkers (key 27), v1–2 (broker-to-broker; Kafka 4 removed v0, KIP-896): the transaction
 * coordinator asks the leader of each partition in a transaction to write its COMMIT or ABORT
 * marker. v1 flexible; v2 adds the client's TransactionVersion (KIP-890). Each partition is answered
 * on its own, once its marker is replicated to the ISR (acks=all): NOT_LEADER_OR_FOLLOWER when this
 * broker does not lead it (the coordinator looks the leader up again and retries),
 * UNKNOWN_TOPIC_OR_PARTITION when it is not here, TRANSACTION_COORDINATOR_FENCED when the marker's
 * coordinator epoch is older than one the partition has seen (a stale coordinator), and Kafka's
 * append errors otherwise. `__consumer_offsets` markers go through the group coordinator, which
 * makes the transaction's offsets visible (commit) or drops them (abort).
 * Authorization: CLUSTER_ACTION on the cluster, else every partition CLUSTER_AUTHORIZATION_FAILED.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  WriteTxnMarkersRequest,
  type WriteTxnMarkersRequestData,
  WriteTxnMarkersResponse,
  type WriteTxnMarkersResponseData,
} from '../protocol/generated/messages.js';
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const writeTxnMarkersHandler = defineHandler<WriteTxnMarkersRequestData, WriteTxnMarkersResponseData>({
  apiKey: 27,
  name: 'WriteTxnMarkers',
  minVersion: 1,
  maxVersion: 2,
  request: WriteTxnMarkersRequest,
  response: WriteTxnMarkersResponse,
  async handle(ctx, req) {
    const allowed = authorizeCluster(ctx, 'CLUSTER_ACTION');
    const markers = await Promise.all(
      req.markers.map(async (m) => {
        const targets = m.topics.flatMap((t) =>
          t.partitionIndexes.map((partition) => ({ topic: t.name, partition })),
        );
        const codes = allowed
          ? (
              await ctx.transactions.writeTxnMarkersAsLeader(
                {
                  producerId: m.producerId,
                  producerEpoch: m.producerEpoch,
                  result: m.transactionResult ? 'COMMIT' : 'ABORT',
                  coordinatorEpoch: m.coordinatorEpoch,
                  transactionVersion: m.transactionVersion ?? 0,
                },
                targets,
              )
            ).map((e) => ErrorCode[e])
          : targets.map(() => ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
        let i = 0;
        return {
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({
              partitionIndex,
              errorCode: codes[i++]!,
            })),
          })),
        };
      }),
    );
    return { markers };
  },
});
