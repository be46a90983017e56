import { describe, expect, it } from 'vitest';
import { encodeVarlong, readUnsignedVarint, readVarint, readVarlong, writeUnsignedVarint } from './varint.js';

const fail = (m: string): never => {
  throw new Error(m);
};
const bytes = (...b: number[]) => Buffer.from(b);

function read(reader: typeof readVarint, buf: Buffer): [number, number] {
  const cursor = { pos: 0 };
  const v = reader(buf, cursor, buf.length, fail);
  return [v, cursor.pos];
}

describe('varints as Kafka ByteUtils writes them', () => {
  it('reads and writes unsigned varints up to 2^32-1', () => {
    for (const [v, enc] of [
      [0, bytes(0)],
      [127, bytes(0x7f)],
      [128, bytes(0x80, 0x01)],
      [300, bytes(0xac, 0x02)],
      [0xffffffff, bytes(0xff, 0xff, 0xff, 0xff, 0x0f)],
    ] as const) {
      const out = Buffer.alloc(5);
      expect(out.subarray(0, writeUnsignedVarint(out, 0, v))).toEqual(enc);
      expect(read(readUnsignedVarint, enc)).toEqual([v, enc.length]);
    }
  });

  it('reads zigzag varints and varlongs, and encodes them', () => {
    for (const [v, enc] of [
      [0, bytes(0)],
      [-1, bytes(0x01)],
      [1, bytes(0x02)],
      [-64, bytes(0x7f)],
      [64, bytes(0x80, 0x01)],
      [2147483647, bytes(0xfe, 0xff, 0xff, 0xff, 0x0f)],
      [-2147483648, bytes(0xff, 0xff, 0xff, 0xff, 0x0f)],
    ] as const) {
      expect(encodeVarlong(v)).toEqual(enc);
      expect(read(readVarint, enc)).toEqual([v, enc.length]);
      expect(read(readVarlong, enc)).toEqual([v, enc.length]);
    }
    // encodeVarlong is exact for |n| < 2^52; the reader for every safe integer.
    for (const v of [2 ** 40, -(2 ** 40), 2 ** 52 - 1, -(2 ** 52)]) {
      const enc = encodeVarlong(v);
      expect(read(readVarlong, enc)).toEqual([v, enc.length]);
    }
    for (const v of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
      const enc: number[] = [];
      while (z >= 0x80n) {
        enc.push(Number(z & 0x7fn) | 0x80);
        z >>= 7n;
      }
      enc.push(Number(z));
      expect(read(readVarlong, Buffer.from(enc))).toEqual([v, enc.length]);
    }
  });

  it('refuses truncated, over-long and out-of-range input without reading past the end', () => {
    expect(() => read(readUnsignedVarint, bytes(0x80))).toThrow('truncated');
    expect(() => read(readUnsignedVarint, bytes(0xff, 0xff, 0xff, 0xff, 0x1f))).toThrow('overflows');
    expect(() => read(readUnsignedVarint, bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00))).toThrow('longer');
    expect(() => read(readVarint, bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x00))).toThrow('longer');
    expect(() => read(readVarlong, Buffer.alloc(11, 0x80))).toThrow('longer than 10');
    // 2^60 zigzagged: a valid varlong, but not a safe integer.
    const big = bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    expect(() => read(readVarlong, big)).toThrow('safe integer');
    const cursor = { pos: 0 };
    expect(() => readVarint(bytes(0x80, 0x01), cursor, 1, fail)).toThrow('truncated');
    expect(cursor.pos).toBe(1);
  });
});
