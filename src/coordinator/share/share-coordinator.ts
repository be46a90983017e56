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
 * Partitions load on first use while this broker leads them (replay), unload when leadership
 * moves. It serves the partition leaders' persister (`ShareStatePersister`) in-process; Kafka's
 * Read/Write/Initialize/DeleteShareGroupState RPCs between brokers are not served.
 */
import type { Logger } from '../../common/logger.js';
import type { Time } from '../../common/time.js';
import { decode, encode } from '../../protocol/codec.js';
import {
  type ShareSnapshotValueData,
  type ShareUpdateValueData,
  shareCoordinatorRecords,
} from '../../protocol/generated/messages.js';
import type { MessageSpec } from '../../protocol/spec.js';
import type { PersistedStateBatch } from '../../replication/share-partition.js';
import type { ShareStatePersister, StoredShareState } from '../../replication/share-partition-manager.js';
import { javaStringHashCode } from '../offsets-topic.js';
import type { CoordinatorLog, CoordinatorRecord } from '../runtime/coordinator-log.js';
import { CoordinatorRuntime, type CoordinatorShard } from '../runtime/coordinator-runtime.js';

export const SHARE_GROUP_STATE_TOPIC_NAME = '__share_group_state';
/** Kafka's share.coordinator.snapshot.update.records.per.snapshot default. */
export const UPDATES_PER_SNAPSHOT = 500;

const SNAPSHOT = 0;
const UPDATE = 1;

function specs(type: number): { key: MessageSpec; value: MessageSpec } {
  const s = shareCoordinatorRecords.get(type);
  if (!s) throw new Error(`no share coordinator record type ${type}`);
  return s;
}

function prefixed(version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, 2);
  return out;
}

interface Key {
  groupId: string;
  topicId: string;
  partition: number;
}

function record(type: number, key: Key, value: object | null): CoordinatorRecord {
  const s = specs(type);
  return {
    key: prefixed(type, encode(s.key, 0, key)),
    value: value === null ? null : prefixed(0, encode(s.value, 0, value)),
  };
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
    const s = specs(type);
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
      state.leaderEpoch = v.leaderEpoch;
      applyBatches(state, v.startOffset, v.stateBatches);
      state.updates += 1;
    }
  }

  replayEndTransactionMarker(): void {}
}

export class ShareCoordinator implements ShareStatePersister {
  readonly runtime: CoordinatorRuntime<ShareCoordinatorShard>;

  constructor(
    private readonly stateLog: CoordinatorLog & { partitionLedHere(p: number): boolean },
    private readonly time: Time,
    private readonly logger: Logger,
    writeTimeoutMs: number,
  ) {
    this.runtime = new CoordinatorRuntime<ShareCoordinatorShard>({
      name: 'ShareCoordinator',
      log: stateLog,
      time,
      logger,
      writeTimeoutMs,
      newShard: () => new ShareCoordinatorShard(),
    });
  }

  /** Kafka's partitionFor(SharePartitionKey): abs(hashCode("group:topicId:partition")) % partitions. */
  partitionFor(groupId: string, topicId: string, partition: number): number {
    const h = javaStringHashCode(`${groupId}:${topicId}:${partition}`);
    return (h === -2147483648 ? 0 : Math.abs(h)) % this.stateLog.numPartitions;
  }

  /** The partition, loaded (replayed) on first use while this broker leads it. */
  private loaded(groupId: string, topicId: string, partition: number): number {
    const p = this.partitionFor(groupId, topicId, partition);
    if (!this.runtime.isLoaded(p)) {
      if (!this.stateLog.partitionLedHere(p)) return p; // the write then fails with NOT_COORDINATOR
      this.runtime.load(p);
      this.logger.debug(`share coordinator: ${SHARE_GROUP_STATE_TOPIC_NAME}-${p} loaded`);
    }
    return p;
  }

  /** Leadership of a `__share_group_state` partition moved away: it unloads. */
  unloadPartition(p: number): void {
    this.runtime.unload(p);
  }

  close(): void {
    this.runtime.close();
  }

  read(groupId: string, topicId: string, partition: number): Promise<StoredShareState | undefined> {
    const p = this.loaded(groupId, topicId, partition);
    if (!this.runtime.isLoaded(p)) return Promise.resolve(undefined);
    const s = this.runtime.shard(p)!.states.get(keyString({ groupId, topicId, partition }));
    return Promise.resolve(
      s && { startOffset: s.startOffset, stateEpoch: s.stateEpoch, stateBatches: batchesOf(s) },
    );
  }

  /** The stored states of a group (DescribeShareGroupOffsets), by `topicId:partition`. */
  describe(
    groupId: string,
    topicId: string,
    partition: number,
  ): (StoredShareState & { leaderEpoch: number }) | undefined {
    const p = this.loaded(groupId, topicId, partition);
    const s = this.runtime.shard(p)?.states.get(keyString({ groupId, topicId, partition }));
    return (
      s && {
        startOffset: s.startOffset,
        stateEpoch: s.stateEpoch,
        leaderEpoch: s.leaderEpoch,
        stateBatches: batchesOf(s),
      }
    );
  }

  write(
    groupId: string,
    topicId: string,
    partition: number,
    leaderEpoch: number,
    startOffset: number,
    batches: PersistedStateBatch[],
  ): Promise<void> {
    const key = { groupId, topicId, partition };
    const p = this.loaded(groupId, topicId, partition);
    return this.runtime.scheduleWriteOperation<void>(p, (shard) => {
      const now = this.time.now();
      const s = shard.states.get(keyString(key));
      if (s && s.updates < UPDATES_PER_SNAPSHOT) {
        return {
          records: [
            record(UPDATE, key, {
              snapshotEpoch: 0,
              leaderEpoch,
              startOffset,
              stateBatches: batches,
            } satisfies ShareUpdateValueData),
          ],
          response: undefined,
        };
      }
      // The first state, or enough updates: the whole state folded into a new snapshot.
      const next: State = s
        ? { ...s, offsets: new Map(s.offsets), updates: 0 }
        : { stateEpoch: 0, leaderEpoch, startOffset, createTimestamp: now, offsets: new Map(), updates: 0 };
      applyBatches(next, startOffset, batches);
      return { records: [this.snapshotRecord(key, next, leaderEpoch, now)], response: undefined };
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

  /** AlterShareGroupOffsets: a new snapshot at `startOffset`, nothing in flight, the state epoch bumped. */
  alter(groupId: string, topicId: string, partition: number, startOffset: number): Promise<void> {
    const key = { groupId, topicId, partition };
    const p = this.loaded(groupId, topicId, partition);
    return this.runtime.scheduleWriteOperation<void>(p, (shard) => {
      const now = this.time.now();
      const s = shard.states.get(keyString(key));
      const next: State = {
        stateEpoch: (s?.stateEpoch ?? -1) + 1,
        leaderEpoch: s?.leaderEpoch ?? -1,
        startOffset,
        createTimestamp: now,
        offsets: new Map(),
        updates: 0,
      };
      return { records: [this.snapshotRecord(key, next, next.leaderEpoch, now)], response: undefined };
    });
  }

  /** DeleteGroups / DeleteShareGroupOffsets: tombstones for the share-partition's state. */
  delete(groupId: string, topicId: string, partition: number): Promise<void> {
    const key = { groupId, topicId, partition };
    const p = this.loaded(groupId, topicId, partition);
    return this.runtime.scheduleWriteOperation<void>(p, () => ({
      records: [record(UPDATE, key, null), record(SNAPSHOT, key, null)],
      response: undefined,
    }));
  }
}
