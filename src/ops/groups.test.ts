import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../index.js';
import { until as waitUntil } from '../test-support/until.js';
import { decodeConsumerAssignment, type GroupWithLag } from './groups.js';

/** Waits until `fn` answers something, and returns it. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  let v: T | undefined;
  await waitUntil(
    async () => {
      v = await fn();
      return v !== undefined;
    },
    timeoutMs,
    what,
    50,
  );
  return v as T;
}

describe('groups in the admin API and /metrics', () => {
  it('decodes consumer protocol assignments and refuses truncated ones', () => {
    const b = Buffer.alloc(2 + 4 + 2 + 1 + 4 + 8);
    let o = b.writeInt16BE(1, 0);
    o = b.writeInt32BE(1, o);
    o = b.writeInt16BE(1, o);
    o += b.write('t', o);
    o = b.writeInt32BE(2, o);
    o = b.writeInt32BE(0, o);
    b.writeInt32BE(3, o);
    expect(decodeConsumerAssignment(b)).toEqual([{ topic: 't', partitions: [0, 3] }]);
    expect(decodeConsumerAssignment(b.subarray(0, b.length - 2))).toEqual([]);
    expect(decodeConsumerAssignment(Buffer.alloc(0))).toEqual([]);
  });

  it('shows members, assignments, committed offsets and lag of a kafkajs consumer group', async () => {
    const k = await startBroker({ httpPort: 0 });
    const client = new Kafka({ clientId: 'lag-test', brokers: k.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer();
    const consumer = client.consumer({ groupId: 'g1', sessionTimeout: 6000, heartbeatInterval: 500 });
    try {
      await k.createTopic('t', { partitions: 1 });
      await producer.connect();
      await producer.send({
        topic: 't',
        messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })),
      });
      await consumer.connect();
      await consumer.subscribe({ topic: 't', fromBeginning: true });
      let seen = 0;
      await consumer.run({
        eachMessage: async () => {
          seen++;
        },
      });
      const groups = async () => {
        const r = await fetch(`${k.httpUrl}/api/groups`);
        expect(r.status).toBe(200);
        return ((await r.json()) as { groups: GroupWithLag[] }).groups;
      };
      const stable = await until('the group to commit offset 10', async () => {
        const g = (await groups()).find((x) => x.groupId === 'g1');
        return g && g.state === 'Stable' && g.lag[0]?.committedOffset === 10 ? g : undefined;
      });
      expect(seen).toBe(10);
      expect(stable.protocolType).toBe('consumer');
      expect(stable.members).toHaveLength(1);
      expect(stable.members[0]!.clientId).toBe('lag-test');
      expect(stable.members[0]!.assignment).toEqual([{ topic: 't', partitions: [0] }]);
      expect(stable.lag).toEqual([
        {
          topic: 't',
          partition: 0,
          committedOffset: 10,
          metadata: expect.anything(),
          highWatermark: 10,
          lag: 0,
        },
      ]);

      await consumer.disconnect();
      await producer.send({
        topic: 't',
        messages: Array.from({ length: 5 }, (_, i) => ({ value: `w${i}` })),
      });
      const one = await (await fetch(`${k.httpUrl}/api/groups/g1`)).json();
      expect(one).toMatchObject({ groupId: 'g1', state: 'Empty', members: [], totalLag: 5 });
      const metrics = await (await fetch(`${k.httpUrl}/metrics`)).text();
      expect(metrics).toContain('kafka_consumergroup_lag{consumergroup="g1",topic="t",partition="0"} 5');
      expect(metrics).toContain(
        'kafka_consumergroup_current_offset{consumergroup="g1",topic="t",partition="0"} 10',
      );
      expect(metrics).toContain('kafka_consumergroup_members{consumergroup="g1"} 0');
      expect((await fetch(`${k.httpUrl}/api/groups/nope`)).status).toBe(404);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await k.close();
    }
  });
});
