/**
 * The transaction coordinator on the coordinator runtime, without TCP: real storage in a
 * temporary directory, a MockTime. A `__transaction_state` partition unloaded and loaded again is
 * rebuilt by replay (and an interrupted commit found at load is completed); a failed append
 * leaves the id's state as it was.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { Scheduler } from '../../common/scheduler.js';
import type { MockTime } from '../../common/time.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import type { LogManager } from '../../storage/log-manager.js';
import { openTestReplicas, type TestReplicas } from '../../test-support/replicas.js';
import { NO_TOPICS } from '../group/consumer-groups.js';
import { createGroupCoordinator, type GroupCoordinator } from '../index.js';
import { createTransactionCoordinator, type TransactionCoordinator } from './index.js';
import { TransactionState, transactionLogRecord } from './transaction-log.js';

let env: TestReplicas;
let time: MockTime;
let logManager: LogManager;
let rm: ReplicaManager;
let gc: GroupCoordinator;
let tc: TransactionCoordinator;

beforeEach(async () => {
  env = openTestReplicas({
    'transaction.state.log.num.partitions': '3',
    'offsets.topic.num.partitions': '3',
  });
  ({ time, logManager, replicas: rm } = env);
  const deps = {
    config: env.config,
    replicaManager: rm,
    internalTopics: env.internalTopics,
    topics: NO_TOPICS,
    log: silentLogger,
    time,
    scheduler: new Scheduler(time, silentLogger),
  };
  gc = createGroupCoordinator(deps);
  tc = createTransactionCoordinator({ ...deps, logManager, groupCoordinator: gc });
  gc.startup();
  tc.startup();
  await env.controller.createTopic('t', 2);
});

afterEach(() => {
  tc.shutdown();
  gc.shutdown();
  env.close();
});

async function begin(id: string) {
  const init = await tc.handleInitProducerId(id, 60_000, null);
  expect(init.error).toBe('NONE');
  const add = await tc.handleAddPartitionsToTransaction(
    id,
    init.producerId,
    init.producerEpoch,
    new Map([['t', new Set([0, 1])]]),
  );
  expect(add).toBe('NONE');
  return init;
}

describe('TransactionCoordinator on the coordinator runtime', () => {
  it('rebuilds an unloaded __transaction_state partition by replay', async () => {
    const init = await begin('tx');
    const p = tc.partitionFor('tx');
    tc.unloadPartition(p);
    expect(tc.describeTransaction('tx').error).toBe('NOT_COORDINATOR');
    expect(await tc.handleEndTransaction('tx', init.producerId, init.producerEpoch, 'COMMIT')).toBe(
      'NOT_COORDINATOR',
    );

    tc.loadPartition(p);
    const d = tc.describeTransaction('tx');
    expect(d.transactionState).toBe(TransactionState.Ongoing);
    expect(d.producerId).toBe(init.producerId);
    expect(d.topics).toEqual([{ topic: 't', partitions: [0, 1] }]);
    expect(await tc.handleEndTransaction('tx', init.producerId, init.producerEpoch, 'COMMIT')).toBe('NONE');
    expect(tc.describeTransaction('tx').transactionState).toBe(TransactionState.CompleteCommit);
    expect(rm.getPartition('t', 0)!.lastStableOffset).toBe(rm.getPartition('t', 0)!.highWatermark);
  });

  it('completes a PrepareCommit it finds when a partition is loaded', async () => {
    const init = await begin('prep');
    const txn = tc.transaction('prep')!;
    tc.txnLog.append(tc.partitionFor('prep'), [
      transactionLogRecord('prep', txn.prepareAbortOrCommit('PrepareCommit', time.now())),
    ]);
    tc.unloadPartition(tc.partitionFor('prep'));
    tc.loadPartition(tc.partitionFor('prep'));
    // Its markers and the CompleteCommit record are written, then committed.
    await new Promise((resolve) => setImmediate(resolve));
    const d = tc.describeTransaction('prep');
    expect(d.transactionState).toBe(TransactionState.CompleteCommit);
    expect(d.producerEpoch).toBe(init.producerEpoch);
  });

  it('answers once the state is committed, CONCURRENT_TRANSACTIONS meanwhile', async () => {
    const init = await begin('tx');
    const p = tc.partitionFor('tx');
    const partition = rm.getPartition('__transaction_state', p)!;
    // Hold the high watermark back, as a lagging follower would.
    const hw = partition.log.highWatermark;
    const update = partition.log.updateHighWatermark.bind(partition.log);
    partition.log.updateHighWatermark = () => {};
    let done = false;
    const end = tc.handleEndTransaction('tx', init.producerId, init.producerEpoch, 'COMMIT').then((e) => {
      done = true;
      return e;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    expect(tc.describeTransaction('tx').transactionState).toBe(TransactionState.Ongoing);
    expect(
      await tc.handleAddPartitionsToTransaction(
        'tx',
        init.producerId,
        init.producerEpoch,
        new Map([['t', new Set([1])]]),
      ),
    ).toBe('CONCURRENT_TRANSACTIONS');
    expect(partition.highWatermark).toBe(hw);
    partition.log.updateHighWatermark = update;
    update(partition.logEndOffset);
    partition.notifyAppend();
    expect(await end).toBe('NONE');
    expect(tc.describeTransaction('tx').transactionState).toBe(TransactionState.CompleteCommit);
  });

  it('leaves the state as it was when the append fails', async () => {
    const init = await begin('tx');
    const append = tc.txnLog.append.bind(tc.txnLog);
    tc.txnLog.append = () => {
      throw new Error('disk on fire');
    };
    try {
      expect(
        await tc.handleAddPartitionsToTransaction(
          'tx',
          init.producerId,
          init.producerEpoch,
          new Map([['u', new Set([0])]]),
        ),
      ).toBe('COORDINATOR_NOT_AVAILABLE');
      expect(await tc.handleEndTransaction('tx', init.producerId, init.producerEpoch, 'ABORT')).toBe(
        'COORDINATOR_NOT_AVAILABLE',
      );
    } finally {
      tc.txnLog.append = append;
    }
    const d = tc.describeTransaction('tx');
    expect(d.transactionState).toBe(TransactionState.Ongoing);
    expect(d.topics).toEqual([{ topic: 't', partitions: [0, 1] }]);
    // And what a reload sees agrees with memory.
    tc.unloadPartition(tc.partitionFor('tx'));
    tc.loadPartition(tc.partitionFor('tx'));
    expect(tc.describeTransaction('tx').topics).toEqual([{ topic: 't', partitions: [0, 1] }]);
  });
});

describe('transactions V2 (KIP-890 part 2)', () => {
  it('adds partitions for the producer, bumps the epoch with every end, recognises a retried EndTxn', async () => {
    const init = await tc.handleInitProducerId('v2', 60_000, null);
    expect(init.error).toBe('NONE');
    const { producerId } = init;
    let epoch = init.producerEpoch;
    for (const result of ['COMMIT', 'ABORT', 'COMMIT'] as const) {
      // A V2 producer sends no AddPartitionsToTxn: the partition leader adds the partition.
      expect(
        await tc.verifyTransactionalProduce('v2', producerId, epoch, [{ topic: 't', partition: 0 }], true),
      ).toEqual(['NONE']);
      expect(tc.describeTransaction('v2')).toMatchObject({
        transactionState: 'Ongoing',
        producerEpoch: epoch,
      });
      const end = await tc.handleEndTransactionVersioned('v2', producerId, epoch, result, 2);
      expect(end).toEqual({ error: 'NONE', producerId, producerEpoch: epoch + 1 });
      // The marker carries the new epoch: the partition fences the old one.
      expect(rm.getPartition('t', 0)!.log.producerStateManager.lastEntry(producerId)!.producerEpoch).toBe(
        epoch + 1,
      );
      // The answer was lost, the client retries with the epoch it had: the same answer.
      expect(await tc.handleEndTransactionVersioned('v2', producerId, epoch, result, 2)).toEqual(end);
      // The old epoch cannot open a transaction any more.
      expect(
        await tc.verifyTransactionalProduce('v2', producerId, epoch, [{ topic: 't', partition: 1 }], true),
      ).toEqual(['INVALID_PRODUCER_EPOCH']);
      epoch++;
    }
    // Aborting a V2 transaction nothing was added to is legal and bumps the epoch; a commit is not.
    expect((await tc.handleEndTransactionVersioned('v2', producerId, epoch, 'COMMIT', 2)).error).toBe(
      'PRODUCER_FENCED',
    );
    expect(await tc.handleEndTransactionVersioned('v2', producerId, epoch, 'ABORT', 2)).toEqual({
      error: 'NONE',
      producerId,
      producerEpoch: epoch + 1,
    });
    expect(tc.describeTransaction('v2').transactionState).toBe('CompleteAbort');
    epoch++;
    // The client's transaction version is persisted (TransactionLogValue v1): a reload keeps it.
    expect(tc.transaction('v2')!.clientTransactionVersion).toBe(2);
    tc.unloadPartition(tc.partitionFor('v2'));
    tc.loadPartition(tc.partitionFor('v2'));
    expect(tc.transaction('v2')).toMatchObject({ clientTransactionVersion: 2, producerEpoch: epoch });
    // A V1 client's EndTxn (v4) on its own transaction keeps the epoch.
    const v1 = await begin('v1');
    expect(
      await tc.handleEndTransactionVersioned('v1', v1.producerId, v1.producerEpoch, 'COMMIT', 0),
    ).toEqual({
      error: 'NONE',
      producerId: v1.producerId,
      producerEpoch: v1.producerEpoch,
    });
  });

  it('verification for V1 producers: only partitions the producer added pass', async () => {
    const init = await begin('ver');
    expect(
      await tc.verifyTransactionalProduce('ver', init.producerId, init.producerEpoch, [
        { topic: 't', partition: 1 },
        { topic: 'u', partition: 0 },
      ]),
    ).toEqual(['NONE', 'TRANSACTION_ABORTABLE']);
    expect(tc.describeTransaction('ver').topics).toEqual([{ topic: 't', partitions: [0, 1] }]);
    expect(
      await tc.verifyTransactionalProduce('ver', init.producerId + 1, init.producerEpoch, [
        { topic: 't', partition: 0 },
      ]),
    ).toEqual(['INVALID_PRODUCER_ID_MAPPING']);
  });
});
