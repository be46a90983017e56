import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nativeCrc32c } from '../common/native.js';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BATCH_LENGTH,
  CRC,
  compression,
  crc32c,
  HEADER_SIZE,
  invalidRecordsStructure,
  isControl,
  isLogAppendTime,
  isTransactional,
  iterateBatches,
  LOG_OVERHEAD,
  lastOffset,
  MAGIC,
  nextOffset,
  readBaseOffset,
  readBatchSize,
  readInt64,
  readMaxTimestamp,
  readPartitionLeaderEpoch,
  readProducerId,
  readRecordsCount,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateProducedBatches,
  verifyCrc,
  writeCrc,
  writeInt64,
} from './record-batch.js';
import { buildRecordBatch } from './record-batch-builder.js';
import { encodeVarlong, readVarint } from './varint.js';

const recs = (n: number, ts = 1_000) =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: ts + i }));

describe('crc32c', () => {
  it('matches the CRC-32C check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it("the CPU's (native/crc32c.c) agrees with the library and the JavaScript one at every length and alignment", () => {
    const cpu = nativeCrc32c();
    // Built by npm ci wherever the suite runs on x86-64 Linux: its absence there is a broken build.
    const off = process.env.KBROKER_NATIVE_CRC32C === 'false';
    if (process.platform === 'linux' && process.arch === 'x64' && !off) expect(cpu).not.toBeNull();
    if (cpu === null) return;
    const require = createRequire(import.meta.url);
    const lib = require('@node-rs/crc32') as { crc32c(b: Uint8Array): number };
    const js = require('crc-32/crc32c') as { buf(b: Uint8Array): number };
    // Long enough for the three-stream rounds of both block sizes (3 × 8 KiB and 3 × 256 B) and their tails.
    const data = Buffer.alloc(80_000);
    let x = 12345;
    for (let i = 0; i < data.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      data[i] = x >>> 24;
    }
    expect(cpu(Buffer.alloc(0))).toBe(0);
    expect(cpu(Buffer.from('123456789'))).toBe(0xe3069283);
    for (const offset of [0, 1, 3, 7])
      for (const length of [
        ...Array.from({ length: 70 }, (_, i) => i),
        255,
        256,
        1023,
        4097,
        10_240,
        19_990,
        24_575,
        24_576,
        24_577,
        3 * 24_576 + 3 * 256 + 13,
      ]) {
        const b = data.subarray(offset, offset + length);
        expect(cpu(b)).toBe(lib.crc32c(b) >>> 0);
        expect(cpu(b)).toBe(js.buf(b) >>> 0);
      }
    // Any Uint8Array, not only Buffers; a view, not its whole ArrayBuffer.
    const view = new Uint8Array(data.buffer, data.byteOffset + 5, 1000);
    expect(cpu(view)).toBe(lib.crc32c(view) >>> 0);
    expect(() => cpu('abc' as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });
});

describe('int64 helpers', () => {
  it('round-trips negative and large values', () => {
    const b = Buffer.alloc(8);
    for (const v of [0, -1, 1, 2 ** 40 + 7, -(2 ** 40) - 3, Number.MAX_SAFE_INTEGER, 1_700_000_000_000]) {
      writeInt64(b, 0, v);
      expect(readInt64(b, 0)).toBe(v);
      expect(b.readBigInt64BE(0)).toBe(BigInt(v));
    }
  });
});

describe('builder', () => {
  it('encodes varints with zigzag', () => {
    expect([...encodeVarlong(0)]).toEqual([0]);
    expect([...encodeVarlong(-1)]).toEqual([1]);
    expect([...encodeVarlong(1)]).toEqual([2]);
    expect([...encodeVarlong(64)]).toEqual([0x80, 0x01]);
    expect([...encodeVarlong(-65)]).toEqual([0x81, 0x01]);
  });

  it('writes one record exactly as DefaultRecord lays it out', () => {
    const b = buildRecordBatch({ records: [{ key: 'a', value: 'bc', timestamp: 5 }] });
    // length=9 (zigzag 18): attrs 0, tsDelta 0, offsetDelta 0, keyLen 1 'a', valueLen 2 'bc', headers 0
    expect([...b.subarray(HEADER_SIZE)]).toEqual([18, 0, 0, 0, 2, 0x61, 4, 0x62, 0x63, 0]);
    expect(readBatchSize(b, 0)).toBe(b.length);
    expect(b.readInt8(MAGIC)).toBe(2);
    expect(verifyCrc(b, 0)).toBe(true);
  });

  it('writes null keys/values and headers', () => {
    const b = buildRecordBatch({
      records: [{ key: null, value: null, headers: [{ key: 'h', value: null }], timestamp: 0 }],
    });
    expect([...b.subarray(HEADER_SIZE)]).toEqual([18, 0, 0, 0, 1, 1, 2, 2, 0x68, 1]);
  });
});

describe('header fields', () => {
  it('reads and patches fields in place', () => {
    const b = buildRecordBatch({ records: recs(3), producerId: 77, producerEpoch: 1, baseSequence: 0 });
    expect(readRecordsCount(b, 0)).toBe(3);
    expect(readProducerId(b, 0)).toBe(77);
    expect(readMaxTimestamp(b, 0)).toBe(1002);
    expect(lastOffset(b, 0)).toBe(2);
    expect(nextOffset(b, 0)).toBe(3);
    expect(compression(b, 0)).toBe('none');
    expect(isControl(b, 0)).toBe(false);
    expect(isTransactional(b, 0)).toBe(false);

    const crc = b.readUInt32BE(CRC);
    setBaseOffset(b, 0, 2 ** 33 + 5);
    setPartitionLeaderEpoch(b, 0, 9);
    expect(readBaseOffset(b, 0)).toBe(2 ** 33 + 5);
    expect(readPartitionLeaderEpoch(b, 0)).toBe(9);
    expect(lastOffset(b, 0)).toBe(2 ** 33 + 7);
    expect(b.readUInt32BE(CRC)).toBe(crc);
    expect(verifyCrc(b, 0)).toBe(true);
  });

  it('setLogAppendTime sets bit 3, maxTimestamp and a valid CRC', () => {
    const b = buildRecordBatch({ records: recs(2) });
    setLogAppendTime(b, 0, 1_700_000_000_123);
    expect(isLogAppendTime(b, 0)).toBe(true);
    expect(readMaxTimestamp(b, 0)).toBe(1_700_000_000_123);
    expect(verifyCrc(b, 0)).toBe(true);
  });

  it('reads flags', () => {
    const b = buildRecordBatch({ records: recs(1), control: true, transactional: true });
    expect(isControl(b, 0)).toBe(true);
    expect(isTransactional(b, 0)).toBe(true);
  });

  it('verifyCrc catches flipped bytes and out-of-buffer batches', () => {
    const b = buildRecordBatch({ records: recs(2) });
    b[b.length - 1] ^= 0xff;
    expect(verifyCrc(b, 0)).toBe(false);
    expect(verifyCrc(buildRecordBatch({ records: recs(2) }).subarray(0, 70), 0)).toBe(false);
  });
});

describe('iterateBatches', () => {
  const three = () =>
    Buffer.concat([
      buildRecordBatch({ records: recs(2), baseOffset: 0 }),
      buildRecordBatch({ records: recs(3), baseOffset: 2 }),
      buildRecordBatch({ records: recs(1), baseOffset: 5 }),
    ]);

  it('yields every batch and ends cleanly', () => {
    const buf = three();
    const it = iterateBatches(buf, { verifyCrc: true });
    const got = [...it];
    expect(got.map((b) => [b.baseOffset, b.lastOffset])).toEqual([
      [0, 1],
      [2, 4],
      [5, 5],
    ]);
    expect(got[1]!.position).toBe(got[0]!.size);
    expect(it.stopReason).toBe('end');
    expect(it.position).toBe(buf.length);
  });

  it('stops at a partial batch', () => {
    const buf = three();
    const cut = buf.subarray(0, buf.length - 3);
    const it = iterateBatches(cut);
    expect([...it].length).toBe(2);
    expect(it.stopReason).toBe('partial');
    expect(it.position).toBe(cut.length - (readBatchSize(buf, it.position) - 3));
  });

  it('stops at a too-small size, a bad magic, a CRC mismatch', () => {
    const a = three();
    const second = readBatchSize(a, 0);
    a.writeInt32BE(10, second + 8);
    const ia = iterateBatches(a);
    expect([...ia].length).toBe(1);
    expect(ia.stopReason).toBe('invalid-size');
    expect(ia.position).toBe(second);

    const b = three();
    b.writeInt8(1, second + MAGIC);
    const ib = iterateBatches(b);
    expect([...ib].length).toBe(1);
    expect(ib.stopReason).toBe('invalid-magic');

    const c = three();
    c[c.length - 1] ^= 1;
    const ic = iterateBatches(c, { verifyCrc: true });
    expect([...ic].length).toBe(2);
    expect(ic.stopReason).toBe('crc-mismatch');
    const unverified = iterateBatches(c);
    expect([...unverified].length).toBe(3);
  });

  it('treats fewer than 12 trailing bytes as partial', () => {
    const buf = Buffer.concat([buildRecordBatch({ records: recs(1) }), Buffer.alloc(5)]);
    const it = iterateBatches(buf);
    expect([...it].length).toBe(1);
    expect(it.stopReason).toBe('partial');
  });
});

describe('validateProducedBatches', () => {
  const ok = () => buildRecordBatch({ records: recs(3) });

  it('accepts one valid batch', () => {
    const r = validateProducedBatches(ok(), 1_000_000);
    expect('batch' in r && r.batch.recordsCount).toBe(3);
  });

  it('maps each violation to the Kafka error', () => {
    const err = (b: Buffer, max = 1_000_000) => {
      const r = validateProducedBatches(b, max);
      return 'error' in r ? r.error : 'OK';
    };
    const flipped = ok();
    flipped[flipped.length - 1] ^= 1;
    expect(err(flipped)).toBe('CORRUPT_MESSAGE');
    const magic1 = ok();
    magic1.writeInt8(1, MAGIC);
    expect(err(magic1)).toBe('INVALID_RECORD');
    expect(err(Buffer.concat([ok(), ok()]))).toBe('INVALID_RECORD');
    expect(err(Buffer.concat([ok(), Buffer.alloc(3)]))).toBe('CORRUPT_MESSAGE');
    expect(err(ok().subarray(0, 70))).toBe('CORRUPT_MESSAGE');
    expect(err(Buffer.alloc(0))).toBe('INVALID_RECORD');
    expect(err(buildRecordBatch({ records: recs(3), recordsCountOverride: 2 }))).toBe('INVALID_RECORD');
    expect(err(buildRecordBatch({ records: recs(3), lastOffsetDeltaOverride: 5 }))).toBe('INVALID_RECORD');
    expect(err(buildRecordBatch({ records: recs(1), baseOffset: 4 }))).toBe('INVALID_RECORD');
    expect(err(buildRecordBatch({ records: recs(1), control: true, transactional: true }))).toBe(
      'INVALID_RECORD',
    );
    expect(err(buildRecordBatch({ records: recs(1), producerId: 5, baseSequence: -1 }))).toBe(
      'INVALID_RECORD',
    );
    const tiny = ok();
    tiny.writeInt32BE(20, 8);
    expect(err(tiny)).toBe('CORRUPT_MESSAGE');
    expect(err(ok(), 50)).toBe('MESSAGE_TOO_LARGE');
    const lying = ok();
    lying.writeInt32BE(0x7fffffff, 8);
    expect(err(lying)).toBe('CORRUPT_MESSAGE');
    expect(readBaseOffset(ok(), BASE_OFFSET)).toBe(0);
  });
});

// Found by scripts/fuzz: a batch of garbage records under a valid CRC was stored, and every
// consumer of the partition then failed on it. Kafka's LogValidator reads each record.
describe('record structure of a produced uncompressed batch', () => {
  const valid = () =>
    buildRecordBatch({
      records: [
        { key: 'k', value: 'v', headers: [{ key: 'h', value: 'x' }] },
        { key: null, value: null },
      ],
    });
  /** Rewrites the records section and re-seals the batch (length, CRC) around it. */
  const reseal = (batch: Buffer, records: Buffer): Buffer => {
    const out = Buffer.concat([batch.subarray(0, HEADER_SIZE), records]);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH);
    writeCrc(out, 0);
    return out;
  };

  it('accepts what clients write', () => {
    const b = valid();
    expect(invalidRecordsStructure(b, HEADER_SIZE, b.length, 2)).toBeNull();
    expect(validateProducedBatches(b, 1 << 20)).toHaveProperty('batch');
  });

  it('walks varints by their extent: a 10-byte timestamp delta is a valid varlong, 11 bytes or a cut one are not', () => {
    // One record: attributes, timestamp delta, offset delta 0, null key (-1), value "x", no headers.
    const record = (timestampDelta: number[]) => {
      const body = [0, ...timestampDelta, 0, 0x01, 0x02, 0x78, 0];
      return Buffer.from([body.length * 2, ...body]); // zigzag length (< 64)
    };
    const walk = (b: Buffer) => invalidRecordsStructure(b, 0, b.length, 1);
    expect(walk(record([0]))).toBeNull();
    expect(walk(record([...Array(9).fill(0xff), 0x01]))).toBeNull(); // Kafka reads any 64-bit delta
    expect(walk(record([...Array(10).fill(0xff), 0x01]))).toBe('varlong is longer than 10 bytes');
    expect(walk(Buffer.from([4, 0, 0xff]))).toBe('varlong truncated'); // the record ends inside it
    expect(walk(Buffer.from([0xff, 0xff]))).toBe('varint truncated');
    expect(walk(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('varint is longer than 5 bytes');
  });

  it('refuses lying lengths, bad header counts and trailing bytes with INVALID_RECORD', () => {
    const b = valid();
    const records = Buffer.from(b.subarray(HEADER_SIZE));
    const cases: [string, Buffer][] = [];
    // key length 100 (zigzag 200 = 0xc8 0x01) where the record has 1 byte of key
    const lying = Buffer.from(records);
    const keyLenAt = 1 + 1 + 1 + 1; // length, attributes, timestampDelta 0, offsetDelta 0
    lying[keyLenAt] = 0x7e; // zigzag 63
    cases.push(['key length past the record', lying]);
    cases.push(['trailing bytes', Buffer.concat([records, Buffer.from([0, 0, 0])])]);
    cases.push(['one record short', records.subarray(0, records[0]! / 2 + 1)]);
    for (const [what, r] of cases) {
      const sealed = reseal(b, r);
      expect(invalidRecordsStructure(sealed, HEADER_SIZE, sealed.length, 2), what).not.toBeNull();
      expect(validateProducedBatches(sealed, 1 << 20), what).toEqual({ error: 'INVALID_RECORD' });
    }
  });

  it('gives the verdict of a reader of every field on mutated records (short-record fast path included)', () => {
    // The reference: DefaultRecord.readFrom's reads, with the shared varint readers, throwing.
    const fail = (m: string): never => {
      throw new Error(m);
    };
    const reference = (b: Buffer, start: number, end: number, count: number): boolean => {
      try {
        const cur = { pos: start };
        for (let i = 0; i < count; i++) {
          const length = readVarint(b, cur, end, fail);
          if (length < 1 || length > end - cur.pos) return false;
          const recEnd = cur.pos + length;
          cur.pos++;
          readVarlongExtent(b, cur, recEnd);
          readVarint(b, cur, recEnd, fail);
          for (let f = 0; f < 2; f++) {
            const n = readVarint(b, cur, recEnd, fail);
            if (n > recEnd - cur.pos) return false;
            if (n > 0) cur.pos += n;
          }
          const headers = readVarint(b, cur, recEnd, fail);
          if (headers < 0 || headers * 2 > recEnd - cur.pos) return false;
          for (let h = 0; h < headers; h++) {
            const k = readVarint(b, cur, recEnd, fail);
            if (k < 0 || k > recEnd - cur.pos) return false;
            cur.pos += k;
            const v = readVarint(b, cur, recEnd, fail);
            if (v > recEnd - cur.pos) return false;
            if (v > 0) cur.pos += v;
          }
          if (cur.pos !== recEnd) return false;
        }
        return cur.pos === end;
      } catch {
        return false;
      }
    };
    /** A varlong's extent (at most 10 bytes), whatever its value. */
    const readVarlongExtent = (b: Buffer, cur: { pos: number }, end: number) => {
      for (let i = 0; i < 10; i++) {
        if (cur.pos >= end) fail('varlong truncated');
        if (b[cur.pos++]! < 0x80) return;
      }
      fail('varlong too long');
    };
    const batches = [
      valid(),
      buildRecordBatch({
        records: Array.from({ length: 20 }, (_, i) => ({
          key: i % 3 === 0 ? null : 'k'.repeat(i * 7),
          value: i % 4 === 0 ? null : 'v'.repeat(i * 11),
        })),
      }),
    ];
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let invalid = 0;
    for (const batch of batches) {
      const count = batch.readInt32BE(HEADER_SIZE - 4);
      for (let trial = 0; trial < 3000; trial++) {
        const b = Buffer.from(batch);
        for (let m = 1 + random(3); m > 0; m--) {
          b[HEADER_SIZE + random(b.length - HEADER_SIZE)] = [0, 1, 2, 0x7f, 0x80, 0xff][random(6)]!;
        }
        const want = reference(b, HEADER_SIZE, b.length, count);
        if (!want) invalid++;
        expect(invalidRecordsStructure(b, HEADER_SIZE, b.length, count) === null, `trial ${trial}`).toBe(
          want,
        );
      }
    }
    expect(invalid).toBeGreaterThan(1000); // the mutations do reach the refusals
  });

  it('decompresses compressed batches and refuses what no codec reads (record-batch-compressed.test.ts)', () => {
    const b = reseal(valid(), Buffer.from('not gzip at all'));
    b.writeInt16BE(1, ATTRIBUTES); // gzip
    writeCrc(b, 0);
    expect(validateProducedBatches(b, 1 << 20)).toMatchObject({ error: 'INVALID_RECORD' });
  });
});
