// Listeners, TLS and SASL over real sockets: kafkajs with SASL PLAIN / SCRAM over TLS, mTLS
// principals, OAUTHBEARER, SCRAM credentials through AlterUserScramCredentials (persisted, never
// in plain text), KIP-368 session lifetimes on the broker's clock, and what a client that has not
// authenticated may do.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { type DevCerts, makeDevCerts } from '../security/dev-certs.js';
import { SCRAM_MECHANISMS, saltedPassword } from '../security/sasl/scram.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

let certsDir: string;
let certs: DevCerts;

beforeAll(() => {
  certsDir = mkdtempSync(join(tmpdir(), 'kbroker-sec-'));
  certs = makeDevCerts(certsDir, { clients: ['alice', 'bob'] });
});
afterAll(() => rmSync(certsDir, { recursive: true, force: true }));

const PLAIN_JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

function securedConfig(extra: Record<string, string> = {}): Record<string, string> {
  return {
    listeners:
      'PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': certs.brokerKeystoreFile,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': certs.caFile,
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.sasl_ssl.plain.sasl.jaas.config': PLAIN_JAAS,
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
    'connection.failed.authentication.delay.ms': '0',
    ...extra,
  };
}

function client(tb: TestBroker, listener: string, opts: { ssl?: boolean | object; sasl?: SASLOptions } = {}) {
  const port = tb.broker.listenerPort(listener)!;
  return new Kafka({
    clientId: 'sec-test',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    ...(opts.ssl ? { ssl: opts.ssl === true ? { ca: [readFileSync(certs.caFile, 'utf8')] } : opts.ssl } : {}),
    ...(opts.sasl ? { sasl: opts.sasl } : {}),
  });
}

/** AlterUserScramCredentials as kafka-configs sends it: the client salts and hashes. */
async function setScram(
  port: number,
  user: string,
  password: string,
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
) {
  const c = await TestClient.connect(port);
  try {
    const salt = Buffer.from(`salt-of-${user}-${mechanism}`);
    const iterations = 4096;
    return await c.request<{ results: { user: string; errorCode: number; errorMessage: string | null }[] }>(
      51,
      0,
      {
        deletions: [],
        upsertions: [
          {
            name: user,
            mechanism: SCRAM_MECHANISMS[mechanism].type,
            iterations,
            salt,
            saltedPassword: saltedPassword(mechanism, password, salt, iterations),
          },
        ],
      },
    );
  } finally {
    c.close();
  }
}

async function produceAndRead(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'one' }, { value: 'two' }] });
  await producer.disconnect();
  const offsets = await (async () => {
    const a = kafka.admin();
    await a.connect();
    try {
      return await a.fetchTopicOffsets(topic);
    } finally {
      await a.disconnect();
    }
  })();
  return offsets.map((o) => o.high);
}

describe('listeners', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker(securedConfig());
  });
  afterAll(async () => tb.close());

  it('binds every listener and answers Metadata with the address of the listener asked', async () => {
    const ports = ['PLAINTEXT', 'SASL_SSL', 'SSL', 'SASL_PLAINTEXT'].map((l) => tb.broker.listenerPort(l));
    expect(new Set(ports).size).toBe(4);
    expect(tb.broker.port).toBe(ports[0]);
    const plain = await TestClient.connect(tb.broker.listenerPort('PLAINTEXT')!);
    try {
      const md = await plain.request<{ brokers: { port: number }[] }>(3, 12, {
        topics: [],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      expect(md.brokers.map((b) => b.port)).toEqual([ports[0]]);
    } finally {
      plain.close();
    }
    // Through TLS: kafkajs learns the SSL listener's port from Metadata and reconnects to it.
    const admin = client(tb, 'SSL', { ssl: true }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => b.port)).toEqual([tb.broker.listenerPort('SSL')]);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses a listener without a security protocol and advertised listeners not among listeners', async () => {
    await expect(startTestBroker({ listeners: 'INTERNAL://127.0.0.1:0' })).rejects.toThrow(
      'No security protocol defined for listener INTERNAL',
    );
    await expect(
      startTestBroker({ listeners: 'PLAINTEXT://127.0.0.1:0', 'advertised.listeners': 'OTHER://h:1' }),
    ).rejects.toThrow('advertised.listeners');
    const named = await startTestBroker({
      listeners: 'INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT',
      'advertised.listeners': 'INTERNAL://127.0.0.1:0,EXTERNAL://kbroker.example.com:19092',
    });
    try {
      const c = await TestClient.connect(named.broker.listenerPort('EXTERNAL')!);
      const md = await c.request<{ brokers: { host: string; port: number }[] }>(3, 12, {
        topics: [],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      c.close();
      expect(md.brokers).toMatchObject([{ host: 'kbroker.example.com', port: 19092 }]);
    } finally {
      await named.close();
    }
  });

  it('refuses a JKS keystore with a message naming PEM', async () => {
    await expect(
      startTestBroker({ listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.location': '/x/broker.jks' }),
    ).rejects.toThrow(/ssl\.keystore\.type=JKS is not supported.*PEM/);
  });
});

describe('TLS and SASL with kafkajs', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker(securedConfig());
    for (const m of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
      const r = await setScram(tb.port, 'scram-user', 'scram-secret', m);
      expect(r.results).toEqual([{ user: 'scram-user', errorCode: 0, errorMessage: null }]);
    }
  });
  afterAll(async () => {
    await tb.close();
    // A test below restarts the broker on the same directory, which close() then leaves to its owner.
    rmSync(tb.dataDir, { recursive: true, force: true });
  });

  it('SASL_SSL with PLAIN: produces and reads back; each connection counts one successful authentication', async () => {
    const before = tb.broker.metrics.successfulAuthentications;
    const kafka = client(tb, 'SASL_SSL', {
      ssl: true,
      sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' },
    });
    expect(await produceAndRead(kafka, 'sasl-plain')).toEqual(['2']);
    // kafkajs's producer and consumer each connected and authenticated (Kafka's successful-authentication-total).
    expect(tb.broker.metrics.successfulAuthentications - before).toBeGreaterThanOrEqual(2);
  });

  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    it(`SASL_SSL with ${mechanism}: produces, and a wrong password gets Kafka's message`, async () => {
      const ok = client(tb, 'SASL_SSL', {
        ssl: true,
        sasl: { mechanism, username: 'scram-user', password: 'scram-secret' },
      });
      expect(await produceAndRead(ok, `t-${mechanism}`)).toEqual(['2']);
      const bad = client(tb, 'SASL_SSL', {
        ssl: true,
        sasl: { mechanism, username: 'scram-user', password: 'wrong' },
      }).admin();
      await expect(bad.connect()).rejects.toThrow(
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism.toUpperCase()}`,
      );
    });
  }

  it("PLAIN with a wrong password fails with Kafka's message and counts the failure", async () => {
    const before = tb.broker.metrics.failedAuthentications;
    const admin = client(tb, 'SASL_PLAINTEXT', {
      sasl: { mechanism: 'plain', username: 'alice', password: 'nope' },
    }).admin();
    await expect(admin.connect()).rejects.toThrow('Authentication failed: Invalid username or password');
    expect(tb.broker.metrics.failedAuthentications).toBe(before + 1);
  });

  it('OAUTHBEARER with an unsecured token authenticates; an expired one does not', async () => {
    const token = (exp: number) =>
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'carol', exp, iat: exp - 3600 })).toString('base64url')}.`;
    const now = Math.floor(Date.now() / 1000);
    const good = client(tb, 'SASL_SSL', {
      ssl: true,
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token(now + 3600) }) },
    }).admin();
    await good.connect();
    await good.listTopics();
    await good.disconnect();
    // RFC 7628 over the wire: an error challenge, then the client's %x01 ends in Kafka's failure.
    const c = await TestClient.connect(tb.broker.listenerPort('SASL_PLAINTEXT')!);
    await c.request(17, 1, { mechanism: 'OAUTHBEARER' });
    const challenge = await c.request<{ errorCode: number; authBytes: Buffer }>(36, 2, {
      authBytes: Buffer.from(`n,,\u0001auth=Bearer ${token(now - 60)}\u0001\u0001`),
    });
    expect(challenge.errorCode).toBe(0);
    expect(JSON.parse(challenge.authBytes.toString())).toEqual({ status: 'invalid_token' });
    const failed = await c.request<{ errorCode: number; errorMessage: string }>(36, 2, {
      authBytes: Buffer.from('\u0001'),
    });
    expect(failed.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(failed.errorMessage).toMatch(/^Authentication failed: The indicated time .* Expiration Time/);
    await c.waitClosed();
  });

  it('kcat (librdkafka) over SASL_SSL with SCRAM-SHA-512: produces and consumes', async () => {
    const port = tb.broker.listenerPort('SASL_SSL')!;
    const args = (password: string) => [
      '-b',
      `127.0.0.1:${port}`,
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      'sasl.mechanisms=SCRAM-SHA-512',
      '-X',
      'sasl.username=scram-user',
      '-X',
      `sasl.password=${password}`,
      '-X',
      `ssl.ca.location=${certs.caFile}`,
    ];
    const run = promisify(execFile);
    const producer = run('kcat', [...args('scram-secret'), '-P', '-t', 'kcat-scram', '-p', '0'], {
      timeout: 30_000,
    });
    producer.child.stdin!.end('one\ntwo\n');
    await producer;
    const consumed = await run(
      'kcat',
      [...args('scram-secret'), '-C', '-t', 'kcat-scram', '-p', '0', '-o', 'beginning', '-c', '2', '-e'],
      { timeout: 30_000 },
    );
    expect(consumed.stdout).toBe('one\ntwo\n');
    await expect(run('kcat', [...args('wrong'), '-L', '-m', '5'], { timeout: 30_000 })).rejects.toMatchObject(
      {
        stderr: expect.stringContaining(
          'Authentication failed during authentication due to invalid credentials',
        ),
      },
    );
  });

  it('SCRAM credentials are stored salted and hashed, and survive a restart', async () => {
    // They are UserScramCredentialRecords in the metadata log: salt, iterations, StoredKey, ServerKey.
    const log = readFileSync(join(tb.dataDir, '__cluster_metadata', 'records.log'), 'utf8');
    expect(log).not.toContain('scram-secret');
    const scramRecords = log
      .split('\n')
      .filter((l) => l !== '')
      .flatMap((l) => (JSON.parse(l.slice(9)) as { records: { type: string }[] }).records)
      .filter((r) => r.type === 'UserScramCredentialRecord');
    expect(scramRecords).toHaveLength(2);
    for (const r of scramRecords) {
      expect(Object.keys(r).sort()).toEqual(
        ['iterations', 'mechanism', 'name', 'salt', 'serverKey', 'storedKey', 'type'].sort(),
      );
    }
    expect(existsSync(join(tb.dataDir, 'kbroker-security.json'))).toBe(false);
    const c = await TestClient.connect(tb.port);
    const described = await c.request<{ results: unknown[] }>(50, 0, { users: null });
    const again = await c.request<{ results: { errorCode: number; errorMessage: string }[] }>(50, 0, {
      users: [{ name: 'nobody' }, { name: 'twice' }, { name: 'twice' }],
    });
    c.close();
    expect(described.results).toEqual([
      {
        user: 'scram-user',
        errorCode: 0,
        errorMessage: null,
        credentialInfos: [
          { mechanism: 1, iterations: 4096 },
          { mechanism: 2, iterations: 4096 },
        ],
      },
    ]);
    expect(again.results.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to describe a user credential that does not exist: nobody'],
      [
        ErrorCode.DUPLICATE_RESOURCE,
        'Cannot describe SCRAM credentials for the same user twice in a single request: twice',
      ],
    ]);
    const dir = tb.dataDir;
    await tb.broker.close();
    const restarted = await startTestBroker(securedConfig(), dir);
    try {
      const kafka = client(restarted, 'SASL_SSL', {
        ssl: true,
        sasl: { mechanism: 'scram-sha-512', username: 'scram-user', password: 'scram-secret' },
      });
      const admin = kafka.admin();
      await admin.connect();
      expect(await admin.listTopics()).toContain('t-scram-sha-512');
      await admin.disconnect();
    } finally {
      await restarted.broker.close();
    }
    tb = await startTestBroker(securedConfig(), dir);
  });

  it('AlterUserScramCredentials refuses what Kafka refuses', async () => {
    const c = await TestClient.connect(tb.port);
    const r = await c.request<{ results: { user: string; errorCode: number; errorMessage: string }[] }>(
      51,
      0,
      {
        deletions: [{ name: 'ghost', mechanism: 1 }],
        upsertions: [
          {
            name: 'few',
            mechanism: 1,
            iterations: 10,
            salt: Buffer.from('s'),
            saltedPassword: Buffer.alloc(32),
          },
          {
            name: '',
            mechanism: 1,
            iterations: 4096,
            salt: Buffer.from('s'),
            saltedPassword: Buffer.alloc(32),
          },
          {
            name: 'mech',
            mechanism: 9,
            iterations: 4096,
            salt: Buffer.from('s'),
            saltedPassword: Buffer.alloc(32),
          },
        ],
      },
    );
    c.close();
    const byUser = Object.fromEntries(r.results.map((x) => [x.user, [x.errorCode, x.errorMessage]]));
    expect(byUser).toEqual({
      ghost: [ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'],
      few: [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'],
      '': [ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'],
      mech: [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'],
    });
  });
});

describe('mTLS', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker(
      securedConfig({
        listeners: 'SSL://127.0.0.1:0',
        'ssl.client.auth': 'required',
        'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/L,DEFAULT',
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:alice',
      }),
    );
  });
  afterAll(async () => tb.close());

  const tlsOf = (who: 'alice' | 'bob') => ({
    ca: [readFileSync(certs.caFile, 'utf8')],
    cert: readFileSync(certs.clients[who]!.certFile, 'utf8'),
    key: readFileSync(certs.clients[who]!.keyFile, 'utf8'),
  });

  it('maps the client certificate subject to the principal (alice is a super user, bob is not)', async () => {
    const handshakes = tb.broker.metrics.successfulAuthentications;
    const noReauth = tb.broker.metrics.successfulAuthenticationsNoReauth;
    const alice = client(tb, 'SSL', { ssl: tlsOf('alice') }).admin();
    await alice.connect();
    // An SSL listener's completed handshake is an authentication (Kafka's successful-authentication-total),
    // by a client that cannot re-authenticate (successful-authentication-no-reauth-total).
    expect(tb.broker.metrics.successfulAuthentications).toBeGreaterThan(handshakes);
    expect(tb.broker.metrics.successfulAuthenticationsNoReauth - noReauth).toBe(
      tb.broker.metrics.successfulAuthentications - handshakes,
    );
    await alice.createTopics({ topics: [{ topic: 'mtls', numPartitions: 1 }] });
    await alice.disconnect();
    const bob = client(tb, 'SSL', { ssl: tlsOf('bob') }).admin();
    await bob.connect();
    await expect(
      bob.createAcls({
        acl: [
          {
            resourceType: 2,
            resourceName: 'x',
            resourcePatternType: 3,
            principal: 'User:bob',
            host: '*',
            operation: 3,
            permissionType: 3,
          },
        ],
      }),
    ).rejects.toThrow(/Cluster authorization failed/i);
    await bob.disconnect();
  });

  it('closes a connection without a client certificate during the handshake', async () => {
    const port = tb.broker.listenerPort('SSL')!;
    const closed = await new Promise<string>((resolve) => {
      const s = tlsConnect({
        port,
        host: '127.0.0.1',
        ca: [readFileSync(certs.caFile, 'utf8')],
        servername: 'localhost',
      });
      s.on('error', (e) => resolve(`error: ${e.message}`));
      s.on('close', () => resolve('closed'));
      s.on('secureConnect', () => s.write(Buffer.from([0, 0, 0, 4, 0, 18, 0, 0])));
    });
    expect(closed).toMatch(/closed|error/);
  });
});

describe('ssl.client.auth=requested and ssl.enabled.protocols', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker(
      securedConfig({
        listeners: 'SSL://127.0.0.1:0',
        'ssl.client.auth': 'requested',
        'ssl.enabled.protocols': 'TLSv1.3',
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:CN=alice,OU=dev,O=kbroker',
      }),
    );
  });
  afterAll(async () => tb.close());

  it('takes a client without a certificate as ANONYMOUS, one with a certificate by its subject (DEFAULT rule)', async () => {
    const anonymous = client(tb, 'SSL', { ssl: true }).admin();
    await anonymous.connect();
    await expect(anonymous.createTopics({ topics: [{ topic: 'req-anon' }] })).rejects.toThrow();
    await anonymous.disconnect();
    const alice = client(tb, 'SSL', {
      ssl: {
        ca: [readFileSync(certs.caFile, 'utf8')],
        cert: readFileSync(certs.clients.alice!.certFile, 'utf8'),
        key: readFileSync(certs.clients.alice!.keyFile, 'utf8'),
      },
    }).admin();
    await alice.connect();
    await alice.createTopics({ topics: [{ topic: 'req-alice' }] });
    expect(await alice.listTopics()).toContain('req-alice');
    await alice.disconnect();
  });

  it('refuses a TLS 1.2 client when only TLSv1.3 is enabled', async () => {
    const port = tb.broker.listenerPort('SSL')!;
    const outcome = await new Promise<string>((resolve) => {
      const s = tlsConnect({
        port,
        host: '127.0.0.1',
        ca: [readFileSync(certs.caFile, 'utf8')],
        servername: 'localhost',
        maxVersion: 'TLSv1.2',
      });
      s.on('secureConnect', () => resolve('connected'));
      s.on('error', (e) => resolve(`error: ${e.message}`));
    });
    expect(outcome).toMatch(/^error: .*(protocol version|alert)/i);
  });
});

describe('SASL state machine on the broker clock', () => {
  let tb: TestBroker;
  const time = new MockTime();
  beforeAll(async () => {
    tb = await startTestBroker(
      securedConfig({
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
        'connections.max.reauth.ms': '60000',
        // Kafka's per-mechanism form (SaslChannelBuilder): OAUTHBEARER sessions on this listener last 30 s.
        'listener.name.sasl_plaintext.oauthbearer.connections.max.reauth.ms': '30000',
      }),
      undefined,
      { time },
    );
  });
  afterAll(async () => tb.close());

  const plainToken = (user: string, password: string) => Buffer.from(`\u0000${user}\u0000${password}`);

  it('serves only ApiVersions and SASL before authentication; anything else closes the connection', async () => {
    const c = await TestClient.connect(tb.port);
    const versions = await c.request<{ errorCode: number }>(18, 3, {
      clientSoftwareName: 't',
      clientSoftwareVersion: '1',
    });
    expect(versions.errorCode).toBe(0);
    await expect(
      c.request(3, 12, {
        topics: [],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      }),
    ).rejects.toThrow('connection closed');
  });

  it('answers an unknown mechanism UNSUPPORTED_SASL_MECHANISM with the enabled ones, then closes', async () => {
    const c = await TestClient.connect(tb.port);
    const r = await c.request<{ errorCode: number; mechanisms: string[] }>(17, 1, { mechanism: 'GSSAPI' });
    expect(r).toEqual({
      errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
      mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'],
    });
    await c.waitClosed();
  });

  it('tells the session lifetime (KIP-368), re-authenticates, and closes a connection whose session expired', async () => {
    const c = await TestClient.connect(tb.port);
    expect((await c.request<{ errorCode: number }>(17, 1, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    const auth = await c.request<{ errorCode: number; sessionLifetimeMs: number }>(36, 2, {
      authBytes: plainToken('alice', 'alice-secret'),
    });
    expect(auth).toMatchObject({ errorCode: 0, sessionLifetimeMs: 60000 });
    const m = tb.broker.metrics;
    const [authenticated, reauthenticated] = [m.successfulAuthentications, m.successfulReauthentications];
    const md = { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };
    await c.request(3, 12, md);
    time.advance(50_000);
    // Re-authentication: same mechanism, same principal, a new session.
    expect((await c.request<{ errorCode: number }>(17, 1, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    expect(
      await c.request<{ errorCode: number; sessionLifetimeMs: number }>(36, 2, {
        authBytes: plainToken('alice', 'alice-secret'),
      }),
    ).toMatchObject({ errorCode: 0, sessionLifetimeMs: 60000 });
    // Kafka's successful-reauthentication-total, apart from successful-authentication-total.
    expect([m.successfulAuthentications, m.successfulReauthentications]).toEqual([
      authenticated,
      reauthenticated + 1,
    ]);
    time.advance(50_000);
    await c.request(3, 12, md);
    time.advance(20_000);
    await expect(c.request(3, 12, md)).rejects.toThrow('connection closed');
  });

  it('counts an authentication by a client without SaslAuthenticate v1+ as one that cannot re-authenticate (Kafka: successful-authentication-no-reauth-total)', async () => {
    const m = tb.broker.metrics;
    for (const version of [0, 2]) {
      const [authenticated, noReauth] = [m.successfulAuthentications, m.successfulAuthenticationsNoReauth];
      const c = await TestClient.connect(tb.port);
      await c.request(17, 1, { mechanism: 'PLAIN' });
      expect(
        (
          await c.request<{ errorCode: number }>(36, version, {
            authBytes: plainToken('alice', 'alice-secret'),
          })
        ).errorCode,
      ).toBe(0);
      expect([
        m.successfulAuthentications - authenticated,
        m.successfulAuthenticationsNoReauth - noReauth,
      ]).toEqual([1, version === 0 ? 1 : 0]);
      c.close();
    }
  });

  it("a mechanism's own connections.max.reauth.ms on the listener wins over the listener's (PLAIN above keeps 60 s)", async () => {
    const exp = Math.floor(time.now() / 1000) + 3600;
    const jwt = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'carol', exp, iat: exp - 7200 })).toString('base64url')}.`;
    const c = await TestClient.connect(tb.port);
    expect((await c.request<{ errorCode: number }>(17, 1, { mechanism: 'OAUTHBEARER' })).errorCode).toBe(0);
    const auth = await c.request<{ errorCode: number; sessionLifetimeMs: number }>(36, 2, {
      authBytes: Buffer.from(`n,,\u0001auth=Bearer ${jwt}\u0001\u0001`),
    });
    expect(auth).toMatchObject({ errorCode: 0, sessionLifetimeMs: 30000 });
    c.close();
  });

  it('refuses a re-authentication as another principal', async () => {
    const c = await TestClient.connect(tb.port);
    await c.request(17, 1, { mechanism: 'PLAIN' });
    await c.request(36, 2, { authBytes: plainToken('alice', 'alice-secret') });
    const m = tb.broker.metrics;
    const [failed, failedReauth] = [m.failedAuthentications, m.failedReauthentications];
    await c.request(17, 1, { mechanism: 'PLAIN' });
    const r = await c.request<{ errorCode: number; errorMessage: string }>(36, 2, {
      authBytes: plainToken('admin', 'admin-secret'),
    });
    expect(r).toMatchObject({
      errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
      errorMessage: 'Cannot change principals during re-authentication from User.alice: User.admin',
    });
    expect([m.failedAuthentications, m.failedReauthentications]).toEqual([failed, failedReauth + 1]);
    await c.waitClosed();
  });

  it('closes on a pre-authentication frame larger than sasl.server.max.receive.size', async () => {
    const c = await TestClient.connect(tb.port);
    c.socket.write(Buffer.from([0x00, 0x10, 0x00, 0x00]));
    await c.waitClosed();
  });

  it('closes a connection that never authenticates after connections.max.idle.ms', async () => {
    const c = await TestClient.connect(tb.port);
    await c.request(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    time.advance(600_001);
    await c.waitClosed();
  });
});

describe('abuse and bad input on the security entry points', () => {
  let tb: TestBroker;
  beforeAll(async () => {
    tb = await startTestBroker(
      securedConfig({
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        'connections.max.idle.ms': '400',
        'max.connections.per.ip.overrides': '127.0.0.2:0',
      }),
    );
  });
  afterAll(async () => tb.close());

  const rawSocket = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', reject);
    });
  const closedWithin = (s: Socket, ms: number) =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      s.on('error', () => {});
      s.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });

  it('closes plaintext sent to a TLS port, TLS sent to a plaintext port, and a TLS handshake that never ends', async () => {
    const toTls = await rawSocket(tb.broker.listenerPort('SSL')!);
    toTls.write(Buffer.from([0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0]));
    expect(await closedWithin(toTls, 5000)).toBe(true);
    const toPlain = await rawSocket(tb.broker.listenerPort('PLAINTEXT')!);
    // A TLS ClientHello's first bytes read as a frame size of ~370 MB: over socket.request.max.bytes.
    toPlain.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    expect(await closedWithin(toPlain, 5000)).toBe(true);
    const silent = await rawSocket(tb.broker.listenerPort('SSL')!);
    // handshakeTimeout = connections.max.idle.ms (node:tls runs it on real time).
    expect(await closedWithin(silent, 5000)).toBe(true);
  });

  it('answers or closes every malformed SASL token, and keeps serving', async () => {
    const port = tb.broker.listenerPort('SASL_PLAINTEXT')!;
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const mechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
    const samples = [
      'n,,n=user,r=abc',
      '\u0000alice\u0000alice-secret',
      'n,,\u0001auth=Bearer a.b.\u0001\u0001',
      'c=biws,r=x,p=AAAA',
    ];
    for (let i = 0; i < 120; i++) {
      const c = await TestClient.connect(port);
      const mechanism = mechanisms[i % mechanisms.length]!;
      await c.request(17, 1, { mechanism });
      const base = Buffer.from(samples[rand() % samples.length]!);
      const token = Buffer.from(base);
      for (let k = 0; k < 1 + (rand() % 4); k++)
        if (token.length > 0) token[rand() % token.length] = rand() & 0xff;
      const bytes =
        i % 3 === 0 ? Buffer.from(Array.from({ length: rand() % 200 }, () => rand() & 0xff)) : token;
      try {
        for (let step = 0; step < 3; step++) {
          const r = await c.request<{ errorCode: number }>(36, 2, { authBytes: bytes });
          if (r.errorCode !== 0) break;
        }
      } catch {
        // closed: fine
      }
      c.close();
    }
    const ok = await TestClient.connect(port);
    await ok.request(17, 1, { mechanism: 'PLAIN' });
    const r = await ok.request<{ errorCode: number }>(36, 2, {
      authBytes: Buffer.from('\u0000alice\u0000alice-secret'),
    });
    expect(r.errorCode).toBe(0);
    ok.close();
  });

  it('SaslHandshake v0 is followed by raw SASL tokens, as Kafka 0.10 clients send them', async () => {
    const c = await TestClient.connect(tb.broker.listenerPort('SASL_PLAINTEXT')!);
    expect((await c.request<{ errorCode: number }>(17, 0, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    const answer = await c.sendToken(Buffer.from('\u0000alice\u0000alice-secret'));
    expect(answer.length).toBe(0);
    const md = await c.request<{ brokers: unknown[] }>(3, 12, {
      topics: [],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(md.brokers).toHaveLength(1);
    c.close();
  });

  it('closes connections over max.connections.per.ip.overrides at once', async () => {
    const s = await new Promise<Socket>((resolve, reject) => {
      const sock = netConnect({
        port: tb.broker.listenerPort('PLAINTEXT')!,
        host: '127.0.0.1',
        localAddress: '127.0.0.2',
      });
      sock.once('connect', () => resolve(sock));
      sock.once('error', reject);
    });
    expect(await closedWithin(s, 5000)).toBe(true);
    const fine = await TestClient.connect(tb.broker.listenerPort('PLAINTEXT')!);
    await fine.request(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    fine.close();
  });
});
