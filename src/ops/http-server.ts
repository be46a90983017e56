/**
 * The admin HTTP listener (fastify), on its own port, off unless asked for (`--http-port`,
 * `startBroker({ httpPort })`). Read-only:
 *
 *   GET /health               200 while the process runs (liveness)
 *   GET /ready                200 once the Kafka listener accepts connections and storage has been
 *                             recovered; 503 while starting, recovering or shutting down
 *   GET /metrics              Prometheus text format (see ops/prometheus.ts)
 *   GET /api/cluster          cluster id, controller, brokers
 *   GET /api/topics           every topic with its partitions and offsets
 *   GET /api/topics/:topic    one topic (404 when unknown)
 *   GET /api/groups           groups with members and lag (503 while the broker has no group
 *                             coordinator offering a view, see ops/groups.ts)
 *   GET /api/groups/:group    one group (404 when unknown)
 *
 * It is started before the broker so that /health answers and /ready says "starting" during log
 * recovery; `attach()` hands it the broker once `Broker.start()` has recovered and listens.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Broker } from '../server/broker.js';
import type { Logger } from '../server/logger.js';
import { groupsWithLag } from './groups.js';
import { PROMETHEUS_CONTENT_TYPE, scrape } from './prometheus.js';

export interface AdminServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Defaults to 0.0.0.0 (all interfaces), as the Kafka listener. */
  host?: string;
  logger?: Logger;
  /** Include Node process metrics in /metrics (default true). */
  processMetrics?: boolean;
}

export type Readiness = 'starting' | 'ready' | 'stopping';

export function topicView(broker: Broker, name: string) {
  const t = broker.replicaManager.topic(name);
  if (!t) return undefined;
  return {
    name: t.name,
    topicId: t.topicId,
    isInternal: t.isInternal,
    configs: t.configs,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicas,
      isr: p.isr,
      logStartOffset: p.logStartOffset,
      highWatermark: p.highWatermark,
      logEndOffset: p.logEndOffset,
      sizeBytes: p.log.size,
      segments: p.log.numberOfSegments,
    })),
  };
}

export function clusterView(broker: Broker) {
  const { host, port } = broker.advertised;
  return {
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    brokers: [{ nodeId: broker.nodeId, host, port, rack: null }],
    topics: broker.replicaManager.topics().length,
    partitions: broker.replicaManager.topics().reduce((n, t) => n + t.partitions.length, 0),
  };
}

export class AdminServer {
  private broker: Broker | undefined;
  private stopping = false;

  private constructor(
    private readonly app: FastifyInstance,
    readonly port: number,
    readonly host: string,
  ) {}

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const app = Fastify({ logger: false });
    const host = options.host ?? '0.0.0.0';
    let server: AdminServer | undefined;
    const current = () => server?.broker;
    routes(app, () => server?.readiness ?? 'starting', current, options.processMetrics ?? true);
    await app.listen({ port: options.port, host });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : options.port;
    server = new AdminServer(app, port, host);
    options.logger?.info(`admin HTTP listener bound to ${host}:${port}`, { listener: 'http', host, port });
    return server;
  }

  get readiness(): Readiness {
    if (this.stopping) return 'stopping';
    if (!this.broker) return 'starting';
    return this.broker.listening ? 'ready' : 'stopping';
  }

  /** Serves this broker from now on; /ready turns green while it is listening. */
  attach(broker: Broker): void {
    this.broker = broker;
  }

  /** /ready reports "stopping" from now on (call before closing the broker). */
  markStopping(): void {
    this.stopping = true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.app.close();
  }
}

function routes(
  app: FastifyInstance,
  readiness: () => Readiness,
  broker: () => Broker | undefined,
  processMetrics: boolean,
): void {
  app.get('/health', async () => ({ status: 'UP' }));

  app.get('/ready', async (_req, reply) => {
    const state = readiness();
    return reply.code(state === 'ready' ? 200 : 503).send({ status: state });
  });

  // Everything below needs the broker: 503 until it has started.
  const withBroker =
    <T>(fn: (b: Broker, params: Record<string, string>) => T | undefined) =>
    async (req: { params: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
      const b = broker();
      if (!b) return reply.code(503).send({ error: 'broker is starting' });
      const out = fn(b, req.params as Record<string, string>);
      if (out === undefined) return reply.code(404).send({ error: 'not found' });
      return out;
    };

  app.get('/metrics', async (_req, reply) => {
    const b = broker();
    if (!b) return reply.code(503).send('# broker is starting\n');
    const text = await scrape(b, { processMetrics });
    return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(text);
  });

  app.get(
    '/api/cluster',
    withBroker((b) => clusterView(b)),
  );
  app.get(
    '/api/topics',
    withBroker((b) => ({
      topics: b.replicaManager
        .topics()
        .map((t) => topicView(b, t.name)!)
        .sort((x, y) => x.name.localeCompare(y.name)),
    })),
  );
  app.get(
    '/api/topics/:topic',
    withBroker((b, p) => topicView(b, p.topic!)),
  );

  app.get('/api/groups', async (_req, reply) => {
    const b = broker();
    if (!b) return reply.code(503).send({ error: 'broker is starting' });
    return { groups: groupsWithLag(b) };
  });
  app.get<{ Params: { group: string } }>('/api/groups/:group', async (req, reply) => {
    const b = broker();
    if (!b) return reply.code(503).send({ error: 'broker is starting' });
    const g = groupsWithLag(b).find((x) => x.groupId === req.params.group);
    return g ?? reply.code(404).send({ error: 'not found' });
  });
}
