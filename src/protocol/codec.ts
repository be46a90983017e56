/**
 * One generic codec for every Kafka message, driven by the generated descriptors.
 *
 * `codecFor(spec, version)` compiles a message at one version into a plan of closures, once;
 * the plan is cached, so encode/decode never test versions per field at run time.
 * Every length read from the wire is checked against the bytes that remain before anything
 * is allocated; a violation throws `ProtocolError` (the connection is then closed).
 */
import { type FieldSpec, inRange, type MessageSpec, type PrimitiveType, type TaggedField } from './spec.js';
import { Reader, Writer } from './wire.js';

export { ProtocolError, Reader, Writer } from './wire.js';

export interface Codec<T = unknown> {
  read(r: Reader): T;
  write(w: Writer, value: T): void;
}

type Obj = Record<string, unknown> & { _unknownTaggedFields?: TaggedField[] };
type ReadFn = (r: Reader) => unknown;
type WriteFn = (w: Writer, v: unknown) => void;

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

function defaultFor(f: FieldSpec, version: number): unknown {
  if (f.default !== undefined) return f.default;
  if (f.type === 'array') return inRange(version, f.nullableVersions) ? null : [];
  if (inRange(version, f.nullableVersions)) return null;
  switch (f.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    case 'struct':
      return undefined;
    default:
      return 0;
  }
}

function primitive(type: PrimitiveType, flexible: boolean, nullable: boolean): [ReadFn, WriteFn] {
  switch (type) {
    case 'bool':
      return [(r) => r.int8() !== 0, (w, v) => w.int8(v ? 1 : 0)];
    case 'int8':
      return [(r) => r.int8(), (w, v) => w.int8(v as number)];
    case 'int16':
      return [(r) => r.int16(), (w, v) => w.int16(v as number)];
    case 'uint16':
      return [(r) => r.uint16(), (w, v) => w.uint16(v as number)];
    case 'int32':
      return [(r) => r.int32(), (w, v) => w.int32(v as number)];
    case 'uint32':
      return [(r) => r.uint32(), (w, v) => w.uint32(v as number)];
    case 'int64':
      return [(r) => r.int64(), (w, v) => w.int64(v as number)];
    case 'float64':
      return [(r) => r.float64(), (w, v) => w.float64(v as number)];
    case 'uuid':
      return [(r) => r.uuid(), (w, v) => w.uuid(v as string)];
    case 'string':
      return flexible
        ? [(r) => r.compactString(nullable), (w, v) => w.compactString(v as string | null)]
        : [(r) => r.string(nullable), (w, v) => w.string(v as string | null)];
    case 'bytes':
      return flexible
        ? [(r) => r.compactBytes(nullable), (w, v) => w.compactBytes(v as Buffer | null)]
        : [(r) => r.bytes(nullable), (w, v) => w.bytes(v as Buffer | null)];
    case 'records':
      return flexible
        ? [(r) => r.compactBytes(true), (w, v) => w.compactRecords(v as Buffer | Buffer[] | null)]
        : [(r) => r.bytes(true), (w, v) => w.records(v as Buffer | Buffer[] | null)];
  }
}

interface CompiledField {
  name: string;
  read: ReadFn;
  write: WriteFn;
  def: unknown;
}

interface CompiledTagged extends CompiledField {
  tag: number;
}

function compileStruct(fields: readonly FieldSpec[], version: number, flexible: boolean): [ReadFn, WriteFn] {
  const regular: CompiledField[] = [];
  const tagged: CompiledTagged[] = [];
  const absent: { name: string; def: unknown }[] = [];
  for (const f of fields) {
    if (!inRange(version, f.versions)) {
      absent.push({ name: f.name, def: defaultFor(f, version) });
      continue;
    }
    const fieldFlexible = f.flexibleVersions !== undefined ? inRange(version, f.flexibleVersions) : flexible;
    const [read, write] = compileField(f, version, fieldFlexible);
    const compiled = { name: f.name, read, write, def: defaultFor(f, version) };
    if (flexible && inRange(version, f.taggedVersions)) tagged.push({ ...compiled, tag: f.tag! });
    else regular.push(compiled);
  }
  tagged.sort((a, b) => a.tag - b.tag);
  const byTag = new Map(tagged.map((t) => [t.tag, t]));

  const read: ReadFn = (r) => {
    const o: Obj = {};
    for (const f of regular) o[f.name] = f.read(r);
    for (const a of absent) o[a.name] = a.def;
    for (const t of tagged) o[t.name] = t.def;
    if (flexible) {
      const n = r.uvarint();
      for (let i = 0; i < n; i++) {
        const tag = r.uvarint();
        const size = r.uvarint();
        const sub = r.sub(size);
        const known = byTag.get(tag);
        if (known) o[known.name] = known.read(sub);
        else {
          o._unknownTaggedFields ??= [];
          o._unknownTaggedFields.push({ tag, data: sub.rest() });
        }
      }
    }
    return o;
  };

  const write: WriteFn = (w, v) => {
    const o = (v ?? {}) as Obj;
    for (const f of regular) {
      const value = o[f.name];
      f.write(w, value === undefined ? f.def : value);
    }
    if (!flexible) return;
    const present: { tag: number; data: Buffer }[] = [];
    for (const t of tagged) {
      const value = o[t.name];
      if (value === undefined || isDefault(value, t.def)) continue;
      const sub = new Writer(64);
      t.write(sub, value);
      present.push({ tag: t.tag, data: sub.toBuffer() });
    }
    if (o._unknownTaggedFields) {
      present.push(...o._unknownTaggedFields);
      present.sort((a, b) => a.tag - b.tag);
    }
    w.uvarint(present.length);
    for (const p of present) {
      w.uvarint(p.tag);
      w.uvarint(p.data.length);
      w.raw(p.data);
    }
  };
  return [read, write];
}

function isDefault(value: unknown, def: unknown): boolean {
  if (value === def) return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function compileField(f: FieldSpec, version: number, flexible: boolean): [ReadFn, WriteFn] {
  const nullable = inRange(version, f.nullableVersions);
  if (f.type === 'array') {
    const [readEl, writeEl] =
      f.elementType === 'struct'
        ? compileStruct(f.fields!, version, flexible)
        : primitive(f.elementType!, flexible, false);
    return [
      (r) => {
        const n = flexible ? r.uvarint() - 1 : r.int32();
        if (n < 0) {
          if (nullable) return null;
          throw r.error(`null array for non-nullable field ${f.name}`);
        }
        r.ensureCount(n);
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = readEl(r);
        return out;
      },
      (w, v) => {
        const arr = v as unknown[] | null;
        if (arr == null) {
          if (flexible) w.uvarint(0);
          else w.int32(-1);
          return;
        }
        if (flexible) w.uvarint(arr.length + 1);
        else w.int32(arr.length);
        for (const el of arr) writeEl(w, el);
      },
    ];
  }
  if (f.type === 'struct') {
    const [readS, writeS] = compileStruct(f.fields!, version, flexible);
    if (!nullable) return [readS, writeS];
    return [
      (r) => (r.int8() < 0 ? null : readS(r)),
      (w, v) => {
        if (v == null) w.int8(-1);
        else {
          w.int8(1);
          writeS(w, v);
        }
      },
    ];
  }
  return primitive(f.type, flexible, nullable);
}

const cache = new WeakMap<MessageSpec, Map<number, Codec>>();

/** The compiled codec of `spec` at `version` (compiled on first use, then cached). */
export function codecFor<T = unknown>(spec: MessageSpec, version: number): Codec<T> {
  let byVersion = cache.get(spec);
  if (!byVersion) {
    byVersion = new Map();
    cache.set(spec, byVersion);
  }
  let codec = byVersion.get(version);
  if (!codec) {
    if (!inRange(version, spec.validVersions)) {
      throw new Error(`${spec.name} has no version ${version}`);
    }
    const [read, write] = compileStruct(spec.fields, version, inRange(version, spec.flexibleVersions));
    codec = { read, write } as Codec;
    byVersion.set(version, codec);
  }
  return codec as Codec<T>;
}

export function decode<T>(spec: MessageSpec, version: number, buf: Buffer): T {
  const r = new Reader(buf);
  const value = codecFor<T>(spec, version).read(r);
  return value;
}

export function encode<T>(spec: MessageSpec, version: number, value: T): Buffer {
  const w = new Writer(256);
  codecFor<T>(spec, version).write(w, value);
  return w.toBuffer();
}
