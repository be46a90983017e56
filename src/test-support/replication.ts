/**
 * Test support for replication before the controller drives it: an in-process stand-in for the
 * controller's partition registrations that validates AlterPartition as Kafka's controller does
 * (leader, leader epoch, partition epoch, ISR members among the replicas) and publishes every
 * committed registration to the brokers' ReplicaManagers (makeLeaders / makeFollowers), as the
 * metadata image will. Leader elections are explicit (`elect`).
 */
import type { ErrorName } from '../protocol/generated/errors.js';
import type {
  AlterPartitionManager,
  AlterPartitionResult,
  LeaderAndIsr,
  TopicIdPartition,
} from '../replication/alter-partition-manager.js';
import type { PartitionLeadership, ReplicaManager } from '../replication/replica-manager.js';

export interface ClusterMember {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly replicaManager: ReplicaManager;
}

const keyOf = (topic: string, partition: number) => `${topic}-${partition}`;

export class InProcessPartitionController implements AlterPartitionManager {
  private readonly registrations = new Map<string, PartitionLeadership>();
  /** Every AlterPartition answered, oldest first. */
  readonly alterPartitionLog: { proposed: LeaderAndIsr; result: AlterPartitionResult }[] = [];
  /** When set, AlterPartition waits for this before answering (a slow controller). */
  gate: Promise<void> | null = null;
  /** Members cut off: they get no registrations and fetch nothing (as `cluster.isolate(id)` will). */
  private readonly isolated = new Set<number>();

  constructor(private readonly members: () => readonly ClusterMember[]) {}

  registration(topic: string, partition: number): PartitionLeadership | undefined {
    return this.registrations.get(keyOf(topic, partition));
  }

  /** Cuts `nodeId` off: its fetchers stop and it hears of no registration until `reconnect`. */
  isolate(nodeId: number): void {
    this.isolated.add(nodeId);
    const m = this.members().find((x) => x.nodeId === nodeId);
    m?.replicaManager.replicaFetcherManager.removeFetcherForPartitions([...this.registrations.values()]);
  }

  /** Ends an isolation; with `publish`, the member gets the current registrations (and fetches again). */
  reconnect(nodeId: number, publish = true): void {
    this.isolated.delete(nodeId);
    if (publish) for (const reg of this.registrations.values()) this.publish(reg, nodeId);
  }

  /** Registers (or replaces) a partition and publishes it to every member hosting a replica. */
  register(reg: PartitionLeadership): void {
    this.registrations.set(keyOf(reg.topic, reg.partition), reg);
    this.publish(reg);
  }

  /** A new leader (from the ISR unless `unclean`): leader and partition epochs move on. */
  elect(
    topic: string,
    partition: number,
    leader: number,
    isr?: readonly number[],
    unclean = false,
  ): PartitionLeadership {
    const reg = this.registration(topic, partition);
    if (!reg) throw new Error(`no registration for ${keyOf(topic, partition)}`);
    const newIsr = isr ?? reg.isr;
    if (!unclean && !reg.isr.includes(leader)) throw new Error(`${leader} is not in the ISR [${reg.isr}]`);
    const next: PartitionLeadership = {
      ...reg,
      leader,
      isr: newIsr.includes(leader) ? [...newIsr] : [leader, ...newIsr],
      leaderEpoch: reg.leaderEpoch + 1,
      partitionEpoch: reg.partitionEpoch + 1,
    };
    this.register(next);
    return next;
  }

  async submit(tp: TopicIdPartition, proposed: LeaderAndIsr): Promise<AlterPartitionResult> {
    if (this.gate) await this.gate;
    const result = this.validateAndCommit(tp, proposed);
    this.alterPartitionLog.push({ proposed, result });
    return result;
  }

  private validateAndCommit(tp: TopicIdPartition, proposed: LeaderAndIsr): AlterPartitionResult {
    const reg = this.registration(tp.topic, tp.partition);
    const refuse = (error: ErrorName): AlterPartitionResult => ({ error });
    if (!reg || (reg.topicId !== undefined && tp.topicId !== '' && reg.topicId !== tp.topicId)) {
      return refuse('UNKNOWN_TOPIC_OR_PARTITION');
    }
    if (proposed.leader !== reg.leader) return refuse('NOT_LEADER_OR_FOLLOWER');
    if (proposed.leaderEpoch !== reg.leaderEpoch) return refuse('FENCED_LEADER_EPOCH');
    if (proposed.partitionEpoch !== reg.partitionEpoch) return refuse('INVALID_UPDATE_VERSION');
    if (!proposed.isr.includes(reg.leader) || proposed.isr.some((id) => !reg.replicas.includes(id))) {
      return refuse('INVALID_REQUEST');
    }
    const next: PartitionLeadership = {
      ...reg,
      isr: [...proposed.isr],
      partitionEpoch: reg.partitionEpoch + 1,
    };
    this.registrations.set(keyOf(reg.topic, reg.partition), next);
    // The followers learn the new ISR from the metadata; the leader from the answer (and the metadata).
    this.publish(next);
    return {
      error: 'NONE',
      leaderAndIsr: {
        leader: next.leader,
        leaderEpoch: next.leaderEpoch,
        isr: next.isr,
        partitionEpoch: next.partitionEpoch,
      },
    };
  }

  private publish(reg: PartitionLeadership, only?: number): void {
    const members = this.members();
    const endpoints = (id: number) => {
      const m = members.find((x) => x.nodeId === id);
      return m ? { host: m.host, port: m.port } : undefined;
    };
    for (const m of members) {
      if (!reg.replicas.includes(m.nodeId) || this.isolated.has(m.nodeId)) continue;
      if (only !== undefined && m.nodeId !== only) continue;
      if (m.nodeId === reg.leader) m.replicaManager.makeLeaders([reg]);
      else m.replicaManager.makeFollowers([reg], endpoints);
    }
  }
}
