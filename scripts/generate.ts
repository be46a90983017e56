/**
 * Reads Kafka's message definitions (the folder of `clients/src/main/resources/common/message`
 * JSON files, or a folder holding `messages/`, `group-coordinator/`, `transaction-coordinator/`)
 * and emits typed descriptors for kbroker's generic codec:
 *
 *   src/protocol/generated/messages.ts   one `MessageSpec` constant per message + TS interfaces
 *   src/protocol/generated/errors.ts     Kafka's error codes (from errors.tsv when present)
 *
 * Only wire facts are kept (names, types, versions, tags, defaults); the `about` prose is not.
 *
 * Usage: tsx scripts/generate.ts <kafka-protocol-folder> [--check]
 *   --check  exits 1 if the committed output differs from what would be generated.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_VERSION = 0x7fff;

type Range = readonly [number, number] | null;

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  flexibleVersions?: string;
  ignorable?: boolean;
  mapKey?: boolean;
  entityType?: string;
  zeroCopy?: boolean;
  fields?: RawField[];
}

interface RawMessage {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  fields: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

const PRIMITIVES = new Set([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'uuid',
  'bytes',
  'records',
]);

function parseRange(s: string | undefined): Range {
  if (s === undefined || s === 'none') return null;
  const t = s.trim();
  if (t.endsWith('+')) return [Number(t.slice(0, -1)), MAX_VERSION];
  const dash = t.indexOf('-');
  if (dash > 0) return [Number(t.slice(0, dash)), Number(t.slice(dash + 1))];
  return [Number(t), Number(t)];
}

/** Strips `//` line comments and `/* *\/` blocks outside of strings. */
function stripComments(src: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += src[++i];
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && src[i + 1] === '*') {
      i += 2;
      while (i < src.length && !(src[i] === '*' && src[i + 1] === '/')) i++;
      i++;
    } else out += c;
  }
  return out;
}

function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function intersect(a: Range, b: Range): Range {
  if (!a || !b) return null;
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : null;
}

function covers(outer: Range, inner: Range): boolean {
  if (!inner) return true;
  if (!outer) return false;
  return outer[0] <= inner[0] && outer[1] >= inner[1];
}

function fmtRange(r: Range): string {
  return r ? `[${r[0]}, ${r[1]}]` : 'null';
}

interface Ctx {
  msg: RawMessage;
  structs: Map<string, { fields: RawField[] }>;
  interfaces: string[];
  emittedInterfaces: Set<string>;
}

function tsPrimitive(t: string): string {
  switch (t) {
    case 'bool':
      return 'boolean';
    case 'string':
    case 'uuid':
      return 'string';
    case 'bytes':
      return 'Buffer';
    case 'records':
      return 'RecordsData';
    default:
      return 'number';
  }
}

function defaultLiteral(f: RawField, baseType: string): string | undefined {
  if (f.default === undefined) return undefined;
  const d = f.default;
  if (d === 'null') return 'null';
  switch (baseType) {
    case 'bool':
      return String(d === true || d === 'true');
    case 'string':
      return JSON.stringify(String(d));
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
    case 'int64': {
      const s = String(d);
      const n = s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
      if (!Number.isFinite(n)) throw new Error(`bad default ${s} for ${f.name}`);
      return String(n);
    }
    default:
      return undefined;
  }
}

function emitFields(ctx: Ctx, fields: RawField[], owner: string, valid: Range, indent: string): string {
  const lines: string[] = [];
  const iface: string[] = [];
  for (const f of fields) {
    const versions = intersect(parseRange(f.versions ?? '0+'), valid);
    if (!versions) continue; // not present in any valid version
    const isArray = f.type.startsWith('[]');
    const base = isArray ? f.type.slice(2) : f.type;
    const isStruct = !PRIMITIVES.has(base);
    const parts: string[] = [
      `name: ${JSON.stringify(camel(f.name))}`,
      `type: ${JSON.stringify(isArray ? 'array' : isStruct ? 'struct' : base)}`,
    ];
    if (isArray) parts.push(`elementType: ${JSON.stringify(isStruct ? 'struct' : base)}`);
    parts.push(`versions: ${fmtRange(versions)}`);
    const nullable = intersect(parseRange(f.nullableVersions), versions);
    if (nullable) parts.push(`nullableVersions: ${fmtRange(nullable)}`);
    const tagged = intersect(parseRange(f.taggedVersions), versions);
    if (tagged) parts.push(`taggedVersions: ${fmtRange(tagged)}`, `tag: ${f.tag}`);
    if (f.flexibleVersions !== undefined)
      parts.push(`flexibleVersions: ${fmtRange(parseRange(f.flexibleVersions))}`);
    const def = isArray || isStruct ? undefined : defaultLiteral(f, base);
    if (def !== undefined) parts.push(`default: ${def}`);
    let tsType: string;
    if (isStruct) {
      const sub = f.fields ?? ctx.structs.get(base)?.fields;
      if (!sub) throw new Error(`${ctx.msg.name}: unknown struct ${base}`);
      const ifaceName = `${ctx.msg.name}${base}`;
      const subDesc = emitFields(ctx, sub, ifaceName, versions, `${indent}  `);
      parts.push(`fields: ${subDesc}`);
      tsType = ifaceName;
    } else tsType = tsPrimitive(base);
    if (isArray) tsType = `${tsType}[]`;
    if (nullable) tsType = `${tsType} | null`;
    lines.push(`${indent}  { ${parts.join(', ')} },`);
    const optional = tagged !== null || !covers(versions, valid);
    iface.push(`  ${camel(f.name)}${optional ? '?' : ''}: ${tsType};`);
  }
  if (!ctx.emittedInterfaces.has(owner)) {
    ctx.emittedInterfaces.add(owner);
    ctx.interfaces.push(
      `export interface ${owner} {\n${iface.join('\n')}\n  _unknownTaggedFields?: TaggedField[];\n}\n`,
    );
  }
  return `[\n${lines.join('\n')}\n${indent}]`;
}

function generateMessage(msg: RawMessage, interfaces: string[]): string {
  const structs = new Map<string, { fields: RawField[] }>();
  for (const s of msg.commonStructs ?? []) structs.set(s.name, s);
  // Named inline structs can be referenced elsewhere in the same message by type name.
  const collect = (fields: RawField[]) => {
    for (const f of fields) {
      if (f.fields) {
        const base = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
        if (!structs.has(base)) structs.set(base, { fields: f.fields });
        collect(f.fields);
      }
    }
  };
  collect(msg.fields);
  const valid = parseRange(msg.validVersions);
  const ctx: Ctx = { msg, structs, interfaces, emittedInterfaces: new Set() };
  const fields = emitFields(ctx, msg.fields, `${msg.name}Data`, valid, '  ');
  const head = [
    `name: ${JSON.stringify(msg.name)}`,
    `type: ${JSON.stringify(msg.type)}`,
    ...(msg.apiKey !== undefined ? [`apiKey: ${msg.apiKey}`] : []),
    `validVersions: ${fmtRange(valid)}`,
    `flexibleVersions: ${fmtRange(parseRange(msg.flexibleVersions))}`,
    ...(msg.latestVersionUnstable ? ['latestVersionUnstable: true'] : []),
  ];
  return `export const ${msg.name}: MessageSpec = {\n  ${head.join(',\n  ')},\n  fields: ${fields},\n};\n`;
}

function listJson(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

function main(): void {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const root = args.find((a) => !a.startsWith('--'));
  if (!root) {
    console.error('usage: generate.ts <kafka-protocol-folder> [--check]');
    process.exit(2);
  }
  const rootAbs = resolve(root);
  if (!existsSync(rootAbs)) {
    if (check) {
      // The committed descriptors are what the build uses; a clone with nothing beside it has
      // no definitions to compare them with, and that is no failure.
      console.log(`check:generated skipped: no definitions at ${rootAbs} (committed output is used as is)`);
      return;
    }
    console.error(`no Kafka message definitions at ${rootAbs}`);
    process.exit(2);
  }
  const dirs = existsSync(join(rootAbs, 'messages'))
    ? ['messages', 'group-coordinator', 'transaction-coordinator']
        .map((d) => join(rootAbs, d))
        .filter((d) => existsSync(d))
    : [rootAbs];
  const files = dirs.flatMap(listJson);
  const bodies: string[] = [];
  const interfaces: string[] = [];
  const requests: string[] = [];
  const responses: string[] = [];
  for (const file of files) {
    const msg = JSON.parse(stripComments(readFileSync(file, 'utf8'))) as RawMessage;
    bodies.push(generateMessage(msg, interfaces));
    if (msg.type === 'request' && msg.apiKey !== undefined) requests.push(`  [${msg.apiKey}, ${msg.name}],`);
    if (msg.type === 'response' && msg.apiKey !== undefined)
      responses.push(`  [${msg.apiKey}, ${msg.name}],`);
  }
  const out = [
    "// Generated by scripts/generate.ts from Kafka's message definitions. Do not edit.",
    "import type { MessageSpec, RecordsData, TaggedField } from '../spec.js';",
    '',
    ...bodies,
    'export const requestSpecs: ReadonlyMap<number, MessageSpec> = new Map([',
    ...requests,
    ']);',
    '',
    'export const responseSpecs: ReadonlyMap<number, MessageSpec> = new Map([',
    ...responses,
    ']);',
    '',
    ...interfaces,
  ].join('\n');

  const outputs: [string, string][] = [['messages.ts', out]];
  const errorsFile = join(rootAbs, 'errors.tsv');
  if (existsSync(errorsFile)) outputs.push(['errors.ts', generateErrors(readFileSync(errorsFile, 'utf8'))]);

  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = join(here, '..', 'src', 'protocol', 'generated');
  let stale = false;
  for (const [name, text] of outputs) {
    const path = join(outDir, name);
    if (check) {
      const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
      if (current !== text) {
        console.error(`generated file is stale: src/protocol/generated/${name} (run npm run generate)`);
        stale = true;
      }
    } else {
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path, text);
    }
  }
  if (stale) process.exit(1);
  console.log(`${check ? 'checked' : 'generated'} ${files.length} message definitions`);
}

function generateErrors(tsv: string): string {
  const rows = tsv
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((r) => r.length >= 2);
  const entries = rows.map(([code, name]) => `  ${name}: ${code},`);
  return [
    "// Generated by scripts/generate.ts from Kafka's errors.tsv. Do not edit.",
    'export const ErrorCode = {',
    ...entries,
    '} as const;',
    '',
    'export type ErrorName = keyof typeof ErrorCode;',
    '',
    'const names = new Map<number, ErrorName>(',
    '  (Object.keys(ErrorCode) as ErrorName[]).map((n) => [ErrorCode[n], n]),',
    ');',
    '',
    'export function errorName(code: number): ErrorName | undefined {',
    '  return names.get(code);',
    '}',
    '',
  ].join('\n');
}

main();
