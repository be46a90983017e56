/**
 * The fuzzer's seeds: the golden request captures of real clients (src/protocol/golden), each
 * also re-encoded at every version kbroker serves for its API (so flexible versions — compact
 * strings, tagged fields — are seeded from real clients' content too), plus one plausible
 * request per served API and version edge, filled from Kafka's message definitions (topic
 * `golden`, a group, a transactional id, a real record batch), so every handler is reached.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allHandlers } from '../../src/handlers/index.js';
import { codecFor, Writer } from '../../src/protocol/codec.js';
import { RequestHeader } from '../../src/protocol/generated/messages.js';
import { readRequestHeader, requestHeaderVersion } from '../../src/protocol/headers.js';
import { buildRecordBatch } from '../../src/protocol/record-batch-builder.js';
import type { FieldSpec } from '../../src/protocol/spec.js';
import { inRange } from '../../src/protocol/spec.js';
import { type Seed, traceSeed } from './mutate.js';

const goldenRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'protocol', 'golden');

export const FUZZ_TOPIC = 'golden';
export const FUZZ_GROUP = 'fuzz-group';
export const FUZZ_TXN = 'fuzz-txn';

/** Header + body of one request, as a frame without its size prefix. */
export function encodeRequest(apiKey: number, version: number, body: unknown, clientId = 'fuzz'): Buffer {
  const handler = allHandlers.find((h) => h.apiKey === apiKey)!;
  const w = new Writer(256);
  codecFor(RequestHeader, requestHeaderVersion(apiKey, version)).write(w, {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId: 1,
    clientId,
  });
  codecFor(handler.request, version).write(w, body);
  return w.toBuffer();
}

function goldenFrames(): { name: string; frame: Buffer }[] {
  return readdirSync(goldenRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(goldenRoot, d.name)).map((f) => ({
        name: `${d.name}/${f}`,
        frame: Buffer.from(readFileSync(join(goldenRoot, d.name, f), 'utf8').trim(), 'hex'),
      })),
    );
}

/** A plausible value for one field, by its Kafka name. */
function fillPrimitive(f: FieldSpec, type: string): unknown {
  const n = f.name.toLowerCase();
  switch (type) {
    case 'bool':
      return false;
    case 'string':
      if (n.includes('topic') || n === 'name' || n === 'resourcename') return FUZZ_TOPIC;
      if (n.includes('group')) return FUZZ_GROUP;
      if (n.includes('transactionalid')) return FUZZ_TXN;
      if (n === 'protocoltype') return 'consumer';
      if (n.includes('memberid')) return '';
      return 'fuzz';
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    case 'bytes':
      return Buffer.from('fuzz-bytes');
    case 'records':
      // A fixed timestamp: the same seed gives the same frames in every run.
      return buildRecordBatch({
        records: [
          { key: 'k', value: 'v', headers: [{ key: 'h', value: 'x' }], timestamp: 1_700_000_000_000 },
          { key: null, value: 'w', timestamp: 1_700_000_000_000 },
        ],
      });
    case 'int64':
      return n.includes('producerid') ? -1 : 0;
    case 'int16':
      if (n.includes('epoch')) return -1;
      if (n === 'acks') return -1;
      return 0;
    case 'int8':
      return 0;
    default:
      if (n.includes('timeout') || n.includes('waitms')) return 200;
      if (n.includes('maxbytes')) return 1 << 20;
      if (n.includes('epoch') || n.includes('replicaid') || n.includes('generationid')) return -1;
      if (n.includes('partitions') || n.includes('count')) return 1;
      return 0;
  }
}

function fill(fields: readonly FieldSpec[], version: number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inRange(version, f.versions)) continue;
    if (f.type === 'struct') o[f.name] = fill(f.fields ?? [], version, depth + 1);
    else if (f.type === 'array') {
      if (depth > 4) o[f.name] = [];
      else if (f.elementType === 'struct') o[f.name] = [fill(f.fields ?? [], version, depth + 1)];
      else o[f.name] = [fillPrimitive(f, f.elementType!)];
    } else o[f.name] = fillPrimitive(f, f.type);
  }
  return o;
}

/** Every seed, traced. Seeds the codec cannot read back are left out (none are expected). */
export function buildCorpus(): Seed[] {
  const seeds: Seed[] = [];
  const add = (name: string, frame: Buffer) => {
    try {
      seeds.push(traceSeed(name, frame));
    } catch {
      // a version whose filled body does not round-trip; skipped
    }
  };
  for (const { name, frame } of goldenFrames()) {
    add(name, frame);
    const { header, body } = readRequestHeader(frame);
    const handler = allHandlers.find((h) => h.apiKey === header.requestApiKey);
    if (!handler) continue;
    const value = codecFor(handler.request, header.requestApiVersion).read(body);
    for (let v = handler.minVersion; v <= handler.maxVersion; v++) {
      if (v === header.requestApiVersion) continue;
      try {
        add(`${name}@v${v}`, encodeRequest(header.requestApiKey, v, value, header.clientId ?? 'fuzz'));
      } catch {
        // a field this version cannot carry
      }
    }
  }
  for (const h of allHandlers) {
    const versions = new Set([h.minVersion, h.maxVersion, Math.floor((h.minVersion + h.maxVersion) / 2)]);
    const fl = h.request.flexibleVersions;
    if (fl && fl[0] >= h.minVersion && fl[0] <= h.maxVersion) versions.add(fl[0]);
    for (const v of versions) {
      try {
        add(`filled/${h.name}-v${v}`, encodeRequest(h.apiKey, v, fill(h.request.fields, v, 0)));
      } catch {
        // skipped
      }
    }
  }
  return seeds;
}
