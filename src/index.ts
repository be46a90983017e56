/**
 * kbroker embedded: a Kafka-compatible broker inside the current Node process, for tests.
 *
 *   import { startBroker } from 'kbroker';
 *   const kafka = await startBroker({ 'num.partitions': 3 });
 *   new Kafka({ brokers: kafka.brokers });
 *   await kafka.reset();   // between tests: every topic, group and transaction gone
 *   await kafka.close();   // at the end: stops, removes the temporary data directory
 *
 * Storage is the real segment log, in a fresh temporary directory (removed by `close()`) unless
 * `dataDir` is given; nothing is in memory only, so behaviour is the server's. Each call makes an
 * independent broker (own port, directory, metrics, logger): many can run in one process.
 */
import { rmSync } from 'node:fs';
import { createLogger, type Logger, type LogLevel, silentLogger } from './common/logger.js';
import { MockTime, type Time } from './common/time.js';
import { BrokerConfig, type RawConfig, validateTopicConfigs } from './config/broker-config.js';
import { DEV_MODE_CONFIG, makeTempDataDir } from './dev-mode.js';
import type { TopicImage } from './metadata/image.js';
import type { AdminServer } from './ops/http-server.js';
import { Broker } from './server/broker.js';
import { Cluster } from './server/cluster.js';
import type { FaultInjector } from './server/faults/fault-injector.js';

export { createLogger, type Logger, type LogLevel } from './common/logger.js';
export { MockTime, systemTime, type Time, type Timer } from './common/time.js';
export { BrokerConfig, ConfigError } from './config/broker-config.js';
export { brokerConfigDefs, topicConfigDefs } from './config/definitions.js';
export { DEV_MODE_CONFIG } from './dev-mode.js';
export type { PartitionState, TopicImage } from './metadata/image.js';
export type { GroupOverview, GroupOverviewProvider } from './ops/groups.js';
export { Broker, type ResetHook } from './server/broker.js';
export { Cluster, type ClusterOptions } from './server/cluster.js';
export {
  type FaultInjector,
  type FaultSpec,
  FaultSpecError,
  type InjectedFault,
} from './server/faults/fault-injector.js';
export type { Metrics } from './server/metrics.js';

/** A value of a Kafka broker config; numbers and booleans are written as Kafka would read them. */
export type ConfigValue = string | number | boolean;

export interface StartBrokerOptions {
  /** Port of the Kafka listener; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /**
   * Data directory. Default: a fresh temporary directory, removed by `close()`. A given
   * directory is kept, and a broker started on it again recovers its topics.
   */
  dataDir?: string;
  /** Dev-mode settings (see DEV_MODE_CONFIG); default true. Kafka config names given here win. */
  dev?: boolean;
  /** Log level of a pino logger on stderr; default 'silent' (ignored when `logger` is given). */
  logLevel?: LogLevel;
  /** Your own logger. */
  logger?: Logger;
  /**
   * The broker's clock and timers. Pass a `MockTime` to drive session timeouts, transaction
   * timeouts, retention and expiry from a test (`time.advance(ms)`) instead of sleeping.
   */
  time?: Time;
  /**
   * `'manual'`: the broker runs on a MockTime that only `advanceTime(ms)` moves (the same as
   * passing `time: new MockTime(Date.now())`). Default `'system'`.
   */
  clock?: 'system' | 'manual';
  /**
   * Start the admin HTTP listener (/health, /ready, /metrics, /api/…, the web console under /ui/)
   * on this port (0 = free one), bound to `host`.
   */
  httpPort?: number;
  /** Broker configs under Kafka's names, e.g. `{ 'num.partitions': 3 }`. */
  config?: Record<string, ConfigValue>;
  /** Broker configs may also be given at the top level: `startBroker({ 'num.partitions': 3 })`. */
  [kafkaConfig: `${string}.${string}`]: ConfigValue | undefined;
}

export interface CreateTopicOptions {
  /** Default: the broker's `num.partitions`. */
  partitions?: number;
  /** Topic configs under Kafka's names, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, ConfigValue>;
}

export interface EmbeddedBroker {
  /** Bootstrap servers for clients: `['127.0.0.1:PORT']`. */
  readonly brokers: string[];
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Base URL of the admin HTTP listener, when `httpPort` was given. */
  readonly httpUrl: string | undefined;
  /** The web console (`${httpUrl}/ui/`), when `httpPort` was given. */
  readonly consoleUrl: string | undefined;
  /** The broker itself, for what this facade does not cover. */
  readonly broker: Broker;
  /**
   * Faults for your tests: `faults.inject({ api: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER', count: 2 })`
   * makes the next two Produce requests fail with that error; also `delayMs` and
   * `drop: 'before' | 'after'`, filters `topic`, `partition`, `clientId`; `list()`, `clear(id?)`.
   */
  readonly faults: FaultInjector;
  /**
   * Moves the broker's manual clock (`clock: 'manual'`, or a `MockTime` passed as `time`) by `ms`
   * in steps of `stepMs` (default 1,000), letting clients' requests and answers run between steps:
   * session, transaction and retention timeouts fire when the test says. Throws on the system clock.
   */
  advanceTime(ms: number, stepMs?: number): Promise<void>;
  /** Creates a topic; throws if it exists or the name or a config is invalid. */
  createTopic(name: string, options?: CreateTopicOptions): TopicImage;
  /** Names of the topics (internal ones included). */
  topics(): string[];
  /** Drops every group, transaction and (non-internal) topic; returns the deleted topic names. */
  reset(): Promise<string[]>;
  /** The broker's metrics in Prometheus text format (what /metrics serves). */
  metrics(): Promise<string>;
  /** Stops the broker (gracefully), the admin listener, and removes a temporary data directory. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const CONVENIENCE_KEYS = new Set([
  'port',
  'host',
  'dataDir',
  'dev',
  'logLevel',
  'logger',
  'time',
  'clock',
  'httpPort',
  'config',
]);

function toRaw(values: Record<string, ConfigValue | undefined>): RawConfig {
  const out: RawConfig = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = String(v);
  return out;
}

/** Starts a broker in this process; resolves once it accepts connections. */
export async function startBroker(options: StartBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? makeTempDataDir();
  const topLevel: Record<string, ConfigValue | undefined> = {};
  for (const [k, v] of Object.entries(options)) {
    if (!CONVENIENCE_KEYS.has(k)) topLevel[k] = v as ConfigValue | undefined;
  }
  const logger =
    options.logger ??
    (options.logLevel && options.logLevel !== 'silent' ? createLogger(options.logLevel) : silentLogger);
  let admin: AdminServer | undefined;
  let broker: Broker | undefined;
  try {
    const config = new BrokerConfig({
      ...(options.dev === false ? {} : DEV_MODE_CONFIG),
      listeners: `PLAINTEXT://${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`,
      'log.dirs': dataDir,
      ...toRaw(options.config ?? {}),
      ...toRaw(topLevel),
    });
    if (options.httpPort !== undefined) {
      // Loaded only when asked for: fastify and prom-client stay off the start-up path otherwise.
      const { AdminServer } = await import('./ops/http-server.js');
      admin = await AdminServer.start({ port: options.httpPort, host, logger });
    }
    const time = options.time ?? (options.clock === 'manual' ? new MockTime(Date.now()) : undefined);
    broker = await Broker.start(config, { logger, ...(time ? { time } : {}) });
  } catch (err) {
    await admin?.close();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  admin?.attach(broker);
  const b = broker;
  const { host: advertisedHost, port } = b.advertised;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      admin?.markStopping();
      try {
        await b.close();
      } finally {
        await admin?.close();
        if (temporary) rmSync(dataDir, { recursive: true, force: true });
      }
    })();
    return closed;
  };
  const httpUrl = admin ? `http://${host.includes(':') ? `[${host}]` : host}:${admin.port}` : undefined;
  return {
    brokers: [`${advertisedHost}:${port}`],
    host: advertisedHost,
    port,
    dataDir,
    httpUrl,
    consoleUrl: httpUrl && `${httpUrl}/ui/`,
    broker: b,
    faults: b.faults,
    async advanceTime(ms, stepMs = 1000) {
      if (!(b.time instanceof MockTime))
        throw new Error("advanceTime needs startBroker({ clock: 'manual' }) or a MockTime as `time`");
      await b.time.advanceAsync(ms, stepMs);
    },
    createTopic(name, topicOptions = {}) {
      const configs = toRaw(topicOptions.configs ?? {});
      validateTopicConfigs(configs);
      return b.controller.createTopic(
        name,
        topicOptions.partitions ?? b.config.int('num.partitions'),
        configs,
      );
    },
    topics: () => b.metadata.topics().map((t) => t.name),
    reset: () => b.reset(),
    async metrics() {
      const { scrape } = await import('./ops/prometheus.js');
      return scrape(b);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export interface StartClusterOptions {
  /** How many brokers (node ids 1..N). */
  brokers: number;
  /** Port of broker 1; broker i listens on port + i - 1. Default 0: each an ephemeral port. */
  port?: number;
  /** Host the listeners bind to. Default `127.0.0.1`. */
  host?: string;
  /** Holds `broker-<id>/` per broker and the controller's `metadata/`; default a temporary one, removed on close. */
  dataDir?: string;
  /** Dev-mode broker defaults (as startBroker). Default true. */
  dev?: boolean;
  logLevel?: LogLevel;
  logger?: Logger;
  /** The clock of every broker and of the controller's session expiry. */
  time?: Time;
  /** Broker configs every broker gets, under Kafka's names. */
  config?: Record<string, ConfigValue>;
  /** Configs of one broker on top of `config`, e.g. `(id) => ({ 'broker.rack': \`rack-${id}\` })`. */
  brokerConfig?: (nodeId: number) => Record<string, ConfigValue>;
}

export interface CreateClusterTopicOptions extends CreateTopicOptions {
  /** Default: the brokers' `default.replication.factor`, at most the live brokers. */
  replicationFactor?: number;
}

export interface EmbeddedCluster {
  /** Bootstrap servers of the running brokers. */
  readonly brokers: string[];
  readonly dataDir: string;
  /** The cluster itself: its controller and brokers. */
  readonly cluster: Cluster;
  /** The running broker `id` (undefined when stopped or killed). */
  broker(id: number): Broker | undefined;
  /** Creates a topic over the live brokers; throws with Kafka's message when refused. */
  createTopic(name: string, options?: CreateClusterTopicOptions): TopicImage;
  topics(): string[];
  /** Controlled shutdown of one broker: its leaderships move first. */
  stopBroker(id: number): Promise<void>;
  /** Kills one broker without a clean shutdown; fenced when broker.session.timeout.ms passes. */
  killBroker(id: number): Promise<void>;
  /** Starts a stopped or killed broker again from its data directory, on its port. */
  startBroker(id: number): Promise<Broker>;
  /**
   * Cuts broker `id` off from the other brokers and the controller (clients still reach it); the
   * controller fences it when broker.session.timeout.ms passes. See `Cluster.isolate`.
   */
  isolate(id: number): void;
  /** Ends `isolate(id)`: it catches up, follows the current leaders and rejoins the ISRs. */
  heal(id: number): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts N brokers in this process sharing one controller and metadata log: topics are replicated
 * over them, clients follow the leaders Metadata gives, and brokers can be stopped, killed and
 * started again to see leadership move (Kafka's controlled shutdown, session expiry, unfencing).
 */
export async function startCluster(options: StartClusterOptions): Promise<EmbeddedCluster> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? makeTempDataDir('kbroker-cluster-');
  const logger =
    options.logger ??
    (options.logLevel && options.logLevel !== 'silent' ? createLogger(options.logLevel) : silentLogger);
  let cluster: Cluster;
  try {
    cluster = await Cluster.start({
      brokers: options.brokers,
      dataDir,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      config: {
        ...(options.dev === false ? {} : DEV_MODE_CONFIG),
        // The coordinators' topics replicated (up to 3 copies) so that they survive a broker.
        'offsets.topic.replication.factor': String(Math.min(3, options.brokers)),
        'transaction.state.log.replication.factor': String(Math.min(3, options.brokers)),
        ...toRaw(options.config ?? {}),
      },
      ...(options.brokerConfig ? { brokerConfig: (id: number) => toRaw(options.brokerConfig!(id)) } : {}),
      logger,
      ...(options.time ? { time: options.time } : {}),
    });
  } catch (err) {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const c = cluster;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      try {
        await c.close();
      } finally {
        if (temporary) rmSync(dataDir, { recursive: true, force: true });
      }
    })();
    return closed;
  };
  return {
    get brokers() {
      return c.bootstrap;
    },
    dataDir,
    cluster: c,
    broker: (id) => c.broker(id),
    createTopic(name, topicOptions = {}) {
      const configs = toRaw(topicOptions.configs ?? {});
      const [result] = c.controller.createTopics(
        [
          {
            name,
            numPartitions: topicOptions.partitions ?? -1,
            replicationFactor: topicOptions.replicationFactor ?? -1,
            assignments: [],
            configs: Object.entries(configs).map(([k, value]) => ({ name: k, value })),
          },
        ],
        false,
      );
      if (result!.errorCode !== 0) throw new Error(result!.errorMessage ?? `creating ${name} failed`);
      return c.controller.image.topic(name)!;
    },
    topics: () =>
      c.controller.image
        .topics()
        .map((t) => t.name)
        .sort(),
    stopBroker: (id) => c.stopBroker(id),
    killBroker: (id) => c.killBroker(id),
    startBroker: (id) => c.startBroker(id),
    isolate: (id) => c.isolate(id),
    heal: (id) => c.heal(id),
    close,
    [Symbol.asyncDispose]: close,
  };
}
