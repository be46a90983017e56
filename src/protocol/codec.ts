/**
 * One generic codec for every Kafka message, driven by the generated descriptors.
 *
 * `codecFor(spec, version)` compiles a message at one version once, into a reader and a writer
 * generated as JavaScript for each struct (compileStruct), cached, so encode/decode never test
 * versions per field at run time and every decoded struct of a version has one hidden class.
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

/** A primitive's reader and writer: the calls of readSource / writeSource (array elements use these). */
function primitive(type: PrimitiveType, flexible: boolean, nullable: boolean): [ReadFn, WriteFn] {
  return [
    new Function('r', `return ${readSource(type, flexible, nullable)};`) as ReadFn,
    new Function('w', 'x', `${writeSource(type, flexible)};`) as WriteFn,
  ];
}

/** A tagged field: read and written apart from the generated code, by its tag. */
interface CompiledTagged {
  name: string;
  read: ReadFn;
  write: WriteFn;
  def: unknown;
  tag: number;
}

/** The Reader call that reads a primitive, as source (`r` is the reader); the same calls as `primitive`. */
function readSource(type: PrimitiveType, flexible: boolean, nullable: boolean): string {
  switch (type) {
    case 'bool':
      return 'r.int8() !== 0';
    case 'string':
      return flexible ? `r.compactString(${nullable})` : `r.string(${nullable})`;
    case 'bytes':
      return flexible ? `r.compactBytes(${nullable})` : `r.bytes(${nullable})`;
    case 'records':
      return flexible ? 'r.compactBytes(true)' : 'r.bytes(true)';
    default:
      return `r.${type}()`;
  }
}

/** The Writer call that writes primitive `x`, as source; the same calls as `primitive`. */
function writeSource(type: PrimitiveType, flexible: boolean): string {
  switch (type) {
    case 'bool':
      return 'w.int8(x ? 1 : 0)';
    case 'string':
      return flexible ? 'w.compactString(x)' : 'w.string(x)';
    case 'bytes':
      return flexible ? 'w.compactBytes(x)' : 'w.bytes(x)';
    case 'records':
      return flexible ? 'w.compactRecords(x)' : 'w.records(x)';
    default:
      return `w.${type}(x)`;
  }
}

/**
 * A struct's reader and writer, generated as JavaScript once per message version (the way Kafka
 * generates a class per message): the reader builds the object with one literal, so every object
 * of a struct has one hidden class and the handlers' property reads stay monomorphic; the writer
 * reads each field by name at a call site of its own. (A loop over the fields storing `o[name]`
 * made every decoded object a megamorphic dictionary: 1.0 µs to read a request header.) Values the
 * code needs — defaults, nested codecs, the tagged-field tables — are passed in, never printed.
 */
function compileStruct(fields: readonly FieldSpec[], version: number, flexible: boolean): [ReadFn, WriteFn] {
  // Values the generated code needs are passed in as parameters c0, c1, ...
  const names: string[] = [];
  const values: unknown[] = [];
  const ref = (v: unknown): string => {
    names.push(`c${values.length}`);
    values.push(v);
    return names[names.length - 1]!;
  };
  // A regular field as source: a primitive as the Reader/Writer call itself, an array or struct as a call
  // of its compiled codec (a primitive's closures are never built: only tagged fields need them).
  const regular: { name: string; def: unknown; readExpr: string; writeStmt: string }[] = [];
  const tagged: CompiledTagged[] = [];
  const absent: { name: string; def: unknown }[] = [];
  for (const f of fields) {
    if (!inRange(version, f.versions)) {
      absent.push({ name: f.name, def: defaultFor(f, version) });
      continue;
    }
    const fieldFlexible = f.flexibleVersions !== undefined ? inRange(version, f.flexibleVersions) : flexible;
    const def = defaultFor(f, version);
    const isTagged = flexible && inRange(version, f.taggedVersions);
    if (!isTagged && f.type !== 'array' && f.type !== 'struct') {
      const nullable = inRange(version, f.nullableVersions);
      regular.push({
        name: f.name,
        def,
        readExpr: readSource(f.type, fieldFlexible, nullable),
        writeStmt: writeSource(f.type, fieldFlexible),
      });
      continue;
    }
    const [read, write] = compileField(f, version, fieldFlexible);
    if (isTagged) tagged.push({ name: f.name, read, write, def, tag: f.tag! });
    else regular.push({ name: f.name, def, readExpr: `${ref(read)}(r)`, writeStmt: `${ref(write)}(w, x)` });
  }
  tagged.sort((a, b) => a.tag - b.tag);
  const byTag = new Map(tagged.map((t) => [t.tag, t]));

  const readTagged = (r: Reader, o: Obj): void => {
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
  };

  const writeTagged = (w: Writer, o: Obj): void => {
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

  const key = (name: string) => JSON.stringify(name);

  // Fields in the order the loop version set them: regular, absent (defaults), tagged (defaults).
  const props: string[] = [];
  for (const f of regular) props.push(`${key(f.name)}: ${f.readExpr}`);
  for (const a of absent) props.push(`${key(a.name)}: ${ref(a.def)}`);
  for (const t of tagged) props.push(`${key(t.name)}: ${ref(t.def)}`);
  const readBody = flexible
    ? `const o = { ${props.join(', ')} }; ${ref(readTagged)}(r, o); return o;`
    : `return { ${props.join(', ')} };`;

  const stmts: string[] = ['const o = v ?? {};', 'let x;'];
  for (const f of regular) {
    stmts.push(`x = o[${key(f.name)}]; if (x === undefined) x = ${ref(f.def)};`);
    stmts.push(`${f.writeStmt};`);
  }
  if (flexible) {
    // With no tagged field known at this version, only unknown ones can follow: usually none.
    stmts.push(
      tagged.length === 0
        ? `if (o._unknownTaggedFields) ${ref(writeTagged)}(w, o); else w.uvarint(0);`
        : `${ref(writeTagged)}(w, o);`,
    );
  }
  const make = new Function(
    ...names,
    `return [function read(r) { ${readBody} }, function write(w, v) { ${stmts.join(' ')} }];`,
  ) as (...captured: unknown[]) => [ReadFn, WriteFn];
  return make(...values);
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
