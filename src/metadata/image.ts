/**
 * One immutable image of the cluster metadata (Kafka's MetadataImage): brokers (id, rack,
 * listeners, fenced), topics (id, name, configs), partitions (leader, leader epoch, partition
 * epoch, replicas, ISR), the dynamic broker configs, and SCRAM credentials and ACLs
 * (security-image.ts), client quotas (client-quota-image.ts). `apply(records)` returns the next image and
 * the delta between the two (Kafka's MetadataDelta), which is what a broker acts on: become leader
 * or follower, delete a topic's logs, tell the coordinators.
 *
 * Images are values: readers hold one and never see it change; the controller and the brokers
 * move from one to the next. `offset` counts the records applied, so two brokers that applied the
 * same records hold equal images.
 */
import { ClientQuotasImage } from './client-quota-image.js';
import { DelegationTokenImage, type DelegationTokenRecordChange } from './delegation-token-image.js';
import type {
  ClientQuotaRecord,
  ConfigResourceType,
  MetadataRecord,
  PartitionChangeRecord,
  PartitionRecord,
  RegisterBrokerRecord,
} from './records.js';
import { type SecurityDelta, SecurityImage, type SecurityRecord } from './security-image.js';

/** A registered broker: its last RegisterBrokerRecord, with `fenced` as later changes left it. */
export type BrokerRegistration = Omit<RegisterBrokerRecord, 'type'>;

export interface PartitionState {
  readonly partitionId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /**
   * An ongoing reassignment (Kafka's PartitionRegistration.addingReplicas / removingReplicas): the
   * replicas it adds (in `replicas`, catching up) and removes (still in `replicas` until it ends).
   * Both empty when none is in progress.
   */
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition id. */
  readonly partitions: readonly PartitionState[];
  /** Topic config overrides. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface PartitionDelta {
  readonly topic: TopicImage;
  readonly partition: PartitionState;
  /** Undefined for a new partition. */
  readonly previous: PartitionState | undefined;
}

/** What changed from one image to the next. */
export interface MetadataDelta {
  readonly createdTopics: readonly TopicImage[];
  readonly deletedTopics: readonly TopicImage[];
  /** New partitions and partitions whose leader, ISR or replicas changed (of topics that still exist). */
  readonly changedPartitions: readonly PartitionDelta[];
  /** Resources whose configs changed: topic names, broker ids ("" = cluster default). */
  readonly changedConfigs: readonly { resourceType: ConfigResourceType; resourceName: string }[];
  readonly changedBrokers: readonly number[];
  /** SCRAM credentials and ACLs that changed. */
  readonly security: SecurityDelta;
}

/** Records that do not fit the image they are applied to: a controller bug, never client input. */
export class MetadataError extends Error {
  override name = 'MetadataError';
}

const freezeRecord = (r: Record<string, string>): Readonly<Record<string, string>> => Object.freeze({ ...r });

export class MetadataImage {
  static readonly EMPTY = new MetadataImage(
    0,
    new Map(),
    new Map(),
    new Map(),
    new Map(),
    SecurityImage.EMPTY,
    new Map(),
    ClientQuotasImage.EMPTY,
    DelegationTokenImage.EMPTY,
  );

  private constructor(
    /** Records applied to reach this image. */
    readonly offset: number,
    readonly brokers: ReadonlyMap<number, BrokerRegistration>,
    private readonly topicsByName: ReadonlyMap<string, TopicImage>,
    private readonly topicsById: ReadonlyMap<string, TopicImage>,
    /** Dynamic broker configs by resource name: "" for the cluster default, else the broker id. */
    readonly brokerConfigs: ReadonlyMap<string, Readonly<Record<string, string>>>,
    /** SCRAM credentials and ACLs (Kafka's ScramImage and AclsImage). */
    readonly security: SecurityImage,
    /** Dynamic group configs by group id (share.auto.offset.reset, ...). */
    readonly groupConfigs: ReadonlyMap<string, Readonly<Record<string, string>>>,
    /** Client quotas by entity (Kafka's ClientQuotasImage, KIP-546). */
    readonly clientQuotas: ClientQuotasImage,
    /** Delegation tokens (Kafka's DelegationTokenImage, KIP-48). */
    readonly delegationTokens: DelegationTokenImage,
  ) {}

  topics(): TopicImage[] {
    return [...this.topicsByName.values()];
  }

  topic(name: string): TopicImage | undefined {
    return this.topicsByName.get(name);
  }

  topicById(topicId: string): TopicImage | undefined {
    return this.topicsById.get(topicId);
  }

  partition(topicName: string, partitionId: number): PartitionState | undefined {
    return this.topicsByName.get(topicName)?.partitions[partitionId];
  }

  /** Brokers that are registered and not fenced: the ones that may lead and be in an ISR. */
  liveBrokers(): BrokerRegistration[] {
    return [...this.brokers.values()].filter((b) => !b.fenced).sort((a, b) => a.brokerId - b.brokerId);
  }

  /**
   * The records that rebuild this image from EMPTY (a snapshot's content): brokers, then each topic
   * with its partitions and configs, then the broker configs, then credentials and ACLs.
   */
  toRecords(): MetadataRecord[] {
    const out: MetadataRecord[] = [];
    for (const b of this.brokers.values()) out.push({ type: 'RegisterBrokerRecord', ...b });
    for (const t of this.topicsByName.values()) {
      out.push({ type: 'TopicRecord', name: t.name, topicId: t.topicId });
      for (const p of t.partitions) {
        const { addingReplicas, removingReplicas, ...rest } = p;
        out.push({
          type: 'PartitionRecord',
          topicId: t.topicId,
          ...rest,
          ...(addingReplicas.length > 0 ? { addingReplicas } : {}),
          ...(removingReplicas.length > 0 ? { removingReplicas } : {}),
        });
      }
      for (const [name, value] of Object.entries(t.configs)) {
        out.push({ type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: t.name, name, value });
      }
    }
    for (const [resourceName, configs] of this.brokerConfigs) {
      for (const [name, value] of Object.entries(configs)) {
        out.push({ type: 'ConfigRecord', resourceType: 'BROKER', resourceName, name, value });
      }
    }
    for (const [resourceName, configs] of this.groupConfigs) {
      for (const [name, value] of Object.entries(configs)) {
        out.push({ type: 'ConfigRecord', resourceType: 'GROUP', resourceName, name, value });
      }
    }
    out.push(...this.security.toRecords());
    out.push(...this.clientQuotas.toRecords());
    out.push(...this.delegationTokens.toRecords());
    return out;
  }

  /**
   * The next image and what changed. Throws MetadataError (and changes nothing) on an inconsistent
   * record. `nextOffset` is the new image's offset: by default this one's plus the records applied;
   * loading a snapshot (whose records rebuild, not replay, the log up to its offset) passes it.
   */
  apply(
    records: readonly MetadataRecord[],
    nextOffset = this.offset + records.length,
  ): { image: MetadataImage; delta: MetadataDelta } {
    const brokers = new Map(this.brokers);
    const byName = new Map(this.topicsByName);
    const byId = new Map(this.topicsById);
    const brokerConfigs = new Map(this.brokerConfigs);
    const groupConfigs = new Map(this.groupConfigs);
    const created = new Map<string, TopicImage>();
    const deleted = new Map<string, TopicImage>();
    const previousPartitions = new Map<string, PartitionState | undefined>();
    const changedConfigs = new Map<string, { resourceType: ConfigResourceType; resourceName: string }>();
    const changedBrokers = new Set<number>();
    const securityRecords: SecurityRecord[] = [];
    const quotaRecords: ClientQuotaRecord[] = [];
    const tokenRecords: DelegationTokenRecordChange[] = [];

    const topicOf = (topicId: string, what: string): TopicImage => {
      const t = byId.get(topicId);
      if (!t) throw new MetadataError(`${what}: unknown topic id ${topicId}`);
      return t;
    };
    const replaceTopic = (t: TopicImage): void => {
      byName.set(t.name, t);
      byId.set(t.topicId, t);
      if (created.has(t.topicId)) created.set(t.topicId, t);
    };
    const notePartition = (t: TopicImage, partitionId: number): void => {
      const key = `${t.topicId}:${partitionId}`;
      if (!previousPartitions.has(key)) previousPartitions.set(key, t.partitions[partitionId]);
    };

    for (const r of records) {
      switch (r.type) {
        case 'RegisterBrokerRecord': {
          const current = brokers.get(r.brokerId);
          if (current && r.brokerEpoch <= current.brokerEpoch) {
            throw new MetadataError(
              `broker ${r.brokerId} registers with epoch ${r.brokerEpoch}, not above ${current.brokerEpoch}`,
            );
          }
          brokers.set(r.brokerId, {
            brokerId: r.brokerId,
            brokerEpoch: r.brokerEpoch,
            rack: r.rack,
            endpoints: r.endpoints.map((e) => ({ ...e })),
            fenced: r.fenced,
          });
          changedBrokers.add(r.brokerId);
          break;
        }
        case 'UnregisterBrokerRecord':
        case 'BrokerRegistrationChangeRecord': {
          const current = brokers.get(r.brokerId);
          if (!current || current.brokerEpoch !== r.brokerEpoch) {
            throw new MetadataError(
              `${r.type}: broker ${r.brokerId} epoch ${r.brokerEpoch} is not registered`,
            );
          }
          if (r.type === 'UnregisterBrokerRecord') brokers.delete(r.brokerId);
          else brokers.set(r.brokerId, { ...current, fenced: r.fenced });
          changedBrokers.add(r.brokerId);
          break;
        }
        case 'TopicRecord': {
          if (byName.has(r.name)) throw new MetadataError(`topic ${r.name} already exists`);
          if (byId.has(r.topicId)) throw new MetadataError(`topic id ${r.topicId} already exists`);
          const t: TopicImage = {
            name: r.name,
            topicId: r.topicId,
            partitions: [],
            configs: freezeRecord({}),
          };
          created.set(r.topicId, t);
          replaceTopic(t);
          break;
        }
        case 'PartitionRecord': {
          const t = topicOf(r.topicId, 'PartitionRecord');
          if (r.partitionId !== t.partitions.length) {
            throw new MetadataError(
              `PartitionRecord: partition ${r.partitionId} of ${t.name} is not the next one (${t.partitions.length})`,
            );
          }
          notePartition(t, r.partitionId);
          replaceTopic({ ...t, partitions: [...t.partitions, partitionState(r)] });
          break;
        }
        case 'PartitionChangeRecord': {
          const t = topicOf(r.topicId, 'PartitionChangeRecord');
          const current = t.partitions[r.partitionId];
          if (!current)
            throw new MetadataError(`PartitionChangeRecord: ${t.name} has no partition ${r.partitionId}`);
          notePartition(t, r.partitionId);
          const partitions = [...t.partitions];
          partitions[r.partitionId] = changePartition(current, r);
          replaceTopic({ ...t, partitions });
          break;
        }
        case 'ConfigRecord': {
          if (r.resourceType === 'TOPIC') {
            const t = byName.get(r.resourceName);
            if (!t) throw new MetadataError(`ConfigRecord: unknown topic ${r.resourceName}`);
            replaceTopic({ ...t, configs: freezeRecord(withConfig(t.configs, r.name, r.value)) });
          } else if (r.resourceType === 'GROUP') {
            const next = withConfig(groupConfigs.get(r.resourceName) ?? {}, r.name, r.value);
            if (Object.keys(next).length === 0) groupConfigs.delete(r.resourceName);
            else groupConfigs.set(r.resourceName, freezeRecord(next));
          } else {
            const next = withConfig(brokerConfigs.get(r.resourceName) ?? {}, r.name, r.value);
            if (Object.keys(next).length === 0) brokerConfigs.delete(r.resourceName);
            else brokerConfigs.set(r.resourceName, freezeRecord(next));
          }
          changedConfigs.set(`${r.resourceType}:${r.resourceName}`, {
            resourceType: r.resourceType,
            resourceName: r.resourceName,
          });
          break;
        }
        case 'RemoveTopicRecord': {
          const t = topicOf(r.topicId, 'RemoveTopicRecord');
          byName.delete(t.name);
          byId.delete(t.topicId);
          if (created.has(t.topicId)) created.delete(t.topicId);
          else deleted.set(t.topicId, t);
          changedConfigs.delete(`TOPIC:${t.name}`);
          break;
        }
        case 'UserScramCredentialRecord':
        case 'RemoveUserScramCredentialRecord':
        case 'AccessControlEntryRecord':
        case 'RemoveAccessControlEntryRecord':
          securityRecords.push(r);
          break;
        case 'ClientQuotaRecord':
          quotaRecords.push(r);
          break;
        case 'DelegationTokenRecord':
        case 'RemoveDelegationTokenRecord':
          tokenRecords.push(r);
          break;
        default: {
          const unknown: never = r;
          throw new MetadataError(`unknown metadata record ${JSON.stringify(unknown)}`);
        }
      }
    }

    const changedPartitions: PartitionDelta[] = [];
    for (const [key, previous] of previousPartitions) {
      const sep = key.lastIndexOf(':');
      const topic = byId.get(key.slice(0, sep));
      if (!topic) continue; // removed in the same batch
      const partition = topic.partitions[Number(key.slice(sep + 1))]!;
      changedPartitions.push({ topic, partition, previous });
    }
    const security = this.security.apply(securityRecords, (m) => new MetadataError(m));
    const image = new MetadataImage(
      nextOffset,
      brokers,
      byName,
      byId,
      brokerConfigs,
      security.image,
      groupConfigs,
      this.clientQuotas.apply(quotaRecords),
      this.delegationTokens.apply(tokenRecords, (m) => new MetadataError(m)),
    );
    return {
      image,
      delta: {
        createdTopics: [...created.values()],
        deletedTopics: [...deleted.values()],
        changedPartitions,
        changedConfigs: [...changedConfigs.values()],
        changedBrokers: [...changedBrokers],
        security: security.delta,
      },
    };
  }
}

function partitionState(r: PartitionRecord): PartitionState {
  return {
    partitionId: r.partitionId,
    replicas: [...r.replicas],
    isr: [...r.isr],
    leader: r.leader,
    leaderEpoch: r.leaderEpoch,
    partitionEpoch: r.partitionEpoch,
    addingReplicas: [...(r.addingReplicas ?? [])],
    removingReplicas: [...(r.removingReplicas ?? [])],
  };
}

/**
 * A change's next registration. The leader epoch grows when the leader changes, and when a replica
 * leaves the replica set (a reassignment's end), as Kafka's PartitionChangeBuilder
 * (triggerLeaderEpochBumpForReplicaReassignmentIfNeeded) does so a removed replica is fenced.
 */
function changePartition(p: PartitionState, r: PartitionChangeRecord): PartitionState {
  const leader = r.leader ?? p.leader;
  const replicaRemoved = r.replicas !== undefined && p.replicas.some((id) => !r.replicas!.includes(id));
  return {
    partitionId: p.partitionId,
    replicas: r.replicas ? [...r.replicas] : p.replicas,
    isr: r.isr ? [...r.isr] : p.isr,
    leader,
    leaderEpoch: leader !== p.leader || replicaRemoved ? p.leaderEpoch + 1 : p.leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1,
    addingReplicas: r.addingReplicas ? [...r.addingReplicas] : p.addingReplicas,
    removingReplicas: r.removingReplicas ? [...r.removingReplicas] : p.removingReplicas,
  };
}

function withConfig(
  configs: Readonly<Record<string, string>>,
  name: string,
  value: string | null,
): Record<string, string> {
  const next = { ...configs };
  if (value === null) delete next[name];
  else next[name] = value;
  return next;
}
