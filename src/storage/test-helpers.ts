// Test helpers for storage tests: temp dirs, a manual clock and batch factories.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { MockTime } from '../common/time.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { defaultLogConfig, type LogConfig } from './log-config.js';

/**
 * The directories tmpDir made for this test file, removed after it (a test run left ~600 behind).
 * Registered when the file imports this module, so it runs after the file's own afterAll hooks.
 */
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kbroker-storage-'));
  made.push(dir);
  return dir;
}

/** A MockTime whose `t` tests set forward directly (timers that fall due on the way run). */
export class ManualClock extends MockTime {
  get t(): number {
    return this.now();
  }

  set t(ms: number) {
    this.advance(ms - this.now());
  }
}

export function batch(n: number, ts = 1_700_000_000_000, valueSize = 10): Buffer {
  return buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      key: `k${i}`,
      value: 'x'.repeat(valueSize),
      timestamp: ts + i,
    })),
  });
}

export const testConfig = (over: Partial<LogConfig> = {}): LogConfig => ({
  ...defaultLogConfig,
  fileDeleteDelayMs: 0,
  ...over,
});
