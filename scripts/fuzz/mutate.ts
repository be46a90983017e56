/**
 * Structure-aware mutation of Kafka request frames (header + body, without the size prefix).
 *
 * A seed frame is decoded once by the broker's own codec through a tracing Reader, which notes
 * where every primitive sits: fixed-width integers, unsigned varints (compact lengths, array
 * counts, tagged-field counts), string and bytes length prefixes, and `records` fields holding a
 * magic-2 batch. Mutations then aim at those sites: boundary values for integers and counts,
 * lying lengths, overlong or unterminated varints, tagged fields inserted where a tag section
 * (or an empty compact array) was, record batches mutated inside and re-sealed with a correct
 * CRC-32C so the checks behind the CRC are reached, and compressed records sections swapped in
 * (valid, garbage, and decompression bombs). Plain byte flips and splices cover the rest.
 *
 * Everything is driven by a seeded PRNG: the same seed gives the same frames.
 */
import { gzipSync } from 'node:zlib';
import { codecFor } from '../../src/protocol/codec.js';
import { compress } from '../../src/protocol/compression.js';
import { requestSpecs } from '../../src/protocol/generated/messages.js';
import { readRequestHeader } from '../../src/protocol/headers.js';
import {
  ATTRIBUTES,
  BASE_SEQUENCE,
  BATCH_LENGTH,
  HEADER_SIZE,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_V2,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  RECORDS_COUNT,
  writeCrc,
} from '../../src/protocol/record-batch.js';
import { encodeVarlong } from '../../src/protocol/varint.js';
import { Reader } from '../../src/protocol/wire.js';

// ---- PRNG -----------------------------------------------------------------------------------------

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// ---- sites ----------------------------------------------------------------------------------------

export type SiteKind =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uvarint'
  | 'string' // int16 length prefix
  | 'bytes' // int32 length prefix
  | 'compact'; // uvarint length prefix (compact string/bytes)

export interface Site {
  kind: SiteKind;
  /** Position of the value (or length prefix) in the frame. */
  pos: number;
  /** Bytes the value or prefix takes. */
  width: number;
  /** For length-prefixed sites: the content length. */
  len?: number;
}

export interface RecordsSite {
  /** Position of the length prefix. */
  prefixPos: number;
  prefixWidth: number;
  compact: boolean;
  /** The batch bytes: [start, start + len). */
  start: number;
  len: number;
}

export interface Seed {
  name: string;
  frame: Buffer;
  apiKey: number;
  flexible: boolean;
  sites: Site[];
  records: RecordsSite[];
}

/** A Reader that notes where each primitive was read (positions are in the frame). */
class TracingReader extends Reader {
  constructor(
    buf: Buffer,
    pos: number,
    end: number,
    readonly sites: Site[],
    readonly recordSites: RecordsSite[],
  ) {
    super(buf, pos, end);
  }
  /** Set while a length-prefixed read runs, so its prefix is noted once with its kind. */
  private inner = false;
  private note(kind: SiteKind, pos: number, width: number, len?: number): void {
    if (!this.inner) this.sites.push(len === undefined ? { kind, pos, width } : { kind, pos, width, len });
  }
  override int8(): number {
    const p = this.pos;
    const v = super.int8();
    this.note('int8', p, 1);
    return v;
  }
  override int16(): number {
    const p = this.pos;
    const v = super.int16();
    this.note('int16', p, 2);
    return v;
  }
  override int32(): number {
    const p = this.pos;
    const v = super.int32();
    this.note('int32', p, 4);
    return v;
  }
  override int64(): number {
    const p = this.pos;
    const v = super.int64();
    this.note('int64', p, 8);
    return v;
  }
  override uvarint(): number {
    const p = this.pos;
    const v = super.uvarint();
    this.note('uvarint', p, this.pos - p);
    return v;
  }
  private prefixed<T>(kind: SiteKind, read: () => T, size: (v: T) => number): T {
    const p = this.pos;
    this.inner = true;
    let v: T;
    try {
      v = read();
    } finally {
      this.inner = false;
    }
    const len = size(v);
    const width = this.pos - p - Math.max(len, 0);
    this.note(kind, p, width, len);
    return v;
  }
  override string(nullable: boolean): string | null {
    return this.prefixed(
      'string',
      () => super.string(nullable),
      (v) => (v === null ? -1 : Buffer.byteLength(v)),
    );
  }
  override compactString(nullable: boolean): string | null {
    return this.prefixed(
      'compact',
      () => super.compactString(nullable),
      (v) => (v === null ? -1 : Buffer.byteLength(v)),
    );
  }
  override bytes(nullable: boolean): Buffer | null {
    const v = this.prefixed(
      'bytes',
      () => super.bytes(nullable),
      (b) => (b === null ? -1 : b.length),
    );
    if (v) this.noteRecords(v, false);
    return v;
  }
  override compactBytes(nullable: boolean): Buffer | null {
    const v = this.prefixed(
      'compact',
      () => super.compactBytes(nullable),
      (b) => (b === null ? -1 : b.length),
    );
    if (v) this.noteRecords(v, true);
    return v;
  }
  private noteRecords(v: Buffer, compact: boolean): void {
    if (v.length < HEADER_SIZE || v[MAGIC] !== MAGIC_V2) return;
    const site = this.sites.at(-1)!;
    this.recordSites.push({
      prefixPos: site.pos,
      prefixWidth: site.width,
      compact,
      start: v.byteOffset - this.buf.byteOffset,
      len: v.length,
    });
  }
  override sub(size: number): Reader {
    this.need(size);
    const r = new TracingReader(this.buf, this.pos, this.pos + size, this.sites, this.recordSites);
    this.pos += size;
    return r;
  }
}

/** Traces a well-formed frame; throws when the codec cannot read it. */
export function traceSeed(name: string, frame: Buffer): Seed {
  const { header, body } = readRequestHeader(frame);
  const spec = requestSpecs.get(header.requestApiKey);
  if (!spec) throw new Error(`${name}: no request spec for API key ${header.requestApiKey}`);
  const sites: Site[] = [];
  const records: RecordsSite[] = [];
  const r = new TracingReader(frame, 0, frame.length, sites, records);
  // Header sites too: api key, version, correlation id, client id, the header's tag section.
  r.int16();
  r.int16();
  r.int32();
  r.string(true);
  const fl = spec.flexibleVersions;
  const flexible = fl != null && header.requestApiVersion >= fl[0];
  if (flexible && r.pos === body.pos - 1) sites.push({ kind: 'uvarint', pos: r.pos, width: 1 });
  r.pos = body.pos;
  codecFor(spec, header.requestApiVersion).read(r);
  if (r.pos !== frame.length) throw new Error(`${name}: ${frame.length - r.pos} trailing bytes`);
  return { name, frame, apiKey: header.requestApiKey, flexible, sites, records };
}

// ---- encoding helpers -----------------------------------------------------------------------------

export function uvarintBytes(v: number): Buffer {
  const out: number[] = [];
  let n = v >>> 0 === v ? v : Math.max(0, Math.floor(v));
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function splice(buf: Buffer, pos: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, pos), insert, buf.subarray(pos + remove)]);
}

const INT_EDGES = [0, 1, -1, 2, 0x7f, 0x80, 0xff, 0x7fff, -0x8000, 0xffff, 0x7fffffff, -0x80000000];
const VARINT_EDGES = [0, 1, 2, 3, 0x7f, 0x80, 0x3fff, 0x4000, 0x7fffffff, 0xffffffff, 2 ** 35];

function edgeInt(rng: Rng, current: number): number {
  switch (rng.int(4)) {
    case 0:
      return rng.pick(INT_EDGES);
    case 1:
      return current + rng.pick([-2, -1, 1, 2, 16]);
    case 2:
      return current * 2 + 1;
    default:
      return rng.int(2 ** 32) - 2 ** 31;
  }
}

function writeIntAt(buf: Buffer, pos: number, width: number, v: number): void {
  switch (width) {
    case 1:
      buf[pos] = v & 0xff;
      return;
    case 2:
      buf.writeUInt16BE(v & 0xffff, pos);
      return;
    case 4:
      buf.writeUInt32BE(v >>> 0, pos);
      return;
    default: {
      const hi = Math.floor(v / 2 ** 32);
      buf.writeInt32BE(hi | 0, pos);
      buf.writeUInt32BE((v - hi * 2 ** 32) >>> 0, pos + 4);
    }
  }
}

function readIntAt(buf: Buffer, pos: number, width: number): number {
  if (width === 1) return buf.readInt8(pos);
  if (width === 2) return buf.readInt16BE(pos);
  if (width === 4) return buf.readInt32BE(pos);
  return buf.readInt32BE(pos) * 2 ** 32 + buf.readUInt32BE(pos + 4);
}

/** A varint that is not what the codec expects: overlong, unterminated, or merely huge. */
function oddVarint(rng: Rng): Buffer {
  switch (rng.int(4)) {
    case 0:
      return Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]); // never terminates within 5 bytes
    case 1:
      return Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]); // 35 bits
    case 2:
      return Buffer.from([0x81, 0x80, 0x80, 0x00]); // overlong encoding of 1
    default:
      return uvarintBytes(rng.pick(VARINT_EDGES));
  }
}

// ---- record batches -------------------------------------------------------------------------------

/** Precomputed compressed payloads; built once (a gzip bomb takes a moment). */
interface Payloads {
  gzipBomb: Buffer;
  zstdBomb: Buffer;
  lz4Zeros: Buffer;
  snappyZeros: Buffer;
}
let payloads: Payloads | undefined;

/**
 * A zstd frame of RLE blocks: 4 bytes per 128 KiB of output, with no content size in the header
 * (so a decoder cannot refuse it up front) — `blocks` × 128 KiB of zeros.
 */
function zstdRleBomb(blocks: number, declareSize: boolean): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(declareSize ? 14 : 6);
  header.writeUInt32LE(0xfd2fb528, 0);
  if (declareSize) {
    header[4] = 0xc0 | 0x20; // FCS 8 bytes, single segment
    header.writeUInt32LE((blocks * 131072) >>> 0, 5);
    header.writeUInt32LE(Math.floor((blocks * 131072) / 2 ** 32), 9);
    return Buffer.concat([header.subarray(0, 13), rleBlocks(blocks)]);
  }
  header[4] = 0x00; // no FCS, window descriptor follows
  header[5] = 0x58; // window 2^(10+11) = 2 MiB
  parts.push(header);
  parts.push(rleBlocks(blocks));
  return Buffer.concat(parts);
}

function rleBlocks(blocks: number): Buffer {
  const out = Buffer.alloc(blocks * 4);
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    const h = last | (1 << 1) | (131072 << 3); // RLE block, size 128 KiB
    out[i * 4] = h & 0xff;
    out[i * 4 + 1] = (h >> 8) & 0xff;
    out[i * 4 + 2] = (h >> 16) & 0xff;
    out[i * 4 + 3] = 0; // the byte repeated
  }
  return out;
}

function getPayloads(): Payloads {
  payloads ??= {
    // 256 MiB of zeros → ~250 KiB of gzip: past the 128 MiB decompression cap.
    gzipBomb: gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 }),
    zstdBomb: zstdRleBomb(4096, false), // 512 MiB from 16 KiB
    lz4Zeros: compress('lz4', Buffer.alloc(1024 * 1024)),
    snappyZeros: compress('snappy', Buffer.alloc(1024 * 1024)),
  };
  return payloads;
}

/** A varint-ish record body: records of Kafka's layout with lying lengths here and there. */
function fuzzRecords(rng: Rng, count: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const key = rng.chance(0.3) ? null : rng.bytes(rng.int(8));
    const value = rng.bytes(rng.int(32));
    const lie = (n: number) => (rng.chance(0.15) ? rng.pick([-2, -1, 0, n + 1, 2 ** 31 - 1, -(2 ** 31)]) : n);
    const body = Buffer.concat([
      Buffer.from([rng.chance(0.1) ? rng.int(256) : 0]),
      encodeVarlong(lie(0)),
      encodeVarlong(lie(i)),
      encodeVarlong(key === null ? -1 : lie(key.length)),
      key ?? Buffer.alloc(0),
      encodeVarlong(lie(value.length)),
      value,
      encodeVarlong(lie(rng.int(3))),
      rng.chance(0.3) ? rng.bytes(rng.int(12)) : Buffer.alloc(0),
    ]);
    parts.push(encodeVarlong(lie(body.length)), body);
  }
  return Buffer.concat(parts);
}

/** Mutates one batch (a copy) and re-seals it: batch length and CRC-32C made right again. */
export function mutateBatch(rng: Rng, batch: Buffer): Buffer {
  let header = Buffer.from(batch.subarray(0, HEADER_SIZE));
  let body: Buffer = Buffer.from(batch.subarray(HEADER_SIZE));
  switch (rng.int(9)) {
    case 0: // attributes: compression codec (incl. the unused ids 5-7), control, transactional bits
      header.writeUInt16BE(rng.int(0x80) | (rng.chance(0.1) ? 0x8000 : 0), ATTRIBUTES);
      break;
    case 1: // counts that disagree with the records
      header.writeInt32BE(edgeInt(rng, header.readInt32BE(RECORDS_COUNT)), RECORDS_COUNT);
      if (rng.chance(0.5)) header.writeInt32BE(edgeInt(rng, 0), LAST_OFFSET_DELTA);
      break;
    case 2: // idempotence fields
      writeIntAt(header, PRODUCER_ID, 8, rng.pick([-1, 0, 1, 2 ** 40, rng.int(1000)]));
      header.writeInt16BE(rng.pick([-1, 0, 1, 0x7fff, -0x8000]), PRODUCER_EPOCH);
      header.writeInt32BE(rng.pick([-1, 0, 1, 0x7fffffff, -0x80000000]), BASE_SEQUENCE);
      break;
    case 3: {
      // records rewritten with lying varints
      const n = 1 + rng.int(5);
      body = fuzzRecords(rng, n);
      header.writeInt32BE(n, RECORDS_COUNT);
      header.writeInt32BE(n - 1, LAST_OFFSET_DELTA);
      header.writeUInt16BE(header.readUInt16BE(ATTRIBUTES) & 0xfff8, ATTRIBUTES);
      break;
    }
    case 4: {
      // a real compressed section of fuzzed records, every codec
      const codec = rng.pick(['gzip', 'snappy', 'lz4', 'zstd'] as const);
      const n = 1 + rng.int(5);
      body = compress(codec, fuzzRecords(rng, n));
      header.writeInt32BE(n, RECORDS_COUNT);
      header.writeInt32BE(n - 1, LAST_OFFSET_DELTA);
      header.writeUInt16BE(
        (header.readUInt16BE(ATTRIBUTES) & 0xfff8) | ['', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(codec),
        ATTRIBUTES,
      );
      break;
    }
    case 5: {
      // decompression bombs and garbage under a compression codec
      const p = getPayloads();
      const [codec, data] = rng.pick([
        [1, p.gzipBomb],
        [4, p.zstdBomb],
        [4, zstdRleBomb(8192, true)],
        [3, p.lz4Zeros],
        [2, p.snappyZeros],
        [1 + rng.int(4), rng.bytes(rng.int(200))],
      ] as const);
      body = Buffer.from(data);
      header.writeUInt16BE((header.readUInt16BE(ATTRIBUTES) & 0xfff8) | codec, ATTRIBUTES);
      break;
    }
    case 6: // flip bytes inside the records (compressed or not)
      for (let k = 0; k < 1 + rng.int(4) && body.length > 0; k++) body[rng.int(body.length)] = rng.int(256);
      break;
    case 7: // truncate or extend the records
      body = rng.chance(0.5)
        ? body.subarray(0, rng.int(body.length + 1))
        : Buffer.concat([body, rng.bytes(1 + rng.int(20))]);
      break;
    default: // two batches where one was
      header = Buffer.from(header);
      body = Buffer.concat([body, header, body]);
      break;
  }
  const out = Buffer.concat([header, body]);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH);
  if (rng.chance(0.97)) writeCrc(out, 0);
  return out;
}

// ---- frame mutations ------------------------------------------------------------------------------

function replaceRecords(frame: Buffer, site: RecordsSite, batch: Buffer): Buffer {
  const prefix = site.compact ? uvarintBytes(batch.length + 1) : Buffer.alloc(4);
  if (!site.compact) prefix.writeInt32BE(batch.length, 0);
  return Buffer.concat([
    frame.subarray(0, site.prefixPos),
    prefix,
    batch,
    frame.subarray(site.start + site.len),
  ]);
}

export type MutationName =
  | 'int'
  | 'varint'
  | 'length'
  | 'tagged'
  | 'flip'
  | 'splice'
  | 'truncate'
  | 'batch'
  | 'topic';

/** One mutation of a seed's frame; structure-aware ones first need the seed's sites. */
function mutateOnce(rng: Rng, seed: Seed, frame: Buffer, op: MutationName): Buffer {
  const sites = seed.sites;
  const of = (kinds: SiteKind[]) => sites.filter((s) => kinds.includes(s.kind));
  switch (op) {
    case 'int': {
      const s = of(['int8', 'int16', 'int32', 'int64']);
      if (s.length === 0) return frame;
      const site = rng.pick(s);
      const out = Buffer.from(frame);
      writeIntAt(out, site.pos, site.width, edgeInt(rng, readIntAt(frame, site.pos, site.width)));
      return out;
    }
    case 'varint': {
      const s = of(['uvarint']);
      if (s.length === 0) return frame;
      const site = rng.pick(s);
      return splice(frame, site.pos, site.width, oddVarint(rng));
    }
    case 'length': {
      const s = of(['string', 'bytes', 'compact']);
      if (s.length === 0) return frame;
      const site = rng.pick(s);
      const len = site.len ?? 0;
      const v = rng.pick([-2, -1, 0, len - 1, len + 1, len + 100, 0x7fff, 0x7fffffff]);
      if (site.kind === 'compact')
        return splice(frame, site.pos, site.width, uvarintBytes(Math.max(0, v + 1)));
      const out = Buffer.from(frame);
      if (site.kind === 'string') out.writeInt16BE(Math.max(-0x8000, Math.min(0x7fff, v)), site.pos);
      else out.writeInt32BE(v, site.pos);
      return out;
    }
    case 'tagged': {
      // A tag section (or an empty compact array: the bytes are the same) given fields: unknown
      // tags, duplicates, out of order, sizes that lie.
      if (!seed.flexible) return mutateOnce(rng, seed, frame, 'int');
      const zeros = sites.filter((s) => s.kind === 'uvarint' && frame[s.pos] === 0);
      if (zeros.length === 0) return frame;
      const site = rng.pick(zeros);
      const n = 1 + rng.int(3);
      const parts: Buffer[] = [uvarintBytes(rng.chance(0.1) ? 0x7fffffff : n)];
      for (let i = 0; i < n; i++) {
        const data = rng.bytes(rng.int(12));
        parts.push(uvarintBytes(rng.pick([0, 0, 1, 2, 3, 7, 100, 0x7fffffff])));
        parts.push(uvarintBytes(rng.chance(0.2) ? rng.pick([data.length + 1, 0x7fffffff]) : data.length));
        parts.push(data);
      }
      return splice(frame, site.pos, site.width, Buffer.concat(parts));
    }
    case 'flip': {
      const out = Buffer.from(frame);
      for (let k = 0; k < 1 + rng.int(4); k++) {
        const p = 8 + rng.int(Math.max(1, out.length - 8));
        if (p < out.length) out[p] = rng.chance(0.5) ? rng.int(256) : out[p]! ^ (1 << rng.int(8));
      }
      return out;
    }
    case 'splice': {
      const a = 8 + rng.int(Math.max(1, frame.length - 8));
      const n = 1 + rng.int(16);
      switch (rng.int(3)) {
        case 0:
          return splice(frame, a, n, Buffer.alloc(0));
        case 1:
          return splice(frame, a, 0, frame.subarray(a, a + n));
        default:
          return splice(frame, a, 0, rng.bytes(n));
      }
    }
    case 'truncate':
      // Now and then into the header, down to a frame of no bytes at all (once a crash of the broker).
      if (rng.chance(0.1)) return frame.subarray(0, rng.int(8));
      return frame.subarray(0, 8 + rng.int(Math.max(1, frame.length - 8)));
    case 'batch': {
      if (seed.records.length === 0) return mutateOnce(rng, seed, frame, 'int');
      const site = rng.pick(seed.records);
      if (frame !== seed.frame) return frame; // positions hold only in the seed's own bytes
      return replaceRecords(frame, site, mutateBatch(rng, frame.subarray(site.start, site.start + site.len)));
    }
    case 'topic': {
      // Names that mean something: internal topics, names at the length limit, illegal ones.
      const s = of(['string', 'compact']).filter((x) => (x.len ?? 0) > 0);
      if (s.length === 0 || frame !== seed.frame) return frame;
      const site = rng.pick(s);
      const name = rng.pick([
        '__consumer_offsets',
        '__transaction_state',
        'golden',
        'x'.repeat(249),
        'x'.repeat(250),
        '..',
        '.',
        'a/b',
        '',
      ]);
      const bytes = Buffer.from(name);
      const prefix =
        site.kind === 'compact'
          ? uvarintBytes(bytes.length + 1)
          : Buffer.from([(bytes.length >> 8) & 0xff, bytes.length & 0xff]);
      return splice(frame, site.pos, site.width + (site.len ?? 0), Buffer.concat([prefix, bytes]));
    }
  }
}

const OPS: readonly MutationName[] = [
  'int',
  'int',
  'int',
  'varint',
  'length',
  'length',
  'tagged',
  'flip',
  'splice',
  'truncate',
  'batch',
  'batch',
  'batch',
  'topic',
];

/** A mutated copy of the seed's frame: one structure-aware mutation first, sometimes more after. */
export function mutateFrame(rng: Rng, seed: Seed): { frame: Buffer; ops: MutationName[] } {
  const first = seed.records.length > 0 && rng.chance(0.35) ? 'batch' : rng.pick(OPS);
  const ops: MutationName[] = [first];
  let frame = mutateOnce(rng, seed, seed.frame, first);
  const more = rng.chance(0.3) ? 1 + rng.int(3) : 0;
  for (let i = 0; i < more; i++) {
    // Later mutations work on bytes already moved: only the position-free ones.
    const op = rng.pick(['flip', 'splice', 'truncate'] as const);
    ops.push(op);
    frame = mutateOnce(rng, seed, frame, op);
  }
  return { frame, ops };
}
