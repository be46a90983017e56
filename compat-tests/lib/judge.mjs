#!/usr/bin/env node
// Judges compat results against compat-tests/matrix.json and prints the peer × feature matrix.
//
//   node compat-tests/lib/judge.mjs [--peer P]... [--results DIR] [--markdown FILE]
//
// Results: DIR/<peer>.tsv, lines "feature<TAB>pass|fail<TAB>seconds<TAB>detail" written by the
// peer's run.sh / scenario program. Verdicts:
//   ok        expected pass, passed
//   FAIL      expected pass, failed, or did not report (exit code 1)
//   pending   expected pending, failed (the reason from matrix.json is printed)
//   KNOWN     expected incompatible (a known incompatibility, reason in matrix.json), failed
//   XPASS     expected pending, passed: the feature now works, flip it to "pass" in matrix.json
//   UNLISTED  a result for a feature matrix.json does not list (exit code 1: keep the matrix complete)
// The last line is "compat: N passed, N failed, N skipped" (skipped = pending).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const matrixPath = join(here, '..', 'matrix.json');
const args = process.argv.slice(2);
const peersWanted = [];
let resultsDir = join(here, '..', '.cache', 'results');
let markdown = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--peer') peersWanted.push(args[++i]);
  else if (args[i] === '--results') resultsDir = args[++i];
  else if (args[i] === '--markdown') markdown = args[++i];
  else {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}

const matrix = JSON.parse(readFileSync(matrixPath, 'utf8'));
const peers = peersWanted.length > 0 ? peersWanted : Object.keys(matrix.peers);
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const peer of peers) {
  const spec = matrix.peers[peer];
  if (!spec) {
    console.error(`matrix.json has no peer ${peer}`);
    failed++;
    continue;
  }
  const file = join(resultsDir, `${peer}.tsv`);
  const got = new Map();
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const [feature, result, secs, detail] = line.split('\t');
      // A feature reported twice (e.g. two client versions in one run) fails if any report failed.
      const prev = got.get(feature);
      if (!prev || prev.result === 'pass') got.set(feature, { result, secs, detail: detail ?? '' });
    }
  }
  const install = join(resultsDir, `${peer}.install`);
  const installSecs = existsSync(install)
    ? readFileSync(install, 'utf8')
        .split('\n')
        .filter(Boolean)
        .reduce((s, l) => s + Number(l.split('\t')[0]), 0)
    : null;
  console.log(
    `\n== ${peer} ${spec.version}${installSecs !== null ? `  (install ${installSecs}s)` : ''}${existsSync(file) ? '' : '  (NO RESULTS: did run.sh run?)'}`,
  );
  const features = [...Object.keys(spec.features), ...[...got.keys()].filter((f) => !(f in spec.features))];
  for (const feature of features) {
    const want = spec.features[feature];
    const g = got.get(feature);
    let verdict;
    let note = '';
    if (!want) {
      verdict = 'UNLISTED';
      note = 'add it to matrix.json';
      failed++;
    } else if (want.expect === 'pass') {
      if (g?.result === 'pass') {
        verdict = 'ok';
        passed++;
      } else {
        verdict = 'FAIL';
        note = g ? g.detail : 'no result reported';
        failed++;
      }
    } else {
      if (g?.result === 'pass') {
        verdict = 'XPASS';
        note = 'passes now: set "expect": "pass" in matrix.json';
        passed++;
      } else {
        verdict = want.expect === 'incompatible' ? 'KNOWN' : 'pending';
        note = `${want.reason.slice(0, 120)}${want.reason.length > 120 ? '…' : ''}${g ? ` [got: ${g.detail.slice(0, 120)}]` : ' [not run]'}`;
        skipped++;
      }
    }
    rows.push({ peer, feature, verdict, result: g?.result ?? 'none', secs: g?.secs ?? '' });
    console.log(
      `  ${verdict.padEnd(8)} ${feature.padEnd(22)} ${g ? `${g.secs}s`.padStart(5) : '    -'}  ${note}`,
    );
  }
}
console.log(`\ncompat: ${passed} passed, ${failed} failed, ${skipped} skipped`);

if (markdown) {
  const cell = (peer, f) => {
    const r = rows.find((x) => x.peer === peer && x.feature === f);
    if (!r) return null;
    if (r.verdict === 'ok' || r.verdict === 'XPASS') return 'pass';
    if (r.verdict === 'pending') return 'pending';
    if (r.verdict === 'KNOWN') return 'incompatible';
    return '**FAIL**';
  };
  // Client libraries share one table; peers with their own features (CLI, Streams) get a list each.
  const clientCols = [
    'metadata',
    'produce',
    'consume-assign',
    'list-offsets',
    'compression',
    'produce-idempotent',
    'consumer-group',
    'manual-commit',
    'transactions',
    'admin-topics',
    'admin-configs',
    'admin-groups',
    'delete-records',
  ];
  const shown = peers.filter((p) => matrix.peers[p]);
  const isClient = (p) =>
    Object.keys(matrix.peers[p].features).every((f) => clientCols.includes(f) || f === 'compression-gzip');
  const clientCell = (p, f) => {
    if (f === 'compression' && cell(p, f) === null && cell(p, 'compression-gzip') !== null)
      return `${cell(p, 'compression-gzip')} (gzip only)`;
    return cell(p, f) ?? 'n/a';
  };
  const lines = [
    `| client | version | ${clientCols.join(' | ')} |`,
    `|---|---|${clientCols.map(() => '---').join('|')}|`,
    ...shown
      .filter(isClient)
      .map(
        (p) =>
          `| ${p} | ${matrix.peers[p].version} | ${clientCols.map((f) => clientCell(p, f)).join(' | ')} |`,
      ),
  ];
  for (const p of shown.filter((x) => !isClient(x))) {
    lines.push('', `| ${p} ${matrix.peers[p].version} | result |`, '|---|---|');
    for (const f of Object.keys(matrix.peers[p].features))
      lines.push(`| ${f} | ${cell(p, f) ?? 'not run'} |`);
  }
  const reasons = new Map();
  for (const p of shown)
    for (const [f, w] of Object.entries(matrix.peers[p].features))
      if (w.expect !== 'pass' && ['pending', 'incompatible'].includes(cell(p, f))) {
        const key = `${p}: ${w.reason}`;
        reasons.set(key, [...(reasons.get(key) ?? []), f]);
      }
  if (reasons.size > 0) {
    lines.push('', 'Pending and known incompatibilities:');
    for (const [key, fs] of reasons) lines.push(`- ${key.replace(': ', ` (${fs.join(', ')}): `)}`);
  }
  lines.push('', 'Features:', ...Object.entries(matrix.features).map(([f, d]) => `- ${f}: ${d}`));
  writeFileSync(markdown, `${lines.join('\n')}\n`);
  console.log(`markdown matrix written to ${markdown}`);
}
process.exit(failed > 0 ? 1 : 0);
