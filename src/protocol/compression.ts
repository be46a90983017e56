// The record-batch codecs (attributes bits 0-2), as Kafka's CompressionType: gzip (node:zlib), snappy
// (snappyjs; raw snappy as librdkafka writes it, or the xerial framing Java writes), lz4 (the LZ4 *frame*
// format, parsed here over a checked block decoder), zstd (fzstd; node 20's zlib has no zstd).
// Every decoder is bounded: `limit` caps the output, and a declared size past it fails before allocation.
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import type { CompressionType } from './record-batch.js';

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
/** Codec id (attributes bits 0-2) → name. */
export const CODEC_NAMES: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Default cap on the decompressed size of one batch's records section. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 128 * 1024 * 1024;

/** Kafka's InvalidRecordException: a record or its compressed section cannot be read. */
export class InvalidRecordError extends Error {
  override name = 'InvalidRecordError';
}
const fail = (message: string): never => {
  throw new InvalidRecordError(message);
};

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
