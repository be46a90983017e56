/**
 * A failing disk under one log directory (EIO / EACCES, through storage's simulated-fault seam:
 * running as root ignores file modes and a real EIO needs a broken device). As Kafka's
 * LogDirFailureChannel: the directory goes offline, its partitions answer KAFKA_STORAGE_ERROR,
 * one ERROR line names it, OfflineLogDirectoryCount counts it, DescribeLogDirs answers it with
 * KAFKA_STORAGE_ERROR — and partitions in the other log.dirs keep serving. With a single log
 * directory the broker stays up (Kafka would stop): every other API still answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../common/logger.js';
import { BrokerConfig } from '../../config/broker-config.js';
import { scrape } from '../../ops/prometheus.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { buildRecordBatch } from '../../protocol/record-batch-builder.js';
import { decodeRecordBatches } from '../../protocol/records.js';
import { clearSimulatedIoFaults, simulateIoFault } from '../../storage/log-dir-failure.js';
import { TestClient } from '../../test-support/client.js';
import { seriesValue } from '../../test-support/metrics.js';
import { Broker } from '../broker.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  clearSimulatedIoFaults();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `kbroker-logdir-${name}-`));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function start(logDirs: string[], errors: string[]): Promise<Broker> {
  const log: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (msg: string) => {
      errors.push(msg);
    },
  };
  const broker = await Broker.start(
    new BrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': logDirs.join(',') }),
    { logger: log },
  );
  cleanups.push(() => broker.close().catch(() => {}));
  return broker;
}

async function createTopic(port: number, topic: string, partitions: number): Promise<void> {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  await admin.disconnect();
}

type ProduceResponse = {
  responses: { partitionResponses: { index: number; errorCode: number; baseOffset: number }[] }[];
};

/** One record to each partition; the error code of each. */
async function produceEach(
  c: TestClient,
  topic: string,
  partitions: number[],
  value: string,
): Promise<Map<number, number>> {
  const res = await c.request<ProduceResponse>(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [
      {
        name: topic,
        partitionData: partitions.map((index) => ({
          index,
          records: buildRecordBatch({ records: [{ key: null, value: Buffer.from(`${value}-${index}`) }] }),
        })),
      },
    ],
  });
  return new Map(res.responses[0]!.partitionResponses.map((p) => [p.index, p.errorCode]));
}

type FetchResponse = {
  responses: { partitions: { partitionIndex: number; errorCode: number; records: Buffer | null }[] }[];
};

/** Every value of each partition from offset 0 (or its error code). */
async function fetchEach(
  c: TestClient,
  topic: string,
  partitions: number[],
): Promise<Map<number, string[] | number>> {
  const res = await c.request<FetchResponse>(1, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: partitions.map((partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset: 0,
          logStartOffset: -1,
          partitionMaxBytes: 1 << 20,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  const out = new Map<number, string[] | number>();
  for (const p of res.responses[0]!.partitions) {
    out.set(
      p.partitionIndex,
      p.errorCode !== 0
        ? p.errorCode
        : decodeRecordBatches(p.records ?? Buffer.alloc(0)).flatMap((b) =>
            b.records.map((r) => r.value!.toString()),
          ),
    );
  }
  return out;
}

type LogDirsResponse = {
  errorCode: number;
  results: {
    errorCode: number;
    logDir: string;
    topics: { name: string; partitions: { partitionIndex: number }[] }[];
  }[];
};

async function describeLogDirs(c: TestClient): Promise<LogDirsResponse> {
  return c.request<LogDirsResponse>(35, 4, { topics: null });
}

function metric(text: string, line: string): number | undefined {
  const value = seriesValue(text, line);
  return Number.isNaN(value) ? undefined : value;
}

describe('a log directory whose disk fails (Kafka LogDirFailureChannel)', () => {
  it('EIO on writes in one of two log.dirs: that directory goes offline, the other keeps serving', async () => {
    const dirA = tmp('a');
    const dirB = tmp('b');
    const errors: string[] = [];
    const broker = await start([dirA, dirB], errors);
    await createTopic(broker.port, 't', 4);
    const c = await TestClient.connect(broker.port);
    cleanups.push(() => c.close());

    // New partitions went to the directory holding the fewest: two in each.
    const before = await describeLogDirs(c);
    expect(before.results.map((r) => [r.logDir, r.errorCode])).toEqual([
      [dirA, 0],
      [dirB, 0],
    ]);
    const inDir = (dir: string) =>
      before.results
        .find((r) => r.logDir === dir)!
        .topics.flatMap((t) => t.partitions.map((p) => p.partitionIndex));
    const onA = inDir(dirA);
    const onB = inDir(dirB);
    expect(onA).toHaveLength(2);
    expect(onB).toHaveLength(2);

    const all = [0, 1, 2, 3];
    expect([...(await produceEach(c, 't', all, 'before')).values()]).toEqual([0, 0, 0, 0]);

    // The disk under dirB fails on writes.
    simulateIoFault(dirB, 'EIO', ['write']);
    const during = await produceEach(c, 't', all, 'during');
    for (const p of onA) expect(during.get(p)).toBe(ErrorCode.NONE);
    for (const p of onB) expect(during.get(p)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);

    // One ERROR line names the directory.
    const lines = errors.filter((e) => e.includes(`log directory ${dirB} is offline`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      '2 partition(s) in it now answer KAFKA_STORAGE_ERROR; 1 other log directory keeps serving',
    );

    // Offline means offline: reads of dirB's partitions fail too (reads were not failing), dirA's
    // serve everything acknowledged.
    clearSimulatedIoFaults();
    const read = await fetchEach(c, 't', all);
    for (const p of onA) expect(read.get(p)).toEqual([`before-${p}`, `during-${p}`]);
    for (const p of onB) expect(read.get(p)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    const again = await produceEach(c, 't', all, 'after');
    for (const p of onA) expect(again.get(p)).toBe(ErrorCode.NONE);
    for (const p of onB) expect(again.get(p)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);

    // DescribeLogDirs: the offline directory answers KAFKA_STORAGE_ERROR, the other lists its partitions.
    const after = await describeLogDirs(c);
    const b = after.results.find((r) => r.logDir === dirB)!;
    expect(b.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(b.topics).toEqual([]);
    const a = after.results.find((r) => r.logDir === dirA)!;
    expect(a.errorCode).toBe(0);
    expect(a.topics.flatMap((t) => t.partitions.map((p) => p.partitionIndex)).sort()).toEqual(
      [...onA].sort(),
    );

    // The metrics say so.
    const text = await scrape(broker);
    expect(metric(text, 'kafka_log_logmanager_offlinelogdirectorycount')).toBe(1);
    expect(metric(text, `kafka_log_logmanager_logdirectoryoffline{logdirectory="${dirB}"}`)).toBe(1);
    expect(metric(text, `kafka_log_logmanager_logdirectoryoffline{logdirectory="${dirA}"}`)).toBe(0);
    expect(metric(text, 'kafka_server_replicamanager_offlinereplicacount')).toBe(2);

    // A new topic's partitions go to the directory still online, and serve.
    await createTopic(broker.port, 'later', 2);
    expect(
      (await describeLogDirs(c)).results.find((r) => r.logDir === dirA)!.topics.map((t) => t.name),
    ).toContain('later');
    expect([...(await produceEach(c, 'later', [0, 1], 'x')).values()]).toEqual([0, 0]);

    // A restart once the disk is fixed brings dirB back with everything it acknowledged.
    await broker.close();
    const restarted = await start([dirA, dirB], errors);
    const c2 = await TestClient.connect(restarted.port);
    cleanups.push(() => c2.close());
    const back = await fetchEach(c2, 't', all);
    for (const p of onA) expect(back.get(p)).toEqual([`before-${p}`, `during-${p}`, `after-${p}`]);
    for (const p of onB) expect(back.get(p)).toEqual([`before-${p}`]);
    expect((await describeLogDirs(c2)).results.every((r) => r.errorCode === 0)).toBe(true);
  }, 60_000);

  it('EACCES on reads with a single log directory: its partitions fail, the broker stays up and says why', async () => {
    const dir = tmp('single');
    const errors: string[] = [];
    const broker = await start([dir], errors);
    await createTopic(broker.port, 's', 2);
    const c = await TestClient.connect(broker.port);
    cleanups.push(() => c.close());
    expect([...(await produceEach(c, 's', [0, 1], 'v')).values()]).toEqual([0, 0]);

    simulateIoFault(dir, 'EACCES', ['read']);
    const read = await fetchEach(c, 's', [0, 1]);
    expect([...read.values()]).toEqual([ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR]);
    const line = errors.find((e) => e.includes(`log directory ${dir} is offline`));
    expect(line).toContain('no log directory is left online');
    // Writes are refused as well, without touching the disk.
    clearSimulatedIoFaults();
    expect([...(await produceEach(c, 's', [0, 1], 'w')).values()]).toEqual([
      ErrorCode.KAFKA_STORAGE_ERROR,
      ErrorCode.KAFKA_STORAGE_ERROR,
    ]);
    // Kafka would have stopped; this broker still answers everything else.
    const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: ['s'] });
    expect(md.topics[0]!.partitions).toHaveLength(2);
    await admin.disconnect();
    expect((await describeLogDirs(c)).results).toEqual([
      expect.objectContaining({ logDir: dir, errorCode: ErrorCode.KAFKA_STORAGE_ERROR }),
    ]);
    expect(metric(await scrape(broker), 'kafka_log_logmanager_offlinelogdirectorycount')).toBe(1);
  }, 60_000);

  it('ENOSPC is not a failure: the directory stays online, flagged full by a log line and a metric until a write succeeds', async () => {
    const dir = tmp('full');
    const errors: string[] = [];
    const broker = await start([dir], errors);
    await createTopic(broker.port, 'f', 1);
    const c = await TestClient.connect(broker.port);
    cleanups.push(() => c.close());
    simulateIoFault(dir, 'ENOSPC', ['write']);
    expect((await produceEach(c, 'f', [0], 'a')).get(0)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    let text = await scrape(broker);
    expect(metric(text, `kbroker_log_logmanager_logdirectoryfull{logdirectory="${dir}"}`)).toBe(1);
    expect(metric(text, 'kafka_log_logmanager_offlinelogdirectorycount')).toBe(0);
    expect(errors.some((e) => e.includes(`log directory ${dir} is full (ENOSPC)`))).toBe(true);
    // Reads go on; once space is back the next write succeeds and the flag clears.
    expect((await fetchEach(c, 'f', [0])).get(0)).toEqual([]);
    clearSimulatedIoFaults();
    expect((await produceEach(c, 'f', [0], 'b')).get(0)).toBe(ErrorCode.NONE);
    text = await scrape(broker);
    expect(metric(text, `kbroker_log_logmanager_logdirectoryfull{logdirectory="${dir}"}`)).toBe(0);
    expect((await fetchEach(c, 'f', [0])).get(0)).toEqual(['b-0']);
  }, 60_000);
});
