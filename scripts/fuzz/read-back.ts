/**
 * Reads every partition of every topic back over TCP (Metadata, ListOffsets earliest, Fetch to
 * the high watermark) and checks what a consumer would see: no error codes, every batch whole
 * with a valid CRC-32C, offsets increasing without gaps or overlaps from the log start to the
 * high watermark. Records are also decoded (decompressed, bounded) where they can be: kbroker,
 * like Kafka's hot path for uncompressed data, stores a client's batch without reading its
 * records, so a batch whose records are garbage under a good CRC is counted, not failed.
 */

import { iterateBatches } from '../../src/protocol/record-batch.js';
import { decodeRecordBatch } from '../../src/protocol/records.js';
import { TestClient } from '../../src/test-support/client.js';

export interface PartitionReadBack {
  topic: string;
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  batches: number;
  records: number;
  /** Batches whose records could not be decoded (garbage or too large once decompressed). */
  undecodable: number;
}

export interface ReadBack {
  partitions: PartitionReadBack[];
  /** What is wrong, one line each; empty when clean. */
  problems: string[];
}

type MetadataResponse = {
  topics: { errorCode: number; name: string; partitions: { partitionIndex: number }[] }[];
};
type ListOffsetsResponse = {
  topics: { partitions: { errorCode: number; offset: number }[] }[];
};
type FetchResponse = {
  errorCode: number;
  responses: {
    partitions: {
      errorCode: number;
      highWatermark: number;
      logStartOffset: number;
      records: Buffer | null;
    }[];
  }[];
};

export async function readBack(port: number, opts: { decode?: boolean } = {}): Promise<ReadBack> {
  const c = await TestClient.connect(port);
  const problems: string[] = [];
  const partitions: PartitionReadBack[] = [];
  try {
    const meta = await c.request<MetadataResponse>(3, 12, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    for (const t of meta.topics) {
      if (t.errorCode !== 0) problems.push(`${t.name}: metadata error ${t.errorCode}`);
      for (const p of t.partitions) {
        const r = await readPartition(c, t.name, p.partitionIndex, opts.decode ?? true, problems);
        partitions.push(r);
      }
    }
  } finally {
    c.close();
  }
  partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return { partitions, problems };
}

async function readPartition(
  c: TestClient,
  topic: string,
  partition: number,
  decode: boolean,
  problems: string[],
): Promise<PartitionReadBack> {
  const where = `${topic}-${partition}`;
  const lo = await c.request<ListOffsetsResponse>(2, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      { name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -2 }] },
    ],
  });
  const start = lo.topics[0]!.partitions[0]!;
  if (start.errorCode !== 0) problems.push(`${where}: ListOffsets error ${start.errorCode}`);
  const out: PartitionReadBack = {
    topic,
    partition,
    logStartOffset: start.offset,
    highWatermark: -1,
    batches: 0,
    records: 0,
    undecodable: 0,
  };
  let offset = start.offset;
  let expectedNext = -1;
  for (let round = 0; round < 100_000; round++) {
    const res = await c.request<FetchResponse>(1, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 16 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          partitions: [
            {
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              logStartOffset: -1,
              partitionMaxBytes: 16 * 1024 * 1024,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = res.responses[0]?.partitions[0];
    if (res.errorCode !== 0 || !p || p.errorCode !== 0) {
      problems.push(`${where}: fetch at ${offset} error ${res.errorCode}/${p?.errorCode}`);
      break;
    }
    out.highWatermark = p.highWatermark;
    const buf = p.records ?? Buffer.alloc(0);
    const it = iterateBatches(buf, { verifyCrc: true });
    let got = 0;
    for (const b of it) {
      got++;
      out.batches++;
      out.records += b.lastOffset - b.baseOffset + 1;
      if (expectedNext >= 0 && b.baseOffset !== expectedNext) {
        problems.push(`${where}: batch at ${b.baseOffset} after one ending at ${expectedNext - 1}`);
      }
      if (b.lastOffset < b.baseOffset)
        problems.push(`${where}: batch at ${b.baseOffset} ends before it starts`);
      expectedNext = b.lastOffset + 1;
      if (decode) {
        try {
          decodeRecordBatch(buf, b.position, { maxUncompressedBytes: 32 * 1024 * 1024 });
        } catch {
          out.undecodable++;
        }
      }
    }
    // A fetch may end with a partial batch (size limit); anything else past the batches is wrong.
    if (it.stopReason !== 'end' && it.stopReason !== 'partial') {
      problems.push(`${where}: ${it.stopReason} at byte ${it.position} of the fetch at ${offset}`);
      break;
    }
    if (got === 0 || expectedNext >= p.highWatermark) break;
    offset = expectedNext;
  }
  if (expectedNext >= 0 && expectedNext < out.highWatermark) {
    problems.push(`${where}: read up to ${expectedNext}, high watermark ${out.highWatermark}`);
  }
  return out;
}
