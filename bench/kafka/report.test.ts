import { describe, expect, it } from 'vitest';
import {
  addMissingToBaseline,
  type BenchResults,
  compareToBaseline,
  formatTable,
  makeBaseline,
  stat,
  summarise,
  targetLines,
} from './report.js';

function results(
  rounds: {
    kafka: Record<string, number>;
    kbroker: Record<string, number>;
    ceiling?: Record<string, number>;
  }[],
): BenchResults {
  return {
    kind: 'kbroker-vs-kafka',
    date: '2026-01-01T00:00:00.000Z',
    kafkaVersion: '4.3.1',
    node: 'v20',
    host: { cpus: 2, memGiB: 24, kernel: 'x' },
    mode: 'full',
    settings: {},
    metrics: [
      { key: 'tput', label: 'produce', unit: 'MB/s', higherIsBetter: true, recordBytes: 100 },
      { key: 'lat', label: 'latency', unit: 'ms', higherIsBetter: false },
    ],
    rounds: rounds.map((r, i) => ({ round: i + 1, ...r })),
    errors: [],
  };
}

describe('bench:kafka report', () => {
  it('stat: min, median (mean of the middle two for an even count), max; ignores failed values', () => {
    expect(stat([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, n: 3 });
    expect(stat([4, 1, Number.NaN, 2, 3])).toEqual({ min: 1, median: 2.5, max: 4, n: 4 });
    expect(stat([Number.NaN])).toBeUndefined();
  });

  it('takes each ratio within its round, then summarises the ratios', () => {
    const res = results([
      { kafka: { tput: 100, lat: 10 }, kbroker: { tput: 200, lat: 5 } },
      { kafka: { tput: 50, lat: 20 }, kbroker: { tput: 150, lat: 20 } },
    ]);
    const [tput, lat] = summarise(res);
    expect(tput!.ratio).toEqual({ min: 2, median: 2.5, max: 3, n: 2 });
    expect(lat!.ratio).toEqual({ min: 0.5, median: 0.75, max: 1, n: 2 });
    expect(formatTable(res)).toContain('2.50× [2.00×–3.00×]');
  });

  it('a figure about the machine (steal) shows both columns but has no ratio and stays out of the baseline', () => {
    const res = results([{ kafka: { tput: 100, steal: 30 }, kbroker: { tput: 200, steal: 10 } }]);
    res.metrics.push({ key: 'steal', label: 'steal', unit: '%', higherIsBetter: false, machine: true });
    const steal = summarise(res).find((r) => r.def.key === 'steal')!;
    expect(steal.kafka?.median).toBe(30);
    expect(steal.kbroker?.median).toBe(10);
    expect(steal.ratio).toBeUndefined();
    expect(
      formatTable(res)
        .split('\n')
        .find((l) => l.startsWith('steal')),
    ).toMatch(/30.*10.*n\/a/);
    expect(Object.keys(makeBaseline(res, 0.15).ratios)).toEqual(['tput']);
  });

  it('a figure missing for one broker in a round has no ratio for that round', () => {
    const [tput] = summarise(results([{ kafka: { tput: 100 }, kbroker: {} }]));
    expect(tput!.kafka?.median).toBe(100);
    expect(tput!.kbroker).toBeUndefined();
    expect(tput!.ratio).toBeUndefined();
  });

  it('a kbroker-only figure (event-loop delay) reads n/a for Kafka and the ratio, not failed', () => {
    const res = results([{ kafka: {}, kbroker: { loop: 3.5 } }]);
    res.metrics = [
      { key: 'loop', label: 'event-loop delay p99', unit: 'ms', higherIsBetter: false, only: 'kbroker' },
    ];
    const row = formatTable(res).split('\n')[1]!;
    expect(row).toMatch(/event-loop delay p99\s+ms\s+n\/a\s+3\.50\s+n\/a/);
    expect(row).not.toContain('failed');
  });

  it("shows a kcat row's no-op ceiling and each broker's share of it, taken within each round", () => {
    const res = results([
      { kafka: { tput: 80, lat: 10 }, kbroker: { tput: 60, lat: 5 }, ceiling: { tput: 100 } },
      { kafka: { tput: 90, lat: 10 }, kbroker: { tput: 100, lat: 5 }, ceiling: { tput: 200 } },
    ]);
    const [tput, lat] = summarise(res);
    expect(tput!.ceiling).toEqual({ min: 100, median: 150, max: 200, n: 2 });
    expect(tput!.kbrokerOfCeiling).toEqual({ min: 0.5, median: 0.55, max: 0.6, n: 2 });
    expect(tput!.kafkaOfCeiling).toEqual({ min: 0.45, median: 0.625, max: 0.8, n: 2 });
    expect(lat!.ceiling).toBeUndefined();
    const [, tputRow, latRow] = formatTable(res).split('\n');
    // ceiling over Kafka's figure within each round: 100/80 and 200/90
    expect(tput!.reachable).toEqual({ min: 1.25, median: (1.25 + 200 / 90) / 2, max: 200 / 90, n: 2 });
    expect(lat!.reachable).toBeUndefined();
    expect(tputRow).toContain(
      '150 [100–200] (Kafka 63 % [45 %–80 %], kbroker 55 % [50 %–60 %]; at most 1.74× [1.25×–2.22×] Kafka)',
    );
    expect(latRow).toMatch(/↓$/);
  });

  it("counts the rows where 2× Kafka is within the client's ceiling, and those kbroker met", () => {
    const res = results([
      {
        kafka: { a: 100, b: 100, c: 100, d: 100 },
        kbroker: { a: 250, b: 150, c: 150, d: 300 },
        ceiling: { a: 300, b: 300, c: 150 },
      },
    ]);
    res.metrics = ['a', 'b', 'c', 'd'].map((key) => ({
      key,
      label: key,
      unit: 'MB/s',
      higherIsBetter: true,
    }));
    expect(targetLines(res)).toEqual([
      '2.00× Kafka (rows with a no-op ceiling, medians): within the ceiling in 2 of 3 rows; kbroker met it in 1 of those 2.',
      '  within reach, not met: b 1.50×',
      "  out of reach here (the client's ceiling is under 2.00× Kafka's figure): c (at most 1.50×)",
    ]);
    // No ceiling measured (the JVM tools' rows, --only latency): nothing to say.
    expect(targetLines(results([{ kafka: { tput: 1 }, kbroker: { tput: 2 } }]))).toEqual([]);
  });

  it('flags a ratio more than the tolerance worse, in the direction that is worse for that figure', () => {
    const base = makeBaseline(
      results([{ kafka: { tput: 100, lat: 10 }, kbroker: { tput: 200, lat: 5 } }]),
      0.15,
    );
    expect(base.ratios.tput!.ratio).toBe(2);
    expect(base.ratios.lat!.ratio).toBe(0.5);
    const check = (tput: number, lat: number) =>
      Object.fromEntries(
        compareToBaseline(
          results([{ kafka: { tput: 100, lat: 10 }, kbroker: { tput, lat } }]),
          base,
          0.15,
        ).map((c) => [c.key, c.worse]),
      );
    expect(check(171, 5.7)).toEqual({ tput: false, lat: false }); // 14.5 % / 14 % worse
    expect(check(169, 5.8)).toEqual({ tput: true, lat: true }); // 15.5 % / 16 % worse
    expect(check(400, 1)).toEqual({ tput: false, lat: false }); // better is never flagged
  });

  it('a figure the run did not measure counts as worse', () => {
    const base = makeBaseline(results([{ kafka: { tput: 100 }, kbroker: { tput: 200 } }]), 0.15);
    const [c] = compareToBaseline(results([{ kafka: { tput: 100 }, kbroker: {} }]), base, 0.15);
    expect(c).toMatchObject({ key: 'tput', now: undefined, worse: true });
  });

  it('adds the rows a baseline lacks from a later run, keeps its own ratios, and records which', () => {
    const base = makeBaseline(results([{ kafka: { tput: 100 }, kbroker: { tput: 200 } }]), 0.15);
    const later = results([{ kafka: { tput: 100, lat: 4 }, kbroker: { tput: 300, lat: 2 } }]);
    const { baseline, added } = addMissingToBaseline(base, later);
    expect(added).toEqual(['lat']);
    expect(baseline.ratios.tput!.ratio).toBe(2); // not the later run's 3
    expect(baseline.ratios.lat!.ratio).toBe(0.5);
    expect(baseline.addedLater).toEqual([{ keys: ['lat'], date: later.date, note: expect.any(String) }]);
    // Nothing missing: the same baseline back.
    expect(addMissingToBaseline(baseline, later)).toEqual({ baseline, added: [] });
  });
});
