/**
 * Test helper: a real etcd (Debian's `etcd-server`, installed by `.ci/run`) as child processes,
 * one member or a cluster of several on ports chosen free at start, data in a fresh temporary
 * directory that `stop()` removes. Short heartbeat and election timeouts make it ready in a
 * fraction of a second and let leases as short as etcd allows (1 s) expire on time.
 *
 * Tests that need it use `describe.skipIf(!etcdBinary)`: when the binary is missing they are
 * skipped and `etcdMissingMessage` says why (never on CI, which installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
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

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly child: ChildProcess;
  /** Kills this member at once (SIGKILL), as a crashed host; the others go on with a majority. */
  kill(): Promise<void>;
}

export interface EtcdServer {
  /** Client URLs of every member, as `--etcd` takes them. */
  readonly endpoints: string[];
  readonly members: readonly EtcdMember[];
  readonly dataDir: string;
  /** etcd's own output so far (for failure messages). */
  output(): string;
  /** Stops every member (SIGTERM, then SIGKILL) and removes the data directory. */
  stop(): Promise<void>;
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
 * Starts etcd: one member, or `members` of one cluster (3 is the production layout: one can
 * fail). A port taken between choosing it and etcd binding it (other test processes share the
 * machine) makes etcd exit; it is then started again on new ports.
 */
export async function startEtcd(
  options: { members?: number; attempts?: number; readyTimeoutMs?: number } = {},
): Promise<EtcdServer> {
  if (!etcdBinary) throw new Error(etcdMissingMessage);
  const attempts = options.attempts ?? 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await startOnce(etcdBinary, options.members ?? 1, options.readyTimeoutMs ?? 20_000);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(binary: string, count: number, readyTimeoutMs: number): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-etcd-'));
  const specs: { name: string; clientUrl: string; peerUrl: string }[] = [];
  for (let i = 0; i < count; i++) {
    specs.push({
      name: `n${i}`,
      clientUrl: `http://127.0.0.1:${await freePort()}`,
      peerUrl: `http://127.0.0.1:${await freePort()}`,
    });
  }
  const initialCluster = specs.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  let out = '';
  const members: (EtcdMember & { exitCode(): number | string | undefined; exited: Promise<void> })[] = [];
  for (const spec of specs) {
    const child = spawn(
      binary,
      [
        '--name',
        spec.name,
        '--data-dir',
        join(dataDir, spec.name),
        '--listen-client-urls',
        spec.clientUrl,
        '--advertise-client-urls',
        spec.clientUrl,
        '--listen-peer-urls',
        spec.peerUrl,
        '--initial-advertise-peer-urls',
        spec.peerUrl,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-state',
        'new',
        '--heartbeat-interval',
        '20',
        '--election-timeout',
        '200',
        '--logger',
        'zap',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const onData = (d: Buffer) => {
      out += `[${spec.name}] ${d.toString()}`;
      if (out.length > 64_000) out = out.slice(-32_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    let exitCode: number | string | undefined;
    // A test process that ends without stop() (crashed, killed) must not leave etcd running.
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        exitCode = code ?? signal ?? -1;
        process.removeListener('exit', killOnExit);
        resolve();
      }),
    );
    members.push({
      name: spec.name,
      clientUrl: spec.clientUrl,
      child,
      exitCode: () => exitCode,
      exited,
      kill: async () => {
        if (exitCode === undefined) child.kill('SIGKILL');
        await exited;
      },
    });
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      members.map(async (m) => {
        if (m.exitCode() !== undefined) return;
        m.child.kill('SIGTERM');
        const killer = setTimeout(() => m.child.kill('SIGKILL'), 5_000);
        await m.exited;
        clearTimeout(killer);
      }),
    );
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await until(
      async () => {
        const dead = members.find((m) => m.exitCode() !== undefined);
        if (dead) throw new Error(`etcd ${dead.name} exited with ${dead.exitCode()}:\n${out}`);
        return (await Promise.all(members.map((m) => healthy(m.clientUrl)))).every(Boolean);
      },
      readyTimeoutMs,
      () => `etcd to be healthy on ${specs.map((m) => m.clientUrl).join(', ')}:\n${out}`,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    endpoints: members.map((m) => m.clientUrl),
    members: members.map(({ name, clientUrl, child, kill }) => ({ name, clientUrl, child, kill })),
    dataDir,
    output: () => out,
    stop,
  };
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
