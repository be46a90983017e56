/**
 * The share coordinator (KIP-932, Kafka's ShareCoordinatorService/Shard): the durable state of
 * every share-partition in `__share_group_state`, with Kafka's records
 * (../shared/kafka-protocol-4.3.1/share-coordinator):
 * - 0 ShareSnapshot: the whole state of one share-partition (key group, topic id, partition):
 *   state epoch, leader epoch, start offset, the in-flight batches (delivery state and count);
 * - 1 ShareUpdate: what changed since (start offset, changed batches), folded over the snapshot
 *   on replay; after `UPDATES_PER_SNAPSHOT` updates the next write is a snapshot again (Kafka's
 *   share.coordinator.snapshot.update.records.per.snapshot), so compaction keeps the topic small;
 * - tombstones for both keys delete the state (DeleteGroups, DeleteShareGroupOffsets).
 * The partition of a key is Kafka's: abs(hashCode("group:topicId:partition")) % partitions.
 * Partitions load (replay) when leadership of them arrives here (or on first use while led here)
 * and unload when it moves. The share-partition leaders reach it through their persister
 * (`share-persister.ts`): directly on this broker, else with the share-state RPCs (handlers
 * `*-share-group-state*.ts`).
 */
import type { Logger } from '../../common/logger.js';
import type { Time } from '../../common/time.js';
import { decode } from '../../protocol/codec.js';
import {
  type ShareSnapshotValueData,
  type ShareUpdateValueData,
  shareCoordinatorRecords,
} from '../../protocol/generated/messages.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import type { PersistedStateBatch } from '../../replication/share-partition.js';
import { javaStringHashCode } from '../offsets-topic.js';
import type { CoordinatorLog, CoordinatorRecord } from '../runtime/coordinator-log.js';
import {
  CoordinatorError,
  CoordinatorRuntime,
  type CoordinatorShard,
} from '../runtime/coordinator-runtime.js';
import { recordSpecs, registryRecord } from '../runtime/record-codec.js';

export const SHARE_GROUP_STATE_TOPIC_NAME = '__share_group_state';
/** Kafka's share.coordinator.snapshot.update.records.per.snapshot default. */
export const UPDATES_PER_SNAPSHOT = 500;

const SNAPSHOT = 0;
const UPDATE = 1;

const SHARE_RECORDS = 'share coordinator';

interface Key {
  groupId: string;
  topicId: string;
  partition: number;
}

function record(type: number, key: Key, value: object | null): CoordinatorRecord {
  return registryRecord(shareCoordinatorRecords, SHARE_RECORDS, type, key, value);
}

interface State {
  stateEpoch: number;
  leaderEpoch: number;
  startOffset: number;
  createTimestamp: number;
  /** offset → [deliveryState, deliveryCount], offsets ≥ startOffset only. */
  offsets: Map<number, [number, number]>;
  updates: number;
}

function keyString(k: Key): string {
  return `${k.groupId}:${k.topicId}:${k.partition}`;
}

function applyBatches(s: State, startOffset: number, batches: readonly PersistedStateBatch[]): void {
  if (startOffset >= 0 && startOffset !== s.startOffset) {
    s.startOffset = startOffset;
    for (const o of [...s.offsets.keys()]) if (o < startOffset) s.offsets.delete(o);
  }
  for (const b of batches)
    for (let o = Math.max(b.firstOffset, s.startOffset); o <= b.lastOffset; o++)
      s.offsets.set(o, [b.deliveryState, b.deliveryCount]);
}

function batchesOf(s: State): PersistedStateBatch[] {
  const out: PersistedStateBatch[] = [];
  for (const o of [...s.offsets.keys()].sort((a, b) => a - b)) {
    const [deliveryState, deliveryCount] = s.offsets.get(o)!;
    const last = out[out.length - 1];
    if (
      last &&
      last.lastOffset === o - 1 &&
      last.deliveryState === deliveryState &&
      last.deliveryCount === deliveryCount
    )
      last.lastOffset = o;
    else out.push({ firstOffset: o, lastOffset: o, deliveryState, deliveryCount });
  }
  return out;
}

export class ShareCoordinatorShard implements CoordinatorShard {
  readonly states = new Map<string, State>();

  replay(rec: CoordinatorRecord): void {
    if (rec.key.length < 2) return;
    const type = rec.key.readInt16BE(0);
    if (type !== SNAPSHOT && type !== UPDATE) return;
    const s = recordSpecs(shareCoordinatorRecords, SHARE_RECORDS, type);
    const key = decode<Key>(s.key, 0, rec.key.subarray(2));
    const k = keyString(key);
    if (rec.value === null) {
      if (type === SNAPSHOT) this.states.delete(k);
      return;
    }
    const version = Math.min(rec.value.readInt16BE(0), s.value.validVersions![1]);
    if (type === SNAPSHOT) {
      const v = decode<ShareSnapshotValueData>(s.value, version, rec.value.subarray(2));
      const state: State = {
        stateEpoch: v.stateEpoch,
        leaderEpoch: v.leaderEpoch,
        startOffset: v.startOffset,
        createTimestamp: v.createTimestamp,
        offsets: new Map(),
        updates: 0,
      };
      applyBatches(state, v.startOffset, v.stateBatches);
      this.states.set(k, state);
    } else {
      const state = this.states.get(k);
      if (!state) return; // an update without its snapshot (deleted since): nothing to fold into
      const v = decode<ShareUpdateValueData>(s.value, version, rec.value.subarray(2));
      if (v.leaderEpoch >= 0) state.leaderEpoch = v.leaderEpoch;
      applyBatches(state, v.startOffset, v.stateBatches);
      state.updates += 1;
    }
  }

  replayEndTransactionMarker(): void {}
}

/** What ReadShareGroupState answers: the stored state (start offset -1 when never initialized). */
export interface ShareStateRead {
  stateEpoch: number;
  leaderEpoch: number;
  startOffset: number;
  stateBatches: PersistedStateBatch[];
}

/** What ReadShareGroupStateSummary answers. */
export interface ShareStateSummary {
  stateEpoch: number;
  leaderEpoch: number;
  startOffset: number;
  /** Offsets ≥ startOffset whose delivery is complete (acknowledged or archived). */
  deliveryCompleteCount: number;
}

/** Kafka's SharePartitionKey.asCoordinatorKey(): "groupId:topicId:partition". */
export function shareCoordinatorKey(groupId: string, topicId: string, partition: number): string {
  return `${groupId}:${topicId}:${partition}`;
}

/** Kafka's partitionFor of a share coordinator key: abs(hashCode(key)) % partitions. */
export function sharePartitionFor(key: string, partitions: number): number {
  const h = javaStringHashCode(key);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

/**
 * The share coordinator's operations are Kafka's five share-state RPCs, each on one key:
 * InitializeShareGroupState, ReadShareGroupState, WriteShareGroupState, DeleteShareGroupState,
 * ReadShareGroupStateSummary. They run on the loaded `__share_group_state` partition of the key and
 * reject with a KafkaError: NOT_COORDINATOR when this broker does not lead it (the persister finds
 * the coordinator again), FENCED_LEADER_EPOCH when the caller's leader epoch is older than one
 * stored (a deposed share-partition leader), FENCED_STATE_EPOCH when its state epoch is older (the
 * state was re-initialized since, AlterShareGroupOffsets), INVALID_REQUEST for a bad key. A leader
 * epoch or state epoch of -1 is not checked (DescribeShareGroupOffsets reads without one).
 */
export interface ShareCoordinatorLimits {
  /**
   * Offsets one share-partition's state may hold (its in-flight records, bounded on the leader by
   * group.share.partition.max.record.locks): a write beyond it is INVALID_REQUEST, so that a bad
   * request cannot make the state (kept per offset) grow without bound.
   */
  maxStateOffsets: number;
  /** Whether the topic partition exists (Kafka answers UNKNOWN_TOPIC_OR_PARTITION otherwise). */
  partitionExists(topicId: string, partition: number): boolean;
}

/**
 * The share-partition of a request does not exist: UNKNOWN_TOPIC_OR_PARTITION as is (not the
 * coordinator's translation of a missing `__share_group_state` partition).
 */
export class UnknownSharePartitionError extends KafkaError {
  override name = 'UnknownSharePartitionError';
}

/** Offsets of a state at most, by default (Kafka bounds group.share.partition.max.record.locks at 10,000). */
export const MAX_STATE_OFFSETS = 10_000;

export class ShareCoordinator {
  readonly runtime: CoordinatorRuntime<ShareCoordinatorShard>;
  private readonly limits: ShareCoordinatorLimits;

  constructor(
    private readonly stateLog: CoordinatorLog & {
      partitionLedHere(p: number): boolean;
      ensureCreated?(): void;
    },
    private readonly time: Time,
    private readonly logger: Logger,
    writeTimeoutMs: number,
    limits: Partial<ShareCoordinatorLimits> = {},
  ) {
    this.limits = {
      maxStateOffsets: limits.maxStateOffsets ?? MAX_STATE_OFFSETS,
      partitionExists: limits.partitionExists ?? (() => true),
    };
    this.runtime = new CoordinatorRuntime<ShareCoordinatorShard>({
      name: 'ShareCoordinator',
      log: stateLog,
      time,
      logger,
      writeTimeoutMs,
      newShard: () => new ShareCoordinatorShard(),
    });
  }

  get numPartitions(): number {
    return this.stateLog.numPartitions;
  }

  /** Kafka's partitionFor(SharePartitionKey): abs(hashCode("group:topicId:partition")) % partitions. */
  partitionFor(groupId: string, topicId: string, partition: number): number {
    return sharePartitionFor(shareCoordinatorKey(groupId, topicId, partition), this.stateLog.numPartitions);
  }

  /** FindCoordinator key type SHARE: creates `__share_group_state` on first use, as Kafka does. */
  ensureStateTopic(): void {
    this.stateLog.ensureCreated?.();
  }

  /** The partition, loaded (replayed) on first use while this broker leads it. */
  private loaded(groupId: string, topicId: string, partition: number): number {
    if (groupId === '') throw new KafkaError('INVALID_REQUEST', 'Group id must be set.');
    if (partition < 0) throw new KafkaError('INVALID_REQUEST', 'Partition id must not be negative.');
    if (!this.limits.partitionExists(topicId, partition))
      throw new UnknownSharePartitionError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        'This server does not host this topic-partition.',
      );
    const p = this.partitionFor(groupId, topicId, partition);
    if (!this.runtime.isLoaded(p) && this.stateLog.partitionLedHere(p)) this.loadPartition(p);
    if (!this.runtime.isLoaded(p))
      throw new CoordinatorError(
        'NOT_COORDINATOR',
        `This is not the share coordinator of ${SHARE_GROUP_STATE_TOPIC_NAME}-${p}.`,
      );
    return p;
  }

  /** Leadership of a `__share_group_state` partition arrived here: it is loaded by replay. */
  loadPartition(p: number): void {
    this.runtime.load(p);
    this.logger.debug(`share coordinator: ${SHARE_GROUP_STATE_TOPIC_NAME}-${p} loaded`);
  }

  /** Leadership of a `__share_group_state` partition moved away: it unloads. */
  unloadPartition(p: number): void {
    if (!this.runtime.isLoaded(p)) return;
    this.runtime.unload(p);
    this.logger.debug(`share coordinator: ${SHARE_GROUP_STATE_TOPIC_NAME}-${p} unloaded`);
  }

  isPartitionLoaded(p: number): boolean {
    return this.runtime.isLoaded(p);
  }

  close(): void {
    this.runtime.close();
  }

  /**
   * ReadShareGroupState: the stored state; start offset -1 when never initialized. A leader epoch
   * newer than the stored one is stored (a ShareUpdate), so that the deposed leader's writes are
   * fenced from then on, also after this partition moves.
   */
  readState(
    groupId: string,
    topicId: string,
    partition: number,
    leaderEpoch: number,
  ): Promise<ShareStateRead> {
    const key = { groupId, topicId, partition };
    let p: number;
    try {
      p = this.loaded(groupId, topicId, partition);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.runtime.scheduleWriteOperation<ShareStateRead>(p, (shard) => {
      const s = shard.states.get(keyString(key));
      if (!s)
        return {
          records: [],
          response: { stateEpoch: 0, leaderEpoch: -1, startOffset: -1, stateBatches: [] },
        };
      if (leaderEpoch >= 0 && s.leaderEpoch > leaderEpoch)
        throw new KafkaError(
          'FENCED_LEADER_EPOCH',
          'The leader epoch in the request is older than the one stored.',
        );
      const response = {
        stateEpoch: s.stateEpoch,
        leaderEpoch: Math.max(s.leaderEpoch, leaderEpoch),
        startOffset: s.startOffset,
        stateBatches: batchesOf(s),
      };
      if (leaderEpoch <= s.leaderEpoch) return { records: [], response };
      return {
        records: [
          record(UPDATE, key, {
            snapshotEpoch: 0,
            leaderEpoch,
            startOffset: -1,
            stateBatches: [],
          } satisfies ShareUpdateValueData),
        ],
        response,
      };
    });
  }

  /** ReadShareGroupStateSummary: epochs, start offset and the records done with above it. */
  readStateSummary(
    groupId: string,
    topicId: string,
    partition: number,
    leaderEpoch: number,
  ): ShareStateSummary {
    const p = this.loaded(groupId, topicId, partition);
    return this.runtime.scheduleReadOperation(p, (shard) => {
      const s = shard.states.get(keyString({ groupId, topicId, partition }));
      if (!s) return { stateEpoch: 0, leaderEpoch: -1, startOffset: -1, deliveryCompleteCount: 0 };
      if (leaderEpoch >= 0 && s.leaderEpoch > leaderEpoch)
        throw new KafkaError(
          'FENCED_LEADER_EPOCH',
          'The leader epoch in the request is older than the one stored.',
        );
      let complete = 0;
      for (const [o, [state]] of s.offsets)
        if (o >= s.startOffset && (state === 2 || state === 4)) complete++;
      return {
        stateEpoch: s.stateEpoch,
        leaderEpoch: s.leaderEpoch,
        startOffset: s.startOffset,
        deliveryCompleteCount: complete,
      };
    });
  }

  /**
   * WriteShareGroupState: what changed (start offset, changed batches) as a ShareUpdate, or a
   * ShareSnapshot when it is the first state or enough updates were written since the last one.
   */
  writeState(
    groupId: string,
    topicId: string,
    partition: number,
    stateEpoch: number,
    leaderEpoch: number,
    startOffset: number,
    batches: readonly PersistedStateBatch[],
  ): Promise<void> {
    const key = { groupId, topicId, partition };
    let p: number;
    let span = 0;
    try {
      p = this.loaded(groupId, topicId, partition);
      for (const b of batches) {
        if (b.firstOffset < 0 || b.lastOffset < b.firstOffset)
          throw new KafkaError('INVALID_REQUEST', 'Invalid state batch offsets.');
        if (b.deliveryState !== 0 && b.deliveryState !== 2 && b.deliveryState !== 4)
          throw new KafkaError('INVALID_REQUEST', `Invalid delivery state ${b.deliveryState}.`);
        span += b.lastOffset - b.firstOffset + 1;
      }
      if (span > this.limits.maxStateOffsets)
        throw new KafkaError(
          'INVALID_REQUEST',
          'The state batches hold more offsets than a share-partition may.',
        );
    } catch (err) {
      return Promise.reject(err);
    }
    return this.runtime.scheduleWriteOperation<void>(p, (shard) => {
      const now = this.time.now();
      const s = shard.states.get(keyString(key));
      if (s && s.offsets.size + span > this.limits.maxStateOffsets)
        throw new KafkaError(
          'INVALID_REQUEST',
          'The state would hold more offsets than a share-partition may.',
        );
      if (s && leaderEpoch >= 0 && s.leaderEpoch > leaderEpoch)
        throw new KafkaError(
          'FENCED_LEADER_EPOCH',
          'The leader epoch in the request is older than the one stored.',
        );
      if (s && stateEpoch >= 0 && s.stateEpoch > stateEpoch)
        throw new KafkaError(
          'FENCED_STATE_EPOCH',
          'The state epoch in the request is older than the one stored.',
        );
      if (s && s.updates < UPDATES_PER_SNAPSHOT) {
        return {
          records: [
            record(UPDATE, key, {
              snapshotEpoch: 0,
              leaderEpoch,
              startOffset,
              stateBatches: [...batches],
            } satisfies ShareUpdateValueData),
          ],
          response: undefined,
        };
      }
      // The first state, or enough updates: the whole state folded into a new snapshot.
      const next: State = s
        ? { ...s, offsets: new Map(s.offsets), updates: 0 }
        : {
            stateEpoch: Math.max(0, stateEpoch),
            leaderEpoch,
            startOffset,
            createTimestamp: now,
            offsets: new Map(),
            updates: 0,
          };
      applyBatches(next, startOffset, batches);
      return {
        records: [this.snapshotRecord(key, next, leaderEpoch < 0 ? next.leaderEpoch : leaderEpoch, now)],
        response: undefined,
      };
    });
  }

  private snapshotRecord(key: Key, s: State, leaderEpoch: number, now: number): CoordinatorRecord {
    return record(SNAPSHOT, key, {
      snapshotEpoch: 0,
      stateEpoch: s.stateEpoch,
      leaderEpoch,
      startOffset: s.startOffset,
      createTimestamp: s.createTimestamp,
      writeTimestamp: now,
      stateBatches: batchesOf(s),
    } satisfies ShareSnapshotValueData);
  }

  /**
   * InitializeShareGroupState: the state restarts at `startOffset` with nothing in flight, at
   * `stateEpoch` (AlterShareGroupOffsets passes the stored one + 1); an older state epoch than the
   * stored one is FENCED_STATE_EPOCH.
   */
  initializeState(
    groupId: string,
    topicId: string,
    partition: number,
    stateEpoch: number,
    startOffset: number,
  ): Promise<void> {
    const key = { groupId, topicId, partition };
    let p: number;
    try {
      p = this.loaded(groupId, topicId, partition);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.runtime.scheduleWriteOperation<void>(p, (shard) => {
      const now = this.time.now();
      const s = shard.states.get(keyString(key));
      if (s && s.stateEpoch > stateEpoch)
        throw new KafkaError(
          'FENCED_STATE_EPOCH',
          'The state epoch in the request is older than the one stored.',
        );
      const next: State = {
        stateEpoch,
        leaderEpoch: s?.leaderEpoch ?? -1,
        startOffset,
        createTimestamp: now,
        offsets: new Map(),
        updates: 0,
      };
      return { records: [this.snapshotRecord(key, next, next.leaderEpoch, now)], response: undefined };
    });
  }

  /** DeleteShareGroupState (DeleteGroups, DeleteShareGroupOffsets): tombstones for the state. */
  deleteState(groupId: string, topicId: string, partition: number): Promise<void> {
    const key = { groupId, topicId, partition };
    let p: number;
    try {
      p = this.loaded(groupId, topicId, partition);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.runtime.scheduleWriteOperation<void>(p, () => ({
      records: [record(UPDATE, key, null), record(SNAPSHOT, key, null)],
      response: undefined,
    }));
  }
}
