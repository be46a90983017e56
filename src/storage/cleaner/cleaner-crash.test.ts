// kill -9 in the middle of the cleaner's swap, 20 times over one log: after each, the log loads with
// every key's latest record, no offset twice, values where they belong, valid indexes and no
// `.cleaned` / `.swap` file left (LogLoader completed or rolled back the swap).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatches } from '../../protocol/records.js';
import { Log } from '../log.js';
import { defaultLogConfig } from '../log-config.js';
import { tmpDir } from '../test-helpers.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CHILD = path.join(root, 'src', 'test-support', 'cleaner-crash-child.ts');
const keyOf = (o: number) => (o % 10 === 0 ? `u${o}` : `k${o % 50}`);

function verify(dir: string): number {
  const log = Log.open(dir, 'crash', 0, {
    ...defaultLogConfig,
    cleanupPolicy: ['compact'],
    segmentBytes: 4096,
  });
  try {
    expect(fs.readdirSync(dir).filter((f) => /\.(cleaned|swap)$/.test(f))).toEqual([]);
    for (const seg of log.logSegments()) {
      expect(seg.offsetIndex.sanityCheck(seg.size)).toBeNull();
      expect(seg.timeIndex.sanityCheck()).toBeNull();
    }
    const leo = log.logEndOffset;
    const latest = new Map<string, number>();
    let prev = -1;
    let offset = log.logStartOffset;
    while (offset < leo) {
      const r = log.read(offset, 1 << 20, true);
      if ('error' in r) throw new Error(r.error);
      if (r.records === null) break;
      for (const b of decodeRecordBatches(r.records)) {
        for (const rec of b.records) {
          if (rec.offset < offset) continue;
          expect(rec.offset).toBeGreaterThan(prev);
          prev = rec.offset;
          expect(rec.key?.toString()).toBe(keyOf(rec.offset));
          expect(rec.value?.toString()).toBe(String(rec.offset));
          latest.set(rec.key!.toString(), rec.offset);
        }
        offset = b.lastOffset + 1;
      }
    }
    // Every key's last write below the log end offset is there: each u-key (written once), and the
    // newest offset of each k-key.
    const expected = new Map<string, number>();
    for (let o = 0; o < leo; o++) expected.set(keyOf(o), o);
    expect(latest).toEqual(expected);
    return leo;
  } finally {
    log.close();
  }
}

/** Runs the child without blocking this thread (vitest's worker must keep answering). */
function runChild(args: string[]): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child hung: ${output}`));
    }, 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe('cleaner swap under kill -9', () => {
  it('recovers a consistent log after 20 kills at different steps of the swap', async () => {
    const dir = tmpDir();
    let killed = 0;
    let lastLeo = 0;
    try {
      for (let i = 0; i < 20; i++) {
        const killAt = 1 + ((i * 13) % 97);
        const res = await runChild(['--import', 'tsx', CHILD, dir, String(killAt), '300']);
        if (res.signal === 'SIGKILL') killed++;
        else throw new Error(`child ended without a kill: ${res.code} ${res.output}`);
        const leo = verify(dir);
        expect(leo).toBeGreaterThan(lastLeo);
        lastLeo = leo;
      }
      expect(killed).toBe(20);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
