/**
 * The marker channel against a fake cluster: partitions grouped by leader into one WriteTxnMarkers
 * each, this broker's own written in place, retries (after the backoff, on the broker's clock) when
 * a leader moved or a connection failed, deleted topics dropped, and a stop when the coordinator
 * lost the transaction or a leader fenced it.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import type { ErrorName } from '../../protocol/generated/errors.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import type { WriteTxnMarkersRequestData } from '../../protocol/generated/messages.js';
import {
  type InterBrokerView,
  type TopicPartitionRef,
  type TxnMarker,
  TxnMarkerChannel,
} from './txn-marker-channel.js';

const marker: TxnMarker = {
  producerId: 7,
  producerEpoch: 2,
  result: 'COMMIT',
  coordinatorEpoch: 3,
  transactionVersion: 0,
};

interface Sent {
  broker: number;
  request: WriteTxnMarkersRequestData;
}

function setup(
  leaders: Map<string, number>,
  answer: (broker: number, tp: TopicPartitionRef, attempt: number) => ErrorName | 'DISCONNECT',
) {
  const time = new MockTime();
  const sent: Sent[] = [];
  const local: TopicPartitionRef[][] = [];
  const attempts = new Map<string, number>();
  const view: InterBrokerView = {
    nodeId: 1,
    leaderOf: (topic, partition) => leaders.get(`${topic}-${partition}`),
    send: <T>(broker: number, apiKey: number, version: number, body: unknown): Promise<T> => {
      expect(apiKey).toBe(27);
      expect(version).toBe(2);
      const request = body as WriteTxnMarkersRequestData;
      sent.push({ broker, request });
      const m = request.markers[0]!;
      const topics = m.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => {
          const key = `${t.name}-${p}`;
          const n = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, n);
          return { partitionIndex: p, answer: answer(broker, { topic: t.name, partition: p }, n) };
        }),
      }));
      if (topics.some((t) => t.partitions.some((p) => p.answer === 'DISCONNECT')))
        return Promise.reject(new Error('connection closed'));
      return Promise.resolve({
        markers: [
          {
            producerId: m.producerId,
            topics: topics.map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partitionIndex,
                errorCode: ErrorCode[p.answer as ErrorName],
              })),
            })),
          },
        ],
      } as T);
    },
  };
  const channel = new TxnMarkerChannel({
    view,
    nodeId: 1,
    writeLocal: (_m, tps) => {
      local.push([...tps]);
      return Promise.resolve(tps.map(() => 'NONE' as const));
    },
    topicExists: (topic) => [...leaders.keys()].some((k) => k.startsWith(`${topic}-`)),
    time,
    log: silentLogger,
    retryBackoffMs: 100,
  });
  return { time, sent, local, channel };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Lets pending promise callbacks run, then moves the clock past one backoff. */
async function step(time: MockTime): Promise<void> {
  await flush();
  time.advance(100);
}

const tps = (...names: string[]) =>
  names.map((n) => {
    const [topic, p] = n.split('-');
    return { topic: topic!, partition: Number(p) };
  });

describe('TxnMarkerChannel', () => {
  it('sends one WriteTxnMarkers per leader and writes its own partitions in place', async () => {
    const leaders = new Map([
      ['a-0', 1],
      ['a-1', 2],
      ['b-0', 2],
      ['b-1', 3],
    ]);
    const { sent, local, channel } = setup(leaders, () => 'NONE');
    expect(await channel.send(marker, tps('a-0', 'a-1', 'b-0', 'b-1'), () => true, 'tx')).toBe('written');
    expect(local).toEqual([tps('a-0')]);
    expect(sent.map((s) => s.broker).sort()).toEqual([2, 3]);
    const to2 = sent.find((s) => s.broker === 2)!.request.markers[0]!;
    expect(to2).toMatchObject({
      producerId: 7,
      producerEpoch: 2,
      transactionResult: true,
      coordinatorEpoch: 3,
    });
    expect(to2.topics).toEqual([
      { name: 'a', partitionIndexes: [1] },
      { name: 'b', partitionIndexes: [0] },
    ]);
  });

  it('retries after the backoff at the new leader when one answers NOT_LEADER_OR_FOLLOWER or the connection fails', async () => {
    const leaders = new Map([
      ['a-0', 2],
      ['a-1', 3],
    ]);
    const { time, sent, channel } = setup(leaders, (broker, tp, n) => {
      if (tp.partition === 0 && n === 1) return 'NOT_LEADER_OR_FOLLOWER';
      if (tp.partition === 1 && broker === 3) return 'DISCONNECT';
      return 'NONE';
    });
    let outcome: string | undefined;
    void channel
      .send(marker, tps('a-0', 'a-1'), () => true, 'tx')
      .then((o) => {
        outcome = o;
      });
    await flush();
    expect(outcome).toBeUndefined();
    // a-1's leader moved to broker 2 meanwhile.
    leaders.set('a-1', 2);
    time.advance(100);
    await flush();
    expect(outcome).toBe('written');
    expect(sent.map((s) => s.broker)).toEqual([2, 3, 2]);
    expect(sent[2]!.request.markers[0]!.topics).toEqual([{ name: 'a', partitionIndexes: [0, 1] }]);
  });

  it('drops a partition whose topic is gone, stops when no longer the coordinator, and on a fenced epoch', async () => {
    const leaders = new Map([['a-0', 2]]);
    const gone = setup(leaders, () => 'NONE');
    expect(await gone.channel.send(marker, tps('a-0', 'x-0'), () => true, 'tx')).toBe('written');
    expect(gone.sent).toHaveLength(1);

    const moved = setup(leaders, () => 'NOT_LEADER_OR_FOLLOWER');
    let owned = true;
    let outcome: string | undefined;
    void moved.channel
      .send(marker, tps('a-0'), () => owned, 'tx')
      .then((o) => {
        outcome = o;
      });
    await step(moved.time);
    owned = false;
    await step(moved.time);
    expect(outcome).toBe('stopped');

    const fenced = setup(leaders, () => 'TRANSACTION_COORDINATOR_FENCED');
    expect(await fenced.channel.send(marker, tps('a-0'), () => true, 'tx')).toBe('fenced');
  });
});
