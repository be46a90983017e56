/**
 * The write side of the cluster metadata (Kafka's Controller / QuorumController): every change
 * of brokers, topics, partitions and configs goes through it. The controller checks a request
 * against the current image with Kafka's rules (ReplicationControlManager for topics and
 * partitions, ConfigurationControlManager for configs), answering Kafka's error code and message
 * per topic or resource; a valid change becomes metadata records, appended to the metadata log
 * (fsynced) and applied to the image before it is acknowledged. Brokers then act on the delta
 * (`onChange`): the replica manager creates and deletes logs and takes leadership.
 *
 * Handlers only translate wire data to these calls and the results back. `LocalController` is
 * the single-process implementation; a controller shared by several brokers implements the same
 * interface.
 */
import type { Logger } from '../common/logger.js';
import { INTERNAL_TOPICS, invalidTopicReason } from '../common/topic-name.js';
import { BrokerConfig, validateTopicConfigs } from '../config/broker-config.js';
import { brokerConfigByName, topicConfigByName } from '../config/definitions.js';
import { validateGroupConfigs } from '../config/share-config-defs.js';
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import type {
  AlterPartitionRequestData,
  AlterPartitionResponseData,
} from '../protocol/generated/messages.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { newTopicId } from '../storage/partition-metadata.js';
import {
  type ClientQuotaAlteration,
  type ClientQuotaAlterationResult,
  clientQuotaChanges,
  unresolvableIpEntities,
} from './client-quota-control.js';
import type { TokenChange } from './delegation-token-control.js';
import type { DelegationTokenImage } from './delegation-token-image.js';
import { type MetadataDelta, MetadataImage, type TopicImage } from './image.js';
import { partitionsToRebalance } from './leader-balance.js';
import { MetadataLog, type MetadataLogWriter } from './metadata-log.js';
import { legacyMetadataRecords, removeLegacyMetadataFiles } from './migration.js';
import { buildPartitionChange, NO_LEADER } from './partition-change.js';
import {
  listReassignments,
  type OngoingReassignment,
  planPartitionReassignment,
  type ReassignableTopic,
  type ReassignmentResult,
} from './reassignment.js';
import type { BrokerEndpointRecord, MetadataRecord } from './records.js';
import type { AclChangeRecord, ScramChangeRecord } from './security-image.js';
import { legacySecurityRecords, removeLegacySecurityFile } from './security-migration.js';

/** An expected failure of one topic or resource: Kafka's error code and message. */
export interface ApiError {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const NONE: ApiError = { errorCode: ErrorCode.NONE, errorMessage: null };
const apiError = (errorCode: number, errorMessage: string | null): ApiError => ({ errorCode, errorMessage });

/** Answers one topic or resource with an error (caught per item, see `outcome`). */
const fail = (error: ErrorName, errorMessage: string | null): never => {
  throw new KafkaError(error, errorMessage);
};

/** The ApiError of a KafkaError thrown while checking one item; anything else is rethrown. */
export function outcome(err: unknown): ApiError {
  if (!(err instanceof KafkaError)) throw err;
  return { errorCode: err.code, errorMessage: err.errorMessage };
}

/**
 * Kafka's QuorumController.MAX_RECORDS_PER_USER_OP: one admin request may write at most this many
 * metadata records (a topic, each partition, each config); beyond it the whole request fails
 * with POLICY_VIOLATION and this message (BoundedListTooLongException). Without it, one
 * CreatePartitions asking for millions of partitions stalls the broker (found by the fuzzer).
 */
export const MAX_RECORDS_PER_USER_OP = 10_000;
export const EXCESSIVELY_LARGE_BATCH_MESSAGE = 'Unable to perform excessively large batch operation.';

/** A request that would write more than MAX_RECORDS_PER_USER_OP records: it fails whole. */
class BatchTooLargeError extends KafkaError {
  constructor() {
    super('POLICY_VIOLATION', EXCESSIVELY_LARGE_BATCH_MESSAGE);
  }
}

/** Kafka's error message of UNKNOWN_TOPIC_OR_PARTITION. */
export const UNKNOWN_TOPIC_OR_PARTITION_MESSAGE = 'This server does not host this topic-partition.';

/** ConfigResource.Type ids. */
export const ResourceType = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

export function resourceTypeName(type: number): string {
  return Object.entries(ResourceType).find(([, id]) => id === type)?.[0] ?? String(type);
}

export interface CreatableTopic {
  readonly name: string;
  /** -1: the broker's num.partitions (or the assignments' count). */
  readonly numPartitions: number;
  /** -1: default.replication.factor (or the assignments' size). */
  readonly replicationFactor: number;
  readonly assignments: readonly { partitionIndex: number; brokerIds: readonly number[] }[];
  readonly configs: readonly { name: string; value: string | null }[];
}

export interface CreateTopicResult extends ApiError {
  readonly name: string;
  /** The new topic's id (Kafka's zero UUID for validate-only and failures). */
  readonly topicId: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  /** The topic's config overrides. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface CreatePartitionsTopic {
  readonly name: string;
  readonly count: number;
  /** Replicas of each new partition, or null to let the controller place them. */
  readonly assignments: readonly { brokerIds: readonly number[] }[] | null;
}

export interface ConfigResourceAlter {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly { name: string; value: string | null }[];
}

export interface IncrementalConfigResourceAlter {
  readonly resourceType: number;
  readonly resourceName: string;
  /** configOperation: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT (Kafka's AlterConfigOp.OpType). */
  readonly configs: readonly { name: string; configOperation: number; value: string | null }[];
}

/**
 * The controller mutation quota of a request (Kafka's ControllerRequestContext.applyPartitionChangeQuota):
 * called with each topic that passed every check and the partitions it creates, before it is
 * created; throws THROTTLING_QUOTA_EXCEEDED (that topic's answer) when the client's quota is spent.
 */
export type PartitionChangeQuota = (topic: string, partitions: number) => void;

export interface Controller extends SecurityController {
  /** CreateTopics: each topic checked and (unless validateOnly) created; one result per distinct name. */
  createTopics(
    topics: readonly CreatableTopic[],
    validateOnly: boolean,
    quota?: PartitionChangeQuota,
  ): Promise<CreateTopicResult[]>;
  /** Creates one topic (coordinators, the console, the embedding API); throws if it is refused. */
  createTopic(
    name: string,
    numPartitions: number,
    configs?: Record<string, string>,
    replicationFactor?: number,
  ): Promise<TopicImage>;
  /**
   * The topic, auto-created with the broker's `num.partitions` when `auto.create.topics.enable`
   * and `allowAutoCreate` allow it and the name is valid; undefined otherwise.
   */
  maybeAutoCreateTopic(name: string, allowAutoCreate: boolean): Promise<TopicImage | undefined>;
  /** Deletes topics that exist: their logs go, and the coordinators forget what they held of them. */
  deleteTopics(names: readonly string[]): Promise<void>;
  /** CreatePartitions: each topic checked and (unless validateOnly) grown. */
  createPartitions(
    topics: readonly CreatePartitionsTopic[],
    validateOnly: boolean,
    quota?: PartitionChangeQuota,
  ): Promise<(ApiError & { name: string })[]>;
  /** AlterConfigs: the configs given replace every override of the resource. */
  alterConfigs(resources: readonly ConfigResourceAlter[], validateOnly: boolean): Promise<ApiError[]>;
  /** IncrementalAlterConfigs: SET / DELETE / APPEND / SUBTRACT on the current overrides. */
  incrementalAlterConfigs(
    resources: readonly IncrementalConfigResourceAlter[],
    validateOnly: boolean,
  ): Promise<ApiError[]>;
  /**
   * A broker joins (or rejoins, with a new epoch) with its listeners; returns its broker epoch. It
   * is fenced when asked (Kafka registers brokers fenced until they have caught up; the broker of
   * a single-process cluster is the controller and joins unfenced).
   */
  registerBroker(
    brokerId: number,
    endpoints: readonly BrokerEndpointRecord[],
    rack: string | null,
    fenced?: boolean,
  ): Promise<number>;
  /**
   * Fences a broker (its session expired, or it shuts down): it leaves every ISR (the last member
   * of an ISR stays, as in Kafka, leaderless until it returns), and partitions it led elect a new
   * leader from the ISR (leader epoch bumped) — outside it only where
   * `unclean.leader.election.enable` allows — or have none (-1).
   */
  fenceBroker(brokerId: number): Promise<void>;
  /**
   * Controlled shutdown of a broker at its registration epoch (Kafka's BrokerHeartbeat with
   * want_shut_down): checked as ClusterControlManager.checkBrokerEpoch — an unknown broker or another
   * epoch (a request from before a restart) is refused with STALE_BROKER_EPOCH — then fenced as
   * `fenceBroker` does, its leaderships moved first.
   */
  controlledShutdown(brokerId: number, brokerEpoch: number): Promise<void>;
  /** Unfences a broker: partitions without a leader that it can lead elect one. */
  unfenceBroker(brokerId: number): Promise<void>;
  /**
   * AlterPartition v2–3 from a partition leader (Kafka's ReplicationControlManager.alterPartition):
   * a new ISR checked against the leader and partition epochs and the brokers' registrations.
   * (Leader recovery after an unclean election, KIP-704, is not tracked: always RECOVERED.)
   */
  alterPartition(request: AlterPartitionRequestData, apiVersion: number): Promise<AlterPartitionResponseData>;
  /**
   * ElectLeaders: PREFERRED (0) moves leadership to each partition's first replica when it is in
   * the ISR; UNCLEAN (1) elects a leader for partitions without one, from outside the ISR if need
   * be. `topicPartitions` null: every partition (those needing no election are left out).
   */
  electLeaders(
    electionType: number,
    topicPartitions: readonly { topic: string; partitions: readonly number[] }[] | null,
  ): Promise<
    {
      topic: string;
      partitionResult: { partitionId: number; errorCode: number; errorMessage: string | null }[];
    }[]
  >;
  /**
   * AlterPartitionReassignments (Kafka's ReplicationControlManager.alterPartitionReassignments,
   * reassignment.ts): each partition's reassignment started, changed or (null replicas) cancelled,
   * answered per partition; the accepted ones written as one batch.
   */
  alterPartitionReassignments(
    topics: readonly ReassignableTopic[],
    allowReplicationFactorChange: boolean,
  ): Promise<ReassignmentResult[]>;
  /**
   * One pass of automatic leader balancing (`auto.leader.rebalance.enable`, leader-balance.ts):
   * preferred-leader elections where a broker's share of its preferred partitions led by others is
   * above `leader.imbalance.per.broker.percentage`. Returns the elections made.
   */
  maybeBalancePartitionLeaders(): Promise<number>;
  /** ListPartitionReassignments: the ongoing reassignments of the named partitions (null: all). */
  listPartitionReassignments(
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
  ): Promise<OngoingReassignment[]>;
}

/**
 * The security part of the controller (Kafka's ScramControlManager and AclControlManager): the
 * changes an AlterUserScramCredentials, CreateAcls or DeleteAcls accepted, written to the metadata
 * log as one batch. Each is checked against the image (a credential removed must exist, an ACL id
 * is new when added and known when removed); a request of more than MAX_RECORDS_PER_USER_OP
 * records is refused whole (POLICY_VIOLATION), as Kafka bounds one request's records.
 */
export interface SecurityController {
  alterUserScramCredentials(changes: readonly ScramChangeRecord[]): Promise<void>;
  alterAcls(changes: readonly AclChangeRecord[]): Promise<void>;
  /**
   * AlterClientQuotas (KIP-546, client-quota-control.ts): each entity's alteration checked, the
   * accepted ones (unless validateOnly) written as ClientQuotaRecords in one batch; one result
   * per distinct entity.
   */
  alterClientQuotas(
    alterations: readonly ClientQuotaAlteration[],
    validateOnly: boolean,
  ): Promise<ClientQuotaAlterationResult[]>;
  /**
   * A delegation token change (delegation-token-control.ts): `compute` reads the tokens of the
   * current image and returns the records to write (one batch) and the answer. It may run again
   * when another writer changed the metadata first (brokers on etcd or threads).
   */
  changeDelegationTokens<T>(compute: (tokens: DelegationTokenImage) => TokenChange<T>): Promise<T>;
}

/** Told every change after it is durable: the new image and what changed. */
export type MetadataListener = (delta: MetadataDelta, image: MetadataImage) => void;

export interface LocalControllerOptions {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly log: MetadataLogWriter;
  /** The image the metadata log loaded. */
  readonly image: MetadataImage;
  /** For replica placement's random start (tests pass a fixed one). */
  readonly random?: () => number;
  readonly logger?: Logger;
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'] as const;

const unifyCollisionChars = (name: string): string => name.replace(/\./g, '_');

/** The names that occur more than once (Kafka answers them INVALID_REQUEST before anything else). */
export function duplicates(names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) dup.add(n);
    seen.add(n);
  }
  return dup;
}

/**
 * Records of one request, checked one item at a time against the image as the earlier items of
 * the same request leave it, and written together: one fsync per request, not per topic.
 */
class RecordBatch {
  readonly records: MetadataRecord[] = [];
  /** Records the request would write, validate-only ones included (Kafka's BoundedList). */
  private planned = 0;

  constructor(public image: MetadataImage) {}

  /** Counts `n` more records of this request; past MAX_RECORDS_PER_USER_OP the request fails whole. */
  reserve(n: number): void {
    this.planned += n;
    if (this.planned > MAX_RECORDS_PER_USER_OP) throw new BatchTooLargeError();
  }

  add(records: readonly MetadataRecord[]): void {
    if (records.length === 0) return;
    this.image = this.image.apply(records).image;
    this.records.push(...records);
  }
}

/** One process is the whole cluster: the controller's changes are applied to the brokers in it. */
export class LocalController implements Controller {
  protected current: MetadataImage;
  protected readonly listeners = new Set<MetadataListener>();
  private readonly random: () => number;

  constructor(private readonly options: LocalControllerOptions) {
    this.current = options.image;
    this.random = options.random ?? Math.random;
  }

  /** The image as of the last acknowledged change. */
  get image(): MetadataImage {
    return this.current;
  }

  /**
   * Registers a broker-side listener of changes; returns its unsubscribe. The listener is first
   * told the whole current image, as a delta from the empty one (a broker's first load).
   */
  onChange(listener: MetadataListener): () => void {
    const { delta } = MetadataImage.EMPTY.apply(this.current.toRecords(), this.current.offset);
    listener(delta, this.current);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes the image as a snapshot (a clean shutdown loads faster) and closes the log. */
  close(): void {
    if (this.options.log.bytesSinceSnapshot > 0) this.options.log.snapshot(this.current);
    this.options.log.close();
  }

  /** Appends the records (fsynced), moves the image, then tells the listeners. */
  protected commit(records: readonly MetadataRecord[]): void {
    if (records.length === 0) return;
    const { image, delta } = this.current.apply(records);
    this.options.log.append(this.current.offset, records, () => image);
    this.current = image;
    for (const t of delta.createdTopics) {
      this.options.logger?.info(
        `created topic ${t.name} with ${t.partitions.length} partition(s), id ${t.topicId}`,
      );
    }
    for (const listener of [...this.listeners]) listener(delta, image);
  }

  private get config(): BrokerConfig {
    return this.options.config;
  }

  // --- brokers ---

  async registerBroker(
    brokerId: number,
    endpoints: readonly BrokerEndpointRecord[],
    rack: string | null,
    fenced = false,
  ): Promise<number> {
    const brokerEpoch = Math.max(
      this.current.offset,
      (this.current.brokers.get(brokerId)?.brokerEpoch ?? -1) + 1,
    );
    this.commit([
      { type: 'RegisterBrokerRecord', brokerId, brokerEpoch, rack, endpoints: [...endpoints], fenced },
    ]);
    return brokerEpoch;
  }

  async fenceBroker(brokerId: number): Promise<void> {
    const registration = this.current.brokers.get(brokerId);
    if (!registration) throw new Error(`broker ${brokerId} is not registered`);
    if (registration.fenced) return;
    const records: MetadataRecord[] = [];
    const acceptable = (id: number) => id !== brokerId && this.isAcceptableLeader(id);
    for (const t of this.current.topics()) {
      for (const p of t.partitions) {
        if (!p.isr.includes(brokerId) && p.leader !== brokerId) continue;
        // The last ISR member stays in it (a clean leader when it returns).
        const shrunk = p.isr.filter((id) => id !== brokerId);
        const record = buildPartitionChange(t.topicId, p, {
          targetIsr: shrunk.length > 0 ? shrunk : p.isr,
          election: this.uncleanAllowed(t) ? 'UNCLEAN' : 'ONLINE',
          isAcceptableLeader: acceptable,
        });
        if (record) records.push(record);
      }
    }
    records.push({
      type: 'BrokerRegistrationChangeRecord',
      brokerId,
      brokerEpoch: registration.brokerEpoch,
      fenced: true,
    });
    this.commit(records);
  }

  async controlledShutdown(brokerId: number, brokerEpoch: number): Promise<void> {
    const registration = this.current.brokers.get(brokerId);
    if (!registration) {
      throw new KafkaError('STALE_BROKER_EPOCH', `No broker registration found for broker ${brokerId}`);
    }
    if (registration.brokerEpoch !== brokerEpoch) {
      throw new KafkaError(
        'STALE_BROKER_EPOCH',
        `Expected broker epoch ${registration.brokerEpoch}, but got broker epoch ${brokerEpoch}`,
      );
    }
    await this.fenceBroker(brokerId);
  }

  async unfenceBroker(brokerId: number): Promise<void> {
    const registration = this.current.brokers.get(brokerId);
    if (!registration) throw new Error(`broker ${brokerId} is not registered`);
    if (!registration.fenced) return;
    const records: MetadataRecord[] = [
      {
        type: 'BrokerRegistrationChangeRecord',
        brokerId,
        brokerEpoch: registration.brokerEpoch,
        fenced: false,
      },
    ];
    const acceptable = (id: number) => id === brokerId || this.isAcceptableLeader(id);
    for (const t of this.current.topics()) {
      for (const p of t.partitions) {
        if (p.leader !== NO_LEADER || !p.replicas.includes(brokerId)) continue;
        const record = buildPartitionChange(t.topicId, p, {
          election: this.uncleanAllowed(t) ? 'UNCLEAN' : 'ONLINE',
          isAcceptableLeader: acceptable,
        });
        if (record) records.push(record);
      }
    }
    this.commit(records);
  }

  /** Registered and not fenced. */
  private isAcceptableLeader(brokerId: number): boolean {
    const b = this.current.brokers.get(brokerId);
    return b !== undefined && !b.fenced;
  }

  /** The topic's unclean.leader.election.enable (its override, else the broker's). */
  private uncleanAllowed(topic: TopicImage): boolean {
    const override = topic.configs['unclean.leader.election.enable'];
    return (override ?? this.config.get('unclean.leader.election.enable')) === 'true';
  }

  async alterPartition(
    request: AlterPartitionRequestData,
    apiVersion: number,
  ): Promise<AlterPartitionResponseData> {
    const registration = this.current.brokers.get(request.brokerId);
    if (!registration || (request.brokerEpoch !== -1 && registration.brokerEpoch !== request.brokerEpoch)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] };
    }
    const batch = new RecordBatch(this.current);
    const topics = request.topics.map((topicData) => {
      // Versions 0-1 (topic names) are gone from Kafka 4's definitions; v2+ address topics by id.
      const topic = this.current.topicById(topicData.topicId);
      const partitions = topicData.partitions.map((data) => {
        const failed = (errorCode: number) => ({
          partitionIndex: data.partitionIndex,
          errorCode,
          leaderId: -1,
          leaderEpoch: -1,
          isr: [],
          leaderRecoveryState: 0,
          partitionEpoch: -1,
        });
        if (!topic) return failed(ErrorCode.UNKNOWN_TOPIC_ID);
        // v2 names the ISR, v3 the ISR with each member's broker epoch (KIP-903).
        const newIsr =
          apiVersion < 3 || data.newIsrWithEpochs === undefined
            ? (data.newIsr ?? []).map((brokerId) => ({ brokerId, brokerEpoch: -1 }))
            : data.newIsrWithEpochs;
        const error = this.alterPartitionError(request.brokerId, topic, data, newIsr);
        if (error !== ErrorCode.NONE) return failed(error);
        const partition = batch.image.topicById(topic.topicId)!.partitions[data.partitionIndex]!;
        const record = buildPartitionChange(topic.topicId, partition, {
          targetIsr: newIsr.map((b) => b.brokerId),
          election: this.uncleanAllowed(topic) ? 'UNCLEAN' : 'ONLINE',
          isAcceptableLeader: (id) => this.isAcceptableLeader(id),
        });
        if (record) batch.add([record]);
        const after = batch.image.topicById(topic.topicId)!.partitions[data.partitionIndex]!;
        // Only a reassignment's end moves the leader here; the caller must fetch metadata first.
        if (after.leader !== request.brokerId) return failed(ErrorCode.NEW_LEADER_ELECTED);
        return {
          partitionIndex: data.partitionIndex,
          errorCode: ErrorCode.NONE,
          leaderId: after.leader,
          leaderEpoch: after.leaderEpoch,
          isr: [...after.isr],
          leaderRecoveryState: 0,
          partitionEpoch: after.partitionEpoch,
        };
      });
      return { topicId: topicData.topicId, partitions };
    });
    this.commit(batch.records);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics };
  }

  /** ReplicationControlManager.validateAlterPartitionData, in Kafka's order. */
  private alterPartitionError(
    brokerId: number,
    topic: TopicImage,
    data: AlterPartitionRequestData['topics'][number]['partitions'][number],
    newIsr: readonly { brokerId: number; brokerEpoch: number }[],
  ): number {
    const partition = topic.partitions[data.partitionIndex];
    if (!partition) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    // A leader ahead of the controller talks to one that is no longer the active controller.
    if (data.leaderEpoch > partition.leaderEpoch) return ErrorCode.NOT_CONTROLLER;
    if (data.partitionEpoch > partition.partitionEpoch) return ErrorCode.NOT_CONTROLLER;
    if (data.leaderEpoch < partition.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (brokerId !== partition.leader) return ErrorCode.INVALID_REQUEST;
    if (data.partitionEpoch < partition.partitionEpoch) return ErrorCode.INVALID_UPDATE_VERSION;
    const ids = newIsr.map((b) => b.brokerId);
    const distinct = new Set(ids).size === ids.length;
    if (!distinct || ids.some((id) => !partition.replicas.includes(id))) return ErrorCode.INVALID_REQUEST;
    if (!ids.includes(partition.leader)) return ErrorCode.INVALID_REQUEST;
    const ineligible = newIsr.some((b) => {
      const r = this.current.brokers.get(b.brokerId);
      return !r || r.fenced || (b.brokerEpoch !== -1 && b.brokerEpoch !== r.brokerEpoch);
    });
    if (ineligible) return ErrorCode.INELIGIBLE_REPLICA;
    return ErrorCode.NONE;
  }

  async electLeaders(
    electionType: number,
    topicPartitions: readonly { topic: string; partitions: readonly number[] }[] | null,
  ): Promise<
    {
      topic: string;
      partitionResult: { partitionId: number; errorCode: number; errorMessage: string | null }[];
    }[]
  > {
    const all = topicPartitions === null;
    const wanted =
      topicPartitions ??
      this.current
        .topics()
        .map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => p.partitionId) }));
    const batch = new RecordBatch(this.current);
    const results = wanted.map(({ topic, partitions }) => ({
      topic,
      partitionResult: partitions.flatMap((partitionId) => {
        const error = this.electLeader(batch, topic, partitionId, electionType);
        // Electing every partition leaves out those that need no election (Kafka's ControllerApis).
        if (all && error.errorCode === ErrorCode.ELECTION_NOT_NEEDED) return [];
        return [{ partitionId, ...error }];
      }),
    }));
    this.commit(batch.records);
    return results.filter((r) => !all || r.partitionResult.length > 0);
  }

  /** ReplicationControlManager.electLeader for one partition. */
  private electLeader(
    batch: RecordBatch,
    topicName: string,
    partitionId: number,
    electionType: number,
  ): ApiError {
    const topic = batch.image.topic(topicName);
    if (!topic) return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such topic as ${topicName}`);
    const partition = topic.partitions[partitionId];
    if (!partition) {
      return apiError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `No such partition as ${topicName}-${partitionId}`,
      );
    }
    if (electionType !== 0 && electionType !== 1) {
      return apiError(ErrorCode.INVALID_REQUEST, `Unknown election type ${electionType}`);
    }
    const preferred = electionType === 0;
    if (preferred ? partition.leader === partition.replicas[0] : partition.leader !== NO_LEADER) {
      return apiError(ErrorCode.ELECTION_NOT_NEEDED, 'Leader election not needed for topic partition.');
    }
    const record = buildPartitionChange(topic.topicId, partition, {
      election: preferred ? 'PREFERRED' : 'UNCLEAN',
      isAcceptableLeader: (id) => this.isAcceptableLeader(id),
    });
    if (!record) {
      // Kafka's ApiError of a bare code carries the code's default message.
      return preferred
        ? apiError(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, 'The preferred leader was not available.')
        : apiError(
            ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
            'Eligible topic partition leaders are not available.',
          );
    }
    batch.add([record]);
    return NONE;
  }

  async alterPartitionReassignments(
    topics: readonly ReassignableTopic[],
    allowReplicationFactorChange: boolean,
  ): Promise<ReassignmentResult[]> {
    const batch = new RecordBatch(this.current);
    const ctx = {
      isAcceptableLeader: (id: number) => this.isAcceptableLeader(id),
      uncleanAllowed: (t: TopicImage) => this.uncleanAllowed(t),
    };
    const results = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        try {
          batch.reserve(1);
          const record = planPartitionReassignment(batch.image, t.name, p, ctx, allowReplicationFactorChange);
          if (record) batch.add([record]);
          return { partitionIndex: p.partitionIndex, ...NONE };
        } catch (err) {
          return { partitionIndex: p.partitionIndex, ...outcome(err) };
        }
      }),
    }));
    this.commit(batch.records);
    return results;
  }

  async maybeBalancePartitionLeaders(): Promise<number> {
    const acceptable = (id: number) => this.isAcceptableLeader(id);
    const batch = new RecordBatch(this.current);
    const percentage = this.config.int('leader.imbalance.per.broker.percentage');
    for (const { topic, partition } of partitionsToRebalance(this.current, percentage, acceptable)) {
      if (batch.records.length >= MAX_RECORDS_PER_USER_OP) break; // the next pass does the rest
      const record = buildPartitionChange(topic.topicId, partition, {
        election: 'PREFERRED',
        isAcceptableLeader: acceptable,
      });
      if (record) batch.add([record]);
    }
    this.commit(batch.records);
    return batch.records.length;
  }

  async listPartitionReassignments(
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
  ): Promise<OngoingReassignment[]> {
    return listReassignments(this.current, topics);
  }

  /** Brokers partitions may be placed on: registered and not fenced, by id. */
  private usableBrokers(image: MetadataImage): number[] {
    return image.liveBrokers().map((b) => b.brokerId);
  }

  /**
   * Kafka's rack-unaware assignment (StripedReplicaPlacer without racks, as the classic
   * AdminUtils): partition p's first replica is broker (start + p) mod n, the others follow at
   * a shift that grows every n partitions, from a random start and shift.
   */
  placeReplicas(
    brokers: readonly number[],
    partitions: number,
    replicationFactor: number,
    firstPartitionId = 0,
  ): number[][] {
    const n = brokers.length;
    const start = Math.floor(this.random() * n);
    let shift = Math.floor(this.random() * n);
    const out: number[][] = [];
    for (let i = 0; i < partitions; i++) {
      const p = firstPartitionId + i;
      if (p > 0 && p % n === 0) shift++;
      const first = (p + start) % n;
      const replicas = [brokers[first]!];
      for (let j = 0; j < replicationFactor - 1; j++) {
        replicas.push(brokers[(first + 1 + ((shift + j) % (n - 1))) % n]!);
      }
      out.push(replicas);
    }
    return out;
  }

  // --- topics ---

  private topicRecords(
    name: string,
    topicId: string,
    assignment: readonly (readonly number[])[],
    configs: Readonly<Record<string, string>>,
  ): MetadataRecord[] {
    const records: MetadataRecord[] = [{ type: 'TopicRecord', name, topicId }];
    assignment.forEach((replicas, partitionId) => {
      records.push(this.partitionRecord(topicId, partitionId, replicas));
    });
    for (const [key, value] of Object.entries(configs)) {
      records.push({ type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: name, name: key, value });
    }
    return records;
  }

  private partitionRecord(topicId: string, partitionId: number, replicas: readonly number[]): MetadataRecord {
    const live = new Set(this.usableBrokers(this.current));
    const isr = replicas.filter((r) => live.has(r));
    return {
      type: 'PartitionRecord',
      topicId,
      partitionId,
      replicas: [...replicas],
      isr,
      leader: isr[0] ?? -1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    };
  }

  /**
   * ReplicationControlManager.validateManualPartitionAssignment: throws INVALID_REPLICA_ASSIGNMENT
   * with Kafka's message.
   */
  private checkManualAssignment(
    image: MetadataImage,
    brokerIds: readonly number[],
    replicationFactor: number | undefined,
  ): void {
    if (brokerIds.length === 0) {
      fail('INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes an empty replica list.');
    }
    const registered = image.brokers;
    const sorted = [...brokerIds].sort((a, b) => a - b);
    let prev: number | undefined;
    for (const id of sorted) {
      if (!registered.has(id)) {
        fail(
          'INVALID_REPLICA_ASSIGNMENT',
          `The manual partition assignment includes broker ${id}, but no such broker is registered.`,
        );
      }
      if (id === prev) {
        fail(
          'INVALID_REPLICA_ASSIGNMENT',
          `The manual partition assignment includes the broker ${prev} more than once.`,
        );
      }
      prev = id;
    }
    if (replicationFactor !== undefined && sorted.length !== replicationFactor) {
      fail(
        'INVALID_REPLICA_ASSIGNMENT',
        `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is ` +
          `not consistent with previous partitions, which have ${replicationFactor} replica(s).`,
      );
    }
  }

  /** Config overrides checked as Kafka does (INVALID_CONFIG with its message). */
  private checkTopicConfigs(configs: Record<string, string>): void {
    validateTopicConfigs(configs); // a ConfigError is a KafkaError: INVALID_CONFIG with Kafka's message
  }

  /**
   * One topic of CreateTopics, in Kafka's order (ControllerApis, then ReplicationControlManager
   * .createTopics): the name (INVALID_TOPIC_EXCEPTION, also for names that collide with an
   * existing one once '.' and '_' are unified), internal names (the coordinators create theirs),
   * an existing topic (TOPIC_ALREADY_EXISTS), configs (INVALID_CONFIG), manual assignments
   * (INVALID_REQUEST / INVALID_REPLICA_ASSIGNMENT), replication factor (INVALID_REPLICATION_FACTOR)
   * and partition count (INVALID_PARTITIONS). Returns the records that create it.
   */
  private planTopic(
    batch: RecordBatch,
    t: CreatableTopic,
  ): {
    records: MetadataRecord[];
    topicId: string;
    partitions: number;
    replicationFactor: number;
    configs: Record<string, string>;
  } {
    const image = batch.image;
    const invalid = invalidTopicReason(t.name);
    if (invalid) fail('INVALID_TOPIC_EXCEPTION', invalid);
    if (INTERNAL_TOPICS.has(t.name) || t.name === '__cluster_metadata') {
      if (image.topic(t.name)) fail('TOPIC_ALREADY_EXISTS', `Topic '${t.name}' already exists.`);
      fail('INVALID_REQUEST', `Creation of internal topic ${t.name} is prohibited.`);
    }
    if (/[._]/.test(t.name)) {
      const unified = unifyCollisionChars(t.name);
      const other = image.topics().find((o) => o.name !== t.name && unifyCollisionChars(o.name) === unified);
      if (other) {
        fail('INVALID_TOPIC_EXCEPTION', `Topic '${t.name}' collides with existing topic: ${other.name}`);
      }
    }
    if (image.topic(t.name)) fail('TOPIC_ALREADY_EXISTS', `Topic '${t.name}' already exists.`);

    const nulls = t.configs.filter((c) => c.value === null).map((c) => c.name);
    if (nulls.length > 0) {
      fail('INVALID_CONFIG', `Null value not supported for topic configs: ${nulls.join(',')}`);
    }
    const configs = Object.fromEntries(t.configs.map((c) => [c.name, c.value!.trim()]));
    this.checkTopicConfigs(configs);

    const topicId = newTopicId();
    if (t.assignments.length > 0) {
      if (t.replicationFactor !== -1) {
        fail(
          'INVALID_REQUEST',
          'A manual partition assignment was specified, but replication factor was not set to -1.',
        );
      }
      if (t.numPartitions !== -1) {
        fail(
          'INVALID_REQUEST',
          'A manual partition assignment was specified, but numPartitions was not set to -1.',
        );
      }
      const byIndex = new Map<number, readonly number[]>();
      let rf: number | undefined;
      for (const a of t.assignments) {
        if (byIndex.has(a.partitionIndex)) {
          fail(
            'INVALID_REPLICA_ASSIGNMENT',
            `Found multiple manual partition assignments for partition ${a.partitionIndex}`,
          );
        }
        this.checkManualAssignment(image, a.brokerIds, rf);
        rf = a.brokerIds.length;
        byIndex.set(a.partitionIndex, a.brokerIds);
      }
      batch.reserve(1 + byIndex.size + Object.keys(configs).length);
      const assignment: (readonly number[])[] = [];
      for (let i = 0; i < byIndex.size; i++) {
        const replicas = byIndex.get(i);
        if (!replicas) {
          fail('INVALID_REPLICA_ASSIGNMENT', 'partitions should be a consecutive 0-based integer sequence');
        }
        assignment.push(replicas!);
      }
      return {
        records: this.topicRecords(t.name, topicId, assignment, configs),
        topicId,
        partitions: assignment.length,
        replicationFactor: rf!,
        configs,
      };
    }
    if (t.replicationFactor < -1 || t.replicationFactor === 0) {
      fail(
        'INVALID_REPLICATION_FACTOR',
        'Replication factor must be larger than 0, or -1 to use the default value.',
      );
    }
    if (t.numPartitions < -1 || t.numPartitions === 0) {
      fail('INVALID_PARTITIONS', 'Number of partitions was set to an invalid non-positive value.');
    }
    const partitions = t.numPartitions === -1 ? this.config.int('num.partitions') : t.numPartitions;
    const replicationFactor =
      t.replicationFactor === -1 ? this.config.int('default.replication.factor') : t.replicationFactor;
    const registered = image.brokers.size;
    if (replicationFactor > registered) {
      fail(
        'INVALID_REPLICATION_FACTOR',
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ` +
          `${replicationFactor} cannot be reached because only ${registered} broker(s) are registered.`,
      );
    }
    const usable = this.usableBrokers(image);
    if (replicationFactor > usable.length) {
      fail(
        'INVALID_REPLICATION_FACTOR',
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ` +
          `${replicationFactor} cannot be reached because only ${usable.length} broker(s) are unfenced.`,
      );
    }
    batch.reserve(1 + partitions + Object.keys(configs).length);
    const assignment = this.placeReplicas(usable, partitions, replicationFactor);
    return {
      records: this.topicRecords(t.name, topicId, assignment, configs),
      topicId,
      partitions,
      replicationFactor,
      configs,
    };
  }

  async createTopics(
    topics: readonly CreatableTopic[],
    validateOnly: boolean,
    quota?: PartitionChangeQuota,
  ): Promise<CreateTopicResult[]> {
    const dups = duplicates(topics.map((t) => t.name));
    const reported = new Set<string>();
    const batch = new RecordBatch(this.current);
    const results: CreateTopicResult[] = [];
    const failed = (name: string, e: ApiError): CreateTopicResult => ({
      name,
      ...e,
      topicId: ZERO_UUID,
      numPartitions: -1,
      replicationFactor: -1,
      configs: {},
    });
    try {
      for (const t of topics) {
        if (dups.has(t.name)) {
          if (!reported.has(t.name))
            results.push(failed(t.name, apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')));
          reported.add(t.name);
          continue;
        }
        try {
          const plan = this.planTopic(batch, t);
          quota?.(t.name, plan.partitions); // validate_only counts too, as in Kafka
          if (!validateOnly) batch.add(plan.records);
          results.push({
            name: t.name,
            ...NONE,
            topicId: validateOnly ? ZERO_UUID : plan.topicId,
            numPartitions: plan.partitions,
            replicationFactor: plan.replicationFactor,
            configs: plan.configs,
          });
        } catch (err) {
          if (err instanceof BatchTooLargeError) throw err; // the whole request fails
          results.push(failed(t.name, outcome(err)));
        }
      }
    } catch (err) {
      if (!(err instanceof BatchTooLargeError)) throw err;
      return [...new Set(topics.map((t) => t.name))].map((name) => failed(name, outcome(err)));
    }
    this.commit(batch.records);
    return results;
  }

  async createTopic(
    name: string,
    numPartitions: number,
    configs: Record<string, string> = {},
    replicationFactor?: number,
  ): Promise<TopicImage> {
    const invalid = invalidTopicReason(name);
    if (invalid !== null) throw new Error(invalid);
    if (this.current.topic(name)) throw new Error(`topic '${name}' already exists`);
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new Error(`invalid partition count ${numPartitions}`);
    }
    validateTopicConfigs(configs);
    const usable = this.usableBrokers(this.current);
    const brokers = usable.length > 0 ? usable : [this.options.nodeId];
    // `replicationFactor` (else default.replication.factor), at most the brokers there are (one
    // broker: one replica, as before).
    const rf = Math.min(brokers.length, replicationFactor ?? this.config.int('default.replication.factor'));
    const topicId = newTopicId();
    this.commit(this.topicRecords(name, topicId, this.placeReplicas(brokers, numPartitions, rf), configs));
    return this.current.topicById(topicId)!;
  }

  async maybeAutoCreateTopic(name: string, allowAutoCreate: boolean): Promise<TopicImage | undefined> {
    const existing = this.current.topic(name);
    if (existing) return existing;
    if (!allowAutoCreate || !this.config.bool('auto.create.topics.enable')) return undefined;
    if (invalidTopicReason(name) !== null || INTERNAL_TOPICS.has(name)) return undefined;
    return this.createTopic(name, this.config.int('num.partitions'));
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    const records: MetadataRecord[] = [];
    for (const name of new Set(names)) {
      const t = this.current.topic(name);
      if (t) records.push({ type: 'RemoveTopicRecord', topicId: t.topicId });
    }
    this.commit(records);
  }

  /**
   * CreatePartitions, with Kafka's messages: duplicate names INVALID_REQUEST, unknown topics
   * UNKNOWN_TOPIC_OR_PARTITION, a count that is not an increase INVALID_PARTITIONS, assignments
   * that do not match INVALID_REPLICA_ASSIGNMENT.
   */
  async createPartitions(
    topics: readonly CreatePartitionsTopic[],
    validateOnly: boolean,
    quota?: PartitionChangeQuota,
  ): Promise<(ApiError & { name: string })[]> {
    const dups = duplicates(topics.map((t) => t.name));
    const results: (ApiError & { name: string })[] = [...dups].map((name) => ({
      name,
      ...apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'),
    }));
    const batch = new RecordBatch(this.current);
    try {
      for (const t of topics) {
        if (dups.has(t.name)) continue;
        try {
          const records = this.planPartitions(batch, t); // a PartitionRecord per new partition
          quota?.(t.name, records.length);
          if (!validateOnly) batch.add(records);
          results.push({ name: t.name, ...NONE });
        } catch (err) {
          if (err instanceof BatchTooLargeError) throw err;
          results.push({ name: t.name, ...outcome(err) });
        }
      }
    } catch (err) {
      if (!(err instanceof BatchTooLargeError)) throw err;
      return topics.map((t) => ({ name: t.name, ...outcome(err) }));
    }
    this.commit(batch.records);
    return results;
  }

  private planPartitions(batch: RecordBatch, t: CreatePartitionsTopic): MetadataRecord[] {
    const image = batch.image;
    const topic = image.topic(t.name);
    if (!topic) return fail('UNKNOWN_TOPIC_OR_PARTITION', UNKNOWN_TOPIC_OR_PARTITION_MESSAGE);
    const current = topic.partitions.length;
    if (t.count === current) fail('INVALID_PARTITIONS', `Topic already has ${current} partition(s).`);
    if (t.count < current) {
      fail(
        'INVALID_PARTITIONS',
        `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`,
      );
    }
    const additional = t.count - current;
    batch.reserve(additional);
    const rf = topic.partitions[0]!.replicas.length;
    let assignment: (readonly number[])[];
    if (t.assignments !== null) {
      if (t.assignments.length !== additional) {
        fail(
          'INVALID_REPLICA_ASSIGNMENT',
          `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`,
        );
      }
      for (const a of t.assignments) this.checkManualAssignment(image, a.brokerIds, rf);
      assignment = t.assignments.map((a) => a.brokerIds);
    } else {
      const usable = this.usableBrokers(image);
      if (rf > usable.length) {
        fail(
          'INVALID_REPLICATION_FACTOR',
          `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be ` +
            `reached because only ${usable.length} broker(s) are unfenced.`,
        );
      }
      assignment = this.placeReplicas(usable, additional, rf, current);
    }
    return assignment.map((replicas, i) => this.partitionRecord(topic.topicId, current + i, replicas));
  }

  // --- configs ---

  /**
   * The resource a TOPIC or BROKER config change addresses, checked as Kafka's
   * ConfigurationControlManager does: the topic's name and existence, or the broker id ("" the
   * cluster default, else this broker's id).
   */
  private configResource(
    image: MetadataImage,
    resourceType: number,
    resourceName: string,
  ): { type: 'TOPIC' | 'BROKER' | 'GROUP'; current: Record<string, string> } {
    if (resourceType === ResourceType.TOPIC) {
      if (resourceName === '') fail('INVALID_REQUEST', 'Default topic resources are not allowed.');
      const invalid = invalidTopicReason(resourceName);
      if (invalid) fail('INVALID_TOPIC_EXCEPTION', invalid);
      const t = image.topic(resourceName);
      if (!t) return fail('UNKNOWN_TOPIC_OR_PARTITION', UNKNOWN_TOPIC_OR_PARTITION_MESSAGE);
      return { type: 'TOPIC', current: { ...t.configs } };
    }
    if (resourceType === ResourceType.BROKER) {
      // Any broker's id: the broker the request reached checked it names itself (in one process, a
      // cluster's brokers share this controller).
      const id = /^-?\d+$/.test(resourceName) ? Number(resourceName) : this.options.nodeId;
      const error = brokerResourceError(resourceName, id);
      if (error) fail('INVALID_REQUEST', error);
      return { type: 'BROKER', current: { ...(image.brokerConfigs.get(resourceName) ?? {}) } };
    }
    if (resourceType === ResourceType.GROUP) {
      // Share groups' configs (Kafka's GroupConfig); the group need not exist yet.
      if (resourceName === '') fail('INVALID_REQUEST', 'Group name must not be empty.');
      return { type: 'GROUP', current: { ...(image.groupConfigs.get(resourceName) ?? {}) } };
    }
    return fail('INVALID_REQUEST', `Unsupported resource type: ${resourceTypeName(resourceType)}`);
  }

  /** The records that make `next` the overrides of the resource, after checking them. */
  private replaceConfigs(
    type: 'TOPIC' | 'BROKER' | 'GROUP',
    resourceName: string,
    current: Record<string, string>,
    next: Record<string, string>,
  ): MetadataRecord[] {
    if (type === 'GROUP') {
      const error = validateGroupConfigs(next);
      if (error) fail('INVALID_CONFIG', error);
    } else if (type === 'TOPIC') {
      this.checkTopicConfigs(next);
    } else {
      const error = BrokerConfig.validateDynamic(next);
      if (error) {
        fail(error.startsWith('Cannot update') ? 'INVALID_REQUEST' : 'INVALID_CONFIG', error);
      }
    }
    const records: MetadataRecord[] = [];
    for (const name of Object.keys(current)) {
      if (!(name in next)) {
        records.push({ type: 'ConfigRecord', resourceType: type, resourceName, name, value: null });
      }
    }
    for (const [name, value] of Object.entries(next)) {
      if (current[name] !== value) {
        records.push({ type: 'ConfigRecord', resourceType: type, resourceName, name, value });
      }
    }
    return records;
  }

  private alterEach<R extends { resourceType: number; resourceName: string }>(
    resources: readonly R[],
    validateOnly: boolean,
    plan: (image: MetadataImage, r: R) => MetadataRecord[],
  ): ApiError[] {
    const batch = new RecordBatch(this.current);
    const results = resources.map((r): ApiError => {
      try {
        const records = plan(batch.image, r);
        if (!validateOnly) batch.add(records);
        return NONE;
      } catch (err) {
        return outcome(err);
      }
    });
    this.commit(batch.records);
    return results;
  }

  async alterConfigs(resources: readonly ConfigResourceAlter[], validateOnly: boolean): Promise<ApiError[]> {
    return this.alterEach(resources, validateOnly, (image, res) => {
      const nulls = res.configs.filter((c) => c.value === null).map((c) => c.name);
      if (nulls.length > 0) {
        fail('INVALID_CONFIG', `Null value not supported for topic configs: ${nulls.join(',')}`);
      }
      const next = Object.fromEntries(res.configs.map((c) => [c.name, c.value!.trim()]));
      const { type, current } = this.configResource(image, res.resourceType, res.resourceName);
      return this.replaceConfigs(type, res.resourceName, current, next);
    });
  }

  /**
   * Per config: SET sets a value, DELETE removes an override, APPEND and SUBTRACT add or remove
   * elements of a LIST config starting from its current value (else INVALID_CONFIG "Can't APPEND to
   * key x because its type is not LIST."). The result is checked as AlterConfigs' is.
   */
  async incrementalAlterConfigs(
    resources: readonly IncrementalConfigResourceAlter[],
    validateOnly: boolean,
  ): Promise<ApiError[]> {
    return this.alterEach(resources, validateOnly, (image, res) => {
      const names = res.configs.map((c) => c.name);
      if (new Set(names).size !== names.length) {
        fail('INVALID_REQUEST', 'Error due to duplicate config keys');
      }
      const { type, current } = this.configResource(image, res.resourceType, res.resourceName);
      const configs = { ...current };
      const isTopic = type === 'TOPIC';
      for (const c of res.configs) {
        const op = OP_NAMES[c.configOperation];
        if (op === undefined) fail('INVALID_REQUEST', `Unknown operation type ${c.configOperation}`);
        if (op === 'DELETE') {
          delete configs[c.name];
          continue;
        }
        if (c.value === null) fail('INVALID_CONFIG', `Null value not supported for : ${c.name}`);
        const value = c.value!;
        if (op === 'SET') {
          configs[c.name] = value.trim();
          continue;
        }
        const def = isTopic ? topicConfigByName.get(c.name) : brokerConfigByName.get(c.name);
        if (def?.type !== 'list') {
          fail('INVALID_CONFIG', `Can't ${op} to key ${c.name} because its type is not LIST.`);
        }
        const existing =
          configs[c.name] ??
          (isTopic && topicConfigByName.has(c.name)
            ? this.config.topicDefault(topicConfigByName.get(c.name)!)
            : (this.config.get(c.name) ?? ''));
        const parts = existing
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        for (const v of value.split(',').map((s) => s.trim())) {
          if (op === 'APPEND' && !parts.includes(v)) parts.push(v);
          if (op === 'SUBTRACT') {
            const i = parts.indexOf(v);
            if (i >= 0) parts.splice(i, 1);
          }
        }
        configs[c.name] = parts.join(',');
      }
      return this.replaceConfigs(type, res.resourceName, current, configs);
    });
  }

  // --- security: SCRAM credentials and ACLs (Kafka's ScramControlManager, AclControlManager) ---

  async alterUserScramCredentials(changes: readonly ScramChangeRecord[]): Promise<void> {
    this.commitChecked(changes);
  }

  async alterAcls(changes: readonly AclChangeRecord[]): Promise<void> {
    this.commitChecked(changes);
  }

  async alterClientQuotas(
    alterations: readonly ClientQuotaAlteration[],
    validateOnly: boolean,
  ): Promise<ClientQuotaAlterationResult[]> {
    // An ip entity may name a host: resolved first, outside the (synchronous) check.
    return this.alterClientQuotasResolved(
      alterations,
      validateOnly,
      await unresolvableIpEntities(alterations),
    );
  }

  /** AlterClientQuotas once its ip entities' hosts are resolved (`unresolvable`: those that are not). */
  protected async alterClientQuotasResolved(
    alterations: readonly ClientQuotaAlteration[],
    validateOnly: boolean,
    unresolvable: ReadonlySet<string>,
  ): Promise<ClientQuotaAlterationResult[]> {
    const { records, results } = clientQuotaChanges(this.current.clientQuotas, alterations, unresolvable);
    if (!validateOnly) this.commitChecked(records);
    return results;
  }

  async changeDelegationTokens<T>(compute: (tokens: DelegationTokenImage) => TokenChange<T>): Promise<T> {
    const { records, result } = compute(this.current.delegationTokens);
    if (records.length > 0) this.commitChecked(records);
    return result;
  }

  /** Records checked against the image (a MetadataError changes nothing), then committed as one batch. */
  private commitChecked(records: readonly MetadataRecord[]): void {
    const batch = new RecordBatch(this.current);
    batch.reserve(records.length);
    batch.add(records);
    this.commit(batch.records);
  }

  /**
   * First start after the security file-store: what `kbroker-security.json` holds that the image
   * does not is written to the metadata log, then the file goes (again next start if a crash
   * came in between: what is in the image already is not written twice).
   */
  migrateLegacySecurity(dataDir: string): number {
    const records = legacySecurityRecords(dataDir, this.current.security);
    this.commit(records);
    removeLegacySecurityFile(dataDir);
    if (records.length > 0) {
      this.options.logger?.info(
        `migrated ${records.length} SCRAM credential and ACL record(s) into the metadata log`,
      );
    }
    return records.length;
  }
}

/**
 * Why a BROKER resource name is refused (Kafka's messages), or null: "" is the cluster-wide
 * default, `nodeId` this broker.
 */
export function brokerResourceError(resourceName: string, nodeId: number): string | null {
  if (resourceName === '') return null;
  if (!/^-?\d+$/.test(resourceName)) return `Broker id must be an integer, but it is: ${resourceName}`;
  if (Number(resourceName) !== nodeId) {
    return `Unexpected broker id, expected ${nodeId} or empty string, but received ${resourceName}`;
  }
  return null;
}

export interface OpenLocalControllerOptions {
  readonly dataDir: string;
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly random?: () => number;
  readonly logger?: Logger;
}

/**
 * The controller over the metadata log of `dataDir`: loaded (snapshot + replay), or at the first
 * start of a directory written before the metadata log existed, migrated from its legacy files.
 */
export function openLocalController(o: OpenLocalControllerOptions): LocalController {
  const initial = MetadataLog.exists(o.dataDir) ? [] : legacyMetadataRecords(o.dataDir, o.nodeId);
  const { log, loaded } = MetadataLog.open(
    o.dataDir,
    o.config.int('metadata.log.max.record.bytes.between.snapshots'),
    initial,
  );
  removeLegacyMetadataFiles(o.dataDir);
  const image = MetadataImage.EMPTY.apply(loaded.records, loaded.offset).image;
  if (loaded.truncatedBytes > 0) {
    o.logger?.warn(`metadata log: cut ${loaded.truncatedBytes} byte(s) of a torn or corrupt tail`);
  }
  const controller = new LocalController({
    nodeId: o.nodeId,
    config: o.config,
    log,
    image,
    ...(o.random ? { random: o.random } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
  });
  controller.migrateLegacySecurity(o.dataDir);
  return controller;
}
