// Builds an uncompressed magic-2 record batch (header + records), mainly for tests.
// Mirrors the byte layout written by Kafka's MemoryRecordsBuilder / DefaultRecord.writeTo.

import {
  ATTRIBUTES,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  CONTROL_FLAG_MASK,
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
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  writeCrc,
  writeInt64,
} from './record-batch.js';
import { encodeVarlong } from './varint.js';

export interface BuildRecord {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: { key: string; value: Buffer | string | null }[];
  timestamp?: number;
}

export interface BuildRecordBatchOptions {
  records: BuildRecord[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  /** Sets attribute bit 3; maxTimestamp then is `logAppendTime`. */
  logAppendTime?: number;
  compression?: 'none';
  /** Overrides the record count written to the header (to build invalid batches). */
  recordsCountOverride?: number;
  /** Overrides lastOffsetDelta (to build invalid batches). */
  lastOffsetDeltaOverride?: number;
}

const toBuf = (v: Buffer | string | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v;

function bytesField(v: Buffer | null): Buffer[] {
  return v === null ? [encodeVarlong(-1)] : [encodeVarlong(v.length), v];
}

function encodeRecord(r: BuildRecord, offsetDelta: number, baseTimestamp: number): Buffer {
  const parts: Buffer[] = [
    Buffer.from([0]),
    encodeVarlong((r.timestamp ?? baseTimestamp) - baseTimestamp),
    encodeVarlong(offsetDelta),
    ...bytesField(toBuf(r.key)),
    ...bytesField(toBuf(r.value)),
    encodeVarlong(r.headers?.length ?? 0),
  ];
  for (const h of r.headers ?? []) {
    parts.push(...bytesField(Buffer.from(h.key, 'utf8')), ...bytesField(toBuf(h.value)));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([encodeVarlong(body.length), body]);
}

export function buildRecordBatch(opts: BuildRecordBatchOptions): Buffer {
  if ((opts.compression ?? 'none') !== 'none') throw new Error('only uncompressed batches are supported');
  if (opts.records.length === 0) throw new Error('a batch needs at least one record');
  const now = Date.now();
  const timestamps = opts.records.map((r) => r.timestamp ?? now);
  const baseTimestamp = timestamps[0]!;
  const maxRecordTs = Math.max(...timestamps);
  const body = Buffer.concat(
    opts.records.map((r, i) => encodeRecord({ ...r, timestamp: timestamps[i]! }, i, baseTimestamp)),
  );
  const buf = Buffer.alloc(HEADER_SIZE + body.length);
  let attributes = 0;
  if (opts.transactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (opts.control) attributes |= CONTROL_FLAG_MASK;
  if (opts.logAppendTime !== undefined) attributes |= TIMESTAMP_TYPE_MASK;
  writeInt64(buf, 0, opts.baseOffset ?? 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH);
  buf.writeInt8(MAGIC_V2, MAGIC);
  buf.writeInt16BE(attributes, ATTRIBUTES);
  buf.writeInt32BE(opts.lastOffsetDeltaOverride ?? opts.records.length - 1, LAST_OFFSET_DELTA);
  writeInt64(buf, BASE_TIMESTAMP, baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP, opts.logAppendTime ?? maxRecordTs);
  writeInt64(buf, PRODUCER_ID, opts.producerId ?? -1);
  buf.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH);
  buf.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE);
  buf.writeInt32BE(opts.recordsCountOverride ?? opts.records.length, RECORDS_COUNT);
  body.copy(buf, HEADER_SIZE);
  writeCrc(buf, 0);
  return buf;
}
