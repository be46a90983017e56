/**
 * Test helper: kbroker as a separate process (run from the TypeScript sources through tsx, so
 * tests never depend on a stale build). Resolves once the broker prints its `listening on` line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BrokerProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

export function spawnBroker(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<BrokerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src', 'test-support', 'cli-entry.ts'), ...args],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`broker did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before listening:\n${out}`));
    });
  });
}

/** The arguments of `kbroker start --threads N --port P --data-dir D`, then `more`. */
export function threadsArgs(threads: number, port: number, dataDir: string, ...more: string[]): string[] {
  return ['start', '--threads', String(threads), '--port', String(port), '--data-dir', dataDir, ...more];
}
