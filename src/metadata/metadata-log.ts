/**
 * The cluster metadata on disk, in one place: `<data dir>/__cluster_metadata/` (the role of
 * Kafka's `__cluster_metadata-0` log and its `.checkpoint` snapshots, in kbroker's own encoding —
 * Kafka's metadata record schemas are not part of the wire protocol).
 *
 * - `records.log`: one line per batch of records the controller wrote as one change,
 *   `<crc32 as 8 hex digits> <json {"offset": first record's offset, "records": [...]}>\n`.
 *   `append` writes and fsyncs the line before the change is acknowledged. A batch is all or
 *   nothing: loading stops at the first line that is torn, fails its CRC or does not continue the
 *   offsets, and the file is cut back to the valid prefix before anything is appended again.
 * - `snapshot.json`: the records that rebuild the image at an offset (written atomically). Once
 *   the log holds `metadata.log.max.record.bytes.between.snapshots` bytes, the image is snapshot
 *   and the log starts empty, so it does not grow without bound. A crash between the two leaves
 *   batches the snapshot already covers; loading skips them by offset.
 *
 * Loading = snapshot + replay of the log's batches after it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { MetadataImage } from './image.js';
import type { MetadataRecord } from './records.js';

export const METADATA_DIR = '__cluster_metadata';
export const METADATA_LOG_FILE = 'records.log';
export const METADATA_SNAPSHOT_FILE = 'snapshot.json';

interface Snapshot {
  version: 1;
  offset: number;
  records: MetadataRecord[];
}

export interface LoadedMetadata {
  /** The records the image was rebuilt from (snapshot, then every valid batch after it). */
  readonly records: readonly MetadataRecord[];
  /** Offset of the image they give. */
  readonly offset: number;
  /** Bytes of a torn or corrupt tail that were cut off. */
  readonly truncatedBytes: number;
}

function encodeBatch(offset: number, records: readonly MetadataRecord[]): Buffer {
  const json = Buffer.from(JSON.stringify({ offset, records }), 'utf8');
  const crc = crc32(json).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${crc} `, 'latin1'), json, Buffer.from('\n', 'latin1')]);
}

/** Parses one line (without its newline); null when it is not a valid batch. */
function decodeBatch(line: Buffer): { offset: number; records: MetadataRecord[] } | null {
  if (line.length < 10 || line[8] !== 0x20) return null;
  const crc = Number.parseInt(line.subarray(0, 8).toString('latin1'), 16);
  const json = line.subarray(9);
  if (!Number.isFinite(crc) || crc32(json) !== crc) return null;
  try {
    const parsed = JSON.parse(json.toString('utf8')) as { offset?: unknown; records?: unknown };
    if (!Number.isInteger(parsed.offset) || !Array.isArray(parsed.records)) return null;
    return { offset: parsed.offset as number, records: parsed.records as MetadataRecord[] };
  } catch {
    return null;
  }
}

/** What the controller writes its changes to (the metadata log; in tests, memory). */
export interface MetadataLogWriter {
  /** Appends one change durably (its records, the first at `offset`); may snapshot `imageAfter`. */
  append(offset: number, records: readonly MetadataRecord[], imageAfter: () => MetadataImage): void;
  snapshot(image: MetadataImage): void;
  readonly bytesSinceSnapshot: number;
  close(): void;
}

export class MetadataLog implements MetadataLogWriter {
  readonly dir: string;
  private fd: number | undefined;
  private logBytes = 0;

  private constructor(
    dir: string,
    private readonly maxBytesBetweenSnapshots: number,
  ) {
    this.dir = dir;
  }

  /** Whether `dataDir` holds a metadata log already (else the caller migrates or starts empty). */
  static exists(dataDir: string): boolean {
    return fs.existsSync(path.join(dataDir, METADATA_DIR, METADATA_SNAPSHOT_FILE));
  }

  /**
   * Opens (creating when absent) the metadata log of `dataDir` and reads it back. A new log starts
   * with a snapshot of `initial` (empty, or what a migration found), so `exists` is true from then on.
   */
  static open(
    dataDir: string,
    maxBytesBetweenSnapshots: number,
    initial: readonly MetadataRecord[] = [],
  ): { log: MetadataLog; loaded: LoadedMetadata } {
    const dir = path.join(dataDir, METADATA_DIR);
    fs.mkdirSync(dir, { recursive: true });
    const log = new MetadataLog(dir, maxBytesBetweenSnapshots);
    if (!fs.existsSync(log.snapshotFile)) {
      fs.rmSync(log.logFile, { force: true });
      log.writeSnapshot(initial.length, initial);
    }
    const loaded = log.load();
    log.fd = fs.openSync(log.logFile, 'a');
    return { log, loaded };
  }

  private get logFile(): string {
    return path.join(this.dir, METADATA_LOG_FILE);
  }

  private get snapshotFile(): string {
    return path.join(this.dir, METADATA_SNAPSHOT_FILE);
  }

  private load(): LoadedMetadata {
    const snapshot = JSON.parse(fs.readFileSync(this.snapshotFile, 'utf8')) as Snapshot;
    const records: MetadataRecord[] = [...snapshot.records];
    let offset = snapshot.offset;
    const data = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile) : Buffer.alloc(0);
    let pos = 0;
    while (pos < data.length) {
      const nl = data.indexOf(0x0a, pos);
      if (nl < 0) break; // torn: the newline is written last
      const batch = decodeBatch(data.subarray(pos, nl));
      if (!batch) break;
      const end = batch.offset + batch.records.length;
      if (end > offset) {
        if (batch.offset !== offset) break; // a gap: not a continuation of what was loaded
        records.push(...batch.records);
        offset = end;
      }
      pos = nl + 1;
    }
    const truncatedBytes = data.length - pos;
    if (truncatedBytes > 0) {
      fs.truncateSync(this.logFile, pos);
      const fd = fs.openSync(this.logFile, 'r+');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    this.logBytes = pos;
    return { records, offset, truncatedBytes };
  }

  /**
   * Appends one change (its records, the first at `offset`) and fsyncs it: once this returns the
   * change survives a crash. Then, if the log has grown past the snapshot interval, snapshots
   * `imageAfter` (the image with this batch applied) and empties the log.
   */
  append(offset: number, records: readonly MetadataRecord[], imageAfter: () => MetadataImage): void {
    if (this.fd === undefined) throw new Error('metadata log is closed');
    const line = encodeBatch(offset, records);
    try {
      for (let written = 0; written < line.length; ) {
        written += fs.writeSync(this.fd, line, written, line.length - written);
      }
      fs.fsyncSync(this.fd);
    } catch (err) {
      // A part written (disk full) would be a torn line before the next append's: cut it, so a
      // later acknowledged change is never behind one (loading stops at the first bad line).
      try {
        fs.ftruncateSync(this.fd, this.logBytes);
      } catch {
        // the next open cuts it instead; nothing after it is acknowledged until then
        this.close();
      }
      throw err;
    }
    this.logBytes += line.length;
    if (this.logBytes >= this.maxBytesBetweenSnapshots) this.snapshot(imageAfter());
  }

  /** Writes the image as the snapshot, then starts the log empty. */
  snapshot(image: MetadataImage): void {
    this.writeSnapshot(image.offset, image.toRecords());
    if (this.fd !== undefined) fs.closeSync(this.fd);
    writeFileAtomic(this.logFile, '');
    this.fd = fs.openSync(this.logFile, 'a');
    this.logBytes = 0;
  }

  private writeSnapshot(offset: number, records: readonly MetadataRecord[]): void {
    const snapshot: Snapshot = { version: 1, offset, records: [...records] };
    writeFileAtomic(this.snapshotFile, `${JSON.stringify(snapshot)}\n`);
  }

  /** Bytes in the log since the last snapshot. */
  get bytesSinceSnapshot(): number {
    return this.logBytes;
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
