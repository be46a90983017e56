/** The group coordinator's configuration the coordinator's unit tests run with (Kafka's defaults, no initial rebalance delay). */
import type { GroupCoordinatorConfig } from '../coordinator/group/context.js';

export const TEST_GROUP_CONFIG: GroupCoordinatorConfig = {
  groupMinSessionTimeoutMs: 10,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupMaxSize: 1000,
  groupInitialRebalanceDelayMs: 0,
  offsetsRetentionMs: 7 * 24 * 3600_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
  maxGroupMetadataBytes: 1_048_588,
  offsetsCommitTimeoutMs: 5000,
};
