/**
 * The broker: configuration, storage, partitions, the handler registry and the TCP listener.
 * `Broker.start()` recovers storage, then listens; `close()` stops accepting, lets in-flight
 * requests finish, flushes and closes every log (writing the clean-shutdown marker).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { BrokerConfig } from '../config/broker-config.js';
import { allHandlers } from '../handlers/index.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import { defaultLogConfig, logConfigFromProps } from '../storage/log-config.js';
import { LogManager } from '../storage/log-manager.js';
import { Connection } from './connection.js';
import { HandlerRegistry } from './handler.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';

export interface BrokerOptions {
  logger?: Logger;
}

export class Broker {
  readonly handlers = new HandlerRegistry(allHandlers);
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly logManager: LogManager;
  readonly replicaManager: ReplicaManager;
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private retentionTimer: NodeJS.Timeout | undefined;
  private boundPort = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: BrokerConfig,
    options: BrokerOptions,
  ) {
    this.log = options.logger ?? createLogger();
    this.logManager = LogManager.open({
      logDirs: config.logDir,
      nodeId: config.nodeId,
      clusterId: config.get('cluster.id') ?? undefined,
      defaultConfig: logConfigFromProps(defaultLogConfig, config.topicConfig()),
    });
    this.replicaManager = new ReplicaManager(this);
    this.server = createServer((socket) => this.accept(socket));
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.logManager.clusterId;
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  get port(): number {
    return this.boundPort;
  }

  /** Host and port given to clients in Metadata. */
  get advertised(): { host: string; port: number } {
    const adv = this.config.advertisedListeners[0]!;
    const host = adv.host === '' || adv.host === '0.0.0.0' || adv.host === '::' ? '127.0.0.1' : adv.host;
    const explicit = this.config.get('advertised.listeners') != null;
    return { host, port: explicit && adv.port !== 0 ? adv.port : this.boundPort };
  }

  static async start(config: BrokerConfig, options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(config, options);
    await broker.listen();
    return broker;
  }

  private async listen(): Promise<void> {
    const l = this.config.listeners[0]!;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: l.port, host: l.host === '' ? undefined : l.host }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : l.port;
    const interval = this.config.int('log.retention.check.interval.ms');
    this.retentionTimer = setInterval(() => this.replicaManager.applyRetention(), interval);
    this.retentionTimer.unref();
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, this);
    this.connections.add(conn);
    this.metrics.connections = this.connections.size;
  }

  /** Called by a connection when it closes. */
  connectionClosed(conn: Connection): void {
    this.connections.delete(conn);
    this.metrics.connections = this.connections.size;
  }

  /** Graceful: stop accepting, finish in-flight requests (bounded), flush and close storage. */
  close(timeoutMs = 5000): Promise<void> {
    this.closing ??= this.doClose(timeoutMs);
    return this.closing;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.replicaManager.shutdown();
    const inFlight = Promise.all([...this.connections].map((c) => c.idle));
    await Promise.race([inFlight, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    for (const c of [...this.connections]) c.close();
    await serverClosed;
    this.logManager.close();
  }
}
