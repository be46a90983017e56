/**
 * The entry point of one broker thread of `kbroker start --threads N` (thread-cluster.ts spawns
 * it): a SharedLogBroker whose cluster metadata is the main thread's, over the MessagePort it was
 * given. It tells the main thread `ready` (where it listens) or `failed`, and on `stop` shuts down
 * in a controlled way (fenced first, so its leaderships move) and ends the thread.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createLogger, type LogLevel } from '../common/logger.js';
import type { RawConfig } from '../config/broker-config.js';
import { ThreadClusterMetadata } from '../metadata/threads/client.js';
import { SharedLogBroker } from './shared-log-broker.js';

export interface BrokerThreadData {
  readonly raw: RawConfig;
  readonly logLevel: LogLevel;
  readonly metadataPort: MessagePort;
}

export type BrokerThreadMessage =
  | { type: 'ready'; nodeId: number; host: string; port: number; clusterId: string }
  | { type: 'failed'; error: string }
  | { type: 'stopped' };

const data = workerData as BrokerThreadData;
const port = parentPort!;
const post = (m: BrokerThreadMessage) => port.postMessage(m);
const logger = createLogger(data.logLevel, undefined, { node: Number(data.raw['node.id']) });

SharedLogBroker.start(data.raw, {
  metadata: () => new ThreadClusterMetadata(data.metadataPort),
  logger,
  onFatal: (err) => {
    logger.error(`broker thread stopping: ${err.message}`);
    process.exit(1);
  },
}).then(
  (shared) => {
    const { broker } = shared;
    post({
      type: 'ready',
      nodeId: broker.nodeId,
      host: broker.advertised.host,
      port: broker.advertised.port,
      clusterId: broker.clusterId,
    });
    port.on('message', (m: { type?: string }) => {
      if (m?.type !== 'stop') return;
      shared.stop().then(
        () => {
          post({ type: 'stopped' });
          process.exit(0);
        },
        (err) => {
          logger.error('broker thread: shutdown failed', err);
          process.exit(1);
        },
      );
    });
  },
  (err) => {
    post({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  },
);
