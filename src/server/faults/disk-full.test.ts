/**
 * A full disk under the data directory: a small tmpfs (needs root to mount; the test says so and
 * skips where it cannot). Producers get KAFKA_STORAGE_ERROR, the broker stays up, reads go on,
 * no partially written batch is ever visible, and writes resume once space is freed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../common/logger.js';
import { BrokerConfig } from '../../config/broker-config.js';
import { scrape } from '../../ops/prometheus.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { buildRecordBatch } from '../../protocol/record-batch-builder.js';
import { decodeRecordBatches } from '../../protocol/records.js';
import { TestClient } from '../../test-support/client.js';
import { Broker } from '../broker.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'kbroker-diskfull-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch {
  // not root, or no mount in this container: the test below is skipped and says why
}

let broker: Broker;
const dataDir = join(mountPoint, 'data');
const ballast = join(mountPoint, 'ballast');
const errors: string[] = [];
const log: Logger = { debug() {}, info() {}, warn() {}, error: (msg: string) => errors.push(msg) };

beforeAll(async () => {
  if (!mounted) return;
  broker = await Broker.start(
    new BrokerConfig({
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'log.dirs': dataDir,
      'log.segment.bytes': '262144',
      'num.partitions': '1',
      // Reads as file ranges (sendfile): close() waits for the sends still on a pool thread to
      // release their segment descriptors, or the unmount below finds the file system busy.
      'socket.sendfile.enable': 'true',
    }),
    { logger: log },
  );
  await broker.controller.createTopic('full', 1, {}); // a Produce creates no topic, as in Kafka
});
afterAll(async () => {
  await broker?.close().catch(() => {});
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

type ProduceResponse = {
  responses: {
    partitionResponses: { errorCode: number; baseOffset: number; errorMessage?: string | null }[];
  }[];
};

async function produce(c: TestClient, value: string): Promise<{ errorCode: number; baseOffset: number }> {
  const res = await c.request<ProduceResponse>(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [
      {
        name: 'full',
        partitionData: [
          { index: 0, records: buildRecordBatch({ records: [{ key: null, value: Buffer.from(value) }] }) },
        ],
      },
    ],
  });
  return res.responses[0]!.partitionResponses[0]!;
}

/** Every record from offset 0 to the high watermark: whole batches only, every CRC valid. */
async function readAll(c: TestClient): Promise<string[]> {
  const values: string[] = [];
  for (let offset = 0; ; ) {
    const res = await c.request<{
      responses: { partitions: { errorCode: number; highWatermark: number; records: Buffer | null }[] }[];
    }>(1, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 64 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'full',
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              logStartOffset: -1,
              partitionMaxBytes: 64 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = res.responses[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`fetch at ${offset}: error ${p.errorCode}`);
    // decodeRecordBatches throws on a partial or corrupt batch.
    const batches = decodeRecordBatches(p.records ?? Buffer.alloc(0));
    for (const b of batches) {
      for (const r of b.records) values.push(r.value!.toString());
      offset = b.lastOffset + 1;
    }
    if (batches.length === 0 || offset >= p.highWatermark) return values;
  }
}

/** Compares without printing thousands of long values on failure. */
function expectSameValues(got: string[], want: string[]): void {
  expect(got.length).toBe(want.length);
  const firstDiff = got.findIndex((v, i) => v !== want[i]);
  expect(firstDiff).toBe(-1);
}

describe.skipIf(!mounted)('a full disk (tmpfs of 3 MiB under the data dir; needs root)', () => {
  it('producers get KAFKA_STORAGE_ERROR, reads go on, no torn batch is visible, writes resume once space is freed', async () => {
    const c = await TestClient.connect(broker.port);
    const acked: string[] = [];
    // Fill most of the disk with ballast we can free later, then produce until it is full.
    writeFileSync(ballast, Buffer.alloc(1024 * 1024));
    let failure: { errorCode: number } | undefined;
    for (let i = 0; i < 10_000 && !failure; i++) {
      const v = `r${i}-${'x'.repeat(2000)}`;
      const r = await produce(c, v);
      if (r.errorCode === 0) {
        expect(r.baseOffset).toBe(acked.length);
        acked.push(v);
      } else failure = r;
    }
    expect(failure?.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    // The log says which directory is full.
    expect(errors.some((e) => e.includes(`log directory ${dataDir} is full (ENOSPC)`))).toBe(true);
    // So does a metric, and the directory is not taken offline (as Kafka would).
    const fullMetric = `kbroker_log_logmanager_logdirectoryfull{logdirectory="${dataDir}"}`;
    expect(await scrape(broker)).toContain(`${fullMetric} 1`);
    expect(await scrape(broker)).toContain('kafka_log_logmanager_offlinelogdirectorycount 0');
    // More attempts while full: errors again, the broker stays up.
    for (let i = 0; i < 5; i++)
      expect((await produce(c, `again-${i}-${'x'.repeat(4000)}`)).errorCode).toBe(
        ErrorCode.KAFKA_STORAGE_ERROR,
      );
    // Reads go on and see exactly what was acknowledged: no partial batch of the failed appends.
    expectSameValues(await readAll(c), acked);
    // Space freed: writes resume at the next offset.
    rmSync(ballast);
    const after = await produce(c, 'after');
    expect(after).toMatchObject({ errorCode: 0, baseOffset: acked.length });
    expect(await scrape(broker)).toContain(`${fullMetric} 0`);
    expectSameValues(await readAll(c), [...acked, 'after']);
    c.close();
  });
});

if (!mounted) {
  describe('a full disk', () => {
    it.skip('needs root to mount a tmpfs; skipped here', () => {});
  });
}
