/**
 * Development certificates: a self-signed CA and, signed by it, a broker certificate (with
 * localhost / 127.0.0.1 / ::1 and any extra names as subjectAltNames) and client certificates
 * (for mTLS; the subject `CN=<name>` is what `ssl.principal.mapping.rules` maps). Made with the
 * `openssl` command line (node:crypto cannot issue certificates), all PEM, unencrypted keys —
 * for tests and local use only. Writes ca.pem, ca-key.pem, broker.pem (key + chain: the
 * ssl.keystore.location form), and <client>.pem / <client>-cert.pem / <client>-key.pem.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevCerts {
  dir: string;
  /** CA certificate (the truststore of brokers and clients). */
  caFile: string;
  /** Broker private key and certificate in one PEM (ssl.keystore.location). */
  brokerKeystoreFile: string;
  brokerCertFile: string;
  brokerKeyFile: string;
  clients: Record<string, { certFile: string; keyFile: string; keystoreFile: string }>;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `openssl ${args[0]} failed (is the openssl command installed?): ${stderr || (err as Error).message}`,
    );
  }
}

export function makeDevCerts(
  dir: string,
  options: { clients?: string[]; hosts?: string[]; days?: number; brokerCn?: string } = {},
): DevCerts {
  mkdirSync(dir, { recursive: true });
  const days = String(options.days ?? 825);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-days',
      days,
      '-subj',
      '/CN=kbroker dev CA',
    ],
    dir,
  );
  const sign = (name: string, subject: string, san: string | null, serverAuth: boolean) => {
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}-key.pem`,
        '-out',
        `${name}.csr`,
        '-subj',
        subject,
      ],
      dir,
    );
    const ext = [
      'basicConstraints=CA:FALSE',
      `extendedKeyUsage=${serverAuth ? 'serverAuth,clientAuth' : 'clientAuth'}`,
      ...(san ? [`subjectAltName=${san}`] : []),
    ].join('\n');
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        '-CAcreateserial',
        '-out',
        `${name}-cert.pem`,
        '-days',
        days,
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
    const keystore = join(dir, `${name}.pem`);
    writeFileSync(
      keystore,
      readFileSync(join(dir, `${name}-key.pem`), 'utf8') +
        readFileSync(join(dir, `${name}-cert.pem`), 'utf8'),
    );
    return keystore;
  };
  const hosts = ['localhost', '127.0.0.1', '::1', ...(options.hosts ?? [])];
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const brokerKeystoreFile = sign('broker', `/CN=${options.brokerCn ?? 'localhost'}`, san, true);
  const clients: DevCerts['clients'] = {};
  for (const c of options.clients ?? []) {
    const keystoreFile = sign(c, `/O=kbroker/OU=dev/CN=${c}`, null, false);
    clients[c] = { certFile: join(dir, `${c}-cert.pem`), keyFile: join(dir, `${c}-key.pem`), keystoreFile };
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    brokerKeystoreFile,
    brokerCertFile: join(dir, 'broker-cert.pem'),
    brokerKeyFile: join(dir, 'broker-key.pem'),
    clients,
  };
}
