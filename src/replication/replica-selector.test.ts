import { describe, expect, it } from 'vitest';
import {
  RACK_AWARE_REPLICA_SELECTOR,
  rackAwareReplicaSelector,
  replicaSelectorOf,
} from './replica-selector.js';

const view = (brokerId: number, rack: string | null, logEndOffset = 10, timeSinceLastCaughtUpMs = 0) => ({
  brokerId,
  rack,
  logEndOffset,
  timeSinceLastCaughtUpMs,
});

describe("RackAwareReplicaSelector (Kafka's rules)", () => {
  const leader = view(1, 'a');
  it('the leader when the client names no rack or no replica is in its rack', () => {
    expect(rackAwareReplicaSelector('', [leader, view(2, 'b')], leader)).toBe(leader);
    expect(rackAwareReplicaSelector('z', [leader, view(2, 'b')], leader)).toBe(leader);
  });
  it('the leader when it is in the rack, even beside a follower there', () => {
    expect(rackAwareReplicaSelector('a', [leader, view(2, 'a', 20)], leader)).toBe(leader);
  });
  it('else the most caught-up replica of the rack: largest log end, then most recently caught up', () => {
    const behind = view(2, 'b', 8);
    const ahead = view(3, 'b', 10, 500);
    const fresher = view(4, 'b', 10, 100);
    expect(rackAwareReplicaSelector('b', [leader, behind, ahead], leader)).toBe(ahead);
    expect(rackAwareReplicaSelector('b', [leader, behind, ahead, fresher], leader)).toBe(fresher);
  });
  it('replica.selector.class: Kafka class name, or none', () => {
    expect(replicaSelectorOf(RACK_AWARE_REPLICA_SELECTOR)).toBe(rackAwareReplicaSelector);
    expect(replicaSelectorOf('')).toBeUndefined();
  });
});
