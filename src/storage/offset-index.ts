// `.index`: 8-byte entries (int32 offset - baseOffset, int32 position of the batch in `.log`), keyed by the
// batch's lastOffset, strictly increasing. Mirrors Kafka's OffsetIndex.
import { IndexFile } from './index-file.js';

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  constructor(file: string, baseOffset: number) {
    super(file, baseOffset, 8);
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.data.readInt32BE(i * 8);
  }

  positionAt(i: number): number {
    return this.data.readInt32BE(i * 8 + 4);
  }

  /** lastOffset of the last entry, or baseOffset when empty. */
  lastOffset(): number {
    const n = this.entries;
    return n === 0 ? this.baseOffset : this.offsetAt(n - 1);
  }

  append(offset: number, position: number): void {
    const n = this.entries;
    if (n > 0 && offset <= this.offsetAt(n - 1)) {
      throw new Error(`offset index ${this.file}: ${offset} is not larger than ${this.offsetAt(n - 1)}`);
    }
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff)
      throw new Error(`offset ${offset} out of range for base ${this.baseOffset}`);
    const e = Buffer.allocUnsafe(8);
    e.writeInt32BE(rel, 0);
    e.writeInt32BE(position, 4);
    this.appendEntry(e);
  }

  /** Largest entry with offset <= target, or (baseOffset, 0). */
  lookup(target: number): OffsetPosition {
    const i = this.floorIndex(target, (k) => this.offsetAt(k));
    return i < 0
      ? { offset: this.baseOffset, position: 0 }
      : { offset: this.offsetAt(i), position: this.positionAt(i) };
  }

  /** Drops entries with offset >= offset (Kafka's OffsetIndex.truncateTo). */
  truncateTo(offset: number): void {
    this.truncateEntries(this.floorIndex(offset - 1, (k) => this.offsetAt(k)) + 1);
  }

  isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  /** Kafka's sanityCheck plus positions inside the log; returns the problem or null. */
  sanityCheck(logSize: number): string | null {
    const n = this.entries;
    if (this.trailingBytes !== 0) return `${this.file}: size is not a multiple of 8`;
    let prevOffset = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const o = this.offsetAt(i);
      const p = this.positionAt(i);
      if (o < this.baseOffset || o <= prevOffset) return `${this.file}: offset ${o} out of order`;
      if (p < prevPos || p >= logSize) return `${this.file}: position ${p} invalid`;
      prevOffset = o;
      prevPos = p;
    }
    return null;
  }
}
