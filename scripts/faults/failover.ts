/**
 * `npm run failover -- --loops 20 [--acks all|1|both] [--fault kill|stop|bounce|isolate|mixed] [--seed S]`
 *
 * Failover under load, in loops, on a 3-broker cluster in this process (`startCluster`): a topic of
 * 3 partitions with replication factor 3 and min.insync.replicas=2; one kafkajs producer per
 * partition sends numbered records (`<partition>-<n>`, one record per send, each waiting for its
 * answer before the next) while a broker is killed (no clean shutdown; fenced when
 * broker.session.timeout.ms passes, its leaderships moving to other ISR members) and started
 * again, `loops` times. Three kills out of four hit the leader of a partition, the others a broker
 * leading nothing of the topic when there is one (else any other broker). Before the next kill,
 * the restarted broker has caught up and rejoined every ISR.
 *
 * The checker then reads every partition back from its leader up to the high watermark:
 * - acks=all with idempotence: every acknowledged record is there exactly once, and the
 *   acknowledged records of a partition are in the order they were sent — violations fail the run;
 * - acks=1 (no idempotence): the count of acknowledged records that are gone is reported, not
 *   failed on: a leader acknowledges before its followers have the record, and a leader killed
 *   then loses what only it had once it returns as a follower and truncates to the new leader's
 *   log (Kafka's documentation says the same of acks=1).
 * In both modes, once every replica has caught up, each follower's segment files hold the same
 * bytes as its leader's below the high watermark, and after a clean shutdown Kafka's
 * kafka-dump-log (--deep-iteration, --index-sanity-check) passes over every broker's files when
 * the compat suite's Kafka tools are installed (compat-tests/kafka-tools/run.sh --install-only).
 *
 * The in-process run is `runInProcess`; a run over separate broker processes is another function.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { type EmbeddedCluster, startCluster } from '../../src/index.js';
import { Rng } from '../fuzz/mutate.js';
import { dumpLog, readValues } from './crash-loop.js';

const TOPIC = 'failover';
const PARTITIONS = 3;

const FAULTS = ['kill', 'stop', 'bounce', 'isolate'] as const;
type Fault = (typeof FAULTS)[number];

export interface FailoverOptions {
  loops: number;
  /** 'all': acks=-1 with an idempotent producer; '1': acks=1, not idempotent. */
  acks: 'all' | '1';
  seed?: number;
  /**
   * What happens to the victim: `kill` (killed, started again once fenced: the default), `stop`
   * (controlled shutdown, started again), `bounce` (killed and started again at once, before its
   * session expires), `isolate` (cut off from the other brokers and the controller, fenced when
   * its session expires, then healed), or `mixed` (each in turn).
   */
  fault?: Fault | 'mixed';
  /** Producing time before each kill and while the victim is down, ms. */
  upMs?: [number, number];
  downMs?: [number, number];
  progress?: (line: string) => void;
}

export interface FailoverResult {
  acks: 'all' | '1';
  loops: number;
  kills: number;
  /** Kills of a broker leading at least one partition of the topic at that moment. */
  leaderKills: number;
  /** Leader changes the controller made (sum of leader epoch increases over the partitions). */
  leaderEpochBumps: number;
  ackedRecords: number;
  /** Sends that failed after the client's retries (not acknowledged, may or may not be there). */
  failedSends: number;
  presentRecords: number;
  /** Acknowledged records not read back. */
  lost: number;
  /** Records (acknowledged or not) read back more than once, counting each extra copy. */
  duplicated: number;
  /** Partitions whose acknowledged records are not in the order they were sent. */
  outOfOrderPartitions: number;
  /** Bytes of segment files compared between each follower and its leader (below the high watermark). */
  replicaBytesCompared: number;
  /** kafka-dump-log runs over the brokers' files after the run (0 when Kafka's tools are not installed). */
  dumpLogRuns: number;
  /**
   * What fails the run: with acks=all any loss, duplicate or reordering; in both modes a follower
   * whose segment bytes differ from its leader's below the high watermark, or a kafka-dump-log problem.
   */
  violations: string[];
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Failover loops on `startCluster({ brokers: 3 })` in this process. */
export async function runInProcess(o: FailoverOptions): Promise<FailoverResult> {
  const t0 = Date.now();
  const rng = new Rng(o.seed ?? 1);
  const between = ([lo, hi]: [number, number]) => lo + Math.floor(rng.next() * (hi - lo + 1));
  const say = o.progress ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-failover-'));
  const cluster: EmbeddedCluster = await startCluster({
    brokers: 3,
    dataDir,
    config: {
      // A killed broker is fenced 1 s later (Kafka's default is 9 s): the loops stay short.
      'broker.session.timeout.ms': 1000,
      'min.insync.replicas': 2,
      'replica.fetch.wait.max.ms': 100,
      'replica.fetch.backoff.ms': 100,
    },
  });
  const producers: Producer[] = [];
  try {
    cluster.createTopic(TOPIC, { partitions: PARTITIONS, replicationFactor: 3 });
    const image = () => cluster.cluster.controller.image;
    const epochsAtStart = image()
      .topic(TOPIC)!
      .partitions.map((p) => p.leaderEpoch);
    const idempotent = o.acks === 'all';
    const client = new Kafka({
      clientId: `failover-${o.acks}`,
      brokers: cluster.brokers,
      logLevel: logLevel.NOTHING,
      // An isolated leader never answers acks=all: the client gives up on it after this and retries.
      requestTimeout: 3_000,
      retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    // One producer per partition: kafkajs's send of several partitions can drop the records of one
    // whose new leader already answered before a retry (tulios/kafkajs#1303).
    for (let p = 0; p < PARTITIONS; p++) {
      const producer = client.producer({
        idempotent,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      producers.push(producer);
    }

    const acked: string[][] = Array.from({ length: PARTITIONS }, () => []);
    let failedSends = 0;
    let stop = false;
    const senders = producers.map(async (producer, partition) => {
      for (let n = 0; !stop; n++) {
        const value = `${partition}-${n}`;
        try {
          await producer.send({
            topic: TOPIC,
            acks: o.acks === 'all' ? -1 : 1,
            timeout: 2_000,
            messages: [{ partition, value }],
          });
          acked[partition]!.push(value);
        } catch {
          failedSends++;
        }
      }
    });

    let kills = 0;
    let leaderKills = 0;
    const allInSync = () =>
      image()
        .topic(TOPIC)!
        .partitions.every((p) => p.isr.length === 3);
    for (let loop = 0; loop < o.loops; loop++) {
      await sleep(between(o.upMs ?? [300, 800]));
      const partitions = image().topic(TOPIC)!.partitions;
      const leaders = new Set(partitions.map((p) => p.leader));
      let victim: number;
      if (rng.next() < 0.75) victim = partitions[loop % PARTITIONS]!.leader;
      else {
        const idle = [1, 2, 3].filter((id) => !leaders.has(id));
        const pool = idle.length > 0 ? idle : [1, 2, 3];
        victim = pool[Math.floor(rng.next() * pool.length)]!;
      }
      if (leaders.has(victim)) leaderKills++;
      const fault: Fault = o.fault === 'mixed' ? FAULTS[loop % FAULTS.length]! : (o.fault ?? 'kill');
      if (fault === 'kill' || fault === 'bounce') await cluster.killBroker(victim);
      else if (fault === 'stop') await cluster.stopBroker(victim);
      else cluster.isolate(victim);
      kills++;
      if (fault !== 'bounce') {
        // The session expires (or the shutdown fenced it): its leaderships have moved.
        await waitFor(`broker ${victim} fenced`, 10_000, () => image().brokers.get(victim)?.fenced === true);
        await sleep(between(o.downMs ?? [200, 600]));
      }
      if (fault === 'isolate') cluster.heal(victim);
      else await cluster.startBroker(victim);
      await waitFor(`broker ${victim} back in every ISR`, 30_000, allInSync);
      const total = acked.reduce((s, a) => s + a.length, 0);
      say(
        `loop ${loop + 1}/${o.loops}: ${fault} ${victim}${leaders.has(victim) ? ' (a leader)' : ''}, ` +
          `back in sync; ${total} acknowledged, ${failedSends} failed sends`,
      );
    }
    // Some more records after the last return, then the producers stop.
    await sleep(300);
    stop = true;
    await Promise.all(senders);

    const state = image().topic(TOPIC)!;
    const leaderEpochBumps = state.partitions.reduce((s, p, i) => s + (p.leaderEpoch - epochsAtStart[i]!), 0);
    const violations: string[] = [];
    let lost = 0;
    let duplicated = 0;
    let present = 0;
    let outOfOrderPartitions = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const leader = cluster.broker(state.partitions[p]!.leader)!;
      const read = await readValues(leader.port, TOPIC, p, 0);
      present += read.length;
      const counts = new Map<string, number>();
      for (const v of read) counts.set(v, (counts.get(v) ?? 0) + 1);
      const missing = acked[p]!.filter((v) => !counts.has(v));
      lost += missing.length;
      const twice = [...counts].filter(([, n]) => n > 1);
      for (const [, n] of twice) duplicated += n - 1;
      // In order: the acknowledged records read back, as first seen, in the order they were sent.
      const ackedSet = new Set(acked[p]);
      const presentAcked = acked[p]!.filter((v) => counts.has(v));
      const firstSeen = [...new Set(read.filter((v) => ackedSet.has(v)))];
      const inOrder =
        firstSeen.length === presentAcked.length && firstSeen.every((v, i) => v === presentAcked[i]);
      if (!inOrder) outOfOrderPartitions++;
      if (o.acks === 'all') {
        if (missing.length > 0)
          violations.push(`partition ${p}: ${missing.length} acknowledged lost: ${missing.slice(0, 10)}`);
        if (twice.length > 0)
          violations.push(
            `partition ${p}: ${twice.length} records duplicated: ${twice.slice(0, 10).map(([v, n]) => `${v}×${n}`)}`,
          );
        if (!inOrder) violations.push(`partition ${p}: acknowledged records out of order`);
      }
    }
    // Every replica has everything (producers stopped): each follower's segment files hold the
    // same bytes as its leader's below the high watermark, whatever leader wrote each batch.
    const onBroker = (id: number, p: number) => cluster.broker(id)!.replicaManager.getPartition(TOPIC, p)!;
    await waitFor('every replica caught up', 30_000, () =>
      state.partitions.every((ps) => {
        const leader = onBroker(ps.leader, ps.partitionId);
        return (
          leader.highWatermark === leader.logEndOffset &&
          ps.replicas.every((id) => onBroker(id, ps.partitionId).logEndOffset === leader.logEndOffset)
        );
      }),
    );
    let replicaBytesCompared = 0;
    for (const ps of state.partitions) {
      const hw = onBroker(ps.leader, ps.partitionId).highWatermark;
      const leaderBytes = logBytesBelow(cluster.cluster.brokerDir(ps.leader), ps.partitionId, hw);
      for (const id of ps.replicas) {
        if (id === ps.leader) continue;
        const bytes = logBytesBelow(cluster.cluster.brokerDir(id), ps.partitionId, hw);
        replicaBytesCompared += bytes.length;
        if (!bytes.equals(leaderBytes))
          violations.push(
            `partition ${ps.partitionId}: broker ${id}'s segments differ from leader ${ps.leader}'s below the high watermark ${hw}`,
          );
      }
    }
    // Kafka's kafka-dump-log over every broker's files, after a clean shutdown (when installed).
    await Promise.all(producers.splice(0).map((p) => p.disconnect().catch(() => {})));
    await cluster.close();
    let dumpLogRuns = 0;
    for (const id of [1, 2, 3]) {
      const problems = dumpLog(join(dataDir, `broker-${id}`));
      if (problems === null) continue;
      dumpLogRuns++;
      violations.push(...problems.map((p) => `broker ${id}: ${p}`));
    }
    return {
      acks: o.acks,
      loops: o.loops,
      kills,
      leaderKills,
      leaderEpochBumps,
      ackedRecords: acked.reduce((s, a) => s + a.length, 0),
      failedSends,
      presentRecords: present,
      lost,
      duplicated,
      outOfOrderPartitions,
      replicaBytesCompared,
      dumpLogRuns,
      violations,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
    await cluster.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The bytes of partition `partition`'s segment files in a broker's data directory, in offset
 * order, up to the end of the last batch below `end` (segments may roll at other offsets on
 * another broker; the concatenation is what must match).
 */
function logBytesBelow(brokerDir: string, partition: number, end: number): Buffer {
  const dir = join(brokerDir, `${TOPIC}-${partition}`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
  const all = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
  let pos = 0;
  // Record batch header: baseOffset int64, batchLength int32, …, lastOffsetDelta int32 at byte 23.
  while (pos + 27 <= all.length) {
    const lastOffset = Number(all.readBigInt64BE(pos)) + all.readInt32BE(pos + 23);
    const size = 12 + all.readInt32BE(pos + 8);
    if (lastOffset >= end || pos + size > all.length) break;
    pos += size;
  }
  return all.subarray(0, pos);
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const loops = Number(arg('loops') ?? 20);
  const seed = Number(arg('seed') ?? 1);
  const acksArg = arg('acks') ?? 'both';
  const fault = (arg('fault') ?? 'kill') as Fault | 'mixed';
  const modes: ('all' | '1')[] = acksArg === 'both' ? ['all', '1'] : [acksArg as 'all' | '1'];
  let ok = true;
  for (const acks of modes) {
    const res = await runInProcess({
      loops,
      acks,
      seed,
      fault,
      progress: (l) => process.stderr.write(`${new Date().toISOString()} acks=${acks} ${l}\n`),
    });
    process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
    if (res.violations.length > 0) ok = false;
  }
  process.stdout.write(ok ? 'failover: PASS\n' : 'failover: FAIL\n');
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
