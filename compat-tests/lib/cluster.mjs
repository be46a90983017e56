// A kbroker cluster of N brokers in one process (kbroker's startCluster, the same as
// `kbroker start --brokers N`) that a compat suite can drive from the shell: it prints
// "kbroker cluster listening on host:port,host:port,..." once started, then reads commands on
// stdin, one a line, and answers each with "ok <command>" (or "error <command>: <message>"):
//   stop N    controlled shutdown of broker N (its leaderships move first)
//   kill N    broker N dies without a clean shutdown (fenced when its session expires)
//   start N   broker N starts again from its data directory, on its port
//   quit      closes the cluster (also on SIGTERM and when stdin closes)
//
//   node compat-tests/lib/cluster.mjs BROKERS DATA_DIR [key=value ...]   (broker configs)
import { createInterface } from 'node:readline';
import { startCluster } from '../../dist/index.js';

const [brokers, dataDir, ...overrides] = process.argv.slice(2);
const config = Object.fromEntries(
  overrides.map((kv) => {
    const eq = kv.indexOf('=');
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }),
);
const cluster = await startCluster({
  brokers: Number(brokers),
  dataDir,
  dev: false,
  logLevel: 'warn',
  config,
});
process.stdout.write(`kbroker cluster listening on ${cluster.brokers.join(',')}\n`);

let closing;
const close = () => {
  closing ??= cluster.close().then(() => process.exit(0));
  return closing;
};
process.once('SIGTERM', close);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (!cmd) continue;
  if (cmd === 'quit') break;
  try {
    const id = Number(arg);
    if (cmd === 'stop') await cluster.stopBroker(id);
    else if (cmd === 'kill') await cluster.killBroker(id);
    else if (cmd === 'start') await cluster.startBroker(id);
    else throw new Error('unknown command');
    process.stdout.write(`ok ${line.trim()}\n`);
  } catch (err) {
    process.stdout.write(`error ${line.trim()}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
await close();
