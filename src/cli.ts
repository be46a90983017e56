/**
 * The `kbroker` command line.
 *
 *   kbroker start [--config server.properties] [--override key=value]... [--port N] [--host H]
 *                 [--data-dir D] [--log-level debug|info|warn|error|silent] [--dev] [--http-port N]
 *                 [--http-host H] [--brokers N] [--threads N] [--node-id N --etcd URL[,URL...]]
 *
 * Settings use Kafka's names; precedence is (dev-mode settings <) file < environment (KAFKA_*) <
 * --override < the shorthand flags. Once the broker accepts connections it prints one line with
 * its address, then one line describing the mode (dev or not, where data lives, admin HTTP).
 * `--dev` applies DEV_MODE_CONFIG (src/dev-mode.ts) and, unless a data directory is configured,
 * keeps data in a temporary folder removed on exit. `--http-port` starts the admin HTTP listener
 * (/health, /ready, /metrics, /api/…, the web console under /ui/) before storage recovery, so
 * /ready reports progress; `--dev` starts it too, on 8080 (the port Kafka UIs and kbroker's image
 * use) or, when 8080 is taken, a free port — a third start-up line prints the console's URL. It
 * binds `--http-host`, else the host of an explicit Kafka listener (`PLAINTEXT://0.0.0.0:9092` in
 * the Docker image), else 127.0.0.1. `--brokers N` starts N brokers in this one process sharing one
 * controller (src/server/cluster.ts): node ids 1..N on ports P..P+N-1 (P the listener's port, 0:
 * ephemeral), data in `<log.dirs>/broker-<id>/`, the metadata log in `<log.dirs>/metadata/`; the
 * admin HTTP listener, when started, serves broker 1. `--node-id N --etcd URL[,URL...]` (node.id
 * and etcd.connect) runs one broker of a multi-process cluster whose metadata is in etcd
 * (src/server/etcd-broker.ts); SIGTERM is then a controlled shutdown. `--threads N` runs N brokers
 * in this process, each on its own thread (src/server/thread-cluster.ts), so one process uses N
 * cores: node ids, ports and data directories as with `--brokers`, the cluster metadata held by
 * the main thread; with `--http-port P` each broker thread has its own admin listener on P + N − 1.
 */
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './common/logger.js';
import {
  BrokerConfig,
  ConfigError,
  configFromEnv,
  parseProperties,
  type RawConfig,
  sharedBrokerConfig,
} from './config/broker-config.js';
import { DEV_MODE_CONFIG, describeMode, makeTempDataDir } from './dev-mode.js';
import type { AdminServer } from './ops/http-server.js';
// Imported when asked for (--brokers, --etcd): their modules (the etcd client and controller
// above all) are a sixth of the bundle, source a plain broker would keep on its heap for nothing.
// The broker itself too: under --threads the main thread only holds the cluster metadata, and the
// broker code, loaded in every broker thread, would be one more copy on this thread's heap.
import type { Broker } from './server/broker.js';
import type { Cluster } from './server/cluster.js';
import type { EtcdBroker } from './server/etcd-broker.js';

const USAGE = `usage: kbroker start [--config FILE] [--override key=value]... [--port N] [--host H] [--data-dir DIR] [--log-level LEVEL] [--dev] [--http-port N] [--http-host H] [--brokers N] [--threads N] [--node-id N --etcd URL[,URL...]]`;

/** The admin listener's port under --dev when --http-port is not given. */
export const DEV_HTTP_PORT = 8080;

export interface StartArgs {
  config: BrokerConfig;
  logLevel: LogLevel;
  dev: boolean;
  /** The admin HTTP port, when asked for (or the dev default, DEV_HTTP_PORT). */
  httpPort: number | undefined;
  /** Whether httpPort is the dev default (then a free port is taken if it is in use). */
  httpPortIsDefault: boolean;
  /** The admin HTTP interface. */
  httpHost: string;
  /** A temporary data directory made for dev mode, to remove on exit. */
  temporaryDataDir: string | undefined;
  /** How many brokers this process runs (--brokers; 1 unless given). */
  brokers: number;
  /** Broker threads in this process (`--threads`), 1 without. */
  threads: number;
  /** The settings `config` was built from, for the brokers of a cluster. */
  raw: RawConfig;
}

export function parseStartArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): StartArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      override: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      dev: { type: 'boolean', default: false },
      'http-port': { type: 'string' },
      'http-host': { type: 'string' },
      brokers: { type: 'string' },
      threads: { type: 'string' },
      'node-id': { type: 'string' },
      etcd: { type: 'string' },
    },
    strict: true,
  });
  const overrides: RawConfig = {};
  for (const o of values.override ?? []) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--override needs key=value, got ${o}`);
    overrides[o.slice(0, eq).trim()] = o.slice(eq + 1).trim();
  }
  if (values.port !== undefined || values.host !== undefined) {
    const host = values.host ?? '';
    overrides.listeners = `PLAINTEXT://${host.includes(':') ? `[${host}]` : host}:${values.port ?? '9092'}`;
  }
  if (values['data-dir'] !== undefined) overrides['log.dirs'] = values['data-dir'];
  if (values['node-id'] !== undefined) {
    if (!/^\d+$/.test(values['node-id'])) {
      throw new ConfigError(`--node-id must be a non-negative integer, got ${values['node-id']}`);
    }
    overrides['node.id'] = values['node-id'];
  }
  if (values.etcd !== undefined) overrides['etcd.connect'] = values.etcd;
  const logLevel = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`--log-level must be debug, info, warn, error or silent`);
  }
  let httpPort: number | undefined;
  if (values['http-port'] !== undefined) {
    httpPort = Number(values['http-port']);
    if (!/^\d+$/.test(values['http-port']) || httpPort > 65535) {
      throw new ConfigError(`--http-port must be a port number, got ${values['http-port']}`);
    }
  }
  const brokers = values.brokers === undefined ? 1 : Number(values.brokers);
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 100) {
    throw new ConfigError(`--brokers must be a number from 1 to 100, got ${values.brokers}`);
  }
  if (brokers > 1 && (values.etcd !== undefined || values['node-id'] !== undefined)) {
    throw new ConfigError(
      '--brokers runs a cluster in one process; --etcd and --node-id are for one broker per process',
    );
  }
  const threads = values.threads === undefined ? 1 : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ConfigError(`--threads must be a number from 1 to 256, got ${values.threads}`);
  }
  if (threads > 1 && (brokers > 1 || values.etcd !== undefined || values['node-id'] !== undefined)) {
    throw new ConfigError(
      '--threads runs its own cluster of broker threads: not with --brokers, --etcd or --node-id',
    );
  }
  const dev = values.dev ?? false;
  const httpPortIsDefault = dev && httpPort === undefined;
  if (httpPortIsDefault) httpPort = DEV_HTTP_PORT;
  if (values['http-host'] !== undefined && values['http-host'].trim() === '') {
    throw new ConfigError('--http-host must not be empty');
  }
  const layers: RawConfig = {
    ...(dev ? DEV_MODE_CONFIG : {}),
    ...(values.config ? parseProperties(readFileSync(values.config, 'utf8')) : {}),
    ...configFromEnv(env),
    ...overrides,
  };
  let temporaryDataDir: string | undefined;
  if (dev && layers['log.dirs'] === undefined && layers['log.dir'] === undefined) {
    temporaryDataDir = makeTempDataDir();
    layers['log.dirs'] = temporaryDataDir;
  }
  try {
    const config = new BrokerConfig(layers);
    if (
      brokers > 1 &&
      (config.endpoints.length > 1 || config.endpoints[0]?.securityProtocol !== 'PLAINTEXT')
    ) {
      // Cluster gives each broker one PLAINTEXT listener: a configured SSL/SASL one would be dropped.
      throw new ConfigError(
        '--brokers N gives each broker one PLAINTEXT listener; for other listeners use --threads N',
      );
    }
    const httpHost = values['http-host'] ?? (config.listeners[0]?.host || '127.0.0.1');
    return {
      config,
      logLevel,
      dev,
      httpPort,
      httpPortIsDefault,
      httpHost,
      temporaryDataDir,
      brokers,
      threads,
      raw: layers,
    };
  } catch (err) {
    if (temporaryDataDir) rmSync(temporaryDataDir, { recursive: true, force: true });
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'start') {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
  }
  let parsed: ReturnType<typeof parseStartArgs>;
  try {
    parsed = parseStartArgs(rest);
  } catch (err) {
    process.stderr.write(`kbroker: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger(parsed.logLevel);
  const started = performance.now();
  const removeTemporary = () => {
    if (parsed.temporaryDataDir) rmSync(parsed.temporaryDataDir, { recursive: true, force: true });
  };
  let admin: AdminServer | undefined;
  let broker: Broker;
  let cluster: Cluster | undefined;
  let etcdBroker: EtcdBroker | undefined;
  if (parsed.threads > 1) {
    try {
      return await runThreads(parsed, log, started);
    } finally {
      removeTemporary();
    }
  }
  try {
    if (parsed.httpPort !== undefined) {
      // Up before recovery: /health answers and /ready says "starting" while logs are recovered.
      const { AdminServer } = await import('./ops/http-server.js');
      const start = (port: number) => AdminServer.start({ port, host: parsed.httpHost, logger: log });
      try {
        admin = await start(parsed.httpPort);
      } catch (err) {
        if (!parsed.httpPortIsDefault || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        log.warn(`port ${parsed.httpPort} is in use: the admin HTTP listener takes a free port`);
        admin = await start(0);
      }
    }
    if (parsed.brokers > 1) {
      const shared = sharedBrokerConfig(parsed.raw);
      const listener = parsed.config.listeners[0]!;
      const { Cluster } = await import('./server/cluster.js');
      cluster = await Cluster.start({
        brokers: parsed.brokers,
        dataDir: parsed.config.logDir,
        host: listener.host || '127.0.0.1',
        port: listener.port,
        config: shared,
        logger: log,
      });
      broker = cluster.broker(1)!;
    } else if (parsed.config.string('etcd.connect').trim() !== '') {
      // One broker of a multi-process cluster: the cluster metadata is in etcd.
      const { EtcdBroker } = await import('./server/etcd-broker.js');
      etcdBroker = await EtcdBroker.start(parsed.raw, {
        logger: log,
        onFatal: (err) => {
          log.error(`stopping: ${err.message}`);
          process.exit(1);
        },
      });
      broker = etcdBroker.broker;
    } else {
      const { Broker } = await import('./server/broker.js');
      broker = await Broker.start(parsed.config, { logger: log });
    }
  } catch (err) {
    await admin?.close();
    removeTemporary();
    throw err;
  }
  admin?.attach(broker);
  if (cluster) admin?.attachCluster(cluster);
  const { host, port } = broker.advertised;
  const http = admin ? `; admin HTTP on ${admin.host}:${admin.port}` : '';
  const listening = cluster
    ? cluster.brokers.map((b) => `${b.advertised.host}:${b.advertised.port} (node ${b.nodeId})`).join(', ')
    : `${host}:${port} (node ${broker.nodeId}`;
  process.stdout.write(
    `kbroker listening on ${listening}${cluster ? ' (' : ', '}cluster ${broker.clusterId}, started in ${Math.round(performance.now() - started)} ms)\n` +
      `kbroker ${describeMode(parsed.dev, parsed.config.logDir, parsed.temporaryDataDir !== undefined)}${http}\n` +
      (admin ? `kbroker console ${admin.consoleUrl}\n` : '') +
      // With several listeners, where each one is (SSL, SASL_SSL, ... on their own ports).
      (parsed.config.endpoints.length > 1
        ? parsed.config.endpoints
            .map((l) => {
              const a = broker.advertisedFor(l.name);
              return `kbroker listener ${l.name} (${l.securityProtocol}) on ${a ? `${a.host}:${a.port}` : `port ${broker.listenerPort(l.name)}`}\n`;
            })
            .join('')
        : ''),
  );
  const signal = await untilStopSignal();
  log.info(`received ${signal}, shutting down`);
  admin?.markStopping();
  await (cluster ? cluster.close() : etcdBroker ? etcdBroker.stop() : broker.close())
    .then(
      () => admin?.close(),
      (err) => log.error('shutdown failed', err),
    )
    .finally(removeTemporary);
  return 0;
}

/** Resolves with the name of the first SIGTERM or SIGINT. */
function untilStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/** `--threads N`: N broker threads in this process (src/server/thread-cluster.ts) until a signal. */
async function runThreads(parsed: StartArgs, log: Logger, started: number): Promise<number> {
  const { ThreadCluster } = await import('./server/thread-cluster.js');
  const threads = await ThreadCluster.start({
    threads: parsed.threads,
    config: parsed.raw,
    dataDir: parsed.config.logDir,
    listeners: parsed.config.string('listeners'),
    ...(parsed.raw['advertised.listeners'] !== undefined
      ? { advertisedListeners: parsed.raw['advertised.listeners'] }
      : {}),
    ...(parsed.httpPort !== undefined
      ? { admin: { port: parsed.httpPort, host: parsed.httpHost, freePortIfTaken: parsed.httpPortIsDefault } }
      : {}),
    logLevel: parsed.logLevel,
    logger: log,
    // A broker thread gone is this process failing, as a broker process would: exit for a restart.
    onBrokerExit: () => process.exit(1),
  });
  const listening = threads.brokers.map((b) => `${b.host}:${b.port} (node ${b.nodeId})`).join(', ');
  const admins = threads.brokers.flatMap((b) =>
    b.admin ? [`${b.admin.host}:${b.admin.port} (node ${b.nodeId})`] : [],
  );
  const http = admins.length > 0 ? `; admin HTTP on ${admins.join(', ')}` : '';
  const consoleUrl = threads.brokers[0]?.admin?.consoleUrl;
  process.stdout.write(
    `kbroker listening on ${listening} (cluster ${threads.clusterId}, ${parsed.threads} broker threads, started in ${Math.round(performance.now() - started)} ms)\n` +
      `kbroker ${describeMode(parsed.dev, parsed.config.logDir, parsed.temporaryDataDir !== undefined)}${http}\n` +
      (consoleUrl ? `kbroker console ${consoleUrl}\n` : ''),
  );
  const signal = await untilStopSignal();
  log.info(`received ${signal}, shutting down`);
  await threads.close().catch((err) => log.error('shutdown failed', err));
  return 0;
}
