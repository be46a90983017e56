// Per-partition producer state, as Kafka's ProducerStateManager / ProducerStateEntry / ProducerAppendInfo:
// for every producer id the epoch, the coordinator epoch, the metadata of its last 5 batches (to answer
// retried batches with their original offsets), and the first offset of its open transaction. Open
// transactions give the first unstable offset (hence the last stable offset); each COMMIT/ABORT marker
// completes one. Persisted as Kafka's `<20-digit offset>.snapshot` files (storage-format.md §6): version 1,
// CRC-32C, and for each producer its newest batch only. The Log drives it and replays batches after the
// newest snapshot on load.
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorName } from '../protocol/generated/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { crc32c, readInt64, writeInt64 } from '../protocol/record-batch.js';

export const PRODUCER_SNAPSHOT_FILE_SUFFIX = '.snapshot';
export const PRODUCER_SNAPSHOT_VERSION = 1;
const SNAPSHOT_HEADER_SIZE = 10;
const SNAPSHOT_ENTRY_SIZE = 46;
/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN. */
export const NUM_BATCHES_TO_RETAIN = 5;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
const INT32_MAX = 0x7fffffff;
const SNAPSHOT_FILE_RE = /^(\d{20})\.snapshot$/;

/** Who appends: a producer (sequences validated), the transaction coordinator (markers), or log replay. */
export type AppendOrigin = 'client' | 'coordinator' | 'replication';

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Int.MAX to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

export function decrementSequence(sequence: number, decrement: number): number {
  if (sequence < decrement) return INT32_MAX - (decrement - sequence) + 1;
  return sequence - decrement;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export interface BatchMetadata {
  lastSeq: number;
  lastOffset: number;
  offsetDelta: number;
  timestamp: number;
}

export const firstSeqOf = (b: BatchMetadata): number => decrementSequence(b.lastSeq, b.offsetDelta);
export const firstOffsetOf = (b: BatchMetadata): number => b.lastOffset - b.offsetDelta;

export class ProducerStateEntry {
  constructor(
    readonly producerId: number,
    public producerEpoch: number,
    public coordinatorEpoch: number,
    public lastTimestamp: number,
    /** First offset of the producer's open transaction in this partition, -1 when none. */
    public currentTxnFirstOffset: number,
    readonly batchMetadata: BatchMetadata[] = [],
  ) {}

  get isEmpty(): boolean {
    return this.batchMetadata.length === 0;
  }

  get lastSeq(): number {
    return this.batchMetadata.at(-1)?.lastSeq ?? NO_SEQUENCE;
  }

  get lastDataOffset(): number {
    return this.batchMetadata.at(-1)?.lastOffset ?? -1;
  }

  /** A new epoch forgets the batches of the old one. */
  maybeUpdateProducerEpoch(epoch: number): void {
    if (epoch !== this.producerEpoch) {
      this.batchMetadata.length = 0;
      this.producerEpoch = epoch;
    }
  }

  addBatch(epoch: number, lastSeq: number, lastOffset: number, offsetDelta: number, timestamp: number): void {
    this.maybeUpdateProducerEpoch(epoch);
    if (this.batchMetadata.length === NUM_BATCHES_TO_RETAIN) this.batchMetadata.shift();
    this.batchMetadata.push({ lastSeq, lastOffset, offsetDelta, timestamp });
    this.lastTimestamp = timestamp;
  }

  /** The cached batch with exactly this epoch and sequence range (a retried batch), or null. */
  findDuplicateBatch(epoch: number, firstSeq: number, lastSeq: number): BatchMetadata | null {
    if (epoch !== this.producerEpoch) return null;
    return this.batchMetadata.find((b) => firstSeqOf(b) === firstSeq && b.lastSeq === lastSeq) ?? null;
  }
}

/** The producer fields of one batch header, with the offsets the log assigned. */
export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  isTransactional: boolean;
  /** COMMIT/ABORT marker carried by a control batch; null for data batches. */
  marker: { type: 'COMMIT' | 'ABORT'; coordinatorEpoch: number } | null;
}

export interface CompletedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  isAborted: boolean;
}

export interface OngoingTxn {
  producerId: number;
  firstOffset: number;
}

/** An append refused by producer state: Kafka's error and message. */
export class ProducerStateError extends KafkaError {
  override name = 'ProducerStateError';
  constructor(error: ErrorName, message: string) {
    super(error, message);
  }
}

export type AppendCheck = { duplicate: BatchMetadata } | { ok: true };

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerStateEntry>();
  /** Open transactions by first offset. */
  private readonly ongoingTxns = new Map<number, OngoingTxn>();
  /** Offset up to which the log has been applied to this state. */
  mapEndOffset = 0;

  constructor(
    readonly dir: string,
    readonly topicPartition: string,
    public producerIdExpirationMs = 86_400_000,
  ) {}

  // ---- append path ------------------------------------------------------------------------------------

  /**
   * Kafka's analyzeAndValidateProducerState + ProducerAppendInfo checks, without changing state: a client
   * batch repeating one of the last 5 batches is a duplicate; an older epoch, a sequence gap, a
   * non-transactional write inside an open transaction or a stale coordinator epoch is refused.
   */
  checkAppend(b: ProducerBatch, origin: AppendOrigin): AppendCheck {
    const entry = this.producers.get(b.producerId);
    const lastSeq = incrementSequence(b.baseSequence, b.lastOffset - b.baseOffset);
    if (origin === 'client' && entry && b.marker === null) {
      const dup = entry.findDuplicateBatch(b.producerEpoch, b.baseSequence, lastSeq);
      if (dup) return { duplicate: dup };
    }
    if (origin === 'replication') return { ok: true };
    const currentEpoch = entry?.producerEpoch ?? NO_PRODUCER_EPOCH;
    if (b.producerEpoch < currentEpoch) {
      throw new ProducerStateError(
        'INVALID_PRODUCER_EPOCH',
        `Epoch of producer ${b.producerId} at offset ${b.baseOffset} in ${this.topicPartition} is ${b.producerEpoch}, which is smaller than the last seen epoch ${currentEpoch}`,
      );
    }
    if (b.marker !== null) {
      if (entry && entry.coordinatorEpoch > b.marker.coordinatorEpoch) {
        throw new ProducerStateError(
          'TRANSACTION_COORDINATOR_FENCED',
          `Invalid coordinator epoch for producer ${b.producerId} in ${this.topicPartition}: ${b.marker.coordinatorEpoch} (zombie), ${entry.coordinatorEpoch} (current)`,
        );
      }
      return { ok: true };
    }
    if (origin === 'client') {
      if (b.producerEpoch !== currentEpoch) {
        if (b.baseSequence !== 0 && currentEpoch !== NO_PRODUCER_EPOCH) {
          throw new ProducerStateError(
            'OUT_OF_ORDER_SEQUENCE_NUMBER',
            `Invalid sequence number for new epoch of producer ${b.producerId} in ${this.topicPartition}: ${b.producerEpoch} (request epoch), ${b.baseSequence} (seq. number), ${currentEpoch} (current producer epoch)`,
          );
        }
      } else {
        const currentLastSeq = entry?.lastSeq ?? NO_SEQUENCE;
        if (!inSequence(currentLastSeq, b.baseSequence)) {
          throw new ProducerStateError(
            'OUT_OF_ORDER_SEQUENCE_NUMBER',
            `Out of order sequence number for producer ${b.producerId} in ${this.topicPartition}: ${b.baseSequence} (incoming seq. number), ${currentLastSeq} (current end sequence number)`,
          );
        }
      }
    }
    if (entry && entry.currentTxnFirstOffset >= 0 && !b.isTransactional) {
      throw new ProducerStateError(
        'INVALID_TXN_STATE',
        `Expected transactional write from producer ${b.producerId} in ${this.topicPartition}`,
      );
    }
    return { ok: true };
  }

  /** Applies an appended batch; a marker that ends an open transaction returns it. */
  update(b: ProducerBatch): CompletedTxn | null {
    let entry = this.producers.get(b.producerId);
    if (!entry) {
      entry = new ProducerStateEntry(b.producerId, NO_PRODUCER_EPOCH, -1, b.maxTimestamp, -1);
      this.producers.set(b.producerId, entry);
    }
    if (b.marker !== null) {
      const completed =
        entry.currentTxnFirstOffset >= 0
          ? {
              producerId: b.producerId,
              firstOffset: entry.currentTxnFirstOffset,
              lastOffset: b.baseOffset,
              isAborted: b.marker.type === 'ABORT',
            }
          : null;
      entry.maybeUpdateProducerEpoch(b.producerEpoch);
      entry.currentTxnFirstOffset = -1;
      entry.coordinatorEpoch = b.marker.coordinatorEpoch;
      entry.lastTimestamp = b.maxTimestamp;
      return completed;
    }
    const lastSeq = incrementSequence(b.baseSequence, b.lastOffset - b.baseOffset);
    entry.addBatch(b.producerEpoch, lastSeq, b.lastOffset, b.lastOffset - b.baseOffset, b.maxTimestamp);
    if (b.isTransactional && entry.currentTxnFirstOffset < 0) {
      entry.currentTxnFirstOffset = b.baseOffset;
      this.ongoingTxns.set(b.baseOffset, { producerId: b.producerId, firstOffset: b.baseOffset });
    }
    return null;
  }

  /** The LSO right after `completed`'s marker: another producer's earliest open transaction, else marker + 1. */
  lastStableOffset(completed: CompletedTxn): number {
    let first: number | null = null;
    for (const t of this.ongoingTxns.values()) {
      if (t.producerId !== completed.producerId && (first === null || t.firstOffset < first))
        first = t.firstOffset;
    }
    return first ?? completed.lastOffset + 1;
  }

  completeTxn(completed: CompletedTxn): void {
    this.ongoingTxns.delete(completed.firstOffset);
  }

  /** First offset of the earliest open transaction, or null when none is open. */
  firstUnstableOffset(): number | null {
    let first: number | null = null;
    for (const off of this.ongoingTxns.keys()) if (first === null || off < first) first = off;
    return first;
  }

  ongoingTransactions(): OngoingTxn[] {
    return [...this.ongoingTxns.values()].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  lastEntry(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  activeProducers(): ProducerStateEntry[] {
    return [...this.producers.values()];
  }

  /**
   * Kafka's isProducerExpired: no open transaction, and the timestamp of the producer's last batch
   * or marker (the batch's max timestamp, as Kafka keeps it, not the time of the append) is at
   * least `producerIdExpirationMs` before `now`.
   */
  isExpired(e: ProducerStateEntry, now: number): boolean {
    return e.currentTxnFirstOffset < 0 && now - e.lastTimestamp >= this.producerIdExpirationMs;
  }

  /**
   * Kafka's removeExpiredProducers: forgets expired producers, their cached batches included, so a
   * later batch of theirs is taken as from an unknown producer. Returns how many were removed.
   */
  removeExpiredProducers(now: number): number {
    let removed = 0;
    for (const [id, e] of this.producers) {
      if (!this.isExpired(e, now)) continue;
      this.producers.delete(id);
      removed++;
    }
    return removed;
  }

  clear(): void {
    this.producers.clear();
    this.ongoingTxns.clear();
    this.mapEndOffset = 0;
  }

  // ---- snapshots --------------------------------------------------------------------------------------

  snapshotFile(offset: number): string {
    return path.join(this.dir, `${String(offset).padStart(20, '0')}${PRODUCER_SNAPSHOT_FILE_SUFFIX}`);
  }

  /** Offsets of the snapshot files present, ascending. */
  snapshotOffsets(): number[] {
    const out: number[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const m = SNAPSHOT_FILE_RE.exec(name);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  latestSnapshotOffset(): number | null {
    return this.snapshotOffsets().at(-1) ?? null;
  }

  /**
   * Writes `<offset>.snapshot` (default: the map end offset) via a temporary file and rename, and
   * returns its path. With `sync` false the file is not fsynced: the caller makes it durable later
   * (Kafka's roll: `takeSnapshot(false)`, fsynced by the "flush-log" task). A snapshot lost to a
   * crash before then is no harm: loading falls back to an older one and replays more of the log.
   */
  takeSnapshot(offset = this.mapEndOffset, sync = true): string {
    const entries = [...this.producers.values()];
    const buf = Buffer.alloc(SNAPSHOT_HEADER_SIZE + entries.length * SNAPSHOT_ENTRY_SIZE);
    buf.writeInt16BE(PRODUCER_SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(entries.length, 6);
    let pos = SNAPSHOT_HEADER_SIZE;
    for (const e of entries) {
      const last = e.batchMetadata.at(-1);
      writeInt64(buf, pos, e.producerId);
      buf.writeInt16BE(e.producerEpoch, pos + 8);
      buf.writeInt32BE(last ? last.lastSeq : NO_SEQUENCE, pos + 10);
      writeInt64(buf, pos + 14, last ? last.lastOffset : -1);
      buf.writeInt32BE(last ? last.offsetDelta : 0, pos + 22);
      writeInt64(buf, pos + 26, e.lastTimestamp);
      buf.writeInt32BE(e.coordinatorEpoch, pos + 34);
      writeInt64(buf, pos + 38, e.currentTxnFirstOffset);
      pos += SNAPSHOT_ENTRY_SIZE;
    }
    buf.writeUInt32BE(crc32c(buf.subarray(6)), 2);
    const file = this.snapshotFile(offset);
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      let written = 0;
      while (written < buf.length) written += fs.writeSync(fd, buf, written);
      if (sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return file;
  }

  /** Reads a snapshot file; throws on a wrong version, a CRC mismatch or a bad length. */
  static readSnapshot(file: string): ProducerStateEntry[] {
    const buf = fs.readFileSync(file);
    if (buf.length < SNAPSHOT_HEADER_SIZE) throw new Error(`${file}: snapshot too short`);
    const version = buf.readInt16BE(0);
    if (version !== PRODUCER_SNAPSHOT_VERSION) throw new Error(`${file}: snapshot version ${version}`);
    if (buf.readUInt32BE(2) !== crc32c(buf.subarray(6))) throw new Error(`${file}: snapshot CRC mismatch`);
    const count = buf.readInt32BE(6);
    if (count < 0 || buf.length !== SNAPSHOT_HEADER_SIZE + count * SNAPSHOT_ENTRY_SIZE)
      throw new Error(`${file}: snapshot length does not match its ${count} entries`);
    const out: ProducerStateEntry[] = [];
    for (let i = 0, pos = SNAPSHOT_HEADER_SIZE; i < count; i++, pos += SNAPSHOT_ENTRY_SIZE) {
      const lastSeq = buf.readInt32BE(pos + 10);
      const lastOffset = readInt64(buf, pos + 14);
      const offsetDelta = buf.readInt32BE(pos + 22);
      const timestamp = readInt64(buf, pos + 26);
      const entry = new ProducerStateEntry(
        readInt64(buf, pos),
        buf.readInt16BE(pos + 8),
        buf.readInt32BE(pos + 34),
        timestamp,
        readInt64(buf, pos + 38),
      );
      if (lastOffset >= 0) entry.batchMetadata.push({ lastSeq, lastOffset, offsetDelta, timestamp });
      out.push(entry);
    }
    return out;
  }

  /**
   * Clears the state and loads the newest valid snapshot at or below `maxOffset` (corrupt ones are deleted,
   * as Kafka does), dropping expired producers. Returns the offset the state now covers (0 without one).
   */
  loadLatestSnapshot(maxOffset: number, now: number): number {
    this.clear();
    const offsets = this.snapshotOffsets().filter((o) => o <= maxOffset);
    while (offsets.length > 0) {
      const offset = offsets.pop()!;
      const file = this.snapshotFile(offset);
      let entries: ProducerStateEntry[];
      try {
        entries = ProducerStateManager.readSnapshot(file);
      } catch {
        fs.rmSync(file, { force: true });
        continue;
      }
      for (const e of entries) {
        if (this.isExpired(e, now)) continue;
        this.producers.set(e.producerId, e);
        if (e.currentTxnFirstOffset >= 0) {
          this.ongoingTxns.set(e.currentTxnFirstOffset, {
            producerId: e.producerId,
            firstOffset: e.currentTxnFirstOffset,
          });
        }
      }
      this.mapEndOffset = offset;
      return offset;
    }
    return 0;
  }

  deleteSnapshotsAbove(offset: number): void {
    for (const o of this.snapshotOffsets()) if (o > offset) fs.rmSync(this.snapshotFile(o), { force: true });
  }

  deleteSnapshot(offset: number): void {
    fs.rmSync(this.snapshotFile(offset), { force: true });
  }
}
