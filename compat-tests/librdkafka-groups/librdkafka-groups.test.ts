// Consumer groups with librdkafka (Debian librdkafka 2.0.2) against an in-process kbroker over TCP:
// confluent-kafka-python (Debian python3-confluent-kafka, /usr/bin/python3) members in their own
// processes (group_consumer.py) and `kcat -G` (Debian kcat 1.7.x).
//
// The scenario of issue 5, once per assignor (range, roundrobin, cooperative-sticky): a 6-partition
// topic and 3 members → 2 partitions each; a 4th joins → partitions move (under cooperative-sticky
// incrementally: only the moved partitions are revoked and the others keep being consumed); the 4th is
// SIGKILLed → its partitions are picked up after the session timeout; every message is consumed
// exactly once, as produced; restarted members consume nothing that was committed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/test-support/broker.js';
import { until as waitUntil } from '../../src/test-support/until.js';

const PYTHON = process.env.CONFLUENT_PYTHON ?? '/usr/bin/python3';
const KCAT = process.env.KCAT ?? 'kcat';
const MEMBER = fileURLToPath(new URL('./group_consumer.py', import.meta.url));
const SESSION_TIMEOUT = 3000;

const pyProbe = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { encoding: 'utf8', timeout: 20_000 });
const kcatProbe = spawnSync(KCAT, ['-V'], { encoding: 'utf8', timeout: 10_000 });
const modeOf = (ok: boolean): 'run' | 'fail' | 'skip' => (ok ? 'run' : process.env.CI ? 'fail' : 'skip');
const pyMode = modeOf(pyProbe.status === 0);
const kcatMode = modeOf(kcatProbe.status === 0);
if (pyMode === 'skip') {
  console.warn(
    `[compat-tests/librdkafka-groups] SKIPPED the confluent-kafka-python groups: ${PYTHON} cannot import ` +
      'confluent_kafka (apt-get install python3-confluent-kafka). With CI set this fails.',
  );
}
if (kcatMode === 'skip') {
  console.warn(
    `[compat-tests/librdkafka-groups] SKIPPED kcat -G: '${KCAT}' not found (apt-get install kcat). ` +
      'With CI set this fails.',
  );
}

const until = (what: string, check: () => boolean, ms = 30_000, detail?: () => string) =>
  waitUntil(check, ms, detail ? () => `${what}: ${detail()}` : what, 50);
const sorted = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);

interface RebalanceEvent {
  ev: 'assign' | 'revoke' | 'lost';
  parts: number[];
  owned: number[];
  at: number;
}

/** A group_consumer.py process; `seen` collects "partition:offset:value" of committed batches. */
class Member {
  readonly events: RebalanceEvent[] = [];
  owned: number[] = [];
  stderr = '';
  exit: Promise<number | null>;
  /** Resolves once every line the process wrote has been read (after it exited). */
  readonly drained: Promise<void>;
  private readonly child: ChildProcess;

  constructor(args: string[], seen: string[], children: Set<ChildProcess>) {
    this.child = spawn(PYTHON, [MEMBER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.child);
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        children.delete(this.child);
        resolve(code);
      });
    });
    this.child.stderr!.on('data', (d) => {
      this.stderr += d;
    });
    const lines = createInterface({ input: this.child.stdout! });
    this.drained = new Promise((resolve) => lines.once('close', () => resolve()));
    lines.on('line', (line) => {
      const e = JSON.parse(line) as
        | { ev: 'msgs'; m: [number, number, string][] }
        | Omit<RebalanceEvent, 'at'>;
      if (e.ev === 'msgs') {
        for (const [p, o, v] of e.m) seen.push(`${p}:${o}:${v}`);
      } else {
        this.events.push({ ...e, at: Date.now() });
        this.owned = e.owned;
      }
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

describe('librdkafka consumer groups', () => {
  let tb: TestBroker;
  let kafka: Kafka;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    if (pyMode === 'skip' && kcatMode === 'skip') return;
    tb = await startTestBroker({
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '1000',
      'offsets.topic.num.partitions': '5',
    });
    kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'test', logLevel: logLevel.NOTHING });
  });
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
    children.clear();
  });
  afterAll(async () => {
    await tb?.close();
  });

  /** Produces `perPartition` records to each partition; returns the "p:offset:value" expected. */
  async function produce(topic: string, partitions: number, perPartition: number, tag: string) {
    const producer = kafka.producer();
    await producer.connect();
    const offsets = await kafka.admin().fetchTopicOffsets(topic);
    const end = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    const messages = [];
    const expected: string[] = [];
    for (let p = 0; p < partitions; p++) {
      for (let i = 0; i < perPartition; i++) {
        const value = `${tag}-p${p}-${i}`;
        messages.push({ partition: p, value });
        expected.push(`${p}:${end.get(p)! + i}:${value}`);
      }
    }
    await producer.send({ topic, messages, acks: -1 });
    await producer.disconnect();
    return expected;
  }

  async function describeGroup(groupId: string) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.describeGroups([groupId])).groups[0]!;
    } finally {
      await admin.disconnect();
    }
  }

  async function committed(groupId: string, topic: string): Promise<number[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const r = await admin.fetchOffsets({ groupId, topics: [topic] });
      return r[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
    } finally {
      await admin.disconnect();
    }
  }

  for (const strategy of ['range', 'roundrobin', 'cooperative-sticky'] as const) {
    it.skipIf(pyMode === 'skip')(
      `confluent-kafka-python, ${strategy}: 3 members then 4, a killed one taken over after the session timeout, exactly once, restart resumes`,
      async () => {
        if (pyMode === 'fail') throw new Error(`${PYTHON} cannot import confluent_kafka: ${pyProbe.stderr}`);
        const cooperative = strategy === 'cooperative-sticky';
        const topic = `lr-${strategy}`;
        const group = `g-${strategy}`;
        await tb.broker.controller.createTopic(topic, 6);
        const seen: string[] = [];
        const start = () =>
          new Member([tb.bootstrap, group, topic, strategy, String(SESSION_TIMEOUT)], seen, children);
        const expected = await produce(topic, 6, 50, 'a');

        const members = [start(), start(), start()];
        const state = () =>
          members
            .map((m, i) => `member ${i} owns [${m.owned}] events ${JSON.stringify(m.events)} ${m.stderr}`)
            .join('\n');
        const spread = (ms: Member[], sizes: number[]) => {
          const all = ms.flatMap((m) => m.owned);
          return (
            all.length === 6 &&
            new Set(all).size === 6 &&
            JSON.stringify(ms.map((m) => m.owned.length).sort()) === JSON.stringify(sizes)
          );
        };
        await until('3 members with 2 partitions each', () => spread(members, [2, 2, 2]), 30_000, state);
        await until('300 messages', () => seen.length >= expected.length, 30_000, state);
        const desc3 = await describeGroup(group);
        expect(desc3.state).toBe('Stable');
        expect(desc3.protocol).toBe(strategy);
        expect(desc3.members).toHaveLength(3);

        // A 4th member joins while records keep arriving.
        const before = members.map((m) => [...m.owned]);
        const eventsBefore = members.map((m) => m.events.length);
        const fourth = start();
        members.push(fourth);
        expected.push(...(await produce(topic, 6, 20, 'b')));
        await until(
          '4 members: partitions move to the newcomer',
          () => spread(members, [1, 1, 2, 2]),
          30_000,
          state,
        );
        await until('all 420 messages', () => seen.length >= expected.length, 30_000, state);
        const desc4 = await describeGroup(group);
        expect(desc4.state).toBe('Stable');
        expect(desc4.members).toHaveLength(4);
        for (const m of desc4.members) {
          const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
          expect(a?.assignment[topic]?.length ?? 0).toBeGreaterThanOrEqual(1);
        }
        for (let i = 0; i < 3; i++) {
          const m = members[i]!;
          const revoked = m.events.slice(eventsBefore[i]).filter((e) => e.ev === 'revoke');
          const lostOnes = before[i]!.filter((p) => !m.owned.includes(p));
          if (cooperative) {
            // Incremental: only what moved was revoked; what stayed was never given up.
            expect(
              m.owned.every((p) => before[i]!.includes(p)),
              state(),
            ).toBe(true);
            expect(sorted(revoked.flatMap((e) => e.parts)), state()).toEqual(sorted(lostOnes));
            const assigned = m.events.slice(eventsBefore[i]).filter((e) => e.ev === 'assign');
            expect(
              assigned.flatMap((e) => e.parts),
              state(),
            ).toEqual([]);
          } else {
            // Eager: everything owned is revoked, then the new assignment given.
            expect(revoked.length, state()).toBeGreaterThanOrEqual(1);
            expect(sorted(revoked[0]!.parts), state()).toEqual(sorted(before[i]!));
          }
        }
        if (cooperative) {
          // The newcomer got its partitions in an incremental assign, never the whole topic.
          const movedTotal = before.flat().length - members.slice(0, 3).flatMap((m) => m.owned).length;
          expect(movedTotal).toBe(fourth.owned.length);
        }

        // SIGKILL the 4th (no LeaveGroup): its partitions are picked up after the session timeout.
        const killedParts = [...fourth.owned];
        const eventsBeforeKill = members.map((m) => m.events.length);
        fourth.kill('SIGKILL');
        await fourth.exit;
        const killedAt = Date.now();
        expected.push(...(await produce(topic, 6, 20, 'c')));
        const survivors = members.slice(0, 3);
        await until(
          'the killed member’s partitions picked up',
          () => spread(survivors, [2, 2, 2]),
          SESSION_TIMEOUT + 20_000,
          state,
        );
        expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT - 500);
        await until('all 540 messages', () => seen.length >= expected.length, 30_000, state);
        for (let i = 0; i < 3; i++) {
          const m = survivors[i]!;
          const after = m.events.slice(eventsBeforeKill[i]);
          if (cooperative) {
            // Taking over is purely additive: no revocation, only the killed member's partitions.
            expect(
              after.filter((e) => e.ev !== 'assign'),
              state(),
            ).toEqual([]);
            expect(
              after.flatMap((e) => e.parts).every((p) => killedParts.includes(p)),
              state(),
            ).toBe(true);
          }
        }

        // Exactly once, as produced. Closed (LeaveGroup) and their output read to the end, the
        // members can report nothing more: what they consumed is final, not what 500 ms showed.
        for (const m of survivors) m.kill('SIGTERM');
        expect(await Promise.all(survivors.map((m) => m.exit))).toEqual([0, 0, 0]);
        await Promise.all(survivors.map((m) => m.drained));
        expect(seen.length).toBe(expected.length);
        expect([...seen].sort()).toEqual([...expected].sort());
        expect(await committed(group, topic)).toEqual([90, 90, 90, 90, 90, 90]);

        // Restart: the group is empty; start 3 new members; only new records are consumed.
        expect((await describeGroup(group)).state).toBe('Empty');
        seen.length = 0;
        const restarted = [start(), start(), start()];
        await until(
          'restarted members with 2 partitions each',
          () => spread(restarted, [2, 2, 2]),
          30_000,
          () => restarted.map((m) => `[${m.owned}] ${m.stderr}`).join('\n'),
        );
        const fresh = await produce(topic, 6, 2, 'd');
        await until('the 12 new messages', () => seen.length >= 12);
        for (const m of restarted) m.kill('SIGTERM');
        expect(await Promise.all(restarted.map((m) => m.exit))).toEqual([0, 0, 0]);
        await Promise.all(restarted.map((m) => m.drained));
        expect([...seen].sort()).toEqual([...fresh].sort());
        expect(fresh.every((e) => /^\d:9[01]:/.test(e))).toBe(true);
      },
      120_000,
    );
  }

  it.skipIf(kcatMode === 'skip')(
    'kcat -G consumes everything; its offsets and membership show in OffsetFetch and DescribeGroups',
    async () => {
      if (kcatMode === 'fail')
        throw new Error(`'${KCAT}' is not runnable: ${kcatProbe.error ?? kcatProbe.stderr}`);
      const topic = 'kcat-groups';
      await tb.broker.controller.createTopic(topic, 3);
      const expected = await produce(topic, 3, 10, 'k');
      const kcatG = (extra: string[]) => {
        const child = spawn(
          KCAT,
          [
            '-b',
            tb.bootstrap,
            '-G',
            'kg',
            topic,
            '-u',
            '-f',
            '%p:%o:%s\\n',
            '-X',
            'auto.offset.reset=earliest',
            '-X',
            'auto.commit.interval.ms=100',
            '-X',
            `session.timeout.ms=${SESSION_TIMEOUT}`,
            '-X',
            'heartbeat.interval.ms=250',
            ...extra,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        children.add(child);
        const lines: string[] = [];
        let stderr = '';
        createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
        child.stderr!.on('data', (d) => {
          stderr += d;
        });
        const exit = new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
          child.on('exit', (code) => {
            clearTimeout(timer);
            children.delete(child);
            resolve(code);
          });
        });
        return { child, lines, exit, stderr: () => stderr };
      };

      // A long-running kcat -G: everything consumed, committed, and shown by DescribeGroups.
      const k = kcatG([]);
      await until('kcat consumed 30 messages', () => k.lines.length >= 30, 30_000, k.stderr);
      expect([...k.lines].sort()).toEqual([...expected].sort());
      // auto.commit.interval.ms=100: the offsets show in OffsetFetch while kcat runs.
      let offsets: number[] = [];
      await waitUntil(
        async () => {
          offsets = await committed('kg', topic);
          return offsets.join() === '10,10,10';
        },
        10_000,
        () => `kcat's commits: ${offsets}`,
        200,
      );
      expect(offsets).toEqual([10, 10, 10]);
      const live = await describeGroup('kg');
      expect(live.state).toBe('Stable');
      expect(live.protocolType).toBe('consumer');
      expect(live.protocol).toBe('range');
      expect(live.members).toHaveLength(1);
      expect(live.members[0]!.clientId).toBe('rdkafka');
      const assignment = AssignerProtocol.MemberAssignment.decode(live.members[0]!.memberAssignment);
      expect(sorted(assignment!.assignment[topic]!)).toEqual([0, 1, 2]);
      k.child.kill('SIGTERM');
      expect(await k.exit).toBe(0);
      expect((await describeGroup('kg')).state).toBe('Empty');
      expect(await committed('kg', topic)).toEqual([10, 10, 10]);

      // Again with -e: nothing committed comes back; then exactly the new records.
      const again = kcatG(['-e']);
      expect(await again.exit, again.stderr()).toBe(0);
      expect(again.lines).toEqual([]);
      const more = await produce(topic, 3, 1, 'k2');
      const last = kcatG(['-e']);
      expect(await last.exit, last.stderr()).toBe(0);
      expect([...last.lines].sort()).toEqual([...more].sort());
      expect(await committed('kg', topic)).toEqual([11, 11, 11]);
    },
    90_000,
  );
});
