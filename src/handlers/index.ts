/**
 * Every API kbroker serves, one file each. The registry built from this list is the only
 * source of the ApiVersions table.
 */

import { addOffsetsToTxnHandler } from './add-offsets-to-txn.js';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.js';
// Client quotas (KIP-546).
import { alterClientQuotasHandler } from './alter-client-quotas.js';
import { alterConfigsHandler } from './alter-configs.js';
import { alterPartitionReassignmentsHandler } from './alter-partition-reassignments.js';
// Share groups (KIP-932, issue 17).
import { alterShareGroupOffsetsHandler } from './alter-share-group-offsets.js';
// Security (issue 15): SASL exchanges outside a connection's authentication, SCRAM credentials.
import { alterUserScramCredentialsHandler } from './alter-user-scram-credentials.js';
import { apiVersionsHandler } from './api-versions.js';
import { consumerGroupDescribeHandler } from './consumer-group-describe.js';
import { consumerGroupHeartbeatHandler } from './consumer-group-heartbeat.js';
import { createAclsHandler } from './create-acls.js';
import { createPartitionsHandler } from './create-partitions.js';
import { createTopicsHandler } from './create-topics.js';
import {
  createDelegationTokenHandler,
  describeDelegationTokenHandler,
  expireDelegationTokenHandler,
  renewDelegationTokenHandler,
} from './delegation-tokens.js';
import { deleteAclsHandler } from './delete-acls.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { deleteRecordsHandler } from './delete-records.js';
import { deleteShareGroupOffsetsHandler } from './delete-share-group-offsets.js';
// Share-state RPCs between brokers (KIP-932, issue 17).
import { deleteShareGroupStateHandler } from './delete-share-group-state.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeAclsHandler } from './describe-acls.js';
import { describeClientQuotasHandler } from './describe-client-quotas.js';
import { describeClusterHandler } from './describe-cluster.js';
import { describeConfigsHandler } from './describe-configs.js';
import { describeGroupsHandler } from './describe-groups.js';
import { describeLogDirsHandler } from './describe-log-dirs.js';
import { describeProducersHandler } from './describe-producers.js';
import { describeShareGroupOffsetsHandler } from './describe-share-group-offsets.js';
import { describeTopicPartitionsHandler } from './describe-topic-partitions.js';
import { describeTransactionsHandler } from './describe-transactions.js';
import { describeUserScramCredentialsHandler } from './describe-user-scram-credentials.js';
import { electLeadersHandler } from './elect-leaders.js';
import { endTxnHandler } from './end-txn.js';
import { fetchHandler } from './fetch.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import type { AnyHandler } from './handler.js';
import { heartbeatHandler } from './heartbeat.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { initializeShareGroupStateHandler } from './initialize-share-group-state.js';
import { joinGroupHandler } from './join-group.js';
import { leaveGroupHandler } from './leave-group.js';
import { listGroupsHandler } from './list-groups.js';
import { listOffsetsHandler } from './list-offsets.js';
import { listPartitionReassignmentsHandler } from './list-partition-reassignments.js';
import { listTransactionsHandler } from './list-transactions.js';
import { metadataHandler } from './metadata.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetDeleteHandler } from './offset-delete.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { produceHandler } from './produce.js';
import { readShareGroupStateHandler } from './read-share-group-state.js';
import { readShareGroupStateSummaryHandler } from './read-share-group-state-summary.js';
import { saslAuthenticateHandler } from './sasl-authenticate.js';
import { saslHandshakeHandler } from './sasl-handshake.js';
import { shareAcknowledgeHandler } from './share-acknowledge.js';
import { shareFetchHandler } from './share-fetch.js';
import { shareGroupDescribeHandler } from './share-group-describe.js';
import { shareGroupHeartbeatHandler } from './share-group-heartbeat.js';
// Streams groups (KIP-1071, issue 17).
import { streamsGroupDescribeHandler } from './streams-group-describe.js';
import { streamsGroupHeartbeatHandler } from './streams-group-heartbeat.js';
import { syncGroupHandler } from './sync-group.js';
import { txnOffsetCommitHandler } from './txn-offset-commit.js';
import { writeShareGroupStateHandler } from './write-share-group-state.js';
import { writeTxnMarkersHandler } from './write-txn-markers.js';

export const allHandlers: readonly AnyHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  syncGroupHandler,
  describeGroupsHandler,
  listGroupsHandler,
  deleteGroupsHandler,
  offsetDeleteHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  deleteRecordsHandler,
  offsetForLeaderEpochHandler,
  describeConfigsHandler,
  alterConfigsHandler,
  describeLogDirsHandler,
  createPartitionsHandler,
  incrementalAlterConfigsHandler,
  describeClusterHandler,
  describeTopicPartitionsHandler,
  initProducerIdHandler,
  addPartitionsToTxnHandler,
  addOffsetsToTxnHandler,
  endTxnHandler,
  txnOffsetCommitHandler,
  describeAclsHandler,
  createAclsHandler,
  deleteAclsHandler,
  describeProducersHandler,
  describeTransactionsHandler,
  listTransactionsHandler,
  electLeadersHandler,
  consumerGroupHeartbeatHandler,
  consumerGroupDescribeHandler,
  // Security (issue 15).
  saslHandshakeHandler,
  saslAuthenticateHandler,
  describeUserScramCredentialsHandler,
  alterUserScramCredentialsHandler,
  // Partition reassignment (issue 13).
  alterPartitionReassignmentsHandler,
  listPartitionReassignmentsHandler,
  // Share groups (KIP-932, issue 17).
  shareGroupHeartbeatHandler,
  shareGroupDescribeHandler,
  shareFetchHandler,
  shareAcknowledgeHandler,
  describeShareGroupOffsetsHandler,
  alterShareGroupOffsetsHandler,
  deleteShareGroupOffsetsHandler,
  // Transactions across brokers (issue 13).
  writeTxnMarkersHandler,
  // Streams groups (KIP-1071, issue 17).
  streamsGroupHeartbeatHandler,
  streamsGroupDescribeHandler,
  // Client quotas (KIP-546).
  describeClientQuotasHandler,
  createDelegationTokenHandler,
  renewDelegationTokenHandler,
  expireDelegationTokenHandler,
  describeDelegationTokenHandler,
  alterClientQuotasHandler,
  // Share-state RPCs between brokers (KIP-932, issue 17).
  initializeShareGroupStateHandler,
  readShareGroupStateHandler,
  writeShareGroupStateHandler,
  deleteShareGroupStateHandler,
  readShareGroupStateSummaryHandler,
] as unknown as readonly AnyHandler[];
