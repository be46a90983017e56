// Magic-2 record batch header read and patched in place on a Buffer + byte position (no copies).
// Mirrors Kafka's DefaultRecordBatch (header layout, CRC-32C over [attributes, end)), the shallow batch
// iteration of ByteBufferLogInputStream/FileLogInputStream, and the client-append checks of
// UnifiedLog.analyzeAndValidateRecords + LogValidator.validateBatch + ProduceRequest.validateRecords.
import { createRequire } from 'node:module';
import { nativeCrc32c } from '../common/native.js';
import { invalidCompressedRecords } from './record-batch-compressed.js';

export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORDS_COUNT = 57;
export const HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
export const MAGIC_V2 = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const NO_TIMESTAMP = -1;
export const NO_PRODUCER_ID = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

import type { CompressionType } from './compression.js';

export type { CompressionType };

const COMPRESSION_NAMES: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

// ---- CRC-32C (Castagnoli) ------------------------------------------------------------------------

type Crc32cFn = (buf: Uint8Array) => number;
const require = createRequire(import.meta.url);

function loadCrc32c(): Crc32cFn {
  // The CPU's instruction through the project's helper where it was built; else the crc32 library
  // (native too, 2.2× slower on a 10 KiB batch); else JavaScript.
  const cpu = nativeCrc32c();
  if (cpu !== null) return cpu;
  try {
    const native = require('@node-rs/crc32') as { crc32c(input: Uint8Array, initial?: number): number };
    return (b) => native.crc32c(b) >>> 0;
  } catch {
    const js = require('crc-32/crc32c') as { buf(data: Uint8Array, seed?: number): number };
    return (b) => js.buf(b) >>> 0;
  }
}

/** CRC-32C of the whole buffer, as an unsigned 32-bit number. */
export const crc32c: Crc32cFn = loadCrc32c();

// ---- int64 as JS number ---------------------------------------------------------------------------

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 2 ** 32 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 2 ** 32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 2 ** 32, pos + 4);
}

// ---- header field readers -------------------------------------------------------------------------

export const readBaseOffset = (buf: Buffer, pos: number): number => readInt64(buf, pos + BASE_OFFSET);
export const readBatchLength = (buf: Buffer, pos: number): number => buf.readInt32BE(pos + BATCH_LENGTH);
/** Total bytes of the batch on the wire/disk (batchLength + 12). */
export const readBatchSize = (buf: Buffer, pos: number): number =>
  buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD;
export const readPartitionLeaderEpoch = (buf: Buffer, pos: number): number =>
  buf.readInt32BE(pos + PARTITION_LEADER_EPOCH);
export const readMagic = (buf: Buffer, pos: number): number => buf.readInt8(pos + MAGIC);
export const readCrc = (buf: Buffer, pos: number): number => buf.readUInt32BE(pos + CRC);
export const readAttributes = (buf: Buffer, pos: number): number => buf.readInt16BE(pos + ATTRIBUTES);
export const readLastOffsetDelta = (buf: Buffer, pos: number): number =>
  buf.readInt32BE(pos + LAST_OFFSET_DELTA);
export const readBaseTimestamp = (buf: Buffer, pos: number): number => readInt64(buf, pos + BASE_TIMESTAMP);
export const readMaxTimestamp = (buf: Buffer, pos: number): number => readInt64(buf, pos + MAX_TIMESTAMP);
export const readProducerId = (buf: Buffer, pos: number): number => readInt64(buf, pos + PRODUCER_ID);
export const readProducerEpoch = (buf: Buffer, pos: number): number => buf.readInt16BE(pos + PRODUCER_EPOCH);
export const readBaseSequence = (buf: Buffer, pos: number): number => buf.readInt32BE(pos + BASE_SEQUENCE);
export const readRecordsCount = (buf: Buffer, pos: number): number => buf.readInt32BE(pos + RECORDS_COUNT);

export const lastOffset = (buf: Buffer, pos: number): number =>
  readBaseOffset(buf, pos) + readLastOffsetDelta(buf, pos);
export const nextOffset = (buf: Buffer, pos: number): number => lastOffset(buf, pos) + 1;
export const isControl = (buf: Buffer, pos: number): boolean =>
  (readAttributes(buf, pos) & CONTROL_FLAG_MASK) !== 0;
/** Records of a batch a consumer is given: none for a control batch (its record is a marker). */
export const dataRecordsCount = (b: Pick<BatchInfo, 'attributes' | 'recordsCount'>): number =>
  (b.attributes & CONTROL_FLAG_MASK) === 0 ? b.recordsCount : 0;
export const isTransactional = (buf: Buffer, pos: number): boolean =>
  (readAttributes(buf, pos) & TRANSACTIONAL_FLAG_MASK) !== 0;
export const isLogAppendTime = (buf: Buffer, pos: number): boolean =>
  (readAttributes(buf, pos) & TIMESTAMP_TYPE_MASK) !== 0;

/** Compression codec name, or null for the unused codec ids 5..7. */
export function compression(buf: Buffer, pos: number): CompressionType | null {
  return COMPRESSION_NAMES[readAttributes(buf, pos) & COMPRESSION_CODEC_MASK] ?? null;
}

// ---- CRC ------------------------------------------------------------------------------------------

/** CRC-32C the batch at pos should carry (bytes [pos+21, pos+size)). Caller ensures the batch is in buf. */
export function computeCrc(buf: Buffer, pos: number): number {
  return crc32c(buf.subarray(pos + ATTRIBUTES, pos + readBatchSize(buf, pos)));
}

/** True when the whole batch is inside buf and its stored CRC matches. */
export function verifyCrc(buf: Buffer, pos: number): boolean {
  if (pos + HEADER_SIZE > buf.length) return false;
  const size = readBatchSize(buf, pos);
  if (size < HEADER_SIZE || pos + size > buf.length) return false;
  return readCrc(buf, pos) === crc32c(buf.subarray(pos + ATTRIBUTES, pos + size));
}

export function writeCrc(buf: Buffer, pos: number): void {
  buf.writeUInt32BE(computeCrc(buf, pos), pos + CRC);
}

// ---- in-place patches -----------------------------------------------------------------------------

/** Outside the CRC: no recompute. */
export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + BASE_OFFSET, offset);
}

/** Outside the CRC: no recompute. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH);
}

/** DefaultRecordBatch.setMaxTimestamp(LOG_APPEND_TIME, ts): maxTimestamp := ts, attribute bit 3, new CRC. */
export function setLogAppendTime(buf: Buffer, pos: number, timestamp: number): void {
  const attrs = readAttributes(buf, pos);
  if ((attrs & TIMESTAMP_TYPE_MASK) !== 0 && readMaxTimestamp(buf, pos) === timestamp) return;
  buf.writeInt16BE(attrs | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES);
  writeInt64(buf, pos + MAX_TIMESTAMP, timestamp);
  writeCrc(buf, pos);
}

// ---- shallow iteration ----------------------------------------------------------------------------

export interface BatchInfo {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  partitionLeaderEpoch: number;
  attributes: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/** Why iteration stopped: 'end' = every byte consumed; the others leave `position` at the bad batch. */
export type BatchStopReason = 'end' | 'partial' | 'invalid-size' | 'invalid-magic' | 'crc-mismatch';

export function readBatchInfo(buf: Buffer, pos: number): BatchInfo {
  const baseOffset = readBaseOffset(buf, pos);
  return {
    position: pos,
    size: readBatchSize(buf, pos),
    baseOffset,
    lastOffset: baseOffset + readLastOffsetDelta(buf, pos),
    partitionLeaderEpoch: readPartitionLeaderEpoch(buf, pos),
    attributes: readAttributes(buf, pos),
    baseTimestamp: readBaseTimestamp(buf, pos),
    maxTimestamp: readMaxTimestamp(buf, pos),
    producerId: readProducerId(buf, pos),
    producerEpoch: readProducerEpoch(buf, pos),
    baseSequence: readBaseSequence(buf, pos),
    recordsCount: readRecordsCount(buf, pos),
  };
}

/** Checks the batch starting at pos without reading past `end`; null when it is whole and valid. */
export function checkBatchAt(buf: Buffer, pos: number, end: number, verify: boolean): BatchStopReason | null {
  const remaining = end - pos;
  if (remaining < LOG_OVERHEAD) return 'partial';
  const size = readBatchSize(buf, pos);
  if (size < HEADER_SIZE) return 'invalid-size';
  if (size > remaining) return 'partial';
  if (readMagic(buf, pos) !== MAGIC_V2) return 'invalid-magic';
  if (verify && readCrc(buf, pos) !== crc32c(buf.subarray(pos + ATTRIBUTES, pos + size)))
    return 'crc-mismatch';
  return null;
}

/**
 * Iterates concatenated batches in buf[start, end). After the loop, `stopReason` tells why it ended and
 * `position` is the first byte not covered by a yielded batch (the valid prefix length when start = 0).
 */
export class BatchIterator implements IterableIterator<BatchInfo> {
  position: number;
  stopReason: BatchStopReason | null = null;
  private readonly end: number;

  constructor(
    private readonly buf: Buffer,
    private readonly opts: { verifyCrc?: boolean; start?: number; end?: number } = {},
  ) {
    this.position = opts.start ?? 0;
    this.end = Math.min(opts.end ?? buf.length, buf.length);
  }

  next(): IteratorResult<BatchInfo> {
    if (this.stopReason !== null) return { done: true, value: undefined };
    if (this.position >= this.end) {
      this.stopReason = 'end';
      return { done: true, value: undefined };
    }
    const bad = checkBatchAt(this.buf, this.position, this.end, this.opts.verifyCrc ?? false);
    if (bad !== null) {
      this.stopReason = bad;
      return { done: true, value: undefined };
    }
    const info = readBatchInfo(this.buf, this.position);
    this.position += info.size;
    return { done: false, value: info };
  }

  [Symbol.iterator](): IterableIterator<BatchInfo> {
    return this;
  }
}

export function iterateBatches(
  buf: Buffer,
  opts: { verifyCrc?: boolean; start?: number; end?: number } = {},
): BatchIterator {
  return new BatchIterator(buf, opts);
}

// ---- produce-side validation ----------------------------------------------------------------------

export type ProduceValidationError = 'CORRUPT_MESSAGE' | 'MESSAGE_TOO_LARGE' | 'INVALID_RECORD';

/**
 * Validates the records of one partition of a Produce request (v3+, magic 2 only), shallowly: no record
 * decoding. Error choice follows Kafka's exception types:
 * - INVALID_RECORD (InvalidRecordException): no batch, magic != 2, more than one batch, baseOffset != 0,
 *   lastOffsetDelta/count inconsistent or count <= 0, control batch from a client, producerId >= 0 with
 *   baseSequence < 0.
 * - CORRUPT_MESSAGE (CorruptRecordException): batch length < header size or > the bytes present, CRC mismatch.
 * - MESSAGE_TOO_LARGE (RecordTooLargeException): batch size > max.message.bytes.
 * Checks run in Kafka's order (request validation, then UnifiedLog, then LogValidator).
 */
export function validateProducedBatches(
  records: Buffer,
  maxMessageBytes: number,
): { error: ProduceValidationError; message?: string } | { batch: BatchInfo } {
  if (records.length < LOG_OVERHEAD)
    return { error: records.length === 0 ? 'INVALID_RECORD' : 'CORRUPT_MESSAGE' };
  const size = readBatchSize(records, 0);
  if (size < HEADER_SIZE || size > records.length) return { error: 'CORRUPT_MESSAGE' };
  if (readMagic(records, 0) !== MAGIC_V2) return { error: 'INVALID_RECORD' };
  if (size !== records.length) {
    // A whole second batch is "more than one batch"; stray trailing bytes are a length mismatch.
    const rest = records.length - size;
    const second = rest >= LOG_OVERHEAD ? readBatchSize(records, size) : -1;
    return { error: second >= HEADER_SIZE && second <= rest ? 'INVALID_RECORD' : 'CORRUPT_MESSAGE' };
  }
  const batch = readBatchInfo(records, 0);
  if (batch.baseOffset !== 0) return { error: 'INVALID_RECORD' };
  if (size > maxMessageBytes) return { error: 'MESSAGE_TOO_LARGE' };
  if (!verifyCrc(records, 0)) return { error: 'CORRUPT_MESSAGE' };
  const delta = batch.lastOffset - batch.baseOffset;
  if (delta < 0 || batch.recordsCount <= 0 || batch.recordsCount !== delta + 1)
    return { error: 'INVALID_RECORD' };
  if ((batch.attributes & CONTROL_FLAG_MASK) !== 0) return { error: 'INVALID_RECORD' };
  if (batch.producerId >= 0 && batch.baseSequence < 0) return { error: 'INVALID_RECORD' };
  // Kafka's LogValidator iterates the records of an uncompressed batch (DefaultRecord.readFrom):
  // a record whose structure does not add up is InvalidRecordException. Without this a batch of
  // garbage under a good CRC was stored and every consumer of it failed (found by scripts/fuzz).
  const codecId = batch.attributes & COMPRESSION_CODEC_MASK;
  if (codecId === 0) {
    if (invalidRecordsStructure(records, HEADER_SIZE, size, batch.recordsCount) !== null)
      return { error: 'INVALID_RECORD' };
  } else {
    // Compressed: decompressed (bounded) and walked the same way (record-batch-compressed.ts).
    const why = invalidCompressedRecords(
      records,
      HEADER_SIZE,
      size,
      codecId,
      batch.recordsCount,
      maxMessageBytes,
    );
    if (why !== null) return { error: 'INVALID_RECORD', message: why };
  }
  return { batch };
}

/** Where the last `varintAt` stopped; -1 truncated, -2 longer than its limit. */
let varintEnd = 0;

/**
 * The zigzag varint of at most `maxBytes` bytes at `pos` (before `end`), with `varintEnd` set to the
 * position after it. Values of more than 32 bits (a varlong's) are not decoded, only stepped over:
 * the callers need their extent, not their value.
 */
function varintAt(buf: Buffer, pos: number, end: number, maxBytes: number): number {
  let raw = 0;
  const last = pos + maxBytes;
  for (let p = pos, shift = 0; p < last; p++, shift += 7) {
    if (p >= end) {
      varintEnd = -1;
      return 0;
    }
    const b = buf[p]!;
    if (shift < 32) raw |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      varintEnd = p + 1;
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
  varintEnd = -2;
  return 0;
}

function varintError(what: string, maxBytes: number): string {
  return varintEnd === -1 ? `${what} truncated` : `${what} is longer than ${maxBytes} bytes`;
}

/**
 * The end of the valid record at `pos` when each of its varints is one or two bytes and it has no
 * headers; 0 otherwise (the record may still be valid: the general walk decides). A valid answer
 * here is one the general walk gives too.
 */
function shortRecordEnd(buf: Buffer, pos: number, end: number): number {
  if (pos + 2 > end) return 0;
  let b = buf[pos]!;
  let raw: number;
  if (b < 0x80) {
    raw = b;
    pos += 1;
  } else {
    const b1 = buf[pos + 1]!;
    if (b1 >= 0x80) return 0;
    raw = (b & 0x7f) | (b1 << 7);
    pos += 2;
  }
  const length = (raw >>> 1) ^ -(raw & 1);
  const recEnd = pos + length;
  // attributes, timestamp delta, offset delta, key length, value length, header count: >= 6 bytes
  if (length < 6 || recEnd > end) return 0;
  pos++; // attributes
  for (let field = 0; field < 2; field++) {
    // timestamp and offset deltas: stepped over
    if (buf[pos]! < 0x80) pos += 1;
    else if (buf[pos + 1]! < 0x80) pos += 2;
    else return 0;
    if (pos >= recEnd) return 0;
  }
  for (let field = 0; field < 2; field++) {
    // key, then value: a length (-1 for null) and its bytes
    b = buf[pos]!;
    if (b < 0x80) {
      raw = b;
      pos += 1;
    } else {
      const b1 = buf[pos + 1]!;
      if (b1 >= 0x80) return 0;
      raw = (b & 0x7f) | (b1 << 7);
      pos += 2;
    }
    const n = (raw >>> 1) ^ -(raw & 1);
    if (n > 0) pos += n;
    else if (n < -1) return 0;
    if (pos >= recEnd) return 0;
  }
  // no headers, and nothing after
  return buf[pos] === 0 && pos + 1 === recEnd ? recEnd : 0;
}

/**
 * Walks `count` records in buf[start, end) as DefaultRecord.readFrom reads them, without
 * allocating: each record's length, attributes, timestamp and offset deltas, key, value and
 * headers must fit its length exactly, and the records must fill the section. Returns why not,
 * or null when the structure is valid. On the produce path of every uncompressed batch, so it
 * reads with plain positions and no exceptions.
 */
export function invalidRecordsStructure(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
): string | null {
  let pos = start;
  for (let i = 0; i < count; i++) {
    // Most records are short varints only: checked in one pass without the general reader.
    const fast = shortRecordEnd(buf, pos, end);
    if (fast > 0) {
      pos = fast;
      continue;
    }
    const length = varintAt(buf, pos, end, 5);
    if (varintEnd < 0) return varintError('varint', 5);
    pos = varintEnd;
    if (length < 0 || length > end - pos) return `record ${i}: length ${length} exceeds the batch`;
    const recEnd = pos + length;
    if (pos >= recEnd) return `record ${i}: no attributes`;
    pos++; // attributes
    varintAt(buf, pos, recEnd, 10); // timestamp delta (a varlong)
    if (varintEnd < 0) return varintError('varlong', 10);
    pos = varintEnd;
    varintAt(buf, pos, recEnd, 5); // offset delta
    if (varintEnd < 0) return varintError('varint', 5);
    pos = varintEnd;
    const keyLength = varintAt(buf, pos, recEnd, 5);
    if (varintEnd < 0) return varintError('varint', 5);
    pos = varintEnd;
    if (keyLength > recEnd - pos) return `record ${i}: key length ${keyLength} exceeds the record`;
    if (keyLength > 0) pos += keyLength;
    const valueLength = varintAt(buf, pos, recEnd, 5);
    if (varintEnd < 0) return varintError('varint', 5);
    pos = varintEnd;
    if (valueLength > recEnd - pos) return `record ${i}: value length ${valueLength} exceeds the record`;
    if (valueLength > 0) pos += valueLength;
    const headers = varintAt(buf, pos, recEnd, 5);
    if (varintEnd < 0) return varintError('varint', 5);
    pos = varintEnd;
    if (headers < 0 || headers * 2 > recEnd - pos) return `record ${i}: invalid header count ${headers}`;
    for (let h = 0; h < headers; h++) {
      const k = varintAt(buf, pos, recEnd, 5);
      if (varintEnd < 0) return varintError('varint', 5);
      pos = varintEnd;
      if (k < 0 || k > recEnd - pos) return `record ${i}: invalid header key size ${k}`;
      pos += k;
      const v = varintAt(buf, pos, recEnd, 5);
      if (varintEnd < 0) return varintError('varint', 5);
      pos = varintEnd;
      if (v > recEnd - pos) return `record ${i}: header value length ${v} exceeds the record`;
      if (v > 0) pos += v;
    }
    if (pos !== recEnd) return `record ${i}: ${recEnd - pos} bytes left in its payload`;
  }
  return pos === end ? null : `${end - pos} bytes remain after the ${count} records declared`;
}
