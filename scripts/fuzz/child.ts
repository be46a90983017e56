/**
 * Parent side of broker-child.ts: start a broker process on a data dir, ask it for stats, stop
 * it gracefully or kill it, and know when it died on its own (a crash).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildStats } from './broker-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

export interface BrokerChild {
  child: ChildProcess;
  port: number;
  /** Resolves with the exit code or signal name. */
  exited: Promise<number | string>;
  /** stdout + stderr so far. */
  output(): string;
  stats(timeoutMs?: number): Promise<ChildStats>;
  /** CPU time used so far and the longest event-loop delay since the last probe (no GC). */
  probe(timeoutMs?: number): Promise<{ cpuMs: number; loopDelayMaxMs: number }>;
  /** Graceful close (flushes, clean-shutdown marker); resolves with the exit code. */
  stop(): Promise<number | string>;
  /** kill -9. */
  kill(): Promise<number | string>;
}

export function startChild(
  dataDir: string,
  config: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<BrokerChild> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'broker-child.ts')], {
    cwd: root,
    env: { ...process.env, KBROKER_CHILD: JSON.stringify({ dataDir, config }) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`broker child did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker child exited with ${code} before listening:\n${out}`));
    });
    child.on('message', function onListening(m: { type: string; port?: number }) {
      if (m.type !== 'listening') return;
      child.off('message', onListening);
      clearTimeout(timer);
      resolve({
        child,
        port: m.port!,
        exited,
        output: () => out,
        stats(ms = 30_000) {
          return new Promise<ChildStats>((res, rej) => {
            const t = setTimeout(() => rej(new Error('no stats from the broker child')), ms);
            const onMessage = (msg: { type: string; stats?: ChildStats }) => {
              if (msg.type !== 'stats') return;
              child.off('message', onMessage);
              clearTimeout(t);
              res(msg.stats!);
            };
            child.on('message', onMessage);
            exited.then((code) => rej(new Error(`broker child exited with ${code}`)));
            child.send({ type: 'stats' });
          });
        },
        probe(ms = 10_000) {
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error('no probe answer from the broker child')), ms);
            const onMessage = (msg: { type: string; probe?: { cpuMs: number; loopDelayMaxMs: number } }) => {
              if (msg.type !== 'probe') return;
              child.off('message', onMessage);
              clearTimeout(t);
              res(msg.probe!);
            };
            child.on('message', onMessage);
            child.send({ type: 'probe' });
          });
        },
        stop() {
          if (child.exitCode === null && child.signalCode === null) child.send({ type: 'stop' });
          return exited;
        },
        kill() {
          child.kill('SIGKILL');
          return exited;
        },
      });
    });
  });
}
