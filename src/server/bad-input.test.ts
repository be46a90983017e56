import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { CRC } from '../protocol/record-batch.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { createHostedTopic, startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

let tb: TestBroker;

beforeAll(async () => {
  tb = await startTestBroker({ 'message.max.bytes': '2048', 'socket.request.max.bytes': '1048576' });
  // A Produce creates no topic (only Metadata does, as in Kafka): the ones produced to exist first.
  for (const t of ['bad-crc', 'too-large']) await createHostedTopic(tb.broker, t, 1);
});
afterAll(async () => {
  await tb.close();
});

type ProduceResponse = {
  responses: {
    name: string;
    partitionResponses: {
      index: number;
      errorCode: number;
      baseOffset: number;
      errorMessage?: string | null;
    }[];
  }[];
};

function produceBody(topic: string, records: Buffer | null) {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  };
}

function batch(values: string[]) {
  return buildRecordBatch({ records: values.map((v) => ({ key: null, value: Buffer.from(v) })) });
}

/** The broker still answers a healthy client. */
async function assertHealthy() {
  const c = await TestClient.connect(tb.port);
  const res = await c.request<{ errorCode: number }>(18, 3, {
    clientSoftwareName: 'x',
    clientSoftwareVersion: '1',
  });
  expect(res.errorCode).toBe(0);
  c.close();
}

describe('bad input', () => {
  it('answers a wrong CRC with CORRUPT_MESSAGE and stores nothing', async () => {
    const c = await TestClient.connect(tb.port);
    const b = batch(['a', 'b']);
    b.writeUInt32BE((b.readUInt32BE(CRC) ^ 0xff) >>> 0, CRC);
    const res = await c.request<ProduceResponse>(0, 9, produceBody('bad-crc', b));
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(tb.broker.replicaManager.getPartition('bad-crc', 0)!.logEndOffset).toBe(0);
    c.close();
  });

  it('answers a batch above message.max.bytes with MESSAGE_TOO_LARGE', async () => {
    const c = await TestClient.connect(tb.port);
    const res = await c.request<ProduceResponse>(0, 9, produceBody('too-large', batch(['x'.repeat(4000)])));
    const p = res.responses[0]!.partitionResponses[0]!;
    expect(p.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(p.errorMessage).toMatch(/max.message.bytes/);
    c.close();
  });

  it('answers Produce v0-2 with UNSUPPORTED_VERSION per partition', async () => {
    const c = await TestClient.connect(tb.port);
    const res = await c.request<ProduceResponse>(0, 2, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 'old', partitionData: [{ index: 0, records: Buffer.alloc(30) }] }],
    });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    c.close();
  });

  it('answers an unsupported ApiVersions version with a v0 body and UNSUPPORTED_VERSION (KIP-511)', async () => {
    const c = await TestClient.connect(tb.port);
    const frame = c.frame(18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }, 77);
    frame.writeInt16BE(9, 6); // version 9: header stays v2 (flexible), body unknown
    const res = await c.sendRaw(frame);
    expect(res.readInt32BE(0)).toBe(77);
    expect(res.readInt16BE(4)).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(res.readInt32BE(6)).toBe(1); // one api key entry
    expect([res.readInt16BE(10), res.readInt16BE(12), res.readInt16BE(14)]).toEqual([18, 0, 4]);
    c.close();
  });

  it('closes the connection on an unknown API key, an unsupported version, a huge, negative or zero size', async () => {
    const cases: Buffer[] = [];
    const unknown = Buffer.alloc(14);
    unknown.writeInt32BE(10, 0);
    unknown.writeInt16BE(999, 4);
    cases.push(unknown);
    const c0 = await TestClient.connect(tb.port);
    const badVersion = c0.frame(3, 12, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    badVersion.writeInt16BE(40, 6);
    c0.close();
    cases.push(badVersion);
    const huge = Buffer.alloc(8);
    huge.writeInt32BE(0x7fffffff, 0);
    cases.push(huge);
    const negative = Buffer.alloc(8);
    negative.writeInt32BE(-5, 0);
    cases.push(negative);
    cases.push(Buffer.alloc(4)); // a frame of no bytes, alone in its segment: no header to read
    for (const bytes of cases) {
      const c = await TestClient.connect(tb.port);
      c.socket.write(bytes);
      await c.waitClosed();
    }
    await assertHealthy();
  });

  it('closes the connection when an array length exceeds the frame', async () => {
    const c = await TestClient.connect(tb.port);
    const frame = c.frame(3, 1, { topics: [] });
    frame.writeInt32BE(0x7ffffff0, frame.length - 4); // topics count
    c.socket.write(frame);
    await c.waitClosed();
    await assertHealthy();
  });

  it('survives random and mutated frames, and clients hanging up mid-request', async () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    const c0 = await TestClient.connect(tb.port);
    const templates = [
      c0.frame(0, 9, produceBody('fuzz', batch(['a', 'b', 'c']))),
      c0.frame(1, 12, {
        maxWaitMs: 10,
        minBytes: 1,
        maxBytes: 1000,
        topics: [{ topic: 'fuzz', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 100 }] }],
      }),
      c0.frame(3, 12, {
        topics: [{ name: 'fuzz', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
        allowAutoTopicCreation: true,
      }),
      c0.frame(2, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'fuzz', partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
      }),
    ];
    c0.close();
    for (let i = 0; i < 300; i++) {
      const base = Buffer.from(templates[i % templates.length]!);
      const mode = i % 3;
      let bytes: Buffer;
      if (mode === 0) {
        // flip a few bytes after the size prefix
        for (let k = 0; k < 1 + (rnd() % 4); k++) base[4 + (rnd() % (base.length - 4))] = rnd() % 256;
        bytes = base;
      } else if (mode === 1) {
        // pure noise with a plausible size prefix
        const n = 8 + (rnd() % 200);
        bytes = Buffer.alloc(4 + n);
        bytes.writeInt32BE(n, 0);
        for (let k = 4; k < bytes.length; k++) bytes[k] = rnd() % 256;
      } else {
        // hang up mid-request
        bytes = base.subarray(0, 4 + (rnd() % (base.length - 4)));
      }
      const c = await TestClient.connect(tb.port);
      // Hang up once the bytes are handed to the kernel (the broker may have closed first).
      await new Promise((r) => c.socket.write(bytes, r));
      c.close();
    }
    await assertHealthy();
    // Storage was not corrupted: a real client still produces and reads.
    const kafka = new Kafka({ brokers: [tb.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'after-fuzz', messages: [{ value: 'ok' }] });
    await producer.disconnect();
    expect(await admin.fetchTopicOffsets('after-fuzz')).toEqual([
      { partition: 0, offset: '1', high: '1', low: '0' },
    ]);
    await admin.disconnect();
  });
});
