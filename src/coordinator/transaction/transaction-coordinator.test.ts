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
