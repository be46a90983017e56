/**
 * Request frames recorded from real clients (scripts/capture-golden.ts) decode and re-encode
 * byte-identically: header and body, for every client and version captured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codecFor, Writer } from './codec.js';
import { RequestHeader, requestSpecs } from './generated/messages.js';
import { readRequestHeader, requestHeaderVersion } from './headers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const fixtures = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(root, d.name)).map((f) => `${d.name}/${f}`));

describe('golden request bytes from real clients', () => {
  it('has fixtures from several clients', () => {
    expect(new Set(fixtures.map((f) => f.split('/')[0])).size).toBeGreaterThanOrEqual(3);
  });

  for (const fixture of fixtures) {
    it(fixture, () => {
      const frame = Buffer.from(readFileSync(join(root, fixture), 'utf8').trim(), 'hex');
      const { header, body } = readRequestHeader(frame);
      const spec = requestSpecs.get(header.requestApiKey)!;
      const request = codecFor(spec, header.requestApiVersion).read(body);
      expect(body.remaining).toBe(0);
      const w = new Writer();
      codecFor(RequestHeader, requestHeaderVersion(header.requestApiKey, header.requestApiVersion)).write(
        w,
        header,
      );
      codecFor(spec, header.requestApiVersion).write(w, request);
      expect(w.toBuffer().toString('hex')).toBe(frame.toString('hex'));
    });
  }
});
