/**
 * One page of a partition's records for the console's browser: read from the log below the high
 * watermark (what a consumer can see) a bounded number of bytes at a time, batches decoded with
 * records.ts (compressed ones included), each record's key, value and headers shown as JSON, text
 * or hex (detected per field), transactions marked (aborted from the partition's transaction
 * index, open ones above the last stable offset), control records optional.
 *
 * Bounded work: at most `limit` (≤ MAX_LIMIT) records are returned, at most MAX_SCAN_BYTES of the
 * log are read for one page (also when searching by key), and each field is cut at
 * MAX_FIELD_BYTES. A page never loads a whole partition; `nextOffset` continues from where it
 * stopped.
 */
import { type DecodedRecord, type DecodedRecordBatch, decodeRecordBatches } from '../protocol/records.js';
import type { Partition } from '../replication/partition.js';

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;
/** Log bytes one page may read (one read returns at least one whole batch, however large). */
export const MAX_SCAN_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** Bytes of a key, value or header value sent to the page. */
export const MAX_FIELD_BYTES = 16 * 1024;

export interface ShownBytes {
  /** How the bytes are shown: JSON (valid UTF-8 that parses as an object or array), text, or hex. */
  format: 'json' | 'text' | 'hex';
  /** The text, or hex digits; cut at MAX_FIELD_BYTES. */
  data: string;
  /** Size of the whole field in bytes. */
  size: number;
  truncated: boolean;
}

export interface ShownRecord {
  offset: number;
  timestamp: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  key: ShownBytes | null;
  value: ShownBytes | null;
  headers: { key: string; value: ShownBytes | null }[];
  /** Codec of the batch the record was stored in. */
  compression: string;
  producerId: number;
  transactional: boolean;
  /** The record's transaction was aborted: read_committed consumers never see it. */
  aborted: boolean;
  /** The record's transaction is still open (at or above the last stable offset). */
  pending: boolean;
  /** 'COMMIT' or 'ABORT' for a control record (only with includeControl). */
  control: string | null;
}

export interface RecordsPage {
  topic: string;
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  /** Where this page started reading. */
  startOffset: number;
  /** Where the next page starts (highWatermark once everything is read). */
  nextOffset: number;
  records: ShownRecord[];
  /** Log bytes read for the page. */
  scannedBytes: number;
  /** True when the page stopped at MAX_SCAN_BYTES before `limit` records (search by key). */
  scanLimitReached: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isPrintable(s: string): boolean {
  // Control characters other than tab, newline and carriage return mean binary data.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

/** UTF-8 text, or undefined; a cut field may end inside a sequence, so up to 3 bytes may be dropped. */
function utf8(part: Buffer, truncated: boolean): string | undefined {
  for (let drop = 0; drop <= (truncated ? 3 : 0); drop++) {
    try {
      return UTF8.decode(part.subarray(0, part.length - drop));
    } catch {
      // try a shorter prefix, if cut
    }
  }
  return undefined;
}

/** JSON, text or hex, decided from the bytes alone. */
export function showBytes(buf: Buffer | null): ShownBytes | null {
  if (buf === null) return null;
  const truncated = buf.length > MAX_FIELD_BYTES;
  const part = truncated ? buf.subarray(0, MAX_FIELD_BYTES) : buf;
  const text = utf8(part, truncated);
  if (text !== undefined && isPrintable(text)) {
    const t = text.trimStart();
    if (!truncated && (t.startsWith('{') || t.startsWith('['))) {
      try {
        JSON.parse(text);
        return { format: 'json', data: text, size: buf.length, truncated };
      } catch {
        // not JSON: shown as text
      }
    }
    return { format: 'text', data: text, size: buf.length, truncated };
  }
  return { format: 'hex', data: part.toString('hex'), size: buf.length, truncated };
}

export interface ReadPageOptions {
  topic: string;
  partition: Partition;
  startOffset: number;
  limit: number;
  includeControl: boolean;
  /** Only records whose key is exactly these bytes (UTF-8). */
  key?: Buffer;
}

/** Reads one page; `startOffset` must lie in [logStartOffset, highWatermark]. */
export function readRecordsPage(opts: ReadPageOptions): RecordsPage {
  const p = opts.partition;
  const hw = p.highWatermark;
  const lso = p.lastStableOffset;
  const records: ShownRecord[] = [];
  let pos = opts.startOffset;
  let scanned = 0;
  let full = false;
  while (!full && pos < hw && scanned < MAX_SCAN_BYTES) {
    const res = p.log.read(pos, Math.min(CHUNK_BYTES, MAX_SCAN_BYTES - scanned), true, hw);
    if ('error' in res || res.records === null) break;
    scanned += res.records.length;
    const batches = decodeRecordBatches(res.records, { verifyCrc: false });
    const aborted = abortedRanges(p, pos, batches);
    for (const batch of batches) {
      if (batch.lastOffset < pos) continue;
      for (const r of batch.records) {
        if (r.offset < pos) continue;
        if (records.length >= opts.limit) {
          full = true;
          break;
        }
        pos = r.offset + 1;
        if (batch.isControl && !opts.includeControl) continue;
        if (opts.key && !r.key?.equals(opts.key)) continue;
        records.push(shown(batch, r, aborted, lso));
      }
      if (full) break;
      pos = Math.max(pos, batch.lastOffset + 1);
    }
  }
  return {
    topic: opts.topic,
    partition: p.partition,
    logStartOffset: p.logStartOffset,
    highWatermark: hw,
    lastStableOffset: lso,
    startOffset: opts.startOffset,
    nextOffset: Math.min(pos, hw),
    records,
    scannedBytes: scanned,
    scanLimitReached: !full && pos < hw && scanned >= MAX_SCAN_BYTES,
  };
}

type AbortedRange = { producerId: number; firstOffset: number; lastOffset: number };

/** Aborted transactions overlapping the batches read (from the .txnindex, Kafka's collectAbortedTransactions). */
function abortedRanges(p: Partition, from: number, batches: DecodedRecordBatch[]): AbortedRange[] {
  if (!batches.some((b) => b.isTransactional)) return [];
  const upper = batches[batches.length - 1]!.lastOffset + 1;
  return p.log.collectAbortedTransactions(from, upper);
}

function shown(
  batch: DecodedRecordBatch,
  r: DecodedRecord,
  aborted: AbortedRange[],
  lso: number,
): ShownRecord {
  const inAborted =
    batch.isTransactional &&
    !batch.isControl &&
    aborted.some(
      (a) => a.producerId === batch.producerId && r.offset >= a.firstOffset && r.offset <= a.lastOffset,
    );
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: batch.timestampType,
    key: batch.isControl ? null : showBytes(r.key),
    value: batch.isControl ? null : showBytes(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: showBytes(h.value) })),
    compression: batch.compression,
    producerId: batch.producerId,
    transactional: batch.isTransactional,
    aborted: inAborted,
    pending: batch.isTransactional && !batch.isControl && !inAborted && r.offset >= lso,
    control: batch.controlRecord ? batch.controlRecord.typeName : null,
  };
}
