/**
 * The examples of docs/embedding-and-ops.md, "Testing under faults", run as tests (kafkajs): a
 * producer retrying through injected NOT_LEADER_OR_FOLLOWER, a consumer surviving a rebalance
 * storm, and a transaction timeout that takes milliseconds on the manual clock.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startBroker } from '../index.js';

const started: EmbeddedBroker[] = [];
afterEach(async () => {
  for (const k of started.splice(0)) await k.close();
});

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('docs: testing under faults', () => {
  it('a producer retries through injected NOT_LEADER_OR_FOLLOWER and writes its record once', async () => {
    const kafka = await startBroker();
    started.push(kafka);
    kafka.createTopic('orders', { partitions: 1 });
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer({ idempotent: true, retry: { initialRetryTime: 50, retries: 5 } });
    await producer.connect();

    kafka.faults.inject({ api: 'Produce', topic: 'orders', error: 'NOT_LEADER_OR_FOLLOWER', count: 2 });
    const [ack] = await producer.send({ topic: 'orders', messages: [{ value: 'v' }] });

    expect(ack!.baseOffset).toBe('0');
    expect(kafka.faults.list()).toEqual([]); // both faults were hit: the producer retried twice
    expect(kafka.broker.replicaManager.getPartition('orders', 0)!.logEndOffset).toBe(1); // written once
    await producer.disconnect();
  });

  it('a kafkajs consumer survives a rebalance storm and reads every record', async () => {
    const kafka = await startBroker();
    started.push(kafka);
    kafka.createTopic('storm', { partitions: 6 });
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const consumerOpts = { groupId: 'storm-group', sessionTimeout: 6000, heartbeatInterval: 100 };
    const seenBy = new Map<string, Set<string>>();
    const startConsumer = async (name: string) => {
      const seen = new Set<string>();
      seenBy.set(name, seen);
      const consumer = client.consumer(consumerOpts);
      await consumer.connect();
      await consumer.subscribe({ topics: ['storm'], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.add(message.value!.toString());
        },
      });
      return consumer;
    };
    const main = await startConsumer('main');
    const producer = client.producer();
    await producer.connect();

    // The storm: ten heartbeats answered REBALANCE_IN_PROGRESS, and five members that join the
    // group and leave it again while records keep coming.
    kafka.faults.inject({ api: 'Heartbeat', error: 'REBALANCE_IN_PROGRESS', count: 10 });
    const sent: string[] = [];
    for (let round = 0; round < 5; round++) {
      const extra = await startConsumer(`extra-${round}`);
      const values = Array.from({ length: 20 }, (_, i) => `storm-${round}-${i}`);
      await producer.send({ topic: 'storm', messages: values.map((value) => ({ value })) });
      sent.push(...values);
      await extra.disconnect();
    }
    // Every record was read by some member (at least once), and the main consumer is still in the
    // group, alone, reading what comes after the storm.
    const seen = () => new Set([...seenBy.values()].flatMap((s) => [...s]));
    await until('every storm record', () => sent.every((v) => seen().has(v)));
    const after = Array.from({ length: 20 }, (_, i) => `after-${i}`);
    await producer.send({ topic: 'storm', messages: after.map((value) => ({ value })) });
    await until('the records after the storm, read by the main consumer', () =>
      after.every((v) => seenBy.get('main')!.has(v)),
    );
    expect(kafka.faults.list()).toEqual([]);
    await producer.disconnect();
    await main.disconnect();
  }, 90_000);

  it("a transaction timeout test that takes milliseconds: startBroker({ clock: 'manual' })", async () => {
    const t0 = Date.now();
    const kafka = await startBroker({ clock: 'manual' });
    started.push(kafka);
    kafka.createTopic('payments', { partitions: 1 });
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer({
      transactionalId: 'payer',
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'payments', messages: [{ value: 'never committed' }] });

    await kafka.advanceTime(75_000); // a minute and more of broker time, in steps of 1 s

    expect(kafka.broker.transactionCoordinator.describeTransaction('payer').transactionState).toBe(
      'CompleteAbort',
    );
    // The producer was fenced: committing now fails.
    await expect(txn.commit()).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(10_000); // 75 s of transaction timeout, no waiting
    await producer.disconnect().catch(() => {});
  });

  it('advanceTime refuses the system clock', async () => {
    const kafka = await startBroker();
    started.push(kafka);
    await expect(kafka.advanceTime(1000)).rejects.toThrow(/clock: 'manual'/);
  });
});
