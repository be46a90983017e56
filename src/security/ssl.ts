/**
 * TLS of SSL and SASL_SSL listeners (Kafka's SslFactory / DefaultSslEngineFactory, for PEM only):
 * the server options of `node:tls` from Kafka's `ssl.*` configs, and the client certificate's
 * subject as Kafka prints it (RFC 2253) for the principal (SslPrincipalMapper).
 *
 * Keystores: `ssl.keystore.type=PEM` with `ssl.keystore.location` (one file holding the private
 * key and the certificate chain; `ssl.key.password` for an encrypted key) or inline
 * `ssl.keystore.key` + `ssl.keystore.certificate.chain`. Truststores: `ssl.truststore.type=PEM`
 * with `ssl.truststore.location` or inline `ssl.truststore.certificates`. JKS and PKCS12 stores
 * are refused with a message naming PEM (convert with `openssl pkcs12` / `keytool -exportcert`).
 */
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';

export class SslConfigError extends Error {
  override name = 'SslConfigError';
}

/** Reads one config as a listener sees it (`listener.name.<l>.ssl.*` first). */
export type ConfigLookup = (name: string) => string | null;

export type SslClientAuth = 'required' | 'requested' | 'none';

export interface ServerTlsSettings {
  options: TlsOptions;
  clientAuth: SslClientAuth;
}

const PEM_KEY =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/g;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function refuseNonPem(kind: 'keystore' | 'truststore', type: string, where: string): void {
  if (type.toUpperCase() !== 'PEM') {
    throw new SslConfigError(
      `ssl.${kind}.type=${type} is not supported by kbroker (${where}): use ssl.${kind}.type=PEM with a PEM file ` +
        `(ssl.${kind}.location) or inline PEM (${kind === 'keystore' ? 'ssl.keystore.key and ssl.keystore.certificate.chain' : 'ssl.truststore.certificates'}). ` +
        'Convert a JKS/PKCS12 store with keytool -importkeystore -deststoretype PKCS12 and openssl pkcs12 -nodes.',
    );
  }
}

function readPem(file: string, config: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SslConfigError(`cannot read ${config}=${file}: ${(err as Error).message}`);
  }
}

/** Builds the `node:tls` server options of one listener; throws SslConfigError on bad settings. */
export function serverTlsSettings(listenerName: string, get: ConfigLookup): ServerTlsSettings {
  const where = `listener ${listenerName}`;
  let key: string | undefined;
  let cert: string | undefined;
  const keystoreLocation = get('ssl.keystore.location');
  const inlineKey = get('ssl.keystore.key');
  const inlineChain = get('ssl.keystore.certificate.chain');
  if (keystoreLocation || inlineKey || inlineChain) {
    refuseNonPem('keystore', get('ssl.keystore.type') ?? 'JKS', where);
  }
  if (keystoreLocation) {
    const pem = readPem(keystoreLocation, 'ssl.keystore.location');
    key = pem.match(PEM_KEY)?.join('\n');
    cert = pem.match(PEM_CERT)?.join('\n');
    if (!key || !cert) {
      throw new SslConfigError(
        `ssl.keystore.location=${keystoreLocation} (${where}) must hold a PEM private key and its certificate chain`,
      );
    }
  } else if (inlineKey || inlineChain) {
    if (!inlineKey || !inlineChain) {
      throw new SslConfigError(`${where}: ssl.keystore.key and ssl.keystore.certificate.chain go together`);
    }
    key = inlineKey;
    cert = inlineChain;
  } else {
    throw new SslConfigError(
      `${where} uses TLS but has no keystore: set ssl.keystore.type=PEM and ssl.keystore.location (or ssl.keystore.key and ssl.keystore.certificate.chain)`,
    );
  }
  let ca: string | undefined;
  const trustLocation = get('ssl.truststore.location');
  const trustInline = get('ssl.truststore.certificates');
  if (trustLocation || trustInline) refuseNonPem('truststore', get('ssl.truststore.type') ?? 'JKS', where);
  if (trustLocation) ca = readPem(trustLocation, 'ssl.truststore.location');
  else if (trustInline) ca = trustInline;
  if (ca !== undefined && !PEM_CERT.test(ca)) {
    throw new SslConfigError(`${where}: the truststore holds no PEM certificate`);
  }
  PEM_CERT.lastIndex = 0;
  const clientAuth = (get('ssl.client.auth') ?? 'none') as SslClientAuth;
  if (clientAuth !== 'none' && ca === undefined) {
    throw new SslConfigError(
      `${where}: ssl.client.auth=${clientAuth} needs a truststore (ssl.truststore.location or ssl.truststore.certificates)`,
    );
  }
  const protocols = (get('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .sort();
  if (protocols.length === 0) throw new SslConfigError(`${where}: ssl.enabled.protocols is empty`);
  const options: TlsOptions = {
    key,
    cert,
    minVersion: protocols[0] as 'TLSv1.2' | 'TLSv1.3',
    maxVersion: protocols[protocols.length - 1] as 'TLSv1.2' | 'TLSv1.3',
    requestCert: clientAuth !== 'none',
    // `requested`: a certificate is optional but, when given, must verify (checked after the handshake).
    rejectUnauthorized: clientAuth === 'required',
  };
  const password = get('ssl.key.password');
  if (password) options.passphrase = password;
  if (ca !== undefined) options.ca = ca;
  const suites = get('ssl.cipher.suites');
  if (suites && suites.trim() !== '') options.ciphers = opensslCipherList(suites);
  return { options, clientAuth };
}

/**
 * Kafka names cipher suites as Java and IANA do (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); OpenSSL,
 * under node:tls, has its own names for the TLS 1.2 ones (ECDHE-RSA-AES128-GCM-SHA256). TLS 1.3
 * suites keep their IANA names in both.
 */
export function opensslCipherList(value: string): string {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(opensslCipherName)
    .join(':');
}

const TLS13_SUITES = new Set([
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_CCM_SHA256',
  'TLS_AES_128_CCM_8_SHA256',
]);

export function opensslCipherName(iana: string): string {
  if (TLS13_SUITES.has(iana)) return iana;
  const m =
    /^TLS_(ECDHE_RSA|ECDHE_ECDSA|DHE_RSA|RSA)_WITH_(AES_128|AES_256|CHACHA20_POLY1305)_(GCM_|CBC_)?(SHA384|SHA256|SHA)$/.exec(
      iana,
    );
  if (!m) {
    throw new SslConfigError(`Unsupported cipher suite in ssl.cipher.suites: ${iana}`);
  }
  const [, kx, cipher, mode, mac] = m as unknown as [string, string, string, string | undefined, string];
  const kxName = kx === 'RSA' ? '' : `${kx.replace('_', '-')}-`;
  if (cipher === 'CHACHA20_POLY1305') return `${kxName}CHACHA20-POLY1305`;
  const bits = cipher === 'AES_128' ? 'AES128' : 'AES256';
  if (mode === 'GCM_') return `${kxName}${bits}-GCM-${mac}`;
  return `${kxName}${bits}-${mac}`;
}

/**
 * The subject of a certificate as Java's X500Principal.getName() prints it (RFC 2253): the most
 * specific RDN first (`CN=alice,OU=eng,O=acme,C=US`). `subject` is node's multi-line form, in
 * certificate order (`C=US\nO=acme\nOU=eng\nCN=alice`).
 */
export function rfc2253Subject(subject: string): string {
  return subject
    .split('\n')
    .filter((l) => l !== '')
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      const type = rdn.slice(0, eq);
      const value = rdn.slice(eq + 1).replace(/^\\?"|\\?"$/g, '');
      return `${type}=${escapeRdnValue(value)}`;
    })
    .join(',');
}

function escapeRdnValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}
