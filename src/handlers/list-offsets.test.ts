import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, BATCH_LENGTH, HEADER_SIZE, LOG_OVERHEAD, writeCrc } from '../protocol/record-batch.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { encodeRecordBatch } from '../protocol/records.js';
import { createHostedTopic, startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from './list-offsets.js';

interface PartitionAnswer {
  partitionIndex: number;
  errorCode: number;
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}
interface ListOffsetsAnswer {
  topics: { name: string; partitions: PartitionAnswer[] }[];
}

const T0 = 1_700_000_000_000;

async function withBroker(fn: (tb: TestBroker, c: TestClient) => Promise<void>): Promise<void> {
  const tb = await startTestBroker();
  const c = await TestClient.connect(tb.port);
  try {
    await fn(tb, c);
  } finally {
    c.close();
    await tb.close();
  }
}

async function listOffset(
  c: TestClient,
  topic: string,
  timestamp: number,
  isolationLevel = 0,
): Promise<PartitionAnswer> {
  const r = await c.request<ListOffsetsAnswer>(2, 9, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
  });
  return r.topics[0]!.partitions[0]!;
}

/** One batch of n records, record i stamped T0 + first + i. */
const batch = (first: number, n: number) =>
  buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ value: `v${first + i}`, timestamp: T0 + first + i })),
  });

describe('ListOffsets', () => {
  it('never answers a timestamp lookup below the log start offset (DeleteRecords inside a batch)', async () => {
    await withBroker(async (tb, c) => {
      tb.broker.controller.createTopic('lso', 1);
      tb.broker.replicaManager.getPartition('lso', 0)!.appendRecordsToLeader(batch(0, 100));
      const del = await c.request<{
        topics: { partitions: { errorCode: number; lowWatermark: number }[] }[];
      }>(21, 2, {
        topics: [{ name: 'lso', partitions: [{ partitionIndex: 0, offset: 40 }] }],
        timeoutMs: 1000,
      });
      expect(del.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 40 });

      expect(await listOffset(c, 'lso', 0)).toMatchObject({ errorCode: 0, offset: 40, timestamp: T0 + 40 });
      expect(await listOffset(c, 'lso', T0 + 10)).toMatchObject({ offset: 40, timestamp: T0 + 40 });
      expect(await listOffset(c, 'lso', T0 + 40)).toMatchObject({ offset: 40, timestamp: T0 + 40 });
      expect(await listOffset(c, 'lso', T0 + 60)).toMatchObject({ offset: 60, timestamp: T0 + 60 });
      expect(await listOffset(c, 'lso', T0 + 100)).toMatchObject({ offset: -1, timestamp: -1 });
      expect(await listOffset(c, 'lso', EARLIEST_TIMESTAMP)).toMatchObject({ offset: 40, timestamp: -1 });
    });
  });

  it('answers the leader epoch of the batch holding the offset, as Kafka', async () => {
    await withBroker(async (tb, c) => {
      const p = createHostedTopic(tb.broker, 'epochs', 1)[0]!;
      p.appendRecordsToLeader(batch(0, 10)); // epoch 0: offsets 0-9
      p.leaderEpoch = 3; // a later leadership (what a leader election does)
      p.appendRecordsToLeader(batch(10, 10)); // epoch 3: offsets 10-19

      expect(await listOffset(c, 'epochs', T0 + 5)).toMatchObject({ offset: 5, leaderEpoch: 0 });
      expect(await listOffset(c, 'epochs', T0 + 15)).toMatchObject({ offset: 15, leaderEpoch: 3 });
      // Earliest: the first leader-epoch entry, which starts at the log start offset.
      expect(await listOffset(c, 'epochs', EARLIEST_TIMESTAMP)).toMatchObject({ offset: 0, leaderEpoch: 0 });
      // Latest: the current leader epoch.
      expect(await listOffset(c, 'epochs', LATEST_TIMESTAMP)).toMatchObject({ offset: 20, leaderEpoch: 3 });
      expect(await listOffset(c, 'epochs', MAX_TIMESTAMP)).toMatchObject({ offset: 19, leaderEpoch: 3 });

      // The max timestamp in the old epoch's batch: its record and that batch's epoch.
      const epochs = createHostedTopic(tb.broker, 'epochs-max', 1)[0]!;
      epochs.appendRecordsToLeader(
        buildRecordBatch({
          records: [
            { value: 'a', timestamp: T0 + 10 },
            { value: 'b', timestamp: T0 + 30 },
            { value: 'c', timestamp: T0 + 20 },
          ],
        }),
      );
      epochs.leaderEpoch = 2;
      epochs.appendRecordsToLeader(batch(0, 3));
      // Kafka answers the record carrying the max timestamp (offset 1), not the batch's last offset.
      expect(await listOffset(c, 'epochs-max', MAX_TIMESTAMP)).toMatchObject({
        offset: 1,
        timestamp: T0 + 30,
        leaderEpoch: 0,
      });
    });
  });

  it('answers no offset for a timestamp found beyond the last stable offset under read_committed', async () => {
    await withBroker(async (tb, c) => {
      const p = createHostedTopic(tb.broker, 'txn', 1)[0]!;
      p.appendRecordsToLeader(batch(0, 5));
      p.appendRecordsToLeader(
        buildRecordBatch({
          records: [{ value: 'open', timestamp: T0 + 50 }],
          producerId: 1000,
          producerEpoch: 0,
          baseSequence: 0,
          transactional: true,
        }),
      );
      expect(p.lastStableOffset).toBe(5);
      expect(await listOffset(c, 'txn', T0 + 50, 0)).toMatchObject({ offset: 5, timestamp: T0 + 50 });
      expect(await listOffset(c, 'txn', T0 + 50, 1)).toMatchObject({ offset: -1, timestamp: -1 });
      expect(await listOffset(c, 'txn', T0 + 1, 1)).toMatchObject({ offset: 1, timestamp: T0 + 1 });
    });
  });

  it('reads a stored decompression bomb within a bound; a produced one is refused and never stored', async () => {
    // A zstd frame of 4096 RLE blocks of 128 KiB zeros (512 MiB), as a batch of one record at T0 + 5:
    // stored directly (as one could be before compressed batches were validated on produce).
    const section = Buffer.from(`28b52ffd0038${'02001000'.repeat(4095)}03001000`, 'hex');
    const bomb = (): Buffer => {
      const plain = buildRecordBatch({ records: [{ value: 'x', timestamp: T0 + 5 }] });
      const b = Buffer.alloc(HEADER_SIZE + section.length);
      plain.copy(b, 0, 0, HEADER_SIZE);
      section.copy(b, HEADER_SIZE);
      b.writeInt32BE(b.length - LOG_OVERHEAD, BATCH_LENGTH);
      b.writeInt16BE(4, ATTRIBUTES); // zstd
      writeCrc(b, 0);
      return b;
    };
    await withBroker(async (tb, c) => {
      tb.broker.controller.createTopic('bomb', 1);
      const p = tb.broker.replicaManager.getPartition('bomb', 0)!;
      p.appendRecordsToLeader(batch(0, 3)); // offsets 0-2 at T0 .. T0 + 2
      p.appendRecordsToLeader(bomb()); // offset 3
      p.appendRecordsToLeader(
        encodeRecordBatch({
          compression: 'lz4',
          records: [
            { value: 'y', timestamp: T0 + 9 },
            { value: 'z', timestamp: T0 + 10 },
          ],
        }),
      ); // 4-5
      const started = performance.now();
      expect(await listOffset(c, 'bomb', T0 + 4)).toMatchObject({
        errorCode: 0,
        offset: 3,
        timestamp: T0 + 5,
      });
      expect(await listOffset(c, 'bomb', T0 + 10)).toMatchObject({
        errorCode: 0,
        offset: 5,
        timestamp: T0 + 10,
      });
      expect(await listOffset(c, 'bomb', T0 + 1)).toMatchObject({ errorCode: 0, offset: 1 });
      expect(await listOffset(c, 'bomb', MAX_TIMESTAMP)).toMatchObject({ errorCode: 0, offset: 5 });
      // Three lookups, none decompressing 512 MiB (that alone took seconds).
      expect(performance.now() - started).toBeLessThan(5_000);
      // Produced, it is refused whole.
      const r = await c.request<{
        responses: { partitionResponses: { errorCode: number; errorMessage: string | null }[] }[];
      }>(0, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'bomb', partitionData: [{ index: 0, records: bomb() }] }],
      });
      expect(r.responses[0]!.partitionResponses[0]).toMatchObject({
        errorCode: 87, // INVALID_RECORD
        errorMessage: 'Found invalid record structure',
      });
      expect(p.logEndOffset).toBe(6);
    });
  });
});
