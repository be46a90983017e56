/**
 * A broker in a child process for the fuzzer and the crash loops: a crash is the process
 * exiting, the heap is measured after a full collection (run with --expose-gc), and errors the
 * broker logs (unexpected exceptions become UNKNOWN_SERVER_ERROR and a log line) are counted and
 * sampled. Configuration comes as JSON in KBROKER_CHILD (`{ dataDir, config }`); the parent
 * talks over the IPC channel: `stats` → heap, errors, connections, topics; `stop` → graceful
 * close, exit 0.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LogFields, Logger } from '../../src/common/logger.js';
import { BrokerConfig } from '../../src/config/broker-config.js';
import { Broker } from '../../src/server/broker.js';

interface ChildSpec {
  dataDir: string;
  config: Record<string, string>;
}

export interface ChildStats {
  heapUsed: number;
  rss: number;
  errors: number;
  errorSamples: string[];
  connections: number;
  topics: number;
}

const spec = JSON.parse(process.env.KBROKER_CHILD ?? '{}') as ChildSpec;
let errors = 0;
const samples = new Map<string, string>();

const log: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(msg: string, err?: unknown, _fields?: LogFields) {
    errors++;
    const text = err instanceof Error ? `${msg}: ${err.stack ?? err.message}` : msg;
    // Group by the message and the first stack frames, not by the remote address.
    const key = text
      .replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR')
      .split('\n')
      .slice(0, 3)
      .join('\n');
    if (samples.size < 50 && !samples.has(key)) samples.set(key, text.split('\n').slice(0, 8).join('\n'));
  },
};

process.on('uncaughtException', (err) => {
  process.stderr.write(`UNCAUGHT: ${err.stack ?? err}\n`);
  process.exit(70);
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`UNHANDLED REJECTION: ${(err as Error)?.stack ?? err}\n`);
  process.exit(71);
});

const broker = await Broker.start(
  new BrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': spec.dataDir, ...spec.config }),
  { logger: log },
);

// Event-loop delay since the last probe: tells a broker that blocked its loop (CPU spent) from
// one the machine starved (little CPU spent) when the fuzzer sees every connection hang at once.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

process.on('message', async (m: { type: string }) => {
  if (m.type === 'probe') {
    const cpu = process.cpuUsage();
    process.send!({
      type: 'probe',
      probe: { cpuMs: (cpu.user + cpu.system) / 1000, loopDelayMaxMs: loopDelay.max / 1e6 },
    });
    loopDelay.reset();
  } else if (m.type === 'stats') {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      gc();
    }
    const stats: ChildStats = {
      heapUsed: process.memoryUsage().heapUsed,
      rss: process.memoryUsage().rss,
      errors,
      errorSamples: [...samples.values()],
      connections: broker.metrics.connections,
      topics: broker.metadata.topics().length,
    };
    process.send!({ type: 'stats', stats });
  } else if (m.type === 'stop') {
    await broker.close();
    process.exit(0);
  }
});
// The parent gone (a test runner killed, a fuzz run interrupted): no orphan broker left behind.
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'listening', port: broker.port });
