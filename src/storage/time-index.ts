// `.timeindex`: 12-byte entries (int64 timestamp, int32 offset - baseOffset); the timestamp is the segment's
// running max batch maxTimestamp, strictly increasing. Mirrors Kafka's TimeIndex.
import { readInt64, writeInt64 } from '../protocol/record-batch.js';
import { IndexFile } from './index-file.js';

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  constructor(file: string, baseOffset: number) {
    super(file, baseOffset, 12);
  }

  timestampAt(i: number): number {
    return readInt64(this.data, i * 12);
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.data.readInt32BE(i * 12 + 8);
  }

  /** Last entry, or (-1, baseOffset) when empty (Kafka's TimeIndex.lastEntry). */
  lastEntry(): TimestampOffset {
    const n = this.entries;
    return n === 0
      ? { timestamp: -1, offset: this.baseOffset }
      : { timestamp: this.timestampAt(n - 1), offset: this.offsetAt(n - 1) };
  }

  /** Appends only when timestamp is strictly greater than the last entry's. */
  maybeAppend(timestamp: number, offset: number): boolean {
    const last = this.lastEntry();
    if (timestamp <= last.timestamp) return false;
    if (this.entries > 0 && offset < last.offset) {
      throw new Error(`time index ${this.file}: offset ${offset} is smaller than ${last.offset}`);
    }
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff)
      throw new Error(`offset ${offset} out of range for base ${this.baseOffset}`);
    const e = Buffer.allocUnsafe(12);
    writeInt64(e, 0, timestamp);
    e.writeInt32BE(rel, 8);
    this.appendEntry(e);
    return true;
  }

  /** Largest entry with timestamp <= target, or (-1, baseOffset). */
  lookup(target: number): TimestampOffset {
    const i = this.floorIndex(target, (k) => this.timestampAt(k));
    return i < 0
      ? { timestamp: -1, offset: this.baseOffset }
      : { timestamp: this.timestampAt(i), offset: this.offsetAt(i) };
  }

  /** Drops entries with offset >= offset. */
  truncateTo(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.offsetAt(keep - 1) >= offset) keep--;
    this.truncateEntries(keep);
  }

  /** Full means entries >= max - 1: the last slot is reserved for the roll's final entry. */
  isFull(): boolean {
    return this.entries >= this.maxEntries - 1;
  }

  sanityCheck(): string | null {
    const n = this.entries;
    if (this.trailingBytes !== 0) return `${this.file}: size is not a multiple of 12`;
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevOffset = -1;
    for (let i = 0; i < n; i++) {
      const t = this.timestampAt(i);
      const o = this.offsetAt(i);
      if (t <= prevTs) return `${this.file}: timestamp ${t} out of order`;
      if (o < this.baseOffset || o < prevOffset) return `${this.file}: offset ${o} out of order`;
      prevTs = t;
      prevOffset = o;
    }
    return null;
  }
}
