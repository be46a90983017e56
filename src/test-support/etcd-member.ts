/**
 * Test helper run as a child process: a cluster member that campaigns for controller or
 * registers a broker in etcd, prints one JSON line when it has, and then lives until killed — so
 * a test can kill it (SIGKILL: no clean shutdown, its session just stops being renewed) and watch
 * the others take over.
 *
 *   node --import tsx src/test-support/etcd-member.ts <controller|broker> <endpoint> <root> <node id> <session ms>
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdBrokerRegistry } from '../metadata/etcd/broker-registry.js';
import { EtcdClient } from '../metadata/etcd/client.js';
import { EtcdControllerElection } from '../metadata/etcd/election.js';
import { EtcdLayout } from '../metadata/etcd/layout.js';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..', '..');

/** Starts a member process; resolves with it and the line it printed once it holds its role. */
export function spawnEtcdMember(
  role: 'controller' | 'broker',
  endpoint: string,
  etcdRoot: string,
  nodeId: number,
  sessionTimeoutMs: number,
  timeoutMs = 30_000,
): Promise<{ kill(): void; exited: Promise<unknown>; line: Record<string, unknown> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', self, role, endpoint, etcdRoot, String(nodeId), String(sessionTimeoutMs)],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`etcd member did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve({
          kill: () => child.kill('SIGKILL'),
          exited,
          line: JSON.parse(line) as Record<string, unknown>,
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`etcd member exited with ${String(code)}:\n${out}`));
    });
  });
}

async function main(args: string[]): Promise<void> {
  const [role, endpoint, etcdRoot, nodeId, sessionMs] = args;
  const client = new EtcdClient({ endpoints: [endpoint!] });
  const layout = new EtcdLayout(etcdRoot);
  // The session's timers do not keep a process alive; this member lives until it is killed.
  setInterval(() => {}, 1 << 30);
  if (role === 'controller') {
    const election = new EtcdControllerElection(client, layout, {
      nodeId: Number(nodeId),
      sessionTimeoutMs: Number(sessionMs),
    });
    const leadership = await election.campaign();
    console.log(JSON.stringify({ role, nodeId: leadership.nodeId, epoch: leadership.epoch }));
  } else {
    const registry = new EtcdBrokerRegistry(client, layout, { sessionTimeoutMs: Number(sessionMs) });
    const session = await registry.register({
      brokerId: Number(nodeId),
      rack: 'rack-a',
      endpoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' }],
      incarnationId: `pid-${process.pid}`,
    });
    console.log(
      JSON.stringify({ role, brokerId: session.broker.brokerId, brokerEpoch: session.broker.brokerEpoch }),
    );
  }
}

if (process.argv[1] === self) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
