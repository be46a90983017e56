/**
 * Request and response headers and framing.
 *
 * Header version rule (Kafka's ApiMessageTypeGenerator): request header v2 / response header v1
 * when the API version is flexible, else v1 / v0. Two exceptions live here and nowhere else:
 * the ApiVersions response always uses header v0 (KIP-511), and `ClientId` is never compact
 * (the field-level `flexibleVersions: none` in RequestHeader.json, honoured by the codec).
 */
import { codecFor } from './codec.js';
import { RequestHeader, requestSpecs } from './generated/messages.js';
import type { TaggedField } from './spec.js';
import { type Chunk, Reader, Writer } from './wire.js';

export const API_VERSIONS_KEY = 18;

export interface RequestHeaderData {
  requestApiKey: number;
  requestApiVersion: number;
  correlationId: number;
  clientId: string | null;
  _unknownTaggedFields?: TaggedField[];
}

/** True when `version` of `apiKey` uses the flexible (compact, tagged) encoding. */
export function isFlexible(apiKey: number, version: number): boolean {
  const spec = requestSpecs.get(apiKey);
  if (!spec) return false;
  // Versions beyond what we know (an ApiVersions probe from a newer client) stay flexible.
  const fl = spec.flexibleVersions;
  return fl != null && version >= fl[0];
}

export function requestHeaderVersion(apiKey: number, version: number): number {
  return isFlexible(apiKey, version) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, version: number): number {
  if (apiKey === API_VERSIONS_KEY) return 0;
  return isFlexible(apiKey, version) ? 1 : 0;
}

/**
 * Reads the request header from a frame (without its size prefix). Returns the header and a
 * reader positioned at the start of the body. Throws ProtocolError on a malformed header.
 */
export function readRequestHeader(frame: Buffer): { header: RequestHeaderData; body: Reader } {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  r.pos = 0;
  const header = codecFor<RequestHeaderData>(RequestHeader, requestHeaderVersion(apiKey, apiVersion)).read(r);
  return { header, body: r };
}

/** Encodes a whole response frame (size prefix + header + body) as chunks ready for writev. */
export function encodeResponseFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  writeBody: (w: Writer) => void,
): Chunk[] {
  const w = new Writer(512);
  w.int32(0); // size, patched below
  w.int32(correlationId);
  if (responseHeaderVersion(apiKey, apiVersion) >= 1) w.uvarint(0); // empty tagged fields
  writeBody(w);
  w.patchInt32(0, w.length - 4);
  return w.toChunks();
}
