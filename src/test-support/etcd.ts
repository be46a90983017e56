/**
 * Test helper: a real etcd (Debian's `etcd-server`, installed by `.ci/run`) as a child process,
 * one member on ports chosen free at start, data in a fresh temporary directory that `stop()`
 * removes. Short heartbeat and election timeouts make it ready in a fraction of a second and let
 * leases as short as etcd allows (1 s) expire on time.
 *
 * Tests that need it use `describe.skipIf(!etcdBinary)`: when the binary is missing they are
 * skipped and `etcdMissingMessage` says why (never on CI, which installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './until.js';

function findEtcd(): string | undefined {
  const candidates = [process.env.ETCD_BIN, '/usr/bin/etcd', '/usr/local/bin/etcd'];
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(join(dir, 'etcd'));
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Path of the etcd binary, undefined when it is not installed. */
export const etcdBinary: string | undefined = findEtcd();

export const etcdMissingMessage =
  'etcd tests skipped: no etcd binary (install Debian package etcd-server, as .ci/run does, or set ETCD_BIN)';

if (!etcdBinary) console.warn(etcdMissingMessage);

export interface EtcdServer {
  /** Client URLs, as `--etcd` takes them. */
  readonly endpoints: string[];
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** etcd's own output so far (for failure messages). */
  output(): string;
  /** Stops etcd (SIGTERM, then SIGKILL) and removes its data directory. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { health?: string };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

/**
 * Starts one etcd member. A port taken between choosing it and etcd binding it (other test
 * processes share the machine) makes etcd exit; it is then started again on new ports.
 */
export async function startEtcd(
  options: { attempts?: number; readyTimeoutMs?: number } = {},
): Promise<EtcdServer> {
  if (!etcdBinary) throw new Error(etcdMissingMessage);
  const attempts = options.attempts ?? 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await startOnce(etcdBinary, options.readyTimeoutMs ?? 20_000);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(binary: string, readyTimeoutMs: number): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    binary,
    [
      '--name',
      'n0',
      '--data-dir',
      join(dataDir, 'data'),
      '--listen-client-urls',
      clientUrl,
      '--advertise-client-urls',
      clientUrl,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `n0=${peerUrl}`,
      '--initial-cluster-state',
      'new',
      '--heartbeat-interval',
      '20',
      '--election-timeout',
      '100',
      '--logger',
      'zap',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitCode: number | string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal ?? -1;
      resolve();
    }),
  );
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  try {
    await until(
      async () => {
        if (exitCode !== undefined) throw new Error(`etcd exited with ${exitCode}:\n${out}`);
        return healthy(clientUrl);
      },
      readyTimeoutMs,
      () => `etcd to be healthy on ${clientUrl}:\n${out}`,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoints: [clientUrl], dataDir, child, output: () => out, stop };
}

/** A TCP proxy in front of etcd whose connections a test can cut, as a network failure would. */
export interface CuttableProxy {
  /** `http://127.0.0.1:<port>`, for a client that should go through the proxy. */
  readonly endpoint: string;
  /** Closes every open connection and refuses new ones until `restore()`. */
  cut(): void;
  /**
   * Stops passing bytes either way without closing anything, as a dead link or a dropped NAT
   * entry does: only timeouts notice. Until `restore()`.
   */
  freeze(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: string): Promise<CuttableProxy> {
  const url = new URL(target);
  const sockets = new Set<Socket>();
  let isCut = false;
  let frozen = false;
  const server = createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(url.port), url.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (d: Buffer) => {
      if (!frozen) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!frozen) client.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => {
      isCut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    freeze: () => {
      frozen = true;
    },
    restore: () => {
      isCut = false;
      frozen = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        isCut = true;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
