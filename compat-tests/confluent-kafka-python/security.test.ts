// confluent-kafka-python (Debian python3-confluent-kafka, librdkafka 2.0.2) against a kbroker with
// SASL_SSL (SCRAM-SHA-512) and mTLS listeners and Kafka's StandardAuthorizer: produce and consume as
// an allowed user, a wrong password fails with Kafka's message, a certificate's CN is the principal.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevCerts, makeDevCerts } from '../../src/security/dev-certs.js';
import { SCRAM_MECHANISMS, saltedPassword } from '../../src/security/sasl/scram.js';
import { startTestBroker, type TestBroker } from '../../src/test-support/broker.js';
import { TestClient } from '../../src/test-support/client.js';

const PYTHON = process.env.CONFLUENT_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./secure_client.py', import.meta.url));
const haveModule = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { timeout: 20_000 }).status === 0;
const mode: 'run' | 'fail' | 'skip' = haveModule ? 'run' : process.env.CI ? 'fail' : 'skip';

function runClient(
  bootstrap: string,
  settings: Record<string, string>,
  topic: string,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, bootstrap, JSON.stringify(settings), topic], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', () => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`no summary: ${out} ${err}`));
      }
    });
  });
}

describe.skipIf(mode === 'skip')('confluent-kafka-python against SASL_SSL and mTLS', () => {
  let tb: TestBroker;
  let dir: string;
  let certs: DevCerts;
  beforeAll(async () => {
    if (mode === 'fail')
      throw new Error(`${PYTHON} cannot import confluent_kafka (apt-get install python3-confluent-kafka)`);
    dir = mkdtempSync(join(tmpdir(), 'kbroker-py-sec-'));
    certs = makeDevCerts(dir, { clients: ['alice', 'mallory'] });
    tb = await startTestBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': certs.brokerKeystoreFile,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': certs.caFile,
      'listener.name.ssl.ssl.client.auth': 'required',
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/,DEFAULT',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      // The PLAINTEXT listener is the test's own way in (ANONYMOUS as a super user).
      'super.users': 'User:ANONYMOUS',
      'connection.failed.authentication.delay.ms': '0',
    });
    const c = await TestClient.connect(tb.port);
    const salt = Buffer.from('py-salt');
    await c.request(51, 0, {
      deletions: [],
      upsertions: [
        {
          name: 'alice',
          mechanism: SCRAM_MECHANISMS['SCRAM-SHA-512'].type,
          iterations: 4096,
          salt,
          saltedPassword: saltedPassword('SCRAM-SHA-512', 'alice-secret', salt, 4096),
        },
      ],
    });
    await c.request(19, 4, {
      topics: [{ name: 'py-secure', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    const acl = (operation: number) => ({
      resourceType: 2,
      resourceName: 'py-',
      resourcePatternType: 4,
      principal: 'User:alice',
      host: '*',
      operation,
      permissionType: 3,
    });
    const created = await c.request<{ results: { errorCode: number }[] }>(30, 3, {
      creations: [
        acl(4),
        acl(3),
        { ...acl(3), resourceType: 3, resourceName: 'secure-py', resourcePatternType: 3 },
      ],
    });
    expect(created.results.map((r) => r.errorCode)).toEqual([0, 0, 0]);
    c.close();
  });
  afterAll(async () => {
    await tb?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scram = (password: string) => ({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanisms': 'SCRAM-SHA-512',
    'sasl.username': 'alice',
    'sasl.password': password,
    'ssl.ca.location': certs.caFile,
  });

  it('produces and consumes as a SCRAM-SHA-512 user over SASL_SSL', async () => {
    const r = await runClient(
      `127.0.0.1:${tb.broker.listenerPort('SASL_SSL')}`,
      scram('alice-secret'),
      'py-secure',
    );
    expect(r).toEqual({ consumed: ['secure-0', 'secure-1', 'secure-2'] });
  });

  it("fails with a wrong password, with Kafka's message", async () => {
    const r = await runClient(`127.0.0.1:${tb.broker.listenerPort('SASL_SSL')}`, scram('wrong'), 'py-secure');
    expect(String(r.error)).toContain(
      'Authentication failed during authentication due to invalid credentials',
    );
  });

  it('takes the client certificate CN as the principal over mTLS (alice allowed, mallory refused)', async () => {
    const mtls = (who: 'alice' | 'mallory') => ({
      'security.protocol': 'SSL',
      'ssl.ca.location': certs.caFile,
      'ssl.certificate.location': certs.clients[who]!.certFile,
      'ssl.key.location': certs.clients[who]!.keyFile,
    });
    const bootstrap = `127.0.0.1:${tb.broker.listenerPort('SSL')}`;
    expect(await runClient(bootstrap, mtls('alice'), 'py-secure')).toMatchObject({
      consumed: expect.any(Array),
    });
    expect(String((await runClient(bootstrap, mtls('mallory'), 'py-secure')).error)).toMatch(
      /TOPIC_AUTHORIZATION_FAILED|authoriz/i,
    );
  });
});
