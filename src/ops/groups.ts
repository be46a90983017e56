/**
 * The read-only view of consumer groups that the admin API and /metrics show (members,
 * assignments, committed offsets and lag), read from `broker.groupCoordinator`.
 */
import type { GroupCoordinator } from '../coordinator/group-coordinator.js';
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

/**
 * Decodes a `consumer` protocol assignment (ConsumerProtocolAssignment v0–3: version, then
 * topics with partition lists; user data ignored). Empty on anything it cannot read.
 */
export function decodeConsumerAssignment(buf: Buffer): { topic: string; partitions: number[] }[] {
  try {
    if (buf.length < 6) return [];
    let pos = 2; // version
    const topics = buf.readInt32BE(pos);
    pos += 4;
    const out: { topic: string; partitions: number[] }[] = [];
    for (let t = 0; t < topics; t++) {
      const len = buf.readInt16BE(pos);
      pos += 2;
      if (len < 0 || pos + len > buf.length) return [];
      const topic = buf.toString('utf8', pos, pos + len);
      pos += len;
      const n = buf.readInt32BE(pos);
      pos += 4;
      if (n < 0 || pos + 4 * n > buf.length) return [];
      const partitions: number[] = [];
      for (let i = 0; i < n; i++, pos += 4) partitions.push(buf.readInt32BE(pos));
      out.push({ topic, partitions });
    }
    return out;
  } catch {
    return [];
  }
}

function fromCoordinator(c: GroupCoordinator): GroupOverviewProvider {
  return {
    groupOverviews: () =>
      c.listGroups().map(({ groupId }) => {
        const d = c.describeGroup(groupId);
        const g = c.group(groupId);
        const offsets = c.fetchOffsets(groupId, null);
        return {
          groupId,
          state: d.groupState,
          protocolType: d.protocolType,
          protocol: d.protocolData,
          generationId: g?.generationId ?? -1,
          leader: g?.leaderId ?? null,
          members: d.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment: d.protocolType === 'consumer' ? decodeConsumerAssignment(m.memberAssignment) : [],
          })),
          offsets: offsets.topics.flatMap((t) =>
            t.partitions.map((p) => ({
              topic: t.name,
              partition: p.partitionIndex,
              committedOffset: p.committedOffset,
              metadata: p.metadata,
            })),
          ),
        };
      }),
  };
}

/** The broker's groups as ops shows them, read through the coordinator's admin methods. */
export function groupProvider(broker: Broker): GroupOverviewProvider {
  return fromCoordinator(broker.groupCoordinator);
}

/** Every group with its lag per committed partition. */
export function groupsWithLag(broker: Broker): GroupWithLag[] {
  return groupProvider(broker)
    .groupOverviews()
    .map((g) => {
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
