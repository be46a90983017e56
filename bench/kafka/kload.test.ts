/**
 * kload, bench:kafka's native client (bench/kafka/kload/main.go), against a broker in this process:
 * what it produces is all in the log (end offsets over three partitions), what it consumes is counted
 * record by record (it fails on a count other than asked), and a refused Produce fails the run with the
 * broker's error code. Built with the machine's Go toolchain (the standard library only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../src/test-support/broker.js';
import { buildKload, nativeConsume, nativeProduce } from './loads.js';
import { run } from './procs.js';
import { createTopic, endOffsets } from './wire.js';

describe('kload (the native client)', () => {
  let tb: TestBroker;
  let bin: string;

  beforeAll(async () => {
    bin = await buildKload();
    tb = await startTestBroker({ 'auto.create.topics.enable': 'false' });
  }, 300_000);
  afterAll(() => tb?.close());

  it('produces every record to every partition, and consumes exactly them back', async () => {
    await createTopic(tb.port, 'n3', 3);
    // 1,050 requests of 100 records over 3 partitions: 350 each, the last request short of none.
    const secs = await nativeProduce({
      port: tb.port,
      topic: 'n3',
      partitions: 3,
      records: 105_000,
      recordBytes: 100,
      acks: -1,
    });
    expect(secs).toBeGreaterThan(0);
    expect(await endOffsets(tb.port, 'n3', 3)).toEqual([35_000, 35_000, 35_000]);
    expect(
      await nativeConsume({ port: tb.port, topic: 'n3', partitions: 3, records: 105_000 }),
    ).toBeGreaterThan(0);
    // Asked for fewer than the log holds: whole batches arrive, so it counts more and fails.
    await expect(
      nativeConsume({ port: tb.port, topic: 'n3', partitions: 3, records: 104_950 }),
    ).rejects.toThrow(/records, expected 104950/);
  });

  it("fails a run the broker refuses, naming the partition and Kafka's error code", async () => {
    const r = await run(bin, ['produce', '-topic', 'absent', '-leaders', `${tb.port}:0`, '-records', '100']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('absent-0: error code 3'); // UNKNOWN_TOPIC_OR_PARTITION
  });

  it('refuses arguments it cannot use', async () => {
    const r = await run(bin, ['consume', '-topic', 't', '-leaders', 'nine:0', '-records', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('-leaders: port "nine"');
  });
});
