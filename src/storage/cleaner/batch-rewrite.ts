// Record-level reading and rewriting of one magic-2 batch for the cleaner (the parts of Kafka's
// DefaultRecordBatch / MemoryRecordsBuilder that MemoryRecords.filterTo uses): the records of a batch
// (decompressed) with their bytes kept, a batch rebuilt from the retained ones (same base offset, last
// offset, producer fields, leader epoch and codec; the delete horizon in the base timestamp when set) and
// the empty header that keeps an active producer's last sequence once all its records are gone.
import {
  CODEC_NAMES,
  compress,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  decompress,
  InvalidRecordError,
} from '../../protocol/compression.js';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
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
  writeInt64,
} from '../../protocol/record-batch.js';
import { encodeVarlong, readVarint, readVarlong } from '../../protocol/varint.js';

const fail = (message: string): never => {
  throw new InvalidRecordError(message);
};

/** One record of a batch as the cleaner needs it: what decides its fate, and its bytes to copy. */
export interface CleanerRecord {
  offset: number;
  timestamp: number;
  attributes: number;
  offsetDelta: number;
  key: Buffer | null;
  /** null for a tombstone. */
  value: Buffer | null;
  /** The encoded header count and headers, copied as they are. */
  headers: Buffer;
}

/** The batch header fields the cleaner reads (a BatchInfo plus what lives in the attributes). */
export interface CleanerBatch {
  baseOffset: number;
  lastOffset: number;
  attributes: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  partitionLeaderEpoch: number;
  recordsCount: number;
}

export function readCleanerBatch(buf: Buffer, pos: number): CleanerBatch {
  const baseOffset = readInt64(buf, pos + BASE_OFFSET);
  return {
    baseOffset,
    lastOffset: baseOffset + buf.readInt32BE(pos + LAST_OFFSET_DELTA),
    attributes: buf.readInt16BE(pos + ATTRIBUTES),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    producerId: readInt64(buf, pos + PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH),
    recordsCount: buf.readInt32BE(pos + RECORDS_COUNT),
  };
}

export const isControlBatch = (b: CleanerBatch): boolean => (b.attributes & CONTROL_FLAG_MASK) !== 0;
export const isTransactionalBatch = (b: CleanerBatch): boolean =>
  (b.attributes & TRANSACTIONAL_FLAG_MASK) !== 0;
export const hasProducerId = (b: CleanerBatch): boolean => b.producerId >= 0;
/** The batch's delete horizon (Kafka's deleteHorizonMs): its base timestamp when the flag is set. */
export const deleteHorizonMs = (b: CleanerBatch): number | null =>
  (b.attributes & DELETE_HORIZON_FLAG_MASK) !== 0 ? b.baseTimestamp : null;

/** The records of the batch at `pos` (size `size`), decompressed when needed. */
export function readCleanerRecords(
  buf: Buffer,
  pos: number,
  size: number,
  batch: CleanerBatch,
): CleanerRecord[] {
  const codec = CODEC_NAMES[batch.attributes & COMPRESSION_CODEC_MASK] ?? fail('unknown compression codec');
  let data = buf;
  let start = pos + HEADER_SIZE;
  let end = pos + size;
  if (codec !== 'none') {
    data = decompress(codec, buf.subarray(start, end), DEFAULT_MAX_UNCOMPRESSED_BYTES);
    start = 0;
    end = data.length;
  }
  const logAppendTime = (batch.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const out: CleanerRecord[] = [];
  const cur = { pos: start };
  for (let i = 0; i < batch.recordsCount; i++) {
    const length = readVarint(data, cur, end, fail);
    const recEnd = cur.pos + length;
    if (length < 0 || recEnd > end) fail(`record ${i}: length ${length} runs past the batch`);
    if (cur.pos >= recEnd) fail(`record ${i}: truncated`);
    const attributes = data.readInt8(cur.pos++);
    const timestampDelta = readVarlong(data, cur, recEnd, fail);
    const offsetDelta = readVarint(data, cur, recEnd, fail);
    const key = readBytes(data, cur, recEnd);
    const value = readBytes(data, cur, recEnd);
    out.push({
      offset: batch.baseOffset + offsetDelta,
      timestamp: logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + timestampDelta,
      attributes,
      offsetDelta,
      key,
      value,
      headers: data.subarray(cur.pos, recEnd),
    });
    cur.pos = recEnd;
  }
  return out;
}

function readBytes(data: Buffer, cur: { pos: number }, end: number): Buffer | null {
  const len = readVarint(data, cur, end, fail);
  if (len < 0) return null;
  if (len > end - cur.pos) fail(`field length ${len} runs past the record`);
  const b = data.subarray(cur.pos, cur.pos + len);
  cur.pos += len;
  return b;
}

function encodeRecord(r: CleanerRecord, baseTimestamp: number): Buffer[] {
  const nullable = (b: Buffer | null): Buffer[] =>
    b === null ? [encodeVarlong(-1)] : [encodeVarlong(b.length), b];
  const body = [
    Buffer.from([r.attributes & 0xff]),
    encodeVarlong(r.timestamp - baseTimestamp),
    encodeVarlong(r.offsetDelta),
    ...nullable(r.key),
    ...nullable(r.value),
    r.headers,
  ];
  let len = 0;
  for (const b of body) len += b.length;
  return [encodeVarlong(len), ...body];
}

/**
 * A batch of the retained records, as Kafka's buildRetainedRecordsInto: the original base offset, last
 * offset (so the producer's last sequence stays), producer id/epoch/base sequence, flags, leader epoch and
 * codec; the base timestamp is the delete horizon when there is one, else the first record's timestamp.
 */
export function buildRetainedBatch(
  batch: CleanerBatch,
  records: readonly CleanerRecord[],
  deleteHorizon: number | null,
): Buffer {
  const codec = CODEC_NAMES[batch.attributes & COMPRESSION_CODEC_MASK]!;
  const logAppendTime = (batch.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const baseTimestamp = deleteHorizon ?? records[0]!.timestamp;
  let maxTimestamp = logAppendTime ? batch.maxTimestamp : -1;
  if (!logAppendTime) for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  const parts: Buffer[] = [];
  for (const r of records) parts.push(...encodeRecord(r, baseTimestamp));
  const plain = Buffer.concat(parts);
  const section = codec === 'none' ? plain : compress(codec, plain);
  let attributes = batch.attributes & ~DELETE_HORIZON_FLAG_MASK;
  if (deleteHorizon !== null) attributes |= DELETE_HORIZON_FLAG_MASK;
  const out = Buffer.allocUnsafe(HEADER_SIZE + section.length);
  writeHeader(out, batch, attributes, baseTimestamp, maxTimestamp, records.length, out.length);
  section.copy(out, HEADER_SIZE);
  writeCrc(out, 0);
  return out;
}

/** Kafka's DefaultRecordBatch.writeEmptyHeader: no records, the batch's offsets and producer fields kept. */
export function buildEmptyBatch(batch: CleanerBatch): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE);
  const attributes = batch.attributes & (TIMESTAMP_TYPE_MASK | TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK);
  writeHeader(out, batch, attributes, batch.maxTimestamp, batch.maxTimestamp, 0, HEADER_SIZE);
  writeCrc(out, 0);
  return out;
}

function writeHeader(
  out: Buffer,
  batch: CleanerBatch,
  attributes: number,
  baseTimestamp: number,
  maxTimestamp: number,
  count: number,
  size: number,
): void {
  writeInt64(out, BASE_OFFSET, batch.baseOffset);
  out.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH);
  out.writeInt32BE(batch.partitionLeaderEpoch, PARTITION_LEADER_EPOCH);
  out.writeInt8(MAGIC_V2, MAGIC);
  out.writeInt16BE(attributes, ATTRIBUTES);
  out.writeInt32BE(batch.lastOffset - batch.baseOffset, LAST_OFFSET_DELTA);
  writeInt64(out, BASE_TIMESTAMP, baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP, maxTimestamp);
  writeInt64(out, PRODUCER_ID, batch.producerId);
  out.writeInt16BE(batch.producerEpoch, PRODUCER_EPOCH);
  out.writeInt32BE(batch.baseSequence, BASE_SEQUENCE);
  out.writeInt32BE(count, RECORDS_COUNT);
}

/** The control record type (ABORT 0, COMMIT 1, ...) of a control batch, or null when it has no record. */
export function controlType(buf: Buffer, pos: number, size: number, batch: CleanerBatch): number | null {
  if (batch.recordsCount === 0) return null;
  const rec = readCleanerRecords(buf, pos, size, batch)[0];
  if (rec === undefined || rec.key === null || rec.key.length < 4)
    return fail('control record key must be int16 version + int16 type');
  return rec.key.readInt16BE(2);
}
