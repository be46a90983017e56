/**
 * Test helper (run by src/storage/cleaner/cleaner-crash.test.ts through tsx): appends to a compacted
 * log and cleans it in rounds until it kills itself with SIGKILL at the `killAt`-th file operation of
 * the cleaner's swaps (a rename of a `.cleaned`, `.swap` or `.deleted` file, an unlink of a `.deleted` one) — a `kill -9` in
 * the middle of a swap, at a chosen step. Record at offset o has value `<o>` and key `u<o>` when o % 10
 * is 0 (written once: losing any segment loses one), else `k<o % 50>`.
 *
 * argv: <dir> <killAt> <recordsPerRound>
 */
import fs from 'node:fs';
import { systemTime } from '../common/time.js';
import { encodeRecordBatch } from '../protocol/records.js';
import { LogCleaner } from '../storage/cleaner/log-cleaner.js';
import { Log } from '../storage/log.js';
import { defaultLogConfig } from '../storage/log-config.js';

const [dir, killAtArg, perRoundArg] = process.argv.slice(2);
const killAt = Number(killAtArg);
const perRound = Number(perRoundArg);
const keyOf = (o: number) => (o % 10 === 0 ? `u${o}` : `k${o % 50}`);
const SWAP_FILE = /\.(cleaned|swap|deleted)$/;

let ops = 0;
const count = (...files: unknown[]) => {
  if (files.some((f) => typeof f === 'string' && SWAP_FILE.test(f)) && ++ops >= killAt)
    process.kill(process.pid, 'SIGKILL');
};
const renameSync = fs.renameSync;
fs.renameSync = (from, to) => {
  count(String(from), String(to));
  renameSync(from, to);
};
const rmSync = fs.rmSync;
fs.rmSync = (file, opts) => {
  // Unlinks of replaced segments are swap steps; clearing stale `.cleaned` files before a round is not.
  if (String(file).endsWith('.deleted')) count(String(file));
  rmSync(file, opts);
};

const config = {
  ...defaultLogConfig,
  cleanupPolicy: ['compact' as const],
  segmentBytes: 4096,
  minCleanableDirtyRatio: 0,
  fileDeleteDelayMs: 0,
};
const log = Log.open(dir!, 'crash', 0, config, systemTime, {});
log.updateHighWatermark(log.logEndOffset);
const cleaner = new LogCleaner({
  dataDir: dir!,
  logs: () => [log],
  time: systemTime,
  enable: true,
  threads: 1,
  dedupeBufferSize: 1 << 20,
  ioMaxBytesPerSecond: Number.POSITIVE_INFINITY,
  backoffMs: 0,
  useWorkers: false,
});
for (let round = 0; round < 50; round++) {
  for (let i = 0; i < perRound; i++) {
    const o = log.logEndOffset;
    log.appendAsLeader(encodeRecordBatch({ records: [{ key: keyOf(o), value: String(o) }] }), 0);
  }
  log.updateHighWatermark(log.logEndOffset);
  log.roll();
  await cleaner.cleanFilthiestLog();
}
process.stdout.write(`no kill after ${ops} swap file operations\n`);
process.exit(3);
