import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConfig } from '../../config/broker-config.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { type EtcdServer, etcdBinary, etcdMissingMessage, startEtcd } from '../../test-support/etcd.js';
import { until } from '../../test-support/until.js';
import type { CreatableTopic } from '../controller.js';
import { createDelegationToken, renewDelegationToken } from '../delegation-token-control.js';
import { EtcdController } from './etcd-controller.js';

const endpoint = (port: number) => [
  { name: 'PLAINTEXT', host: '127.0.0.1', port, securityProtocol: 'PLAINTEXT' },
];

const rf = (name: string, replicationFactor: number, numPartitions = 2): CreatableTopic => ({
  name,
  numPartitions,
  replicationFactor,
  assignments: [],
  configs: [],
});

if (!etcdBinary) console.warn(etcdMissingMessage);

describe.skipIf(!etcdBinary)('EtcdController against a real etcd', () => {
  let etcd: EtcdServer;
  const dirs: string[] = [];
  const controllers: EtcdController[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
  });

  afterAll(async () => {
    for (const c of controllers) await c.closeAndWait();
    await etcd?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A broker's controller in the cluster under `root` (no broker around it: the metadata only). */
  const open = async (root: string, nodeId: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-etcd-controller-'));
    dirs.push(dir);
    const config = new BrokerConfig({
      'node.id': String(nodeId),
      'log.dirs': dir,
      'broker.session.timeout.ms': '1000',
    });
    const c = await EtcdController.open({
      nodeId,
      config,
      connect: `${etcd.endpoints.map((e) => e.replace('http://', '')).join(',')}${root}`,
    });
    controllers.push(c);
    return c;
  };

  it('every broker sees every change; a change checked against a stale image is checked again', async () => {
    const root = `/test/${randomUUID()}/`;
    const [a, b, c] = await Promise.all([open(root, 1), open(root, 2), open(root, 3)]);
    for (const [i, x] of [a, b, c].entries()) {
      await x.registerBroker(i + 1, endpoint(9091 + i), null, true);
      await x.unfenceBroker(i + 1);
    }
    await until(
      () => [a, b, c].every((x) => x.image.liveBrokers().length === 3),
      10_000,
      'three live brokers',
    );
    // The same topic asked of two brokers at once: one creates it, the other, checking again
    // against the image that has it, answers TOPIC_ALREADY_EXISTS.
    const [ra, rb] = await Promise.all([
      a.createTopics([rf('orders', 3)], false),
      b.createTopics([rf('orders', 3)], false),
    ]);
    expect([ra[0]!.errorCode, rb[0]!.errorCode].sort()).toEqual([
      ErrorCode.NONE,
      ErrorCode.TOPIC_ALREADY_EXISTS,
    ]);
    // Many changes from all three at once: every one lands, each once.
    await Promise.all(
      [a, b, c].flatMap((x, i) =>
        Array.from({ length: 5 }, (_, j) => x.createTopic(`t-${i}-${j}`, 1, {}, 3)),
      ),
    );
    await until(() => [a, b, c].every((x) => x.image.topics().length === 16), 10_000, '16 topics everywhere');
    const described = (x: EtcdController) => JSON.stringify(x.image.toRecords());
    expect(described(b)).toBe(described(a));
    expect(described(c)).toBe(described(a));
    expect(
      a.image.topic('orders')!.partitions.every((p) => p.replicas.length === 3 && p.isr.length === 3),
    ).toBe(true);
    // A late broker loads it all from etcd.
    const d = await open(root, 4);
    expect(described(d)).toBe(described(a));
  });

  it('client quotas (AlterClientQuotas) written through one broker are in every broker’s image', async () => {
    const root = `/test/${randomUUID()}/`;
    const [a, b] = await Promise.all([open(root, 1), open(root, 2)]);
    const [result] = await a.alterClientQuotas(
      [
        {
          entity: [{ entityType: 'user', entityName: 'alice' }],
          ops: [{ key: 'producer_byte_rate', value: 1024 }],
        },
      ],
      false,
    );
    expect(result!.errorCode).toBe(ErrorCode.NONE);
    await until(
      () => b.image.clientQuotas.quotas({ user: 'alice' })?.get('producer_byte_rate') === 1024,
      10_000,
      'the quota on broker 2',
    );
    // Checked against the image it is written over: removing it through broker 2.
    await b.alterClientQuotas(
      [
        {
          entity: [{ entityType: 'user', entityName: 'alice' }],
          ops: [{ key: 'producer_byte_rate', value: null }],
        },
      ],
      false,
    );
    await until(() => a.image.clientQuotas.isEmpty(), 10_000, 'the quota gone on broker 1');
  });

  it('delegation tokens created through one broker are in every broker’s image; renewed through another', async () => {
    const root = `/test/${randomUUID()}/`;
    const [a, b] = await Promise.all([open(root, 1), open(root, 2)]);
    const config = { secretKey: 'secret', maxLifetimeMs: 10_000, expiryTimeMs: 5000 };
    const created = await a.changeDelegationTokens(() =>
      createDelegationToken(
        config,
        { owner: 'User:alice', requester: 'User:alice', renewers: [], maxLifetimeMs: -1 },
        1000,
      ),
    );
    const tokenId = created.token!.tokenId;
    await until(() => b.image.delegationTokens.token(tokenId) !== undefined, 10_000, 'the token on broker 2');
    // Checked against broker 2's image: found by its HMAC, renewed, and the change reaches broker 1.
    const renewed = await b.changeDelegationTokens((tokens) =>
      renewDelegationToken(tokens, config, created.hmac!, -1, 'User:alice', 2000),
    );
    expect(renewed).toEqual({ error: 'NONE', expiryTimestamp: 7000 });
    await until(
      () => a.image.delegationTokens.token(tokenId)?.expirationTimestamp === 7000,
      10_000,
      'the renewal on broker 1',
    );
  });

  it('the elected controller fences a broker whose etcd lease expired; leadership moves within the ISR', async () => {
    const root = `/test/${randomUUID()}/`;
    const [a, b, c] = await Promise.all([open(root, 1), open(root, 2), open(root, 3)]);
    for (const [i, x] of [a, b, c].entries()) {
      await x.registerBroker(i + 1, endpoint(9091 + i), null, true);
      await x.unfenceBroker(i + 1);
    }
    await until(() => a.image.liveBrokers().length === 3, 10_000, 'three live brokers');
    await a.createTopics(
      [
        {
          name: 'led-by-2',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [2, 3, 1] }],
          configs: [],
        },
      ],
      false,
    );
    await until(() => a.image.topic('led-by-2') !== undefined);
    expect(a.image.topic('led-by-2')!.partitions[0]).toMatchObject({ leader: 2, leaderEpoch: 0 });
    // Broker 2 dies (its process is gone: no renewal, no revocation).
    b.shared.close();
    await until(() => a.image.brokers.get(2)?.fenced === true, 15_000, 'broker 2 fenced');
    const p = a.image.topic('led-by-2')!.partitions[0]!;
    expect(p.leader).toBe(3);
    expect(p.leaderEpoch).toBe(1);
    expect(p.isr).toEqual([3, 1]);
    // Broker 3 watches the same etcd keys, but its watch may deliver the change a moment after broker 1's.
    await until(
      () => c.image.topic('led-by-2')!.partitions[0]!.partitionEpoch === p.partitionEpoch,
      10_000,
      'the new leader in broker 3’s image',
    );
    expect(c.image.topic('led-by-2')!.partitions[0]).toEqual(p);
  });
});
