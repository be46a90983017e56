/**
 * `npm run dev:certs -- <dir> [client ...]`: a self-signed CA, a broker certificate for
 * localhost and client certificates (CN=<client>) in <dir>, and the broker settings that use them.
 */
import { resolve } from 'node:path';
import { makeDevCerts } from '../src/security/dev-certs.js';

const [dirArg, ...clients] = process.argv.slice(2);
if (!dirArg) {
  console.error('usage: npm run dev:certs -- <dir> [client-name ...]');
  process.exit(2);
}
const certs = makeDevCerts(resolve(dirArg), { clients });
console.log(`wrote a dev CA and certificates to ${certs.dir}

broker (server.properties):
  listeners=PLAINTEXT://:9092,SASL_SSL://:9093,SSL://:9094
  ssl.keystore.type=PEM
  ssl.keystore.location=${certs.brokerKeystoreFile}
  ssl.truststore.type=PEM
  ssl.truststore.location=${certs.caFile}

clients: trust ${certs.caFile}${clients.length > 0 ? `; mTLS with ${clients.map((c) => certs.clients[c]!.keystoreFile).join(', ')}` : ''}`);
