/**
 * Transactions across broker restarts: `kill -9` with a transaction open — after restart the
 * coordinator (state reloaded from `__transaction_state`) aborts it on its timeout, the LSO
 * moves on and read_committed readers make progress; a transaction whose PrepareCommit was
 * written but whose markers were not is completed at startup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { type DecodedRecordBatch, decodeRecordBatches } from '../../protocol/records.js';
import { startTestBroker } from '../../test-support/broker.js';
import { TestClient } from '../../test-support/client.js';
import { spawnBroker } from '../../test-support/process.js';
import { until as waitUntil } from '../../test-support/until.js';
import { TransactionState, transactionLogRecord } from './transaction-log.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbroker-txn-'));
  dirs.push(d);
  return d;
}

interface ReadCommitted {
  lastStableOffset: number;
  highWatermark: number;
  aborted: { producerId: number; firstOffset: number }[];
  values: string[];
}

/** One read_committed Fetch from offset 0, with aborted records dropped as a consumer does. */
async function readCommitted(port: number, topic: string): Promise<ReadCommitted> {
  const c = await TestClient.connect(port);
  try {
    // biome-ignore lint/suspicious/noExplicitAny: decoded response body, checked field by field
    const r: any = await c.request(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = r.responses[0].partitions[0];
    expect(p.errorCode).toBe(ErrorCode.NONE);
    const aborted: { producerId: number; firstOffset: number }[] = p.abortedTransactions ?? [];
    const batches: DecodedRecordBatch[] = decodeRecordBatches(p.records ?? Buffer.alloc(0));
    // As a consumer does: an aborted transaction starts at its first offset and ends at its ABORT marker.
    const pending = [...aborted].sort((x, y) => x.firstOffset - y.firstOffset);
    const inAborted = new Set<number>();
    const values: string[] = [];
    for (const b of batches) {
      while (pending.length > 0 && pending[0]!.firstOffset <= b.lastOffset)
        inAborted.add(pending.shift()!.producerId);
      if (b.isControl) {
        if (b.controlRecord?.typeName === 'ABORT') inAborted.delete(b.producerId);
        continue;
      }
      if (b.isTransactional && inAborted.has(b.producerId)) continue;
      for (const rec of b.records) values.push(rec.value!.toString());
    }
    return { lastStableOffset: p.lastStableOffset, highWatermark: p.highWatermark, aborted, values };
  } finally {
    c.close();
  }
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  let v: T | undefined;
  await waitUntil(
    async () => {
      v = await f();
      return ok(v);
    },
    ms,
    () => `${what}: ${JSON.stringify(v)}`,
    100,
  );
  return v as T;
}

describe('transactions across restarts', () => {
  it('kill -9 with an open transaction: aborted after restart, LSO not stuck', async () => {
    const dir = tmp();
    const args = [
      'start',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dir,
      '--override',
      'transaction.state.log.num.partitions=3',
      '--override',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=200',
    ];
    const first = await spawnBroker(args);
    const topic = 'crash-txn';
    const kafka = new Kafka({ brokers: [`127.0.0.1:${first.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({
      transactionalId: 'crash-tx',
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 3000,
    });
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({ topic, messages: [{ value: 'committed-1' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic, messages: [{ value: 'open-1' }, { value: 'open-2' }] });
    const before = await readCommitted(first.port, topic);
    expect(before).toMatchObject({ lastStableOffset: 2, highWatermark: 4, values: ['committed-1'] });

    first.child.kill('SIGKILL');
    await first.exited;
    await producer.disconnect().catch(() => {});

    const second = await spawnBroker(args);
    try {
      const after = await until(
        'the open transaction to be aborted',
        () => readCommitted(second.port, topic),
        (r) => r.lastStableOffset === r.highWatermark && r.highWatermark === 5,
      );
      expect(after.values).toEqual(['committed-1']);
      expect(after.aborted.map((a) => a.firstOffset)).toEqual([2]);

      // The transactional id lives on: a new producer commits, a read_committed reader sees it.
      const kafka2 = new Kafka({ brokers: [`127.0.0.1:${second.port}`], logLevel: logLevel.NOTHING });
      const again = kafka2.producer({
        transactionalId: 'crash-tx',
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await again.connect();
      const t3 = await again.transaction();
      await t3.send({ topic, messages: [{ value: 'committed-2' }] });
      await t3.commit();
      await again.disconnect();
      const last = await readCommitted(second.port, topic);
      expect(last.values).toEqual(['committed-1', 'committed-2']);
      expect(last.lastStableOffset).toBe(last.highWatermark);
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });

  it('completes at startup a commit whose markers were not written (PrepareCommit in the log)', async () => {
    const dir = tmp();
    const overrides = { 'transaction.state.log.num.partitions': '3' };
    const a = await startTestBroker(overrides, dir);
    const tc = a.broker.transactionCoordinator;
    await a.broker.controller.createTopic('prep', 1);
    const init = await tc.handleInitProducerId('prep-tx', 60_000, null);
    expect(init.error).toBe('NONE');
    const partitions = new Map([['prep', new Set([0])]]);
    expect(
      await tc.handleAddPartitionsToTransaction('prep-tx', init.producerId, init.producerEpoch, partitions),
    ).toBe('NONE');
    const p = a.broker.replicaManager.getPartition('prep', 0)!;
    const { encodeRecordBatch } = await import('../../protocol/records.js');
    p.appendRecordsToLeader(
      encodeRecordBatch({
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
        baseSequence: 0,
        isTransactional: true,
        records: [{ value: 'pending' }],
      }),
    );
    // The coordinator wrote PrepareCommit, then the broker stopped before any marker.
    const txn = tc.transaction('prep-tx')!;
    tc.txnLog.append(tc.partitionFor('prep-tx'), [
      transactionLogRecord('prep-tx', txn.prepareAbortOrCommit('PrepareCommit', Date.now())),
    ]);
    expect(p.lastStableOffset).toBe(0);
    await a.close();

    const b = await startTestBroker(overrides, dir);
    try {
      const q = b.broker.replicaManager.getPartition('prep', 0)!;
      expect(q.lastStableOffset).toBe(q.highWatermark);
      expect(q.highWatermark).toBe(2);
      expect(b.broker.transactionCoordinator.describeTransaction('prep-tx').transactionState).toBe(
        TransactionState.CompleteCommit,
      );
      expect((await readCommitted(b.port, 'prep')).values).toEqual(['pending']);
    } finally {
      await b.close();
    }
  });
});
