/**
 * The admin HTTP listener (fastify), on its own port, off unless asked for (`--http-port`, `--dev`,
 * `startBroker({ httpPort })`), bound to 127.0.0.1 unless told otherwise. It serves:
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
 *   /ui/                      the web console (src/console, ops/console-static.ts) and the API it
 *                             uses, changes included (ops/console-api.ts)
 *
 * Requests to /api and /ui must name a loopback host when the listener is bound to a loopback
 * address (no DNS rebinding), and every state-changing request (anything but GET/HEAD) must come
 * from the same origin: it carries the `x-kbroker-console` header (which a cross-origin page
 * cannot send without a CORS preflight this server never grants), any Origin header equals the
 * Host, and a body is `application/json`. Otherwise 403 (or 415), before anything is done.
 *
 * It is started before the broker so that /health answers and /ready says "starting" during log
 * recovery; `attach()` hands it the broker once `Broker.start()` has recovered and listens.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../common/logger.js';
import { INTERNAL_TOPICS } from '../common/topic-name.js';
import type { Broker } from '../server/broker.js';
import type { Cluster } from '../server/cluster.js';
import { clusterRoutes } from './cluster-api.js';
import { BadRequest, consoleRoutes } from './console-api.js';
import { consoleStaticRoutes } from './console-static.js';
import { faultRoutes } from './faults-api.js';
import { groupsWithLag } from './groups.js';
import { KafkaApiError } from './kafka-call.js';
import { PROMETHEUS_CONTENT_TYPE, type RuntimeMetrics, scrape } from './prometheus.js';
import { Sampler } from './sampler.js';

export interface AdminServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Defaults to 127.0.0.1: the console can change topics and groups, so it is local unless asked. */
  host?: string;
  logger?: Logger;
  /** The Node runtime metrics /metrics carries besides the broker's (default 'all'; see RuntimeMetrics). */
  runtimeMetrics?: RuntimeMetrics;
}

export type Readiness = 'starting' | 'ready' | 'stopping';

export function topicView(broker: Broker, name: string) {
  const t = broker.metadata.topic(name);
  if (!t) return undefined;
  // Leadership from the metadata image; offsets and sizes from this broker's replicas.
  const local = t.partitions.map((s) => broker.replicaManager.getPartition(t.name, s.partitionId));
  const effective = broker.replicaManager.topicConfig(t.name) ?? broker.config.topicConfig(t.configs);
  return {
    name: t.name,
    topicId: t.topicId,
    isInternal: INTERNAL_TOPICS.has(t.name),
    configs: t.configs,
    replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    sizeBytes: local.reduce((n, p) => n + (p?.log.size ?? 0), 0),
    /** Offsets below the high watermarks (records, and transaction markers, not yet deleted). */
    offsets: local.reduce((n, p) => n + (p ? p.highWatermark - p.logStartOffset : 0), 0),
    retentionMs: effective['retention.ms'] ?? null,
    cleanupPolicy: effective['cleanup.policy'] ?? null,
    partitions: t.partitions.map((s, i) => ({
      partition: s.partitionId,
      leader: s.leader,
      leaderEpoch: s.leaderEpoch,
      replicas: s.replicas,
      isr: s.isr,
      logStartOffset: local[i]?.logStartOffset ?? -1,
      highWatermark: local[i]?.highWatermark ?? -1,
      logEndOffset: local[i]?.logEndOffset ?? -1,
      sizeBytes: local[i]?.log.size ?? 0,
      segments: local[i]?.log.numberOfSegments ?? 0,
    })),
  };
}

export function clusterView(broker: Broker) {
  const md = broker.metadata;
  const topics = md.topics();
  return {
    clusterId: md.clusterId,
    controllerId: md.controllerId,
    brokers: md.brokers(broker.config.listeners[0]!.name),
    topics: topics.length,
    partitions: topics.reduce((n, t) => n + t.partitions.length, 0),
  };
}

export class AdminServer {
  private broker: Broker | undefined;
  /** The brokers of a multi-broker process (`/api/cluster/brokers`), when there are several. */
  private cluster: Cluster | undefined;
  private stopping = false;

  private constructor(
    private readonly app: FastifyInstance,
    private readonly sampler: Sampler,
    readonly port: number,
    readonly host: string,
  ) {}

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
    const host = options.host ?? '127.0.0.1';
    let server: AdminServer | undefined;
    const current = () => server?.broker;
    const sampler = new Sampler();
    guard(app, isLoopback(host), options.logger);
    routes(app, () => server?.readiness ?? 'starting', current, options.runtimeMetrics ?? 'all');
    consoleRoutes(app, current, sampler);
    faultRoutes(app, current);
    // A broker the admin listener serves, started again, is served again.
    clusterRoutes(
      app,
      () => server?.cluster,
      (b) => {
        if (server?.broker?.nodeId === b.nodeId) server.attach(b);
      },
    );
    consoleStaticRoutes(app);
    await app.listen({ port: options.port, host });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : options.port;
    server = new AdminServer(app, sampler, port, host);
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
    this.sampler.start(broker);
  }

  /** Serves the brokers of this multi-broker process at `/api/cluster/brokers` (stop, kill, start, isolate). */
  attachCluster(cluster: Cluster): void {
    this.cluster = cluster;
  }

  /** The web console's address. */
  get consoleUrl(): string {
    const h = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return `http://${h.includes(':') ? `[${h}]` : h}:${this.port}/ui/`;
  }

  /** /ready reports "stopping" from now on (call before closing the broker). */
  markStopping(): void {
    this.stopping = true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.sampler.stop();
    await this.app.close();
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Host header check (DNS rebinding) and the same-origin check of state-changing requests. */
function guard(app: FastifyInstance, loopbackOnly: boolean, logger: Logger | undefined): void {
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url;
    if (!path.startsWith('/api') && !path.startsWith('/ui')) return;
    const hostHeader = req.headers.host ?? '';
    if (loopbackOnly) {
      const hostname = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      if (!isLoopback(hostname)) {
        return reply.code(403).send({ error: `refused: Host '${hostHeader}' is not this loopback listener` });
      }
    }
    if (SAFE_METHODS.has(req.method)) return;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${hostHeader}`) {
      return reply.code(403).send({ error: `refused: cross-origin request from ${origin}` });
    }
    if (req.headers['x-kbroker-console'] === undefined) {
      return reply
        .code(403)
        .send({ error: 'refused: state-changing requests need the x-kbroker-console header (CSRF check)' });
    }
    const type = req.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
      return reply.code(415).send({ error: `refused: the body must be application/json, got ${type}` });
    }
  });
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof KafkaApiError) {
      return reply.code(err.status).send({ error: err.message, errorCode: err.errorName });
    }
    if (err instanceof BadRequest) return reply.code(err.status).send({ error: err.message });
    const e = err as { statusCode?: number; message?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    if (status === 500) logger?.error(`admin HTTP ${req.method} ${req.url} failed`, err);
    return reply
      .code(status)
      .send({ error: status === 500 ? 'internal error' : (e.message ?? 'bad request') });
  });
}

function routes(
  app: FastifyInstance,
  readiness: () => Readiness,
  broker: () => Broker | undefined,
  runtimeMetrics: RuntimeMetrics,
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
    const text = await scrape(b, { runtime: runtimeMetrics });
    return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(text);
  });

  app.get(
    '/api/cluster',
    withBroker((b) => clusterView(b)),
  );
  app.get(
    '/api/topics',
    withBroker((b) => ({
      topics: b.metadata
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
