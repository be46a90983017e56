import { describe, expect, it } from 'vitest';
import { type SoakSample, slope, summarize } from './report.js';

const MiB = 1024 * 1024;
const run = (
  minutes: number,
  rss: (t: number) => number,
  delay: (t: number) => number = () => 5,
): SoakSample[] =>
  Array.from({ length: (minutes * 60) / 10 }, (_, i) => {
    const t = (i + 1) * 10;
    return {
      t,
      rssBytes: rss(t),
      heapUsedBytes: 30 * MiB,
      loopDelayP99Ms: delay(t),
      loopDelayMaxMs: delay(t) * 2,
    };
  });

describe('soak report', () => {
  it('least-squares slope', () => {
    expect(
      slope([
        { t: 0, y: 1 },
        { t: 10, y: 21 },
        { t: 20, y: 41 },
      ]),
    ).toBeCloseTo(2);
    expect(slope([{ t: 5, y: 1 }])).toBe(0);
  });

  it('flat: start-up growth in the first minutes, then level', () => {
    const s = summarize(run(30, (t) => (t < 120 ? 100 * MiB + t * 50_000 : 106 * MiB + (t % 20) * 1000)));
    expect(s.rss.flat).toBe(true);
    expect(s.flat).toBe(true);
    expect(s.rss.secondHalfSlopePerHour / MiB).toBeLessThan(1);
  });

  it('a leak of 1 MiB a minute is not flat; nor is a loop delay that keeps growing', () => {
    const leak = summarize(run(30, (t) => 100 * MiB + (t / 60) * MiB));
    expect(leak.rss.flat).toBe(false);
    expect(leak.rss.slopePerHour / MiB).toBeCloseTo(60, 0);
    expect(leak.flat).toBe(false);
    const slower = summarize(
      run(
        30,
        () => 100 * MiB,
        (t) => 5 + t / 30,
      ),
    );
    expect(slower.rss.flat).toBe(true);
    expect(slower.loopDelayP99.flat).toBe(false);
  });
});
