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
 * stopped. A page can also be the `limit` records just below an offset (readRecordsPageBefore:
 * "older", exact in count across compacted or transactional gaps), or records of several
 * partitions merged by timestamp (readMergedPage: "all partitions", paged by per-partition
 * cursors) — under the same bounds.
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

/** What to keep of a partition's records while reading: control records, and a key to match. */
interface Filter {
  includeControl: boolean;
  key?: Buffer | undefined;
}

/** A record kept while reading, turned into a ShownRecord only if a page shows it. */
interface Kept {
  batch: DecodedRecordBatch;
  r: DecodedRecord;
  aborted: AbortedRange[];
}

const show = (p: Partition) => (k: Kept) => shown(k.batch, k.r, k.aborted, p.lastStableOffset);

interface Scan {
  records: Kept[];
  /** The first offset not looked at (≤ `to`). */
  next: number;
  scanned: number;
}

/**
 * Reads [from, to) forward, keeping at most `limit` records and reading at most `maxBytes` of the
 * log (`chunkBytes` a read; a read returns at least one whole batch). Stops at `to`, at `limit`
 * records or when the bytes are spent; `next` says where.
 */
function scan(
  p: Partition,
  from: number,
  to: number,
  limit: number,
  maxBytes: number,
  chunkBytes: number,
  filter: Filter,
): Scan {
  const hw = p.highWatermark;
  const records: Kept[] = [];
  let pos = from;
  let scanned = 0;
  let full = false;
  while (!full && pos < to && scanned < maxBytes) {
    // Up to the high watermark, not `to`: the log leaves out a batch that straddles its bound.
    const res = p.log.read(pos, Math.min(chunkBytes, maxBytes - scanned), true, hw);
    if ('error' in res || res.records === null) break;
    scanned += res.records.length;
    const startPos = pos;
    const batches = decodeRecordBatches(res.records, { verifyCrc: false });
    const aborted = abortedRanges(p, pos, batches);
    for (const batch of batches) {
      if (batch.lastOffset < pos) continue;
      for (const r of batch.records) {
        if (r.offset < pos) continue;
        if (records.length >= limit || r.offset >= to) {
          full = true;
          break;
        }
        pos = r.offset + 1;
        if (batch.isControl && !filter.includeControl) continue;
        if (filter.key && !r.key?.equals(filter.key)) continue;
        records.push({ batch, r, aborted });
      }
      if (full) break;
      pos = Math.max(pos, batch.lastOffset + 1);
    }
    if (pos === startPos) break; // nothing new (cannot happen with a sound log): never spin
  }
  return { records, next: Math.min(pos, to), scanned };
}

/** Reads one page; `startOffset` must lie in [logStartOffset, highWatermark]. */
export function readRecordsPage(opts: ReadPageOptions): RecordsPage {
  const p = opts.partition;
  const hw = p.highWatermark;
  const r = scan(p, opts.startOffset, hw, opts.limit, MAX_SCAN_BYTES, CHUNK_BYTES, opts);
  return {
    topic: opts.topic,
    partition: p.partition,
    logStartOffset: p.logStartOffset,
    highWatermark: hw,
    lastStableOffset: p.lastStableOffset,
    startOffset: opts.startOffset,
    nextOffset: r.next,
    records: r.records.map(show(p)),
    scannedBytes: r.scanned,
    scanLimitReached: r.records.length < opts.limit && r.next < hw && r.scanned >= MAX_SCAN_BYTES,
  };
}

interface Backward {
  /** Ascending; the last `limit` kept records below `before`. */
  records: Kept[];
  /** Every kept record in [low, before) is in `records`: the next older page ends at `low`. */
  low: number;
  scanned: number;
}

/**
 * The last `limit` kept records below `before`, counted exactly (compacted gaps, control and
 * filtered records do not shorten the page), read forward in windows that step back from
 * `before`: a window of as many offsets as records are missing, doubling while windows come back
 * short (gaps), shrunk to what the bytes left can read when one would overrun them. At most
 * `maxBytes` of the log are read; then the page has fewer records and `low` says how far it got.
 */
function readBackward(
  p: Partition,
  before: number,
  limit: number,
  maxBytes: number,
  chunkBytes: number,
  filter: Filter,
): Backward {
  const floor = p.logStartOffset;
  let out: Kept[] = [];
  let hi = before;
  let span = limit;
  let scanned = 0;
  /** Log bytes an offset took in the windows read so far (undefined before the first). */
  let perOffset: number | undefined;
  while (out.length < limit && hi > floor && scanned < maxBytes) {
    const lo = Math.max(floor, hi - span);
    const left = maxBytes - scanned;
    // A window that may not fit gets half the bytes left, so that a smaller one can follow.
    const fits = perOffset !== undefined && (hi - lo) * perOffset <= left * 0.8;
    const r = scan(p, lo, hi, hi - lo, fits ? left : Math.ceil(left / 2), chunkBytes, filter);
    scanned += r.scanned;
    if (r.next >= hi) {
      out = r.records.concat(out);
      if (r.scanned > 0) perOffset = Math.max(perOffset ?? 0, r.scanned / (hi - lo));
      hi = lo;
      span = Math.max(span * 2, limit - out.length);
    } else {
      // It would overrun the bytes: drop it and try as many offsets as the bytes left can read.
      if (r.scanned === 0) break;
      perOffset = Math.max(perOffset ?? 0, r.scanned / Math.max(1, r.next - lo));
      const affordable = Math.floor(((maxBytes - scanned) * 0.8) / perOffset);
      span = Math.max(1, Math.min(Math.floor((hi - lo) / 2), affordable));
    }
  }
  if (out.length > limit) {
    out = out.slice(out.length - limit);
    return { records: out, low: out[0]!.r.offset, scanned };
  }
  return { records: out, low: hi, scanned };
}

/** The page of `limit` records just below `before` (exclusive), in [logStartOffset, highWatermark]. */
export function readRecordsPageBefore(
  opts: Omit<ReadPageOptions, 'startOffset'> & { before: number },
): RecordsPage {
  const p = opts.partition;
  const hw = p.highWatermark;
  const before = Math.min(opts.before, hw);
  const r = readBackward(p, before, opts.limit, MAX_SCAN_BYTES, CHUNK_BYTES, opts);
  return {
    topic: opts.topic,
    partition: p.partition,
    logStartOffset: p.logStartOffset,
    highWatermark: hw,
    lastStableOffset: p.lastStableOffset,
    startOffset: r.low,
    nextOffset: before,
    records: r.records.map(show(p)),
    scannedBytes: r.scanned,
    scanLimitReached: r.records.length < opts.limit && r.low > p.logStartOffset,
  };
}

// ---- across partitions ----------------------------------------------------------------------------

/** A record of a page across partitions. */
export interface MergedRecord extends ShownRecord {
  partition: number;
}

/** Per partition, where a page across partitions starts or ends: `partition:offset,…`. */
export type Positions = Map<number, number>;

export function formatPositions(pos: Positions): string {
  return [...pos]
    .sort(([a], [b]) => a - b)
    .map(([p, o]) => `${p}:${o}`)
    .join(',');
}

export interface MergedPage {
  topic: string;
  partitions: {
    partition: number;
    logStartOffset: number;
    highWatermark: number;
    lastStableOffset: number;
  }[];
  /** Oldest first: partitions merged by timestamp (then partition, offset); each partition in offset order. */
  records: MergedRecord[];
  /** The older page is the records before these positions (`from=before&cursor=`). */
  startCursor: string;
  /** The newer page starts at these positions (`from=after&cursor=`). */
  endCursor: string;
  hasOlder: boolean;
  hasNewer: boolean;
  scannedBytes: number;
  /** The page stopped at MAX_SCAN_BYTES before `limit` records; the cursors continue from there. */
  scanLimitReached: boolean;
}

interface Stream {
  p: Partition;
  /** Forward: the next offset to read. Backward: the offset the records read so far end below. */
  pos: number;
  /** Read, in the direction of the page; those from `next` on are not taken yet. */
  buffer: Kept[];
  next: number;
}

/**
 * A page of `limit` records of several partitions, as Kafka UIs show "all partitions": each
 * partition is read in offset order and the heads are merged by timestamp — forward from
 * `positions` (oldest first) or backward from them (the newest records below them). Partitions
 * are read lazily, a small chunk at a time, so a page reads about what it shows, and never more
 * than MAX_SCAN_BYTES in all. A partition with no record at hand gets an equal share of the bytes
 * left, round after round, so one that is slow to yield (a search by key) does not starve the
 * others; when a partition's next record could not be read within the bound the page ends early
 * (a merge without that partition's head would be out of order) and the cursors continue from
 * there — past what was read and not kept, so paging on always progresses.
 */
export function readMergedPage(opts: {
  topic: string;
  partitions: readonly Partition[];
  positions: Positions;
  direction: 'forward' | 'backward';
  limit: number;
  includeControl: boolean;
  key?: Buffer;
}): MergedPage {
  const forward = opts.direction === 'forward';
  const chunk = Math.min(
    CHUNK_BYTES,
    Math.max(16 * 1024, Math.floor(MAX_SCAN_BYTES / (2 * opts.partitions.length))),
  );
  const streams: Stream[] = opts.partitions.map((p) => ({
    p,
    pos: Math.min(
      Math.max(
        opts.positions.get(p.partition) ?? (forward ? p.logStartOffset : p.highWatermark),
        p.logStartOffset,
      ),
      p.highWatermark,
    ),
    buffer: [],
    next: 0,
  }));
  const origin = new Map(streams.map((s) => [s.p.partition, s.pos]));
  const exhausted = (s: Stream) => (forward ? s.pos >= s.p.highWatermark : s.pos <= s.p.logStartOffset);
  const head = (s: Stream): Kept | undefined => s.buffer[s.next];
  let scanned = 0;
  let stopped = false;
  const out: MergedRecord[] = [];
  const refill = (s: Stream, maxBytes: number) => {
    const want = opts.limit - out.length;
    if (forward) {
      const r = scan(s.p, s.pos, s.p.highWatermark, want, maxBytes, chunk, opts);
      scanned += r.scanned;
      s.buffer = r.records;
      s.pos = r.next;
    } else {
      const r = readBackward(s.p, s.pos, want, maxBytes, chunk, opts);
      scanned += r.scanned;
      s.buffer = r.records.reverse();
      s.pos = r.low;
    }
    s.next = 0;
  };
  while (out.length < opts.limit) {
    for (;;) {
      const needy = streams.filter((s) => head(s) === undefined && !exhausted(s));
      if (needy.length === 0) break;
      if (scanned >= MAX_SCAN_BYTES) {
        stopped = true;
        break;
      }
      const share = Math.max(1, Math.floor((MAX_SCAN_BYTES - scanned) / needy.length));
      const before = scanned;
      for (const s of needy) {
        if (scanned >= MAX_SCAN_BYTES) break;
        refill(s, Math.min(share, MAX_SCAN_BYTES - scanned));
      }
      // Nothing read (the log moved under the cursor, e.g. retention): end the page, never spin.
      if (scanned === before && needy.every((s) => head(s) === undefined && !exhausted(s))) {
        stopped = true;
        break;
      }
    }
    if (stopped) break;
    let best: Stream | undefined;
    for (const s of streams) {
      const h = head(s);
      if (h === undefined) continue;
      const b = best && head(best);
      if (b === undefined || (forward ? sortsBefore(h, s, b, best!) : sortsBefore(b, best!, h, s))) best = s;
    }
    if (!best) break;
    out.push({ ...show(best.p)(best.buffer[best.next++]!), partition: best.p.partition });
  }
  // Where each partition stands: forward at its first record not taken, backward just above it.
  const reached: Positions = new Map();
  for (const s of streams) {
    const h = head(s);
    reached.set(s.p.partition, h === undefined ? s.pos : forward ? h.r.offset : h.r.offset + 1);
  }
  const older = forward ? origin : reached;
  const newer = forward ? reached : origin;
  if (!forward) out.reverse();
  return {
    topic: opts.topic,
    partitions: opts.partitions.map((p) => ({
      partition: p.partition,
      logStartOffset: p.logStartOffset,
      highWatermark: p.highWatermark,
      lastStableOffset: p.lastStableOffset,
    })),
    records: out,
    startCursor: formatPositions(older),
    endCursor: formatPositions(newer),
    hasOlder: opts.partitions.some((p) => (older.get(p.partition) ?? 0) > p.logStartOffset),
    hasNewer: opts.partitions.some((p) => (newer.get(p.partition) ?? 0) < p.highWatermark),
    scannedBytes: scanned,
    scanLimitReached: stopped,
  };
}

/** Whether record a (of stream sa) comes before b (of sb): by timestamp, then partition, then offset. */
function sortsBefore(a: Kept, sa: Stream, b: Kept, sb: Stream): boolean {
  if (a.r.timestamp !== b.r.timestamp) return a.r.timestamp < b.r.timestamp;
  if (sa.p.partition !== sb.p.partition) return sa.p.partition < sb.p.partition;
  return a.r.offset < b.r.offset;
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
