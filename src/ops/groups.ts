/**
 * The read-only view of consumer groups that the admin API and /metrics show (members,
 * assignments, committed offsets and lag). The group coordinator supplies it by implementing
 * `GroupOverviewProvider` on `broker.groupCoordinator`; until a broker has one, groups are
 * reported as unavailable rather than as an empty list.
 */
import type { Broker } from '../server/broker.js';

export interface GroupMemberOverview {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Partitions assigned to the member in the current generation. */
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupOverview {
  groupId: string;
  /** Kafka's group states: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  state: string;
  protocolType: string;
  protocol: string;
  generationId: number;
  leader: string | null;
  members: GroupMemberOverview[];
  /** Committed offsets of the group. */
  offsets: { topic: string; partition: number; committedOffset: number; metadata: string | null }[];
}

export interface GroupOverviewProvider {
  groupOverviews(): GroupOverview[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number;
  /** The partition's high watermark (what a read_committed-less consumer can reach). */
  highWatermark: number;
  lag: number;
}

export interface GroupWithLag extends GroupOverview {
  lag: PartitionLag[];
  totalLag: number;
}

/** The broker's group provider, when its group coordinator offers one. */
export function groupProvider(broker: Broker): GroupOverviewProvider | undefined {
  const coordinator = (broker as unknown as { groupCoordinator?: Partial<GroupOverviewProvider> })
    .groupCoordinator;
  if (coordinator && typeof coordinator.groupOverviews === 'function') {
    return coordinator as GroupOverviewProvider;
  }
  return undefined;
}

/** Every group with its lag per committed partition, or undefined when groups are unavailable. */
export function groupsWithLag(broker: Broker): GroupWithLag[] | undefined {
  const provider = groupProvider(broker);
  if (!provider) return undefined;
  return provider.groupOverviews().map((g) => {
    const lag: PartitionLag[] = [];
    for (const o of g.offsets) {
      const p = broker.replicaManager.getPartition(o.topic, o.partition);
      if (!p || o.committedOffset < 0) continue;
      const highWatermark = p.highWatermark;
      lag.push({ ...o, highWatermark, lag: Math.max(0, highWatermark - o.committedOffset) });
    }
    return { ...g, lag, totalLag: lag.reduce((n, l) => n + l.lag, 0) };
  });
}
