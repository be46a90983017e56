/**
 * An internal topic in memory, for coordinator tests: the same batches a coordinator would write,
 * with a high watermark the test controls (`autoCommit` false holds it back until `commit()`),
 * and appends that can be made to fail (`failNext`).
 */
import type {
  CoordinatorBatch,
  CoordinatorLog,
  CoordinatorRecord,
  TransactionalProducer,
} from './coordinator-log.js';

export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly partitions = new Map<number, CoordinatorBatch[]>();
  private readonly hw = new Map<number, number>();
  private readonly listeners = new Map<number, Set<() => void>>();
  /** The next append throws this (once). */
  failNext: Error | null = null;
  /** Whether an append moves the high watermark at once (one broker); false: only `commit()` does. */
  autoCommit = true;
  created = false;

  constructor(
    readonly numPartitions = 50,
    readonly topic = '__consumer_offsets',
  ) {}

  ensureCreated(): void {
    this.created = true;
  }

  private push(partition: number, batch: Omit<CoordinatorBatch, 'lastOffset'>, count: number): number {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    const list = this.partitions.get(partition) ?? [];
    const next = this.logEndOffset(partition) + count;
    list.push({ ...batch, lastOffset: next - 1 });
    this.partitions.set(partition, list);
    if (this.autoCommit) this.commit(partition);
    return next;
  }

  append(partition: number, records: readonly CoordinatorRecord[], txn?: TransactionalProducer): number {
    if (records.length === 0) return this.logEndOffset(partition);
    return this.push(
      partition,
      {
        producerId: txn?.producerId ?? -1,
        producerEpoch: txn?.producerEpoch ?? -1,
        isTransactional: txn !== undefined,
        control: null,
        records: [...records],
      },
      records.length,
    );
  }

  appendEndTxnMarker(
    partition: number,
    result: 'COMMIT' | 'ABORT',
    txn: TransactionalProducer,
    _coordinatorEpoch: number,
  ): number {
    return this.push(
      partition,
      {
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        isTransactional: true,
        control: result,
        records: [],
      },
      1,
    );
  }

  logEndOffset(partition: number): number {
    const list = this.partitions.get(partition);
    return list && list.length > 0 ? list[list.length - 1]!.lastOffset + 1 : 0;
  }

  /** Moves the high watermark of `partition` to its end (replication caught up). */
  commit(partition: number): void {
    this.hw.set(partition, this.logEndOffset(partition));
    for (const l of [...(this.listeners.get(partition) ?? [])]) l();
  }

  *read(partition: number): Iterable<CoordinatorBatch> {
    const end = this.highWatermark(partition);
    for (const b of this.partitions.get(partition) ?? []) if (b.lastOffset < end) yield b;
  }

  highWatermark(partition: number): number {
    return this.hw.get(partition) ?? 0;
  }

  leaderEpoch(_partition: number): number {
    return 0;
  }

  onHighWatermarkChange(partition: number, listener: () => void): (() => void) | null {
    let set = this.listeners.get(partition);
    if (!set) {
      set = new Set();
      this.listeners.set(partition, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Every record written, oldest first. */
  all(): CoordinatorRecord[] {
    return [...this.partitions.values()].flat().flatMap((b) => b.records);
  }
}
