/**
 * Kafka's variable-length integers (ByteUtils): unsigned varints (tagged fields, compact lengths)
 * and zigzag varints/varlongs (record fields). The one reader and writer of each for the wire
 * codec (wire.ts) and the record reader/writer (records.ts, record-batch-builder.ts).
 *
 * Readers advance `cursor.pos`, never read at or past `end`, and report malformed input through
 * `fail` (each caller throws its own error type: a protocol error or an invalid record).
 */

export interface Cursor {
  pos: number;
}

export type Fail = (message: string) => never;

/** Unsigned varint of at most 5 bytes whose value fits 32 bits (ByteUtils.readUnsignedVarint). */
export function readUnsignedVarint(buf: Uint8Array, cursor: Cursor, end: number, fail: Fail): number {
  let result = 0;
  for (let i = 0; i < 5; i++) {
    if (cursor.pos >= end) return fail('unsigned varint truncated');
    const b = buf[cursor.pos++]!;
    result += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (result > 0xffffffff) return fail('unsigned varint overflows 32 bits');
      return result;
    }
  }
  return fail('unsigned varint longer than 5 bytes');
}

/** Zigzag varint of at most 5 bytes (an int32; ByteUtils.readVarint). */
export function readVarint(buf: Uint8Array, cursor: Cursor, end: number, fail: Fail): number {
  let raw = 0;
  for (let i = 0; i < 5; i++) {
    if (cursor.pos >= end) return fail('varint truncated');
    const b = buf[cursor.pos++]!;
    raw |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
  }
  return fail('varint is longer than 5 bytes');
}

/**
 * Zigzag varlong of at most 10 bytes (ByteUtils.readVarlong); values outside the JS safe-integer
 * range are refused rather than rounded.
 */
export function readVarlong(buf: Uint8Array, cursor: Cursor, end: number, fail: Fail): number {
  let raw = 0;
  for (let i = 0; i < 7; i++) {
    if (cursor.pos >= end) return fail('varlong truncated');
    const b = buf[cursor.pos++]!;
    raw += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }
  // 8 bytes or more: more than 49 bits, finish exactly with BigInt.
  let big = BigInt(raw);
  for (let i = 7; i < 10; i++) {
    if (cursor.pos >= end) return fail('varlong truncated');
    const b = buf[cursor.pos++]!;
    big |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) {
      big = BigInt.asUintN(64, big);
      const v = (big >> 1n) ^ -(big & 1n);
      const n = Number(v);
      if (!Number.isSafeInteger(n)) return fail(`varlong ${v} is outside the safe integer range`);
      return n;
    }
  }
  return fail('varlong is longer than 10 bytes');
}

/** Writes `v` (taken as uint32) as an unsigned varint at `pos`; returns the position after it. */
export function writeUnsignedVarint(buf: Uint8Array, pos: number, v: number): number {
  let x = v >>> 0;
  while (x >= 0x80) {
    buf[pos++] = (x & 0x7f) | 0x80;
    x >>>= 7;
  }
  buf[pos++] = x;
  return pos;
}

/** Zigzag varint/varlong bytes (ByteUtils.writeVarlong) of a safe integer. */
export function encodeVarlong(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const bytes: number[] = [];
  while (z >= 0x80) {
    bytes.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  bytes.push(z);
  return Buffer.from(bytes);
}
