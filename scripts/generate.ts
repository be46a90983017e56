/**
 * Reads Kafka's message definitions and emits typed descriptors for kbroker's generic codec:
 *
 *   src/protocol/generated/messages.ts   one `MessageSpec` constant per message + TS interfaces,
 *                                        the request/response specs by API key, and the
 *                                        coordinator record specs by record type
 *   src/protocol/generated/errors.ts     Kafka's error codes, default messages and retriability
 *                                        (from errors.tsv)
 *
 * The input is a folder holding `messages/`, `group-coordinator/`, `share-coordinator/`,
 * `transaction-coordinator/` and `errors.tsv` (../shared/kafka-protocol-4.3.1, taken from the
 * published Kafka 4.3.1 jars), or a Kafka checkout's `clients/src/main/resources/common/message`.
 * Only wire facts are kept (names, types, versions, tags, defaults); the `about` prose is not.
 *
 * Versions Kafka 4 removed (KIP-896). Kafka 4.0 raised the minimum version of several APIs.
 * kbroker keeps serving the versions it served before the move: Produce v0–2 above all, which a
 * Kafka 4 broker still advertises and answers UNSUPPORTED_VERSION, because librdkafka only
 * compresses when v0 is in the range (KAFKA-18659). `--older <folder>` names an older definition
 * set (../shared/kafka-protocol, Kafka trunk of October 2024); for every request, response and
 * header whose older `validVersions` starts lower, the range is extended down to the older
 * minimum — but only after checking, version by version, that the older definition's wire layout
 * equals the newer definition read at that version (every field's type, nullability, tag, default
 * and flexibility; names are not on the wire). Where a layout differs, Kafka 4's range stands (the
 * generator names the message), and a handler declaring such a version fails the registry's check
 * (src/handlers/handler.ts), so nobody serves a guessed layout. Messages the newer set no longer
 * defines, or defines as `none` (the removed ZooKeeper-era APIs), are not emitted. Coordinator
 * records are never merged: Kafka 4 reads their key's int16 as the record type (`apiKey`), not as
 * a version. Which versions a broker advertises stays each handler's own range (ApiVersions is
 * derived from the handler registry).
 *
 * Usage: tsx scripts/generate.ts <definitions> [--older <older-definitions>] [--out <dir>] [--check]
 *   --out    writes (or checks) elsewhere than src/protocol/generated (tests)
 *   --check  exits 1 if the committed output differs from what would be generated; prints one
 *            line and exits 0 when <definitions> is missing (a clone without ../shared).
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
  /** Absent for the APIs Kafka 4 removed (validVersions `none`). */
  fields?: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
  /** Set by keepOlderVersions: Kafka 4.3.1's own minimum, when kbroker keeps older versions. */
  keptFrom?: number;
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

function versionList(lo: number, hi: number): string {
  return lo === hi ? `v${lo}` : `v${lo}–${hi}`;
}

function generateMessage(msg: RawMessage, interfaces: string[]): string {
  // Named inline structs can be referenced elsewhere in the same message by type name.
  const structs = structsOf(msg);
  const valid = parseRange(msg.validVersions);
  const ctx: Ctx = { msg, structs, interfaces, emittedInterfaces: new Set() };
  const fields = emitFields(ctx, msg.fields ?? [], `${msg.name}Data`, valid, '  ');
  const head = [
    `name: ${JSON.stringify(msg.name)}`,
    `type: ${JSON.stringify(msg.type)}`,
    ...(msg.apiKey !== undefined ? [`apiKey: ${msg.apiKey}`] : []),
    `validVersions: ${fmtRange(valid)}`,
    `flexibleVersions: ${fmtRange(parseRange(msg.flexibleVersions))}`,
    ...(msg.latestVersionUnstable ? ['latestVersionUnstable: true'] : []),
  ];
  const kept =
    msg.keptFrom !== undefined
      ? `/** Kafka 4 serves v${msg.keptFrom}+; ${versionList(valid![0], msg.keptFrom - 1)} kept from the older definitions (KIP-896). */\n`
      : '';
  // The field tree is built on first use (messageSpec, src/protocol/spec.ts): a broker compiles
  // the codecs of the APIs its clients call, and building all ~240 trees up front held 0.4 MB.
  return `${kept}export const ${msg.name}: MessageSpec = messageSpec({\n  ${head.join(',\n  ')},\n}, () => ${fields});\n`;
}

/** Is `v` inside the range `r`? */
function inR(v: number, r: Range): boolean {
  return r !== null && v >= r[0] && v <= r[1];
}

/** Every struct a message names, by type name (common structs and named inline structs). */
function structsOf(msg: RawMessage): Map<string, { fields: RawField[] }> {
  const structs = new Map<string, { fields: RawField[] }>();
  for (const s of msg.commonStructs ?? []) structs.set(s.name, s);
  const collect = (fields: RawField[]) => {
    for (const f of fields) {
      if (f.fields) {
        const base = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
        if (!structs.has(base)) structs.set(base, { fields: f.fields });
        collect(f.fields);
      }
    }
  };
  collect(msg.fields ?? []);
  return structs;
}

/**
 * What goes on the wire for `fields` at version `v`, one string per field: type (structs by
 * shape, not by name), nullability, tag, default, flexibility. Field names are left out: a
 * rename does not change the bytes.
 */
function wireLayout(
  fields: RawField[],
  structs: Map<string, { fields: RawField[] }>,
  v: number,
  flexible: boolean,
): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (!inR(v, parseRange(f.versions ?? '0+'))) continue;
    const isArray = f.type.startsWith('[]');
    const base = isArray ? f.type.slice(2) : f.type;
    const flex = f.flexibleVersions !== undefined ? inR(v, parseRange(f.flexibleVersions)) : flexible;
    const sub = PRIMITIVES.has(base) ? undefined : (f.fields ?? structs.get(base)?.fields);
    const shape = sub ? `{${wireLayout(sub, structs, v, flex).join(',')}}` : base;
    const nullable = inR(v, parseRange(f.nullableVersions));
    const tag = inR(v, parseRange(f.taggedVersions)) ? `@${f.tag}` : '';
    out.push(
      `${isArray ? '[]' : ''}${shape}${nullable ? '?' : ''}${tag}${flex ? 'f' : ''}=${JSON.stringify(f.default ?? null)}`,
    );
  }
  return out;
}

function layoutAt(msg: RawMessage, v: number): string {
  const flexible = inR(v, parseRange(msg.flexibleVersions));
  return `${flexible ? 'flexible' : 'fixed'} ${wireLayout(msg.fields ?? [], structsOf(msg), v, flexible).join(',')}`;
}

/** Set in --check mode: only staleness is reported. */
let quiet = false;

const MERGEABLE_TYPES = new Set(['request', 'response', 'header']);

/**
 * The newer definition, its range extended down to the older definition's minimum when Kafka 4
 * removed those versions (KIP-896) and both definitions lay them out identically; see the
 * comment at the top. Returns the message unchanged when there is nothing to keep.
 */
function keepOlderVersions(newer: RawMessage, older: RawMessage | undefined): RawMessage {
  if (!older || !MERGEABLE_TYPES.has(newer.type) || !newer.fields) return newer;
  const n = parseRange(newer.validVersions);
  const o = parseRange(older.validVersions);
  if (!n || !o || o[0] >= n[0]) return newer;
  const differing: number[] = [];
  for (let v = o[0]; v < n[0]; v++) if (layoutAt(older, v) !== layoutAt(newer, v)) differing.push(v);
  if (differing.length > 0) {
    // Not extended: Kafka 4's range stands, and a handler declaring those versions fails the
    // registry's check (src/handlers/handler.ts) instead of serving a layout nobody described.
    if (!quiet)
      console.log(`${newer.name}: v${differing.join(', v')} laid out differently before Kafka 4; not kept`);
    return newer;
  }
  const max = newer.validVersions.trim().endsWith('+') ? '+' : `-${n[1]}`;
  return { ...newer, validVersions: `${o[0]}${max}`, keptFrom: n[0] };
}

function listJson(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

function readMessage(file: string): RawMessage {
  return JSON.parse(stripComments(readFileSync(file, 'utf8'))) as RawMessage;
}

/** The coordinators' record folders and the name of the map of their record types. */
const RECORD_FOLDERS: readonly [string, string][] = [
  ['group-coordinator', 'groupCoordinatorRecords'],
  ['share-coordinator', 'shareCoordinatorRecords'],
  ['transaction-coordinator', 'transactionCoordinatorRecords'],
];

/** `[recordType, { key, value }]` entries pairing each `XKey` with its `XValue`. */
function recordTypeEntries(msgs: RawMessage[]): string[] {
  const byName = new Map(msgs.map((m) => [m.name, m]));
  const out: [number, string][] = [];
  for (const m of msgs) {
    if (m.type !== 'coordinator-key' || m.apiKey === undefined) continue;
    const valueName = `${m.name.slice(0, -'Key'.length)}Value`;
    const value = byName.get(valueName);
    if (!value || value.apiKey !== m.apiKey)
      throw new Error(`${m.name}: no ${valueName} with record type ${m.apiKey}`);
    out.push([m.apiKey, `  [${m.apiKey}, { key: ${m.name}, value: ${valueName} }],`]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, line]) => line);
}

function main(): void {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  quiet = check;
  const flagValue = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? { at: at + 1, value: args[at + 1] } : undefined;
  };
  const olderArg = flagValue('--older');
  const outArg = flagValue('--out');
  const older = olderArg?.value;
  const root = args.find((a, i) => !a.startsWith('--') && i !== olderArg?.at && i !== outArg?.at);
  if (!root || (olderArg && !older) || (outArg && !outArg.value)) {
    console.error('usage: generate.ts <definitions> [--older <older-definitions>] [--out <dir>] [--check]');
    process.exit(2);
  }
  const rootAbs = resolve(root);
  const olderAbs = older === undefined ? undefined : resolve(older);
  for (const dir of [rootAbs, olderAbs]) {
    if (dir === undefined || existsSync(dir)) continue;
    if (check) {
      // The committed descriptors are what the build uses; a clone with nothing beside it has
      // no definitions to compare them with, and that is no failure.
      console.log(`check:generated skipped: no definitions at ${dir} (committed output is used as is)`);
      return;
    }
    console.error(`no Kafka message definitions at ${dir}`);
    process.exit(2);
  }
  const messagesDir = (base: string) => (existsSync(join(base, 'messages')) ? join(base, 'messages') : base);
  const olderMessages = new Map<string, RawMessage>();
  if (olderAbs)
    for (const f of listJson(messagesDir(olderAbs))) {
      const m = readMessage(f);
      olderMessages.set(m.name, m);
    }
  // The APIs Kafka 4 removed outright (ZooKeeper-era LeaderAndIsr, UpdateMetadata, StopReplica,
  // ControlledShutdown) are defined with validVersions `none` and no fields: nothing to emit.
  const messages = listJson(messagesDir(rootAbs))
    .map(readMessage)
    .filter((m) => parseRange(m.validVersions) !== null)
    .map((m) => keepOlderVersions(m, olderMessages.get(m.name)));
  const records: [string, RawMessage[]][] = [];
  if (existsSync(join(rootAbs, 'messages'))) {
    for (const [folder, mapName] of RECORD_FOLDERS) {
      const dir = join(rootAbs, folder);
      if (existsSync(dir)) records.push([mapName, listJson(dir).map(readMessage)]);
    }
  }
  const bodies: string[] = [];
  const interfaces: string[] = [];
  const requests: string[] = [];
  const responses: string[] = [];
  for (const msg of [...messages, ...records.flatMap(([, msgs]) => msgs)]) {
    bodies.push(generateMessage(msg, interfaces));
    if (msg.type === 'request' && msg.apiKey !== undefined) requests.push(`  [${msg.apiKey}, ${msg.name}],`);
    if (msg.type === 'response' && msg.apiKey !== undefined)
      responses.push(`  [${msg.apiKey}, ${msg.name}],`);
  }
  const recordMaps = records.flatMap(([mapName, msgs]) => [
    `/** ${mapName.replace('Records', '')} records by record type (the int16 that opens each key). */`,
    `export const ${mapName}: ReadonlyMap<number, { readonly key: MessageSpec; readonly value: MessageSpec }> = new Map([`,
    ...recordTypeEntries(msgs),
    ']);',
    '',
  ]);
  const out = [
    "// Generated by scripts/generate.ts from Kafka's message definitions. Do not edit.",
    "import { type MessageSpec, messageSpec, type RecordsData, type TaggedField } from '../spec.js';",
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
    ...recordMaps,
    ...interfaces,
  ].join('\n');

  const outputs: [string, string][] = [['messages.ts', out]];
  const errorsFile = join(rootAbs, 'errors.tsv');
  if (existsSync(errorsFile)) outputs.push(['errors.ts', generateErrors(readFileSync(errorsFile, 'utf8'))]);

  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = outArg?.value ? resolve(outArg.value) : join(here, '..', 'src', 'protocol', 'generated');
  let stale = false;
  for (const [name, text] of outputs) {
    const path = join(outDir, name);
    if (check) {
      const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
      if (current !== text) {
        console.error(`generated file is stale: ${path} (run npm run generate)`);
        stale = true;
      }
    } else {
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path, text);
    }
  }
  if (stale) process.exit(1);
  console.log(`${check ? 'checked' : 'generated'} ${bodies.length} message definitions`);
}

function generateErrors(tsv: string): string {
  const [header, ...lines] = tsv.trim().split('\n');
  const column = (name: string) => header!.split('\t').indexOf(name);
  const [codeAt, nameAt, retriableAt, messageAt] = ['code', 'name', 'retriable', 'message'].map(column);
  const rows = lines.map((l) => l.split('\t')).filter((r) => r.length >= 2);
  const entries = rows.map((r) => `  ${r[nameAt!]}: ${r[codeAt!]},`);
  const messages =
    messageAt! < 0
      ? []
      : rows.filter((r) => r[messageAt!]).map((r) => `  ${r[nameAt!]}: ${JSON.stringify(r[messageAt!])},`);
  const retriable =
    retriableAt! < 0 ? [] : rows.filter((r) => r[retriableAt!] === 'true').map((r) => `  ${r[codeAt!]},`);
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
    "/** Kafka's default message of each error (Errors.java), for answers that carry only a code. */",
    'export const defaultErrorMessages: { readonly [K in ErrorName]?: string } = {',
    ...messages,
    '};',
    '',
    '/** The default message of an error code, undefined for a code Kafka does not define. */',
    'export function defaultErrorMessage(code: number): string | undefined {',
    '  const name = names.get(code);',
    '  return name === undefined ? undefined : defaultErrorMessages[name];',
    '}',
    '',
    "/** Codes whose exception is retriable in Kafka's clients (a RetriableException). */",
    'const retriable: ReadonlySet<number> = new Set([',
    ...retriable,
    ']);',
    '',
    'export function isRetriable(code: number): boolean {',
    '  return retriable.has(code);',
    '}',
    '',
  ].join('\n');
}

main();
