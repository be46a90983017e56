/**
 * What separate broker processes share to be one cluster, as small interfaces with Kafka's names
 * (KRaft's RaftClient, QuorumController, BrokerHeartbeatManager play these roles in Kafka):
 *
 * - `MetadataLog`: the cluster's ordered log of metadata records. Only the active controller
 *   appends, each change as one atomic batch at the offset it expects; every broker follows it
 *   and applies the batches to its MetadataImage in order. A snapshot (records that rebuild the
 *   image at an offset) replaces the batches before it, so the log does not grow without bound.
 * - `ControllerElection`: which node is the active controller, and its epoch. A leadership is
 *   what fences appends: once lost (its session expired, it resigned), its appends fail.
 * - `BrokerRegistry`: which brokers are alive (id, rack, listeners), each registration held by a
 *   session that ends when the broker stops renewing it; the controller follows registrations and
 *   expiries (and then fences the broker and moves leadership away).
 *
 * Offsets count records from the start of the log, as MetadataImage.offset does: a batch of n
 * records appended at base offset b ends at b + n, where the next one starts.
 *
 * `SharedClusterMetadata` puts the three together as a broker's SharedLogController uses them.
 * The etcd implementations are in this folder (separate processes); src/metadata/threads/ holds
 * the ones of a broker per thread in one process. Nothing here depends on etcd.
 */
import type { BrokerEndpointRecord, MetadataRecord } from '../records.js';

/** Something that delivers callbacks until closed. */
export interface Subscription {
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// Controller election

/** The active controller and its epoch (Kafka's LeaderAndEpoch); `leaderId` null while none. */
export interface LeaderAndEpoch {
  readonly leaderId: number | null;
  /** Grows by one with every election; the epoch of the last leader while there is none. */
  readonly epoch: number;
}

/** One term of this node as the active controller. */
export interface ControllerLeadership {
  readonly nodeId: number;
  readonly epoch: number;
  /** True until the term ends. */
  isActive(): boolean;
  /** Resolves when the term ends: its session was lost or expired, it resigned, or was closed. */
  readonly lost: Promise<void>;
  /** Ends the term at once, so another node can be elected without waiting for an expiry. */
  resign(): Promise<void>;
}

export interface ControllerElection {
  /**
   * Waits until this node is the active controller (rejects when `signal` aborts or the election
   * is closed). Only one leadership is active in the cluster at a time.
   */
  campaign(signal?: AbortSignal): Promise<ControllerLeadership>;
  /** The active controller now. */
  currentLeader(): Promise<LeaderAndEpoch>;
  /** Calls `listener` with the active controller, then on every change. */
  watchLeader(listener: (leader: LeaderAndEpoch) => void): Subscription;
  /** Resigns a leadership held and ends every watch. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Metadata log

export interface MetadataBatch {
  /** Offset of the first record. */
  readonly baseOffset: number;
  readonly records: readonly MetadataRecord[];
  /** Epoch of the controller that appended it. */
  readonly controllerEpoch: number;
}

/** The records that rebuild the image at `offset` from an empty one (Kafka's snapshot). */
export interface MetadataSnapshot {
  readonly offset: number;
  readonly records: readonly MetadataRecord[];
}

/** A follower of the log (Kafka's RaftClient.Listener). Calls come one at a time, in log order. */
export interface MetadataLogListener {
  /**
   * The image is the snapshot's: the follower was behind the log's start (its batches were folded
   * into a snapshot). Batches from `snapshot.offset` follow.
   */
  handleLoadSnapshot(snapshot: MetadataSnapshot): void;
  /** The next batch: its base offset is where the previous one (or the snapshot) ended. */
  handleCommit(batch: MetadataBatch): void;
  /** A failure the follower is retrying on its own (connection lost, etcd unavailable). */
  handleError?(err: Error): void;
}

export interface MetadataLog {
  /** Where the next batch goes: records ever appended, including those now in the snapshot. */
  endOffset(): Promise<number>;
  /** The first offset still kept as batches: the latest snapshot's offset, 0 without one. */
  startOffset(): Promise<number>;
  /**
   * Appends `records` as one batch at `requiredBaseOffset`, all or nothing (Kafka's
   * scheduleAtomicAppend). Fails with NOT_CONTROLLER when `leadership` is no longer the active
   * one, and with UnexpectedBaseOffsetError when the log does not end at `requiredBaseOffset`.
   * While the store is unreachable it retries for a while, then fails with an unavailability
   * error; when that error says the batch may have been applied (`maybeApplied`), the caller no
   * longer knows the log's end and must read it again before appending.
   */
  append(
    leadership: ControllerLeadership,
    requiredBaseOffset: number,
    records: readonly MetadataRecord[],
  ): Promise<{ baseOffset: number; endOffset: number }>;
  /**
   * Batches from `fromOffset` (the first trimmed when it starts inside one), at most `maxBatches`.
   * Fails with SnapshotRequiredError when `fromOffset` is below the start offset.
   */
  read(fromOffset: number, maxBatches?: number): Promise<MetadataBatch[]>;
  /** The latest snapshot, undefined when none was written. */
  latestSnapshot(): Promise<MetadataSnapshot | undefined>;
  /**
   * Makes `snapshot` the log's start and deletes the batches before it. Its offset must be the end
   * of a batch (or the log's end); only the active controller writes snapshots.
   */
  writeSnapshot(leadership: ControllerLeadership, snapshot: MetadataSnapshot): Promise<void>;
  /**
   * Follows the log from `fromOffset` (the follower's image offset): every batch after it, once
   * and in order, across lost connections; a snapshot first when `fromOffset` is below the start.
   */
  follow(fromOffset: number, listener: MetadataLogListener): Subscription;
}

// ---------------------------------------------------------------------------------------------
// Broker registry

/** What a broker announces when it starts (Kafka's BrokerRegistrationRequest, in short). */
export interface BrokerRegistrationInfo {
  readonly brokerId: number;
  readonly rack: string | null;
  readonly endpoints: readonly BrokerEndpointRecord[];
  /** Unique per start of the broker process (Kafka's incarnation id). */
  readonly incarnationId: string;
}

export interface RegisteredBroker extends BrokerRegistrationInfo {
  /** Grows with every registration of any broker (a restart gets a higher one): Kafka's broker epoch. */
  readonly brokerEpoch: number;
}

/** A broker's live registration: it lasts while the broker keeps renewing it. */
export interface BrokerSession {
  readonly broker: RegisteredBroker;
  isActive(): boolean;
  /** Resolves when the registration is gone (expired, lost, or closed). */
  readonly lost: Promise<void>;
  /** Unregisters at once (controlled shutdown). */
  close(): Promise<void>;
}

export interface BrokerRegistryListener {
  /** A broker registered (also called for each broker registered when the watch starts). */
  handleBrokerRegistered(broker: RegisteredBroker): void;
  /** A registration ended: the broker stopped, or its session expired. */
  handleBrokerUnregistered(brokerId: number, brokerEpoch: number): void;
  /** A failure the watch is retrying on its own. */
  handleError?(err: Error): void;
}

export interface BrokerRegistry {
  /** Registers this broker; fails with DUPLICATE_BROKER_REGISTRATION while another holds its id. */
  register(info: BrokerRegistrationInfo): Promise<BrokerSession>;
  /** The registered brokers now, by id. */
  registeredBrokers(): Promise<RegisteredBroker[]>;
  /** Follows registrations and their ends, without missing one across lost connections. */
  watch(listener: BrokerRegistryListener): Subscription;
}

// ---------------------------------------------------------------------------------------------
// All of it, as one broker uses it

/** What a broker's SharedLogController writes: appends with the conditions it needs. */
export interface SharedMetadataLog extends Pick<MetadataLog, 'endOffset' | 'follow' | 'writeSnapshot'> {
  /**
   * Appends as a broker, not as the controller: conditional on the log's end only, so a batch lands
   * exactly where its writer's image ended, or fails with UnexpectedBaseOffsetError.
   */
  appendAsBroker(
    requiredBaseOffset: number,
    records: readonly MetadataRecord[],
  ): Promise<{ baseOffset: number; endOffset: number }>;
  /**
   * Appends as the controller, also conditional on `brokerId` having no live registration (fencing a
   * broker whose session ended): fails with ExtraCompareFailedError when it registered again.
   */
  appendUnlessRegistered(
    leadership: ControllerLeadership,
    requiredBaseOffset: number,
    records: readonly MetadataRecord[],
    brokerId: number,
  ): Promise<{ baseOffset: number; endOffset: number }>;
}

/** The cluster metadata a broker shares with the others (etcd, or the main thread of `--threads`). */
export interface SharedClusterMetadata {
  readonly log: SharedMetadataLog;
  readonly registry: BrokerRegistry;
  /** The election this node campaigns in as a controller candidate. */
  election(nodeId: number): ControllerElection;
  /** The cluster's id: the one already set, else `proposed` becomes it (the first broker's). */
  clusterId(proposed: string): Promise<string>;
  /** Ends every watch and connection (sessions are left to end; close them first to leave at once). */
  close(): void;
}
