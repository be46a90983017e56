import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type CompressionType, compress, decompress, decompressPrefix } from './compression.js';
import {
  ATTRIBUTES,
  HEADER_SIZE,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  RECORDS_COUNT,
  validateProducedBatches,
  writeCrc,
} from './record-batch.js';
import { buildRecordBatch } from './record-batch-builder.js';
import {
  decompressedLimit,
  findRecordTime,
  invalidCompressedRecords,
  PREFIX_BYTES,
} from './record-batch-compressed.js';
import { encodeRecordBatch } from './records.js';

// Golden bytes. Two records (k0/v0 at 1000, k1/v1 at 1001) as every codec writes them.
const RECORDS_2 = '14000000046b300476300014000202046b3104763100';
const SECTIONS_2: Record<Exclude<CompressionType, 'none'>, string> = {
  gzip: '1f8b08000000000000031361606060c936602933601061606262c936642933640000e69f8a9f16000000',
  snappy: '165414000000046b300476300014000202046b3104763100',
  lz4: '04224d186040821600008014000000046b300476300014000202046b310476310000000000',
  zstd: '28b52ffd2016b1000014000000046b300476300014000202046b3104763100',
};
// 256 KiB of zeros in 289 bytes of gzip (level 9).
const GZIP_BOMB = `1f8b0800000000000203edc13101000000c2a0f54fed6d07a0${'00'.repeat(254)}de0022ea0ee200000400`;
// A zstd frame (no content size, 128 KiB window) of 4096 RLE blocks of 128 KiB zeros: 512 MiB from
// 16 KiB. Each block header is 3 bytes (size 131072 << 3 | type RLE << 1 | last), then its byte.
const ZSTD_BOMB = `28b52ffd0038${'02001000'.repeat(4095)}03001000`;

const CODEC_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** A produced batch: header of an uncompressed batch of `count` records, the given section and codec. */
function batchWith(section: Buffer, codec: Exclude<CompressionType, 'none'>, count: number): Buffer {
  const plain = buildRecordBatch({ records: [{ key: 'k', value: 'v', timestamp: 1000 }] });
  const b = Buffer.alloc(HEADER_SIZE + section.length);
  plain.copy(b, 0, 0, HEADER_SIZE);
  section.copy(b, HEADER_SIZE);
  b.writeInt32BE(b.length - LOG_OVERHEAD, 8);
  b.writeInt16BE(CODEC_IDS[codec], ATTRIBUTES);
  b.writeInt32BE(count - 1, LAST_OFFSET_DELTA);
  b.writeInt32BE(count, RECORDS_COUNT);
  writeCrc(b, 0);
  return b;
}

const hex = (h: string) => Buffer.from(h, 'hex');

describe('compressed batches validated on produce (Kafka LogValidator)', () => {
  it('accepts what every codec writes (golden sections) and what the encoder writes', () => {
    for (const [codec, section] of Object.entries(SECTIONS_2) as [
      Exclude<CompressionType, 'none'>,
      string,
    ][]) {
      expect(decompress(codec, hex(section)).toString('hex'), codec).toBe(RECORDS_2);
      expect(validateProducedBatches(batchWith(hex(section), codec, 2), 1 << 20), codec).toHaveProperty(
        'batch',
      );
    }
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const b = encodeRecordBatch({
        compression: codec,
        records: Array.from({ length: 100 }, (_, i) => ({
          key: `key-${i}`,
          value: Buffer.alloc(100, i),
          headers: [{ key: 'h', value: 'x' }],
          timestamp: 1_700_000_000_000 + i,
        })),
      });
      expect(validateProducedBatches(b, 1 << 20), codec).toHaveProperty('batch');
    }
  });

  it('accepts frames as the zstd and lz4 tools write them (2 MiB window, checksums)', () => {
    // `zstd -3` and `lz4` reading a pipe: no content size, a 2 MiB window (as a streaming producer
    // writes), content checksums.
    const zstdCli = hex('28b52ffd0458b1000014000000046b300476300014000202046b3104763100ef16089c');
    const lz4Cli = hex('04224d186440a71600008014000000046b300476300014000202046b310476310000000000a746f6bc');
    expect(decompress('zstd', zstdCli).toString('hex')).toBe(RECORDS_2);
    expect(decompress('lz4', lz4Cli).toString('hex')).toBe(RECORDS_2);
    // max.message.bytes 64 KiB: the output cap (2 × 64 KiB) is far below the window; the window is history.
    expect(validateProducedBatches(batchWith(zstdCli, 'zstd', 2), 64 * 1024)).toHaveProperty('batch');
    expect(validateProducedBatches(batchWith(lz4Cli, 'lz4', 2), 64 * 1024)).toHaveProperty('batch');
    expect(validateProducedBatches(batchWith(zstdCli, 'zstd', 1), 64 * 1024)).toEqual({
      error: 'INVALID_RECORD',
      message: 'Incorrect declared batch size, records still remaining in file',
    });
  });

  it('refuses a declared count that does not match the records: premature EOF, records remaining', () => {
    for (const [codec, section] of Object.entries(SECTIONS_2) as [
      Exclude<CompressionType, 'none'>,
      string,
    ][]) {
      expect(validateProducedBatches(batchWith(hex(section), codec, 3), 1 << 20), codec).toEqual({
        error: 'INVALID_RECORD',
        message: 'Incorrect declared batch size, premature EOF reached',
      });
      expect(validateProducedBatches(batchWith(hex(section), codec, 1), 1 << 20), codec).toEqual({
        error: 'INVALID_RECORD',
        message: 'Incorrect declared batch size, records still remaining in file',
      });
    }
  });

  it('refuses corrupt records inside a valid compressed stream', () => {
    // gzip of the two records with record 0's key length (byte 4) lying: 0x7e = 63.
    const lying = hex(RECORDS_2);
    lying[4] = 0x7e;
    const r = validateProducedBatches(batchWith(gzipSync(lying), 'gzip', 2), 1 << 20);
    expect(r).toEqual({ error: 'INVALID_RECORD', message: 'Found invalid record structure' });
    // header count -1
    const negHeaders = hex(RECORDS_2);
    negHeaders[10] = 0x01; // zigzag -1 where record 0's header count is
    const b = batchWith(gzipSync(negHeaders), 'gzip', 2);
    expect(invalidCompressedRecords(b, HEADER_SIZE, b.length, 1, 2, 1 << 20)).toBe(
      'Found invalid number of record headers -1',
    );
  });

  it('refuses sections no codec can read, with the reason', () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const r = validateProducedBatches(batchWith(Buffer.from('not compressed at all'), codec, 1), 1 << 20);
      expect(r, codec).toMatchObject({ error: 'INVALID_RECORD' });
      expect((r as { message: string }).message, codec).toMatch(
        codec === 'snappy' ? /snappy|Snappy|record/ : codec,
      );
    }
  });

  it('refuses a gzip bomb from its first bytes, without decompressing it whole', () => {
    const bomb = hex(GZIP_BOMB);
    expect(gunzipSync(bomb)).toHaveLength(256 * 1024);
    // The prefix stops near PREFIX_BYTES; zeros are a record of length 0: no attributes.
    const prefix = decompressPrefix('gzip', bomb, PREFIX_BYTES, 1 << 20);
    expect(prefix.complete).toBe(false);
    expect(prefix.data.length).toBeLessThanOrEqual(PREFIX_BYTES + 64 * 1032);
    for (const count of [1, 1000, 2 ** 31 - 1]) {
      expect(validateProducedBatches(batchWith(bomb, 'gzip', count), 1 << 20), `count ${count}`).toEqual({
        error: 'INVALID_RECORD',
        message: 'Found invalid record structure',
      });
    }
  });

  it('refuses a zstd bomb of 512 MiB after decompressing one block', () => {
    const bomb = hex(ZSTD_BOMB);
    const prefix = decompressPrefix('zstd', bomb, PREFIX_BYTES, 1 << 20);
    expect(prefix).toMatchObject({ complete: false });
    expect(prefix.data.length).toBe(128 * 1024);
    expect(() => decompress('zstd', bomb, 1 << 20)).toThrow(/exceeds the 1048576-byte limit/);
    expect(validateProducedBatches(batchWith(bomb, 'zstd', 1), 1 << 20)).toEqual({
      error: 'INVALID_RECORD',
      message: 'Found invalid record structure',
    });
  });

  it('refuses one valid record followed by megabytes of zeros as records remaining', () => {
    const tail = Buffer.concat([hex(RECORDS_2).subarray(0, 11), Buffer.alloc(4 * 1024 * 1024)]);
    // (kbroker's zstd encoder writes stored blocks: too large for this; the RLE bomb above covers zstd.)
    for (const codec of ['lz4', 'gzip'] as const) {
      expect(validateProducedBatches(batchWith(compress(codec, tail), codec, 1), 1 << 20), codec).toEqual({
        error: 'INVALID_RECORD',
        message: 'Incorrect declared batch size, records still remaining in file',
      });
    }
    // Raw snappy declares its length first: past the cap (16 × max.message.bytes), refused before
    // decompressing.
    expect(validateProducedBatches(batchWith(compress('snappy', tail), 'snappy', 1), 256 * 1024)).toEqual({
      error: 'INVALID_RECORD',
      message: 'snappy: section declares 4194315 bytes, over the 4194304-byte limit',
    });
    const small = Buffer.concat([hex(RECORDS_2).subarray(0, 11), Buffer.alloc(512 * 1024)]);
    expect(validateProducedBatches(batchWith(compress('snappy', small), 'snappy', 1), 1 << 20)).toEqual({
      error: 'INVALID_RECORD',
      message: 'Incorrect declared batch size, records still remaining in file',
    });
  });

  it('caps the whole section by max.message.bytes, not by the record count (a record may be larger uncompressed)', () => {
    expect(decompressedLimit(1, 1 << 20)).toBe(16 << 20);
    expect(decompressedLimit(3, 1 << 20)).toBe(16 << 20);
    expect(decompressedLimit(1_000_000, 1 << 20)).toBe(16 << 20);
    // Three 1 MiB records of zeros in one gzip batch of a few KB: accepted, as Kafka accepts it.
    const big = encodeRecordBatch({
      compression: 'gzip',
      records: Array.from({ length: 3 }, () => ({ value: Buffer.alloc(1 << 20), timestamp: 1000 })),
    });
    expect(big.length).toBeLessThan(64 * 1024);
    expect(validateProducedBatches(big, 1 << 20)).toHaveProperty('batch');
    expect(decompressedLimit(1_000_000, 1 << 30)).toBe(128 << 20);
    // 52,000 valid records of ~50 bytes: ~2.6 MB of records, over a 16 × 128 KiB cap.
    const b = encodeRecordBatch({
      compression: 'gzip',
      records: Array.from({ length: 52_000 }, () => ({ value: Buffer.alloc(40), timestamp: 1000 })),
    });
    expect(b.length).toBeLessThan(128 * 1024);
    const r = validateProducedBatches(b, 128 * 1024);
    expect(r).toMatchObject({ error: 'INVALID_RECORD' });
    expect((r as { message: string }).message).toMatch(/limit/);
    expect(validateProducedBatches(b, 1 << 20)).toHaveProperty('batch');
  });
});

describe('findRecordTime (ListOffsets reading stored batches)', () => {
  const records = Array.from({ length: 50 }, (_, i) => ({ value: `v${i}`, timestamp: 5000 + 10 * i }));

  it('finds the first record at or after a timestamp in every codec, LogAppendTime too', () => {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const b = encodeRecordBatch({ compression: codec, baseOffset: 100, records });
      expect(
        findRecordTime(b, 0, b.length, (ts) => ts >= 5095),
        codec,
      ).toEqual({ timestamp: 5100, offset: 110 });
      expect(
        findRecordTime(b, 0, b.length, (ts) => ts > 9999),
        codec,
      ).toBeNull();
      const lat = encodeRecordBatch({ compression: codec, records, logAppendTime: 7777 });
      expect(
        findRecordTime(lat, 0, lat.length, () => true),
        codec,
      ).toEqual({ timestamp: 7777, offset: 0 });
    }
  });

  it('answers unreadable for bombs and garbage without decompressing them whole', () => {
    for (const [codec, section] of [
      ['gzip', hex(GZIP_BOMB)],
      ['zstd', hex(ZSTD_BOMB)],
      ['lz4', Buffer.from('garbage')],
    ] as const) {
      const b = batchWith(section, codec, 1);
      expect(
        findRecordTime(b, 0, b.length, () => true),
        codec,
      ).toBe('unreadable');
    }
  });
});
