import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, etcdBinary, startCuttableProxy, startEtcd } from '../../test-support/etcd.js';
import { until } from '../../test-support/until.js';
import { EtcdClient, EtcdError, EtcdUnavailableError, prefixEnd, type WatchEvent } from './client.js';

describe('prefixEnd', () => {
  it('is the first key after every key with the prefix', () => {
    expect(prefixEnd('/kbroker/brokers/')).toBe('/kbroker/brokers0');
    expect(prefixEnd('a~\x7f')).toBe('a\x7f');
    expect(() => prefixEnd('é')).toThrow(/ASCII/);
  });
});

describe.skipIf(!etcdBinary)('EtcdClient against a real etcd', () => {
  let etcd: EtcdServer;
  let client: EtcdClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: etcd.endpoints });
  });

  afterAll(async () => {
    client?.close();
    await etcd?.stop();
    if (etcd) expect(existsSync(etcd.dataDir)).toBe(false);
  });

  it('puts, ranges by prefix in key order, at a past revision, and counts', async () => {
    const r1 = await client.put('/t/range/b', 'two');
    await client.put('/t/range/a', 'one');
    await client.put('/t/range/c', Buffer.from([0, 1, 2, 255]));
    const all = await client.range('/t/range/', { prefix: true });
    expect(all.kvs.map((kv) => kv.key)).toEqual(['/t/range/a', '/t/range/b', '/t/range/c']);
    expect(all.kvs[0]!.value.toString()).toBe('one');
    expect([...all.kvs[2]!.value]).toEqual([0, 1, 2, 255]);
    const past = await client.range('/t/range/', { prefix: true, revision: r1 });
    expect(past.kvs.map((kv) => kv.key)).toEqual(['/t/range/b']);
    const last = await client.range('/t/range/', { prefix: true, sortOrder: 'DESCEND', limit: 1 });
    expect(last.kvs.map((kv) => kv.key)).toEqual(['/t/range/c']);
    expect(last.more).toBe(true);
    expect(last.count).toBe(3);
  });

  it('runs a transaction only when its compares hold', async () => {
    const created = await client.txn(
      [{ key: '/t/txn/k', target: 'CREATE', createRevision: 0 }],
      [{ put: { key: '/t/txn/k', value: 'first' } }],
    );
    expect(created.succeeded).toBe(true);
    const again = await client.txn(
      [{ key: '/t/txn/k', target: 'CREATE', createRevision: 0 }],
      [{ put: { key: '/t/txn/k', value: 'second' } }],
      [{ range: { key: '/t/txn/k' } }],
    );
    expect(again.succeeded).toBe(false);
    expect(again.responses[0]![0]!.value.toString()).toBe('first');
    expect(again.responses[0]![0]!.createRevision).toBe(created.revision);
    const byValue = await client.txn(
      [{ key: '/t/txn/k', target: 'VALUE', value: 'first' }],
      [{ put: { key: '/t/txn/k', value: 'third' } }],
    );
    expect(byValue.succeeded).toBe(true);
    expect((await client.get('/t/txn/k'))!.value.toString()).toBe('third');
  });

  it('drops a lease’s keys when it is revoked and when it expires, and says so on keep-alive', async () => {
    const revoked = await client.leaseGrant(30);
    await client.put('/t/lease/revoked', 'x', revoked.id);
    expect(await client.leaseKeepAlive(revoked.id)).toBeGreaterThan(0);
    await client.leaseRevoke(revoked.id);
    expect(await client.get('/t/lease/revoked')).toBeUndefined();
    await client.leaseRevoke(revoked.id); // unknown lease: no error

    const short = await client.leaseGrant(1);
    await client.put('/t/lease/expiring', 'x', short.id);
    await until(
      async () => (await client.get('/t/lease/expiring')) === undefined,
      10_000,
      'the lease to expire',
    );
    expect(await client.leaseKeepAlive(short.id)).toBe(0);
    await expect(client.put('/t/lease/late', 'x', short.id)).rejects.toBeInstanceOf(EtcdError);
  });

  it('watches from a revision, and reports a start revision that was compacted away', async () => {
    const start = await client.put('/t/watch/a', '1');
    await client.put('/t/watch/b', '2');
    await client.deleteRange('/t/watch/a');
    const seen: WatchEvent[] = [];
    const w = client.watch(
      '/t/watch/',
      { prefix: true, startRevision: start },
      {
        onEvents: (events) => seen.push(...events),
        onCompacted: () => {},
        onError: () => {},
      },
    );
    await client.put('/t/watch/c', '3');
    await until(
      () => seen.length === 4,
      10_000,
      () => `4 events, got ${JSON.stringify(seen)}`,
    );
    expect(seen.map((e) => `${e.type} ${e.kv.key}`)).toEqual([
      'PUT /t/watch/a',
      'PUT /t/watch/b',
      'DELETE /t/watch/a',
      'PUT /t/watch/c',
    ]);
    w.cancel();

    const now = await client.put('/t/watch/d', '4');
    await client.compact(now);
    let compactedAt = 0;
    client.watch(
      '/t/watch/',
      { prefix: true, startRevision: start },
      { onEvents: () => {}, onCompacted: (rev) => (compactedAt = rev), onError: () => {} },
    );
    await until(() => compactedAt > 0, 10_000, 'the compacted watch to end');
    expect(compactedAt).toBe(now);
    await expect(client.range('/t/watch/', { prefix: true, revision: start })).rejects.toMatchObject({
      grpcCode: 11,
    });
  });

  it('ends a watch whose connection breaks, and fails over to the next endpoint', async () => {
    const proxy = await startCuttableProxy(etcd.endpoints[0]!);
    const viaProxy = new EtcdClient({ endpoints: [proxy.endpoint] });
    try {
      let failure: Error | undefined;
      viaProxy.watch(
        '/t/cut/',
        { prefix: true },
        {
          onEvents: () => {},
          onCompacted: () => {},
          onError: (err) => (failure = err),
        },
      );
      await new Promise((r) => setTimeout(r, 100)); // the watch request reaches etcd
      proxy.cut();
      await until(() => failure !== undefined, 10_000, 'the watch to fail');
      expect(failure).toBeInstanceOf(EtcdUnavailableError);
      await expect(viaProxy.get('/t/cut/x')).rejects.toBeInstanceOf(EtcdUnavailableError);
      // A transaction whose answer was lost may have been applied: not retried elsewhere.
      const twoEndpoints = new EtcdClient({ endpoints: [proxy.endpoint, etcd.endpoints[0]!] });
      await expect(twoEndpoints.put('/t/cut/x', 'y')).rejects.toMatchObject({ maybeApplied: true });
      // Reads are retried on the next endpoint.
      expect(await twoEndpoints.get('/t/cut/x')).toBeUndefined();
      twoEndpoints.close();
    } finally {
      viaProxy.close();
      await proxy.close();
    }
    // An endpoint that refuses connections was never sent anything: everything moves on.
    // (The proxy is closed now: its port refuses.)
    const refused = new EtcdClient({ endpoints: [proxy.endpoint, etcd.endpoints[0]!] });
    await refused.put('/t/cut/x', 'y');
    expect((await refused.get('/t/cut/x'))!.value.toString()).toBe('y');
    refused.close();
  });

  it('ends a watch whose connection went silent, by its progress requests', async () => {
    const proxy = await startCuttableProxy(etcd.endpoints[0]!);
    const viaProxy = new EtcdClient({ endpoints: [proxy.endpoint], watchProgressIntervalMs: 100 });
    try {
      const seen: string[] = [];
      let failure: Error | undefined;
      viaProxy.watch(
        '/t/silent/',
        { prefix: true },
        {
          onEvents: (events) => seen.push(...events.map((e) => e.kv.key)),
          onCompacted: () => {},
          onError: (err) => (failure = err),
        },
      );
      // Alive: it sees a put, and keeps going across many progress intervals.
      await until(
        async () => {
          await client.put('/t/silent/a', '1');
          return seen.length > 0;
        },
        10_000,
        'the watch to see a put',
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(failure).toBeUndefined();
      proxy.freeze();
      const frozenAt = performance.now();
      await until(() => failure !== undefined, 10_000, 'the silent watch to fail');
      expect(failure!.message).toMatch(/no answer/);
      expect(performance.now() - frozenAt).toBeLessThan(2_000);
    } finally {
      viaProxy.close();
      await proxy.close();
    }
  });
});
