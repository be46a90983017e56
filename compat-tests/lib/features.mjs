// Runs a Node peer's features one after another, each with a deadline, and appends one line per
// feature to $COMPAT_RESULTS ("feature<TAB>pass|fail<TAB>seconds<TAB>detail").
import { appendFileSync } from 'node:fs';

export class CheckFailed extends Error {}

export function check(ok, what) {
  if (!ok) throw new CheckFailed(what);
}

export function record(feature, result, secs, detail) {
  const clean = String(detail).replace(/\t/g, ' ').replace(/\n/g, ' | ').slice(0, 600);
  const line = `${feature}\t${result}\t${Math.round(secs)}\t${clean}`;
  console.log(`RESULT ${line}`);
  if (process.env.COMPAT_RESULTS) appendFileSync(process.env.COMPAT_RESULTS, `${line}\n`);
}

/** features: [name, async fn][]; only: names to run (empty = all). */
export async function runFeatures(label, features, only = [], timeoutMs = 90_000) {
  for (const [name, fn] of features) {
    if (only.length > 0 && !only.includes(name)) continue;
    const t0 = performance.now();
    let timer;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      record(name, 'pass', (performance.now() - t0) / 1000, label);
    } catch (e) {
      console.log(e?.stack ?? e);
      const cause = e?.cause ? ` <- ${e.cause.message ?? e.cause}` : '';
      const errors = Array.isArray(e?.errors) ? ` [${e.errors.map((x) => x.message ?? x).join('; ')}]` : '';
      record(
        name,
        'fail',
        (performance.now() - t0) / 1000,
        `${label}: ${e?.name ?? 'Error'}: ${e?.message ?? e}${cause}${errors}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, fn, timeoutMs = 30_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new CheckFailed(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
