/**
 * The broker's logger: structured JSON lines (pino), one per event, with a level. Callers use the
 * small `Logger` interface so that embedders can pass their own sink (or `silent`).
 *
 * What is logged at `info`: each listener bound, each topic created or deleted, each group
 * rebalance, start and shutdown. Nothing is logged per record or per request (see ops/metrics for
 * counts); per-request detail, when useful, is `debug`.
 */
import { pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Extra structured fields of a log line (`{ topic: 'orders', partitions: 3 }`). */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, err?: unknown, fields?: LogFields): void;
}

/** Where lines go: a pino destination stream, or a function given each line (with its newline). */
export type LogSink = pino.DestinationStream | ((line: string) => void);

/**
 * A pino logger behind the `Logger` interface. Lines go to stderr by default (synchronously, so
 * nothing is lost at exit); stdout is left to the CLI's one-line summary.
 */
export function createLogger(level: LogLevel = 'info', sink?: LogSink, bindings: LogFields = {}): Logger {
  const destination: pino.DestinationStream =
    sink === undefined
      ? pino.destination({ dest: 2, sync: true })
      : typeof sink === 'function'
        ? { write: sink }
        : sink;
  const p = pino(
    {
      level,
      base: { name: 'kbroker', ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
  return wrap(p);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (msg, fields) => (fields ? p.debug(fields, msg) : p.debug(msg)),
    info: (msg, fields) => (fields ? p.info(fields, msg) : p.info(msg)),
    warn: (msg, fields) => (fields ? p.warn(fields, msg) : p.warn(msg)),
    error: (msg, err, fields) => {
      if (err === undefined) {
        if (fields) p.error(fields, msg);
        else p.error(msg);
        return;
      }
      p.error({ ...fields, err: err instanceof Error ? err : new Error(String(err)) }, msg);
    },
  };
}

/** A logger that drops everything (embedding default when no level is asked for). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
