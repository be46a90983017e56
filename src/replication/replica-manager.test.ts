/**
 * The replica manager's data path without TCP: a real ReplicaManager over real storage in a
 * temporary directory, driven by a MockTime.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MockTime } from '../common/time.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { openTestReplicas, type TestReplicas } from '../test-support/replicas.js';
import type { ReplicaManager } from './replica-manager.js';

let env: TestReplicas;
let time: MockTime;
let rm: ReplicaManager;

beforeEach(() => {
  env = openTestReplicas();
  ({ time, replicas: rm } = env);
});

afterEach(() => env.close());

/** Creates a topic through the controller; its partitions as this broker hosts them. */
function createTopic(name: string, partitions: number, configs: Record<string, string> = {}) {
  // A LocalController applies the change before the call returns.
  void env.controller.createTopic(name, partitions, configs);
  return { partitions: Array.from({ length: partitions }, (_, i) => rm.getPartition(name, i)!) };
}

async function produce(topic: string, n: number): Promise<void> {
  const t = { partitions: [rm.getPartition(topic, 0)], effectiveConfig: rm.topicConfig(topic)! };
  const records = buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: time.now() })),
  });
  const [r] = await rm.appendRecords(-1, [
    { partition: t.partitions[0]!, records, topicConfig: t.effectiveConfig },
  ]);
  expect(r!.error).toBe('NONE');
}

describe('ReplicaManager data path', () => {
  it('deleteRecords: up to the high watermark (-1 = it), OFFSET_OUT_OF_RANGE beyond, unknown partitions', async () => {
    createTopic('t', 1);
    await produce('t', 10);
    expect(await rm.deleteRecords('t', 0, 4)).toEqual({ error: 'NONE', lowWatermark: 4 });
    expect(await rm.deleteRecords('t', 0, 11)).toEqual({ error: 'OFFSET_OUT_OF_RANGE', lowWatermark: -1 });
    expect(await rm.deleteRecords('t', 0, -2)).toEqual({ error: 'OFFSET_OUT_OF_RANGE', lowWatermark: -1 });
    expect(await rm.deleteRecords('t', 0, -1)).toEqual({ error: 'NONE', lowWatermark: 10 });
    expect(await rm.deleteRecords('t', 1, 0)).toEqual({
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      lowWatermark: -1,
    });
    expect(await rm.deleteRecords('nope', 0, 0)).toEqual({
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      lowWatermark: -1,
    });
  });

  it('deleteRecords on a compact-only topic is POLICY_VIOLATION (Kafka Partition.deleteRecordsOnLeader); compact,delete allows it', async () => {
    createTopic('c', 1, { 'cleanup.policy': 'compact' });
    createTopic('cd', 1, { 'cleanup.policy': 'compact,delete' });
    await produce('c', 5);
    await produce('cd', 5);
    expect(await rm.deleteRecords('c', 0, 3)).toEqual({ error: 'POLICY_VIOLATION', lowWatermark: -1 });
    expect(rm.getPartition('c', 0)!.logStartOffset).toBe(0);
    expect(await rm.deleteRecords('cd', 0, 3)).toEqual({ error: 'NONE', lowWatermark: 3 });
  });

  it('lastOffsetForLeaderEpoch: the end of the asked epoch; stale and future current epochs fenced', () => {
    createTopic('t', 1);
    expect(rm.lastOffsetForLeaderEpoch('t', 0, 0, 0)).toEqual({
      error: 'NONE',
      leaderEpoch: 0,
      endOffset: 0,
    });
    expect(rm.lastOffsetForLeaderEpoch('t', 0, 0, 1)).toEqual({
      error: 'UNKNOWN_LEADER_EPOCH',
      leaderEpoch: -1,
      endOffset: -1,
    });
    expect(rm.lastOffsetForLeaderEpoch('t', 0, 0, -1).error).toBe('NONE');
    expect(rm.lastOffsetForLeaderEpoch('t', 3, 0).error).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('fetchMessages waits in the purgatory until data arrives, then reads again; a deleted topic ends the wait', async () => {
    createTopic('t', 1);
    const controller = new AbortController();
    const params = { maxWaitMs: 10_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 };
    const request = [
      {
        topic: 't',
        partition: 0,
        missing: 'UNKNOWN_TOPIC_OR_PARTITION' as const,
        fetchOffset: 0,
        partitionMaxBytes: 1 << 20,
      },
    ];
    const waiting = rm.fetchMessages(params, request, controller.signal);
    expect(rm.fetchPurgatorySize).toBe(1);
    await produce('t', 3);
    const [r] = await waiting;
    expect(r!.error).toBe('NONE');
    expect(r!.highWatermark).toBe(3);
    expect(r!.records!.length).toBeGreaterThan(0);
    expect(rm.fetchPurgatorySize).toBe(0);

    const again = rm.fetchMessages(params, [{ ...request[0]!, fetchOffset: 3 }], controller.signal);
    expect(rm.fetchPurgatorySize).toBe(1);
    await env.controller.deleteTopics(['t']);
    expect((await again)[0]!.error).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(rm.fetchPurgatorySize).toBe(0);
  });
});

describe('acks=-1 waits for the in-sync replicas (DelayedProduce)', () => {
  const batch = (n: number) =>
    buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ value: `v${i}`, timestamp: 1 })) });

  it('on a one-replica partition answers in the same event-loop turn: no timer, no purgatory wait', async () => {
    const t = createTopic('one', 1);
    const p = t.partitions[0]!;
    expect(p.isr).toEqual([p.replicas[0]]);
    const nextTurn = new Promise<'next turn'>((r) => setImmediate(() => r('next turn')));
    const answer = await Promise.race([
      rm.appendRecords(-1, [{ partition: p, records: batch(3), topicConfig: rm.topicConfig('one')! }], 5000),
      nextTurn,
    ]);
    // The clock never moved and no I/O callback ran: the answer came from the append itself.
    expect(answer).not.toBe('next turn');
    expect((answer as Exclude<typeof answer, string>)[0]).toMatchObject({ error: 'NONE', lastOffset: 2 });
    expect(p.highWatermark).toBe(3);
  });

  it('answers once the high watermark passes the batch, as followers report their fetches', async () => {
    const t = createTopic('r', 1, { 'min.insync.replicas': '2' });
    const p = t.partitions[0]!;
    p.replicas = [1, 2, 3];
    p.updateIsr([1, 2, 3]);
    let done = false;
    const pending = rm
      .appendRecords(-1, [{ partition: p, records: batch(3), topicConfig: rm.topicConfig('r')! }], 5000)
      .then((r) => {
        done = true;
        return r;
      });
    await Promise.resolve();
    expect([p.logEndOffset, p.highWatermark, done]).toEqual([3, 0, false]);
    p.updateFollowerFetchState(2, 3);
    await Promise.resolve();
    expect(done).toBe(false); // replica 3 is in the ISR and has nothing yet
    p.updateFollowerFetchState(3, 3);
    const [r] = await pending;
    expect(r).toMatchObject({ error: 'NONE', baseOffset: 0, lastOffset: 2 });
    expect(p.highWatermark).toBe(3);
  });

  it('answers REQUEST_TIMED_OUT when the replicas do not catch up in time; acks=1 never waits', async () => {
    const t = createTopic('slow', 1);
    const p = t.partitions[0]!;
    p.replicas = [1, 2];
    p.updateIsr([1, 2]);
    const cfg = rm.topicConfig('slow')!;
    const [one] = await rm.appendRecords(1, [{ partition: p, records: batch(1), topicConfig: cfg }], 100);
    expect(one!.error).toBe('NONE');
    const waiting = rm.appendRecords(-1, [{ partition: p, records: batch(1), topicConfig: cfg }], 100);
    time.advance(100);
    expect((await waiting)[0]!.error).toBe('REQUEST_TIMED_OUT');
  });

  it('NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks below the min ISR before the batch is replicated', async () => {
    const t = createTopic('shrink', 1, { 'min.insync.replicas': '2' });
    const p = t.partitions[0]!;
    p.replicas = [1, 2];
    p.updateIsr([1, 2]);
    const waiting = rm.appendRecords(
      -1,
      [{ partition: p, records: batch(2), topicConfig: rm.topicConfig('shrink')! }],
      5000,
    );
    p.updateIsr([1]); // the follower dropped out: the leader alone now, the high watermark moves
    expect((await waiting)[0]!.error).toBe('NOT_ENOUGH_REPLICAS_AFTER_APPEND');
    expect(p.highWatermark).toBe(2);
  });

  it('a deleted topic ends its waiting produces with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const t = createTopic('gone', 1);
    const p = t.partitions[0]!;
    p.replicas = [1, 2];
    p.updateIsr([1, 2]);
    const waiting = rm.appendRecords(
      -1,
      [{ partition: p, records: batch(1), topicConfig: rm.topicConfig('gone')! }],
      5000,
    );
    await env.controller.deleteTopics(['gone']);
    expect((await waiting)[0]!.error).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

describe('DeleteRecords waits for the replicas (DelayedDeleteRecords)', () => {
  it('answers once every replica has moved its log start offset; REQUEST_TIMED_OUT otherwise', async () => {
    const t = createTopic('dr', 1);
    // Broker 2 is alive (registered, unfenced): its replica's log start offset holds the answer back.
    await env.controller.registerBroker(
      2,
      [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 1, securityProtocol: 'PLAINTEXT' }],
      null,
    );
    const p = t.partitions[0]!;
    p.replicas = [1, 2];
    p.updateIsr([1, 2]);
    p.updateFollowerFetchState(2, 0, 0);
    const records = buildRecordBatch({
      records: Array.from({ length: 10 }, () => ({ value: 'v', timestamp: 1 })),
    });
    await rm.appendRecords(1, [{ partition: p, records, topicConfig: rm.topicConfig('dr')! }]);
    p.updateFollowerFetchState(2, 10, 0); // the follower has everything: the high watermark is 10
    expect(p.highWatermark).toBe(10);

    let answered = false;
    const waiting = rm.deleteRecords('dr', 0, 6, 5000).then((r) => {
      answered = true;
      return r;
    });
    await Promise.resolve();
    expect(p.logStartOffset).toBe(6); // the leader moved at once
    expect(answered).toBe(false); // the follower has not yet
    p.updateFollowerFetchState(2, 10, 6);
    expect(await waiting).toEqual({ error: 'NONE', lowWatermark: 6 });

    const late = rm.deleteRecords('dr', 0, 8, 1000);
    time.advance(1000);
    expect(await late).toEqual({ error: 'REQUEST_TIMED_OUT', lowWatermark: -1 });
  });
});

describe('applyDelta: the metadata image leads the partitions', () => {
  it('followers and leaders as the image says; a fenced leader hands over with a new leader epoch', async () => {
    await env.controller.registerBroker(
      2,
      [{ name: 'PLAINTEXT', host: 'h', port: 2, securityProtocol: 'PLAINTEXT' }],
      null,
    );
    await env.controller.createTopics(
      [
        {
          name: 'm',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [
            { partitionIndex: 0, brokerIds: [1, 2] },
            { partitionIndex: 1, brokerIds: [2, 1] },
          ],
          configs: [],
        },
      ],
      false,
    );
    const led = rm.getPartition('m', 0)!;
    expect([led.leaderId, led.replicas, led.isr]).toEqual([1, [1, 2], [1, 2]]);
    const followed = rm.getPartition('m', 1)!;
    expect([followed.leaderId, followed.leaderEpoch]).toEqual([2, 0]); // a follower here (makeFollowers)

    await env.controller.fenceBroker(2);
    expect(rm.getPartition('m', 0)).toBe(led); // still led here: the ISR shrank
    expect(led.isr).toEqual([1]);
    const taken = rm.getPartition('m', 1)!; // makeLeaders: this broker leads from epoch 1
    expect([taken.leaderId, taken.leaderEpoch, taken.isr]).toEqual([1, 1, [1]]);
    expect(taken.log.leaderEpochCache.latestEpoch()).toBe(1);
    expect(rm.lastOffsetForLeaderEpoch('m', 1, 1, 1)).toEqual({
      error: 'NONE',
      leaderEpoch: 1,
      endOffset: 0,
    });
  });

  it('topic configs in the image reach the logs and the effective configs', async () => {
    await env.controller.createTopic('cfg', 1);
    await env.controller.alterConfigs(
      [{ resourceType: 2, resourceName: 'cfg', configs: [{ name: 'retention.ms', value: '1234' }] }],
      false,
    );
    expect(rm.getPartition('cfg', 0)!.log.config.retentionMs).toBe(1234);
    expect(rm.topicConfig('cfg')!['retention.ms']).toBe('1234');
    await env.controller.alterConfigs(
      [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.bytes', value: '4096' }] }],
      false,
    );
    expect(rm.getPartition('cfg', 0)!.log.config.retentionBytes).toBe(4096);
    expect(env.config.dynamicConfigs('default')).toEqual({ 'log.retention.bytes': '4096' });
  });
});
