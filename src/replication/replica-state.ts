/**
 * What a partition leader knows of one follower (Kafka's Replica / ReplicaState): the log end and
 * start offsets its last fetch reported, and when it was last caught up — the time of the latest
 * fetch that reached the leader's log end offset as it was then, or the one before it. The ISR shrinks
 * by `replica.lag.time.max.ms` measured from there (KIP-16 semantics as in Kafka 2.5+, KIP-501).
 */
export class ReplicaState {
  /** -1 until the follower's first fetch under the current leader. */
  logEndOffset = -1;
  logStartOffset = -1;
  lastCaughtUpTimeMs = 0;
  lastFetchLeaderLogEndOffset = -1;
  lastFetchTimeMs = 0;
  /** The broker epoch the follower fetched with (Fetch v15+ ReplicaState, KIP-903); -1: not given. */
  brokerEpoch = -1;

  constructor(readonly brokerId: number) {}

  /**
   * A fetch from this follower at `fetchOffset` (its log end) answered when the leader's log ended at
   * `leaderEndOffset` (Kafka's Replica.updateFetchStateOrThrow).
   */
  updateFetchState(
    fetchOffset: number,
    logStartOffset: number,
    fetchTimeMs: number,
    leaderEndOffset: number,
  ): void {
    if (fetchOffset >= leaderEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, fetchTimeMs);
    } else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    }
    this.logEndOffset = fetchOffset;
    this.logStartOffset = logStartOffset;
    this.lastFetchLeaderLogEndOffset = leaderEndOffset;
    this.lastFetchTimeMs = fetchTimeMs;
  }

  /**
   * A new leadership (Kafka's resetReplicaState): offsets unknown until the next fetch; an in-sync
   * follower counts as caught up now, so that it gets a full lag time to fetch from the new leader.
   */
  reset(nowMs: number, leaderEndOffset: number, isNewLeader: boolean, inSync: boolean): void {
    if (isNewLeader) {
      this.lastCaughtUpTimeMs = inSync ? nowMs : 0;
      this.lastFetchLeaderLogEndOffset = -1;
      this.lastFetchTimeMs = 0;
      this.logEndOffset = -1;
      this.logStartOffset = -1;
    } else {
      this.lastCaughtUpTimeMs = inSync ? nowMs : this.lastCaughtUpTimeMs;
      this.lastFetchLeaderLogEndOffset = leaderEndOffset;
    }
  }

  /** Kafka's isCaughtUp: at the leader's log end, or caught up within `maxLagMs`. */
  isCaughtUp(leaderEndOffset: number, nowMs: number, maxLagMs: number): boolean {
    return this.logEndOffset === leaderEndOffset || nowMs - this.lastCaughtUpTimeMs <= maxLagMs;
  }
}
