/**
 * Driving an embedded broker's clock from a test (docs/embedding-and-ops.md, "The broker's
 * clock"): a hung transaction is aborted and its producer fenced once the mock clock passes the
 * transaction timeout, and a consumer group member that stopped heartbeating leaves after its
 * session timeout — without the test sleeping for either.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, MockTime, startBroker } from '../index.js';

let kafka: EmbeddedBroker;
const time = new MockTime(Date.now());

beforeAll(async () => {
  kafka = await startBroker({ time });
});

afterAll(async () => {
  await kafka?.close();
});

describe('startBroker({ time: new MockTime() })', () => {
  it('aborts a hung transaction when the mock clock passes its timeout', async () => {
    await kafka.createTopic('mt-txn', { partitions: 1 });
    const client = new Kafka({ brokers: kafka.brokers, clientId: 'mock-time', logLevel: logLevel.NOTHING });
    const producer = client.producer({
      transactionalId: 'mt-hung',
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'mt-txn', messages: [{ value: 'never committed' }] });
    const partition = kafka.broker.replicaManager.getPartition('mt-txn', 0)!;
    expect(partition.lastStableOffset).toBe(0); // held by the open transaction

    // 59 s of broker time: still open. Past 60 s and the next abort check: aborted.
    await time.advanceAsync(59_000, 1_000);
    expect(partition.lastStableOffset).toBe(0);
    await time.advanceAsync(15_000, 1_000);
    expect(partition.lastStableOffset).toBe(partition.highWatermark);
    expect(kafka.broker.transactionCoordinator.describeTransaction('mt-hung').transactionState).toBe(
      'CompleteAbort',
    );
    await producer.disconnect().catch(() => {});
  });

  it('expires a silent group member after its session timeout on the mock clock', async () => {
    const gc = kafka.broker.groupCoordinator;
    const joined = await gc.joinGroup({
      groupId: 'mt-group',
      memberId: '',
      groupInstanceId: null,
      requireKnownMemberId: false,
      supportSkippingAssignment: false,
      clientId: 'silent',
      clientHost: '127.0.0.1',
      rebalanceTimeoutMs: 10_000,
      sessionTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    expect(joined.error).toBe('NONE');
    await gc.syncGroup({
      groupId: 'mt-group',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: joined.memberId, assignment: Buffer.alloc(0) }],
    });
    expect(gc.describeGroup('mt-group').groupState).toBe('Stable');
    time.advance(9_999);
    expect(gc.describeGroup('mt-group').members).toHaveLength(1);
    time.advance(1);
    expect(gc.describeGroup('mt-group').members).toHaveLength(0);
    expect(gc.describeGroup('mt-group').groupState).toBe('Empty');
  });
});
