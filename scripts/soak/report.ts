/**
 * The soak run's verdict from its samples: for each series (RSS, heap, event-loop delay) the mean
 * of the first and of the last minute, and the least-squares slope — over the whole run and over
 * its second half, after start-up growth (JIT, pools, the first segments) has settled. A series
 * is flat when the second half's slope, carried over the whole run, moves it by less than its
 * tolerance, and the last minute is no more than that tolerance above the first.
 */

export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay over the interval since the previous sample, in ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** CPU the broker used over the interval, as a share of one core (0–1+). */
  brokerCpu?: number;
  /** The machine's 1-minute load average: a shared machine starves the loop as much as the broker does. */
  loadAvg1?: number;
}

export interface SeriesSummary {
  firstMinute: number;
  lastMinute: number;
  /** Units per hour, least squares over every sample. */
  slopePerHour: number;
  /** Units per hour, least squares over the samples of the second half. */
  secondHalfSlopePerHour: number;
  max: number;
  flat: boolean;
}

export interface Tolerances {
  /** Bytes RSS and heap may move (slope × duration, and last minute − first minute). */
  memoryBytes: number;
  /** Milliseconds the p99 event-loop delay may move likewise. */
  loopDelayMs: number;
}

export const DEFAULT_TOLERANCES: Tolerances = { memoryBytes: 16 * 1024 * 1024, loopDelayMs: 20 };

/** Least-squares slope of y over t (per second); 0 with fewer than two distinct times. */
export function slope(points: { t: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let st = 0;
  let sy = 0;
  for (const p of points) {
    st += p.t;
    sy += p.y;
  }
  const mt = st / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) * (p.t - mt);
  }
  return den === 0 ? 0 : num / den;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function summarizeSeries(
  samples: SoakSample[],
  pick: (s: SoakSample) => number,
  tolerance: number,
): SeriesSummary {
  const end = samples.length > 0 ? samples[samples.length - 1]!.t : 0;
  const points = samples.map((s) => ({ t: s.t, y: pick(s) }));
  const first = points.filter((p) => p.t <= 60).map((p) => p.y);
  const last = points.filter((p) => p.t >= end - 60).map((p) => p.y);
  const secondHalf = points.filter((p) => p.t >= end / 2);
  const slopePerHour = slope(points) * 3600;
  const secondHalfSlopePerHour = slope(secondHalf) * 3600;
  const firstMinute = mean(first);
  const lastMinute = mean(last);
  const drift = (secondHalfSlopePerHour * end) / 3600;
  return {
    firstMinute,
    lastMinute,
    slopePerHour,
    secondHalfSlopePerHour,
    max: Math.max(...points.map((p) => p.y), 0),
    flat: drift < tolerance && lastMinute - firstMinute < tolerance,
  };
}

export interface SoakSummary {
  seconds: number;
  samples: number;
  /** Means over the first and the last minute of the broker's CPU share and the machine's load. */
  cpu?: { firstMinute: number; lastMinute: number };
  loadAvg?: { firstMinute: number; lastMinute: number };
  rss: SeriesSummary;
  heap: SeriesSummary;
  loopDelayP99: SeriesSummary;
  flat: boolean;
}

export function summarize(samples: SoakSample[], tol: Tolerances = DEFAULT_TOLERANCES): SoakSummary {
  const rss = summarizeSeries(samples, (s) => s.rssBytes, tol.memoryBytes);
  const heap = summarizeSeries(samples, (s) => s.heapUsedBytes, tol.memoryBytes);
  const loopDelayP99 = summarizeSeries(samples, (s) => s.loopDelayP99Ms, tol.loopDelayMs);
  const firstLast = (pick: (s: SoakSample) => number | undefined) => {
    const xs = samples.filter((s) => pick(s) !== undefined);
    if (xs.length === 0) return undefined;
    const x = summarizeSeries(xs, (s) => pick(s)!, Number.POSITIVE_INFINITY);
    return { firstMinute: x.firstMinute, lastMinute: x.lastMinute };
  };
  return {
    cpu: firstLast((s) => s.brokerCpu),
    loadAvg: firstLast((s) => s.loadAvg1),
    seconds: samples.length > 0 ? samples[samples.length - 1]!.t : 0,
    samples: samples.length,
    rss,
    heap,
    loopDelayP99,
    flat: rss.flat && heap.flat && loopDelayP99.flat,
  };
}

const MiB = 1024 * 1024;

/** The report as text: one line per series, then the verdict. */
export function formatSummary(s: SoakSummary): string {
  const mem = (name: string, x: SeriesSummary) =>
    `${name.padEnd(16)} first minute ${(x.firstMinute / MiB).toFixed(1)} MiB, last minute ${(x.lastMinute / MiB).toFixed(1)} MiB, ` +
    `max ${(x.max / MiB).toFixed(1)} MiB, slope ${(x.slopePerHour / MiB).toFixed(2)} MiB/h ` +
    `(second half ${(x.secondHalfSlopePerHour / MiB).toFixed(2)} MiB/h) — ${x.flat ? 'flat' : 'NOT FLAT'}`;
  const d = s.loopDelayP99;
  return [
    `${s.samples} samples over ${(s.seconds / 60).toFixed(1)} min`,
    mem('RSS', s.rss),
    mem('heap used', s.heap),
    `${'loop delay p99'.padEnd(16)} first minute ${d.firstMinute.toFixed(1)} ms, last minute ${d.lastMinute.toFixed(1)} ms, ` +
      `max ${d.max.toFixed(1)} ms, slope ${d.slopePerHour.toFixed(2)} ms/h (second half ${d.secondHalfSlopePerHour.toFixed(2)} ms/h) — ${d.flat ? 'flat' : 'NOT FLAT'}`,
    context(s),
    s.flat ? 'verdict: flat' : 'verdict: NOT FLAT',
  ].join('\n');
}

function context(s: SoakSummary): string {
  const parts: string[] = [];
  if (s.cpu)
    parts.push(
      `broker CPU ${(s.cpu.firstMinute * 100).toFixed(0)} % of a core in the first minute, ${(s.cpu.lastMinute * 100).toFixed(0)} % in the last`,
    );
  if (s.loadAvg)
    parts.push(
      `machine load average ${s.loadAvg.firstMinute.toFixed(1)} → ${s.loadAvg.lastMinute.toFixed(1)}`,
    );
  return parts.length > 0 ? `context: ${parts.join('; ')}` : 'context: -';
}
