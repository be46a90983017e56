import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import type { Partition } from '../replication/partition.js';
import { isIoError, partitionErrorOf } from '../replication/partition-error.js';
import { createHostedTopic, startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

/** What Node's fs throws on a failing disk. */
function ioError(code: 'EIO' | 'ENOSPC'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: i/o error, read`), { code, errno: -5, syscall: 'read' });
}

/** A broker with topic 't' of 3 partitions holding one record each, partition 1 made to fail. */
async function withFailingPartition(
  fail: (p: Partition) => void,
  fn: (c: TestClient, tb: TestBroker) => Promise<void>,
): Promise<void> {
  const tb = await startTestBroker();
  const c = await TestClient.connect(tb.port);
  try {
    const topic = { partitions: await createHostedTopic(tb.broker, 't', 3) };
    for (const p of topic.partitions) {
      p.appendRecordsToLeader(buildRecordBatch({ records: [{ value: `p${p.partition}`, timestamp: 1000 }] }));
    }
    fail(topic.partitions[1]!);
    await fn(c, tb);
    // The connection is still open and serving.
    const versions = await c.request<{ errorCode: number }>(18, 3, {
      clientSoftwareName: 't',
      clientSoftwareVersion: '1',
    });
    expect(versions.errorCode).toBe(0);
  } finally {
    c.close();
    await tb.close();
  }
}

const partitionsOf = (body: unknown) => [0, 1, 2].map((i) => ({ partition: i, ...(body as object) }));

describe('an unexpected failure on one partition', () => {
  it('classifies errno-style I/O errors as KAFKA_STORAGE_ERROR, anything else UNKNOWN_SERVER_ERROR', () => {
    expect(isIoError(ioError('EIO'))).toBe(true);
    expect(partitionErrorOf(ioError('ENOSPC')).error).toBe('KAFKA_STORAGE_ERROR');
    expect(partitionErrorOf(new Error('bug')).error).toBe('UNKNOWN_SERVER_ERROR');
    expect(partitionErrorOf(new TypeError('x is undefined')).error).toBe('UNKNOWN_SERVER_ERROR');
    expect(partitionErrorOf('a string')).toEqual({ error: 'UNKNOWN_SERVER_ERROR', code: -1, message: null });
    expect(partitionErrorOf(new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'seq 5 after 3'))).toEqual({
      error: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
      code: 45,
      message: 'seq 5 after 3',
    });
  });

  it('Fetch: that partition answers KAFKA_STORAGE_ERROR, the others their records', async () => {
    await withFailingPartition(
      (p) => {
        p.log.read = () => {
          throw ioError('EIO');
        };
      },
      async (c) => {
        const r = await c.request<{
          errorCode: number;
          responses: {
            partitions: {
              partitionIndex: number;
              errorCode: number;
              highWatermark: number;
              records: Buffer;
            }[];
          }[];
        }>(1, 12, {
          replicaId: -1,
          maxWaitMs: 5000,
          minBytes: 1 << 20, // would wait: the partition error answers at once
          maxBytes: 1 << 20,
          isolationLevel: 0,
          topics: [{ topic: 't', partitions: partitionsOf({ fetchOffset: 0, partitionMaxBytes: 1 << 20 }) }],
        });
        expect(r.errorCode).toBe(0);
        const ps = r.responses[0]!.partitions;
        expect(ps.map((p) => p.errorCode)).toEqual([0, ErrorCode.KAFKA_STORAGE_ERROR, 0]);
        expect(ps[1]!.highWatermark).toBe(-1);
        expect(ps[0]!.records.length).toBeGreaterThan(0);
        expect(ps[2]!.records.length).toBeGreaterThan(0);
      },
    );
  });

  it('ListOffsets: that partition answers UNKNOWN_SERVER_ERROR, the others their offsets', async () => {
    await withFailingPartition(
      (p) => {
        p.log.fetchOffsetByTimestamp = () => {
          throw new Error('a bug in the time index');
        };
      },
      async (c) => {
        const r = await c.request<{ topics: { partitions: { errorCode: number; offset: number }[] }[] }>(
          2,
          9,
          {
            replicaId: -1,
            isolationLevel: 0,
            topics: [
              {
                name: 't',
                partitions: [0, 1, 2].map((i) => ({
                  partitionIndex: i,
                  currentLeaderEpoch: -1,
                  timestamp: 0,
                })),
              },
            ],
          },
        );
        expect(r.topics[0]!.partitions).toMatchObject([
          { errorCode: 0, offset: 0 },
          { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, offset: -1 },
          { errorCode: 0, offset: 0 },
        ]);
      },
    );
  });

  it('Produce: that partition answers UNKNOWN_SERVER_ERROR (KAFKA_STORAGE_ERROR for I/O), the others are appended', async () => {
    let thrown: unknown = new Error('a bug in the append path');
    await withFailingPartition(
      (p) => {
        p.log.appendAsLeader = () => {
          throw thrown;
        };
      },
      async (c, tb) => {
        const produce = () =>
          c.request<{
            responses: { partitionResponses: { index: number; errorCode: number; baseOffset: number }[] }[];
          }>(0, 9, {
            transactionalId: null,
            acks: 1,
            timeoutMs: 1000,
            topicData: [
              {
                name: 't',
                partitionData: [0, 1, 2].map((index) => ({
                  index,
                  records: buildRecordBatch({ records: [{ value: 'x' }] }),
                })),
              },
            ],
          });
        let r = await produce();
        expect(r.responses[0]!.partitionResponses).toMatchObject([
          { errorCode: 0, baseOffset: 1 },
          { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, baseOffset: -1 },
          { errorCode: 0, baseOffset: 1 },
        ]);
        thrown = ioError('ENOSPC');
        r = await produce();
        expect(r.responses[0]!.partitionResponses.map((p) => p.errorCode)).toEqual([
          0,
          ErrorCode.KAFKA_STORAGE_ERROR,
          0,
        ]);
        expect(tb.broker.replicaManager.getPartition('t', 2)!.logEndOffset).toBe(3);
      },
    );
  });
});
