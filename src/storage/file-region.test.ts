// A fetch's records as a range of the segment file (LogSegment.readRegion, for sendfile) are exactly
// what read() returns as bytes: the same whole batches below maxOffset and within maxBytes (at least
// one with minOneBatch), the same last offset and record count, across segments and batch sizes on
// both sides of the header walk's window — with the writes in place, and with some bytes still in a
// segment writer's ring (the range is read once they are in the file, as a response waits for them).
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { zeroCopy } from '../common/native.js';
import { CONTROL_FLAG_MASK, iterateBatches } from '../protocol/record-batch.js';
import { readFully } from './file-batch-scanner.js';
import { FileRegion } from './file-region.js';
import { Log } from './log.js';
import { SegmentWriter } from './segment-writer.js';
import { batch, ManualClock, testConfig, tmpDir } from './test-helpers.js';

const dup = zeroCopy()?.dup ?? ((fd: number) => fs.openSync(`/proc/self/fd/${fd}`, 'r'));
const writers: SegmentWriter[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
});

/** A deterministic sequence (the cases stay the same from run to run). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function bytesOf(r: FileRegion): Buffer {
  const buf = Buffer.alloc(r.length);
  expect(readFully(r.fd, buf, r.length, r.position)).toBe(r.length);
  return buf;
}

describe('LogSegment.readRegion', () => {
  for (const mode of ['in place', 'writer ring'] as const) {
    it(`matches read() batch for batch (${mode})`, async () => {
      const writer = mode === 'writer ring' ? new SegmentWriter(undefined, undefined, 'loop') : undefined;
      if (writer) writers.push(writer);
      const log = Log.open(tmpDir(), 't', 0, testConfig({ segmentBytes: 200_000 }), new ManualClock(), {
        segmentWriter: writer,
      });
      const rnd = lcg(7);
      // Small batches (many headers per window) and large ones (one header read per batch).
      for (let i = 0; i < 120; i++)
        log.appendAsLeader(batch(1 + Math.floor(rnd() * 20), 1, rnd() < 0.3 ? 1500 : 40), 0);
      expect(log.numberOfSegments).toBeGreaterThan(1);
      let cases = 0;
      for (let i = 0; i < 300; i++) {
        // With a writer, the newest batches are in its ring, not yet in the file, when read.
        if (writer && i % 3 === 0) log.appendAsLeader(batch(1 + Math.floor(rnd() * 20), 1, 900), 0);
        const leo = log.logEndOffset;
        const fetchOffset = Math.floor(rnd() * leo);
        const maxBytes = Math.floor(rnd() * 60_000);
        const minOneBatch = rnd() < 0.5;
        const maxOffset = rnd() < 0.5 ? undefined : fetchOffset + Math.floor(rnd() * 200);
        const bytes = log.read(fetchOffset, maxBytes, minOneBatch, maxOffset);
        const range = log.read(fetchOffset, maxBytes, minOneBatch, maxOffset, dup);
        if ('error' in bytes || 'error' in range) throw new Error('out of range');
        // As a response waits for the writes submitted before it.
        if (writer)
          await new Promise<void>((resolve) => writer.whenWritten(writer.lastSubmitted, () => resolve()));
        if (bytes.records === null) {
          expect(range.records).toBeNull();
          continue;
        }
        const r = range.records as FileRegion;
        expect(r).toBeInstanceOf(FileRegion);
        expect(bytesOf(r).equals(bytes.records)).toBe(true);
        const batches = [...iterateBatches(bytes.records)];
        expect(r.lastOffset).toBe(batches.at(-1)!.lastOffset);
        const records = batches.reduce(
          (n, b) => n + ((b.attributes & CONTROL_FLAG_MASK) === 0 ? b.recordsCount : 0),
          0,
        );
        expect(r.recordCount).toBe(records);
        r.release();
        expect(r.released).toBe(true);
        cases++;
      }
      expect(cases).toBeGreaterThan(100);
      log.close();
    });
  }

  it('serves from a buffer when no descriptor can be spared (EMFILE), and fails on any other dup error', () => {
    const log = Log.open(tmpDir(), 't', 0, testConfig(), new ManualClock());
    for (let i = 0; i < 5; i++) log.appendAsLeader(batch(3, 1, 100), 0);
    const noDescriptors = () => {
      throw Object.assign(new Error('dup(7): Too many open files'), { code: 'EMFILE' });
    };
    const r = log.read(0, 1 << 20, true, undefined, noDescriptors);
    const bytes = log.read(0, 1 << 20, true);
    if ('error' in r || 'error' in bytes) throw new Error('out of range');
    expect(Buffer.isBuffer(r.records)).toBe(true);
    expect((r.records as Buffer).equals(bytes.records!)).toBe(true);
    const broken = () => {
      throw Object.assign(new Error('dup(7): Bad file descriptor'), { code: 'EBADF' });
    };
    expect(() => log.read(0, 1 << 20, true, undefined, broken)).toThrow(/Bad file descriptor/);
    log.close();
  });
});
