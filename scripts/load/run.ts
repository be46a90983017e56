/**
 * `npm run load [-- --idle 10000 --producers 500 --consumers 500 --seconds 60]`
 *
 * 10,000 idle connections and 1,000 active producers/consumers on one broker (load.ts has the
 * phases). Both this process and the broker's hold one descriptor per connection: when the open
 * file limit (ulimit -n) is below what they need, the script runs itself again under a raised
 * limit (`ulimit -n`, up to the hard limit; root may raise that too). Exit code 0 when every
 * check held: no request slower than --bound-ms (fetches: their 500 ms long poll on top), no
 * errors, max.connections enforced exactly, slow readers held back.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LISTEN_BACKLOG } from '../../src/server/accept-gate.js';
import { type LoadResult, runLoad } from './load.js';

/** The soft limit on open files of this process (Linux), or undefined. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return undefined;
  }
}

/** Runs this script again under `ulimit -n need`; returns its exit code, or undefined when not possible. */
function reexecWithLimit(need: number): number | undefined {
  if (process.env.KBROKER_LOAD_REEXEC) return undefined;
  const args = [...process.execArgv, ...process.argv.slice(1)];
  const r = spawnSync('sh', ['-c', `ulimit -n ${need} && exec "$@"`, 'sh', process.execPath, ...args], {
    stdio: 'inherit',
    env: { ...process.env, KBROKER_LOAD_REEXEC: '1' },
  });
  return r.status ?? undefined;
}

export function checkLoad(
  r: LoadResult,
  opts: { spare: number; boundMs: number; fetchWaitMs: number },
): string[] {
  const problems: string[] = [];
  if (r.active.errors > 0) problems.push(`${r.active.errors} request errors under load`);
  if (r.active.produce.maxMs > opts.boundMs)
    problems.push(`a produce took ${r.active.produce.maxMs.toFixed(0)} ms`);
  if (r.active.idleProbe.maxMs > opts.boundMs)
    problems.push(`an idle connection's ApiVersions took ${r.active.idleProbe.maxMs.toFixed(0)} ms`);
  if (r.active.fetch.maxMs > opts.boundMs + opts.fetchWaitMs)
    problems.push(`a fetch took ${r.active.fetch.maxMs.toFixed(0)} ms`);
  if (r.active.fetch.count === 0 || r.active.produce.count === 0) problems.push('no traffic');
  if (r.maxConnections.served !== opts.spare)
    problems.push(
      `max.connections: ${r.maxConnections.served} of ${r.maxConnections.tried} served, expected ${opts.spare}`,
    );
  // The others wait — one at the acceptor, the rest in its backlog (past it, closed) — and are
  // served as slots free.
  const { tried, closed, servedAfterClose } = r.maxConnections;
  const expectClosed = Math.max(0, tried - opts.spare - 1 - LISTEN_BACKLOG);
  if (closed !== expectClosed)
    problems.push(`max.connections: ${closed} closed at once, expected ${expectClosed} (past the backlog)`);
  const expectAfter = Math.min(tried - opts.spare - expectClosed, opts.spare);
  if (servedAfterClose !== expectAfter)
    problems.push(
      `max.connections: ${servedAfterClose} waiting ones served once slots freed, expected ${expectAfter}`,
    );
  if (r.maxConnections.brokerConnections > r.maxConnections.limit)
    problems.push(
      `broker holds ${r.maxConnections.brokerConnections} connections over its limit ${r.maxConnections.limit}`,
    );
  // 200 unread 1 MiB fetches per slow reader: only socket buffers' worth may be served.
  const growth = r.slowReaders.rssAfter - r.slowReaders.rssBefore;
  if (growth > r.slowReaders.connections * 16 * 1024 * 1024 + 64 * 1024 * 1024)
    problems.push(`slow readers grew the broker's RSS by ${(growth / 1048576).toFixed(0)} MiB`);
  if (r.slowReaders.otherServedMs > opts.boundMs) problems.push('slow readers starved another connection');
  if (r.brokerErrors > 0) problems.push(`the broker logged ${r.brokerErrors} errors`);
  return problems;
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const idle = arg('idle', 10_000);
  const producers = arg('producers', 500);
  const consumers = arg('consumers', 500);
  const slowReaders = arg('slow-readers', 10);
  const spare = slowReaders + 10;
  const need = idle + producers + consumers + spare + 1000;
  const have = openFileLimit();
  if (have !== undefined && have < need) {
    console.log(`ulimit -n is ${have}, ${need} needed: running again under ulimit -n ${need}`);
    const code = reexecWithLimit(need);
    if (code !== undefined) return code;
    console.log('could not raise the limit; connections past it will fail');
  }
  const boundMs = arg('bound-ms', 5000);
  const r = await runLoad({
    idle,
    producers,
    consumers,
    seconds: arg('seconds', 60),
    produceRate: arg('produce-rate', 5),
    slowReaders,
    spare,
    extra: 50,
    partitions: arg('partitions', 50),
    progress: (l) => console.log(l),
  });
  const out = join(tmpdir(), `kbroker-load-${Date.now()}.json`);
  writeFileSync(out, JSON.stringify(r, null, 2));
  const lat = (name: string, s: LoadResult['active']['produce']) =>
    `${name}: ${s.count} requests, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, max ${s.maxMs.toFixed(1)} ms`;
  console.log(lat('produce', r.active.produce));
  console.log(lat('fetch (500 ms long poll)', r.active.fetch));
  console.log(lat('ApiVersions on idle connections', r.active.idleProbe));
  console.log(`records produced ${r.active.producedRecords}, fetched ${r.active.fetchedRecords}`);
  const problems = checkLoad(r, { spare, boundMs, fetchWaitMs: 500 });
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  console.log(problems.length === 0 ? `all checks held (result: ${out})` : `result: ${out}`);
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
