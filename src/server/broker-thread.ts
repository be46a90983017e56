/**
 * The entry point of one broker thread of `kbroker start --threads N` (thread-cluster.ts spawns
 * it): a SharedLogBroker whose cluster metadata is the main thread's, over the MessagePort it was
 * given. With `admin`, it serves its own admin HTTP listener (health, readiness, metrics, API and
 * console of this broker) on `admin.port` + N − 1, up before its logs are recovered, as a broker
 * process does. It tells the main thread `ready` (where it listens) or `failed`, and on `stop` shuts
 * down in a controlled way (fenced first, so its leaderships move) and ends the thread.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createLogger, type LogLevel } from '../common/logger.js';
import type { RawConfig } from '../config/broker-config.js';
import { ThreadClusterMetadata } from '../metadata/threads/client.js';
import type { AdminServer } from '../ops/http-server.js';
import { SharedLogBroker } from './shared-log-broker.js';

export interface BrokerThreadData {
  readonly raw: RawConfig;
  readonly logLevel: LogLevel;
  readonly metadataPort: MessagePort;
  /** The first broker's admin HTTP port (0: a free one each); `freePortIfTaken`: --dev's default. */
  readonly admin?: { readonly port: number; readonly host: string; readonly freePortIfTaken: boolean };
  /**
   * Loaded, it waits for `go` from the main thread before it starts the broker: the threads after the
   * first load their code while the first one starts (and creates the cluster id), then start together.
   */
  readonly waitForGo?: boolean;
}

export type BrokerThreadMessage =
  | {
      type: 'ready';
      nodeId: number;
      host: string;
      port: number;
      clusterId: string;
      admin?: { host: string; port: number; consoleUrl: string };
    }
  | { type: 'failed'; error: string };

const data = workerData as BrokerThreadData;
const port = parentPort!;
const post = (m: BrokerThreadMessage) => port.postMessage(m);
const nodeId = Number(data.raw['node.id']);
const logger = createLogger(data.logLevel, undefined, { node: nodeId });

/** This broker's admin listener: the first broker's port plus N − 1 (or a free one, as asked). */
async function startAdmin(): Promise<AdminServer | undefined> {
  const a = data.admin;
  if (!a) return undefined;
  const { AdminServer } = await import('../ops/http-server.js');
  const wanted = a.port === 0 ? 0 : a.port + nodeId - 1;
  // The process_* figures are the whole process's: broker 1 alone carries them, so that a sum over
  // the brokers' series counts the process once (each has its own nodejs_* and thread CPU).
  const runtimeMetrics = nodeId === 1 ? 'all' : 'thread';
  const start = (p: number) => AdminServer.start({ port: p, host: a.host, logger, runtimeMetrics });
  try {
    return await start(wanted);
  } catch (err) {
    if (!a.freePortIfTaken || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    logger.warn(`port ${wanted} is in use: the admin HTTP listener takes a free port`);
    return start(0);
  }
}

/** Resolves on the main thread's `go`. */
function go(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== 'go') return;
      port.off('message', onMessage);
      resolve();
    };
    port.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  const admin = await startAdmin();
  if (data.waitForGo) await go();
  let shared: SharedLogBroker;
  try {
    shared = await SharedLogBroker.start(data.raw, {
      metadata: (sessionTimeoutMs) => new ThreadClusterMetadata(data.metadataPort, sessionTimeoutMs),
      logger,
      onFatal: (err) => {
        logger.error(`broker thread stopping: ${err.message}`);
        process.exit(1);
      },
    });
  } catch (err) {
    await admin?.close();
    throw err;
  }
  const { broker } = shared;
  admin?.attach(broker);
  post({
    type: 'ready',
    nodeId: broker.nodeId,
    host: broker.advertised.host,
    port: broker.advertised.port,
    clusterId: broker.clusterId,
    ...(admin ? { admin: { host: admin.host, port: admin.port, consoleUrl: admin.consoleUrl } } : {}),
  });
  port.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stop') return;
    admin?.markStopping();
    shared
      .stop()
      .then(() => admin?.close())
      .then(
        () => process.exit(0),
        (err) => {
          logger.error('broker thread: shutdown failed', err);
          process.exit(1);
        },
      );
  });
}

main().catch((err) => {
  post({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
