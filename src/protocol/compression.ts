// The record-batch codecs (attributes bits 0-2), as Kafka's CompressionType: gzip (node:zlib), snappy
// (snappyjs; raw snappy as librdkafka writes it, or the xerial framing Java writes), lz4 (the LZ4 *frame*
// format, parsed here over a checked block decoder), zstd (fzstd; node 20's zlib has no zstd).
// Every decoder is bounded: `limit` caps the output, and a declared size past it fails before allocation.
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';

// The codec libraries are loaded on first use: most brokers never see a snappy, lz4 or zstd batch,
// and their ~50 KB of source (and lz4js's 5 MB of tables) would otherwise sit in every process.
const require = createRequire(import.meta.url);
interface Snappy {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
interface Lz4 {
  compressBound(n: number): number;
  compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
}
type Xxh32 = (seed: number, src: Uint8Array, i: number, n: number) => number;
let snappyLib: Snappy | undefined;
let lz4Lib: Lz4 | undefined;
let xxh32Fn: Xxh32 | undefined;
let zstdLib: typeof import('fzstd') | undefined;
const snappy = (): Snappy => {
  snappyLib ??= require('snappyjs') as Snappy;
  return snappyLib;
};
const lz4js = (): Lz4 => {
  lz4Lib ??= require('lz4js') as Lz4;
  return lz4Lib;
};
const xxh32: Xxh32 = (seed, src, i, n) => {
  xxh32Fn ??= (require('lz4js/xxh32.js') as { hash: Xxh32 }).hash;
  return xxh32Fn(seed, src, i, n);
};
const fzstd = (): typeof import('fzstd') => {
  zstdLib ??= require('fzstd') as typeof import('fzstd');
  return zstdLib;
};

/** A batch's compression codec (attributes bits 0-2), by Kafka's CompressionType name. */
export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

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
        return lz4FrameDecompress(data, limit, false).data;
      case 'zstd':
        return zstdStream(data, limit, limit, false).data;
    }
  } catch (e) {
    if (e instanceof InvalidRecordError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new InvalidRecordError(`${codec}: decompressed data exceeds the ${limit}-byte limit`);
    throw new InvalidRecordError(`${codec} decompression failed: ${(e as Error).message}`);
  }
}

/** The start of a records section's decompressed bytes; `complete` when nothing follows them. */
export interface DecompressedPrefix {
  data: Buffer;
  complete: boolean;
}

/** gzip's deflate cannot expand one input byte into more than 1032 output bytes (RFC 1951 limits). */
const DEFLATE_MAX_RATIO = 1032;

/**
 * The first bytes (at most `maxBytes`, and usually about that many when there are more) of a records
 * section, decompressing no further than needed: a decompression bomb is looked at through this
 * window before anything decompresses it whole. Raw snappy has no partial decoder here; it declares
 * its size up front, so a section declaring more than `limit` is refused without decompressing and
 * a smaller one is decompressed whole. Throws InvalidRecordError for undecodable data.
 */
export function decompressPrefix(
  codec: CompressionType,
  data: Buffer,
  maxBytes: number,
  limit: number,
): DecompressedPrefix {
  try {
    switch (codec) {
      case 'none':
        return data.length <= maxBytes
          ? { data, complete: true }
          : { data: data.subarray(0, maxBytes), complete: false };
      case 'gzip':
        return gzipPrefix(data, maxBytes);
      case 'snappy':
        return snappyPrefix(data, maxBytes, limit);
      case 'lz4':
        return lz4FrameDecompress(data, maxBytes, true);
      case 'zstd':
        return zstdStream(data, maxBytes, limit, true);
    }
  } catch (e) {
    if (e instanceof InvalidRecordError) throw e;
    throw new InvalidRecordError(`${codec} decompression failed: ${(e as Error).message}`);
  }
}

function gzipPrefix(data: Buffer, maxBytes: number): DecompressedPrefix {
  try {
    return { data: gunzipSync(data, { maxOutputLength: maxBytes }), complete: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw e;
  }
  // More than maxBytes: inflate only as much input as can expand to maxBytes, flushing what the
  // truncated stream gives instead of failing on its missing end.
  const input = data.subarray(0, Math.max(64, Math.floor(maxBytes / DEFLATE_MAX_RATIO)));
  try {
    const out = gunzipSync(input, {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      maxOutputLength: maxBytes + 64 * DEFLATE_MAX_RATIO,
    });
    return { data: out, complete: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      return { data: Buffer.alloc(0), complete: false };
    throw e;
  }
}

/** Raw snappy's declared length, or -1 when the section is xerial-framed or the varint is bad. */
function snappyDeclaredLength(data: Buffer): number {
  let n = 0;
  for (let i = 0, shift = 0; i < 5 && i < data.length; i++, shift += 7) {
    const b = data[i]!;
    n += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return n;
  }
  return -1;
}

function snappyPrefix(data: Buffer, maxBytes: number, limit: number): DecompressedPrefix {
  if (data.length >= 16 && data.subarray(0, 8).equals(XERIAL_MAGIC))
    return xerialSnappy(data, limit, maxBytes);
  const declared = snappyDeclaredLength(data);
  if (declared > limit) fail(`snappy: section declares ${declared} bytes, over the ${limit}-byte limit`);
  return { data: Buffer.from(snappy().uncompress(data, limit)), complete: true };
}

/** Compresses a records section. zstd is written as a valid zstd frame of raw (stored) blocks. */
export function compress(codec: CompressionType, data: Buffer): Buffer {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data);
    case 'snappy':
      return Buffer.from(snappy().compress(data));
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
    return Buffer.from(snappy().uncompress(data, limit));
  }
  return xerialSnappy(data, limit, limit).data;
}

/** Xerial-framed snappy, chunk by chunk, stopping after the chunk that reaches `maxBytes`. */
function xerialSnappy(data: Buffer, limit: number, maxBytes: number): DecompressedPrefix {
  const chunks: Buffer[] = [];
  let total = 0;
  let p = 16; // magic + version + compatible version
  while (p < data.length) {
    if (total >= maxBytes) return { data: Buffer.concat(chunks, total), complete: false };
    if (p + 4 > data.length) fail('xerial snappy: truncated chunk length');
    const len = data.readInt32BE(p);
    p += 4;
    if (len < 0 || len > data.length - p)
      fail(`xerial snappy: chunk length ${len} exceeds the ${data.length - p} bytes left`);
    const chunk = Buffer.from(snappy().uncompress(data.subarray(p, p + len), limit - total));
    total += chunk.length;
    chunks.push(chunk);
    p += len;
  }
  return { data: Buffer.concat(chunks, total), complete: true };
}

// zstd: fzstd allocates a window from the frame header (content size or window size); check those against
// the limit before letting it allocate. Its one-shot decoder then gathers every block before concatenating
// (a 16 KiB frame of RLE blocks is 512 MiB), so blocks go through its streaming decoder, counted as they
// come out, and decoding stops at the limit (or, for a prefix, once `maxBytes` are out).
const ZSTD_MAGIC = 0xfd2fb528;

function zstdStream(data: Buffer, maxBytes: number, limit: number, partial: boolean): DecompressedPrefix {
  // No match can reach back past the start of the output, and decoding stops at `history` bytes (the
  // limit, or for a prefix the block that reaches maxBytes): a frame's larger window (2 MiB for a
  // streaming producer at the default level, 128 MiB at level 22) is declared as the smallest window
  // holding `history` in a copy of the section, so fzstd does not allocate and zero it per batch.
  const history = partial ? maxBytes : limit;
  const smallWindowLog = Math.max(17, Math.ceil(Math.log2(Math.max(history, 1))));
  let patched: Buffer | null = null;
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
    // fzstd's stream allocates the content size for a single-segment frame, else the window.
    if (singleSegment && contentSize > limit)
      fail(`zstd: frame declares ${contentSize} bytes, over the ${limit}-byte limit`);
    if (!singleSegment && windowSize > 2 ** smallWindowLog) {
      patched ??= Buffer.from(data);
      patched[p + 5] = (smallWindowLog - 10) << 3;
    }
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
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new (fzstd().Decompress)((block) => {
    if (block.length === 0) return;
    chunks.push(block);
    total += block.length;
    if (total > limit && !partial) fail(`zstd: decompressed data exceeds the ${limit}-byte limit`);
    if (total >= maxBytes && partial) throw ENOUGH;
  });
  try {
    stream.push(patched ?? data, true);
  } catch (e) {
    if (e !== ENOUGH) throw e;
    return { data: Buffer.concat(chunks, total), complete: false };
  }
  const one = chunks.length === 1 ? chunks[0]! : null;
  return {
    data: one ? Buffer.from(one.buffer, one.byteOffset, one.length) : Buffer.concat(chunks, total),
    complete: true,
  };
}

/** Thrown out of the zstd stream's callback to stop it once a prefix is long enough. */
const ENOUGH = Symbol('enough');

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
 * Returns the new output position and where the last match started (-1 if none). With `truncate`, output
 * that would pass dEnd stops the block there (`overflow`) instead of failing.
 */
function lz4DecodeBlock(
  src: Buffer,
  s: number,
  sEnd: number,
  dst: Buffer,
  dPos: number,
  dEnd: number,
  historyStart: number,
  truncate = false,
): { end: number; lastMatchAt: number; overflow?: boolean } {
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
    if (lit > dEnd - d) {
      if (!truncate) fail('lz4: decompressed data exceeds the limit');
      src.copy(dst, d, s, s + (dEnd - d));
      return { end: dEnd, lastMatchAt, overflow: true };
    }
    // Short runs byte by byte: Buffer.copy costs more per call than it saves below ~32 bytes.
    if (lit < 32) for (let i = 0; i < lit; i++) dst[d + i] = src[s + i]!;
    else src.copy(dst, d, s, s + lit);
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
    if (ml > dEnd - d) {
      if (!truncate) fail('lz4: decompressed data exceeds the limit');
      ml = dEnd - d;
      for (let i = 0; i < ml; i++, d++) dst[d] = dst[d - off]!;
      return { end: d, lastMatchAt, overflow: true };
    }
    lastMatchAt = d;
    if (off >= ml && ml >= 32) {
      dst.copy(dst, d, d - off, d - off + ml);
      d += ml;
    } else {
      for (let i = 0; i < ml; i++, d++) dst[d] = dst[d - off]!;
    }
  }
}

/** The frames in `data`; with `truncate`, stops once `limit` bytes are out (complete: false). */
function lz4FrameDecompress(data: Buffer, limit: number, truncate: boolean): DecompressedPrefix {
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
      if (contentSize > limit && !truncate)
        fail(`lz4: frame declares ${contentSize} bytes, over the ${limit}-byte limit`);
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
        const room = out.reserve(bsize) - out.len;
        if (room < bsize) {
          if (!truncate) fail(`lz4: decompressed data exceeds the ${limit}-byte limit`);
          data.copy(out.buf, out.len, q, q + room);
          out.len += room;
          return { data: out.buf.subarray(0, out.len), complete: false };
        }
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
          truncate,
        );
        out.len = r.end;
        if (r.overflow) return { data: out.buf.subarray(0, out.len), complete: false };
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
  return { data: out.buf.subarray(0, out.len), complete: true };
}

const LZ4_ENCODE_BLOCK = 64 * 1024;

/** One LZ4 frame: version 01, independent blocks, 64 KB block max, no checksums (as Kafka's Java client). */
function lz4FrameCompress(data: Buffer): Buffer {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]);
  header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
  const parts: Buffer[] = [header];
  const hashTable = new Uint32Array(1 << 16);
  const scratch = Buffer.alloc(lz4js().compressBound(LZ4_ENCODE_BLOCK));
  const check = Buffer.alloc(LZ4_ENCODE_BLOCK);
  for (let p = 0; p < data.length; p += LZ4_ENCODE_BLOCK) {
    const block = data.subarray(p, Math.min(p + LZ4_ENCODE_BLOCK, data.length));
    hashTable.fill(0);
    const n = lz4js().compressBlock(block, scratch, 0, block.length, hashTable);
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
