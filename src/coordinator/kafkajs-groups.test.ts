/**
 * The consumer-group scenario users know, with kafkajs 2.2.4 over TCP: partitions spread over
 * the members, move when one joins, are picked up after a killed member's session timeout;
 * every message is consumed; restarted consumers resume at the committed offsets; a broker
 * restart keeps the offsets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { until as waitUntil } from '../test-support/until.js';

const FAST_GROUPS = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
};
const SESSION_TIMEOUT = 3000;
const CHILD = fileURLToPath(new URL('./fixtures/kafkajs-consumer.mjs', import.meta.url));

const until = (what: string, check: () => boolean, ms = 30_000) => waitUntil(check, ms, what);

interface Tracked {
  consumer: Consumer;
  assigned: number[];
}

describe('kafkajs consumer groups', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function client(tb: TestBroker): Kafka {
    return new Kafka({ brokers: [tb.bootstrap], clientId: 'test', logLevel: logLevel.NOTHING });
  }

  async function produce(kafka: Kafka, topic: string, count: number, partitions: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    const messages = Array.from({ length: count }, (_, i) => ({ partition: i % partitions, value: `m${i}` }));
    await producer.send({ topic, messages });
    await producer.disconnect();
  }

  async function startConsumer(
    kafka: Kafka,
    groupId: string,
    topic: string,
    seen: string[],
  ): Promise<Tracked> {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 300,
      // kafkajs heartbeats between fetches: the long poll must be shorter than the session.
      maxWaitTimeInMs: 500,
    });
    const t: Tracked = { consumer, assigned: [] };
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      t.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort();
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push(`${partition}:${message.offset}`);
      },
    });
    cleanups.push(() => consumer.disconnect().catch(() => {}));
    return t;
  }

  it('spreads 6 partitions over 3, then 4 members, recovers a killed one, and resumes at committed offsets', async () => {
    const tb = await startTestBroker(FAST_GROUPS);
    cleanups.push(() => tb.close());
    const topic = 'orders';
    await tb.broker.controller.createTopic(topic, 6);
    const kafka = client(tb);
    await produce(kafka, topic, 600, 6);

    const seen: string[] = [];
    const members = [
      await startConsumer(kafka, 'g1', topic, seen),
      await startConsumer(kafka, 'g1', topic, seen),
      await startConsumer(kafka, 'g1', topic, seen),
    ];
    await until(
      '3 members with 2 partitions each',
      () =>
        members.every((m) => m.assigned.length === 2) &&
        new Set(members.flatMap((m) => m.assigned)).size === 6,
    );
    await until('600 messages', () => new Set(seen).size === 600);

    // A 4th member joins (in its own process, so that it can be killed later).
    const child: ChildProcess = spawn(
      process.execPath,
      [CHILD, tb.bootstrap, 'g1', topic, String(SESSION_TIMEOUT)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    let childAssigned: number[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line) as { joined?: number[]; p?: number; o?: number };
      if (e.joined) childAssigned = [...e.joined].sort();
      else seen.push(`${e.p}:${e.o}`);
    });
    await until('4 members: partitions move to the newcomer', () => {
      const all = [...members.flatMap((m) => m.assigned), ...childAssigned];
      return childAssigned.length > 0 && all.length === 6 && new Set(all).size === 6;
    });
    const before = members.map((m) => m.assigned.length).sort();
    expect(before).toEqual(childAssigned.length === 1 ? [1, 2, 2] : [1, 1, 2]);
    const desc = await kafka.admin().describeGroups(['g1']);
    expect(desc.groups[0]!.state).toBe('Stable');
    expect(desc.groups[0]!.members).toHaveLength(4);

    // Killed without LeaveGroup: its partitions move after the session timeout.
    await produce(kafka, topic, 600, 6);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await until(
      'the killed member’s partitions picked up',
      () =>
        members.every((m) => m.assigned.length === 2) &&
        new Set(members.flatMap((m) => m.assigned)).size === 6,
      SESSION_TIMEOUT + 15_000,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT - 500);
    await until('all 1200 messages', () => new Set(seen).size === 1200);

    // Restart the consumers: nothing committed is consumed again; new messages are.
    for (const m of members) await m.consumer.disconnect();
    const offsets = await kafka.admin().fetchOffsets({ groupId: 'g1', topics: [topic] });
    expect(offsets[0]!.partitions.map((p) => Number(p.offset))).toEqual([200, 200, 200, 200, 200, 200]);
    const again: string[] = [];
    const restarted = [
      await startConsumer(kafka, 'g1', topic, again),
      await startConsumer(kafka, 'g1', topic, again),
    ];
    await until('restarted members assigned', () => restarted.every((m) => m.assigned.length === 3));
    await produce(kafka, topic, 12, 6);
    await until('the 12 new messages', () => again.length >= 12);
    // Stopped, they can deliver nothing more: a committed message consumed again would have come
    // before the new ones of its partition, so `again` is final and must hold exactly those.
    for (const m of restarted) await m.consumer.disconnect();
    expect(again.sort()).toEqual([0, 1, 2, 3, 4, 5].flatMap((p) => [`${p}:200`, `${p}:201`]).sort());
  }, 90_000);

  it('keeps committed offsets and the group across a broker restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbroker-groups-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let tb = await startTestBroker(FAST_GROUPS, dir);
    await tb.broker.controller.createTopic('t', 2);
    let kafka = client(tb);
    await produce(kafka, 't', 10, 2);
    const seen: string[] = [];
    const c = await startConsumer(kafka, 'durable', 't', seen);
    await until('10 messages', () => seen.length === 10);
    await c.consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'admin-set', topic: 't', partitions: [{ partition: 1, offset: '3' }] });
    await admin.disconnect();
    await tb.close();

    tb = await startTestBroker(FAST_GROUPS, dir);
    cleanups.push(() => tb.close());
    kafka = client(tb);
    const admin2 = kafka.admin();
    await admin2.connect();
    cleanups.push(() => admin2.disconnect());
    const durable = await admin2.fetchOffsets({ groupId: 'durable', topics: ['t'] });
    expect(durable[0]!.partitions.map((p) => p.offset)).toEqual(['5', '5']);
    const set = await admin2.fetchOffsets({ groupId: 'admin-set', topics: ['t'] });
    expect(set[0]!.partitions.find((p) => p.partition === 1)!.offset).toBe('3');
    const groups = (await admin2.listGroups()).groups.map((g) => g.groupId).sort();
    expect(groups).toEqual(['admin-set', 'durable']);
    // A consumer of the restarted broker starts after the committed offsets.
    await produce(kafka, 't', 2, 2);
    const after: string[] = [];
    await startConsumer(kafka, 'durable', 't', after);
    await until('the 2 new messages', () => after.length === 2);
    expect(after.sort()).toEqual(['0:5', '1:5']);
  }, 60_000);

  it('describes, lists and deletes groups through the kafkajs admin as Kafka does', async () => {
    const tb = await startTestBroker(FAST_GROUPS);
    cleanups.push(() => tb.close());
    await tb.broker.controller.createTopic('d', 2);
    const kafka = client(tb);
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const c = await startConsumer(kafka, 'live', 'd', []);
    await until('assigned', () => c.assigned.length === 2);
    const { groups } = await admin.describeGroups(['live', 'ghost']);
    expect(groups[0]!.state).toBe('Stable');
    expect(groups[0]!.protocolType).toBe('consumer');
    expect(groups[0]!.members).toHaveLength(1);
    expect(groups[0]!.members[0]!.clientId).toBe('test');
    expect(groups[0]!.members[0]!.clientHost).toBe('/127.0.0.1');
    expect(groups[0]!.members[0]!.memberAssignment.length).toBeGreaterThan(0);
    expect(groups[1]!.state).toBe('Dead');
    expect((await admin.listGroups()).groups).toEqual([{ groupId: 'live', protocolType: 'consumer' }]);
    await expect(admin.deleteGroups(['live'])).rejects.toMatchObject({
      groups: [expect.objectContaining({ groupId: 'live', errorCode: 68 })],
    });
    await c.consumer.disconnect();
    expect(await admin.deleteGroups(['live'])).toEqual([
      expect.objectContaining({ groupId: 'live', errorCode: 0 }),
    ]);
    expect((await admin.listGroups()).groups).toEqual([]);
  });
});
