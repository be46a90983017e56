/**
 * The layout every coordinator record shares (`__consumer_offsets`, `__transaction_state`,
 * `__share_group_state`): the key is an int16 record type then the key struct, the value an int16
 * version then the value struct (a null value is a tombstone).
 */
import { encode } from '../../protocol/codec.js';
import type { MessageSpec } from '../../protocol/spec.js';
import type { CoordinatorRecord } from './coordinator-log.js';

/** `body` behind its int16 record type (a key) or version (a value). */
export function versioned(prefix: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(prefix, 0);
  body.copy(out, 2);
  return out;
}

/** Record type → key and value definitions (the generated groupCoordinatorRecords, shareCoordinatorRecords). */
export type RecordRegistry = ReadonlyMap<number, { readonly key: MessageSpec; readonly value: MessageSpec }>;

/** The definitions of record `type` in `registry` (`what` names the registry in the error). */
export function recordSpecs(
  registry: RecordRegistry,
  what: string,
  type: number,
): { readonly key: MessageSpec; readonly value: MessageSpec } {
  const s = registry.get(type);
  if (!s) throw new Error(`no ${what} record type ${type}`);
  return s;
}

/** A record of `type` in `registry`, version 0 key and value (`value` null for a tombstone). */
export function registryRecord(
  registry: RecordRegistry,
  what: string,
  type: number,
  key: object,
  value: object | null,
): CoordinatorRecord {
  const s = recordSpecs(registry, what, type);
  return {
    key: versioned(type, encode(s.key, 0, key)),
    value: value === null ? null : versioned(0, encode(s.value, 0, value)),
  };
}
