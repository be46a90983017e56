/**
 * Record bytes of a fetch that stay in their segment file until the socket takes them (Kafka's
 * FileRecords slice): the connection sends them with sendfile(2) instead of reading them into a buffer.
 *
 * A region holds its own descriptor (a dup of the segment's), so the segment may roll, be deleted or
 * closed meanwhile without the number being reused under a send; `release` closes it once, and a
 * region dropped without release is closed when it is garbage-collected.
 */
import fs from 'node:fs';
import type { ExternalRecords } from '../protocol/wire.js';

const unreleased = new FinalizationRegistry<number>((fd) => fs.close(fd, () => {}));

export class FileRegion implements ExternalRecords {
  readonly external = true;
  private open = true;

  constructor(
    /** Owned by the region. */
    readonly fd: number,
    readonly position: number,
    readonly length: number,
    /** The last offset of the last batch in the region. */
    readonly lastOffset: number,
    /** Records in its batches, control batches excluded (the fetch metrics' count). */
    readonly recordCount: number,
  ) {
    unreleased.register(this, fd, this);
  }

  get released(): boolean {
    return !this.open;
  }

  /** Closes the region's descriptor; later calls do nothing. */
  release(): void {
    if (!this.open) return;
    this.open = false;
    unreleased.unregister(this);
    fs.closeSync(this.fd);
  }
}

/** The records of a fetch response: bytes, or a range of a segment file. */
export type Records = Buffer | FileRegion;

/** Gives back what a records chunk holds once it was sent or dropped (a region's descriptor). */
export function releaseRegion(chunk: unknown): void {
  if (chunk instanceof FileRegion) chunk.release();
}
