/**
 * Admin HTTP API of a multi-broker process (`kbroker start --brokers N`), so that tests in any
 * language can make a leader change happen from outside the process:
 * - `GET /api/cluster/brokers`: each broker's id, address, and whether it runs, is fenced or isolated;
 * - `GET /api/cluster/partitions/:topic`: leader, leader epoch, replicas and ISR of each partition,
 *   as the controller has them (the brokers may lag behind it);
 * - `POST /api/cluster/brokers/:id/stop|kill|start|isolate|heal`: `Cluster.stopBroker` (controlled
 *   shutdown), `killBroker` (no clean shutdown; fenced when broker.session.timeout.ms passes),
 *   `startBroker` (again from its data directory, on its port), `isolate` / `heal` (a network
 *   partition around it). State-changing requests need the `x-kbroker-console` header, as every
 *   admin request that changes something. A single-broker process answers 404.
 */
import type { FastifyInstance } from 'fastify';
import type { Broker } from '../server/broker.js';
import type { Cluster } from '../server/cluster.js';

type Reply = { code(n: number): { send(b: unknown): unknown } };

const ACTIONS = ['stop', 'kill', 'start', 'isolate', 'heal'] as const;
type Action = (typeof ACTIONS)[number];

export function clusterRoutes(
  app: FastifyInstance,
  cluster: () => Cluster | undefined,
  onStarted: (broker: Broker) => void = () => {},
): void {
  const need = (reply: Reply) => {
    const c = cluster();
    if (!c) reply.code(404).send({ error: 'not a multi-broker process (kbroker start --brokers N)' });
    return c;
  };
  const brokerView = (c: Cluster, id: number) => {
    const b = c.broker(id);
    const registration = c.controller.image.brokers.get(id);
    const endpoint = registration?.endpoints[0];
    return {
      id,
      running: b !== undefined,
      fenced: registration?.fenced ?? true,
      isolated: c.isIsolated(id),
      host: endpoint?.host ?? null,
      port: endpoint?.port ?? null,
    };
  };
  app.get('/api/cluster/brokers', async (_req, reply) => {
    const c = need(reply);
    return c && { brokers: c.nodeIds.map((id) => brokerView(c, id)) };
  });
  app.get<{ Params: { topic: string } }>('/api/cluster/partitions/:topic', async (req, reply) => {
    const c = need(reply);
    if (!c) return;
    const t = c.controller.image.topic(req.params.topic);
    if (!t) return reply.code(404).send({ error: `no topic ${req.params.topic}` });
    return {
      topic: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicas,
        isr: p.isr,
      })),
    };
  });
  app.post<{ Params: { id: string; action: string } }>(
    '/api/cluster/brokers/:id/:action',
    async (req, reply) => {
      const c = need(reply);
      if (!c) return;
      const id = Number(req.params.id);
      const action = req.params.action as Action;
      if (!ACTIONS.includes(action)) return reply.code(404).send({ error: `no action ${req.params.action}` });
      if (!c.nodeIds.includes(id)) return reply.code(404).send({ error: `no broker ${req.params.id}` });
      const running = c.broker(id) !== undefined;
      if ((action === 'start') === running) {
        return reply.code(409).send({ error: `broker ${id} is ${running ? 'running' : 'not running'}` });
      }
      if (action === 'stop') await c.stopBroker(id);
      else if (action === 'kill') await c.killBroker(id);
      else if (action === 'start') onStarted(await c.startBroker(id));
      else if (action === 'isolate') c.isolate(id);
      else c.heal(id);
      return brokerView(c, id);
    },
  );
}
