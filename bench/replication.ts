/**
 * Replication benchmark (issue 13): produce throughput and latency with acks=-1 to a partition
 * replicated on three brokers in one process (the two followers fetching over loopback TCP), beside
 * a baseline measured in the same run: acks=1 to a partition of one replica on the same leader.
 * Raw Produce v7 frames of one batch (100 records of 100 B); throughput with 8 requests in flight,
 * latency with 1. Brokers, controller and leadership: one in-process cluster (src/server/cluster.ts).
 *
 *   npx tsx bench/replication.ts [--requests 5000]
 */
import { codecFor, Writer } from '../src/protocol/codec.js';
import { ProduceRequest } from '../src/protocol/generated/messages.js';
import { requestHeaderVersion } from '../src/protocol/headers.js';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { startTestCluster } from '../src/test-support/cluster.js';
import { PipelineClient, percentile } from './pipeline-client.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const RECORDS_PER_BATCH = 100;
const batch = buildRecordBatch({
  records: Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
    value: Buffer.alloc(100, i),
    timestamp: Date.now(),
  })),
});

function produceFrame(topic: string, acks: number, correlationId: number): Buffer {
  const w = new Writer(batch.length + 256);
  w.int32(0);
  w.int16(0);
  w.int16(7);
  w.int32(correlationId);
  w.string('bench-replication');
  if (requestHeaderVersion(0, 7) >= 2) w.uvarint(0);
  codecFor(ProduceRequest, 7).write(w, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
  const buf = w.toBuffer();
  buf.writeInt32BE(buf.length - 4, 0);
  return buf;
}

/** The first partition's error code of a Produce v7 response frame (correlation id, then the body). */
function produceErrorCode(frame: Buffer): number {
  // correlation id (4), responses array (4), topic name (2 + n), partitions array (4), index (4), error (2)
  const nameLen = frame.readInt16BE(8);
  return frame.readInt16BE(10 + nameLen + 4 + 4);
}

async function measure(port: number, topic: string, acks: number, requests: number) {
  const client = await PipelineClient.connect(port);
  let errors = 0;
  const check = (f: Buffer) => {
    if (produceErrorCode(f) !== 0) errors++;
  };
  await client.run(Math.min(500, requests), 8, (i) => produceFrame(topic, acks, i), check); // warm-up
  const t0 = performance.now();
  await client.run(requests, 8, (i) => produceFrame(topic, acks, i), check);
  const seconds = (performance.now() - t0) / 1000;
  const rtts = await client.run(Math.ceil(requests / 5), 1, (i) => produceFrame(topic, acks, i), check);
  client.close();
  if (errors > 0) throw new Error(`${errors} produce requests to ${topic} failed`);
  return {
    recordsPerSec: (requests * RECORDS_PER_BATCH) / seconds,
    mbPerSec: (requests * batch.length) / seconds / 1e6,
    p50: percentile(rtts, 50),
    p99: percentile(rtts, 99),
  };
}

async function main(): Promise<void> {
  const requests = arg('requests', 5000);
  const tc = await startTestCluster(3);
  try {
    await tc.createTopic('replicated', [[1, 2, 3]]);
    await tc.createTopic('single', [[1]]);
    const leader = { port: tc.cluster.broker(1)!.port, broker: tc.cluster.broker(1)! };
    const brokers = [1, 2, 3].map((id) => ({ broker: tc.cluster.broker(id)! }));

    const baseline = await measure(leader.port, 'single', 1, requests);
    const replicated = await measure(leader.port, 'replicated', -1, requests);
    const followers = brokers.slice(1).map((b) => b.broker.replicaManager.getPartition('replicated', 0)!);
    const leo = tc.partitionOn(1, 'replicated').logEndOffset;
    if (followers.some((p) => p.logEndOffset !== leo))
      throw new Error('followers did not replicate everything');

    const row = (name: string, r: typeof baseline) =>
      `${name.padEnd(44)} ${r.recordsPerSec.toFixed(0).padStart(9)} rec/s ${r.mbPerSec.toFixed(1).padStart(7)} MB/s` +
      `   p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms`;
    console.log(
      `replication: ${requests} Produce v7 requests of ${RECORDS_PER_BATCH} × 100 B, 8 in flight; latency 1 in flight (Node ${process.version})`,
    );
    console.log(row('baseline: acks=1, 1 replica', baseline));
    console.log(row('acks=-1, 3 replicas in one process', replicated));
    console.log(
      `ratio (replicated / baseline): throughput ${(replicated.recordsPerSec / baseline.recordsPerSec).toFixed(2)}×, ` +
        `p50 ${(replicated.p50 / baseline.p50).toFixed(2)}×, p99 ${(replicated.p99 / baseline.p99).toFixed(2)}×`,
    );
  } finally {
    await tc.close();
  }
}

await main();
