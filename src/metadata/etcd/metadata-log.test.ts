import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../../common/time.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import { type EtcdServer, etcdBinary, startCuttableProxy, startEtcd } from '../../test-support/etcd.js';
import { until } from '../../test-support/until.js';
import { MetadataImage } from '../image.js';
import type { MetadataRecord } from '../records.js';
import { EtcdClient } from './client.js';
import { EtcdControllerElection } from './election.js';
import { ExtraCompareFailedError, SnapshotRequiredError, UnexpectedBaseOffsetError } from './errors.js';
import type { MetadataBatch, MetadataSnapshot } from './interfaces.js';
import { EtcdLayout } from './layout.js';
import { EtcdMetadataLog } from './metadata-log.js';

/** A topic with `partitions` partitions led by broker 1: 1 + partitions records. */
function topic(name: string, partitions = 2): MetadataRecord[] {
  const topicId = randomUUID();
  return [
    { type: 'TopicRecord', name, topicId },
    ...Array.from({ length: partitions }, (_, partitionId) => ({
      type: 'PartitionRecord' as const,
      topicId,
      partitionId,
      replicas: [1],
      isr: [1],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    })),
  ];
}

const described = (image: MetadataImage): string =>
  JSON.stringify({ offset: image.offset, topics: image.topics(), brokers: [...image.brokers.values()] });

/** A broker's view: applies what it follows to its image, recording what it was given. */
class Follower {
  image = MetadataImage.EMPTY;
  batches: MetadataBatch[] = [];
  snapshots: MetadataSnapshot[] = [];
  errors: Error[] = [];

  readonly listener = {
    handleLoadSnapshot: (s: MetadataSnapshot) => {
      this.snapshots.push(s);
      this.image = MetadataImage.EMPTY.apply(s.records).image;
      expect(this.image.offset).toBe(s.offset);
    },
    handleCommit: (b: MetadataBatch) => {
      expect(b.baseOffset).toBe(this.image.offset);
      this.batches.push(b);
      this.image = this.image.apply(b.records).image;
    },
    handleError: (err: Error) => {
      this.errors.push(err);
    },
  };
}

describe.skipIf(!etcdBinary)('EtcdMetadataLog against a real etcd', () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: etcd.endpoints });
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    client?.close();
    await etcd?.stop();
  });

  const setup = (options: { compactHistory?: boolean } = {}) => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const log = new EtcdMetadataLog(client, layout, { retryBackoffMs: 50, ...options });
    const election = (nodeId: number, extra: { time?: MockTime; sessionTimeoutMs?: number } = {}) => {
      const e = new EtcdControllerElection(client, layout, {
        nodeId,
        sessionTimeoutMs: extra.sessionTimeoutMs ?? 10_000,
        retryBackoffMs: 50,
        ...(extra.time ? { time: extra.time } : {}),
      });
      closers.push(() => e.close());
      return e;
    };
    return { layout, log, election };
  };

  it('appends batches in order at the offset the controller expects, and reads them back', async () => {
    const { log, election } = setup();
    const leader = await election(1).campaign();
    expect(leader.epoch).toBe(1);
    expect(await log.endOffset()).toBe(0);
    expect(await log.append(leader, 0, topic('a', 2))).toEqual({ baseOffset: 0, endOffset: 3 });
    expect(await log.append(leader, 3, topic('b', 1))).toEqual({ baseOffset: 3, endOffset: 5 });
    expect(await log.append(leader, 5, topic('c', 3))).toEqual({ baseOffset: 5, endOffset: 9 });
    expect(await log.endOffset()).toBe(9);

    // A stale end offset: rejected, nothing written.
    const stale = log.append(leader, 5, topic('d'));
    await expect(stale).rejects.toBeInstanceOf(UnexpectedBaseOffsetError);
    await expect(stale).rejects.toMatchObject({ endOffset: 9 });
    expect(await log.endOffset()).toBe(9);

    const all = await log.read(0);
    expect(all.map((b) => [b.baseOffset, b.records.length, b.controllerEpoch])).toEqual([
      [0, 3, 1],
      [3, 2, 1],
      [5, 4, 1],
    ]);
    const image = MetadataImage.EMPTY.apply(all.flatMap((b) => b.records)).image;
    expect(image.topics().map((t) => `${t.name}:${t.partitions.length}`)).toEqual(['a:2', 'b:1', 'c:3']);

    // From inside a batch: its tail first.
    const fromMiddle = await log.read(4, 2);
    expect(fromMiddle.map((b) => [b.baseOffset, b.records.length])).toEqual([
      [4, 1],
      [5, 4],
    ]);
    expect(fromMiddle[0]!.records[0]).toEqual(all[1]!.records[1]);
    expect(await log.read(9)).toEqual([]);
    await expect(log.append(leader, 9, [])).rejects.toThrow(/at least one record/);
  });

  it('brokers append compared on the log end only; an extra compare that fails writes nothing', async () => {
    const { log, election, layout } = setup();
    // Two brokers racing at the same offset: one lands, the other learns where the log ends.
    const results = await Promise.allSettled([
      log.appendAsBroker(0, topic('x')),
      log.appendAsBroker(0, topic('y')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(UnexpectedBaseOffsetError);
    expect(refused.reason).toMatchObject({ endOffset: 3 });
    const [batch] = await log.read(0);
    expect(batch!.controllerEpoch).toBe(-1);
    // The controller fencing a broker only while its registration key is absent.
    const leader = await election(1).campaign();
    const brokerKey = layout.brokerKey(7);
    const absent = { key: brokerKey, target: 'CREATE' as const, createRevision: 0 };
    expect(await log.append(leader, 3, topic('z', 1), [absent])).toEqual({ baseOffset: 3, endOffset: 5 });
    await client.put(brokerKey, 'registered');
    await expect(log.append(leader, 5, topic('w', 1), [absent])).rejects.toBeInstanceOf(
      ExtraCompareFailedError,
    );
    expect(await log.endOffset()).toBe(5);
  });

  it('rejects the appends of a deposed controller that does not know it yet (its compare fails in etcd)', async () => {
    const { log, election } = setup();
    // Controller 1 is paused, as in a long GC: its clock does not move, so it never renews its
    // session and never notices it ended.
    const paused = new MockTime();
    const old = await election(1, { time: paused, sessionTimeoutMs: 1_000 }).campaign();
    await log.append(old, 0, topic('before'));
    const next = await election(2).campaign(); // waits for 1's session to expire in etcd
    expect(next.epoch).toBe(old.epoch + 1);
    expect(old.isActive()).toBe(true); // it still believes it leads

    const rejected = log.append(old, 3, topic('zombie'));
    await expect(rejected).rejects.toBeInstanceOf(KafkaError);
    await expect(rejected).rejects.toMatchObject({ error: 'NOT_CONTROLLER' });
    await expect(log.writeSnapshot(old, { offset: 3, records: [] })).rejects.toMatchObject({
      error: 'NOT_CONTROLLER',
    });
    expect(await log.endOffset()).toBe(3);
    expect(await log.startOffset()).toBe(0);

    await log.append(next, 3, topic('after'));
    const batches = await log.read(0);
    expect(batches.map((b) => b.controllerEpoch)).toEqual([old.epoch, next.epoch]);
    expect(
      batches
        .flatMap((b) => b.records)
        .filter((r) => r.type === 'TopicRecord')
        .map((r) => r.name),
    ).toEqual(['before', 'after']);
  });

  it('a follower gets every batch once and in order, also those appended while its connection was cut', async () => {
    const { log, election, layout } = setup();
    const leader = await election(1).campaign();
    const proxy = await startCuttableProxy(etcd.endpoints[0]!);
    const followerClient = new EtcdClient({ endpoints: [proxy.endpoint], requestTimeoutMs: 2_000 });
    closers.push(
      () => proxy.close(),
      () => followerClient.close(),
    );
    const follower = new Follower();
    const sub = new EtcdMetadataLog(followerClient, layout, { retryBackoffMs: 50 }).follow(
      0,
      follower.listener,
    );
    closers.push(() => sub.close());

    let end = 0;
    const controllerImage = () => MetadataImage.EMPTY.apply([]).image;
    const appended: MetadataRecord[] = [];
    const append = async (records: MetadataRecord[]) => {
      end = (await log.append(leader, end, records)).endOffset;
      appended.push(...records);
    };
    await append(topic('t0'));
    await append(topic('t1', 3));
    await until(
      () => follower.image.offset === end,
      10_000,
      () => `follower at ${follower.image.offset}, log at ${end}`,
    );

    proxy.cut();
    await until(() => follower.errors.length > 0, 10_000, 'the follower to lose its connection');
    for (let i = 2; i < 7; i++) await append(topic(`t${i}`, (i % 3) + 1));
    expect(follower.image.offset).toBeLessThan(end);
    proxy.restore();
    await until(
      () => follower.image.offset === end,
      15_000,
      () => `follower at ${follower.image.offset}, log at ${end}`,
    );
    // More after the reconnect, through the new watch.
    await append(topic('t7'));
    await until(
      () => follower.image.offset === end,
      10_000,
      () => `follower at ${follower.image.offset}, log at ${end}`,
    );

    // Exactly once, in order: batch bases follow on one another from 0 (handleCommit checked each).
    let next = 0;
    for (const b of follower.batches) {
      expect(b.baseOffset).toBe(next);
      next += b.records.length;
    }
    expect(next).toBe(end);
    expect(follower.batches.flatMap((b) => b.records)).toEqual(appended);
    expect(described(follower.image)).toBe(described(controllerImage().apply(appended).image));
    expect(follower.snapshots).toEqual([]);

    // A closed client ends the follower instead of retrying for ever.
    followerClient.close();
    await new Promise((r) => setTimeout(r, 100));
    const errors = follower.errors.length;
    await new Promise((r) => setTimeout(r, 300)); // six retry intervals
    expect(follower.errors.length).toBe(errors);
  });

  it('stops following for good when the listener throws, and says so once', async () => {
    const { log, election } = setup();
    const leader = await election(1).campaign();
    await log.append(leader, 0, topic('one'));
    const errors: Error[] = [];
    const commits: number[] = [];
    const sub = log.follow(0, {
      handleLoadSnapshot: () => {},
      handleCommit: (b) => {
        commits.push(b.baseOffset);
        if (b.baseOffset === 3) throw new Error('broker cannot apply this');
      },
      handleError: (err) => errors.push(err),
    });
    closers.push(() => sub.close());
    await until(() => commits.length === 1, 10_000, 'the first batch');
    await log.append(leader, 3, topic('two'));
    await until(() => errors.length === 1, 10_000, 'the listener failure');
    expect(errors[0]!.message).toBe('broker cannot apply this');
    await log.append(leader, 6, topic('three'));
    await new Promise((r) => setTimeout(r, 300));
    expect(commits).toEqual([0, 3]);
    expect(errors).toHaveLength(1);
  });

  it('snapshots: batches before it are deleted, etcd history compacted, and followers behind it load it', async () => {
    const { log, election, layout } = setup({ compactHistory: true });
    const leader = await election(1).campaign();
    const proxy = await startCuttableProxy(etcd.endpoints[0]!);
    const laggingClient = new EtcdClient({ endpoints: [proxy.endpoint], requestTimeoutMs: 2_000 });
    closers.push(
      () => proxy.close(),
      () => laggingClient.close(),
    );
    const appended: MetadataRecord[] = [];
    let end = 0;
    const append = async (records: MetadataRecord[]) => {
      end = (await log.append(leader, end, records)).endOffset;
      appended.push(...records);
    };

    const lagging = new Follower();
    const laggingSub = new EtcdMetadataLog(laggingClient, layout, { retryBackoffMs: 50 }).follow(
      0,
      lagging.listener,
    );
    closers.push(() => laggingSub.close());
    await append(topic('s0'));
    await until(() => lagging.image.offset === end, 10_000, 'the lagging follower to catch up once');
    proxy.cut();
    await until(() => lagging.errors.length > 0, 10_000, 'the lagging follower to lose its connection');

    for (let i = 1; i < 6; i++) await append(topic(`s${i}`, 2));
    const middle = (await log.read(0))[3]!.baseOffset;
    await expect(log.writeSnapshot(leader, { offset: middle + 1, records: [] })).rejects.toThrow(
      /not where a batch/,
    );
    // The snapshot: records that rebuild the image at the log's end (here: all of them).
    const snapshotOffset = end;
    await log.writeSnapshot(leader, { offset: snapshotOffset, records: [...appended] });
    expect(await log.startOffset()).toBe(snapshotOffset);
    expect(await log.endOffset()).toBe(snapshotOffset);
    expect((await client.range(layout.logPrefix, { prefix: true, countOnly: true })).count).toBe(0);
    await expect(log.read(0)).rejects.toBeInstanceOf(SnapshotRequiredError);
    expect(await log.read(snapshotOffset)).toEqual([]);
    await append(topic('s6'));
    const second = end; // where s7's batch starts
    await append(topic('s7'));

    // A second snapshot replaces the first one's data, so the keys stay bounded.
    await log.writeSnapshot(leader, { offset: second, records: appended.slice(0, second) });
    expect((await log.latestSnapshot())!.offset).toBe(second);
    const keys = await client.range(layout.root, { prefix: true, keysOnly: true });
    expect(keys.kvs.map((kv) => kv.key.slice(layout.root.length)).sort()).toEqual([
      'controller/epoch',
      'controller/leader',
      'metadata/end',
      `metadata/log/${String(second).padStart(20, '0')}`,
      'metadata/snapshot',
      `metadata/snapshot-data/${String(second).padStart(20, '0')}/000000`,
    ]);

    // A new broker starts from nothing: snapshot, then the batch after it.
    const fresh = new Follower();
    const freshSub = log.follow(0, fresh.listener);
    closers.push(() => freshSub.close());
    await until(
      () => fresh.image.offset === end,
      10_000,
      () => `fresh follower at ${fresh.image.offset}`,
    );
    expect(fresh.snapshots.map((s) => s.offset)).toEqual([second]);
    expect(fresh.batches.map((b) => b.baseOffset)).toEqual([second]);

    // The lagging one comes back after its watch's revision was compacted away and the batches
    // it missed were folded into the snapshot: it loads the snapshot, then goes on.
    proxy.restore();
    await until(
      () => lagging.image.offset === end,
      15_000,
      () => `lagging follower at ${lagging.image.offset}`,
    );
    expect(lagging.snapshots.map((s) => s.offset)).toEqual([second]);
    const expected = described(MetadataImage.EMPTY.apply(appended).image);
    expect(described(lagging.image)).toBe(expected);
    expect(described(fresh.image)).toBe(expected);
  });

  it('refuses a batch above its size limit (below etcd’s request limit) with MESSAGE_TOO_LARGE', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const log = new EtcdMetadataLog(client, layout, { maxBatchBytes: 2_000 });
    const election = new EtcdControllerElection(client, layout, { nodeId: 1, sessionTimeoutMs: 10_000 });
    closers.push(() => election.close());
    const leader = await election.campaign();
    await expect(log.append(leader, 0, topic('big', 50))).rejects.toMatchObject({
      error: 'MESSAGE_TOO_LARGE',
    });
    expect(await log.endOffset()).toBe(0);
    await log.append(leader, 0, topic('small', 1));
    expect(await log.endOffset()).toBe(2);
  });

  it('writes a snapshot larger than one etcd request in chunks and reads it back whole', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const log = new EtcdMetadataLog(client, layout, { snapshotChunkBytes: 1_000 });
    const election = new EtcdControllerElection(client, layout, { nodeId: 1, sessionTimeoutMs: 10_000 });
    closers.push(() => election.close());
    const leader = await election.campaign();
    const records: MetadataRecord[] = [];
    let end = 0;
    for (let i = 0; i < 10; i++) {
      const r = topic(`chunky-${i}`, 4);
      end = (await log.append(leader, end, r)).endOffset;
      records.push(...r);
    }
    await log.writeSnapshot(leader, { offset: end, records });
    const chunks = await client.range(layout.snapshotDataPrefix, { prefix: true, countOnly: true });
    expect(chunks.count).toBeGreaterThan(5);
    expect(await log.latestSnapshot()).toEqual({ offset: end, records });
  });
});
