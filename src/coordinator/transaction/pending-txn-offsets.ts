/**
 * Offsets committed inside transactions (TxnOffsetCommit), as Kafka's GroupMetadata pending
 * transactional offset commits: written to `__consumer_offsets` in a transactional batch of the
 * producer, held here per producer and group, and handed to the group coordinator only when the
 * COMMIT marker is written to that `__consumer_offsets` partition (dropped on ABORT). After a
 * restart, the open transactions of each `__consumer_offsets` partition (its producer state) are
 * read back so that their markers still complete them. An offset tombstone (a deleted topic)
 * cancels what was staged for that group and partition, live and on replay, as in Kafka's
 * OffsetMetadataManager.
 */

import type { Logger } from '../../common/logger.js';
import { CONTROL_FLAG_MASK, TRANSACTIONAL_FLAG_MASK } from '../../protocol/record-batch.js';
import { decodeRecordBatches } from '../../protocol/records.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import type { GroupCoordinator } from '../group-coordinator.js';
import {
  decodeOffsetCommitValue,
  GROUP_METADATA_TOPIC_NAME,
  type OffsetAndMetadata,
  tryDecodeCoordinatorKey,
} from '../offsets-topic.js';

export interface TxnOffset {
  topic: string;
  partition: number;
  value: OffsetAndMetadata;
}

const READ_CHUNK = 1024 * 1024;

export class PendingTxnOffsets {
  /** producerId → groupId → "topic\0partition" → offset. */
  private readonly byProducer = new Map<number, Map<string, Map<string, TxnOffset>>>();

  constructor(
    private readonly groupCoordinator: GroupCoordinator,
    private readonly replicaManager: ReplicaManager,
    private readonly log: Logger,
  ) {}

  stage(producerId: number, groupId: string, offsets: readonly TxnOffset[]): void {
    let groups = this.byProducer.get(producerId);
    if (!groups) {
      groups = new Map();
      this.byProducer.set(producerId, groups);
    }
    let byKey = groups.get(groupId);
    if (!byKey) {
      byKey = new Map();
      groups.set(groupId, byKey);
    }
    for (const o of offsets) byKey.set(`${o.topic}\u0000${o.partition}`, o);
  }

  /** Whether a transaction has offsets staged for this group partition (KIP-447 requireStable). */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    for (const groups of this.byProducer.values()) {
      if (groups.get(groupId)?.has(`${topic}\u0000${partition}`)) return true;
    }
    return false;
  }

  /** The marker for `producerId` was written to `__consumer_offsets-<offsetsPartition>`. */
  complete(producerId: number, offsetsPartition: number, commit: boolean): void {
    const groups = this.byProducer.get(producerId);
    if (!groups) return;
    for (const [groupId, byKey] of [...groups]) {
      if (this.groupCoordinator.partitionFor(groupId) !== offsetsPartition) continue;
      if (commit) this.groupCoordinator.applyCommittedTxnOffsets(groupId, [...byKey.values()]);
      groups.delete(groupId);
    }
    if (groups.size === 0) this.byProducer.delete(producerId);
  }

  /**
   * Drops what open transactions staged for `partitions` (a topic deletion, Kafka's
   * `onPartitionsDeleted`), so that their COMMIT does not bring the offsets back; returns what was
   * dropped, for the group coordinator to write tombstones.
   */
  removePartitions(
    partitions: readonly { topic: string; partition: number }[],
  ): { groupId: string; topic: string; partition: number }[] {
    const removed: { groupId: string; topic: string; partition: number }[] = [];
    if (this.byProducer.size === 0) return removed;
    const keys = new Set(partitions.map((tp) => `${tp.topic}\u0000${tp.partition}`));
    for (const [producerId, groups] of this.byProducer) {
      for (const [groupId, byKey] of groups) {
        for (const [k, o] of byKey) {
          if (!keys.has(k)) continue;
          byKey.delete(k);
          removed.push({ groupId, topic: o.topic, partition: o.partition });
        }
        if (byKey.size === 0) groups.delete(groupId);
      }
      if (groups.size === 0) this.byProducer.delete(producerId);
    }
    return removed;
  }

  /** A tombstone for the offset of `groupId` on topic-partition `key` drops what open transactions staged for it. */
  private dropStaged(groupId: string, key: string): void {
    for (const [producerId, groups] of this.byProducer) {
      const byKey = groups.get(groupId);
      if (!byKey?.delete(key)) continue;
      if (byKey.size === 0) groups.delete(groupId);
      if (groups.size === 0) this.byProducer.delete(producerId);
    }
  }

  clear(): void {
    this.byProducer.clear();
  }

  /** Stages again the offsets of transactions still open in `__consumer_offsets` (after a restart). */
  loadPending(): void {
    const topic = this.replicaManager.topic(GROUP_METADATA_TOPIC_NAME);
    if (!topic) return;
    for (const p of topic.partitions) {
      const open = p.log.producerStateManager.ongoingTransactions();
      if (open.length === 0) continue;
      const producers = new Set(open.map((t) => t.producerId));
      let offset = open[0]!.firstOffset;
      const end = p.logEndOffset;
      while (offset < end) {
        const read = p.log.read(offset, READ_CHUNK, true, end);
        if ('error' in read || !read.records) break;
        const batches = decodeRecordBatches(read.records);
        if (batches.length === 0) break;
        for (const b of batches) {
          offset = b.lastOffset + 1;
          if ((b.attributes & CONTROL_FLAG_MASK) !== 0) continue;
          if ((b.attributes & TRANSACTIONAL_FLAG_MASK) === 0) {
            // An offset tombstone written after the staging (the topic was deleted) cancels it.
            for (const r of b.records) {
              if (r.key === null || r.value !== null) continue;
              const key = tryDecodeCoordinatorKey(r.key);
              if (key instanceof Error || key.type !== 'offset') continue;
              this.dropStaged(key.group, `${key.topic}\u0000${key.partition}`);
            }
            continue;
          }
          if (!producers.has(b.producerId)) continue;
          for (const r of b.records) {
            if (r.key === null || r.value === null) continue;
            const key = tryDecodeCoordinatorKey(r.key);
            if (key instanceof Error || key.type !== 'offset') continue;
            try {
              this.stage(b.producerId, key.group, [
                { topic: key.topic, partition: key.partition, value: decodeOffsetCommitValue(r.value) },
              ]);
            } catch (err) {
              this.log.warn(`${p.topic}-${p.partition}: skipping an unreadable transactional offset: ${err}`);
            }
          }
        }
      }
    }
  }
}
