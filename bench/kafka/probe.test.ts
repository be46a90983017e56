import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePortRun } from '../../src/test-support/free-port.js';
import { type BrokerProcess, spawnBroker } from '../../src/test-support/process.js';
import { kbrokerProbeWindow, mergeServerStats, type ServerStats, segmentWriteMoves } from './brokers.js';

const probe = join(dirname(fileURLToPath(import.meta.url)), 'loop-probe.cjs');
let proc: BrokerProcess | undefined;
const dirs: string[] = [];
afterEach(async () => {
  if (proc) {
    proc.child.kill('SIGTERM');
    await proc.exited;
    proc = undefined;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A broker process with bench:kafka's loop probe preloaded, as brokers.ts startKbroker starts it. */
async function probed(args: string[]): Promise<{ proc: BrokerProcess; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kbroker-probe-'));
  dirs.push(dir);
  const file = join(dir, 'server-figures.jsonl');
  proc = await spawnBroker(
    [...args, '--data-dir', join(dir, 'data')],
    { NODE_OPTIONS: `--require ${probe}`, KBROKER_BENCH_PROBE: file },
    60_000,
  );
  return { proc, file };
}

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ServerStats & { nodeId?: number });

describe("bench:kafka's server-side figures (loop-probe.cjs)", () => {
  it('come from the broker thread itself without --threads: one line a signal', async () => {
    const { proc, file } = await probed(['start', '--port', '0']);
    const stats = await kbrokerProbeWindow(proc.child, file, 1).serverStats();
    expect(stats?.loopP99Ms).toBeGreaterThanOrEqual(0);
    expect(lines(file)).toHaveLength(1);
    expect(lines(file)[0]!.nodeId).toBeUndefined();
  });

  it('come from every broker thread under --threads (the main thread passes the signal on), merged', async () => {
    const port = await freePortRun(2);
    const { proc, file } = await probed(['start', '--threads', '2', '--port', String(port)]);
    const window = kbrokerProbeWindow(proc.child, file, 2);
    await window.serverMark();
    const stats = await window.serverStats();
    const written = lines(file);
    expect(written).toHaveLength(4);
    // Each broker thread answered each signal, and nothing else did.
    expect(written.map((l) => l.nodeId).sort()).toEqual([1, 1, 2, 2]);
    const last = written.slice(2);
    expect(stats?.gcCount).toBe(last[0]!.gcCount + last[1]!.gcCount);
    expect(stats?.loopMaxMs).toBe(Math.max(last[0]!.loopMaxMs!, last[1]!.loopMaxMs!));
  });

  it('merge the threads: the worst delay and pause, counts and totals summed', () => {
    const a: ServerStats = {
      gcCount: 2,
      gcTotalMs: 3,
      gcMaxMs: 2,
      loopP99Ms: 1,
      loopMaxMs: 9,
      fsyncOnLoopCount: 1,
    };
    const b: ServerStats = {
      gcCount: 1,
      gcTotalMs: 4,
      gcMaxMs: 4,
      loopP99Ms: 5,
      loopMaxMs: 6,
      fsyncOnLoopCount: 0,
    };
    expect(mergeServerStats([a])).toBe(a);
    expect(mergeServerStats([a, b])).toMatchObject({
      gcCount: 3,
      gcTotalMs: 7,
      gcMaxMs: 4,
      loopP99Ms: 5,
      loopMaxMs: 9,
      fsyncOnLoopCount: 1,
    });
  });
});

describe('segmentWriteMoves', () => {
  it("counts auto mode's moves in a kbroker log and says where the writes were after the last", () => {
    const info = (msg: string) => JSON.stringify({ level: 'info', name: 'kbroker', msg });
    const toThread = info(
      "segment writes move to the writer thread: they took 74 % of the event loop's last 1000 ms at 3.03 ns a byte",
    );
    const toLoop = info(
      "segment writes move back to the event loop: they took 12 % of the writer thread's last 1400 ms at 3.10 ns a byte",
    );
    const other = info('kbroker listening on 127.0.0.1:9092');
    expect(segmentWriteMoves([other, ''].join('\n'))).toEqual({ moves: 0, onThread: undefined });
    expect(segmentWriteMoves([other, toThread].join('\n'))).toEqual({ moves: 1, onThread: true });
    expect(segmentWriteMoves([toThread, other, toLoop, ''].join('\n'))).toEqual({
      moves: 2,
      onThread: false,
    });
  });
});
