// Walks the batch headers of a `.log` file region through a read window, without trusting length fields:
// a batch is only read (and a buffer only grown) once its claimed size fits in the file.
// Plays the role of Kafka's FileLogInputStream for shallow iteration.
import fs from 'node:fs';
import {
  type BatchInfo,
  type BatchStopReason,
  checkBatchAt,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MAGIC_V2,
  readBatchInfo,
  readBatchSize,
  readMagic,
} from '../protocol/record-batch.js';

const WINDOW = 64 * 1024;
/**
 * Window of a short header scan (finding the batch holding an offset from an offset-index entry,
 * at most index.interval.bytes plus a batch away): big enough for dozens of small batches' headers,
 * small enough that hopping over 1 MiB batches does not read 64 KiB of their bodies per hop.
 */
export const SHORT_SCAN_WINDOW = 8 * 1024;
/** One reusable window for short scans (visitors may start another scan: then it allocates). */
let shortScratch: Buffer | null = Buffer.allocUnsafeSlow(SHORT_SCAN_WINDOW);

export type ScanStop = BatchStopReason | 'stopped';

/** Reads up to `length` bytes at `position` of a file into `buf` (from 0); returns how many it got. */
export type ReadAt = (buf: Buffer, length: number, position: number) => number;

export function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export function writeFully(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done);
}

/**
 * Visits batches in [start, end) of the file. `visit` returns false to stop early ('stopped').
 * With verifyCrc every batch is read whole and checked; otherwise only headers are read.
 * Returns the position where scanning ended and why. `short`: a scan expected to end within a few
 * KiB (SHORT_SCAN_WINDOW, a reused buffer); `visit` sees only numbers, never the window.
 */
export function scanFileBatches(
  file: number | ReadAt,
  start: number,
  end: number,
  verifyCrc: boolean,
  visit: (batch: BatchInfo) => boolean,
  short = false,
): { position: number; stopReason: ScanStop } {
  const read: ReadAt =
    typeof file === 'number' ? (buf, length, position) => readFully(file, buf, length, position) : file;
  if (!short || verifyCrc || shortScratch === null) return scan(read, start, end, verifyCrc, visit, null);
  const scratch = shortScratch;
  shortScratch = null;
  try {
    return scan(read, start, end, false, visit, scratch);
  } finally {
    shortScratch = scratch;
  }
}

function scan(
  read: ReadAt,
  start: number,
  end: number,
  verifyCrc: boolean,
  visit: (batch: BatchInfo) => boolean,
  scratch: Buffer | null,
): { position: number; stopReason: ScanStop } {
  let buf = scratch ?? Buffer.allocUnsafe(verifyCrc ? 4 * WINDOW : WINDOW);
  let pos = start;
  while (pos < end) {
    const n = read(buf, Math.min(buf.length, end - pos), pos);
    if (n < LOG_OVERHEAD) return { position: pos, stopReason: 'partial' };
    let off = 0;
    let skipTo = -1;
    let grew = false;
    while (off < n) {
      const bad = checkBatchAt(buf, off, n, verifyCrc);
      if (bad === null) {
        const info = readBatchInfo(buf, off);
        info.position = pos + off;
        if (!visit(info)) return { position: pos + off, stopReason: 'stopped' };
        off += info.size;
        continue;
      }
      if (bad !== 'partial') return { position: pos + off, stopReason: bad };
      if (off + LOG_OVERHEAD > n) break; // re-read from here
      const size = readBatchSize(buf, off);
      if (pos + off + size > end) return { position: pos + off, stopReason: 'partial' };
      if (!verifyCrc && off + HEADER_SIZE <= n) {
        // Header is here and the batch fits in the file: visit without reading its body.
        if (readMagic(buf, off) !== MAGIC_V2) return { position: pos + off, stopReason: 'invalid-magic' };
        const info = readBatchInfo(buf, off);
        info.position = pos + off;
        if (!visit(info)) return { position: pos + off, stopReason: 'stopped' };
        skipTo = pos + off + size;
        off = n;
        break;
      }
      if (verifyCrc && size > buf.length) {
        buf = Buffer.allocUnsafe(size); // safe: size was checked against the file above
        grew = true;
      }
      break;
    }
    const next = skipTo >= 0 ? skipTo : pos + off;
    if (next === pos && !grew) return { position: pos, stopReason: 'partial' }; // cannot progress
    pos = next;
  }
  return { position: pos, stopReason: 'end' };
}
