/**
 * Fetch from followers (KIP-392): which replica a consumer should read a partition from. The
 * leader answers a consumer's fetch (v11+, which carries the consumer's `client.rack`) with a
 * preferred read replica and no records when the configured `replica.selector.class` picks another
 * replica; the consumer then fetches that partition from that broker, which serves it up to its own
 * high watermark.
 *
 * Kafka's ReplicaManager.findPreferredReadReplica chooses among the leader and the followers that
 * are in the ISR and hold the fetch offset (log start <= offset <= log end), and its
 * RackAwareReplicaSelector picks: the leader when the client names no rack, when no candidate is in
 * the client's rack, or when the leader is; otherwise the most caught-up candidate in that rack
 * (largest log end offset, then the most recently caught up). The leader itself is never sent as
 * the preferred replica.
 */
import type { Partition } from './partition.js';

export const RACK_AWARE_REPLICA_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';

/** A replica the selector may pick (Kafka's ReplicaView). */
export interface ReplicaView {
  readonly brokerId: number;
  readonly rack: string | null;
  readonly logEndOffset: number;
  readonly timeSinceLastCaughtUpMs: number;
}

/** Kafka's ReplicaSelector: the replica to read from, or undefined for none. */
export type ReplicaSelector = (
  clientRackId: string,
  replicas: readonly ReplicaView[],
  leader: ReplicaView,
) => ReplicaView | undefined;

/** Kafka's RackAwareReplicaSelector. */
export const rackAwareReplicaSelector: ReplicaSelector = (clientRackId, replicas, leader) => {
  if (clientRackId === '') return leader;
  const sameRack = replicas.filter((r) => r.rack === clientRackId);
  if (sameRack.length === 0 || sameRack.includes(leader)) return leader;
  let best = sameRack[0]!;
  for (const r of sameRack) {
    if (
      r.logEndOffset > best.logEndOffset ||
      (r.logEndOffset === best.logEndOffset && r.timeSinceLastCaughtUpMs < best.timeSinceLastCaughtUpMs)
    ) {
      best = r;
    }
  }
  return best;
};

/** The selector a `replica.selector.class` value names; undefined when empty (the leader serves). */
export function replicaSelectorOf(className: string): ReplicaSelector | undefined {
  return className === RACK_AWARE_REPLICA_SELECTOR ? rackAwareReplicaSelector : undefined;
}

/** Kafka's findPreferredReadReplica on the leader: a broker id, or -1 for the leader itself. */
export function preferredReadReplica(
  p: Partition,
  selector: ReplicaSelector,
  clientRackId: string,
  fetchOffset: number,
  rackOf: (brokerId: number) => string | null | undefined,
  nowMs: number,
): number {
  if (!p.isLeader) return -1;
  const leader: ReplicaView = {
    brokerId: p.localBrokerId,
    rack: rackOf(p.localBrokerId) ?? null,
    logEndOffset: p.logEndOffset,
    timeSinceLastCaughtUpMs: 0,
  };
  const candidates: ReplicaView[] = [leader];
  for (const id of p.isr) {
    if (id === p.localBrokerId) continue;
    const s = p.followerState(id);
    // A rack lookup that finds nothing means the broker is not registered (no endpoint): skipped.
    const rack = rackOf(id);
    if (!s || rack === undefined || s.logEndOffset < fetchOffset || s.logStartOffset > fetchOffset) continue;
    candidates.push({
      brokerId: id,
      rack,
      logEndOffset: s.logEndOffset,
      timeSinceLastCaughtUpMs: nowMs - s.lastCaughtUpTimeMs,
    });
  }
  const selected = selector(clientRackId, candidates, leader);
  return selected === undefined || selected === leader ? -1 : selected.brokerId;
}
