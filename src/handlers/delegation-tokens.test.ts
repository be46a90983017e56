/**
 * Delegation tokens (KIP-48) over TCP on the broker's clock: created by a SASL/PLAIN user, described,
 * renewed by a renewer, expired by the owner; a client authenticates with SCRAM as the token
 * (`tokenauth=true`: user name the token id, password the HMAC) and is its owner then, but may not
 * ask for tokens itself; expired tokens are refused and swept; PLAINTEXT and a broker without
 * `delegation.token.secret.key` are refused with Kafka's errors.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret" user_carol="carol-secret";';

const brokers: TestBroker[] = [];
const clients: TestClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function broker(
  time: MockTime,
  extra: Record<string, string> = {},
  dataDir?: string,
): Promise<TestBroker> {
  const tb = await startTestBroker(
    {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
      'delegation.token.secret.key': 'the-secret',
      'delegation.token.expiry.check.interval.ms': '1000',
      'connection.failed.authentication.delay.ms': '0',
      ...extra,
    },
    dataDir,
    { time },
  );
  brokers.push(tb);
  return tb;
}

async function connect(port: number): Promise<TestClient> {
  const c = await TestClient.connect(port);
  clients.push(c);
  return c;
}

type Authenticated = { errorCode: number; errorMessage: string | null; authBytes: Buffer };

async function plain(tb: TestBroker, user: string): Promise<TestClient> {
  const c = await connect(tb.broker.listenerPort('SASL_PLAINTEXT')!);
  await c.request(17, 1, { mechanism: 'PLAIN' });
  const r = await c.request<Authenticated>(36, 2, {
    authBytes: Buffer.from(`\u0000${user}\u0000${user}-secret`),
  });
  expect(r.errorCode).toBe(0);
  return c;
}

/** SCRAM-SHA-256 as a delegation token: the client side of RFC 5802 with Kafka's `tokenauth=true`. */
async function scramToken(
  tb: TestBroker,
  tokenId: string,
  hmac: Buffer,
): Promise<{ c: TestClient; r: Authenticated }> {
  const c = await connect(tb.broker.listenerPort('SASL_PLAINTEXT')!);
  await c.request(17, 1, { mechanism: 'SCRAM-SHA-256' });
  const nonce = randomBytes(16).toString('base64url');
  const clientFirstBare = `n=${tokenId},r=${nonce},tokenauth=true`;
  const first = await c.request<Authenticated>(36, 2, { authBytes: Buffer.from(`n,,${clientFirstBare}`) });
  if (first.errorCode !== 0) return { c, r: first };
  const serverFirst = first.authBytes.toString();
  const fields = new Map(serverFirst.split(',').map((kv) => [kv[0]!, kv.slice(2)]));
  const salted = pbkdf2Sync(
    hmac.toString('base64'),
    Buffer.from(fields.get('s')!, 'base64'),
    Number(fields.get('i')),
    32,
    'sha256',
  );
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=biws,r=${fields.get('r')}`;
  const signature = createHmac('sha256', storedKey)
    .update(`${clientFirstBare},${serverFirst},${withoutProof}`)
    .digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
  const r = await c.request<Authenticated>(36, 2, {
    authBytes: Buffer.from(`${withoutProof},p=${proof.toString('base64')}`),
  });
  return { c, r };
}

type Created = {
  errorCode: number;
  principalType: string;
  principalName: string;
  tokenRequesterPrincipalName: string;
  issueTimestampMs: number;
  expiryTimestampMs: number;
  maxTimestampMs: number;
  tokenId: string;
  hmac: Buffer;
};
const create = (c: TestClient, renewers: string[] = [], maxLifetimeMs = -1, owner: string | null = null) =>
  c.request<Created>(38, 3, {
    ownerPrincipalType: owner === null ? null : 'User',
    ownerPrincipalName: owner,
    renewers: renewers.map((r) => ({ principalType: 'User', principalName: r })),
    maxLifetimeMs,
  });
type Described = {
  errorCode: number;
  tokens: { tokenId: string; principalName: string; hmac: Buffer; renewers: { principalName: string }[] }[];
};
const describeTokens = (c: TestClient) => c.request<Described>(41, 3, { owners: null });
type Expiry = { errorCode: number; expiryTimestampMs: number };
const renew = (c: TestClient, hmac: Buffer, renewPeriodMs = -1) =>
  c.request<Expiry>(39, 2, { hmac, renewPeriodMs });
const expire = (c: TestClient, hmac: Buffer, expiryTimePeriodMs: number) =>
  c.request<Expiry>(40, 2, { hmac, expiryTimePeriodMs });

const DAY = 86_400_000;

describe('delegation tokens (KIP-48)', () => {
  it('created, described, renewed and expired; SCRAM with the token authenticates as its owner', async () => {
    const time = new MockTime(1_700_000_000_000);
    const tb = await broker(time);
    const alice = await plain(tb, 'alice');
    const t = await create(alice, ['bob']);
    expect(t.errorCode).toBe(0);
    expect([t.principalName, t.tokenRequesterPrincipalName]).toEqual(['alice', 'alice']);
    const now = time.now();
    expect([t.issueTimestampMs, t.expiryTimestampMs, t.maxTimestampMs]).toEqual([
      now,
      now + DAY,
      now + 7 * DAY,
    ]);
    expect(t.hmac).toEqual(createHmac('sha512', 'the-secret').update(t.tokenId).digest());

    // Described to its owner, its renewer and a super user; not to another user.
    for (const user of ['alice', 'bob', 'admin']) {
      const d = await describeTokens(user === 'alice' ? alice : await plain(tb, user));
      expect(
        d.tokens.map((x) => [x.tokenId, x.principalName, x.renewers.map((r) => r.principalName)]),
      ).toEqual([[t.tokenId, 'alice', ['bob']]]);
      expect(d.tokens[0]!.hmac).toEqual(t.hmac);
    }
    const carol = await plain(tb, 'carol');
    expect((await describeTokens(carol)).tokens).toEqual([]);
    // Another owner needs CREATE_TOKENS on that user.
    expect((await create(carol, [], -1, 'alice')).errorCode).toBe(
      ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED,
    );

    // SCRAM as the token: the principal is alice, token-authenticated (it may not ask for tokens).
    const { c: asToken, r } = await scramToken(tb, t.tokenId, t.hmac);
    expect(r.errorCode).toBe(0);
    expect((await create(asToken)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    expect((await describeTokens(asToken)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    // alice may describe her topic (an ACL of User:alice): the token's connection is alice's.
    const acl = await (await plain(tb, 'admin')).request<{ results: { errorCode: number }[] }>(30, 3, {
      creations: [
        {
          resourceType: 2,
          resourceName: 'alices',
          resourcePatternType: 3,
          principal: 'User:alice',
          host: '*',
          operation: 8,
          permissionType: 3,
        },
      ],
    });
    expect(acl.results[0]!.errorCode).toBe(0);
    const metadata = (c: TestClient) =>
      c.request<{ topics: { name: string; errorCode: number }[] }>(3, 12, {
        topics: [{ name: 'alices', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
    expect((await metadata(asToken)).topics[0]!.errorCode).not.toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await metadata(carol)).topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);

    // Renewed by its renewer (not by carol); a wrong HMAC is not found.
    time.advance(DAY / 2);
    expect(await renew(carol, t.hmac)).toMatchObject({
      errorCode: ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH,
      expiryTimestampMs: -1,
    });
    expect((await renew(await plain(tb, 'bob'), t.hmac)).expiryTimestampMs).toBe(time.now() + DAY);
    expect((await renew(alice, Buffer.from('not-a-token'))).errorCode).toBe(
      ErrorCode.DELEGATION_TOKEN_NOT_FOUND,
    );

    // Expired at once by its owner: gone, and SCRAM with it fails.
    expect(await expire(alice, t.hmac, -1)).toMatchObject({ errorCode: 0, expiryTimestampMs: time.now() });
    expect((await describeTokens(alice)).tokens).toEqual([]);
    expect((await scramToken(tb, t.tokenId, t.hmac)).r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
  });

  it('a token past its expiry no longer authenticates and is swept; PLAINTEXT and a broker without the secret refuse', async () => {
    const time = new MockTime(1_700_000_000_000);
    const tb = await broker(time);
    const alice = await plain(tb, 'alice');
    const t = await create(alice, [], 5000);
    expect(t.maxTimestampMs - t.issueTimestampMs).toBe(5000);
    expect((await scramToken(tb, t.tokenId, t.hmac)).r.errorCode).toBe(0);
    time.advance(6000); // past its max lifetime; the sweep runs every second of the broker's clock
    expect((await scramToken(tb, t.tokenId, t.hmac)).r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect((await renew(alice, t.hmac)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_NOT_FOUND);
    expect(tb.broker.metadata.delegationTokens?.().tokens()).toEqual([]);

    const plaintext = await connect(tb.port);
    expect((await create(plaintext)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);

    const off = await broker(new MockTime(), { 'delegation.token.secret.key': '' });
    const c = await plain(off, 'alice');
    expect((await create(c)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED);
    expect((await describeTokens(c)).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED);
  });

  it('tokens are metadata records: a restarted broker still knows them; renew and expire by period keep within the max lifetime', async () => {
    const time = new MockTime(1_700_000_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-tokens-'));
    dirs.push(dir);
    const tb = await broker(time, {}, dir);
    const alice = await plain(tb, 'alice');
    const t = await create(alice, [], 3 * DAY);
    expect((await renew(alice, t.hmac, 10 * DAY)).expiryTimestampMs).toBe(time.now() + DAY); // at most the expiry time
    // Renewed before each expiry; the last renewal stops at the max lifetime (3 days).
    for (let i = 0; i < 2; i++) {
      time.advance(0.9 * DAY);
      expect((await renew(alice, t.hmac)).expiryTimestampMs).toBe(time.now() + DAY);
    }
    time.advance(0.9 * DAY);
    expect((await renew(alice, t.hmac)).expiryTimestampMs).toBe(t.maxTimestampMs);
    expect((await expire(alice, t.hmac, 1000)).expiryTimestampMs).toBe(time.now() + 1000);
    for (const c of clients.splice(0)) c.close();
    await tb.close();
    brokers.splice(brokers.indexOf(tb), 1);
    const again = await broker(time, {}, dir);
    const { r } = await scramToken(again, t.tokenId, t.hmac);
    expect(r.errorCode).toBe(0);
    expect(again.broker.metadata.delegationTokens?.().token(t.tokenId)?.expirationTimestamp).toBe(
      time.now() + 1000,
    );
  });
});
