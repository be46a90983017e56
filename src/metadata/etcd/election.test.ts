import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, etcdBinary, startEtcd } from '../../test-support/etcd.js';
import { spawnEtcdMember } from '../../test-support/etcd-member.js';
import { until } from '../../test-support/until.js';
import { EtcdClient } from './client.js';
import { EtcdControllerElection } from './election.js';
import type { LeaderAndEpoch } from './interfaces.js';
import { EtcdLayout } from './layout.js';

describe.skipIf(!etcdBinary)('EtcdControllerElection against a real etcd', () => {
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

  const election = (layout: EtcdLayout, nodeId: number, sessionTimeoutMs = 1_000) => {
    const e = new EtcdControllerElection(client, layout, { nodeId, sessionTimeoutMs, retryBackoffMs: 50 });
    closers.push(() => e.close());
    return e;
  };

  it('fails over when the controller process dies (killed, its session expires), with the next epoch', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const observer = election(layout, 99);
    const seen: LeaderAndEpoch[] = [];
    const sub = observer.watchLeader((l) => seen.push(l));
    closers.push(() => sub.close());

    const child = await spawnEtcdMember('controller', etcd.endpoints[0]!, layout.root, 1, 1_000);
    closers.push(() => child.kill());
    expect(child.line).toMatchObject({ nodeId: 1, epoch: 1 });
    expect(await observer.currentLeader()).toEqual({ leaderId: 1, epoch: 1 });

    let won: Awaited<ReturnType<EtcdControllerElection['campaign']>> | undefined;
    const candidate = election(layout, 2).campaign();
    void candidate.then((l) => (won = l));
    // Real time must pass for etcd to expire a session; the child renews its own, so node 2
    // is still waiting after two session timeouts.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(won).toBeUndefined();
    expect(await observer.currentLeader()).toEqual({ leaderId: 1, epoch: 1 });

    const killedAt = performance.now();
    child.kill();
    await child.exited;
    const leadership = await candidate;
    const failoverMs = performance.now() - killedAt;
    console.log(`controller failover after SIGKILL with a 1 s session: ${failoverMs.toFixed(0)} ms`);
    expect(leadership.nodeId).toBe(2);
    expect(leadership.epoch).toBe(2);
    expect(leadership.isActive()).toBe(true);
    expect(failoverMs).toBeLessThan(10_000);
    expect(await observer.currentLeader()).toEqual({ leaderId: 2, epoch: 2 });
    await until(
      () => seen.at(-1)?.leaderId === 2,
      10_000,
      () => `the watch to see node 2: ${JSON.stringify(seen)}`,
    );
    expect(seen).toEqual([
      { leaderId: null, epoch: 0 }, // the watch started before any election
      { leaderId: 1, epoch: 1 },
      { leaderId: null, epoch: 1 }, // node 1's session expired
      { leaderId: 2, epoch: 2 },
    ]);
  });

  it('hands over at once when the controller resigns, and one candidate wins each epoch', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const first = await election(layout, 1, 30_000).campaign();
    expect(first.epoch).toBe(1);
    // Three candidates wait; each resignation elects exactly one of them.
    const waiting = [2, 3, 4].map((id) => election(layout, id, 30_000).campaign());
    const winners: number[] = [];
    waiting.forEach((p) => void p.then((l) => winners.push(l.nodeId)));
    const startedAt = performance.now();
    await first.resign();
    expect(first.isActive()).toBe(false);
    await until(() => winners.length === 1, 10_000, 'one candidate to win');
    // Long sessions (30 s): the handover came from the resignation, not an expiry.
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    const second = await waiting[[2, 3, 4].indexOf(winners[0]!)]!;
    expect(second.epoch).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(winners).toHaveLength(1);
    await second.resign();
    await until(() => winners.length === 2, 10_000, 'a second candidate to win');
    const third = await waiting[[2, 3, 4].indexOf(winners[1]!)]!;
    expect(third.epoch).toBe(3);
    expect(third.nodeId).not.toBe(second.nodeId);
    await third.resign();
    await Promise.all(waiting);
    expect(new Set(winners)).toEqual(new Set([2, 3, 4]));
  });

  it('a campaign ends when its signal aborts or the election closes, leaving nothing behind', async () => {
    const layout = new EtcdLayout(`/test/${randomUUID()}/`);
    const leader = await election(layout, 1, 30_000).campaign();
    const abort = new AbortController();
    const aborted = election(layout, 2).campaign(abort.signal);
    const closing = election(layout, 3);
    const closed = closing.campaign();
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await expect(aborted).rejects.toThrow();
    await closing.close();
    await expect(closed).rejects.toThrow(/closed/);
    expect(await election(layout, 9).currentLeader()).toEqual({ leaderId: 1, epoch: 1 });
    // Their sessions were revoked: only the leader's lease holds a key.
    const keys = await client.range(layout.root, { prefix: true });
    expect(keys.kvs.filter((kv) => kv.lease !== '0')).toHaveLength(1);
    await leader.resign();
    expect(await election(layout, 9).currentLeader()).toEqual({ leaderId: null, epoch: 1 });
  });
});
