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
import type { Time } from './common/time.js';
import { BrokerConfig, type RawConfig, validateTopicConfigs } from './config/broker-config.js';
import { DEV_MODE_CONFIG, makeTempDataDir } from './dev-mode.js';
import type { TopicImage } from './metadata/image.js';
import type { AdminServer } from './ops/http-server.js';
import { Broker } from './server/broker.js';
import type { FaultInjector } from './server/faults/fault-injector.js';

export { createLogger, type Logger, type LogLevel } from './common/logger.js';
export { MockTime, systemTime, type Time, type Timer } from './common/time.js';
export { BrokerConfig, ConfigError } from './config/broker-config.js';
export { brokerConfigDefs, topicConfigDefs } from './config/definitions.js';
export { DEV_MODE_CONFIG } from './dev-mode.js';
export type { PartitionState, TopicImage } from './metadata/image.js';
export type { GroupOverview, GroupOverviewProvider } from './ops/groups.js';
export { Broker, type ResetHook } from './server/broker.js';
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
    broker = await Broker.start(config, { logger, ...(options.time ? { time: options.time } : {}) });
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
