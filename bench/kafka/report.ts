/**
 * Results of `npm run bench:kafka` (written as JSON) and how they are summarised: per figure the
 * values of both brokers over the rounds and the ratio kbroker/Kafka taken within each round,
 * each as median [min–max].
 */

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  /** true for throughput (bigger is better), false for latency, memory, CPU, time */
  higherIsBetter: boolean;
  /** for MB/s figures: the record size, so records/s can be shown beside them */
  recordBytes?: number;
  /** a figure only one broker has (kbroker's event-loop delay): the other's column and the ratio read n/a */
  only?: 'kbroker';
  /**
   * a figure about the machine during a broker's runs (hypervisor steal), not about the broker:
   * both columns shown, no ratio, so never in the baseline
   */
  machine?: true;
}

export interface RoundResult {
  round: number;
  kafka: Record<string, number>;
  kbroker: Record<string, number>;
  /** the light clients' rows against bench/kafka/null-broker.ts: what they reach with no broker work */
  ceiling?: Record<string, number>;
}

export interface BenchResults {
  kind: 'kbroker-vs-kafka';
  date: string;
  kafkaVersion: string;
  node: string;
  host: { cpus: number; memGiB: number; kernel: string };
  mode: 'full' | 'quick';
  settings: Record<string, number | string>;
  metrics: MetricDef[];
  rounds: RoundResult[];
  errors: string[];
}

export interface Stat {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function stat(xs: number[]): Stat | undefined {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v[v.length - 1]!, n: v.length };
}

export interface Summary {
  def: MetricDef;
  kafka?: Stat;
  kbroker?: Stat;
  ratio?: Stat;
  /** the no-op server's figure, and kbroker's and Kafka's within each round as a share of it */
  ceiling?: Stat;
  kbrokerOfCeiling?: Stat;
  kafkaOfCeiling?: Stat;
  /**
   * The highest ratio to Kafka any broker could show with that client in each round: the no-op server's
   * figure over Kafka's. Where it is under a target, no broker reaches the target on this machine.
   */
  reachable?: Stat;
}

export function summarise(res: BenchResults): Summary[] {
  return res.metrics.map((def) => {
    const ratios = res.rounds.map((r) => {
      const k = r.kafka[def.key];
      const kb = r.kbroker[def.key];
      return k !== undefined && kb !== undefined && k !== 0 ? kb / k : Number.NaN;
    });
    const ofCeiling = (side: 'kafka' | 'kbroker') =>
      stat(res.rounds.map((r) => (r[side][def.key] ?? Number.NaN) / (r.ceiling?.[def.key] ?? Number.NaN)));
    return {
      def,
      kafka: stat(res.rounds.map((r) => r.kafka[def.key] ?? Number.NaN)),
      kbroker: stat(res.rounds.map((r) => r.kbroker[def.key] ?? Number.NaN)),
      ratio: def.machine ? undefined : stat(ratios),
      ceiling: stat(res.rounds.map((r) => r.ceiling?.[def.key] ?? Number.NaN)),
      kbrokerOfCeiling: ofCeiling('kbroker'),
      kafkaOfCeiling: ofCeiling('kafka'),
      reachable: def.higherIsBetter
        ? stat(res.rounds.map((r) => (r.ceiling?.[def.key] ?? Number.NaN) / (r.kafka[def.key] ?? Number.NaN)))
        : undefined,
    };
  });
}

export function num(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(0)} k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function range(s: Stat | undefined, fmt: (x: number) => string = num, missing = 'failed'): string {
  if (!s) return missing;
  if (s.n === 1) return fmt(s.median);
  return `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]`;
}

const ratioFmt = (x: number) => `${x.toFixed(2)}×`;
/** No ratio although both brokers were measured: Kafka's value is 0 (a percentile under 1 ms). */
const ratioMissing = (r: Summary) =>
  r.def.only || r.def.machine ? 'n/a' : r.kafka && r.kbroker ? '—' : 'failed';
const kafkaMissing = (r: Summary) => (r.def.only === 'kbroker' ? 'n/a' : 'failed');

const pct = (x: number) => `${(x * 100).toFixed(0)} %`;

/** The no-op ceiling of a light-client row (kcat, pipelined) and what share of it each broker reached; '' for other rows. */
function ceilingCell(r: Summary): string {
  if (!r.ceiling) return '';
  const reach = r.reachable ? `; at most ${range(r.reachable, ratioFmt)} Kafka` : '';
  return `${range(r.ceiling)} (Kafka ${range(r.kafkaOfCeiling, pct, '—')}, kbroker ${range(r.kbrokerOfCeiling, pct, '—')}${reach})`;
}

/**
 * Issue 16's throughput target against the rows that have a no-op ceiling: in how many of them a ratio of
 * `target` is within what the client can reach at all here (median of the rounds' ceiling over Kafka's
 * figure), and in how many of those kbroker's median ratio meets it. The rest are out of reach on this
 * machine for any broker, and are named.
 */
export function targetLines(res: BenchResults, target = 2): string[] {
  const rows = summarise(res).filter((r) => r.reachable && r.ratio);
  if (rows.length === 0) return [];
  const within = rows.filter((r) => r.reachable!.median >= target);
  const met = within.filter((r) => r.ratio!.median >= target);
  const missed = within.filter((r) => r.ratio!.median < target);
  const beyond = rows.filter((r) => r.reachable!.median < target);
  const t = ratioFmt(target);
  const lines = [
    `${t} Kafka (rows with a no-op ceiling, medians): within the ceiling in ${within.length} of ${rows.length} rows; kbroker met it in ${met.length} of those ${within.length}.`,
  ];
  if (missed.length > 0)
    lines.push(
      `  within reach, not met: ${missed.map((r) => `${r.def.label} ${ratioFmt(r.ratio!.median)}`).join('; ')}`,
    );
  if (beyond.length > 0)
    lines.push(
      `  out of reach here (the client's ceiling is under ${t} Kafka's figure): ${beyond.map((r) => `${r.def.label} (at most ${ratioFmt(r.reachable!.median)})`).join('; ')}`,
    );
  return lines;
}

/** The table printed at the end of a run: each figure for both brokers, the ratio and the kcat ceiling. */
export function formatTable(res: BenchResults): string {
  const rows = summarise(res);
  const head = ['figure', 'unit', 'Kafka', 'kbroker', 'ratio kbroker/Kafka', 'better', 'no-op ceiling'];
  const body = rows.map((r) => {
    const recs = (s: Stat | undefined) =>
      s && r.def.recordBytes ? ` (${num((s.median * 1e6) / r.def.recordBytes)} rec/s)` : '';
    return [
      r.def.label,
      r.def.unit,
      range(r.kafka, num, kafkaMissing(r)) + recs(r.kafka),
      range(r.kbroker) + recs(r.kbroker),
      range(r.ratio, ratioFmt, ratioMissing(r)),
      r.def.higherIsBetter ? '↑' : '↓',
      ceilingCell(r),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

/** The same table as Markdown (for the README). */
export function formatMarkdown(res: BenchResults): string {
  const rows = summarise(res);
  const out = [
    '| figure | Kafka | kbroker | kbroker/Kafka | no-op ceiling (share reached) |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const unit = r.def.unit === '' ? '' : `${r.def.unit}, `;
    const recs = (s: Stat | undefined) =>
      s && r.def.recordBytes ? `, ${num((s.median * 1e6) / r.def.recordBytes)} rec/s` : '';
    out.push(
      `| ${r.def.label} (${unit}${r.def.higherIsBetter ? 'higher' : 'lower'} is better) | ${range(r.kafka, num, kafkaMissing(r))}${recs(r.kafka)} | ${range(r.kbroker)}${recs(r.kbroker)} | ${range(r.ratio, ratioFmt, ratioMissing(r))} | ${ceilingCell(r)} |`,
    );
  }
  return out.join('\n');
}

/** bench/baseline-kafka.json: the median ratios of one run, checked by `npm run bench:compare`. */
export interface Baseline {
  about: string;
  date: string;
  kafkaVersion: string;
  mode: string;
  rounds: number;
  tolerance: number;
  ratios: Record<string, { label: string; ratio: number; higherIsBetter: boolean }>;
  /** Rows the benchmark gained after the baseline was taken, with their ratios from a later run. */
  addedLater?: { keys: string[]; date: string; note: string }[];
}

export function makeBaseline(res: BenchResults, tolerance: number): Baseline {
  const ratios: Baseline['ratios'] = {};
  for (const r of summarise(res)) {
    if (r.ratio)
      ratios[r.def.key] = { label: r.def.label, ratio: r.ratio.median, higherIsBetter: r.def.higherIsBetter };
  }
  return {
    about:
      'Median ratios kbroker/Apache Kafka of one `npm run bench:kafka` run (bench/vs-kafka.ts). `npm run bench:compare` fails when a ratio is more than `tolerance` worse than this. Rewrite with `npm run bench:compare -- --write-baseline` after a deliberate change.',
    date: res.date,
    kafkaVersion: res.kafkaVersion,
    mode: res.mode,
    rounds: res.rounds.length,
    tolerance,
    ratios,
  };
}

/**
 * The baseline with the ratios of the rows it lacks (figures added to the benchmark since it was
 * taken) filled in from `res`, recorded under `addedLater`; its own ratios are left as they are.
 */
export function addMissingToBaseline(
  base: Baseline,
  res: BenchResults,
): { baseline: Baseline; added: string[] } {
  const now = makeBaseline(res, base.tolerance).ratios;
  const added = Object.keys(now).filter((k) => !(k in base.ratios));
  if (added.length === 0) return { baseline: base, added };
  return {
    baseline: {
      ...base,
      ratios: { ...base.ratios, ...Object.fromEntries(added.map((k) => [k, now[k]!])) },
      addedLater: [
        ...(base.addedLater ?? []),
        {
          keys: added,
          date: res.date,
          note: "rows added to bench:kafka after the baseline was taken: their ratios come from the run of this date, the others from the baseline's own",
        },
      ],
    },
    added,
  };
}

export interface Comparison {
  key: string;
  label: string;
  baseline: number;
  /** the run's median ratio; undefined when its runs failed */
  now: number | undefined;
  /** > 0 better than the baseline, < 0 worse, as a fraction of the baseline ratio */
  change: number | undefined;
  worse: boolean;
}

/**
 * Each baseline ratio against the run's median ratio. Worse by more than `tolerance` means below
 * (1 − tolerance) × baseline for a throughput, above (1 + tolerance) × baseline for a figure where
 * lower is better; a figure the run did not measure counts as worse.
 */
export function compareToBaseline(res: BenchResults, base: Baseline, tolerance: number): Comparison[] {
  const byKey = new Map(summarise(res).map((r) => [r.def.key, r]));
  return Object.entries(base.ratios).map(([key, b]) => {
    const now = byKey.get(key)?.ratio?.median;
    if (now === undefined)
      return { key, label: b.label, baseline: b.ratio, now, change: undefined, worse: true };
    const change = b.higherIsBetter ? now / b.ratio - 1 : b.ratio / now - 1;
    const worse = b.higherIsBetter ? now < b.ratio * (1 - tolerance) : now > b.ratio * (1 + tolerance);
    return { key, label: b.label, baseline: b.ratio, now, change, worse };
  });
}
