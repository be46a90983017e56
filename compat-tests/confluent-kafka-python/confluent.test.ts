// confluent-kafka-python (Debian python3-confluent-kafka 1.7.0, librdkafka 2.0.2) against an in-process
// kbroker over TCP. The checks live in produce_consume.py (run with Debian's /usr/bin/python3, which has
// the module; the pyenv python3 first on PATH does not): produce with keys/headers and acks=all, consume
// with assign() at offset 0, get_watermark_offsets, offsets_for_times, list_topics.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressionType } from '../../src/protocol/records.js';
import { startTestBroker, type TestBroker } from '../../src/test-support/broker.js';
import { expectStoredCodec, storedBatches } from '../lib/stored-batches.js';

const PYTHON = process.env.CONFLUENT_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./produce_consume.py', import.meta.url));
const probe = spawnSync(
  PYTHON,
  ['-c', 'import confluent_kafka as c; print(c.version()[0], c.libversion()[0])'],
  { encoding: 'utf8', timeout: 20_000 },
);
const haveModule = probe.status === 0;
const mode: 'run' | 'fail' | 'skip' = haveModule ? 'run' : process.env.CI ? 'fail' : 'skip';
if (mode === 'skip') {
  console.warn(
    `[compat-tests/confluent-kafka-python] SKIPPED: ${PYTHON} cannot import confluent_kafka ` +
      '(apt-get install python3-confluent-kafka). With CI set this fails.',
  );
}

interface Summary {
  librdkafka: string;
  compression: string;
  delivered: number;
  partitions: number;
  broker: string;
  brokerId: number;
  watermarks: [number, number];
  consumed: number;
  offsetsForTimes: [number, number][];
  offsetPastEnd: number;
}

const children = new Set<ReturnType<typeof spawn>>();

function runScript(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

let broker: TestBroker;

describe.skipIf(mode === 'skip')(
  `confluent-kafka-python compatibility (${probe.stdout?.trim() ?? ''})`,
  () => {
    beforeAll(async () => {
      if (mode === 'fail') {
        throw new Error(
          `python3-confluent-kafka is required (CI is set): ${PYTHON} failed: ${probe.stderr ?? probe.error}`,
        );
      }
      broker = await startTestBroker({ 'num.partitions': '1' });
    });

    afterAll(async () => {
      for (const c of children) c.kill('SIGKILL');
      await broker?.close();
    });

    for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CompressionType[]) {
      it(`round-trips 120 messages with compression.type=${compression}`, async () => {
        const topic = `confluent-${compression}`;
        const r = await runScript([broker.bootstrap, topic, '120', compression], 90_000);
        if (r.code !== 0) {
          throw new Error(
            `produce_consume.py exited ${r.code}\nstdout: ${r.stdout}\nstderr (last 4000 chars):\n${r.stderr.slice(-4000)}`,
          );
        }
        const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as Summary;
        expect(summary.delivered).toBe(120);
        expect(summary.consumed).toBe(120);
        expect(summary.watermarks).toEqual([0, 120]);
        expect(summary.partitions).toBe(1);
        expect(summary.broker).toBe(broker.bootstrap);
        expect(summary.offsetsForTimes.map(([, offset]) => offset)).toContain(60);
        expect(summary.offsetsForTimes[0]![1]).toBe(0);
        expect(summary.offsetPastEnd).toBe(-1);

        // librdkafka really compressed (it silently sends uncompressed batches when the broker's
        // ApiVersions lack what its codec feature check needs), and the broker stored what it was sent.
        const batches = storedBatches(broker.dataDir, topic);
        expect(batches.flatMap((b) => b.records.map((r) => r.offset))).toEqual(
          Array.from({ length: 120 }, (_, i) => i),
        );
        expectStoredCodec(batches, compression);
      }, 100_000);
    }
  },
);
