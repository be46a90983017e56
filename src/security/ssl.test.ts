import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevCerts, makeDevCerts } from './dev-certs.js';
import { opensslCipherName, serverTlsSettings } from './ssl.js';

let dir: string;
let certs: DevCerts;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbroker-ssl-'));
  certs = makeDevCerts(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lookup = (values: Record<string, string>) => (name: string) => values[name] ?? null;

describe('serverTlsSettings', () => {
  it('reads a PEM keystore (key + chain in one file) and truststore', () => {
    const s = serverTlsSettings(
      'SSL',
      lookup({
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': certs.brokerKeystoreFile,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': certs.caFile,
        'ssl.client.auth': 'requested',
        'ssl.enabled.protocols': 'TLSv1.3',
        'ssl.cipher.suites': 'TLS_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      }),
    );
    expect(s.clientAuth).toBe('requested');
    expect(s.options).toMatchObject({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      requestCert: true,
      rejectUnauthorized: false,
      ciphers: 'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256',
    });
    expect(String(s.options.key)).toContain('PRIVATE KEY');
    expect(String(s.options.cert)).toContain('BEGIN CERTIFICATE');
  });

  it('refuses JKS/PKCS12 stores, a missing keystore and client auth without a truststore, naming the keys', () => {
    expect(() => serverTlsSettings('SSL', lookup({ 'ssl.keystore.location': '/x.jks' }))).toThrow(
      /ssl\.keystore\.type=JKS is not supported .*PEM/,
    );
    expect(() =>
      serverTlsSettings(
        'SSL',
        lookup({
          'ssl.keystore.type': 'PEM',
          'ssl.keystore.location': certs.brokerKeystoreFile,
          'ssl.truststore.type': 'PKCS12',
          'ssl.truststore.location': '/t.p12',
        }),
      ),
    ).toThrow(/ssl\.truststore\.type=PKCS12 is not supported/);
    expect(() => serverTlsSettings('SSL', lookup({}))).toThrow(/no keystore/);
    expect(() =>
      serverTlsSettings(
        'SSL',
        lookup({
          'ssl.keystore.type': 'PEM',
          'ssl.keystore.location': certs.brokerKeystoreFile,
          'ssl.client.auth': 'required',
        }),
      ),
    ).toThrow(/needs a truststore/);
  });

  it('maps IANA cipher suite names to OpenSSL names and refuses unknown ones', () => {
    expect(opensslCipherName('TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384')).toBe(
      'ECDHE-ECDSA-AES256-GCM-SHA384',
    );
    expect(opensslCipherName('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256')).toBe(
      'ECDHE-RSA-CHACHA20-POLY1305',
    );
    expect(opensslCipherName('TLS_RSA_WITH_AES_128_CBC_SHA')).toBe('AES128-SHA');
    expect(opensslCipherName('TLS_CHACHA20_POLY1305_SHA256')).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(() => opensslCipherName('TLS_FOO')).toThrow('Unsupported cipher suite');
  });
});
