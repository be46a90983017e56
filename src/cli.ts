/**
 * The `kbroker` command line.
 *
 *   kbroker start [--config server.properties] [--override key=value]... [--port N] [--host H]
 *                 [--data-dir D] [--log-level debug|info|warn|error]
 *
 * Settings use Kafka's names; precedence is file < environment (KAFKA_*) < --override < the
 * shorthand flags. Once the broker accepts connections it prints one line with its address.
 */
import { parseArgs } from 'node:util';
import { BrokerConfig, ConfigError, type RawConfig } from './config/broker-config.js';
import { Broker } from './server/broker.js';
import { createLogger, type LogLevel } from './server/logger.js';

const USAGE = `usage: kbroker start [--config FILE] [--override key=value]... [--port N] [--host H] [--data-dir DIR] [--log-level LEVEL]`;

export function parseStartArgs(argv: string[]): { config: BrokerConfig; logLevel: LogLevel } {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      override: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
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
  const config = BrokerConfig.load({ file: values.config, overrides, env: process.env });
  const logLevel = values['log-level'] as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new ConfigError(`--log-level must be debug, info, warn, error or silent`);
  }
  return { config, logLevel };
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
  const broker = await Broker.start(parsed.config, { logger: log });
  const { host, port } = broker.advertised;
  process.stdout.write(
    `kbroker listening on ${host}:${port} (node ${broker.nodeId}, cluster ${broker.clusterId}, data ${parsed.config.logDir}, started in ${Math.round(performance.now() - started)} ms)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`received ${signal}, shutting down`);
      broker.close().then(resolve, (err) => {
        log.error('shutdown failed', err);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
