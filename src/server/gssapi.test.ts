// SASL/GSSAPI over real sockets: kafkajs (with a GSSAPI mechanism of its custom-mechanism API driving the
// tests' initiator, src/test-support/kerberos-initiator.ts) produces and consumes as a Kerberos principal,
// the principal's short name meets the StandardAuthorizer, a ticket in a stale key is refused with Kafka's
// generic message, and a rotated keytab is read without a restart. Real clients against a real KDC (MIT,
// the JDK, librdkafka/Cyrus) are compat-tests/kerberos.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Mechanism } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { ETYPE_AES256_CTS_HMAC_SHA1_96 } from '../security/kerberos/crypto.js';
import { writeKeytab } from '../security/kerberos/keytab.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { sizePrefixed, TestClient } from '../test-support/client.js';
import { initSecContext, TEST_REALM, type TestKdc, testKdc } from '../test-support/kerberos-initiator.js';

let dir: string;
let tb: TestBroker;
const kdc = testKdc();
const keytabFile = () => join(dir, 'kafka.keytab');
const savedKrb5 = process.env.KRB5_CONFIG;

/** kafkajs's custom mechanism API running the RFC 4752 exchange with the tests' initiator. */
function gssapi(client: string, k: TestKdc = kdc): Mechanism {
  // kafkajs puts what encode() returns into SaslAuthenticate as it is, and hands decode() the answer's
  // bytes with their length: the mechanism writes and reads the length itself.
  const raw = { decode: (b: Buffer) => b.subarray(4), parse: (b: Buffer) => b };
  const bytes = (b: Buffer) => () => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(b.length);
    return Buffer.concat([size, b]);
  };
  return {
    mechanism: 'GSSAPI',
    authenticationProvider: ({ saslAuthenticate }) => ({
      async authenticate() {
        const init = initSecContext(k, { now: Date.now(), client });
        const apRep = (await saslAuthenticate({
          request: { encode: bytes(init.token) },
          response: raw,
        })) as Buffer;
        const context = init.finish(apRep);
        const offer = (await saslAuthenticate({
          request: { encode: bytes(Buffer.alloc(0)) },
          response: raw,
        })) as Buffer;
        const layers = context.unwrap(offer);
        if (!(layers[0]! & 1)) throw new Error('the broker offers no "no security layer"');
        await saslAuthenticate({
          request: { encode: bytes(context.wrap(Buffer.from([1, 0, 0, 0]))) },
          response: raw,
        });
      },
    }),
  };
}

function kafka(client: string, k?: TestKdc): Kafka {
  return new Kafka({
    clientId: 'gssapi-test',
    brokers: [`127.0.0.1:${tb.broker.listenerPort('SASL_PLAINTEXT')}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    sasl: gssapi(client, k),
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbroker-gssapi-'));
  writeFileSync(join(dir, 'krb5.conf'), `[libdefaults]\n  default_realm = ${TEST_REALM}\n`);
  process.env.KRB5_CONFIG = join(dir, 'krb5.conf');
  writeFileSync(keytabFile(), writeKeytab(kdc.keytab));
  tb = await startTestBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'GSSAPI',
    'sasl.kerberos.service.name': 'kafka',
    'listener.name.sasl_plaintext.gssapi.sasl.jaas.config': `com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="${keytabFile()}" principal="kafka/localhost@${TEST_REALM}";`,
    'sasl.kerberos.principal.to.local.rules': `RULE:[1:$1@$0](carol@${TEST_REALM})s/carol@.*/admin/,DEFAULT`,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:alice;User:admin',
    'connection.failed.authentication.delay.ms': '0',
  });
});

afterAll(async () => {
  await tb?.close();
  rmSync(dir, { recursive: true, force: true });
  if (savedKrb5 === undefined) delete process.env.KRB5_CONFIG;
  else process.env.KRB5_CONFIG = savedKrb5;
});

describe('SASL/GSSAPI', () => {
  it('a Kerberos principal produces and consumes with kafkajs; its short name is the ACL principal', async () => {
    const alice = kafka('alice');
    const admin = alice.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'krb', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = alice.producer();
    await producer.connect();
    await producer.send({ topic: 'krb', messages: [{ value: 'one' }, { value: 'two' }] });
    await producer.disconnect();
    const consumer = alice.consumer({ groupId: 'krb-g' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'krb', fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length === 2) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(seen).toEqual(['one', 'two']);

    // bob@KBROKER.TEST is User:bob (DEFAULT), not a super user: refused by the authorizer, not at login.
    const bob = kafka('bob').producer();
    await bob.connect();
    await expect(bob.send({ topic: 'krb', messages: [{ value: 'x' }] })).rejects.toThrow(/authoriz/i);
    await bob.disconnect();
    // carol@KBROKER.TEST is User:admin by the RULE: a super user.
    const carol = kafka('carol').producer();
    await carol.connect();
    await carol.send({ topic: 'krb', messages: [{ value: 'from carol' }] });
    await carol.disconnect();
  });

  it('refuses a ticket in a key the keytab does not hold with Kafka generic message, and closes', async () => {
    const c = await TestClient.connect(tb.broker.listenerPort('SASL_PLAINTEXT')!);
    expect((await c.request<{ errorCode: number }>(17, 1, { mechanism: 'GSSAPI' })).errorCode).toBe(0);
    const stale = testKdc(ETYPE_AES256_CTS_HMAC_SHA1_96, 'the-old-password');
    const answer = await c.request<{ errorCode: number; errorMessage: string }>(36, 2, {
      authBytes: initSecContext(stale, { now: Date.now() }).token,
    });
    expect(answer.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(answer.errorMessage).toBe(
      'Authentication failed during authentication due to invalid credentials with SASL mechanism GSSAPI',
    );
    await expect(c.request(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })).rejects.toThrow(
      /closed/,
    );
  });

  it('after SaslHandshake v0, takes the GSSAPI tokens raw, as Kafka 0.10 clients send them', async () => {
    const c = await TestClient.connect(tb.broker.listenerPort('SASL_PLAINTEXT')!);
    expect((await c.request<{ errorCode: number }>(17, 0, { mechanism: 'GSSAPI' })).errorCode).toBe(0);
    const init = initSecContext(kdc, { now: Date.now(), client: 'alice' });
    const context = init.finish(await c.sendToken(init.token));
    const offer = context.unwrap(await c.sendToken(Buffer.alloc(0)));
    expect([...offer]).toEqual([1, 1, 0, 0]); // no security layer, 64 KiB: what the JDK's server offers
    c.socket.write(sizePrefixed(context.wrap(Buffer.from([1, 0, 0, 0])))); // the last token has no answer
    const md = await c.request<{ brokers: unknown[] }>(3, 12, {
      topics: [],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(md.brokers).toHaveLength(1);
    c.close();
  });

  it('reads a rotated keytab without a restart', async () => {
    const rotated = testKdc(ETYPE_AES256_CTS_HMAC_SHA1_96, 'the-new-password', 3);
    await expect(kafka('alice', rotated).admin().connect()).rejects.toThrow();
    writeFileSync(keytabFile(), writeKeytab([...kdc.keytab, ...rotated.keytab]));
    const admin = kafka('alice', rotated).admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('krb');
    await admin.disconnect();
  });
});
