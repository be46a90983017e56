// Shared base of the offset, time and transaction indexes: a file of fixed-size big-endian entries, kept in memory for
// binary-search lookups and written to the file in chunks (every PENDING_WRITE_BYTES, and on flush, close and
// truncation) rather than one syscall per entry. Mirrors Kafka's AbstractIndex, minus the mmap/preallocation:
// the file holds exactly the entries written (what Kafka leaves after trimming). Entries not yet written when
// the process dies are rebuilt by recovery, which re-indexes every segment past the recovery point; a
// flushed segment has all of its entries on disk.
import fs from 'node:fs';

/** segment.index.bytes default (10 MiB); an index this full forces a roll, as in Kafka. */
export const DEFAULT_SEGMENT_INDEX_BYTES = 10 * 1024 * 1024;

/** Offset and time index entries are written out once this many bytes are pending. */
const PENDING_WRITE_BYTES = 4096;

export abstract class IndexFile {
  protected data: Buffer = Buffer.alloc(0);
  protected length = 0; // bytes of whole entries held
  private persisted = 0; // bytes of entries written to the file
  private loaded = false;
  private fd: number | null = null;
  /** Bytes in the file beyond the last whole entry when it was loaded (a torn write). */
  protected trailingBytes = 0;
  /** Whether `reset()` leaves an empty file behind (offset and time indexes) or none (transaction index). */
  protected readonly createsFileOnReset: boolean = true;
  /** Entries are written to the file once this many bytes are pending. */
  protected readonly pendingWriteBytes: number = PENDING_WRITE_BYTES;

  constructor(
    public file: string,
    readonly baseOffset: number,
    protected readonly entrySize: number,
  ) {}

  get entries(): number {
    this.load();
    return this.length / this.entrySize;
  }

  get maxEntries(): number {
    return Math.floor(DEFAULT_SEGMENT_INDEX_BYTES / this.entrySize);
  }

  protected load(): void {
    if (this.loaded) return;
    this.loaded = true;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      buf = Buffer.alloc(0);
    }
    this.trailingBytes = buf.length % this.entrySize;
    this.length = buf.length - this.trailingBytes;
    this.persisted = this.length;
    this.data = buf;
  }

  protected appendEntry(entry: Buffer): void {
    this.load();
    if (this.trailingBytes !== 0) this.truncateBytes(this.length);
    if (this.length + entry.length > this.data.length) {
      const grown = Buffer.alloc(Math.max(256, this.data.length * 2, this.length + entry.length));
      this.data.copy(grown, 0, 0, this.length);
      this.data = grown;
    }
    entry.copy(this.data, this.length);
    this.length += entry.length;
    if (this.length - this.persisted >= this.pendingWriteBytes) this.writePending();
  }

  /** Writes the entries held only in memory to the file. */
  private writePending(): void {
    if (this.persisted >= this.length) return;
    this.fd ??= fs.openSync(this.file, 'a');
    let pos = this.persisted;
    while (pos < this.length) pos += fs.writeSync(this.fd, this.data, pos, this.length - pos);
    this.persisted = this.length;
  }

  /** Keeps only the first n entries (file and memory). */
  truncateEntries(n: number): void {
    this.load();
    this.truncateBytes(Math.min(this.length, n * this.entrySize));
  }

  private truncateBytes(len: number): void {
    this.length = len;
    this.trailingBytes = 0;
    if (len >= this.persisted) return; // only unwritten entries were dropped
    this.persisted = len;
    if (this.fd !== null) fs.ftruncateSync(this.fd, len);
    else if (fs.existsSync(this.file)) fs.truncateSync(this.file, len);
  }

  reset(): void {
    this.loaded = true;
    this.data = Buffer.alloc(0);
    this.length = 0;
    this.persisted = 0;
    this.trailingBytes = 0;
    if (this.createsFileOnReset) {
      if (this.fd !== null) fs.ftruncateSync(this.fd, 0);
      else fs.writeFileSync(this.file, '');
    } else {
      this.closeHandle();
      fs.rmSync(this.file, { force: true });
    }
  }

  /** Binary search: index of the largest entry whose key <= target, or -1. */
  protected floorIndex(target: number, keyAt: (i: number) => number): number {
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  flush(): void {
    this.writePending();
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  /**
   * flush() with the fsync in libuv's thread pool. An index is not what an acknowledgement rests
   * on (recovery rebuilds the indexes above the recovery point), so a handle closed meanwhile
   * (the segment rolled: closeHandle wrote the entries) is not an error.
   */
  flushInBackground(): Promise<void> {
    this.writePending();
    const fd = this.fd;
    if (fd === null) return Promise.resolve();
    return new Promise((resolve, reject) =>
      fs.fsync(fd, (err) => (err && this.fd === fd ? reject(err) : resolve())),
    );
  }

  /** Writes pending entries and closes the write handle; entries stay readable from memory. */
  closeHandle(): void {
    this.writePending();
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  renameTo(file: string): void {
    this.writePending();
    if (fs.existsSync(this.file)) fs.renameSync(this.file, file);
    this.file = file;
  }

  /**
   * The file is about to go: hands over its handle (null when none is open) without writing what is
   * pending; the caller closes it and removes the file.
   */
  detachForDeletion(): { file: string; fd: number | null } {
    this.persisted = this.length;
    const fd = this.fd;
    this.fd = null;
    return { file: this.file, fd };
  }
}
