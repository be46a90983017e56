// Record-level reader/writer for magic-2 record batches (Kafka's DefaultRecordBatch + DefaultRecord).
// Not for the produce/fetch hot path (those move batches as opaque bytes, see record-batch.ts): this module
// decodes records for tests and for the few broker places that need them (exact timestamp lookup inside a
// batch, control records), and encodes batches with compression on top of record-batch-builder.ts.
//
// Codecs (attributes bits 0-2): gzip (node:zlib), snappy (snappyjs; raw snappy as librdkafka writes it, or
// the xerial framing Java writes), lz4 (the LZ4 *frame* format, parsed here over a checked block decoder),
// zstd (fzstd; node 20's zlib has no zstd).
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  type CompressionType,
  CRC,
  crc32c,
  DELETE_HORIZON_FLAG_MASK,
  HEADER_SIZE,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_V2,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  RECORDS_COUNT,
  readInt64,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  writeCrc,
} from './record-batch.js';
import { type BuildRecord, buildRecordBatch } from './record-batch-builder.js';

export type { CompressionType } from './record-batch.js';

const require = createRequire(import.meta.url);
const snappy = require('snappyjs') as {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
};
const lz4js = require('lz4js') as {
  compressBound(n: number): number;
  compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
};
const xxh32 = (
  require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, i: number, n: number): number }
).hash;

export const COMPRESSION_CODEC_IDS: Readonly<Record<CompressionType, number>> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};
const CODEC_NAMES: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** ControlRecordType.java. Only ABORT and COMMIT are written by brokers for transactions. */
export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;
const CONTROL_TYPE_NAMES = Object.fromEntries(
  Object.entries(ControlRecordType).map(([k, v]) => [v, k]),
) as Record<number, string>;

/** Default cap on the decompressed size of one batch's records section. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 128 * 1024 * 1024;

export class InvalidRecordError extends Error {
  override name = 'InvalidRecordError';
}
const fail = (message: string): never => {
  throw new InvalidRecordError(message);
};

// ---- types ----------------------------------------------------------------------------------------

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  offset: number;
  /** baseTimestamp + timestampDelta, or the batch maxTimestamp under LogAppendTime. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  offsetDelta: number;
  timestampDelta: number;
  /** Record attributes byte (unused by Kafka, always 0 from real clients). */
  attributes: number;
}

/** The parsed key (and, for ABORT/COMMIT, value) of a control record. */
export interface ControlRecord {
  version: number;
  type: number;
  /** 'ABORT', 'COMMIT', ... or 'UNKNOWN'. */
  typeName: string;
  /** EndTransactionMarker value (ABORT/COMMIT only; null if the value is absent or too short). */
  coordinatorEpoch: number | null;
}

export interface DecodedRecordBatch {
  baseOffset: number;
  batchLength: number;
  /** Bytes the batch occupies in `buf` (batchLength + 12). */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  /** Whether the stored CRC-32C matches bytes [attributes, end). */
  crcValid: boolean;
  attributes: number;
  compression: CompressionType;
  timestampType: 'CreateTime' | 'LogAppendTime';
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  lastOffset: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
  records: DecodedRecord[];
  /** For a control batch: its (single) control record's key/value, parsed. */
  controlRecord: ControlRecord | null;
}

export interface DecodeOptions {
  /** Throw when the CRC does not match (default true). With false, `crcValid` reports it. */
  verifyCrc?: boolean;
  /** Cap on the decompressed records section (default DEFAULT_MAX_UNCOMPRESSED_BYTES). */
  maxUncompressedBytes?: number;
}

// ---- varints (zigzag, as ByteUtils.readVarint / readVarlong) -----------------------------------------

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  int8(): number {
    if (this.pos >= this.end) fail('record truncated: expected 1 more byte');
    return this.buf.readInt8(this.pos++);
  }

  /** Zigzag varint, at most 5 bytes (an int32). */
  varint(): number {
    let raw = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) fail('varint truncated');
      const b = this.buf[this.pos++]!;
      raw |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
    }
    return fail('varint is longer than 5 bytes');
  }

  /** Zigzag varlong, at most 10 bytes; values outside the JS safe-integer range are rejected. */
  varlong(): number {
    let raw = 0;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) fail('varlong truncated');
      const b = this.buf[this.pos++]!;
      raw += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    // 8 bytes or more: more than 49 bits, finish exactly with BigInt.
    let big = BigInt(raw);
    for (let i = 7; i < 10; i++) {
      if (this.pos >= this.end) fail('varlong truncated');
      const b = this.buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        big = BigInt.asUintN(64, big);
        const v = (big >> 1n) ^ -(big & 1n);
        const n = Number(v);
        if (!Number.isSafeInteger(n)) fail(`varlong ${v} is outside the safe integer range`);
        return n;
      }
    }
    return fail('varlong is longer than 10 bytes');
  }

  /** varint length + bytes; any negative length is null (DefaultRecord.readFrom). */
  bytes(what: string): Buffer | null {
    const len = this.varint();
    if (len < 0) return null;
    if (len > this.remaining)
      fail(`${what} length ${len} exceeds the ${this.remaining} bytes left in the record`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

// ---- records --------------------------------------------------------------------------------------

/** Smallest encoded record: length, attributes, timestampDelta, offsetDelta, key, value, headerCount. */
const MIN_RECORD_SIZE = 7;

function readRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  logAppendTime: number | null,
): DecodedRecord[] {
  if (count < 0) fail(`invalid recordsCount ${count}`);
  if (count * MIN_RECORD_SIZE > end - start) {
    fail(`recordsCount ${count} cannot fit in the ${end - start} bytes of the records section`);
  }
  const records: DecodedRecord[] = [];
  const outer = new Reader(buf, start, end);
  for (let i = 0; i < count; i++) {
    const length = outer.varint();
    if (length < 0 || length > outer.remaining) {
      fail(`record ${i}: length ${length} but only ${outer.remaining} bytes remain in the batch`);
    }
    const r = new Reader(buf, outer.pos, outer.pos + length);
    const attributes = r.int8();
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = r.bytes('key');
    const value = r.bytes('value');
    const headerCount = r.varint();
    if (headerCount < 0) fail(`record ${i}: invalid header count ${headerCount}`);
    if (headerCount * 2 > r.remaining)
      fail(`record ${i}: header count ${headerCount} exceeds the record size`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const hk = r.varint();
      if (hk < 0) fail(`record ${i}: invalid negative header key size ${hk}`);
      if (hk > r.remaining) fail(`record ${i}: header key length ${hk} exceeds the record size`);
      const hkey = buf.toString('utf8', r.pos, r.pos + hk);
      r.pos += hk;
      headers.push({ key: hkey, value: r.bytes('header value') });
    }
    if (r.pos !== r.end) {
      fail(
        `record ${i}: expected to read ${length} bytes in record payload, but read ${r.pos - (r.end - length)}`,
      );
    }
    outer.pos = r.end;
    records.push({
      offset: baseOffset + offsetDelta,
      timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      offsetDelta,
      timestampDelta,
      attributes,
    });
  }
  if (outer.remaining !== 0) {
    fail(`${outer.remaining} bytes remain after the ${count} records the batch declares`);
  }
  return records;
}

function parseControlRecord(record: DecodedRecord | undefined): ControlRecord {
  if (record === undefined) return fail('control batch without a record');
  const key = record.key;
  if (key === null || key.length < 4) return fail('control record key must be int16 version + int16 type');
  const version = key.readInt16BE(0);
  const type = key.readInt16BE(2);
  let coordinatorEpoch: number | null = null;
  const value = record.value;
  if ((type === ControlRecordType.ABORT || type === ControlRecordType.COMMIT) && value && value.length >= 6) {
    coordinatorEpoch = value.readInt32BE(2);
  }
  return { version, type, typeName: CONTROL_TYPE_NAMES[type] ?? 'UNKNOWN', coordinatorEpoch };
}

// ---- batch decode ---------------------------------------------------------------------------------

/** Decodes the magic-2 batch at `pos`: header, records (decompressed), control record. */
export function decodeRecordBatch(buf: Buffer, pos = 0, opts: DecodeOptions = {}): DecodedRecordBatch {
  const available = buf.length - pos;
  if (pos < 0 || available < HEADER_SIZE) {
    fail(`record batch truncated: ${Math.max(available, 0)} bytes, the header alone is ${HEADER_SIZE}`);
  }
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH);
  const size = batchLength + LOG_OVERHEAD;
  if (size < HEADER_SIZE) fail(`invalid batchLength ${batchLength}: smaller than the batch header`);
  if (size > available)
    fail(`record batch truncated: batchLength ${batchLength} needs ${size} bytes, ${available} left`);
  const magic = buf.readInt8(pos + MAGIC);
  if (magic !== MAGIC_V2) fail(`unsupported record batch magic ${magic} (only magic 2 is supported)`);

  const crc = buf.readUInt32BE(pos + CRC);
  const crcValid = crc === crc32c(buf.subarray(pos + ATTRIBUTES, pos + size));
  if (!crcValid && (opts.verifyCrc ?? true)) {
    const actual = crc32c(buf.subarray(pos + ATTRIBUTES, pos + size));
    fail(`record batch CRC mismatch: stored ${crc}, computed ${actual}`);
  }

  const attributes = buf.readInt16BE(pos + ATTRIBUTES);
  const codecId = attributes & COMPRESSION_CODEC_MASK;
  const compression = CODEC_NAMES[codecId] ?? fail(`unknown compression codec id ${codecId}`);
  const baseOffset = readInt64(buf, pos + BASE_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA);
  const baseTimestamp = readInt64(buf, pos + BASE_TIMESTAMP);
  const maxTimestamp = readInt64(buf, pos + MAX_TIMESTAMP);
  const isLogAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const isControl = (attributes & CONTROL_FLAG_MASK) !== 0;
  const recordsCount = buf.readInt32BE(pos + RECORDS_COUNT);

  const start = pos + HEADER_SIZE;
  const end = pos + size;
  let records: DecodedRecord[];
  if (compression === 'none') {
    records = readRecords(
      buf,
      start,
      end,
      recordsCount,
      baseOffset,
      baseTimestamp,
      isLogAppendTime ? maxTimestamp : null,
    );
  } else {
    const limit = opts.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
    const plain = decompress(compression, buf.subarray(start, end), limit);
    records = readRecords(
      plain,
      0,
      plain.length,
      recordsCount,
      baseOffset,
      baseTimestamp,
      isLogAppendTime ? maxTimestamp : null,
    );
  }

  return {
    baseOffset,
    batchLength,
    sizeInBytes: size,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH),
    magic,
    crc,
    crcValid,
    attributes,
    compression,
    timestampType: isLogAppendTime ? 'LogAppendTime' : 'CreateTime',
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
    lastOffsetDelta,
    lastOffset: baseOffset + lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId: readInt64(buf, pos + PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
    recordsCount,
    records,
    controlRecord: isControl ? parseControlRecord(records[0]) : null,
  };
}

/** Decodes every batch in buf[start, end) back to back (e.g. a Fetch response's records or a .log file). */
export function decodeRecordBatches(buf: Buffer, opts: DecodeOptions = {}): DecodedRecordBatch[] {
  const out: DecodedRecordBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const batch = decodeRecordBatch(buf, pos, opts);
    out.push(batch);
    pos += batch.sizeInBytes;
  }
  return out;
}

/**
 * Offset of the first record in the batch whose timestamp is >= ts (Kafka's ListOffsets by timestamp inside
 * one batch), or null when every record is older. Control batches hold no user records and answer null.
 */
export function findFirstOffsetAtOrAfterTimestamp(
  batch: Buffer | DecodedRecordBatch,
  ts: number,
  opts: DecodeOptions & { pos?: number } = {},
): number | null {
  const decoded = Buffer.isBuffer(batch) ? decodeRecordBatch(batch, opts.pos ?? 0, opts) : batch;
  if (decoded.isControl) return null;
  for (const r of decoded.records) if (r.timestamp >= ts) return r.offset;
  return null;
}

// ---- decompression --------------------------------------------------------------------------------

/** Decompresses a records section. `limit` caps the output size; exceeding it throws. */
export function decompress(
  codec: CompressionType,
  data: Buffer,
  limit = DEFAULT_MAX_UNCOMPRESSED_BYTES,
): Buffer {
  try {
    switch (codec) {
      case 'none':
        return data;
      case 'gzip':
        return gunzipSync(data, { maxOutputLength: limit });
      case 'snappy':
        return snappyDecompress(data, limit);
      case 'lz4':
        return lz4FrameDecompress(data, limit);
      case 'zstd':
        return zstdDecompressChecked(data, limit);
    }
  } catch (e) {
    if (e instanceof InvalidRecordError) throw e;
    throw new InvalidRecordError(`${codec} decompression failed: ${(e as Error).message}`);
  }
}

/** Compresses a records section. zstd is written as a valid zstd frame of raw (stored) blocks. */
export function compress(codec: CompressionType, data: Buffer): Buffer {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data);
    case 'snappy':
      return Buffer.from(snappy.compress(data));
    case 'lz4':
      return lz4FrameCompress(data);
    case 'zstd':
      return zstdStoredFrame(data);
  }
}

// snappy: raw, or xerial-framed (SnappyOutputStream: magic, int32 version, int32 compatible, then
// [int32 length, raw snappy block] chunks).
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function snappyDecompress(data: Buffer, limit: number): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return Buffer.from(snappy.uncompress(data, limit));
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let p = 16; // magic + version + compatible version
  while (p < data.length) {
    if (p + 4 > data.length) fail('xerial snappy: truncated chunk length');
    const len = data.readInt32BE(p);
    p += 4;
    if (len < 0 || len > data.length - p)
      fail(`xerial snappy: chunk length ${len} exceeds the ${data.length - p} bytes left`);
    const chunk = Buffer.from(snappy.uncompress(data.subarray(p, p + len), limit - total));
    total += chunk.length;
    chunks.push(chunk);
    p += len;
  }
  return Buffer.concat(chunks, total);
}

// zstd: fzstd sizes its output from the frame header (content size or window size); check those against
// the limit before letting it allocate.
const ZSTD_MAGIC = 0xfd2fb528;

function zstdDecompressChecked(data: Buffer, limit: number): Buffer {
  let p = 0;
  while (p < data.length) {
    if (p + 4 > data.length) fail('zstd: truncated frame magic');
    const magic = data.readUInt32LE(p);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (p + 8 > data.length) fail('zstd: truncated skippable frame');
      p += 8 + data.readUInt32LE(p + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) fail(`zstd: bad frame magic 0x${magic.toString(16)}`);
    if (p + 5 > data.length) fail('zstd: truncated frame header');
    const fhd = data[p + 4]!;
    const singleSegment = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    const hasChecksum = (fhd >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    let q = p + 5;
    let windowSize = 0;
    if (!singleSegment) {
      if (q >= data.length) fail('zstd: truncated window descriptor');
      const wd = data[q++]!;
      const base = 2 ** (10 + (wd >> 3));
      windowSize = base + (base / 8) * (wd & 7);
    }
    q += dictBytes;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    if (q + fcsBytes > data.length) fail('zstd: truncated frame header');
    let contentSize = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + data[q + i]!;
    if (fcsBytes === 2) contentSize += 256;
    q += fcsBytes;
    // fzstd allocates the content size when the frame declares one, else the window size.
    const allocation = contentSize || windowSize;
    if (allocation > limit)
      fail(`zstd: frame needs a ${allocation}-byte buffer, over the ${limit}-byte limit`);
    // Walk the blocks to find the next frame.
    for (;;) {
      if (q + 3 > data.length) fail('zstd: truncated block header');
      const bh = data[q]! | (data[q + 1]! << 8) | (data[q + 2]! << 16);
      const type = (bh >> 1) & 3;
      const bsize = bh >>> 3;
      if (type === 3) fail('zstd: reserved block type');
      q += 3 + (type === 1 ? 1 : bsize);
      if (q > data.length) fail('zstd: truncated block');
      if (bh & 1) break;
    }
    p = q + (hasChecksum ? 4 : 0);
    if (p > data.length) fail('zstd: truncated content checksum');
  }
  const out = zstdDecompress(data);
  if (out.length > limit) fail(`zstd: ${out.length} bytes decompressed, over the ${limit}-byte limit`);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

/** A zstd frame made of raw blocks (RFC 8878 §3.1.1): valid for every zstd decoder, not smaller. */
function zstdStoredFrame(data: Buffer): Buffer {
  const n = data.length;
  // Single segment, content checksum off; Frame_Content_Size field sized to fit.
  let fcsFlag: number;
  let fcs: Buffer;
  if (n < 256) {
    fcsFlag = 0;
    fcs = Buffer.from([n]);
  } else if (n < 65536 + 256) {
    fcsFlag = 1;
    fcs = Buffer.alloc(2);
    fcs.writeUInt16LE(n - 256);
  } else {
    fcsFlag = 2;
    fcs = Buffer.alloc(4);
    fcs.writeUInt32LE(n);
  }
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, (fcsFlag << 6) | 0x20]), fcs];
  const MAX_BLOCK = 128 * 1024;
  let p = 0;
  do {
    const len = Math.min(MAX_BLOCK, n - p);
    const last = p + len >= n ? 1 : 0;
    const bh = (len << 3) | (0 << 1) | last; // type 0 = Raw_Block
    parts.push(Buffer.from([bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]), data.subarray(p, p + len));
    p += len;
  } while (p < n);
  return Buffer.concat(parts);
}

// lz4: the LZ4 frame format (lz4_Frame_format.md) as Kafka uses it for magic 2 (KafkaLZ4BlockOutputStream
// writes FLG version 01 + block independence, BD 64 KB, no checksums; librdkafka uses liblz4's LZ4F).
// lz4js's own frame reader skips the checksums, trusts the declared content size for its allocation, and
// its block decoder does no bounds checks (bad match offsets silently read zeros), so frames are parsed
// here over a checked block decoder; lz4js provides the block compressor and xxh32.
const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZES: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

class GrowableBuffer {
  buf: Buffer;
  len = 0;
  constructor(
    initial: number,
    readonly limit: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(16, Math.min(initial, limit)));
  }
  /** Makes room for `n` more bytes, never beyond the limit; returns the usable end. */
  reserve(n: number): number {
    const want = Math.min(this.len + n, this.limit);
    if (want > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.min(Math.max(want, this.buf.length * 2), this.limit));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    return want;
  }
}

/**
 * Decodes one LZ4 block src[s, sEnd) into dst at dPos, without writing at or past dEnd; match offsets may
 * reach back to `historyStart` (the frame's output start for linked blocks, the block start otherwise).
 * Returns the new output position and where the last match started (-1 if none).
 */
function lz4DecodeBlock(
  src: Buffer,
  s: number,
  sEnd: number,
  dst: Buffer,
  dPos: number,
  dEnd: number,
  historyStart: number,
): { end: number; lastMatchAt: number } {
  let d = dPos;
  let lastMatchAt = -1;
  for (;;) {
    if (s >= sEnd) fail('lz4: block truncated (expected a sequence token)');
    const token = src[s++]!;
    let lit = token >> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (s >= sEnd) fail('lz4: block truncated in a literal length');
        b = src[s++]!;
        lit += b;
      } while (b === 255);
    }
    if (lit > sEnd - s) fail('lz4: literal run past the end of the block');
    if (lit > dEnd - d) fail('lz4: decompressed data exceeds the limit');
    src.copy(dst, d, s, s + lit);
    s += lit;
    d += lit;
    if (s === sEnd) return { end: d, lastMatchAt }; // the last sequence has literals only
    if (sEnd - s < 2) fail('lz4: block truncated in a match offset');
    const off = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (off === 0 || off > d - historyStart)
      fail(`lz4: match offset ${off} points before the start of the data`);
    let ml = token & 15;
    if (ml === 15) {
      let b: number;
      do {
        if (s >= sEnd) fail('lz4: block truncated in a match length');
        b = src[s++]!;
        ml += b;
      } while (b === 255);
    }
    ml += 4;
    if (ml > dEnd - d) fail('lz4: decompressed data exceeds the limit');
    lastMatchAt = d;
    if (off >= ml) {
      dst.copy(dst, d, d - off, d - off + ml);
      d += ml;
    } else {
      for (let i = 0; i < ml; i++, d++) dst[d] = dst[d - off]!;
    }
  }
}

function lz4FrameDecompress(data: Buffer, limit: number): Buffer {
  const out = new GrowableBuffer(data.length * 4, limit);
  let p = 0;
  if (data.length === 0) fail('lz4: empty input');
  while (p < data.length) {
    if (data.length - p < 4) fail('lz4: truncated frame magic');
    const magic = data.readUInt32LE(p);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (data.length - p < 8) fail('lz4: truncated skippable frame');
      p += 8 + data.readUInt32LE(p + 4);
      if (p > data.length) fail('lz4: truncated skippable frame');
      continue;
    }
    if (magic !== LZ4_MAGIC) fail(`lz4: bad frame magic 0x${magic.toString(16)}`);
    const descStart = p + 4;
    if (data.length - descStart < 3) fail('lz4: truncated frame descriptor');
    const flg = data[descStart]!;
    const bd = data[descStart + 1]!;
    if (flg >> 6 !== 1) fail(`lz4: unsupported frame version ${flg >> 6}`);
    if (flg & 0x02 || bd & 0x8f) fail('lz4: reserved frame descriptor bits set');
    const independent = (flg & 0x20) !== 0;
    const blockChecksum = (flg & 0x10) !== 0;
    const hasContentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    if (flg & 0x01) fail('lz4: frames with a dictionary id are not supported');
    const blockMax =
      LZ4_BLOCK_SIZES[(bd >> 4) & 7] ?? fail(`lz4: invalid block max size id ${(bd >> 4) & 7}`);
    let q = descStart + 2;
    let contentSize = -1;
    if (hasContentSize) {
      if (data.length - q < 9) fail('lz4: truncated frame descriptor');
      contentSize = data.readUInt32LE(q) + data.readUInt32LE(q + 4) * 2 ** 32;
      if (contentSize > limit) fail(`lz4: frame declares ${contentSize} bytes, over the ${limit}-byte limit`);
      q += 8;
    }
    const hc = (xxh32(0, data, descStart, q - descStart) >>> 8) & 0xff;
    if (data[q] !== hc) fail(`lz4: frame header checksum mismatch (stored ${data[q]}, computed ${hc})`);
    q++;
    const frameStart = out.len;
    for (;;) {
      if (data.length - q < 4) fail('lz4: truncated block size');
      const word = data.readUInt32LE(q);
      q += 4;
      if (word === 0) break; // EndMark
      const uncompressed = (word & 0x80000000) !== 0;
      const bsize = word & 0x7fffffff;
      if (bsize > blockMax) fail(`lz4: block size ${bsize} exceeds the frame's block max ${blockMax}`);
      if (data.length - q < bsize + (blockChecksum ? 4 : 0)) fail('lz4: truncated block');
      if (blockChecksum) {
        const want = data.readUInt32LE(q + bsize);
        if (xxh32(0, data, q, bsize) >>> 0 !== want) fail('lz4: block checksum mismatch');
      }
      if (uncompressed) {
        if (out.reserve(bsize) - out.len < bsize)
          fail(`lz4: decompressed data exceeds the ${limit}-byte limit`);
        data.copy(out.buf, out.len, q, q + bsize);
        out.len += bsize;
      } else {
        const dEnd = out.reserve(blockMax);
        const r = lz4DecodeBlock(
          data,
          q,
          q + bsize,
          out.buf,
          out.len,
          dEnd,
          independent ? out.len : frameStart,
        );
        out.len = r.end;
      }
      q += bsize + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) {
      if (data.length - q < 4) fail('lz4: truncated content checksum');
      const want = data.readUInt32LE(q);
      if (xxh32(0, out.buf, frameStart, out.len - frameStart) >>> 0 !== want)
        fail('lz4: content checksum mismatch');
      q += 4;
    }
    if (contentSize >= 0 && out.len - frameStart !== contentSize) {
      fail(`lz4: frame declares ${contentSize} bytes of content, decoded ${out.len - frameStart}`);
    }
    p = q;
  }
  return out.buf.subarray(0, out.len);
}

const LZ4_ENCODE_BLOCK = 64 * 1024;

/** One LZ4 frame: version 01, independent blocks, 64 KB block max, no checksums (as Kafka's Java client). */
function lz4FrameCompress(data: Buffer): Buffer {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]);
  header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
  const parts: Buffer[] = [header];
  const hashTable = new Uint32Array(1 << 16);
  const scratch = Buffer.alloc(lz4js.compressBound(LZ4_ENCODE_BLOCK));
  const check = Buffer.alloc(LZ4_ENCODE_BLOCK);
  for (let p = 0; p < data.length; p += LZ4_ENCODE_BLOCK) {
    const block = data.subarray(p, Math.min(p + LZ4_ENCODE_BLOCK, data.length));
    hashTable.fill(0);
    const n = lz4js.compressBlock(block, scratch, 0, block.length, hashTable);
    // Keep the compressed form only if it is smaller and obeys the format's end-of-block rules (the last
    // match starts >= 12 bytes before the end; lz4js can stop 3 bytes short of that, which liblz4 rejects).
    let ok = n > 0 && n < block.length;
    if (ok) {
      const r = lz4DecodeBlock(scratch, 0, n, check, 0, block.length, 0);
      ok = r.end === block.length && (r.lastMatchAt < 0 || block.length - r.lastMatchAt >= 12);
    }
    const size = Buffer.alloc(4);
    if (ok) {
      size.writeUInt32LE(n);
      parts.push(size, Buffer.from(scratch.subarray(0, n)));
    } else {
      size.writeUInt32LE((block.length | 0x80000000) >>> 0);
      parts.push(size, block);
    }
  }
  parts.push(Buffer.alloc(4)); // EndMark
  return Buffer.concat(parts);
}

// ---- batch encode ---------------------------------------------------------------------------------

export interface EncodeRecord {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
  /** Absolute timestamp; wins over timestampDelta. */
  timestamp?: number;
  /** Relative to the batch's baseTimestamp. */
  timestampDelta?: number;
}

export interface EncodeRecordBatchOptions {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  /** Codec; alternatively the low 3 bits of `attributes`. */
  compression?: CompressionType;
  /** Raw attributes: codec bits 0-2, LogAppendTime bit 3, transactional bit 4, control bit 5 are honoured. */
  attributes?: number;
  /**
   * What timestampDelta values are relative to (default: the first absolute timestamp, else now). The batch's
   * stored baseTimestamp is always its first record's timestamp, as Kafka's MemoryRecordsBuilder writes it.
   */
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  /** Marks the batch LogAppendTime with this maxTimestamp. */
  logAppendTime?: number;
  records: EncodeRecord[];
}

/**
 * Encodes a magic-2 batch with a valid CRC-32C. The uncompressed layout comes from record-batch-builder.ts
 * (one shared record encoder); compression rewrites the records section and header fields around it.
 */
export function encodeRecordBatch(opts: EncodeRecordBatchOptions): Buffer {
  const attrs = opts.attributes ?? 0;
  const codec: CompressionType =
    opts.compression ?? CODEC_NAMES[attrs & COMPRESSION_CODEC_MASK] ?? fail(`unknown codec id ${attrs & 7}`);
  const base =
    opts.baseTimestamp ?? opts.records.find((r) => r.timestamp !== undefined)?.timestamp ?? Date.now();
  const records: BuildRecord[] = opts.records.map((r) => ({
    key: r.key ?? null,
    value: r.value ?? null,
    headers: r.headers ?? [],
    timestamp: r.timestamp ?? base + (r.timestampDelta ?? 0),
  }));
  const logAppendTime =
    opts.logAppendTime ??
    ((attrs & TIMESTAMP_TYPE_MASK) !== 0 ? Math.max(...records.map((r) => r.timestamp!)) : undefined);
  const plain = buildRecordBatch({
    records,
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.producerEpoch ?? -1,
    baseSequence: opts.baseSequence ?? -1,
    transactional: opts.isTransactional ?? (attrs & TRANSACTIONAL_FLAG_MASK) !== 0,
    control: opts.isControl ?? (attrs & CONTROL_FLAG_MASK) !== 0,
    ...(logAppendTime !== undefined ? { logAppendTime } : {}),
  });
  if (codec === 'none') return plain;
  return withRecordsSection(plain, compress(codec, plain.subarray(HEADER_SIZE)), codec);
}

/** Header of `batch` + a new records section; sets the codec bits, batchLength and the CRC. */
function withRecordsSection(batch: Buffer, section: Buffer, codec: CompressionType): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + section.length);
  batch.copy(out, 0, 0, HEADER_SIZE);
  section.copy(out, HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH);
  const attrs = (out.readInt16BE(ATTRIBUTES) & ~COMPRESSION_CODEC_MASK) | COMPRESSION_CODEC_IDS[codec];
  out.writeInt16BE(attrs, ATTRIBUTES);
  writeCrc(out, 0);
  return out;
}

/** A COMMIT or ABORT marker batch (EndTransactionMarker), as the transaction coordinator writes. */
export function encodeControlBatch(opts: {
  type: 'COMMIT' | 'ABORT';
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestamp?: number;
}): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(ControlRecordType[opts.type], 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(opts.coordinatorEpoch, 2);
  return encodeRecordBatch({
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
    records: [{ key, value, timestamp: opts.timestamp ?? Date.now() }],
  });
}
