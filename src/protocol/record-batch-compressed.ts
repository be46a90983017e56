// The records of a produced compressed batch, checked as Kafka's LogValidator checks them
// (validateMessagesAndAssignOffsetsCompressed: the batch's records read one by one through the
// codec's stream, DefaultRecord.readPartiallyFrom, then nothing may remain) — without Kafka's
// unbounded decompression: the section is first looked at through a small decompressed prefix, so a
// bomb (a few declared records over megabytes of output, or garbage) is refused after decompressing
// at most PREFIX_BYTES, and the whole section is never decompressed past a cap set by the batch's
// declared record count and the topic's max.message.bytes. The batch itself stays as received.
// Cost on produce, a batch of 100 records x 100 B (2026-11-30, 2-core VM at load 5): uncompressed
// 4 us (the walk in record-batch.ts), gzip 16 us, snappy 22 us, lz4 23 us, zstd 68 us (fzstd).
import {
  CODEC_NAMES,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  decompress,
  decompressPrefix,
  InvalidRecordError,
} from './compression.js';
import { readVarint, readVarlong } from './varint.js';

/** How much decompressed output the first look at a section takes (one pass for most batches). */
export const PREFIX_BYTES = 64 * 1024;

/**
 * Output no compressed batch may decompress to past this many times max.message.bytes (Kafka has no
 * such cap; 16 is far above what producers reach, whose batches are bounded by their compressed size).
 */
export const MAX_DECOMPRESSION_RATIO = 16;

/**
 * The most a produced compressed batch may decompress to: MAX_DECOMPRESSION_RATIO × max.message.bytes,
 * never past DEFAULT_MAX_UNCOMPRESSED_BYTES. Kafka bounds only the compressed batch by
 * max.message.bytes: one record inside may be larger than it uncompressed (franz-go's
 * TestConsumeMaxDecompressBatchBytes sends three 1 MiB records of zeros in one gzip batch), so the
 * cap does not depend on the record count.
 */
export function decompressedLimit(_recordsCount: number, maxMessageBytes: number): number {
  return Math.min(Math.max(maxMessageBytes, 1024) * MAX_DECOMPRESSION_RATIO, DEFAULT_MAX_UNCOMPRESSED_BYTES);
}

/** Returned by the walk when a prefix ran out before it could decide. */
const MORE = 'more';

/** Where the last `varint` stopped; -1 when the bytes ran out, -2 when it is too long. */
let varEnd = 0;

function varint(buf: Buffer, pos: number, end: number, maxBytes: number): number {
  let raw = 0;
  for (let p = pos, shift = 0; p < pos + maxBytes; p++, shift += 7) {
    if (p >= end) {
      varEnd = -1;
      return 0;
    }
    const b = buf[p]!;
    if (shift < 32) raw |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      varEnd = p + 1;
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
  varEnd = -2;
  return 0;
}

const STRUCTURE = 'Found invalid record structure';
const PREMATURE_EOF = 'Incorrect declared batch size, premature EOF reached';
const REMAINING = 'Incorrect declared batch size, records still remaining in file';

/**
 * Walks `count` records of buf[0, end) (decompressed) as Kafka's record iterator does. With
 * `complete` false the bytes are a prefix of the section: running out of them is MORE, not an
 * error. Returns null when valid, MORE, or Kafka's InvalidRecordException message.
 */
export function walkRecords(
  buf: Buffer,
  end: number,
  count: number,
  complete: boolean,
  limit: number,
): string | null {
  const short = complete ? PREMATURE_EOF : MORE;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const length = varint(buf, pos, end, 5);
    if (varEnd === -1) return short;
    if (varEnd === -2) return STRUCTURE;
    pos = varEnd;
    if (length < 0 || length > limit) return STRUCTURE;
    if (length > end - pos)
      return complete
        ? `Invalid record size: expected ${length} bytes in record payload, but the record payload reached EOF.`
        : MORE;
    const recEnd = pos + length;
    if (pos >= recEnd) return STRUCTURE;
    pos++; // attributes
    varint(buf, pos, recEnd, 10); // timestamp delta (a varlong: stepped over)
    if (varEnd < 0) return STRUCTURE;
    pos = varEnd;
    varint(buf, pos, recEnd, 5); // offset delta
    if (varEnd < 0) return STRUCTURE;
    pos = varEnd;
    for (let kv = 0; kv < 2; kv++) {
      const n = varint(buf, pos, recEnd, 5); // key, then value (-1: null)
      if (varEnd < 0) return STRUCTURE;
      pos = varEnd;
      if (n > recEnd - pos) return STRUCTURE;
      if (n > 0) pos += n;
    }
    const headers = varint(buf, pos, recEnd, 5);
    if (varEnd < 0) return STRUCTURE;
    pos = varEnd;
    if (headers < 0) return `Found invalid number of record headers ${headers}`;
    if (headers > recEnd - pos)
      return `Found invalid number of record headers. ${headers} is larger than the remaining size of the buffer`;
    for (let h = 0; h < headers; h++) {
      const k = varint(buf, pos, recEnd, 5);
      if (varEnd < 0) return STRUCTURE;
      pos = varEnd;
      if (k < 0) return `Invalid negative header key size ${k}`;
      if (k > recEnd - pos) return STRUCTURE;
      pos += k;
      const v = varint(buf, pos, recEnd, 5);
      if (varEnd < 0) return STRUCTURE;
      pos = varEnd;
      if (v > recEnd - pos) return STRUCTURE;
      if (v > 0) pos += v;
    }
    if (pos !== recEnd)
      return `Invalid record size: expected to read ${length} bytes in record payload, but instead read ${length - (recEnd - pos)}`;
  }
  if (pos < end) return REMAINING;
  return complete ? null : MORE;
}

/**
 * Why the compressed records section buf[start, end) of a batch of `count` records is refused
 * (Kafka's InvalidRecordException message), or null when every record reads back. `codecId` is
 * the batch's attributes & 7 (1..4). Decompresses at most PREFIX_BYTES for a bomb, at most
 * decompressedLimit(count, maxMessageBytes) for anything.
 */
export function invalidCompressedRecords(
  buf: Buffer,
  start: number,
  end: number,
  codecId: number,
  count: number,
  maxMessageBytes: number,
): string | null {
  const codec = CODEC_NAMES[codecId];
  if (codec === undefined || codec === 'none') return `Unknown compression type id ${codecId}`;
  const limit = decompressedLimit(count, maxMessageBytes);
  const section = buf.subarray(start, end);
  try {
    const prefix = decompressPrefix(codec, section, Math.min(PREFIX_BYTES, limit), limit);
    const first = walkRecords(prefix.data, prefix.data.length, count, prefix.complete, limit);
    if (first !== MORE) return first;
    const whole = decompress(codec, section, limit);
    return walkRecords(whole, whole.length, count, true, limit);
  } catch (e) {
    if (!(e instanceof InvalidRecordError)) throw e;
    // The codec could not read the section, or it decompresses past the limit. (Kafka's stream
    // throws a KafkaException, answered UNKNOWN_SERVER_ERROR; the data is the client's, so
    // kbroker answers INVALID_RECORD with the reason.)
    return (e as Error).message;
  }
}

// ---- read side: records' timestamps and offsets, bounded ------------------------------------------

/**
 * The most a stored batch is decompressed to on a read that looks inside batches (ListOffsets by
 * timestamp): the produce cap at the default max.message.bytes. A batch stored before compressed
 * batches were validated may be a bomb; past this it counts as unreadable.
 */
export const READ_DECOMPRESSED_LIMIT = 16 * 1024 * 1024;

/** A record's position in time, as the time index and ListOffsets see it. */
export interface RecordTime {
  timestamp: number;
  offset: number;
}

const readFail = (message: string): never => {
  throw new InvalidRecordError(message);
};

/**
 * Calls `visit` with each record's (timestamp, offset) of the batch at buf[pos, pos + size) in
 * order, stopping at the first it accepts (returned). Null when none is accepted; 'unreadable'
 * when the records cannot be read (corrupt, or decompressing past `limit`). Nothing is decoded
 * but the deltas; a compressed section is first read through a prefix, so a stored bomb costs at
 * most PREFIX_BYTES of decompression unless its first records are whole.
 */
export function findRecordTime(
  buf: Buffer,
  pos: number,
  size: number,
  visit: (timestamp: number, offset: number) => boolean,
  limit = READ_DECOMPRESSED_LIMIT,
): RecordTime | null | 'unreadable' {
  const baseOffset = buf.readInt32BE(pos) * 2 ** 32 + buf.readUInt32BE(pos + 4);
  const attributes = buf.readInt16BE(pos + 21);
  const baseTimestamp = buf.readInt32BE(pos + 27) * 2 ** 32 + buf.readUInt32BE(pos + 31);
  const maxTimestamp = buf.readInt32BE(pos + 35) * 2 ** 32 + buf.readUInt32BE(pos + 39);
  const count = buf.readInt32BE(pos + 57);
  const logAppendTime = (attributes & 0x08) !== 0;
  const codec = CODEC_NAMES[attributes & 0x07];
  if (codec === undefined) return 'unreadable';
  const section = buf.subarray(pos + 61, pos + size);
  const walk = (data: Buffer, complete: boolean): RecordTime | null | 'unreadable' | typeof MORE => {
    const cur = { pos: 0 };
    const end = data.length;
    try {
      for (let i = 0; i < count; i++) {
        if (cur.pos >= end) return complete ? 'unreadable' : MORE;
        const length = varintOrMore(data, cur, end, complete);
        if (length === MORE) return MORE;
        if (length <= 0 || length > limit) return 'unreadable';
        const recEnd = cur.pos + length;
        if (recEnd > end) return complete ? 'unreadable' : MORE;
        cur.pos++; // attributes
        const timestampDelta = readVarlong(data, cur, recEnd, readFail);
        const offsetDelta = readVarint(data, cur, recEnd, readFail);
        const timestamp = logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta;
        if (visit(timestamp, baseOffset + offsetDelta))
          return { timestamp, offset: baseOffset + offsetDelta };
        cur.pos = recEnd;
      }
      return null;
    } catch (e) {
      if (e instanceof InvalidRecordError) return 'unreadable';
      throw e;
    }
  };
  try {
    if (codec === 'none') {
      const r = walk(section, true);
      return r === MORE ? 'unreadable' : r;
    }
    const prefix = decompressPrefix(codec, section, Math.min(PREFIX_BYTES, limit), limit);
    const first = walk(prefix.data, prefix.complete);
    if (first !== MORE) return first;
    const r = walk(decompress(codec, section, limit), true);
    return r === MORE ? 'unreadable' : r;
  } catch (e) {
    if (e instanceof InvalidRecordError) return 'unreadable';
    throw e;
  }
}

/** A record length varint, or MORE when a prefix ends inside it. */
function varintOrMore(
  data: Buffer,
  cur: { pos: number },
  end: number,
  complete: boolean,
): number | typeof MORE {
  const v = varint(data, cur.pos, end, 5);
  if (varEnd === -1) {
    if (complete) throw new InvalidRecordError('varint truncated');
    return MORE;
  }
  if (varEnd === -2) throw new InvalidRecordError('varint is longer than 5 bytes');
  cur.pos = varEnd;
  return v;
}
