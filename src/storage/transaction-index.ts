// `<20-digit base>.txnindex`: the aborted transactions whose ABORT marker landed in one segment, so that a
// read_committed fetch can list the aborted transactions overlapping the range it returns. Mirrors Kafka's
// TransactionIndex / AbortedTxn: 34-byte entries (int16 version 0, int64 producerId, int64 firstOffset,
// int64 lastOffset = the marker's offset, int64 lastStableOffset), appended per ABORT marker with strictly
// increasing lastOffset. The file is created only when the first aborted transaction is indexed.
import { readInt64, writeInt64 } from '../protocol/record-batch.js';
import { IndexFile } from './index-file.js';

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

export class TransactionIndex extends IndexFile {
  /** Kafka creates a `.txnindex` only once it has an entry; emptying it removes the file. */
  protected override readonly createsFileOnReset = false;
  /** Aborted transactions are rare: each entry goes to the file at once. */
  protected override readonly pendingWriteBytes = 1;

  constructor(file: string, baseOffset: number) {
    super(file, baseOffset, ABORTED_TXN_SIZE);
  }

  private entryAt(i: number): AbortedTxn {
    const pos = i * ABORTED_TXN_SIZE;
    const version = this.data.readInt16BE(pos);
    if (version !== VERSION) throw new Error(`${this.file}: unexpected aborted txn version ${version}`);
    return {
      producerId: readInt64(this.data, pos + 2),
      firstOffset: readInt64(this.data, pos + 10),
      lastOffset: readInt64(this.data, pos + 18),
      lastStableOffset: readInt64(this.data, pos + 26),
    };
  }

  /** Every entry, in order. A torn trailing entry (crash mid-write) is ignored, as Kafka's reader does. */
  allAbortedTxns(): AbortedTxn[] {
    const n = this.entries;
    const out: AbortedTxn[] = [];
    for (let i = 0; i < n; i++) out.push(this.entryAt(i));
    return out;
  }

  get isEmpty(): boolean {
    return this.entries === 0;
  }

  append(txn: AbortedTxn): void {
    const n = this.entries;
    const last = n > 0 ? this.entryAt(n - 1) : undefined;
    if (last && txn.lastOffset <= last.lastOffset) {
      throw new Error(
        `${this.file}: last offset ${txn.lastOffset} of the aborted transaction is not after ${last.lastOffset}`,
      );
    }
    this.appendEntry(encodeAbortedTxn(txn));
  }

  /** Kafka's collectAbortedTxns: entries with lastOffset >= fetchOffset and firstOffset < upperBoundOffset. */
  collectAbortedTxns(fetchOffset: number, upperBoundOffset: number): TxnIndexSearchResult {
    const abortedTransactions: AbortedTxn[] = [];
    for (const t of this.allAbortedTxns()) {
      if (t.lastOffset >= fetchOffset && t.firstOffset < upperBoundOffset) abortedTransactions.push({ ...t });
      if (t.lastStableOffset >= upperBoundOffset) return { abortedTransactions, isComplete: true };
    }
    return { abortedTransactions, isComplete: false };
  }

  /** Drops entries whose marker is at or after `offset`. */
  truncateTo(offset: number): void {
    const keep = this.allAbortedTxns().findIndex((t) => t.lastOffset >= offset);
    if (keep >= 0) this.truncateEntries(keep);
  }

  /** Kafka's sanityCheck: every entry's marker must lie in this segment. Returns the problem or null. */
  sanityCheck(): string | null {
    for (const t of this.allAbortedTxns()) {
      if (t.lastOffset < this.baseOffset)
        return `${this.file}: last offset ${t.lastOffset} of an aborted transaction is below the base ${this.baseOffset}`;
    }
    return null;
  }
}
