/**
 * Admin HTTP API of injected faults (server/faults/fault-injector.ts), for tests written in any
 * language: `POST /api/faults` with a fault spec (JSON; the CSRF header `x-kbroker-console` as
 * every state-changing admin request), `GET /api/faults`, `DELETE /api/faults` (all) and
 * `DELETE /api/faults/:id`.
 */
import type { FastifyInstance } from 'fastify';
import type { Broker } from '../server/broker.js';
import { type FaultSpec, FaultSpecError, type InjectedFault } from '../server/faults/fault-injector.js';

const view = (f: InjectedFault) => ({ ...f, remaining: Number.isFinite(f.remaining) ? f.remaining : null });

export function faultRoutes(app: FastifyInstance, broker: () => Broker | undefined): void {
  const need = (reply: { code(n: number): { send(b: unknown): unknown } }) => {
    const b = broker();
    if (!b) reply.code(503).send({ error: 'broker is starting' });
    return b;
  };
  app.get('/api/faults', async (_req, reply) => {
    const b = need(reply);
    return b && { faults: b.faults.list().map(view) };
  });
  app.post('/api/faults', async (req, reply) => {
    const b = need(reply);
    if (!b) return;
    try {
      return reply.code(201).send(view(b.faults.inject((req.body ?? {}) as FaultSpec)));
    } catch (err) {
      if (err instanceof FaultSpecError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });
  app.delete('/api/faults', async (_req, reply) => {
    const b = need(reply);
    return b && { cleared: b.faults.clear() };
  });
  app.delete<{ Params: { id: string } }>('/api/faults/:id', async (req, reply) => {
    const b = need(reply);
    if (!b) return;
    const n = b.faults.clear(Number(req.params.id));
    return n === 0 ? reply.code(404).send({ error: 'not found' }) : { cleared: n };
  });
}
