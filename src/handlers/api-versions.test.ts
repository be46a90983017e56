/**
 * Pins what ApiVersions answers, byte for byte, at every version: the table comes from the handler
 * registry (src/handlers/index.ts), so anything that changes how or when handlers are loaded must
 * leave it as it is. Adding an API or a version on purpose changes it: update TABLE and the
 * digests (the failure prints the new ones).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

/** apiKey:min-max of every advertised API, in the order of the response. */
const TABLE =
  '0:0-12 1:4-17 2:1-9 3:0-12 8:2-10 9:1-10 10:0-6 11:0-9 12:0-4 13:0-5 14:0-5 15:0-5 16:0-5 17:0-1 ' +
  '18:0-4 19:2-7 20:1-6 21:0-2 22:0-5 23:2-4 24:0-5 25:0-4 26:0-5 27:1-2 28:0-5 29:1-3 30:1-3 31:1-3 ' +
  '32:1-4 33:0-2 35:1-4 36:0-2 37:0-3 38:1-3 39:1-2 40:1-2 41:1-3 42:0-2 43:0-2 44:0-1 45:0-1 46:0-0 47:0-0 ' +
  '48:0-1 49:0-1 50:0-0 51:0-0 60:0-1 61:0-0 65:0-0 66:0-1 68:0-1 69:0-1 75:0-0 76:1-1 77:1-1 78:1-2 ' +
  '79:1-2 83:0-0 84:0-0 85:0-1 86:0-0 87:0-1 88:0-0 89:0-0 90:0-1 91:0-0 92:0-0';

/** Response frame (correlation id 7) → byte length and SHA-256, per request version. */
const FRAMES: Record<number, string> = {
  0: '418 37284b30f29898e4afcc5ac6f9fbc8eadc5d5338fcfa02237f07dab88a3cdc3c',
  1: '422 5946a18d973d78b2c3f32d18de32051d476fe091f567b151904715d97bcffafc',
  2: '422 5946a18d973d78b2c3f32d18de32051d476fe091f567b151904715d97bcffafc',
  3: '566 260e8963c04b0a0a721f43481212e1e1f464cc4f723be8575db9847a96b9c5a9',
  4: '634 45791bd82f373b08c8b45c5d95ca04f33985e7abbd960d9b76baa3b9c5a2e1e4',
};

interface ApiVersionsBody {
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
  supportedFeatures?: { name: string; minVersion: number; maxVersion: number }[];
  finalizedFeatures?: { name: string; minVersionLevel: number; maxVersionLevel: number }[];
}

const request = (v: number) =>
  v >= 3 ? { clientSoftwareName: 'kbroker-test', clientSoftwareVersion: '1' } : {};

describe('ApiVersions', () => {
  let b: TestBroker;
  let c: TestClient;
  beforeAll(async () => {
    b = await startTestBroker();
    c = await TestClient.connect(b.port);
  });
  afterAll(async () => {
    c.close();
    await b.close();
  });

  test('advertises the same table as before', async () => {
    const r = await c.request<ApiVersionsBody>(18, 4, request(4));
    expect(r.apiKeys.map((k) => `${k.apiKey}:${k.minVersion}-${k.maxVersion}`).join(' ')).toBe(TABLE);
    expect(r.supportedFeatures).toEqual([
      { name: 'transaction.version', minVersion: 0, maxVersion: 2 },
      { name: 'share.version', minVersion: 0, maxVersion: 1 },
      { name: 'streams.version', minVersion: 0, maxVersion: 1 },
    ]);
    expect(r.finalizedFeatures).toEqual([
      { name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 },
      { name: 'share.version', minVersionLevel: 1, maxVersionLevel: 1 },
      { name: 'streams.version', minVersionLevel: 1, maxVersionLevel: 1 },
    ]);
  });

  test('answers every version with the same bytes as before', async () => {
    const got: Record<number, string> = {};
    for (let v = 0; v <= 4; v++) {
      const frame = await c.sendRaw(c.frame(18, v, request(v), 7));
      got[v] = `${frame.length} ${createHash('sha256').update(frame).digest('hex')}`;
    }
    expect(got).toEqual(FRAMES);
  });
});
