/**
 * `npm run bench:compare`: checks the ratios kbroker/Kafka of a `bench:kafka` run against the
 * committed baseline (bench/baseline-kafka.json) and fails when one is more than 15 % worse:
 * for a throughput ratio, below 0.85 × its baseline; for latency, memory, CPU and start-up
 * (lower is better), above 1.15 ×. Ratios, not absolute numbers, because both brokers ran on the
 * same machine in the same run. Run by hand or nightly; not part of `npm test` (noisy machines).
 *
 *   npm run bench:compare                       the last run (bench/.cache/kafka-last.json)
 *   npm run bench:compare -- --run [--rounds N] [--quick]   runs bench:kafka first
 *   npm run bench:compare -- --results FILE     another results file
 *   npm run bench:compare -- --write-baseline   makes the baseline from the results instead
 *   npm run bench:compare -- --add-missing      adds to the baseline the rows it lacks (figures new
 *                                               to the benchmark), from the results; keeps the rest
 *   npm run bench:compare -- --markdown         prints the results as a Markdown table (README)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  addMissingToBaseline,
  type Baseline,
  type BenchResults,
  compareToBaseline,
  formatMarkdown,
  makeBaseline,
} from './kafka/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    run: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    results: { type: 'string' },
    baseline: { type: 'string' },
    'write-baseline': { type: 'boolean', default: false },
    'add-missing': { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    tolerance: { type: 'string' },
  },
  strict: true,
});
const resultsFile = args.results ?? join(root, 'bench', '.cache', 'kafka-last.json');
const baselineFile = args.baseline ?? join(root, 'bench', 'baseline-kafka.json');
const tolerance = Number(args.tolerance ?? 0.15);

if (args.run) {
  const extra = [
    ...(args.rounds ? ['--rounds', args.rounds] : []),
    ...(args.quick ? ['--quick'] : []),
    '--out',
    resultsFile,
  ];
  const r = spawnSync('npm', ['run', 'bench:kafka', '--', ...extra], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) console.log(`bench:kafka exited ${r.status}; comparing what it measured`);
}
if (!existsSync(resultsFile)) {
  console.error(`no results in ${resultsFile}: run \`npm run bench:kafka\` first, or pass --run`);
  process.exit(2);
}
const res = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults;

if (args.markdown) {
  console.log(formatMarkdown(res));
  process.exit(0);
}
if (args['write-baseline']) {
  const b = makeBaseline(res, tolerance);
  writeFileSync(baselineFile, `${JSON.stringify(b, null, 2)}\n`);
  console.log(
    `wrote ${Object.keys(b.ratios).length} ratios from ${resultsFile} (${res.date}) to ${baselineFile}`,
  );
  process.exit(0);
}

if (!existsSync(baselineFile)) {
  console.error(`no baseline ${baselineFile}: write one with --write-baseline`);
  process.exit(2);
}
const base = JSON.parse(readFileSync(baselineFile, 'utf8')) as Baseline;
if (base.mode !== res.mode || base.kafkaVersion !== res.kafkaVersion) {
  console.log(
    `warning: the baseline is a ${base.mode} run against Kafka ${base.kafkaVersion}, these results a ${res.mode} run against Kafka ${res.kafkaVersion}: the ratios may differ for that reason alone`,
  );
}
if (args['add-missing']) {
  const { baseline, added } = addMissingToBaseline(base, res);
  if (added.length > 0) writeFileSync(baselineFile, `${JSON.stringify(baseline, null, 2)}\n`);
  console.log(
    added.length === 0
      ? `${baselineFile} already holds a ratio for every row of ${resultsFile}`
      : `added ${added.length} ratios from ${resultsFile} (${res.date}) to ${baselineFile}: ${added.join(', ')}`,
  );
  process.exit(0);
}
const tol = args.tolerance !== undefined ? tolerance : (base.tolerance ?? 0.15);
const checked = compareToBaseline(res, base, tol);
const worse = checked.filter((c) => c.worse).length;
const lines: string[][] = [
  ['figure', 'baseline', 'now', 'change', ''],
  ...checked.map((c) => [
    c.label,
    `${c.baseline.toFixed(2)}×`,
    c.now === undefined ? '—' : `${c.now.toFixed(2)}×`,
    c.change === undefined ? '' : `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(0)} %`,
    c.now === undefined ? 'MISSING (run failed)' : c.worse ? 'WORSE' : 'ok',
  ]),
];
const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
console.log(
  `ratios kbroker/Kafka of ${resultsFile} (${res.date}, ${res.mode}, ${res.rounds.length} round(s)) vs ${baselineFile} (${base.date}); tolerance ${(tol * 100).toFixed(0)} %`,
);
for (const l of lines)
  console.log(
    l
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
console.log(
  worse === 0
    ? `\nall ${lines.length - 1} ratios within ${(tol * 100).toFixed(0)} % of the baseline`
    : `\n${worse} of ${lines.length - 1} ratios more than ${(tol * 100).toFixed(0)} % worse than the baseline`,
);
process.exit(worse === 0 ? 0 : 1);
