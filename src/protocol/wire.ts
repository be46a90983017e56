/**
 * Kafka's primitive wire types: a bounds-checked Reader over one request and a growable Writer
 * that keeps large `records` buffers as separate chunks so that responses can be written with
 * writev, never concatenated.
 */

/** A request that violates the protocol; the connection that sent it is closed. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

import { readUnsignedVarint, writeUnsignedVarint } from './varint.js';

const TWO_32 = 4294967296;

export function uuidToString(buf: Buffer, pos: number): string {
  return buf.toString('base64url', pos, pos + 16);
}

export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  error(message: string): ProtocolError {
    return new ProtocolError(`${message} at byte ${this.pos}`);
  }

  private readonly fail = (message: string): never => {
    throw this.error(message);
  };

  need(n: number): void {
    if (n > this.end - this.pos || n < 0) {
      throw this.error(`need ${n} bytes, ${this.end - this.pos} remain`);
    }
  }

  /** An element count read from the wire must not exceed the bytes left (each element takes ≥ 1). */
  ensureCount(n: number): void {
    if (n > this.end - this.pos) throw this.error(`count ${n} exceeds the ${this.end - this.pos} bytes left`);
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int64 as a JS number (exact within ±2^53, which covers offsets, timestamps and ids). */
  int64(): number {
    this.need(8);
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  uvarint(): number {
    return readUnsignedVarint(this.buf, this, this.end, this.fail);
  }

  uuid(): string {
    this.need(16);
    const s = uuidToString(this.buf, this.pos);
    this.pos += 16;
    return s;
  }

  private utf8(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  string(nullable: boolean): string | null {
    const len = this.int16();
    if (len < 0) {
      if (nullable && len === -1) return null;
      throw this.error(`invalid string length ${len}`);
    }
    return this.utf8(len);
  }

  compactString(nullable: boolean): string | null {
    const len = this.uvarint() - 1;
    if (len < 0) {
      if (nullable) return null;
      throw this.error('null compact string for a non-nullable field');
    }
    return this.utf8(len);
  }

  /** Bytes are returned as a view into the request buffer: no copy. */
  private view(len: number): Buffer {
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  bytes(nullable: boolean): Buffer | null {
    const len = this.int32();
    if (len < 0) {
      if (nullable && len === -1) return null;
      throw this.error(`invalid bytes length ${len}`);
    }
    return this.view(len);
  }

  compactBytes(nullable: boolean): Buffer | null {
    const len = this.uvarint() - 1;
    if (len < 0) {
      if (nullable) return null;
      throw this.error('null compact bytes for a non-nullable field');
    }
    return this.view(len);
  }

  /** A reader over the next `size` bytes; this reader skips past them. */
  sub(size: number): Reader {
    this.need(size);
    const r = new Reader(this.buf, this.pos, this.pos + size);
    this.pos += size;
    return r;
  }

  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }
}

/** Records buffers at least this large are passed through as their own chunk instead of copied. */
const CHUNK_THRESHOLD = 4096;

/**
 * Record bytes a response refers to without holding them (a range of a segment file): the writer
 * counts their length and leaves them as a chunk of their own, which the connection sends from where
 * they are (sendfile).
 */
export interface ExternalRecords {
  readonly length: number;
  readonly external: true;
}

/** One piece of an encoded response: bytes, or records sent from elsewhere. */
export type Chunk = Buffer | ExternalRecords;

/** What a `records` field is written from: one buffer, a list of them, or a range sent from elsewhere. */
type RecordsValue = Buffer | readonly Buffer[] | ExternalRecords;

function recordParts(v: RecordsValue): readonly Chunk[] {
  return Array.isArray(v) ? (v as readonly Buffer[]) : [v as Chunk];
}

function totalLength(parts: readonly Chunk[]): number {
  let total = 0;
  for (const p of parts) total += p.length;
  return total;
}

export class Writer {
  private buf: Buffer;
  private pos = 0;
  private chunkStart = 0;
  private readonly chunks: Chunk[] = [];
  private chunkBytes = 0;

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunkBytes + (this.pos - this.chunkStart);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.pos - this.chunkStart;
    const size = Math.max(this.buf.length * 2, pending + n, 1024);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.chunkStart, this.pos);
    this.buf = next;
    this.chunkStart = 0;
    this.pos = pending;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos++);
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  int64(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    const lo = v - hi * TWO_32;
    this.buf.writeInt32BE(hi | 0, this.pos);
    this.buf.writeUInt32BE(lo >>> 0, this.pos + 4);
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  uvarint(v: number): void {
    this.ensure(5);
    this.pos = writeUnsignedVarint(this.buf, this.pos, v);
  }

  uuid(v: string): void {
    const b = Buffer.from(v, 'base64url');
    if (b.length !== 16) throw new Error(`invalid uuid ${v}`);
    this.raw(b);
  }

  raw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private utf8(s: string, len: number): void {
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  string(v: string | null): void {
    if (v == null) return this.int16(-1);
    const len = Buffer.byteLength(v);
    this.int16(len);
    this.utf8(v, len);
  }

  compactString(v: string | null): void {
    if (v == null) return this.uvarint(0);
    const len = Buffer.byteLength(v);
    this.uvarint(len + 1);
    this.utf8(v, len);
  }

  bytes(v: Buffer | null): void {
    if (v == null) return this.int32(-1);
    this.int32(v.length);
    this.raw(v);
  }

  compactBytes(v: Buffer | null): void {
    if (v == null) return this.uvarint(0);
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  records(v: RecordsValue | null): void {
    if (v == null) return this.int32(-1);
    const parts = recordParts(v);
    this.int32(totalLength(parts));
    this.appendParts(parts);
  }

  compactRecords(v: RecordsValue | null): void {
    if (v == null) return this.uvarint(0);
    const parts = recordParts(v);
    this.uvarint(totalLength(parts) + 1);
    this.appendParts(parts);
  }

  private appendParts(parts: readonly Chunk[]): void {
    for (const p of parts) {
      if (Buffer.isBuffer(p) && p.length < CHUNK_THRESHOLD) {
        this.raw(p);
        continue;
      }
      if (this.pos > this.chunkStart) {
        const head = this.buf.subarray(this.chunkStart, this.pos);
        this.chunks.push(head);
        this.chunkBytes += head.length;
        this.chunkStart = this.pos;
      }
      this.chunks.push(p);
      this.chunkBytes += p.length;
    }
  }

  /** Overwrites an int32 already written at absolute byte `at` of the current (first) chunk. */
  patchInt32(at: number, v: number): void {
    const first = this.chunks.length > 0 ? (this.chunks[0] as Buffer) : this.buf;
    first.writeInt32BE(v, at);
  }

  /** The written bytes as a list of chunks (large and external records are their own entries, uncopied). */
  toChunks(): Chunk[] {
    const out = this.chunks.slice();
    if (this.pos > this.chunkStart) out.push(this.buf.subarray(this.chunkStart, this.pos));
    return out;
  }

  toBuffer(): Buffer {
    const chunks = this.toChunks();
    if (!chunks.every((c) => Buffer.isBuffer(c)))
      throw new Error('external records cannot be joined into one buffer');
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}
