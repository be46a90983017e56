/**
 * The part of ASN.1 DER that Kerberos 5 messages use (RFC 4120 §5): single-byte identifiers (universal,
 * application and context tags below 31), definite lengths, INTEGER, OCTET STRING, GeneralString,
 * GeneralizedTime, BIT STRING, SEQUENCE. Reading is bounds-checked: a length field that points past its
 * input throws DerError, and nothing is allocated from a length before it is checked.
 */

export class DerError extends Error {
  override name = 'DerError';
}

export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_GENERAL_STRING = 0x1b;
export const TAG_GENERALIZED_TIME = 0x18;
export const TAG_SEQUENCE = 0x30;

/** The identifier byte of `[APPLICATION n]` (constructed). */
export const application = (n: number): number => 0x60 | n;
/** The identifier byte of `[n]` (context-specific, constructed: explicit tagging). */
export const context = (n: number): number => 0xa0 | n;

export interface Tlv {
  /** The identifier byte. */
  tag: number;
  /** The contents (a view of the input). */
  value: Buffer;
  /** Where this element starts in the input. */
  start: number;
  /** Where the next element starts in the input. */
  end: number;
}

/** The element at `at` in `buf`. */
export function readTlv(buf: Buffer, at = 0): Tlv {
  if (at + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high-tag-number identifiers are not used by Kerberos');
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4) throw new DerError('DER length too long');
    if (p + n > buf.length) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new DerError('DER length past the end of its input');
  return { tag, value: buf.subarray(p, p + len), start: at, end: p + len };
}

/** The one element `buf` holds, which must have identifier `tag`. */
export function expectTlv(buf: Buffer, tag: number, what: string): Buffer {
  const t = readTlv(buf, 0);
  if (t.tag !== tag)
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t.value;
}

/** The elements of a constructed value, in order. */
export function elements(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < value.length; ) {
    const t = readTlv(value, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

/**
 * The fields of a SEQUENCE whose members are explicitly tagged `[n]`: n → the inner element's bytes
 * (tag included). Fields must appear in increasing order, each at most once.
 */
export function fields(seq: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let last = -1;
  for (const t of elements(seq)) {
    if ((t.tag & 0xe0) !== 0xa0) throw new DerError(`expected a context tag, got 0x${t.tag.toString(16)}`);
    const n = t.tag & 0x1f;
    if (n <= last) throw new DerError('SEQUENCE fields out of order');
    last = n;
    out.set(n, t.value);
  }
  return out;
}

/** Field `n`, which must be present. */
export function required(f: Map<number, Buffer>, n: number, what: string): Buffer {
  const v = f.get(n);
  if (v === undefined) throw new DerError(`${what}: field [${n}] missing`);
  return v;
}

export function readInteger(el: Buffer): number {
  const v = expectTlv(el, TAG_INTEGER, 'INTEGER');
  if (v.length === 0 || v.length > 6) throw new DerError('INTEGER of unsupported size');
  return v.readIntBE(0, v.length);
}

export function readOctetString(el: Buffer): Buffer {
  return expectTlv(el, TAG_OCTET_STRING, 'OCTET STRING');
}

export function readString(el: Buffer): string {
  return expectTlv(el, TAG_GENERAL_STRING, 'KerberosString').toString('utf8');
}

/** A KerberosTime (GeneralizedTime `YYYYMMDDHHMMSSZ`), as ms since the epoch. */
export function readTime(el: Buffer): number {
  const s = expectTlv(el, TAG_GENERALIZED_TIME, 'KerberosTime').toString('latin1');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new DerError(`bad KerberosTime ${JSON.stringify(s.slice(0, 20))}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** A BIT STRING's first 32 bits as a number, bit 0 the most significant (Kerberos flags). */
export function readFlags(el: Buffer): number {
  const v = expectTlv(el, TAG_BIT_STRING, 'BIT STRING');
  if (v.length < 1) throw new DerError('empty BIT STRING');
  let n = 0;
  for (let i = 0; i < 4; i++) n = n * 256 + (v[1 + i] ?? 0);
  return n >>> 0;
}

export function readSequenceOf(el: Buffer): Buffer[] {
  const v = expectTlv(el, TAG_SEQUENCE, 'SEQUENCE OF');
  return elements(v).map((t) => v.subarray(t.start, t.end));
}

// Writing.

export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = contents.length === 1 ? contents[0]! : Buffer.concat(contents);
  const len = body.length;
  let head: Buffer;
  if (len < 0x80) head = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    head = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([head, body]);
}

export function integer(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  // Two's complement, shortest form.
  for (;;) {
    const b = ((v % 256) + 256) % 256;
    bytes.unshift(b);
    v = Math.floor(v / 256);
    if ((v === 0 && (b & 0x80) === 0) || (v === -1 && (b & 0x80) !== 0)) break;
  }
  return tlv(TAG_INTEGER, Buffer.from(bytes));
}

export const octetString = (b: Buffer): Buffer => tlv(TAG_OCTET_STRING, b);
export const generalString = (s: string): Buffer => tlv(TAG_GENERAL_STRING, Buffer.from(s, 'utf8'));
export const sequence = (...members: Buffer[]): Buffer => tlv(TAG_SEQUENCE, ...members);

export function time(ms: number): Buffer {
  const s = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // 2026-12-02T11:22:13.000Z
  return tlv(TAG_GENERALIZED_TIME, Buffer.from(`${s.slice(0, 19).replace(/[-:T]/g, '')}Z`, 'latin1'));
}

export function flags(n: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(n >>> 0, 1);
  return tlv(TAG_BIT_STRING, b);
}

/** A SEQUENCE of explicitly tagged fields (`[n]` the n-th member); undefined members are left out. */
export function taggedSequence(members: (Buffer | undefined)[]): Buffer {
  const parts: Buffer[] = [];
  members.forEach((m, n) => {
    if (m !== undefined) parts.push(tlv(context(n), m));
  });
  return tlv(TAG_SEQUENCE, ...parts);
}
