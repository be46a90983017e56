import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecordBatches } from '../protocol/records.js';
import { TestClient } from '../test-support/client.js';
import { spawnBroker } from '../test-support/process.js';
import { until } from '../test-support/until.js';

const dir = mkdtempSync(join(tmpdir(), 'kbroker-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(port: number, topic: string): Promise<string[]> {
  const c = await TestClient.connect(port);
  const values: string[] = [];
  let offset = 0;
  for (;;) {
    const res = await c.request<{
      responses: { partitions: { errorCode: number; highWatermark: number; records: Buffer | null }[] }[];
    }>(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 8 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        { topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 8 * 1024 * 1024 }] },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = res.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    const records = decodeRecordBatches(p.records ?? Buffer.alloc(0)).flatMap((b) => b.records);
    for (const r of records) {
      expect(r.offset).toBe(offset);
      values.push(r.value!.toString());
      offset++;
    }
    if (offset >= p.highWatermark || records.length === 0) break;
  }
  c.close();
  return values;
}

describe('kill -9 and restart', () => {
  it('keeps every acknowledged record and starts on a log whose tail was cut mid-batch', async () => {
    const args = [
      'start',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dir,
      '--override',
      'log.segment.bytes=65536',
    ];
    const first = await spawnBroker(args);
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${first.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const acked: string[] = [];
    let n = 0;
    let killed = false;
    const load = (async () => {
      while (!killed) {
        const batch = Array.from({ length: 20 }, () => ({ value: `v${n++}-${'x'.repeat(50)}` }));
        try {
          await producer.send({ topic: 'crash', acks: -1, messages: batch });
          acked.push(...batch.map((m) => m.value));
        } catch {
          break;
        }
      }
    })();
    // Kill mid-write once the load has rolled a few 64 KiB segments (not after a guessed time).
    const partDir = join(dir, 'crash-0');
    const segments = () =>
      existsSync(partDir) ? readdirSync(partDir).filter((f) => f.endsWith('.log')) : [];
    await until(() => acked.length > 100 && segments().length >= 3, 30_000, 'segments rolled under load');
    first.child.kill('SIGKILL');
    killed = true;
    await first.exited;
    await load;
    await producer.disconnect().catch(() => {});
    expect(acked.length).toBeGreaterThan(100);

    // Tear the tail as a crash in the middle of a write would: a partial batch then garbage.
    const logs = readdirSync(partDir)
      .filter((f) => f.endsWith('.log'))
      .sort();
    expect(logs.length).toBeGreaterThan(1); // segments rolled under load
    // A segment rolled just before the kill can be empty; drop it (as if the crash came before
    // the roll) so that the cuts below land in the segment holding the newest batches.
    const last = logs.at(-1)!;
    if (statSync(join(partDir, last)).size === 0) {
      const base = last.slice(0, -'.log'.length);
      for (const f of readdirSync(partDir)) if (f.startsWith(`${base}.`)) rmSync(join(partDir, f));
      logs.pop();
    }
    const active = join(partDir, logs.at(-1)!);
    const size = statSync(active).size;
    appendFileSync(
      active,
      Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 1, 0]), Buffer.alloc(40, 0xee)]),
    );

    const second = await spawnBroker(args);
    const values = await readAll(second.port, 'crash');
    // Every acknowledged record is there, in order, and nothing but whole records.
    expect(values.slice(0, acked.length)).toEqual(acked);
    expect(statSync(active).size).toBe(size);

    // Cut the active segment mid-batch and restart again: the torn batch is dropped, the rest kept.
    second.child.kill('SIGKILL');
    await second.exited;
    truncateSync(active, size - 7);
    const third = await spawnBroker(args);
    const after = await readAll(third.port, 'crash');
    expect(after.length).toBeLessThan(values.length);
    expect(after).toEqual(values.slice(0, after.length));
    // It accepts new writes after recovery, at the next offset.
    const k2 = new Kafka({ brokers: [`127.0.0.1:${third.port}`], logLevel: logLevel.NOTHING });
    const p2 = k2.producer();
    await p2.connect();
    const [meta] = await p2.send({ topic: 'crash', acks: -1, messages: [{ value: 'after-recovery' }] });
    expect(Number(meta!.baseOffset)).toBe(after.length);
    await p2.disconnect();
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });
});
