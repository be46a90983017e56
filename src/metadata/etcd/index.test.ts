import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, etcdBinary, startEtcd } from '../../test-support/etcd.js';
import { until } from '../../test-support/until.js';
import { EtcdClusterMetadata, parseEtcdConnect } from './index.js';

describe('parseEtcdConnect', () => {
  it('reads hosts and a root as zookeeper.connect does', () => {
    expect(parseEtcdConnect('etcd1:2379,etcd2:2379,etcd3:2379/kbroker/prod')).toEqual({
      endpoints: ['http://etcd1:2379', 'http://etcd2:2379', 'http://etcd3:2379'],
      root: '/kbroker/prod/',
    });
    expect(parseEtcdConnect('127.0.0.1:2379')).toEqual({
      endpoints: ['http://127.0.0.1:2379'],
      root: '/kbroker/',
    });
    expect(parseEtcdConnect('http://a:1, http://b:2/c/')).toEqual({
      endpoints: ['http://a:1', 'http://b:2'],
      root: '/c/',
    });
    expect(parseEtcdConnect('[::1]:2379').endpoints).toEqual(['http://[::1]:2379']);
  });

  it('rejects what is not host:port, https, and the bare root', () => {
    expect(() => parseEtcdConnect('')).toThrow(RangeError);
    expect(() => parseEtcdConnect('etcd1')).toThrow(/host:port/);
    expect(() => parseEtcdConnect('etcd1:0')).toThrow(/host:port/);
    expect(() => parseEtcdConnect('etcd1:99999')).toThrow(/host:port/);
    expect(() => parseEtcdConnect('https://etcd1:2379')).toThrow(/http:\/\//);
    expect(() => parseEtcdConnect('a:1, https://etcd1:2379')).toThrow(/http:\/\//);
    expect(() => parseEtcdConnect('etcd1:2379/')).toThrow(/root/);
    expect(() => parseEtcdConnect('etcd1:2379/é')).toThrow(/ASCII/);
  });
});

describe.skipIf(!etcdBinary)('EtcdClusterMetadata', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('wires the log, the election and the registry on one connect string', async () => {
    const connect = `${etcd.endpoints.map((e) => e.replace('http://', '')).join(',')}/test/${randomUUID()}`;
    const controller = new EtcdClusterMetadata({ connect, sessionTimeoutMs: 5_000 });
    const broker = new EtcdClusterMetadata({ connect, sessionTimeoutMs: 5_000 });
    try {
      const session = await broker.registry.register({
        brokerId: 3,
        rack: 'r1',
        endpoints: [{ name: 'PLAINTEXT', host: 'b3', port: 9092, securityProtocol: 'PLAINTEXT' }],
        incarnationId: randomUUID(),
      });
      const seen: number[] = [];
      const follow = broker.log.follow(0, {
        handleLoadSnapshot: () => {},
        handleCommit: (b) => seen.push(b.baseOffset),
      });
      const election = controller.election(1);
      const leadership = await election.campaign();
      expect((await controller.registry.registeredBrokers()).map((b) => [b.brokerId, b.rack])).toEqual([
        [3, 'r1'],
      ]);
      await controller.log.append(leadership, 0, [
        {
          type: 'RegisterBrokerRecord',
          brokerId: 3,
          brokerEpoch: session.broker.brokerEpoch,
          rack: 'r1',
          endpoints: [],
          fenced: true,
        },
      ]);
      await until(() => seen.length === 1, 10_000, 'the broker to see the batch');
      expect(seen).toEqual([0]);
      follow.close();
      await session.close();
      await election.close();
      expect(leadership.isActive()).toBe(false);
    } finally {
      controller.close();
      broker.close();
    }
  });
});
