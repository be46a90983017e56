import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MockTime } from '../common/time.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

const WAIT_MS = 100;

const fetchBody = (topic: string, maxWaitMs: number) => ({
  replicaId: -1,
  maxWaitMs,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
});

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Counts response frames on a raw socket without keeping their bytes. */
function countResponses(socket: Socket): { readonly count: number } {
  const state = { count: 0 };
  let need = -1; // bytes left of the current frame, -1 while reading its size
  let sizeBytes: number[] = [];
  socket.on('data', (chunk: Buffer) => {
    let pos = 0;
    while (pos < chunk.length) {
      if (need < 0) {
        sizeBytes.push(chunk[pos++]!);
        if (sizeBytes.length === 4) {
          need = Buffer.from(sizeBytes).readInt32BE(0);
          sizeBytes = [];
        }
        continue;
      }
      const n = Math.min(need, chunk.length - pos);
      pos += n;
      need -= n;
      if (need === 0) {
        state.count++;
        need = -1;
      }
    }
  });
  return state;
}

function gcHeapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (vitest.config.ts passes it to the forks)');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('Fetch long poll', () => {
  it('waits by the broker clock and answers empty at maxWaitMs', async () => {
    const time = new MockTime();
    const tb = await startTestBroker({}, undefined, { time, purgatoryTime: time });
    try {
      tb.broker.controller.createTopic('clock', 1);
      const c = await TestClient.connect(tb.port);
      let answered = false;
      const res = c.request<{ responses: { partitions: { records: Buffer | null }[] }[] }>(
        1,
        12,
        fetchBody('clock', 30_000),
      );
      void res.then(() => {
        answered = true;
      });
      for (let i = 0; i < 5; i++) await tick();
      expect(tb.broker.replicaManager.fetchPurgatorySize).toBe(1);
      await time.advanceAsync(29_999);
      expect(answered).toBe(false);
      await time.advanceAsync(1);
      const r = await res;
      expect(r.responses[0]!.partitions[0]!.records?.length ?? 0).toBe(0);
      expect(tb.broker.replicaManager.fetchPurgatorySize).toBe(0);
      c.close();
    } finally {
      await tb.close();
    }
  });

  it('releases a wait completed by data or by its connection closing (timeouts: the 50,000 test)', async () => {
    const time = new MockTime();
    const tb = await startTestBroker({}, undefined, { time, purgatoryTime: time });
    try {
      const rm = tb.broker.replicaManager;
      tb.broker.controller.createTopic('release', 1);
      const timersBefore = time.pendingTimers;
      const c = await TestClient.connect(tb.port);

      // By data: an append wakes it, and its timer goes with it.
      const byData = c.request(1, 12, fetchBody('release', 30_000));
      for (let i = 0; i < 5; i++) await tick();
      expect(rm.fetchPurgatorySize).toBe(1);
      expect(time.pendingTimers).toBe(timersBefore + 1);
      rm.getPartition('release', 0)!.appendRecordsToLeader(buildRecordBatch({ records: [{ value: 'x' }] }));
      await byData;
      expect(rm.fetchPurgatorySize).toBe(0);
      expect(time.pendingTimers).toBe(timersBefore);

      // By close: the wait ends at once, releasing its timer and its partition listener.
      const byClose = c.request(1, 12, { ...fetchBody('release', 30_000), topics: [] });
      await byClose; // an empty fetch answers at once
      const waiting = c.request(1, 12, {
        ...fetchBody('release', 30_000),
        topics: [
          { topic: 'release', partitions: [{ partition: 0, fetchOffset: 1, partitionMaxBytes: 1024 }] },
        ],
      });
      waiting.catch(() => {});
      for (let i = 0; i < 5; i++) await tick();
      expect(rm.fetchPurgatorySize).toBe(1);
      c.close();
      for (let i = 0; i < 50 && rm.fetchPurgatorySize > 0; i++) await tick();
      expect(rm.fetchPurgatorySize).toBe(0);
      expect(time.pendingTimers).toBe(timersBefore);
    } finally {
      await tb.close();
    }
  });

  it('50,000 waiting fetches on one connection leave its heap as it was', async () => {
    const time = new MockTime();
    const tb = await startTestBroker({}, undefined, { time, purgatoryTime: time });
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ port: tb.port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', reject);
    });
    try {
      tb.broker.controller.createTopic('idle', 1);
      const encoder = await TestClient.connect(tb.port);
      const frame = encoder.frame(1, 12, fetchBody('idle', WAIT_MS), 7);
      encoder.close();
      const window = Buffer.concat(Array.from({ length: 50 }, () => frame));
      const responses = countResponses(socket);
      let sent = 0;
      /** Sends n fetches, 50 at a time, moving the clock so each one waits out its maxWaitMs. */
      const run = async (n: number) => {
        const target = responses.count + n;
        while (responses.count < target) {
          if (sent - responses.count < 50 && sent < target) {
            socket.write(window);
            sent += 50;
          }
          time.advance(WAIT_MS);
          await tick();
        }
      };
      await run(2_000); // warm up (JIT, buffers)
      const before = gcHeapUsed();
      await run(50_000);
      const after = gcHeapUsed();
      const growth = after - before;
      console.log(`heap growth over 50,000 waiting fetches: ${(growth / 1024 / 1024).toFixed(2)} MB`);
      expect(responses.count).toBe(52_000);
      expect(tb.broker.replicaManager.fetchPurgatorySize).toBe(0);
      expect(growth).toBeLessThan(2 * 1024 * 1024);
    } finally {
      socket.destroy();
      await tb.close();
    }
  });
});

describe('Fetch sessions (KIP-227)', () => {
  type Part = { partitionIndex: number; errorCode: number; highWatermark: number; records: Buffer | null };
  type Res = {
    errorCode: number;
    sessionId: number;
    responses: { topic?: string; topicId?: string; partitions: Part[] }[];
  };
  const p = (partition: number, fetchOffset = 0) => ({ partition, fetchOffset, partitionMaxBytes: 1 << 20 });
  const body = (
    sessionId: number,
    sessionEpoch: number,
    topics: unknown[],
    forgottenTopicsData: unknown[] = [],
  ) => ({
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopicsData,
  });
  /** [partition, record bytes > 0] per answered partition. */
  const answered = (r: Res) =>
    r.responses.flatMap((t) => t.partitions.map((x) => [x.partitionIndex, (x.records?.length ?? 0) > 0]));

  it('a full fetch opens a session; incremental fetches name and answer only what changed', async () => {
    const tb = await startTestBroker();
    try {
      const rm = tb.broker.replicaManager;
      tb.broker.controller.createTopic('s', 3);
      const append = (partition: number) =>
        rm
          .getPartition('s', partition)!
          .appendRecordsToLeader(buildRecordBatch({ records: [{ value: 'x' }] }));
      append(0);
      const c = await TestClient.connect(tb.port);
      const full = await c.request<Res>(1, 12, body(0, 0, [{ topic: 's', partitions: [p(0), p(1), p(2)] }]));
      expect(full.errorCode).toBe(0);
      expect(full.sessionId).toBeGreaterThan(0);
      expect(answered(full)).toEqual([
        [0, true],
        [1, false],
        [2, false],
      ]);
      const id = full.sessionId;

      // Partition 0 moves on; nothing new anywhere: nothing answered.
      const quiet = await c.request<Res>(1, 12, body(id, 1, [{ topic: 's', partitions: [p(0, 1)] }]));
      expect(quiet).toMatchObject({ errorCode: 0, sessionId: id, responses: [] });

      // New data on partition 2 only: the request names nothing, the answer has partition 2.
      append(2);
      const inc = await c.request<Res>(1, 12, body(id, 2, []));
      expect(answered(inc)).toEqual([[2, true]]);
      expect(inc.responses[0]!.topic).toBe('s');

      // Partition 2 forgotten: data there is no longer answered.
      append(2);
      const forgot = await c.request<Res>(1, 12, body(id, 3, [], [{ topic: 's', partitions: [2] }]));
      expect(forgot.responses).toEqual([]);

      // A repeated epoch, an unknown session: errors, session id 0, nothing read.
      const dup = await c.request<Res>(1, 12, body(id, 3, []));
      expect(dup).toMatchObject({
        errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
        sessionId: 0,
        responses: [],
      });
      const unknown = await c.request<Res>(1, 12, body(id + 1, 1, []));
      expect(unknown.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

      // Epoch -1 closes it.
      const closed = await c.request<Res>(1, 12, body(id, -1, [{ topic: 's', partitions: [p(1)] }]));
      expect(closed.sessionId).toBe(0);
      expect((await c.request<Res>(1, 12, body(id, 4, []))).errorCode).toBe(
        ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
      );
      c.close();
    } finally {
      await tb.close();
    }
  });

  it('v13+: sessions by topic id; a name-based session refuses a v13 request', async () => {
    const tb = await startTestBroker();
    try {
      const rm = tb.broker.replicaManager;
      tb.broker.controller.createTopic('ids', 2);
      const topicId = tb.broker.metadata.topic('ids')!.topicId;
      const c = await TestClient.connect(tb.port);
      const full = await c.request<Res>(1, 13, body(0, 0, [{ topicId, partitions: [p(0), p(1)] }]));
      expect(full.sessionId).toBeGreaterThan(0);
      expect(full.responses.map((t) => t.topicId)).toEqual([topicId]);
      rm.getPartition('ids', 1)!.appendRecordsToLeader(buildRecordBatch({ records: [{ value: 'y' }] }));
      const inc = await c.request<Res>(1, 13, body(full.sessionId, 1, []));
      expect(inc.responses).toMatchObject([
        { topicId, partitions: [{ partitionIndex: 1, highWatermark: 1 }] },
      ]);

      const byName = await c.request<Res>(1, 12, body(0, 0, [{ topic: 'ids', partitions: [p(0)] }]));
      const mixed = await c.request<Res>(1, 13, body(byName.sessionId, 1, []));
      expect(mixed.errorCode).toBe(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
      c.close();
    } finally {
      await tb.close();
    }
  });

  it("a session's partitions are authorized again on each fetch: an ACL removed is seen at once", async () => {
    const tb = await startTestBroker({
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    });
    try {
      const readAcl = {
        type: 'AccessControlEntryRecord' as const,
        id: 'AAAAAAAAAAAAAAAAAAAAAQ',
        resourceType: 2, // TOPIC
        resourceName: 'guarded',
        patternType: 3, // LITERAL
        principal: 'User:ANONYMOUS',
        host: '*',
        operation: 3, // READ
        permissionType: 3, // ALLOW
      };
      tb.broker.controller.createTopic('guarded', 1);
      await tb.broker.controller.alterAcls([readAcl]);
      tb.broker.replicaManager
        .getPartition('guarded', 0)!
        .appendRecordsToLeader(buildRecordBatch({ records: [{ value: 'x' }] }));
      const c = await TestClient.connect(tb.port);
      const full = await c.request<Res>(1, 12, body(0, 0, [{ topic: 'guarded', partitions: [p(0)] }]));
      expect(full.sessionId).toBeGreaterThan(0);
      expect(full.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);

      await tb.broker.controller.alterAcls([{ type: 'RemoveAccessControlEntryRecord', id: readAcl.id }]);
      // The request names nothing: the cached partition is checked anyway and not read.
      const inc = await c.request<Res>(1, 12, body(full.sessionId, 1, []));
      expect(inc.errorCode).toBe(ErrorCode.NONE);
      expect(inc.responses).toMatchObject([
        {
          topic: 'guarded',
          partitions: [{ partitionIndex: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, records: null }],
        },
      ]);
      c.close();
    } finally {
      await tb.close();
    }
  });

  it('max.incremental.fetch.session.cache.slots=0: every fetch is sessionless', async () => {
    const tb = await startTestBroker({ 'max.incremental.fetch.session.cache.slots': '0' });
    try {
      tb.broker.controller.createTopic('none', 1);
      const c = await TestClient.connect(tb.port);
      const full = await c.request<Res>(1, 12, body(0, 0, [{ topic: 'none', partitions: [p(0)] }]));
      expect(full).toMatchObject({ errorCode: 0, sessionId: 0 });
      expect(answered(full)).toEqual([[0, false]]);
      c.close();
    } finally {
      await tb.close();
    }
  });
});
