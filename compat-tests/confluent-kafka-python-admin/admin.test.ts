// confluent-kafka-python AdminClient (Debian python3-confluent-kafka 1.7.0, librdkafka 2.0.2)
// against an in-process kbroker: create (with configs), list, describe configs, alter configs,
// create partitions, delete topics, each read back by the client (admin.py) and here from the
// broker's own state. DeleteRecords is covered by kafkajs (src/handlers/admin-kafkajs.test.ts):
// confluent-kafka 1.7.0 has no delete_records.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/test-support/broker.js';

const PYTHON = process.env.CONFLUENT_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./admin.py', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { encoding: 'utf8', timeout: 20_000 });
const mode: 'run' | 'fail' | 'skip' = probe.status === 0 ? 'run' : process.env.CI ? 'fail' : 'skip';
if (mode === 'skip') {
  console.warn(
    `[compat-tests/confluent-kafka-python-admin] SKIPPED: ${PYTHON} cannot import confluent_kafka.`,
  );
}

let broker: TestBroker;

/** Runs python asynchronously, so the in-process broker keeps serving. */
function runScript(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe.skipIf(mode === 'skip')('confluent-kafka-python AdminClient', () => {
  beforeAll(async () => {
    if (mode === 'fail') throw new Error(`python3-confluent-kafka is required (CI is set): ${probe.stderr}`);
    broker = await startTestBroker({ 'num.partitions': '1' });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('creates, lists, describes, alters, grows and deletes a topic', async () => {
    const r = await runScript([SCRIPT, broker.bootstrap, 'py']);
    if (r.status !== 0) throw new Error(`admin.py exited ${r.status}\n${r.stdout}\n${r.stderr.slice(-4000)}`);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.partitions).toBe(2);
    expect(summary.errors.exists[0]).toBe('TOPIC_ALREADY_EXISTS');
    expect(summary.errors.exists[1]).toBe("Topic 'py-admin' already exists.");
    expect(summary.errors.badconfig).toEqual([
      'INVALID_CONFIG',
      'Invalid value soon for configuration retention.ms: Not a number of type LONG',
    ]);
    expect(summary.errors.badrf[0]).toBe('INVALID_REPLICATION_FACTOR');
    // librdkafka's ConfigSource: 1 = DYNAMIC_TOPIC_CONFIG, 5 = DEFAULT_CONFIG.
    expect(summary.described).toEqual({
      'retention.ms': ['3600000', 1],
      'cleanup.policy': ['compact', 1],
      'segment.bytes': ['1073741824', 5],
    });
    // AlterConfigs replaced all overrides: retention.ms and cleanup.policy went back to defaults.
    expect(summary.altered).toEqual({
      'retention.ms': ['604800000', 5],
      'retention.bytes': ['1048576', 1],
      'cleanup.policy': ['delete', 5],
    });
    expect(summary.grown).toBe(5);
    expect(summary.deleted).toBe(true);
    expect(broker.broker.metadata.topic('py-admin')).toBeUndefined();
    expect(existsSync(join(broker.dataDir, 'py-admin-0'))).toBe(false);
  }, 100_000);
});
