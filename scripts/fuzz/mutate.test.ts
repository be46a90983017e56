import { describe, expect, it } from 'vitest';
import { readRequestHeader } from '../../src/protocol/headers.js';
import { verifyCrc } from '../../src/protocol/record-batch.js';
import { buildRecordBatch } from '../../src/protocol/record-batch-builder.js';
import { buildCorpus } from './corpus.js';
import { mutateBatch, mutateFrame, Rng } from './mutate.js';

describe('fuzz corpus and mutations', () => {
  const corpus = buildCorpus();

  it('seeds every served API from the captures and the definitions, flexible versions included', () => {
    const apis = new Set(corpus.map((s) => s.apiKey));
    expect(apis.size).toBeGreaterThanOrEqual(30);
    expect(corpus.some((s) => s.flexible && s.name.startsWith('kafkajs-2.2.4/Produce'))).toBe(true);
    for (const s of corpus) expect(readRequestHeader(s.frame).header.requestApiKey).toBe(s.apiKey);
  });

  it('finds the sites of a captured Produce: lengths, counts and its record batch', () => {
    const produce = corpus.find((s) => s.name === 'kafkajs-2.2.4/Produce-v7.hex')!;
    expect(produce.records).toHaveLength(1);
    const kinds = new Set(produce.sites.map((s) => s.kind));
    for (const k of ['int16', 'int32', 'string', 'bytes']) expect(kinds).toContain(k);
    const flexible = corpus.find((s) => s.name === 'kafkajs-2.2.4/Produce-v7.hex@v9')!;
    expect(flexible.sites.some((s) => s.kind === 'compact')).toBe(true);
    expect(flexible.sites.some((s) => s.kind === 'uvarint')).toBe(true);
  });

  it('re-seals mutated batches with a correct CRC (mostly) so the checks behind it are reached', () => {
    const rng = new Rng(7);
    const batch = buildRecordBatch({ records: [{ key: 'k', value: 'v' }] });
    let valid = 0;
    for (let i = 0; i < 300; i++) if (verifyCrc(mutateBatch(rng, batch), 0)) valid++;
    expect(valid).toBeGreaterThan(250);
    expect(valid).toBeLessThan(300); // a few are left with a wrong CRC on purpose
  });

  it('is reproducible: the same seed gives the same frames', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 200; i++) {
      const sa = a.pick(corpus);
      const sb = b.pick(corpus);
      expect(mutateFrame(a, sa).frame.equals(mutateFrame(b, sb).frame)).toBe(true);
    }
  });
});
