/**
 * The cluster metadata of `--threads` (host.ts in the main thread, client.ts in each broker
 * thread), over MessageChannels in one thread: the same rules etcd enforces for separate processes
 * — appends land only at the log's end, one controller at a time, a registration ends with its
 * thread or after its session timeout of silence — and the log is durable across a restart of the
 * host. Then SharedLogControllers over it: a change made through one broker is in every broker's
 * image, and a broker whose thread is gone is fenced by the elected controller, its leaderships moved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../../common/time.js';
import { BrokerConfig } from '../../config/broker-config.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import { until } from '../../test-support/until.js';
import { ExtraCompareFailedError, UnexpectedBaseOffsetError } from '../etcd/errors.js';
import type { MetadataBatch, MetadataSnapshot } from '../etcd/interfaces.js';
import type { MetadataRecord } from '../records.js';
import { SharedLogController } from '../shared-log-controller.js';
import { ThreadClusterMetadata } from './client.js';
import { ThreadMetadataHost } from './host.js';
import type { ToThread } from './protocol.js';

const dirs: string[] = [];
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbroker-thread-metadata-'));
  dirs.push(d);
  return d;
}

function openHost(dir: string): ThreadMetadataHost {
  const host = ThreadMetadataHost.open(dir, 1 << 20);
  closers.push(() => host.close());
  return host;
}

/** A broker thread's view of `host` (a port pair, as thread-cluster.ts makes for each thread). */
function connect(host: ThreadMetadataHost): { metadata: ThreadClusterMetadata; die: () => void } {
  const { port1, port2 } = new MessageChannel();
  host.attach(port1);
  const metadata = new ThreadClusterMetadata(port2);
  closers.push(() => metadata.close());
  return { metadata, die: () => host.detach(port1) };
}

const topicRecord = (name: string): MetadataRecord =>
  ({ type: 'TopicRecord', name, topicId: `id-${name}` }) as unknown as MetadataRecord;

const registration = (brokerId: number) => ({
  brokerId,
  rack: null,
  endpoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9091 + brokerId, securityProtocol: 'PLAINTEXT' }],
  incarnationId: `inc-${brokerId}`,
});

function follower(metadata: ThreadClusterMetadata, from = 0) {
  const seen: { snapshots: MetadataSnapshot[]; batches: MetadataBatch[] } = { snapshots: [], batches: [] };
  const sub = metadata.log.follow(from, {
    handleLoadSnapshot: (s) => seen.snapshots.push(s),
    handleCommit: (b) => seen.batches.push(b),
  });
  closers.push(() => sub.close());
  return seen;
}

describe('the cluster metadata of broker threads', () => {
  it('appends only at the log end; followers get every batch once, in order', async () => {
    const host = openHost(tempDir());
    const a = connect(host).metadata;
    const b = connect(host).metadata;
    const seen = follower(b);
    expect(await a.log.appendAsBroker(0, [topicRecord('x')])).toEqual({ baseOffset: 0, endOffset: 1 });
    // b's image is stale (it thinks the log ends at 0): refused, with where it ends.
    const stale = await b.log.appendAsBroker(0, [topicRecord('y')]).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(UnexpectedBaseOffsetError);
    expect((stale as UnexpectedBaseOffsetError).endOffset).toBe(1);
    await b.log.appendAsBroker(1, [topicRecord('y'), topicRecord('z')]);
    expect(await a.log.endOffset()).toBe(3);
    await until(() => seen.batches.length === 2, 5_000, 'two batches');
    expect(seen.batches.map((x) => [x.baseOffset, x.records.length])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(seen.snapshots).toEqual([]);
  });

  it('one controller at a time; the next candidate leads once the thread of the first is gone', async () => {
    const host = openHost(tempDir());
    const one = connect(host);
    const two = connect(host);
    const first = await one.metadata.election(1).campaign();
    let secondWon = false;
    const second = two.metadata
      .election(2)
      .campaign()
      .then((l) => {
        secondWon = true;
        return l;
      });
    await new Promise((r) => setTimeout(r, 50));
    expect(secondWon).toBe(false);
    expect(await two.metadata.election(2).currentLeader()).toEqual({ leaderId: 1, epoch: 1 });
    // A deposed epoch cannot write as the controller.
    one.die();
    await first.lost;
    expect(first.isActive()).toBe(false);
    const leadership = await second;
    expect([leadership.nodeId, leadership.epoch]).toEqual([2, 2]);
    const stale = await two.metadata.log
      .appendUnlessRegistered(first, 0, [topicRecord('x')], 9)
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(KafkaError);
    expect((stale as KafkaError).error).toBe('NOT_CONTROLLER');
    await two.metadata.log.appendUnlessRegistered(leadership, 0, [topicRecord('x')], 9);
  });

  it('a registration is held by its thread: duplicates refused, watchers told when the thread is gone', async () => {
    const host = openHost(tempDir());
    const one = connect(host);
    const two = connect(host);
    const session = await one.metadata.registry.register(registration(1));
    const dup = await two.metadata.registry.register(registration(1)).catch((e: unknown) => e);
    expect((dup as KafkaError).error).toBe('DUPLICATE_BROKER_REGISTRATION');
    const events: string[] = [];
    const watch = two.metadata.registry.watch({
      handleBrokerRegistered: (b) => events.push(`+${b.brokerId}`),
      handleBrokerUnregistered: (id) => events.push(`-${id}`),
    });
    closers.push(() => watch.close());
    await until(() => events.length === 1, 5_000, 'the registration seen');
    // The controller cannot fence a broker that is registered.
    const leadership = await two.metadata.election(2).campaign();
    const refused = await two.metadata.log
      .appendUnlessRegistered(leadership, 0, [topicRecord('fence')], 1)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ExtraCompareFailedError);
    one.die();
    await session.lost;
    await until(() => events.length === 2, 5_000, 'the end seen');
    expect(events).toEqual(['+1', '-1']);
    expect(await two.metadata.registry.registeredBrokers()).toEqual([]);
    // Gone now: registering again is allowed, with a higher broker epoch.
    const again = await two.metadata.registry.register(registration(1));
    expect(again.broker.brokerEpoch).toBeGreaterThan(session.broker.brokerEpoch);
  });

  it('a thread silent for its session timeout loses its registration (a stuck event loop), others keep theirs', async () => {
    const time = new MockTime();
    const host = ThreadMetadataHost.open(tempDir(), 1 << 20, time);
    closers.push(() => host.close());
    const healthy = connect(host).metadata;
    await healthy.registry.register(registration(1));
    // A thread that registers and then sends nothing more: its port, driven by hand.
    const { port1, port2 } = new MessageChannel();
    host.attach(port1);
    const told: ToThread[] = [];
    port2.on('message', (m: ToThread) => told.push(m));
    closers.push(() => port2.close());
    port2.postMessage({
      t: 'req',
      id: 1,
      req: { op: 'register', info: registration(2), sessionTimeoutMs: 1_000 },
    });
    await until(() => told.some((m) => m.t === 'res'), 5_000, 'registered');
    const events: string[] = [];
    const watch = healthy.registry.watch({
      handleBrokerRegistered: (b) => events.push(`+${b.brokerId}`),
      handleBrokerUnregistered: (id) => events.push(`-${id}`),
    });
    closers.push(() => watch.close());
    await until(() => events.length === 2, 5_000, 'both registrations seen');
    time.advance(600);
    await healthy.registry.registeredBrokers(); // anything the thread sends counts as a heartbeat
    time.advance(700); // 1,300 ms since broker 2's thread last spoke, 700 since broker 1's (checked every 250)
    await until(() => events.includes('-2'), 5_000, 'broker 2 expired');
    expect(events).toEqual(['+1', '+2', '-2']);
    expect(told.some((m) => m.t === 'sessionLost' && m.brokerId === 2)).toBe(true);
    expect((await healthy.registry.registeredBrokers()).map((b) => b.brokerId)).toEqual([1]);
  });

  it('the log survives a restart of the host: a follower from 0 loads it as a snapshot', async () => {
    const dir = tempDir();
    const host = ThreadMetadataHost.open(dir, 1 << 20);
    const a = connect(host).metadata;
    expect(await a.clusterId('first')).toBe('first');
    await a.log.appendAsBroker(0, [topicRecord('x')]);
    await a.log.appendAsBroker(1, [topicRecord('y')]);
    a.close();
    host.close();
    const again = openHost(dir);
    const b = connect(again).metadata;
    expect(await b.clusterId('second')).toBe('first');
    expect(await b.log.endOffset()).toBe(2);
    const seen = follower(b);
    await until(() => seen.snapshots.length === 1, 5_000, 'the snapshot');
    expect(seen.snapshots[0]!.offset).toBe(2);
    expect(seen.snapshots[0]!.records.map((r) => (r as unknown as { name: string }).name)).toEqual([
      'x',
      'y',
    ]);
    await b.log.appendAsBroker(2, [topicRecord('z')]);
    await until(() => seen.batches.length === 1, 5_000, 'the next batch');
    expect(seen.batches[0]!.baseOffset).toBe(2);
  });

  it('SharedLogControllers over it: changes reach every broker; a broker whose thread died is fenced', async () => {
    const host = openHost(tempDir());
    const open = async (nodeId: number) => {
      const link = connect(host);
      const c = await SharedLogController.open({
        nodeId,
        config: new BrokerConfig({ 'node.id': String(nodeId), 'log.dirs': tempDir() }),
        metadata: () => link.metadata,
      });
      closers.push(() => c.closeAndWait());
      return { c, die: link.die };
    };
    const [a, b, c] = [await open(1), await open(2), await open(3)];
    for (const [i, x] of [a, b, c].entries()) {
      await x.c.registerBroker(i + 1, registration(i + 1).endpoints, null, true);
      await x.c.unfenceBroker(i + 1);
    }
    await until(
      () => [a, b, c].every((x) => x.c.image.liveBrokers().length === 3),
      5_000,
      'three live brokers',
    );
    const [created] = await b.c.createTopics(
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
    expect(created!.errorCode).toBe(ErrorCode.NONE);
    await until(() => a.c.image.topic('led-by-2') !== undefined, 5_000, 'the topic on broker 1');
    expect(a.c.isActiveController).toBe(true); // the first to campaign
    b.die(); // broker 2's thread is gone: no controlled shutdown
    await until(() => a.c.image.brokers.get(2)?.fenced === true, 5_000, 'broker 2 fenced');
    const p = a.c.image.topic('led-by-2')!.partitions[0]!;
    expect([p.leader, p.leaderEpoch, p.isr]).toEqual([3, 1, [3, 1]]);
    await until(
      () => JSON.stringify(c.c.image.toRecords()) === JSON.stringify(a.c.image.toRecords()),
      5_000,
      'same image',
    );
  });
});
