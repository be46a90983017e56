/**
 * DescribeClientQuotas and AlterClientQuotas over TCP against a broker: quotas set on users,
 * client ids, user/client-id pairs, default entities and IPs are described back through Kafka's
 * filters (exact, default, any; strict), validate_only writes nothing, Kafka's INVALID_REQUEST /
 * UNSUPPORTED_VERSION refusals, the authorizer hook (ALTER_CONFIGS / DESCRIBE_CONFIGS on the
 * cluster), and the quotas are in the metadata log: a restarted broker still has them.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import type {
  AlterClientQuotasResponseData,
  DescribeClientQuotasResponseData,
} from '../protocol/generated/messages.js';
import type { Authorizer } from '../security/authorizer.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { callHandler, fakeContext } from '../test-support/fake-services.js';
import { alterClientQuotasHandler } from './alter-client-quotas.js';
import { describeClientQuotasHandler } from './describe-client-quotas.js';

type Entity = { entityType: string; entityName: string | null }[];
const user = (name: string | null) => ({ entityType: 'user', entityName: name });
const client = (name: string | null) => ({ entityType: 'client-id', entityName: name });
const ip = (name: string | null) => ({ entityType: 'ip', entityName: name });
const set = (key: string, value: number) => ({ key, value, remove: false });
const remove = (key: string) => ({ key, value: 0, remove: true });

let broker: TestBroker | undefined;
let conn: TestClient | undefined;
/** Directories of restarted brokers: a broker given its directory leaves it behind. */
const restartedDirs: string[] = [];
afterEach(async () => {
  conn?.close();
  conn = undefined;
  await broker?.close();
  broker = undefined;
  for (const d of restartedDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dataDir?: string): Promise<TestClient> {
  conn?.close();
  if (broker && dataDir) await broker.broker.close();
  if (dataDir) restartedDirs.push(dataDir);
  broker = await startTestBroker({}, dataDir);
  conn = await TestClient.connect(broker.port);
  return conn;
}

const alter = (
  c: TestClient,
  entries: { entity: Entity; ops: ReturnType<typeof set>[] }[],
  validateOnly = false,
  v = 1,
) => c.request<AlterClientQuotasResponseData>(49, v, { entries, validateOnly });

const describeQuotas = (
  c: TestClient,
  components: { entityType: string; matchType: number; match: string | null }[],
  strict = false,
  v = 1,
) => c.request<DescribeClientQuotasResponseData>(48, v, { components, strict });

/** Entries as `type=name,...` → values, sorted: order-free comparisons. */
const view = (r: DescribeClientQuotasResponseData) =>
  Object.fromEntries(
    (r.entries ?? [])
      .map((e) => [
        e.entity
          .map((d) => `${d.entityType}=${d.entityName ?? '<default>'}`)
          .sort()
          .join(','),
        Object.fromEntries(e.values.map((v) => [v.key, v.value])),
      ])
      .sort(),
  );

describe('client quotas (KIP-546)', () => {
  it('sets, describes with Kafka filters, removes, and keeps them across a restart', async () => {
    const c = await start();
    const r = await alter(c, [
      { entity: [user('alice')], ops: [set('producer_byte_rate', 100000), set('consumer_byte_rate', 2e6)] },
      { entity: [user(null)], ops: [set('producer_byte_rate', 50000)] },
      { entity: [user('alice'), client('app')], ops: [set('request_percentage', 12.5)] },
      { entity: [client('app')], ops: [set('producer_byte_rate', 1024)] },
      { entity: [client(null)], ops: [set('controller_mutation_rate', 10)] },
      { entity: [ip('127.0.0.1')], ops: [set('connection_creation_rate', 5)] },
      { entity: [ip(null)], ops: [set('connection_creation_rate', 50)] },
    ]);
    expect(r.entries.map((e) => e.errorCode)).toEqual([0, 0, 0, 0, 0, 0, 0]);

    // Everything: no component, not strict.
    expect(view(await describeQuotas(c, []))).toEqual({
      'client-id=<default>': { controller_mutation_rate: 10 },
      'client-id=app': { producer_byte_rate: 1024 },
      'client-id=app,user=alice': { request_percentage: 12.5 },
      'ip=127.0.0.1': { connection_creation_rate: 5 },
      'ip=<default>': { connection_creation_rate: 50 },
      'user=<default>': { producer_byte_rate: 50000 },
      'user=alice': { consumer_byte_rate: 2e6, producer_byte_rate: 100000 },
    });
    // kafka-configs --describe --entity-type users --entity-name alice: exact, strict.
    expect(
      view(await describeQuotas(c, [{ entityType: 'user', matchType: 0, match: 'alice' }], true)),
    ).toEqual({
      'user=alice': { consumer_byte_rate: 2e6, producer_byte_rate: 100000 },
    });
    // Not strict: alice's entities with other types too.
    expect(
      Object.keys(view(await describeQuotas(c, [{ entityType: 'user', matchType: 0, match: 'alice' }]))),
    ).toEqual(['client-id=app,user=alice', 'user=alice']);
    // The default user.
    expect(view(await describeQuotas(c, [{ entityType: 'user', matchType: 1, match: null }], true))).toEqual({
      'user=<default>': { producer_byte_rate: 50000 },
    });
    // Any user, strict (kafka-configs --describe --entity-type users).
    expect(
      Object.keys(view(await describeQuotas(c, [{ entityType: 'user', matchType: 2, match: null }], true))),
    ).toEqual(['user=<default>', 'user=alice']);
    // Any client id of user alice.
    expect(
      Object.keys(
        view(
          await describeQuotas(
            c,
            [
              { entityType: 'user', matchType: 0, match: 'alice' },
              { entityType: 'client-id', matchType: 2, match: null },
            ],
            true,
          ),
        ),
      ),
    ).toEqual(['client-id=app,user=alice']);
    // v0 (not flexible) reads the same.
    expect(
      Object.keys(view(await describeQuotas(c, [{ entityType: 'ip', matchType: 2, match: null }], true, 0))),
    ).toEqual(['ip=127.0.0.1', 'ip=<default>']);

    // Removing a key; an entity whose last key goes leaves.
    const removed = await alter(c, [
      { entity: [user('alice')], ops: [remove('consumer_byte_rate')] },
      { entity: [client('app')], ops: [remove('producer_byte_rate')] },
      // Removing what is not set is fine (nothing written).
      { entity: [user('nobody')], ops: [remove('producer_byte_rate')] },
    ]);
    expect(removed.entries.map((e) => e.errorCode)).toEqual([0, 0, 0]);
    const after = view(await describeQuotas(c, []));
    expect(after['user=alice']).toEqual({ producer_byte_rate: 100000 });
    expect(after['client-id=app']).toBeUndefined();
    expect(after['user=nobody']).toBeUndefined();

    // A restart loads them from the metadata log.
    const dir = broker!.dataDir;
    const before = view(await describeQuotas(c, []));
    const again = await start(dir);
    expect(view(await describeQuotas(again, []))).toEqual(before);
  });

  it('validate_only checks without writing', async () => {
    const c = await start();
    const r = await alter(c, [{ entity: [user('bob')], ops: [set('producer_byte_rate', 1000)] }], true);
    expect(r.entries).toEqual([{ errorCode: 0, errorMessage: null, entity: [user('bob')] }]);
    expect((await describeQuotas(c, [])).entries).toEqual([]);
    const bad = await alter(c, [{ entity: [user('bob')], ops: [set('producer_byte_rate', -1)] }], true);
    expect(bad.entries[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it("refuses what Kafka's ClientQuotaControlManager refuses, entity by entity", async () => {
    const c = await start();
    const cases: [Entity, ReturnType<typeof set>[], string][] = [
      [[], [set('producer_byte_rate', 1)], 'Invalid empty client quota entity'],
      [
        [{ entityType: 'group', entityName: 'g' }],
        [set('producer_byte_rate', 1)],
        'Unhandled client quota entity type: group',
      ],
      [[user('')], [set('producer_byte_rate', 1)], 'Empty user not supported'],
      [[user('a1'), ip('127.0.0.1')], [set('producer_byte_rate', 1)], 'IP entity should not be combined'],
      [
        [ip('no-such-host.invalid')],
        [set('connection_creation_rate', 1)],
        'is not a valid IP or resolvable host',
      ],
      [
        [user('a2')],
        [set('connection_creation_rate', 1)],
        'Invalid configuration key connection_creation_rate',
      ],
      [[ip('10.0.0.1')], [set('producer_byte_rate', 1)], 'Invalid configuration key producer_byte_rate'],
      [[user('a3')], [set('producer_byte_rate', 0)], 'must be greater than 0'],
      [[user('a4')], [set('producer_byte_rate', 1.5)], 'cannot be a fractional value'],
      [[ip('10.0.0.2')], [set('connection_creation_rate', 2 ** 31)], 'too large for an INT'],
      [[user('a5')], [set('producer_byte_rate', 1), set('producer_byte_rate', 2)], 'Duplicate quota key'],
    ];
    const r = await alter(
      c,
      cases.map(([entity, ops]) => ({ entity, ops })),
    );
    expect(r.entries).toHaveLength(cases.length);
    r.entries.forEach((e, i) => {
      expect(e.errorCode, cases[i]![2]).toBe(ErrorCode.INVALID_REQUEST);
      expect(e.errorMessage).toContain(cases[i]![2]);
    });
    // Nothing of a refused entity is written; an accepted one beside it is.
    const mixed = await alter(c, [
      { entity: [user('ok')], ops: [set('producer_byte_rate', 10)] },
      { entity: [user('bad')], ops: [set('producer_byte_rate', 10), set('nope', 1)] },
    ]);
    expect(mixed.entries.map((e) => e.errorCode)).toEqual([0, ErrorCode.INVALID_REQUEST]);
    expect(Object.keys(view(await describeQuotas(c, [])))).toEqual(['user=ok']);
    // The same entity twice (types in another order) is refused.
    const twice = await alter(c, [
      { entity: [user('u'), client('c')], ops: [set('producer_byte_rate', 10)] },
      { entity: [client('c'), user('u')], ops: [set('producer_byte_rate', 20)] },
    ]);
    expect(twice.entries).toHaveLength(1);
    expect(twice.entries[0]!.errorMessage).toContain('Ignoring duplicate entity');
    expect(Object.keys(view(await describeQuotas(c, [])))).toEqual(['user=ok']);
  });

  it('refuses bad describe filters as Kafka does', async () => {
    const c = await start();
    const bad = async (components: { entityType: string; matchType: number; match: string | null }[]) => {
      const r = await describeQuotas(c, components);
      return [r.errorCode, r.errorMessage, r.entries];
    };
    expect(await bad([{ entityType: '', matchType: 2, match: null }])).toEqual([
      ErrorCode.INVALID_REQUEST,
      'Invalid empty entity type.',
      null,
    ]);
    expect((await bad([{ entityType: 'topic', matchType: 2, match: null }]))[0]).toBe(
      ErrorCode.UNSUPPORTED_VERSION,
    );
    expect((await bad([{ entityType: 'user', matchType: 0, match: null }]))[0]).toBe(
      ErrorCode.INVALID_REQUEST,
    );
    expect((await bad([{ entityType: 'user', matchType: 1, match: 'x' }]))[0]).toBe(
      ErrorCode.INVALID_REQUEST,
    );
    expect((await bad([{ entityType: 'user', matchType: 2, match: 'x' }]))[0]).toBe(
      ErrorCode.INVALID_REQUEST,
    );
    expect((await bad([{ entityType: 'user', matchType: 7, match: null }]))[0]).toBe(
      ErrorCode.INVALID_REQUEST,
    );
    expect(
      (
        await bad([
          { entityType: 'user', matchType: 2, match: null },
          { entityType: 'user', matchType: 1, match: null },
        ])
      )[1],
    ).toBe('Entity type user cannot appear more than once in the filter.');
    expect(
      (
        await bad([
          { entityType: 'ip', matchType: 2, match: null },
          { entityType: 'client-id', matchType: 2, match: null },
        ])
      )[0],
    ).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('asks the authorizer: DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster', async () => {
    const denyAll: Authorizer = { authorize: () => false, authorizeByResourceType: () => false };
    const ctx = fakeContext({ apiVersion: 1, authorizer: denyAll });
    const d = await callHandler(describeClientQuotasHandler, ctx, { components: [], strict: false });
    expect(d).toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, entries: null });
    const a = await callHandler(alterClientQuotasHandler, ctx, {
      entries: [{ entity: [user('x')], ops: [set('producer_byte_rate', 1)] }],
      validateOnly: false,
    });
    expect(a).toMatchObject({
      entries: [{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, entity: [user('x')] }],
    });
  });
});
