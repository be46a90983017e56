import { describe, expect, it } from 'vitest';
import {
  FETCH_SESSION_EVICTION_MS,
  type FetchContext,
  FetchSessionCache,
  type FetchSessionRequest,
  MAX_UNKNOWN_PARTITIONS_PER_SESSION,
  nextEpoch,
  type SessionPartitionRequest,
  type SessionPartitionResult,
} from './fetch-session.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';

function part(topic: string, partition: number, fetchOffset = 0): SessionPartitionRequest {
  return {
    topic,
    topicId: ZERO,
    partition,
    fetchOffset,
    partitionMaxBytes: 1024,
    currentLeaderEpoch: -1,
    logStartOffset: -1,
    lastFetchedEpoch: -1,
  };
}

function result(highWatermark: number, records = 0, error: SessionPartitionResult['error'] = 'NONE') {
  return { error, highWatermark, logStartOffset: 0, records: records > 0 ? Buffer.alloc(records) : null };
}

function request(over: Partial<FetchSessionRequest>): FetchSessionRequest {
  return {
    version: 12,
    sessionId: 0,
    epoch: 0,
    isFollower: false,
    partitions: [],
    forgotten: [],
    resolveTopic: () => undefined,
    ...over,
  };
}

/** A full fetch of `partitions` creating a session (or not); returns its id. */
function open(
  cache: FetchSessionCache,
  partitions: SessionPartitionRequest[],
  now: number,
  isFollower = false,
) {
  const ctx = cache.newContext(request({ partitions, isFollower }), now);
  expect(ctx.kind).toBe('full');
  return cache.createSession(
    ctx as FetchContext & { kind: 'full' },
    partitions,
    partitions.map(() => result(10)),
    now,
  );
}

describe('nextEpoch', () => {
  it('counts up, wraps to 1, keeps the final epoch final', () => {
    expect(nextEpoch(0)).toBe(1);
    expect(nextEpoch(41)).toBe(42);
    expect(nextEpoch(2147483647)).toBe(1);
    expect(nextEpoch(-1)).toBe(-1);
  });
});

describe('FetchSessionCache contexts', () => {
  it('epoch -1 is sessionless; epoch 0 is full and creates a session with epoch 1', () => {
    const cache = new FetchSessionCache(10);
    expect(cache.newContext(request({ epoch: -1 }), 0).kind).toBe('sessionless');
    expect(cache.size).toBe(0);
    const id = open(cache, [part('a', 0), part('a', 1)], 0);
    expect(id).toBeGreaterThan(0);
    expect(cache.get(id)!.epoch).toBe(1);
    expect(cache.totalPartitions).toBe(2);
  });

  it('an unknown id is FETCH_SESSION_ID_NOT_FOUND, a wrong epoch INVALID_FETCH_SESSION_EPOCH', () => {
    const cache = new FetchSessionCache(10);
    const id = open(cache, [part('a', 0)], 0);
    expect(cache.newContext(request({ sessionId: id + 1, epoch: 1 }), 1)).toEqual({
      kind: 'error',
      error: 'FETCH_SESSION_ID_NOT_FOUND',
    });
    expect(cache.newContext(request({ sessionId: id, epoch: 2 }), 1)).toEqual({
      kind: 'error',
      error: 'INVALID_FETCH_SESSION_EPOCH',
    });
    // The right epoch works, once: the same epoch again is a duplicate.
    expect(cache.newContext(request({ sessionId: id, epoch: 1 }), 1).kind).toBe('incremental');
    expect(cache.newContext(request({ sessionId: id, epoch: 1 }), 1)).toMatchObject({
      error: 'INVALID_FETCH_SESSION_EPOCH',
    });
    expect(cache.newContext(request({ sessionId: id, epoch: 2 }), 1).kind).toBe('incremental');
  });

  it('a session of names refuses a topic-id request and the other way round', () => {
    const cache = new FetchSessionCache(10);
    const id = open(cache, [part('a', 0)], 0);
    expect(cache.newContext(request({ version: 13, sessionId: id, epoch: 1 }), 1)).toEqual({
      kind: 'error',
      error: 'FETCH_SESSION_TOPIC_ID_ERROR',
    });
  });

  it('a full fetch naming a session closes it; epoch 0 then opens another', () => {
    const cache = new FetchSessionCache(10);
    const id = open(cache, [part('a', 0)], 0);
    expect(cache.newContext(request({ sessionId: id, epoch: -1 }), 1).kind).toBe('sessionless');
    expect(cache.get(id)).toBeUndefined();
    expect(cache.totalPartitions).toBe(0);
    const id2 = open(cache, [part('a', 0)], 2);
    expect(cache.newContext(request({ sessionId: id2, epoch: 0 }), 3).kind).toBe('full');
    expect(cache.get(id2)).toBeUndefined();
  });

  it('incremental: adds, updates and forgets partitions; reads every partition of the session', () => {
    const cache = new FetchSessionCache(10);
    const id = open(cache, [part('a', 0), part('a', 1)], 0);
    const ctx = cache.newContext(
      request({
        sessionId: id,
        epoch: 1,
        partitions: [part('a', 1, 50), part('b', 0, 7)],
        forgotten: [{ topic: 'a', topicId: ZERO, partition: 0 }],
      }),
      1,
    );
    expect(ctx.kind).toBe('incremental');
    const inc = ctx as FetchContext & { kind: 'incremental' };
    expect(inc.partitions.map((p) => [p.topic, p.partition, p.fetchOffset])).toEqual([
      ['a', 1, 50],
      ['b', 0, 7],
    ]);
    expect(cache.totalPartitions).toBe(2);
  });

  it('incremental: only partitions with records, a new high watermark or log start, or an error answer', () => {
    const cache = new FetchSessionCache(10);
    const id = open(cache, [part('a', 0), part('a', 1), part('a', 2), part('a', 3)], 0);
    const ctx = cache.newContext(request({ sessionId: id, epoch: 1 }), 1) as FetchContext & {
      kind: 'incremental';
    };
    const include = cache.completeIncremental(ctx, [
      result(10),
      result(11),
      result(10, 100),
      result(10, 0, 'NOT_LEADER_OR_FOLLOWER'),
    ]);
    expect(include).toEqual([false, true, true, true]);
    // The partition with records moved to the end; the error makes the next answer include it again.
    const next = cache.newContext(request({ sessionId: id, epoch: 2 }), 2) as FetchContext & {
      kind: 'incremental';
    };
    expect(next.partitions.map((p) => p.partition)).toEqual([0, 1, 3, 2]);
    expect(cache.completeIncremental(next, [result(10), result(11), result(10), result(10)])).toEqual([
      false,
      false,
      true,
      false,
    ]);
  });

  it('a request that lost the race to a newer epoch is answered INVALID_FETCH_SESSION_EPOCH', () => {
    const cache = new FetchSessionCache(10);
    const id = open(cache, [part('a', 0)], 0);
    const first = cache.newContext(request({ sessionId: id, epoch: 1 }), 1) as FetchContext & {
      kind: 'incremental';
    };
    cache.newContext(request({ sessionId: id, epoch: 2 }), 1);
    expect(cache.completeIncremental(first, [result(10)])).toBeNull();
  });

  it('a session left without partitions is closed and the request served sessionless', () => {
    const cache = new FetchSessionCache(10);
    const id = open(cache, [part('a', 0)], 0);
    const ctx = cache.newContext(
      request({ sessionId: id, epoch: 1, forgotten: [{ topic: 'a', topicId: ZERO, partition: 0 }] }),
      1,
    );
    expect(ctx.kind).toBe('sessionless');
    expect(cache.size).toBe(0);
  });

  it('topic ids unknown when added resolve once the topic exists', () => {
    const cache = new FetchSessionCache(10);
    const byId = { ...part('x', 0), topic: undefined, topicId: 'id-of-t' };
    const full = cache.newContext(request({ version: 13, partitions: [byId] }), 0) as FetchContext & {
      kind: 'full';
    };
    const id = cache.createSession(full, [byId], [result(-1, 0, 'UNKNOWN_TOPIC_ID')], 0);
    const ctx = cache.newContext(
      request({
        version: 13,
        sessionId: id,
        epoch: 1,
        resolveTopic: (tid) => (tid === 'id-of-t' ? 't' : undefined),
      }),
      1,
    ) as FetchContext & { kind: 'incremental' };
    expect(ctx.partitions[0]!.topic).toBe('t');
    expect(ctx.partitions[0]!.missing).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

describe('FetchSessionCache bounds', () => {
  it('keeps at most MAX_UNKNOWN_PARTITIONS_PER_SESSION partitions this broker does not have', () => {
    const cache = new FetchSessionCache(10);
    const made = (n: number, from = 0) => Array.from({ length: n }, (_, i) => part(`nope-${from + i}`, 0));
    const first = made(800);
    const full = cache.newContext(request({ partitions: first }), 0) as FetchContext & { kind: 'full' };
    const unknown = () => result(-1, 0, 'UNKNOWN_TOPIC_OR_PARTITION');
    const id = cache.createSession(full, first, first.map(unknown), 0);
    expect(cache.get(id)!.size).toBe(800);
    const more = made(700, 800);
    const inc = cache.newContext(
      request({ sessionId: id, epoch: 1, partitions: more }),
      1,
    ) as FetchContext & {
      kind: 'incremental';
    };
    expect(inc.partitions).toHaveLength(1500);
    const include = cache.completeIncremental(inc, inc.partitions.map(unknown));
    expect(include!.every((x) => x)).toBe(true); // every one answered with its error
    expect(cache.get(id)!.size).toBe(MAX_UNKNOWN_PARTITIONS_PER_SESSION);
    expect(cache.totalPartitions).toBe(MAX_UNKNOWN_PARTITIONS_PER_SESSION);
  });
});

describe('FetchSessionCache eviction (Kafka FetchSessionCacheShard.tryEvict)', () => {
  const E = FETCH_SESSION_EVICTION_MS;

  it('no slots: no session, ever', () => {
    const cache = new FetchSessionCache(0);
    expect(open(cache, [part('a', 0)], 0)).toBe(0);
  });

  it('full and nothing evictable yet: the new session is refused', () => {
    const cache = new FetchSessionCache(2);
    open(cache, [part('a', 0)], 0);
    open(cache, [part('a', 0)], 1);
    expect(open(cache, [part('a', 0), part('a', 1), part('a', 2)], 2)).toBe(0);
    expect(cache.size).toBe(2);
  });

  it('a session unused for longer than the eviction time is evicted first', () => {
    const cache = new FetchSessionCache(2);
    const stale = open(cache, [part('a', 0), part('a', 1)], 0);
    const used = open(cache, [part('a', 0)], 0);
    cache.newContext(request({ sessionId: used, epoch: 1 }), E);
    expect(open(cache, [part('b', 0)], E + 1)).toBeGreaterThan(0);
    expect(cache.get(stale)).toBeUndefined();
    expect(cache.get(used)).toBeDefined();
    expect(cache.evictions).toBe(1);
  });

  it('an old enough session with fewer partitions makes room for a larger one, not for a smaller one', () => {
    const cache = new FetchSessionCache(2);
    const small = open(cache, [part('a', 0)], 0);
    const big = open(cache, [part('a', 0), part('a', 1), part('a', 2)], 0);
    // Both used recently (not stale), both older than the eviction time: evictable.
    cache.newContext(request({ sessionId: small, epoch: 1 }), E + 10);
    cache.newContext(request({ sessionId: big, epoch: 1 }), E + 10);
    expect(open(cache, [part('b', 0)], E + 20)).toBe(0); // one partition does not beat one
    const bigger = open(cache, [part('b', 0), part('b', 1)], E + 20);
    expect(bigger).toBeGreaterThan(0);
    expect(cache.get(small)).toBeUndefined();
    expect(cache.get(big)).toBeDefined();
  });

  it("a follower's new session evicts a consumer's at once; a consumer's never evicts a follower's", () => {
    const cache = new FetchSessionCache(1);
    const consumer = open(cache, [part('a', 0), part('a', 1)], 0);
    const follower = open(cache, [part('a', 0)], 1, true);
    expect(follower).toBeGreaterThan(0);
    expect(cache.get(consumer)).toBeUndefined();
    cache.newContext(request({ sessionId: follower, epoch: 1, isFollower: true }), E + 5);
    expect(open(cache, [part('a', 0), part('a', 1), part('a', 2)], E + 10)).toBe(0);
    expect(cache.get(follower)).toBeDefined();
  });
});
