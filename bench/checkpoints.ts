/**
 * Checkpoint and metadata writes with many partitions (issue 11, item 5): the longest event-loop
 * stall of the broker while it serves (1) one broker-level AlterConfigs (a new log.retention.ms
 * default for every topic) over TCP, (2) one retention pass that deletes the oldest segment of
 * every partition and so moves every log start offset, (3) the deferred removal of those
 * segment files (file.delete.delay.ms later), and (4) one periodic write of the three offset
 * checkpoint files. The broker runs in this process; the stall is the largest delay of
 * perf_hooks.monitorEventLoopDelay (1 ms resolution) while each step runs, beside a baseline
 * taken over an idle second of the same run. No assertion: compare the numbers (target < 50 ms).
 *
 *   npm run bench:checkpoints        (npx tsx bench/checkpoints.ts [--topics 2000])
 *
 * Topics are registered by writing the legacy topic registry (kbroker-topics.json) before start,
 * which the first start migrates into the metadata log, so that the set-up costs the same
 * whatever the code under test does with CreateTopics.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildRecordBatch } from '../src/protocol/record-batch-builder.js';
import { newTopicId } from '../src/storage/partition-metadata.js';
import { startTestBroker } from '../src/test-support/broker.js';
import { TestClient } from '../src/test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded response bodies, checked field by field
type Body = Record<string, any>;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const HOUR = 3_600_000;
const FILE_DELETE_DELAY_MS = 1000;

/** Runs `op` and returns its wall time and the longest event-loop delay seen meanwhile (ms). */
async function stallOf(op: () => Promise<unknown>): Promise<{ wallMs: number; maxStallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // Let the histogram's timer start before the operation blocks the loop.
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  await op();
  const wallMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  return { wallMs, maxStallMs: h.max / 1e6 };
}

async function main(): Promise<void> {
  const topics = arg('topics', 2000);
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-bench-checkpoints-'));
  const names = Array.from({ length: topics }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    join(dataDir, 'kbroker-topics.json'),
    JSON.stringify({
      version: 0,
      topics: names.map((name) => ({
        name,
        topicId: newTopicId(),
        partitions: 1,
        configs: {},
      })),
    }),
  );
  const tb = await startTestBroker(
    {
      'log.retention.check.interval.ms': String(24 * HOUR), // the bench runs the one pass itself
      'log.segment.delete.delay.ms': String(FILE_DELETE_DELAY_MS),
    },
    dataDir,
  );
  const rm = tb.broker.replicaManager;
  // Each partition: one segment of records 2 h old, then a fresh active segment.
  for (const name of names) {
    const p = rm.getPartition(name, 0)!;
    const old = Date.now() - 2 * HOUR;
    p.appendRecordsToLeader(buildRecordBatch({ records: [{ key: 'k', value: 'old', timestamp: old }] }));
    p.log.roll();
    p.appendRecordsToLeader(
      buildRecordBatch({ records: [{ key: 'k', value: 'new', timestamp: Date.now() }] }),
    );
  }
  const c = await TestClient.connect(tb.port);

  const idle = await stallOf(() => new Promise((r) => setTimeout(r, 1000)));

  const alter = await stallOf(async () => {
    const res = await c.request<Body>(33, 0, {
      validateOnly: false,
      resources: [
        {
          resourceType: 4,
          resourceName: '',
          configs: [{ name: 'log.retention.ms', value: String(HOUR) }],
        },
      ],
    });
    if (res.responses[0].errorCode !== 0) throw new Error(`AlterConfigs: ${JSON.stringify(res)}`);
  });
  const retentionMs = tb.broker.logManager.getLog(names[0]!, 0)!.config.retentionMs;
  if (retentionMs !== HOUR) throw new Error(`log.retention.ms not applied (${retentionMs})`);

  const retention = await stallOf(async () => {
    await rm.applyRetention();
  });
  const moved = names.filter((n) => rm.getPartition(n, 0)!.logStartOffset === 1).length;
  if (moved !== topics) throw new Error(`retention moved ${moved} of ${topics} log start offsets`);

  const deferred = await stallOf(() => new Promise((r) => setTimeout(r, FILE_DELETE_DELAY_MS + 500)));

  const checkpoint = await stallOf(async () => {
    tb.broker.logManager.checkpointAll();
  });

  const row = (name: string, r: { wallMs: number; maxStallMs: number }) =>
    `${name.padEnd(52)} ${r.maxStallMs.toFixed(1).padStart(9)} ms ${r.wallMs.toFixed(1).padStart(10)} ms`;
  console.log(
    `kbroker checkpoints and metadata writes, ${topics} topics × 1 partition, Node ${process.version}`,
  );
  console.log(`${'step'.padEnd(52)} ${'max stall'.padStart(12)} ${'wall'.padStart(13)}`);
  console.log(row('baseline: idle second', idle));
  console.log(row('broker-level AlterConfigs (log.retention.ms)', alter));
  console.log(row(`one retention pass (${topics} segments deleted)`, retention));
  console.log(row(`deferred segment file removal (+${FILE_DELETE_DELAY_MS} ms)`, deferred));
  console.log(row('one write of the three offset checkpoints', checkpoint));

  c.close();
  await tb.close();
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
