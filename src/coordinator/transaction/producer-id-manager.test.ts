import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PRODUCER_ID_BLOCK_SIZE, ProducerIdManager } from './producer-id-manager.js';

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
