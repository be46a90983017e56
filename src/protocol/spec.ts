/**
 * The shape of the descriptors that scripts/generate.ts emits from Kafka's message definitions
 * (src/protocol/generated/messages.ts). The generic codec (codec.ts) compiles them per version.
 */
import type { ExternalRecords } from './wire.js';

/** Inclusive [min, max]; `0x7fff` stands for Kafka's open-ended `N+`. */
export type VersionRange = readonly [number, number];

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'uuid'
  | 'bytes'
  | 'records';

export interface FieldSpec {
  /** Kafka's field name in camelCase (`HighWatermark` → `highWatermark`). */
  readonly name: string;
  readonly type: PrimitiveType | 'struct' | 'array';
  readonly elementType?: PrimitiveType | 'struct';
  readonly versions: VersionRange;
  readonly nullableVersions?: VersionRange;
  readonly taggedVersions?: VersionRange;
  readonly tag?: number;
  /** Field-level override of the message's flexible versions (`null` = never flexible). */
  readonly flexibleVersions?: VersionRange | null;
  readonly default?: number | string | boolean | null;
  readonly fields?: readonly FieldSpec[];
}

export interface MessageSpec {
  readonly name: string;
  readonly type: string;
  readonly apiKey?: number;
  readonly validVersions: VersionRange | null;
  readonly flexibleVersions: VersionRange | null;
  readonly latestVersionUnstable?: boolean;
  readonly fields: readonly FieldSpec[];
}

/**
 * A message descriptor whose field tree is built by `fields()` the first time it is read, then
 * kept. The generated descriptors use it: a broker only ever compiles codecs for the APIs and
 * records it meets, and the ~240 trees built eagerly took about 0.4 MB of heap at start.
 */
export function messageSpec(
  head: Omit<MessageSpec, 'fields'>,
  fields: () => readonly FieldSpec[],
): MessageSpec {
  let built: readonly FieldSpec[] | undefined;
  return {
    ...head,
    get fields() {
      built ??= fields();
      return built;
    },
  };
}

/** A tagged field the codec does not know, kept as raw bytes so it round-trips. */
export interface TaggedField {
  readonly tag: number;
  readonly data: Buffer;
}

/**
 * A `records` field. Decoding yields a view into the request buffer (no copy). Encoding also
 * takes a list of buffers (slices of segment files) that are written out without concatenation, or
 * a range of a file the connection sends as it is (ExternalRecords).
 */
export type RecordsData = Buffer | readonly Buffer[] | ExternalRecords;

export function inRange(v: number, r: VersionRange | null | undefined): boolean {
  return r != null && v >= r[0] && v <= r[1];
}
