/**
 * Child processes for `npm run bench:kafka`: every process the benchmark starts is registered here
 * (each in its own process group) and killed on exit, on failure and on Ctrl-C; temp dirs are
 * removed the same way. Plus the /proc readers (RSS, CPU time) and a free loopback port.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statCpuSeconds, USER_HZ } from '../../src/common/proc-stat.js';
import { freePort, freePortRun } from '../../src/test-support/free-port.js';

export { freePort, freePortRun };

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the child leads its own group (detached)
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

/** True while the process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Kills every registered process group, waits (up to 5 s) until they are gone, then removes every
 * temp dir. Synchronous, so it also works in an 'exit' handler.
 */
export function cleanupAll(): void {
  const pids = [...live].map((c) => c.pid).filter((p): p is number => p !== undefined);
  for (const c of live) killGroup(c, 'SIGKILL');
  live.clear();
  const deadline = Date.now() + 5000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(alive) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
  // BENCH_KEEP_DATA: brokers' directories (data, logs) stay for a look afterwards, as their stop() leaves them.
  for (const d of process.env.BENCH_KEEP_DATA ? [] : tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true, maxRetries: 5 });
    } catch (err) {
      process.stderr.write(`bench:kafka: could not remove ${d}: ${(err as Error).message}\n`);
    }
  }
  tempDirs.clear();
}

let installed = false;
/** Cleans up on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench:kafka: ${sig}, stopping every process it started\n`);
      cleanupAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench:kafka: ${err.stack ?? err.message}\n`);
    cleanupAll();
    process.exit(1);
  });
}

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

/** Spawns a registered child in its own process group. */
export function start(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { ...opts, detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stop(child: ChildProcess, graceMs = 20_000): Promise<void> {
  const done = exited(child);
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
  killGroup(child, 'SIGKILL'); // anything left in its group
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command to completion (killed after `timeoutMs`), collecting stdout/stderr as text
 * (the first MiB of each); `discardStdout` sends stdout to /dev/null.
 */
export async function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; discardStdout?: boolean } = {},
): Promise<RunResult> {
  const t0 = performance.now();
  const child = start(cmd, args, {
    stdio: ['ignore', opts.discardStdout ? 'ignore' : 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    if (stdout.length < 1 << 20) stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 1 << 20) stderr += d.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, opts.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const ms = performance.now() - t0;
  if (timedOut) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… timed out after ${opts.timeoutMs} ms`);
  return { code, stdout, stderr, ms };
}

/** Resident and peak resident memory of a process, in bytes (VmRSS, VmHWM). */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

let clockTicks = 0;
/** CPU seconds (user + system) in a /proc stat file, in this machine's clock ticks. */
function cpuSecondsIn(file: string): number {
  if (clockTicks === 0)
    clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || USER_HZ;
  return statCpuSeconds(file, clockTicks);
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  return cpuSecondsIn(`/proc/${pid}/stat`);
}

/** CPU seconds one thread of a process has used so far (a Node process's event loop runs on tid = pid). */
export function threadCpuSeconds(pid: number, tid: number | string): number {
  return cpuSecondsIn(`/proc/${pid}/task/${tid}/stat`);
}

/** The whole machine's CPU time so far (all CPUs, clock ticks) and the part the hypervisor stole. */
export interface MachineTicks {
  steal: number;
  total: number;
}

/**
 * From /proc/stat's `cpu` line: user, nice, system, idle, iowait, irq, softirq and steal summed
 * (guest time is already in user). Steal is the time a virtual CPU was ready to run but the
 * hypervisor ran something else: on a shared VM it moves a figure more than anything the broker does.
 */
export function machineTicks(): MachineTicks {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9);
  const n = fields.map(Number);
  return { steal: n[7] ?? 0, total: n.reduce((a, b) => a + b, 0) };
}

/** Steal over the runs measured with it: each run's share, and the share over all of them. */
export class StealMeter {
  private steal = 0;
  private total = 0;

  /** Runs `fn` and returns its result with the percentage of the machine's CPU time stolen meanwhile. */
  async measure<T>(fn: () => Promise<T>): Promise<{ result: T; stealPct: number }> {
    const t0 = machineTicks();
    const result = await fn();
    const t1 = machineTicks();
    const steal = t1.steal - t0.steal;
    const total = t1.total - t0.total;
    this.steal += steal;
    this.total += total;
    return { result, stealPct: total > 0 ? (100 * steal) / total : 0 };
  }

  /** The percentage stolen over every run measured so far; undefined before any. */
  get pct(): number | undefined {
    return this.total > 0 ? (100 * this.steal) / this.total : undefined;
  }
}

/** The machine's dirty page-cache pages (written, not yet on disk), MiB, from /proc/meminfo. */
function dirtyMiB(): number {
  const m = /^Dirty:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * Has the kernel write every dirty page out (sync(1)) before a produce run, and says how much there was.
 * Each broker writes ~6 GB a round; without this the kernel's flusher threads wrote the runs before out
 * during the later runs, on the same two cores, so a figure depended on where its run fell in the round.
 * (What did not go away with it: on this VM a page the page cache takes from memory the hypervisor has
 * reclaimed costs ~2.5 s of system CPU a GB — one thread writing 100 KiB chunks into new files moved
 * 5 GB/s while warm pages lasted, then 400 MB/s at a full core; README, session 24.)
 */
export function settleDirtyPages(): number {
  const before = dirtyMiB();
  execFileSync('sync');
  return before;
}
