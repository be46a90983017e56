// Record-level reader/writer for magic-2 record batches (Kafka's DefaultRecordBatch + DefaultRecord).
// Not for the produce/fetch hot path (those move batches as opaque bytes, see record-batch.ts): this module
// decodes records for tests and for the few broker places that need them (exact timestamp lookup inside a
// batch, control records), and encodes batches with compression on top of record-batch-builder.ts.
//
// The codecs themselves are in compression.ts.

import {
  CODEC_NAMES,
  COMPRESSION_CODEC_IDS,
  compress,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  decompress,
  InvalidRecordError,
} from './compression.js';
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
import { readVarint, readVarlong } from './varint.js';

export {
  COMPRESSION_CODEC_IDS,
  compress,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  decompress,
  InvalidRecordError,
} from './compression.js';
export type { CompressionType } from './record-batch.js';

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

// ---- the record reader (varints from varint.ts) ------------------------------------------------------

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
    return readVarint(this.buf, this, this.end, fail);
  }

  /** Zigzag varlong, at most 10 bytes; values outside the JS safe-integer range are rejected. */
  varlong(): number {
    return readVarlong(this.buf, this, this.end, fail);
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
