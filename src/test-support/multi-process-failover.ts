/**
 * Failover across processes: one etcd (started here), three `kbroker start --node-id N --etcd URL`
 * child processes, a topic of replication factor 3 with min.insync.replicas=2, and a kafkajs
 * producer with idempotence (acks=all) sending numbered records to every partition while, each
 * loop, the process leading one of the partitions (each in turn) is killed with SIGKILL, then started again from its data
 * directory once the others have taken over its leaderships. At the end a consumer reads every
 * partition back and the checker requires: every acknowledged record exactly once, acknowledged
 * records in the order they were sent per partition, no record twice at all.
 *
 * Used by `npm run failover -- --multi-process --loops 20` (scripts/faults/failover-multi-process.ts) and (a shorter run) by
 * src/server/etcd-cluster.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { type EtcdServer, startEtcd } from './etcd.js';
import { freePort } from './free-port.js';
import { type BrokerProcess, spawnBroker } from './process.js';

export interface MultiProcessFailoverOptions {
  loops: number;
  /** Partitions of the topic (each sent to by its own sequential sender). */
  partitions?: number;
  /** etcd lease of each broker process: how long after a kill the controller fences it. */
  sessionTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface FailoverReport {
  loops: number;
  sent: number;
  acknowledged: number;
  /** Sends that failed (not acknowledged): may or may not be in the log. */
  failed: number;
  /** Acknowledged records not found. */
  lost: number;
  /** Records found more than once. */
  duplicated: number;
  /** Acknowledged records found out of their send order within the partition. */
  outOfOrder: number;
  /** Records read that were never sent (corruption). */
  unknown: number;
  /** Which broker was killed each loop. */
  killed: number[];
  durationMs: number;
}

const TOPIC = 'failover';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runMultiProcessFailover(o: MultiProcessFailoverOptions): Promise<FailoverReport> {
  const log = o.log ?? (() => {});
  const partitions = o.partitions ?? 3;
  const sessionTimeoutMs = o.sessionTimeoutMs ?? 3000;
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'kbroker-failover-mp-'));
  const ids = [1, 2, 3];
  const procs = new Map<number, BrokerProcess>();
  const ports = new Map<number, number>();
  let etcd: EtcdServer | undefined;
  let producer: Producer | undefined;
  const start = async (id: number): Promise<void> => {
    let port = ports.get(id) ?? (await freePort());
    for (let attempt = 0; ; attempt++) {
      try {
        const p = await spawnBroker(
          [
            'start',
            '--node-id',
            String(id),
            '--port',
            String(port),
            '--etcd',
            etcd!.endpoints.join(','),
            '--data-dir',
            join(dir, `broker-${id}`),
            '--log-level',
            'warn',
            '--override',
            `broker.session.timeout.ms=${sessionTimeoutMs}`,
            '--override',
            'replica.lag.time.max.ms=5000',
            '--override',
            'offsets.topic.replication.factor=3',
            '--override',
            'group.initial.rebalance.delay.ms=0',
          ],
          {},
          60_000,
        );
        procs.set(id, p);
        ports.set(id, port);
        return;
      } catch (err) {
        // The port taken meanwhile by another process of this machine: another one.
        if (attempt >= 2 || !/EADDRINUSE/.test(String(err))) throw err;
        port = await freePort();
      }
    }
  };
  const bootstrap = () => [...procs.keys()].map((id) => `127.0.0.1:${ports.get(id)}`);
  try {
    etcd = await startEtcd();
    log(`etcd at ${etcd.endpoints.join(',')}`);
    await Promise.all(ids.map((id) => start(id)));
    log(`brokers on ports ${[...ports.values()].join(', ')}`);
    const kafka = new Kafka({
      clientId: 'failover-mp',
      brokers: () => bootstrap(),
      logLevel: logLevel.NOTHING,
      retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 3000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          numPartitions: partitions,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();

    // One sequential sender per partition (kafkajs retries a multi-partition send wrongly, #1303).
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: number[][] = Array.from({ length: partitions }, () => []);
    let sent = 0;
    let failed = 0;
    let stop = false;
    const sender = async (partition: number) => {
      for (let n = 0; !stop; n++) {
        sent++;
        try {
          await producer!.send({
            topic: TOPIC,
            acks: -1,
            messages: [{ partition, key: String(partition), value: `${partition}:${n}` }],
          });
          acked[partition]!.push(n);
        } catch {
          failed++;
          await sleep(100);
        }
      }
    };
    const senders = Array.from({ length: partitions }, (_, p) => sender(p));

    const watcher = kafka.admin();
    await watcher.connect();
    const metadata = async () =>
      (await watcher.fetchTopicMetadata({ topics: [TOPIC] })).topics[0]!.partitions;
    const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          if (await ok()) return;
        } catch {
          // a broker of the bootstrap list is down: asked again
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
      }
    };
    const killed: number[] = [];
    for (let loop = 1; loop <= o.loops; loop++) {
      // Load for a moment, then kill a leader: of partition 0, 1, 2... in turn, so that every
      // broker (the elected controller among them) dies in some loops.
      await sleep(1000);
      const target = (loop - 1) % partitions;
      const leader = (await metadata()).find((p) => p.partitionId === target)!.leader;
      const victim = procs.get(leader) ? leader : ids[loop % 3]!;
      killed.push(victim);
      const p = procs.get(victim)!;
      p.child.kill('SIGKILL');
      await p.exited;
      procs.delete(victim);
      // Leadership moves once its lease expires and the controller fences it.
      await until(`leaders away from broker ${victim}`, async () =>
        (await metadata()).every((q) => q.leader !== victim && q.leader >= 0),
      );
      await sleep(500);
      await start(victim);
      // Back in every ISR (caught up) before the next kill: min.insync.replicas=2 holds throughout.
      await until(`broker ${victim} back in every ISR`, async () =>
        (await metadata()).every((q) => q.isr.length === 3),
      );
      log(
        `loop ${loop}: killed broker ${victim}; acknowledged ${acked.reduce((a, l) => a + l.length, 0)}, failed sends ${failed}`,
      );
    }
    stop = true;
    await Promise.all(senders);
    await producer.disconnect();
    producer = undefined;
    await watcher.disconnect();

    // Read everything back.
    const ends = await (async () => {
      const a = kafka.admin();
      await a.connect();
      try {
        return await a.fetchTopicOffsets(TOPIC);
      } finally {
        await a.disconnect();
      }
    })();
    const total = ends.reduce((s, e) => s + Number(e.high), 0);
    const read: string[][] = Array.from({ length: partitions }, () => []);
    const consumer = kafka.consumer({ groupId: `failover-check-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    let count = 0;
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          read[partition]!.push(message.value!.toString());
          if (++count >= total) resolve();
        },
      });
      if (total === 0) resolve();
    });
    await Promise.race([done, sleep(120_000)]);
    await consumer.disconnect();

    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    let unknown = 0;
    for (let p = 0; p < partitions; p++) {
      const seen = new Map<number, number>();
      const order: number[] = [];
      for (const v of read[p]!) {
        const [pp, nn] = v.split(':').map(Number);
        if (pp !== p || !Number.isInteger(nn)) {
          unknown++;
          continue;
        }
        seen.set(nn!, (seen.get(nn!) ?? 0) + 1);
        order.push(nn!);
      }
      for (const c of seen.values()) if (c > 1) duplicated += c - 1;
      const ackedSet = new Set(acked[p]);
      for (const n of acked[p]!) if (!seen.has(n)) lost++;
      // Acknowledged records in their send order.
      const ackedOrder = order.filter((n) => ackedSet.has(n));
      for (let i = 1; i < ackedOrder.length; i++) if (ackedOrder[i]! <= ackedOrder[i - 1]!) outOfOrder++;
    }
    return {
      loops: o.loops,
      sent,
      acknowledged: acked.reduce((a, l) => a + l.length, 0),
      failed,
      lost,
      duplicated,
      outOfOrder,
      unknown,
      killed,
      durationMs: Date.now() - started,
    };
  } finally {
    await producer?.disconnect().catch(() => {});
    for (const p of procs.values()) p.child.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.exited));
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
