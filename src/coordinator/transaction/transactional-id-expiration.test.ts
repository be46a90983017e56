/**
 * `transactional.id.expiration.ms` (Kafka's TransactionStateManager.removeExpiredTransactionalIds,
 * every `transaction.remove.expired.transaction.cleanup.interval.ms`): an id whose transaction is
 * complete (or that never began one) and whose last update is that old is tombstoned in
 * `__transaction_state` and forgotten; ListTransactions stops reporting it, also after a restart,
 * and InitProducerId then starts it afresh. kafkajs transactional producers, time from MockTime.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MockTime } from '../../common/time.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { startTestBroker, type TestBroker } from '../../test-support/broker.js';
import { TestClient } from '../../test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded response bodies are checked field by field
type Any = any;

const CONFIG = {
  'transaction.state.log.num.partitions': '3',
  'transactional.id.expiration.ms': '60000',
  'transaction.remove.expired.transaction.cleanup.interval.ms': '1000',
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('transactional id expiration', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(dataDir: string, time: MockTime) {
    const tb = await startTestBroker(CONFIG, dataDir, { time });
    const c = await TestClient.connect(tb.port);
    const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'test', logLevel: logLevel.NOTHING });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      c.close();
      await tb.close();
    };
    cleanups.push(close);
    return { tb: tb as TestBroker, c, kafka, close };
  }

  async function listed(c: TestClient): Promise<Record<string, string>> {
    const r: Any = await c.request(66, 1, { stateFilters: [], producerIdFilters: [], durationFilter: -1 });
    expect(r.errorCode).toBe(ErrorCode.NONE);
    return Object.fromEntries(
      r.transactionStates.map((t: Any) => [t.transactionalId as string, t.transactionState as string]),
    );
  }

  async function commitOne(kafka: Kafka, transactionalId: string): Promise<void> {
    const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    const txn = await p.transaction();
    await txn.send({ topic: 'txn-out', messages: [{ value: transactionalId }] });
    await txn.commit();
    await p.disconnect();
  }

  it('forgets ids idle past the expiration, keeps busy ones, also after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kbroker-txnid-expiry-'));
    dirs.push(dataDir);
    const time = new MockTime(Date.now());
    let { tb, c, kafka, close } = await start(dataDir, time);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'txn-out', numPartitions: 1 }] });
    await admin.disconnect();

    await commitOne(kafka, 'tx-idle');
    const oldProducerId = tb.broker.transactionCoordinator.transaction('tx-idle')!.producerId;
    // A transaction that begins now and commits 50 s later: its last update counts, not its start.
    const long = kafka.producer({ transactionalId: 'tx-long', idempotent: true, maxInFlightRequests: 1 });
    await long.connect();
    const longTxn = await long.transaction();
    await longTxn.send({ topic: 'txn-out', messages: [{ value: 'long' }] });
    await time.advanceAsync(30_000, 1000);
    await commitOne(kafka, 'tx-busy');
    await time.advanceAsync(20_000, 1000);
    expect(await listed(c)).toEqual({
      'tx-idle': 'CompleteCommit',
      'tx-busy': 'CompleteCommit',
      'tx-long': 'Ongoing',
    });
    await longTxn.commit();
    await long.disconnect();

    // 60 s after its last update, tx-idle goes; tx-busy was updated 30 s later, tx-long 50 s later.
    await time.advanceAsync(10_000, 1000);
    expect(await listed(c)).toEqual({ 'tx-busy': 'CompleteCommit', 'tx-long': 'CompleteCommit' });
    const described: Any = await c.request(65, 0, { transactionalIds: ['tx-idle'] });
    expect(described.transactionStates[0].errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);

    // The tombstone is in __transaction_state: a restart does not bring it back.
    await close();
    ({ tb, c, kafka, close } = await start(dataDir, time));
    expect(await listed(c)).toEqual({ 'tx-busy': 'CompleteCommit', 'tx-long': 'CompleteCommit' });

    // The id starts afresh: a new producer id.
    await commitOne(kafka, 'tx-idle');
    expect(tb.broker.transactionCoordinator.transaction('tx-idle')!.producerId).not.toBe(oldProducerId);
    await time.advanceAsync(35_000, 1000);
    expect(await listed(c)).toEqual({ 'tx-idle': 'CompleteCommit', 'tx-long': 'CompleteCommit' });
    await time.advanceAsync(20_000, 1000);
    expect(await listed(c)).toEqual({ 'tx-idle': 'CompleteCommit' });
  });
});
