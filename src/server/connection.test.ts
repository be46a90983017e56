import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { KafkaError } from '../protocol/kafka-error.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { createHostedTopic, startTestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { until } from '../test-support/until.js';

const fetchBody = (topic: string, maxWaitMs: number, minBytes: number) => ({
  replicaId: -1,
  maxWaitMs,
  minBytes,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
});

describe('connection', () => {
  it("answers a handler's thrown KafkaError with its code, anything else UNKNOWN_SERVER_ERROR, and stays open", async () => {
    const tb = await startTestBroker();
    const c = await TestClient.connect(tb.port);
    try {
      const gc = tb.broker.groupCoordinator;
      gc.listGroups = () => {
        throw new KafkaError('COORDINATOR_LOAD_IN_PROGRESS');
      };
      const listGroups = () => c.request<{ errorCode: number }>(16, 4, { statesFilter: [] });
      expect((await listGroups()).errorCode).toBe(14);
      gc.listGroups = () => {
        throw new TypeError('a bug');
      };
      expect((await listGroups()).errorCode).toBe(-1);
    } finally {
      c.close();
      await tb.close();
    }
  });

  it('answers pipelined requests strictly in order, and sends nothing for acks=0', async () => {
    const tb = await startTestBroker();
    await createHostedTopic(tb.broker, 'order', 1);
    try {
      const c = await TestClient.connect(tb.port);
      const batch = buildRecordBatch({ records: [{ value: 'x' }] });
      const produce = (acks: number) => ({
        transactionalId: null,
        acks,
        timeoutMs: 1000,
        topicData: [{ name: 'order', partitionData: [{ index: 0, records: Buffer.from(batch) }] }],
      });
      // A long poll first, then requests that could be answered at once: they must wait their turn.
      const frames = [
        c.frame(1, 12, fetchBody('order', 300, 1), 1),
        c.frame(0, 9, produce(0), 2),
        c.frame(18, 3, { clientSoftwareName: 'a', clientSoftwareVersion: '1' }, 3),
        c.frame(0, 9, produce(1), 4),
      ];
      const replies: number[] = [];
      const got = new Promise<void>((resolve) => {
        let buf = Buffer.alloc(0);
        c.socket.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
            replies.push(buf.readInt32BE(4));
            buf = buf.subarray(4 + buf.readInt32BE(0));
          }
          if (replies.length === 3) resolve();
        });
      });
      c.socket.write(Buffer.concat(frames));
      await got;
      expect(replies).toEqual([1, 3, 4]); // no response for the acks=0 produce (2)
      expect(tb.broker.replicaManager.getPartition('order', 0)!.logEndOffset).toBe(2);
      c.close();
    } finally {
      await tb.close();
    }
  });

  it('sends the responses to frames that arrived together in one write, and holds none behind a wait', async () => {
    const tb = await startTestBroker();
    const c = await TestClient.connect(tb.port);
    // Count the write calls of the broker's side of this connection (its local port is the broker's).
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>;
    const { _write, _writev } = proto;
    let writes = 0;
    const spy = (orig: (...a: unknown[]) => void) =>
      function (this: Socket, ...a: unknown[]) {
        if (this.localPort === tb.port) writes++;
        return orig.apply(this, a);
      };
    proto._write = spy(_write);
    proto._writev = spy(_writev);
    try {
      const replies: { id: number; chunk: number }[] = [];
      let chunks = 0;
      let buf = Buffer.alloc(0);
      const got = (n: number) => until(() => replies.length >= n, 5000);
      c.socket.on('data', (chunk: Buffer) => {
        chunks++;
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          replies.push({ id: buf.readInt32BE(4), chunk: chunks });
          buf = buf.subarray(4 + buf.readInt32BE(0));
        }
      });
      const apiVersions = (id: number) =>
        c.frame(18, 3, { clientSoftwareName: 'a', clientSoftwareVersion: '1' }, id);
      c.socket.write(Buffer.concat([1, 2, 3, 4, 5].map(apiVersions)));
      await got(5);
      expect(replies.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
      expect(writes).toBe(1);

      // A response ready now leaves before a later frame's long poll ends, not with it.
      await createHostedTopic(tb.broker, 'coalesce', 1);
      c.socket.write(Buffer.concat([apiVersions(6), c.frame(1, 12, fetchBody('coalesce', 400, 1), 7)]));
      await got(7);
      const [six, seven] = replies.slice(5);
      expect([six!.id, seven!.id]).toEqual([6, 7]);
      expect(seven!.chunk).toBeGreaterThan(six!.chunk);
    } finally {
      proto._write = _write;
      proto._writev = _writev;
      c.close();
      await tb.close();
    }
  });

  it('stops reading a client that does not read its responses (backpressure)', async () => {
    const tb = await startTestBroker();
    await createHostedTopic(tb.broker, 'bp', 1);
    try {
      // 4 MiB of data, then a client that asks for it 400 times (≈400 MiB of responses) and never reads.
      const producer = await TestClient.connect(tb.port);
      const batch = buildRecordBatch({
        records: Array.from({ length: 64 }, () => ({ value: Buffer.alloc(1024, 1) })),
      });
      for (let i = 0; i < 64; i++) {
        await producer.request(0, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: 'bp', partitionData: [{ index: 0, records: Buffer.from(batch) }] }],
        });
      }
      const slow = await TestClient.connect(tb.port);
      slow.socket.pause();
      const frame = slow.frame(1, 12, fetchBody('bp', 0, 0));
      for (let i = 0; i < 400; i++) slow.socket.write(frame);
      await until(() => (tb.broker.metrics.bytesOut.get('bp') ?? 0) > 0, 10_000, 'the first fetch response');
      // A bounded window on purpose: what is asserted is that nothing runs away meanwhile, which no
      // condition can signal (an unbounded broker would serve the whole ~400 MiB within it).
      await new Promise((r) => setTimeout(r, 1500));
      // The broker served only what the socket buffers hold, not hundreds of MiB.
      const rss = process.memoryUsage().rss;
      expect(rss).toBeLessThan(1024 * 1024 * 1024);
      const served = tb.broker.metrics.bytesOut.get('bp') ?? 0;
      expect(served).toBeLessThan(100 * 1024 * 1024);
      // Other clients are unaffected.
      const other = await TestClient.connect(tb.port);
      const res = await other.request<{ errorCode: number }>(18, 3, {
        clientSoftwareName: 'a',
        clientSoftwareVersion: '1',
      });
      expect(res.errorCode).toBe(0);
      other.close();
      slow.close();
      producer.close();
    } finally {
      await tb.close();
    }
  });

  it('keeps one drain listener on a socket its client does not read, however many responses wait', async () => {
    const tb = await startTestBroker();
    await createHostedTopic(tb.broker, 'drain', 1);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      // 4 MiB to read, from another connection.
      const producer = await TestClient.connect(tb.port);
      const produceBody = (records: Buffer) => ({
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'drain', partitionData: [{ index: 0, records }] }],
      });
      const big = buildRecordBatch({
        records: Array.from({ length: 64 }, () => ({ value: Buffer.alloc(1024, 2) })),
      });
      for (let i = 0; i < 64; i++) await producer.request(0, 9, produceBody(Buffer.from(big)));
      // Then a client that never reads sends 60 pairs of a small produce and a 1 MiB fetch, all in
      // one write: each fetch shows what the produce before it appended, so its response waits
      // for that segment write, and all 60 are written when it completes — into a socket whose
      // buffer the first two fill. Each used to add its own 'drain' and 'close' listeners (Node
      // warns past 10 on one socket); they now share one wait.
      const small = buildRecordBatch({ records: [{ value: Buffer.from('x') }] });
      const slow = await TestClient.connect(tb.port);
      slow.socket.pause();
      const frames: Buffer[] = [];
      for (let i = 0; i < 60; i++) {
        frames.push(slow.frame(0, 9, produceBody(Buffer.from(small))));
        frames.push(slow.frame(1, 12, fetchBody('drain', 0, 0)));
      }
      slow.socket.write(Buffer.concat(frames));
      await until(() => (tb.broker.metrics.bytesOut.get('drain') ?? 0) > 2 << 20, 10_000, 'fetch responses');
      // Node emits the warning on the tick the eleventh listener is added.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
      slow.close();
      producer.close();
    } finally {
      process.off('warning', onWarning);
      await tb.close();
    }
  });

  it('answers an in-flight long poll when the broker shuts down, then closes', async () => {
    const tb = await startTestBroker();
    const c = await TestClient.connect(tb.port);
    await c.request(3, 12, {
      topics: [{ name: 'shutdown', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      allowAutoTopicCreation: true,
    });
    const started = Date.now();
    const pending = c.request<{ responses: { partitions: { errorCode: number }[] }[] }>(
      1,
      12,
      fetchBody('shutdown', 30_000, 1),
    );
    await until(() => tb.broker.replicaManager.fetchPurgatorySize === 1, 5000, 'the long poll to be parked');
    await tb.close();
    const res = await pending;
    expect(res.responses[0]!.partitions[0]!.errorCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    await c.waitClosed();
  });
});
