/**
 * `kbroker start --threads N`: N brokers in one process, each on a thread of its own (node ids
 * 1..N, the configured listeners on the next ports for each broker, data in
 * `<data dir>/broker-<id>/`), so one process uses N cores the way Kafka spreads load — partitions led by different brokers, each client sending to
 * a partition's leader. The cluster metadata (log, broker registry, controller election) is held
 * by this, the main thread (src/metadata/threads/host.ts, durable in `<data dir>/metadata/`); each
 * broker thread is a SharedLogBroker over it, as a process of an etcd cluster is over etcd.
 *
 * A broker thread that dies takes its registration with it (the elected controller fences it and
 * moves its leaderships where replicas allow); the process then stops (`onBrokerExit`), as a
 * broker process would — a supervisor restarts it, and its data is recovered as after a crash.
 */
import path from 'node:path';
import { MessageChannel, type Worker } from 'node:worker_threads';
import type { Logger, LogLevel } from '../common/logger.js';
import { spawnModuleWorker } from '../common/module-worker.js';
import { BrokerConfig, type RawConfig, sharedBrokerConfig } from '../config/broker-config.js';
import { ThreadMetadataHost } from '../metadata/threads/host.js';
import type { BrokerThreadData, BrokerThreadMessage } from './broker-thread.js';

export interface ThreadClusterOptions {
  readonly threads: number;
  /** Every broker's settings; node.id, listeners, advertised.listeners and log.dirs are set per broker. */
  readonly config: RawConfig;
  readonly dataDir: string;
  /**
   * The first broker's `listeners` (Kafka's syntax, every listener: PLAINTEXT, SSL, SASL_...); broker
   * N binds the same with each port plus (N − 1) × their number, so no two share a port. Port 0:
   * each broker takes a free one. Default `PLAINTEXT://127.0.0.1:0`.
   */
  readonly listeners?: string;
  /** The first broker's `advertised.listeners`, moved the same way; undefined: where each listens. */
  readonly advertisedListeners?: string;
  /** An admin HTTP listener per broker, broker N's on `port` + N − 1 (see broker-thread.ts). */
  readonly admin?: BrokerThreadData['admin'];
  readonly logLevel?: LogLevel;
  readonly logger?: Logger;
  /** A broker thread ended without being stopped (crashed, or exited after a fatal error). */
  readonly onBrokerExit?: (nodeId: number, code: number) => void;
}

export interface ThreadBrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  /** Its admin HTTP listener, when asked for. */
  readonly admin?: { host: string; port: number; consoleUrl: string };
}

interface Running {
  readonly nodeId: number;
  readonly worker: Worker;
  readonly exited: Promise<number>;
  stopping: boolean;
  ready: boolean;
}

export class ThreadCluster {
  readonly brokers: ThreadBrokerInfo[] = [];
  clusterId = '';
  private readonly running: Running[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ThreadClusterOptions,
    readonly host: ThreadMetadataHost,
  ) {}

  static async start(options: ThreadClusterOptions): Promise<ThreadCluster> {
    const first = new BrokerConfig(options.config);
    const host = ThreadMetadataHost.open(
      path.join(options.dataDir, 'metadata'),
      first.int('metadata.log.max.record.bytes.between.snapshots'),
    );
    const cluster = new ThreadCluster(options, host);
    try {
      // The first one alone (it creates the cluster id and is elected controller), then the rest at
      // once: their registrations are changes checked against the log's end, as etcd brokers' are.
      // The rest are spawned with the first and load their code meanwhile (most of a thread's
      // start), waiting for `go` to start their brokers.
      const first = cluster.startBroker(1, false);
      const rest = Array.from({ length: options.threads - 1 }, (_, i) => cluster.startBroker(i + 2, true));
      for (const r of rest) r.catch(() => {}); // awaited below, unless the first one fails
      cluster.brokers.push(await first);
      for (const r of cluster.running.slice(1)) r.worker.postMessage({ type: 'go' });
      cluster.brokers.push(...(await Promise.all(rest)));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  private startBroker(nodeId: number, waitForGo: boolean): Promise<ThreadBrokerInfo> {
    const listeners = this.options.listeners ?? 'PLAINTEXT://127.0.0.1:0';
    const by = (nodeId - 1) * listeners.split(',').length;
    const raw: RawConfig = {
      ...sharedBrokerConfig(this.options.config),
      'node.id': String(nodeId),
      listeners: shiftPorts(listeners, by),
      'log.dirs': path.join(this.options.dataDir, `broker-${nodeId}`),
    };
    if (this.options.advertisedListeners !== undefined) {
      raw['advertised.listeners'] = shiftPorts(this.options.advertisedListeners, by);
    }
    const { port1, port2 } = new MessageChannel();
    this.host.attach(port1);
    const workerData: BrokerThreadData = {
      raw,
      logLevel: this.options.logLevel ?? 'info',
      metadataPort: port2,
      waitForGo,
      ...(this.options.admin ? { admin: this.options.admin } : {}),
    };
    const worker = spawnModuleWorker(import.meta.url, 'broker-thread', {
      name: `broker-${nodeId}`,
      workerData,
      transferList: [port2],
    });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const running: Running = { nodeId, worker, exited, stopping: false, ready: false };
    this.running.push(running);
    void exited.then((code) => {
      // Its registration and any controller leadership end with it.
      this.host.detach(port1);
      if (!running.stopping) {
        this.options.logger?.error(`broker thread ${nodeId} exited (code ${code})`);
        this.options.onBrokerExit?.(nodeId, code);
      }
    });
    return new Promise<ThreadBrokerInfo>((resolve, reject) => {
      worker.on('message', (m: BrokerThreadMessage) => {
        if (m.type === 'ready') {
          running.ready = true;
          this.clusterId = m.clusterId;
          resolve({ nodeId: m.nodeId, host: m.host, port: m.port, ...(m.admin ? { admin: m.admin } : {}) });
        } else if (m.type === 'failed') {
          running.stopping = true;
          reject(new Error(`broker thread ${nodeId} failed to start: ${m.error}`));
        }
      });
      worker.once('error', (err) => reject(err));
      void exited.then((code) =>
        reject(new Error(`broker thread ${nodeId} exited (code ${code}) before it was ready`)),
      );
    });
  }

  /**
   * Every broker thread stopped in a controlled way (fenced, closed), the last one first — one at a
   * time, so each one's leaderships move to brokers still running instead of back and forth —
   * then the metadata closed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const r of [...this.running].reverse()) {
        r.stopping = true;
        // One still starting cannot stop in order (it is not serving yet): it ends at once.
        if (r.ready) r.worker.postMessage({ type: 'stop' });
        else void r.worker.terminate();
        const timer = setTimeout(() => void r.worker.terminate(), 60_000);
        await r.exited;
        clearTimeout(timer);
      }
      this.host.close();
    })();
    return this.closing;
  }
}

/** `NAME://host:port,...` with every port but 0 (a free one) moved by `by`. */
export function shiftPorts(listeners: string, by: number): string {
  return listeners.replace(/:(\d+)(?=\s*(,|$))/g, (_, port: string) =>
    port === '0' ? ':0' : `:${Number(port) + by}`,
  );
}
