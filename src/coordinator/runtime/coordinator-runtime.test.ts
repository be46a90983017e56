import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { MockTime } from '../../common/time.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import { NotEnoughReplicasError } from '../../replication/partition.js';
import { ProducerStateError } from '../../storage/producer-state-manager.js';
import { type CoordinatorRecord, RecordTooLargeError } from './coordinator-log.js';
import {
  CoordinatorError,
  type CoordinatorResult,
  CoordinatorRuntime,
  type CoordinatorShard,
  coordinatorErrorOf,
  offsetCommitErrorOf,
  type ReplayContext,
} from './coordinator-runtime.js';
import { MemoryCoordinatorLog } from './memory-coordinator-log.js';

const rec = (k: string, v: string | null): CoordinatorRecord => ({
  key: Buffer.from(k),
  value: v === null ? null : Buffer.from(v),
});

/** A key/value shard: committed values, and values staged per producer until their marker. */
class KvShard implements CoordinatorShard {
  readonly values = new Map<string, string>();
  readonly pending = new Map<number, Map<string, string | null>>();
  loaded = false;
  unloaded = false;
  replayed = 0;

  replay(r: CoordinatorRecord, ctx: ReplayContext): void {
    this.replayed++;
    const k = r.key.toString();
    const v = r.value === null ? null : r.value.toString();
    if (v === 'boom') throw new Error('unreadable');
    if (ctx.isTransactional) {
      let staged = this.pending.get(ctx.producerId);
      if (!staged) {
        staged = new Map();
        this.pending.set(ctx.producerId, staged);
      }
      staged.set(k, v);
    } else if (v === null) this.values.delete(k);
    else this.values.set(k, v);
  }

  replayEndTransactionMarker(producerId: number, result: 'COMMIT' | 'ABORT'): void {
    const staged = this.pending.get(producerId);
    this.pending.delete(producerId);
    if (result === 'COMMIT' && staged)
      for (const [k, v] of staged) v === null ? this.values.delete(k) : this.values.set(k, v);
  }

  onLoaded(): void {
    this.loaded = true;
  }

  onUnloaded(): void {
    this.unloaded = true;
  }

  put(k: string, v: string | null): CoordinatorResult<string> {
    return { records: [rec(k, v)], response: `put ${k}` };
  }
}

function setup(writeTimeoutMs = 5000) {
  const time = new MockTime();
  const log = new MemoryCoordinatorLog(3, '__test');
  const runtime = new CoordinatorRuntime<KvShard>({
    name: 'Test',
    log,
    time,
    logger: createLogger('silent'),
    newShard: () => new KvShard(),
    writeTimeoutMs,
  });
  return { time, log, runtime };
}

async function state<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; done: boolean }> {
  let out: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then(
    (value) => {
      out = { value, done: true };
    },
    (error) => {
      out = { error, done: true };
    },
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return out;
}

describe('CoordinatorRuntime', () => {
  it('appends the records, replays them into the shard and answers once committed', async () => {
    const { log, runtime } = setup();
    runtime.load(0);
    const r = await runtime.scheduleWriteOperation(0, (s) => s.put('a', '1'));
    expect(r).toBe('put a');
    expect(runtime.shard(0)!.values.get('a')).toBe('1');
    expect(log.all().map((x) => x.key.toString())).toEqual(['a']);
  });

  it('holds the response until the high watermark passes the write', async () => {
    const { log, runtime } = setup();
    runtime.load(1);
    log.autoCommit = false;
    const first = runtime.scheduleWriteOperation(1, (s) => s.put('a', '1'));
    const second = runtime.scheduleWriteOperation(1, (s) => s.put('b', '2'));
    // Replayed at once (later operations see it), answered only when committed.
    expect(runtime.shard(1)!.values.get('b')).toBe('2');
    expect((await state(first)).done).toBe(false);
    log.commit(1);
    expect((await state(first)).value).toBe('put a');
    expect((await state(second)).value).toBe('put b');
  });

  it('leaves the shard unchanged when the append fails, and answers with the mapped error', async () => {
    const { log, runtime } = setup();
    runtime.load(0);
    await runtime.scheduleWriteOperation(0, (s) => s.put('a', '1'));
    log.failNext = new Error('disk on fire');
    const failed = runtime.scheduleWriteOperation(0, (s) => ({
      ...s.put('a', '2'),
      onAppendError: () => 'failed',
    }));
    expect(await failed).toBe('failed');
    expect(runtime.shard(0)!.values.get('a')).toBe('1');
    log.failNext = new Error('disk on fire');
    await expect(runtime.scheduleWriteOperation(0, (s) => s.put('b', '1'))).rejects.toThrow('disk on fire');
    expect(runtime.shard(0)!.values.has('b')).toBe(false);
    // Nothing of the failed writes is in the log: a reload sees the same state.
    runtime.load(0);
    expect([...runtime.shard(0)!.values]).toEqual([['a', '1']]);
  });

  it('rebuilds the same state by replay when a partition is unloaded and loaded again', async () => {
    const { runtime } = setup();
    runtime.load(2);
    await runtime.scheduleWriteOperation(2, (s) => s.put('a', '1'));
    await runtime.scheduleWriteOperation(2, (s) => s.put('b', '2'));
    await runtime.scheduleWriteOperation(2, (s) => s.put('a', null));
    const before = runtime.shard(2)!;
    runtime.unload(2);
    expect(before.unloaded).toBe(true);
    expect(runtime.isLoaded(2)).toBe(false);
    await expect(runtime.scheduleWriteOperation(2, (s) => s.put('c', '3'))).rejects.toMatchObject({
      error: 'NOT_COORDINATOR',
    });
    const after = runtime.load(2);
    expect(after).not.toBe(before);
    expect(after.loaded).toBe(true);
    expect([...after.values]).toEqual([['b', '2']]);
  });

  it('loads only what is committed', async () => {
    const { log, runtime } = setup();
    runtime.load(0);
    await runtime.scheduleWriteOperation(0, (s) => s.put('a', '1'));
    log.autoCommit = false;
    void runtime.scheduleWriteOperation(0, (s) => s.put('b', '2')).catch(() => {});
    runtime.unload(0);
    expect([...runtime.load(0).values]).toEqual([['a', '1']]);
  });

  it('watches the high watermark of a partition created after it was loaded', async () => {
    const { log, runtime } = setup();
    let exists = false;
    const watch = log.onHighWatermarkChange.bind(log);
    log.onHighWatermarkChange = (p, l) => (exists ? watch(p, l) : null);
    runtime.load(0);
    exists = true; // the first write creates the topic
    log.autoCommit = false;
    const w = runtime.scheduleWriteOperation(0, (s) => s.put('a', '1'));
    log.commit(0);
    expect((await state(w)).value).toBe('put a');
  });

  it('fails writes still waiting for their commit with NOT_COORDINATOR on unload', async () => {
    const { log, runtime } = setup();
    runtime.load(0);
    log.autoCommit = false;
    const w = runtime.scheduleWriteOperation(0, (s) => s.put('a', '1'));
    runtime.unload(0);
    const s = await state(w);
    expect(s.error).toBeInstanceOf(CoordinatorError);
    expect((s.error as CoordinatorError).error).toBe('NOT_COORDINATOR');
  });

  it('times a write out on its Time when it is not committed', async () => {
    const { log, runtime, time } = setup(1000);
    runtime.load(0);
    log.autoCommit = false;
    const w = runtime.scheduleWriteOperation(0, (s) => s.put('a', '1'));
    time.advance(999);
    expect((await state(w)).done).toBe(false);
    time.advance(1);
    expect(((await state(w)).error as CoordinatorError).error).toBe('REQUEST_TIMED_OUT');
  });

  it('replays transactional batches and markers the same way at load and live', async () => {
    const { runtime } = setup();
    runtime.load(0);
    const producer = { producerId: 7, producerEpoch: 0 };
    await runtime.scheduleWriteOperation(0, (s) => ({ ...s.put('t', 'x'), producer }));
    await runtime.scheduleWriteOperation(0, () => ({
      records: [rec('u', 'y')],
      response: 0,
      producer: { producerId: 8, producerEpoch: 0 },
    }));
    expect(runtime.shard(0)!.values.has('t')).toBe(false);
    await runtime.scheduleTransactionCompletion(0, producer, 'COMMIT', 0);
    expect(runtime.shard(0)!.values.get('t')).toBe('x');
    expect(runtime.shard(0)!.pending.has(8)).toBe(true);
    const reloaded = runtime.load(0);
    expect(reloaded.values.get('t')).toBe('x');
    expect(reloaded.values.has('u')).toBe(false);
    expect(reloaded.pending.get(8)?.get('u')).toBe('y');
  });

  it('does not replay records of an operation that changed the state itself', async () => {
    const { runtime } = setup();
    runtime.load(0);
    await runtime.scheduleWriteOperation(0, (s) => ({ ...s.put('a', '1'), replayRecords: false }));
    expect(runtime.shard(0)!.values.has('a')).toBe(false);
    expect(runtime.load(0).values.get('a')).toBe('1');
  });

  it('skips a record that does not replay at load and keeps the rest', async () => {
    const { runtime } = setup();
    runtime.load(0);
    await runtime.scheduleWriteOperation(0, () => ({
      records: [rec('a', '1'), rec('bad', 'boom'), rec('c', '3')],
      response: 0,
    }));
    expect([...runtime.load(0).values]).toEqual([
      ['a', '1'],
      ['c', '3'],
    ]);
  });
});

describe('coordinatorErrorOf / offsetCommitErrorOf', () => {
  it("answers the runtime's own errors as a coordinator client expects them", () => {
    expect(coordinatorErrorOf(new CoordinatorError('NOT_COORDINATOR', 'unloaded'))).toBe('NOT_COORDINATOR');
    expect(coordinatorErrorOf(new CoordinatorError('REQUEST_TIMED_OUT', 'slow'))).toBe(
      'COORDINATOR_NOT_AVAILABLE',
    );
  });

  it("translates the append's errors as Kafka's coordinators do", () => {
    expect(coordinatorErrorOf(new NotEnoughReplicasError('isr'))).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(coordinatorErrorOf(new KafkaError('NOT_LEADER_OR_FOLLOWER'))).toBe('NOT_COORDINATOR');
    expect(coordinatorErrorOf(new KafkaError('KAFKA_STORAGE_ERROR'))).toBe('NOT_COORDINATOR');
    expect(coordinatorErrorOf(new RecordTooLargeError('big'))).toBe('UNKNOWN_SERVER_ERROR');
    expect(coordinatorErrorOf(new ProducerStateError('INVALID_PRODUCER_EPOCH', 'old'))).toBe(
      'INVALID_PRODUCER_EPOCH',
    );
  });

  it('answers the fallback for anything not a KafkaError', () => {
    expect(coordinatorErrorOf(new Error('bug'))).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(coordinatorErrorOf(new Error('bug'), 'UNKNOWN_SERVER_ERROR')).toBe('UNKNOWN_SERVER_ERROR');
  });

  it('answers INVALID_COMMIT_OFFSET_SIZE for an offset commit too large, else as coordinatorErrorOf', () => {
    expect(offsetCommitErrorOf(new RecordTooLargeError('big'))).toBe('INVALID_COMMIT_OFFSET_SIZE');
    expect(offsetCommitErrorOf(new CoordinatorError('REQUEST_TIMED_OUT', 'slow'))).toBe(
      'COORDINATOR_NOT_AVAILABLE',
    );
    expect(offsetCommitErrorOf(new ProducerStateError('PRODUCER_FENCED', 'fenced'))).toBe('PRODUCER_FENCED');
    expect(offsetCommitErrorOf('x')).toBe('COORDINATOR_NOT_AVAILABLE');
  });
});
