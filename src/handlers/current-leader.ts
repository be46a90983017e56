/**
 * KIP-951: a Produce (v10+) or Fetch (v16+) partition answered NOT_LEADER_OR_FOLLOWER (Fetch also
 * FENCED_LEADER_EPOCH) carries the partition's current leader and leader epoch, and the response
 * the leader's endpoint on the client's listener (node_endpoints), so the client sends to the new
 * leader without asking Metadata first. As Kafka's KafkaApis.getCurrentLeader: the leader as this
 * broker's replica knows it, else as the metadata image has it (-1 / -1 when unknown); the endpoint
 * only of a live broker.
 */
import type { BrokerEndpoint } from '../metadata/metadata-view.js';
import type { RequestContext } from './handler.js';

export interface LeaderIdAndEpoch {
  leaderId: number;
  leaderEpoch: number;
}

/** The current leaders looked up for one response, and the endpoints of those that are alive. */
export class CurrentLeaders {
  private readonly endpoints = new Map<number, BrokerEndpoint>();
  private live: readonly BrokerEndpoint[] | undefined;

  constructor(private readonly ctx: RequestContext) {}

  of(topic: string, partition: number): LeaderIdAndEpoch {
    const local = this.ctx.replicas.getPartition(topic, partition);
    let leader: LeaderIdAndEpoch;
    if (local !== undefined && local.leaderId >= 0) {
      leader = { leaderId: local.leaderId, leaderEpoch: local.leaderEpoch };
    } else {
      const p = this.ctx.metadata.topic(topic)?.partitions[partition];
      leader = p ? { leaderId: p.leader, leaderEpoch: p.leaderEpoch } : { leaderId: -1, leaderEpoch: -1 };
    }
    if (leader.leaderId >= 0 && !this.endpoints.has(leader.leaderId)) {
      this.live ??= this.ctx.metadata.brokers(this.ctx.listenerName);
      const node = this.live.find((b) => b.nodeId === leader.leaderId);
      if (node) this.endpoints.set(node.nodeId, node);
    }
    return leader;
  }

  /** The node_endpoints of the response: the live leaders named, by id. */
  get nodeEndpoints(): { nodeId: number; host: string; port: number; rack: string | null }[] {
    return [...this.endpoints.values()]
      .sort((a, b) => a.nodeId - b.nodeId)
      .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }));
  }
}
