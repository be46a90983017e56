/**
 * `Cluster.isolate(id)` / `heal(id)`: a network partition around one broker of an in-process
 * cluster (its fetchers and the others' cannot cross, its controller link is cut, clients still
 * reach it), on the brokers' MockTime:
 * - a follower cut off leaves the ISR after replica.lag.time.max.ms (its leader shrinks it) and,
 *   healed, catches up and rejoins;
 * - an isolated leader acknowledges no acks=-1 write (its followers do not fetch, its ISR shrink
 *   cannot reach the controller); once its session expires the controller fences it, the others
 *   lead, clients move to them, and when healed the old leader truncates what it appended alone.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { decodeRecordBatches } from '../protocol/records.js';
import { TestClient } from '../test-support/client.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';

const time = new MockTime(Date.now());
const LAG_MS = 10_000;
const SESSION_MS = 60_000;
let tc: TestCluster;
const producers: Producer[] = [];

beforeAll(async () => {
  tc = await startTestCluster(
    3,
    {
      'replica.fetch.wait.max.ms': '50',
      'replica.fetch.backoff.ms': '20',
      'replica.lag.time.max.ms': String(LAG_MS),
      'broker.session.timeout.ms': String(SESSION_MS),
      'min.insync.replicas': '2',
      'offsets.topic.num.partitions': '1',
    },
    { time },
  );
});

afterAll(async () => {
  for (const p of producers) await p.disconnect().catch(() => {});
  await tc.close();
});

const image = () => tc.cluster.controller.image;
const isr = (topic: string) => [...image().partition(topic, 0)!.isr].sort();

async function producer(bootstrap: string[], requestTimeout = 30_000): Promise<Producer> {
  const kafka = new Kafka({
    brokers: bootstrap,
    clientId: 'isolation',
    logLevel: logLevel.NOTHING,
    requestTimeout,
    retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 },
  });
  const p = kafka.producer({ allowAutoTopicCreation: false });
  await p.connect();
  producers.push(p);
  return p;
}

/** Produce v9 of one record straight to broker `id`; the partition's error code. */
async function produceTo(id: number, topic: string, value: string, timeoutMs: number): Promise<number> {
  const c = await TestClient.connect(tc.cluster.broker(id)!.port);
  try {
    const r = await c.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs,
      topicData: [
        { name: topic, partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ value }] }) }] },
      ],
    });
    return r.responses[0]!.partitionResponses[0]!.errorCode;
  } finally {
    c.close();
  }
}

/** Every record value of partition 0 in broker `id`'s log, up to its log end. */
function valuesOn(id: number, topic: string): string[] {
  const p = tc.partitionOn(id, topic);
  const out: string[] = [];
  for (let offset = p.logStartOffset; offset < p.logEndOffset; ) {
    const r = p.log.read(offset, 1 << 30, true, p.logEndOffset);
    if ('error' in r || r.records === null) break;
    for (const b of decodeRecordBatches(r.records)) {
      for (const rec of b.records) out.push(rec.value!.toString());
      offset = b.lastOffset + 1;
    }
  }
  return out;
}

describe('a network partition around one broker', () => {
  it('a follower cut off leaves the ISR after replica.lag.time.max.ms and rejoins once healed', async () => {
    tc.createTopic('iso-follower', [[1, 2, 3]]);
    await until(() => isr('iso-follower').length === 3, 10_000, 'full ISR');
    const p = await producer([tc.bootstrap(1)]);
    await p.send({ topic: 'iso-follower', acks: -1, messages: [{ value: 'before' }] });

    tc.cluster.isolate(3);
    // acks=-1 waits for every ISR member, the cut-off follower included, until the leader drops it.
    let acked = false;
    const sent = p.send({ topic: 'iso-follower', acks: -1, messages: [{ value: 'during' }] }).then((r) => {
      acked = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(acked).toBe(false);
    expect(isr('iso-follower')).toEqual([1, 2, 3]);
    // Half the lag time: still in the ISR.
    await time.advanceAsync(LAG_MS / 2, 1_000);
    expect(isr('iso-follower')).toEqual([1, 2, 3]);
    // Past it: the leader's isr-expiration proposes the shrink, the controller commits it.
    await time.advanceAsync(LAG_MS, 1_000);
    await until(() => isr('iso-follower').length === 2, 5_000, 'ISR shrunk');
    expect(isr('iso-follower')).toEqual([1, 2]);
    await sent;
    expect(acked).toBe(true);
    // The follower heard of none of it: its metadata is the one it had when cut off.
    expect(tc.partitionOn(3, 'iso-follower').logEndOffset).toBe(1);
    expect(image().brokers.get(3)!.fenced).toBe(false);

    tc.cluster.heal(3);
    await until(() => isr('iso-follower').length === 3, 10_000, 'follower back in the ISR');
    await until(() => tc.partitionOn(3, 'iso-follower').logEndOffset === 2, 5_000, 'follower caught up');
    expect(valuesOn(3, 'iso-follower')).toEqual(['before', 'during']);
    expect(tc.cluster.broker(3)!.faults.list()).toEqual([]);
  });

  it('an isolated leader acknowledges no acks=-1 write; once fenced, clients move to the new leader', async () => {
    tc.createTopic('iso-leader', [[1, 2, 3]]);
    await until(() => isr('iso-leader').length === 3, 10_000, 'full ISR');
    expect(await produceTo(1, 'iso-leader', 'a', 5_000)).toBe(0);
    const epochBefore = image().partition('iso-leader', 0)!.leaderEpoch;

    tc.cluster.isolate(1);
    // Appended by the leader, never replicated: the write times out.
    expect(await produceTo(1, 'iso-leader', 'alone-1', 500)).toBe(ErrorCode.REQUEST_TIMED_OUT);
    // Past replica.lag.time.max.ms the leader wants to shrink its ISR, but the controller is out of
    // reach: the shrink stays pending, the high watermark does not move, no write is acknowledged.
    await time.advanceAsync(LAG_MS * 2, 1_000);
    expect(tc.partitionOn(1, 'iso-leader').isrChangePending).toBe(true);
    expect(await produceTo(1, 'iso-leader', 'alone-2', 500)).toBe(ErrorCode.REQUEST_TIMED_OUT);
    expect(tc.partitionOn(1, 'iso-leader').highWatermark).toBe(1);
    expect(image().partition('iso-leader', 0)!.leader).toBe(1);

    // No heartbeat for broker.session.timeout.ms: fenced, leadership moves to an ISR member.
    await time.advanceAsync(SESSION_MS, 5_000);
    const moved = image().partition('iso-leader', 0)!;
    expect(image().brokers.get(1)!.fenced).toBe(true);
    expect([2, 3]).toContain(moved.leader);
    expect(moved.leaderEpoch).toBe(epochBefore + 1);
    expect([...moved.isr].sort()).toEqual([2, 3]);
    // The isolated broker still believes it leads.
    expect(tc.partitionOn(1, 'iso-leader').isLeader).toBe(true);

    // A client knowing every broker finds the new leader (through the brokers that hear the
    // controller) and writes there; the stale leader's answers time out.
    const p = await producer([tc.bootstrap(1), tc.bootstrap(2), tc.bootstrap(3)], 2_000);
    await p.send({ topic: 'iso-leader', acks: -1, timeout: 1_000, messages: [{ value: 'b' }] });
    expect(valuesOn(moved.leader, 'iso-leader')).toEqual(['a', 'b']);

    // Healed: it learns of the new leader, truncates what it appended alone, follows, rejoins.
    tc.cluster.heal(1);
    await until(() => isr('iso-leader').length === 3, 10_000, 'old leader back in the ISR');
    expect(image().brokers.get(1)!.fenced).toBe(false);
    expect(tc.partitionOn(1, 'iso-leader').isLeader).toBe(false);
    await until(() => tc.partitionOn(1, 'iso-leader').logEndOffset === 2, 5_000, 'caught up');
    expect(valuesOn(1, 'iso-leader')).toEqual(['a', 'b']);
  });
});
