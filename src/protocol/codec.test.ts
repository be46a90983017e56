import { describe, expect, it } from 'vitest';
import { codecFor, decode, encode, Reader, Writer } from './codec.js';
import * as messages from './generated/messages.js';
import { type FieldSpec, inRange, type MessageSpec } from './spec.js';

/** A deterministic pseudo-random value for every field present at `version`. */
function sample(
  fields: readonly FieldSpec[],
  version: number,
  flexible: boolean,
  seed: { n: number },
): Record<string, unknown> {
  const next = () => {
    seed.n = (seed.n * 1103515245 + 12345) % 2147483648;
    return seed.n;
  };
  const prim = (type: string): unknown => {
    switch (type) {
      case 'bool':
        return next() % 2 === 0;
      case 'int8':
        return (next() % 256) - 128;
      case 'int16':
        return (next() % 65536) - 32768;
      case 'uint16':
        return next() % 65536;
      case 'int32':
        return next() - 1073741824;
      case 'uint32':
        return next() * 2;
      case 'int64':
        return next() * 1000 - 5;
      case 'float64':
        return next() / 7;
      case 'string':
        return `s${next() % 1000}é`;
      case 'uuid':
        return Buffer.from(Array.from({ length: 16 }, () => next() % 256)).toString('base64url');
      default:
        return Buffer.from([next() % 256, 1, 2]);
    }
  };
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inRange(version, f.versions)) continue;
    if (inRange(version, f.taggedVersions) && !flexible) continue;
    if (inRange(version, f.nullableVersions) && next() % 4 === 0) {
      out[f.name] = null;
      continue;
    }
    if (f.type === 'array') {
      const n = next() % 3;
      out[f.name] = Array.from({ length: n }, () =>
        f.elementType === 'struct' ? sample(f.fields!, version, flexible, seed) : prim(f.elementType!),
      );
    } else if (f.type === 'struct') out[f.name] = sample(f.fields!, version, flexible, seed);
    else out[f.name] = prim(f.type);
  }
  return out;
}

const specs = Object.values(messages).filter(
  (v): v is MessageSpec => typeof v === 'object' && v !== null && 'fields' in v && 'validVersions' in v,
);

describe('codec round trip for every message and version', () => {
  for (const spec of specs) {
    const [lo, hi] = spec.validVersions!;
    it(`${spec.name} v${lo}-${hi}`, () => {
      for (let v = lo; v <= hi; v++) {
        const flexible = inRange(v, spec.flexibleVersions);
        const value = sample(spec.fields, v, flexible, { n: v * 31 + spec.name.length });
        const bytes = encode(spec, v, value);
        const back = decode<Record<string, unknown>>(spec, v, bytes);
        const again = encode(spec, v, back);
        expect(again.equals(bytes), `${spec.name} v${v} re-encodes identically`).toBe(true);
        for (const [k, val] of Object.entries(value)) {
          if (val !== null && typeof val === 'object' && !Buffer.isBuffer(val)) continue;
          expect(back[k], `${spec.name} v${v} ${k}`).toEqual(val);
        }
      }
    });
  }
});

describe('codec edge cases', () => {
  it('keeps unknown tagged fields', () => {
    const w = new Writer();
    // ApiVersionsRequest v3: two compact strings + tagged section with an unknown tag 7
    w.compactString('kbroker-test');
    w.compactString('1.0');
    w.uvarint(1);
    w.uvarint(7);
    w.uvarint(2);
    w.raw(Buffer.from([0xab, 0xcd]));
    const bytes = w.toBuffer();
    const value = decode<{ _unknownTaggedFields?: { tag: number; data: Buffer }[] }>(
      messages.ApiVersionsRequest,
      3,
      bytes,
    );
    expect(value._unknownTaggedFields?.[0]?.tag).toBe(7);
    expect(encode(messages.ApiVersionsRequest, 3, value).equals(bytes)).toBe(true);
  });

  it('refuses an array count larger than the remaining bytes before allocating', () => {
    const w = new Writer();
    w.int32(0x7ffffff0); // MetadataRequest v1 topics count
    expect(() => decode(messages.MetadataRequest, 1, w.toBuffer())).toThrow(/exceeds/);
  });

  it('refuses a string length beyond the buffer', () => {
    const w = new Writer();
    w.int32(1);
    w.int16(3000);
    expect(() => decode(messages.MetadataRequest, 1, w.toBuffer())).toThrow(/need 3000 bytes/);
  });

  it('encodes int64 extremes within 2^53 exactly', () => {
    for (const n of [0, -1, -2, 2 ** 53 - 1, -(2 ** 53) + 1, 4294967296, -4294967297]) {
      const w = new Writer();
      w.int64(n);
      const b = w.toBuffer();
      expect(b.readBigInt64BE(0)).toBe(BigInt(n));
      expect(new Reader(b).int64()).toBe(n);
    }
  });

  it('writes large records as separate chunks without copying', () => {
    const big = Buffer.alloc(10_000, 7);
    const w = new Writer();
    w.int32(5);
    w.records([big]);
    w.int8(1);
    const chunks = w.toChunks();
    expect(chunks).toContain(big);
    expect(w.toBuffer().length).toBe(4 + 4 + 10_000 + 1);
  });

  it('caches compiled codecs per version', () => {
    expect(codecFor(messages.FetchRequest, 12)).toBe(codecFor(messages.FetchRequest, 12));
  });
});
