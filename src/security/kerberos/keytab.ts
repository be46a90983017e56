/**
 * MIT keytab files. Layout (version 0x0502, big-endian):
 *   u8 5, u8 2, then records: i32 size (negative = hole of -size bytes, 0 = end), and in a record
 *   u16 component count, realm (u16 length + bytes), components (each u16 length + bytes),
 *   i32 name type, u32 timestamp, u8 kvno, u16 enctype, key (u16 length + bytes), and optionally a
 *   u32 kvno that replaces the 8-bit one when nonzero.
 * Version 0x0501 has the same fields in host byte order (read here as little-endian), the realm
 * counted among the components and no name type.
 */
import { readFileSync, statSync } from 'node:fs';
import type { KerberosKey } from './crypto.js';

export interface KeytabEntry {
  /** Components joined by '/', e.g. 'kafka/localhost'. */
  principal: string;
  realm: string;
  nameType: number;
  timestamp: number;
  kvno: number;
  key: KerberosKey;
}

export class KeytabError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeytabError';
  }
}

const KEYTAB_MAGIC = 5;
/** KRB5_NT_UNKNOWN: 0x0501 files carry no name type. */
const NT_UNKNOWN = 0;
const MAX_KEYTAB_BYTES = 64 * 1024 * 1024;

class Reader {
  pos: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly le: boolean,
  ) {
    this.pos = start;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n)
      throw new KeytabError(`keytab truncated: ${what} at offset ${this.pos} needs ${n} bytes`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  i16(what: string): number {
    this.need(2, what);
    const v = this.le ? this.buf.readInt16LE(this.pos) : this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.le ? this.buf.readUInt16LE(this.pos) : this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.le ? this.buf.readInt32LE(this.pos) : this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.le ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** u16-counted octet string; empty ones are refused as MIT does. */
  counted(what: string): Buffer {
    const len = this.u16(`${what} length`);
    if (len === 0) throw new KeytabError(`keytab has an empty ${what} at offset ${this.pos - 2}`);
    this.need(len, what);
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  remaining(): number {
    return this.end - this.pos;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(b: Buffer, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new KeytabError(`keytab ${what} is not valid UTF-8`);
  }
}

function parseEntry(r: Reader, v1: boolean, recordEnd: number): KeytabEntry {
  let count = r.i16('component count');
  if (v1) count -= 1; // v1 counts the realm
  if (count <= 0) throw new KeytabError(`keytab entry has an invalid component count ${count}`);
  const realm = text(r.counted('realm'), 'realm');
  const components: string[] = [];
  for (let i = 0; i < count; i++)
    components.push(text(r.counted('principal component'), 'principal component'));
  const nameType = v1 ? NT_UNKNOWN : r.i32('name type');
  const timestamp = r.u32('timestamp');
  let kvno = r.u8('kvno');
  const etype = r.i16('enctype');
  const value = Buffer.from(r.counted('key'));
  if (r.pos + 4 <= recordEnd) {
    const kvno32 = r.u32('32-bit kvno');
    if (kvno32 !== 0) kvno = kvno32;
  }
  return { principal: components.join('/'), realm, nameType, timestamp, kvno, key: { etype, value } };
}

export function parseKeytab(buf: Buffer): KeytabEntry[] {
  if (buf.length < 2) throw new KeytabError('keytab too short for its version header');
  if (buf[0] !== KEYTAB_MAGIC || (buf[1] !== 1 && buf[1] !== 2))
    throw new KeytabError(
      `not an MIT keytab: version bytes 0x${buf.subarray(0, 2).toString('hex')} (expected 0x0502 or 0x0501)`,
    );
  const v1 = buf[1] === 1;
  const entries: KeytabEntry[] = [];
  let pos = 2;
  while (pos < buf.length) {
    const size = new Reader(buf, pos, buf.length, v1).i32('record size');
    pos += 4;
    if (size === 0) break; // end marker; anything after it is zero fill
    const len = size < 0 ? -size : size;
    if (len > buf.length - pos)
      throw new KeytabError(
        `keytab record at offset ${pos - 4} claims ${len} bytes, only ${buf.length - pos} left`,
      );
    if (size > 0) entries.push(parseEntry(new Reader(buf, pos, pos + len, v1), v1, pos + len));
    pos += len;
  }
  return entries;
}

function counted(s: string | Buffer, what: string): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  if (b.length === 0 || b.length > 0xffff) throw new KeytabError(`cannot write ${what} of ${b.length} bytes`);
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new KeytabError(`cannot write ${what} ${v}`);
}

/** Writes version 0x0502 with name types and the 32-bit kvno after each key. */
export function writeKeytab(entries: readonly KeytabEntry[]): Buffer {
  const parts: Buffer[] = [Buffer.from([KEYTAB_MAGIC, 2])];
  for (const e of entries) {
    const components = e.principal.split('/');
    checkInt(components.length, 1, 0x7fff, 'component count');
    checkInt(e.nameType, -0x80000000, 0x7fffffff, 'name type');
    checkInt(e.timestamp, 0, 0xffffffff, 'timestamp');
    checkInt(e.kvno, 0, 0xffffffff, 'kvno');
    checkInt(e.key.etype, -0x8000, 0x7fff, 'enctype');
    const head = Buffer.alloc(2);
    head.writeUInt16BE(components.length, 0);
    const fixed = Buffer.alloc(9);
    fixed.writeInt32BE(e.nameType, 0);
    fixed.writeUInt32BE(e.timestamp, 4);
    fixed[8] = e.kvno & 0xff;
    const etype = Buffer.alloc(2);
    etype.writeInt16BE(e.key.etype, 0);
    const kvno32 = Buffer.alloc(4);
    kvno32.writeUInt32BE(e.kvno, 0);
    const record = Buffer.concat([
      head,
      counted(e.realm, 'realm'),
      ...components.map((c) => counted(c, 'principal component')),
      fixed,
      etype,
      counted(e.key.value, 'key'),
      kvno32,
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(record.length, 0);
    parts.push(size, record);
  }
  return Buffer.concat(parts);
}

export function readKeytabFile(path: string): KeytabEntry[] {
  let buf: Buffer;
  try {
    const size = statSync(path).size;
    if (size > MAX_KEYTAB_BYTES) throw new KeytabError(`keytab ${path} is too large (${size} bytes)`);
    buf = readFileSync(path);
  } catch (err) {
    if (err instanceof KeytabError) throw err;
    throw new KeytabError(`cannot read keytab ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseKeytab(buf);
  } catch (err) {
    if (err instanceof KeytabError) throw new KeytabError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
