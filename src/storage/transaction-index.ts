// `<20-digit base>.txnindex`: the aborted transactions whose ABORT marker landed in one segment, so that a
// read_committed fetch can list the aborted transactions overlapping the range it returns. Mirrors Kafka's
// TransactionIndex / AbortedTxn: 34-byte entries (int16 version 0, int64 producerId, int64 firstOffset,
// int64 lastOffset = the marker's offset, int64 lastStableOffset), appended per ABORT marker with strictly
// increasing lastOffset. The file is created only when the first aborted transaction is indexed.
import fs from 'node:fs';
import { readInt64, writeInt64 } from '../protocol/record-batch.js';

export const TXN_INDEX_FILE_SUFFIX = '.txnindex';
export const ABORTED_TXN_SIZE = 34;
const VERSION = 0;

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

export interface TxnIndexSearchResult {
  abortedTransactions: AbortedTxn[];
  /** An entry whose lastStableOffset reaches the upper bound was found: later segments cannot add more. */
  isComplete: boolean;
}

export function encodeAbortedTxn(t: AbortedTxn): Buffer {
  const b = Buffer.alloc(ABORTED_TXN_SIZE);
  b.writeInt16BE(VERSION, 0);
  writeInt64(b, 2, t.producerId);
  writeInt64(b, 10, t.firstOffset);
  writeInt64(b, 18, t.lastOffset);
  writeInt64(b, 26, t.lastStableOffset);
  return b;
}

export class TransactionIndex {
  private entries: AbortedTxn[] | null = null;
  private fd: number | null = null;

  constructor(
    public file: string,
    readonly baseOffset: number,
  ) {}

  private load(): AbortedTxn[] {
    if (this.entries !== null) return this.entries;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      buf = Buffer.alloc(0);
    }
    const out: AbortedTxn[] = [];
    for (let pos = 0; pos + ABORTED_TXN_SIZE <= buf.length; pos += ABORTED_TXN_SIZE) {
      const version = buf.readInt16BE(pos);
      if (version !== VERSION) throw new Error(`${this.file}: unexpected aborted txn version ${version}`);
      out.push({
        producerId: readInt64(buf, pos + 2),
        firstOffset: readInt64(buf, pos + 10),
        lastOffset: readInt64(buf, pos + 18),
        lastStableOffset: readInt64(buf, pos + 26),
      });
    }
    // A torn trailing entry (crash mid-write) is dropped, as Kafka's reader ignores partial entries.
    if (buf.length % ABORTED_TXN_SIZE !== 0) fs.truncateSync(this.file, out.length * ABORTED_TXN_SIZE);
    this.entries = out;
    return out;
  }

  get isEmpty(): boolean {
    return this.load().length === 0;
  }

  allAbortedTxns(): AbortedTxn[] {
    return [...this.load()];
  }

  append(txn: AbortedTxn): void {
    const entries = this.load();
    const last = entries.at(-1);
    if (last && txn.lastOffset <= last.lastOffset) {
      throw new Error(
        `${this.file}: last offset ${txn.lastOffset} of the aborted transaction is not after ${last.lastOffset}`,
      );
    }
    this.fd ??= fs.openSync(this.file, 'a');
    const b = encodeAbortedTxn(txn);
    let written = 0;
    while (written < b.length) written += fs.writeSync(this.fd, b, written);
    entries.push({ ...txn });
  }

  /** Kafka's collectAbortedTxns: entries with lastOffset >= fetchOffset and firstOffset < upperBoundOffset. */
  collectAbortedTxns(fetchOffset: number, upperBoundOffset: number): TxnIndexSearchResult {
    const abortedTransactions: AbortedTxn[] = [];
    for (const t of this.load()) {
      if (t.lastOffset >= fetchOffset && t.firstOffset < upperBoundOffset) abortedTransactions.push({ ...t });
      if (t.lastStableOffset >= upperBoundOffset) return { abortedTransactions, isComplete: true };
    }
    return { abortedTransactions, isComplete: false };
  }

  /** Drops entries whose marker is at or after `offset`. */
  truncateTo(offset: number): void {
    const entries = this.load();
    const keep = entries.findIndex((t) => t.lastOffset >= offset);
    if (keep < 0) return;
    entries.length = keep;
    this.closeHandle();
    if (fs.existsSync(this.file)) fs.truncateSync(this.file, keep * ABORTED_TXN_SIZE);
  }

  /** Empties the index (segment recovery rebuilds it). */
  reset(): void {
    this.closeHandle();
    this.entries = [];
    fs.rmSync(this.file, { force: true });
  }

  /** Kafka's sanityCheck: every entry's marker must lie in this segment. Returns the problem or null. */
  sanityCheck(): string | null {
    for (const t of this.load()) {
      if (t.lastOffset < this.baseOffset)
        return `${this.file}: last offset ${t.lastOffset} of an aborted transaction is below the base ${this.baseOffset}`;
    }
    return null;
  }

  flush(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  closeHandle(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  renameTo(file: string): void {
    this.closeHandle();
    if (fs.existsSync(this.file)) fs.renameSync(this.file, file);
    this.file = file;
  }

  /** The file is about to go: hands over its handle (null when none is open); the caller closes it and removes the file. */
  detachForDeletion(): { file: string; fd: number | null } {
    const fd = this.fd;
    this.fd = null;
    return { file: this.file, fd };
  }
}
