import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  PRODUCER_ID_BLOCK_SIZE,
  PRODUCER_ID_PREFETCH_REMAINING,
  PRODUCER_IDS_FILE,
  ProducerIdManager,
} from './producer-id-manager.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kbroker-pid-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ProducerIdManager.striped (brokers of a multi-process cluster)', () => {
  it('never gives the same id on two brokers, nor twice on one across restarts', () => {
    const seen = new Set<number>();
    const dirsById = new Map([1, 2, 3].map((id) => [id, tmp()]));
    for (let restart = 0; restart < 3; restart++) {
      for (const [id, dir] of dirsById) {
        const m = ProducerIdManager.striped(dir, id);
        // Past a block boundary each time, so blocks roll over.
        for (let i = 0; i < PRODUCER_ID_BLOCK_SIZE + 7; i++) {
          const pid = m.generateProducerId();
          expect(Number.isSafeInteger(pid)).toBe(true);
          expect(seen.has(pid)).toBe(false);
          seen.add(pid);
        }
      }
    }
    expect(seen.size).toBe(3 * 3 * (PRODUCER_ID_BLOCK_SIZE + 7));
  });

  it('refuses node ids outside the stripes', () => {
    expect(() => ProducerIdManager.striped(tmp(), 65536)).toThrow(/node.id/);
    expect(() => ProducerIdManager.striped(tmp(), -1)).toThrow(/node.id/);
  });
});

describe('ProducerIdManager block prefetch', () => {
  afterEach(() => vi.restoreAllMocks());
  const fileEnd = (dir: string) =>
    (JSON.parse(readFileSync(join(dir, PRODUCER_IDS_FILE), 'utf8')) as { nextBlockStartId: number })
      .nextBlockStartId;

  it('reserves the next block off the event loop before the current one runs out', async () => {
    const dir = tmp();
    const m = new ProducerIdManager(dir);
    expect(m.generateProducerId()).toBe(0); // the first block: on the loop (nothing to overlap with)
    expect(fileEnd(dir)).toBe(PRODUCER_ID_BLOCK_SIZE);
    const syncFsyncs = vi.spyOn(fs, 'fsyncSync');
    const ids: number[] = [];
    for (let block = 1; block <= 3; block++) {
      // Up to where the prefetch starts, then let it finish (as the loop would between requests).
      while (ids.length < block * PRODUCER_ID_BLOCK_SIZE - PRODUCER_ID_PREFETCH_REMAINING) {
        ids.push(m.generateProducerId());
      }
      await m.settled();
      expect(fileEnd(dir)).toBe((block + 1) * PRODUCER_ID_BLOCK_SIZE);
    }
    while (ids.length < 3 * PRODUCER_ID_BLOCK_SIZE + 50) ids.push(m.generateProducerId());
    expect(syncFsyncs).not.toHaveBeenCalled();
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    await m.settled();
    // After a crash, ids resume past every reserved one: none is given twice.
    const reserved = fileEnd(dir);
    expect(reserved).toBeGreaterThan(ids[ids.length - 1]!);
    expect(new ProducerIdManager(dir).generateProducerId()).toBe(reserved);
  });

  it('reserves on the loop when a block runs out under its prefetch, which then leaves the file be', async () => {
    const dir = tmp();
    const m = new ProducerIdManager(dir);
    const ids = new Set<number>();
    // No turn of the loop between ids: the prefetch started at 90 % cannot have finished.
    for (let i = 0; i < PRODUCER_ID_BLOCK_SIZE + 1; i++) ids.add(m.generateProducerId());
    expect(ids.size).toBe(PRODUCER_ID_BLOCK_SIZE + 1);
    expect(fileEnd(dir)).toBe(2 * PRODUCER_ID_BLOCK_SIZE);
    await m.settled();
    expect(fileEnd(dir)).toBe(2 * PRODUCER_ID_BLOCK_SIZE);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(new ProducerIdManager(dir).generateProducerId()).toBe(2 * PRODUCER_ID_BLOCK_SIZE);
  });
});
