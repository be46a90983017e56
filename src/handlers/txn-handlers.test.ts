/**
 * Unit tests of the transaction handlers over fake services: the arguments the transaction
 * coordinator gets, the checks the handlers make before calling it (unknown partitions,
 * producer id/epoch pairs), and Kafka's version-dependent error mappings (PRODUCER_FENCED is
 * INVALID_PRODUCER_EPOCH for clients that predate it).
 */
import { describe, expect, it } from 'vitest';
import type { TxnOffsetCommitPartition } from '../coordinator/transaction/transaction-coordinator.js';
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import type { TxnOffsetCommitRequestData } from '../protocol/generated/messages.js';
import type { ProducerStateManager } from '../storage/producer-state-manager.js';
import { ProducerStateEntry } from '../storage/producer-state-manager.js';
import {
  call,
  fakeContext,
  fakeLog,
  fakeMetadata,
  fakePartition,
  fakeReplicas,
  fakeTopic,
  stub,
} from '../test-support/fake-services.js';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn.js';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.js';
import { describeProducersHandler } from './describe-producers.js';
import { describeTransactionsHandler } from './describe-transactions.js';
import { endTxnHandler } from './end-txn.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listTransactionsHandler } from './list-transactions.js';
import { txnOffsetCommitHandler } from './txn-offset-commit.js';

describe('InitProducerId', () => {
  function initWith(apiVersion: number, error: ErrorName = 'NONE') {
    const calls: unknown[][] = [];
    const ctx = fakeContext({
      apiVersion,
      transactions: {
        handleInitProducerId: (...args) => {
          calls.push(args);
          return Promise.resolve({
            error,
            producerId: error === 'NONE' ? 42 : -1,
            producerEpoch: error === 'NONE' ? 3 : -1,
          });
        },
      },
    });
    return { ctx, calls };
  }

  it('passes the transactional id and timeout; no caller pair before v3', async () => {
    const { ctx, calls } = initWith(2);
    const res = await call(initProducerIdHandler, ctx, {
      transactionalId: 'tx',
      transactionTimeoutMs: 60_000,
      producerId: 7,
      producerEpoch: 1,
    });
    // v2 has no producerId/producerEpoch on the wire: they decode as -1.
    expect(calls).toEqual([['tx', 60_000, null]]);
    expect(res).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      producerId: 42,
      producerEpoch: 3,
      // v6's fields (KIP-939), their defaults below v6
      ongoingTxnProducerId: -1,
      ongoingTxnProducerEpoch: -1,
    });
  });

  it('v3+: an idempotent producer (null id) and the caller pair for KIP-360 epoch bumps', async () => {
    const { ctx, calls } = initWith(3);
    await call(initProducerIdHandler, ctx, {
      transactionalId: null,
      transactionTimeoutMs: 2147483647,
      producerId: -1,
      producerEpoch: -1,
    });
    await call(initProducerIdHandler, ctx, {
      transactionalId: 'tx',
      transactionTimeoutMs: 1000,
      producerId: 7,
      producerEpoch: 1,
    });
    expect(calls).toEqual([
      [null, 2147483647, null],
      ['tx', 1000, { producerId: 7, producerEpoch: 1 }],
    ]);
  });

  it('a half-given pair is INVALID_REQUEST without asking the coordinator', async () => {
    const ctx = fakeContext({ apiVersion: 4, transactions: {} });
    for (const [producerId, producerEpoch] of [
      [7, -1],
      [-1, 1],
    ]) {
      const res = await call(initProducerIdHandler, ctx, {
        transactionalId: 'tx',
        transactionTimeoutMs: 1000,
        producerId: producerId!,
        producerEpoch: producerEpoch!,
      });
      expect(res).toEqual({
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        producerId: -1,
        producerEpoch: -1,
        ongoingTxnProducerId: -1,
        ongoingTxnProducerEpoch: -1,
      });
    }
  });

  it('PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4', async () => {
    const req = { transactionalId: 'tx', transactionTimeoutMs: 1000, producerId: 7, producerEpoch: 1 };
    expect((await call(initProducerIdHandler, initWith(3, 'PRODUCER_FENCED').ctx, req)).errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    expect((await call(initProducerIdHandler, initWith(4, 'PRODUCER_FENCED').ctx, req)).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect(
      (await call(initProducerIdHandler, initWith(0, 'CONCURRENT_TRANSACTIONS').ctx, req)).errorCode,
    ).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
  });
});

describe('AddPartitionsToTxn', () => {
  const topics = [fakeTopic('t', { partitions: 2 })];
  const request = (parts: { name: string; partitions: number[] }[]) => ({
    transactions: [],
    v3AndBelowTransactionalId: 'tx',
    v3AndBelowProducerId: 7,
    v3AndBelowProducerEpoch: 1,
    v3AndBelowTopics: parts,
  });

  it('adds the partitions and gives the coordinator answer to every one', async () => {
    const calls: unknown[][] = [];
    const ctx = fakeContext({
      apiVersion: 3,
      metadata: fakeMetadata(topics),
      transactions: {
        handleAddPartitionsToTransaction: (...args) => {
          calls.push(args);
          return Promise.resolve('CONCURRENT_TRANSACTIONS');
        },
      },
    });
    const res = await call(addPartitionsToTxnHandler, ctx, request([{ name: 't', partitions: [0, 1] }]));
    expect(calls).toEqual([['tx', 7, 1, new Map([['t', new Set([0, 1])]]), undefined]]);
    expect(res.resultsByTopicV3AndBelow).toEqual([
      {
        name: 't',
        resultsByPartition: [
          { partitionIndex: 0, partitionErrorCode: ErrorCode.CONCURRENT_TRANSACTIONS },
          { partitionIndex: 1, partitionErrorCode: ErrorCode.CONCURRENT_TRANSACTIONS },
        ],
      },
    ]);
  });

  it('an unknown partition: UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED, no coordinator call', async () => {
    const ctx = fakeContext({ apiVersion: 1, metadata: fakeMetadata(topics), transactions: {} });
    const res = await call(
      addPartitionsToTxnHandler,
      ctx,
      request([
        { name: 't', partitions: [0, 5] },
        { name: 'nope', partitions: [0] },
      ]),
    );
    expect(res.resultsByTopicV3AndBelow).toEqual([
      {
        name: 't',
        resultsByPartition: [
          { partitionIndex: 0, partitionErrorCode: ErrorCode.OPERATION_NOT_ATTEMPTED },
          { partitionIndex: 5, partitionErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
      {
        name: 'nope',
        resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
      },
    ]);
  });

  it('PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2', async () => {
    for (const [v, code] of [
      [1, ErrorCode.INVALID_PRODUCER_EPOCH],
      [2, ErrorCode.PRODUCER_FENCED],
    ] as const) {
      const ctx = fakeContext({
        apiVersion: v,
        metadata: fakeMetadata(topics),
        transactions: { handleAddPartitionsToTransaction: () => Promise.resolve('PRODUCER_FENCED') },
      });
      const res = await call(addPartitionsToTxnHandler, ctx, request([{ name: 't', partitions: [0] }]));
      expect(res.resultsByTopicV3AndBelow![0]!.resultsByPartition[0]!.partitionErrorCode).toBe(code);
    }
  });
});

describe('AddOffsetsToTxn and EndTxn', () => {
  it('AddOffsetsToTxn passes id, producer and group; PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2', async () => {
    for (const [v, code] of [
      [0, ErrorCode.INVALID_PRODUCER_EPOCH],
      [1, ErrorCode.INVALID_PRODUCER_EPOCH],
      [2, ErrorCode.PRODUCER_FENCED],
      [4, ErrorCode.PRODUCER_FENCED],
    ] as const) {
      const calls: unknown[][] = [];
      const ctx = fakeContext({
        apiVersion: v,
        transactions: {
          handleAddOffsetsToTransaction: (...args) => {
            calls.push(args);
            return Promise.resolve('PRODUCER_FENCED');
          },
        },
      });
      const res = await call(addOffsetsToTxnHandler, ctx, {
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 1,
        groupId: 'g',
      });
      expect(calls).toEqual([['tx', 7, 1, 'g']]);
      expect(res).toEqual({ throttleTimeMs: 0, errorCode: code });
    }
  });

  it('EndTxn passes COMMIT or ABORT; PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2', async () => {
    for (const [v, code] of [
      [1, ErrorCode.INVALID_PRODUCER_EPOCH],
      [2, ErrorCode.PRODUCER_FENCED],
    ] as const) {
      const calls: unknown[][] = [];
      const ctx = fakeContext({
        apiVersion: v,
        transactions: {
          handleEndTransactionVersioned: (...args) => {
            calls.push(args);
            return Promise.resolve({
              error: args[3] === 'COMMIT' ? 'PRODUCER_FENCED' : 'NONE',
              producerId: 7,
              producerEpoch: 1,
            });
          },
        },
      });
      const commit = await call(endTxnHandler, ctx, {
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 1,
        committed: true,
      });
      const abort = await call(endTxnHandler, ctx, {
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 1,
        committed: false,
      });
      expect(calls).toEqual([
        ['tx', 7, 1, 'COMMIT', 0],
        ['tx', 7, 1, 'ABORT', 0],
      ]);
      expect([commit.errorCode, abort.errorCode]).toEqual([code, ErrorCode.NONE]);
    }
  });

  it('EndTxn v5 is transactions V2: the client version goes to the coordinator, the new producer epoch comes back', async () => {
    const calls: unknown[][] = [];
    const ctx = fakeContext({
      apiVersion: 5,
      transactions: {
        handleEndTransactionVersioned: (...args) => {
          calls.push(args);
          return Promise.resolve({ error: 'NONE', producerId: 7, producerEpoch: 2 });
        },
      },
    });
    const res = await call(endTxnHandler, ctx, {
      transactionalId: 'tx',
      producerId: 7,
      producerEpoch: 1,
      committed: true,
    });
    expect(calls).toEqual([['tx', 7, 1, 'COMMIT', 2]]);
    expect(res).toMatchObject({ errorCode: ErrorCode.NONE, producerId: 7, producerEpoch: 2 });
  });
});

describe('TxnOffsetCommit', () => {
  const topics = [fakeTopic('t', { partitions: 2 })];
  const request = (o: Partial<TxnOffsetCommitRequestData> = {}): TxnOffsetCommitRequestData => ({
    transactionalId: 'tx',
    groupId: 'g',
    producerId: 7,
    producerEpoch: 1,
    generationId: 5,
    memberId: 'm-1',
    groupInstanceId: 'i-1',
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 2, committedMetadata: 'md' },
          { partitionIndex: 9, committedOffset: 11, committedLeaderEpoch: 2, committedMetadata: null },
        ],
      },
      {
        name: 'nope',
        partitions: [
          { partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' },
        ],
      },
    ],
    ...o,
  });
  function commitWith(apiVersion: number, error: ErrorName) {
    const calls: { args: unknown[]; offsets: readonly TxnOffsetCommitPartition[] }[] = [];
    const ctx = fakeContext({
      apiVersion,
      metadata: fakeMetadata(topics),
      transactions: {
        handleTxnOffsetCommit: (txnId, groupId, pid, epoch, member, instance, generation, offsets) => {
          calls.push({ args: [txnId, groupId, pid, epoch, member, instance, generation], offsets });
          return Promise.resolve(offsets.map(() => error));
        },
      },
    });
    return { ctx, calls };
  }
  const codes = (res: {
    topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
  }) => res.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode]));

  it('v3+: member, instance and generation go to the coordinator; unknown partitions are refused here', async () => {
    const { ctx, calls } = commitWith(3, 'NONE');
    const res = await call(txnOffsetCommitHandler, ctx, request());
    expect(calls).toEqual([
      {
        args: ['tx', 'g', 7, 1, 'm-1', 'i-1', 5],
        offsets: [{ topic: 't', partition: 0, offset: 10, leaderEpoch: 2, metadata: 'md' }],
      },
    ]);
    expect(codes(res)).toEqual([
      ['t', 0, ErrorCode.NONE],
      ['t', 9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['nope', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
  });

  it('before v3 there is no member: empty id, no instance, generation -1; before v2 no leader epoch', async () => {
    const { ctx, calls } = commitWith(1, 'NONE');
    await call(txnOffsetCommitHandler, ctx, request());
    expect(calls[0]!.args).toEqual(['tx', 'g', 7, 1, '', null, -1]);
    expect(calls[0]!.offsets[0]!.leaderEpoch).toBe(-1);
  });

  it('an empty group id is INVALID_GROUP_ID without a coordinator call', async () => {
    const ctx = fakeContext({ apiVersion: 3, metadata: fakeMetadata(topics), transactions: {} });
    const res = await call(txnOffsetCommitHandler, ctx, request({ groupId: '' }));
    expect(codes(res)[0]).toEqual(['t', 0, ErrorCode.INVALID_GROUP_ID]);
  });

  it('before v2 COORDINATOR_LOAD_IN_PROGRESS is COORDINATOR_NOT_AVAILABLE (KAFKA-7296), from v2 unchanged', async () => {
    const v1 = await call(
      txnOffsetCommitHandler,
      commitWith(1, 'COORDINATOR_LOAD_IN_PROGRESS').ctx,
      request(),
    );
    expect(codes(v1)[0]).toEqual(['t', 0, ErrorCode.COORDINATOR_NOT_AVAILABLE]);
    const v2 = await call(
      txnOffsetCommitHandler,
      commitWith(2, 'COORDINATOR_LOAD_IN_PROGRESS').ctx,
      request(),
    );
    expect(codes(v2)[0]).toEqual(['t', 0, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);
  });
});

describe('DescribeTransactions and ListTransactions', () => {
  it('DescribeTransactions answers one state per id, in order', async () => {
    const described = (id: string) => ({
      error: id === 'gone' ? ('TRANSACTIONAL_ID_NOT_FOUND' as const) : ('NONE' as const),
      transactionalId: id,
      transactionState: id === 'gone' ? '' : 'Ongoing',
      transactionTimeoutMs: 60_000,
      transactionStartTimeMs: 1000,
      producerId: 7,
      producerEpoch: 1,
      topics: [{ topic: 't', partitions: [0, 1] }],
    });
    const ctx = fakeContext({ transactions: { describeTransaction: described } });
    const res = await call(describeTransactionsHandler, ctx, { transactionalIds: ['tx', 'gone'] });
    const wire = (id: string) => {
      const { error, ...rest } = described(id);
      return { errorCode: ErrorCode[error], ...rest };
    };
    expect(res).toEqual({ throttleTimeMs: 0, transactionStates: [wire('tx'), wire('gone')] });
    expect(wire('gone').errorCode).toBe(105);
  });

  it('ListTransactions passes the filters; the duration filter only from v1 (-1 = all)', async () => {
    const calls: unknown[][] = [];
    const result = {
      error: 'NONE' as const,
      unknownStateFilters: ['Bogus'],
      transactionStates: [{ transactionalId: 'tx', producerId: 7, transactionState: 'Ongoing' }],
    };
    const transactions = {
      listTransactions: (...args: [readonly string[], readonly number[], number]) => {
        calls.push(args);
        return result;
      },
    };
    const req = { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [7], durationFilter: 5000 };
    const v0 = await call(listTransactionsHandler, fakeContext({ apiVersion: 0, transactions }), req);
    await call(listTransactionsHandler, fakeContext({ apiVersion: 1, transactions }), req);
    expect(calls).toEqual([
      [['Ongoing', 'Bogus'], [7], -1],
      [['Ongoing', 'Bogus'], [7], 5000],
    ]);
    const { error: _, ...rest } = result;
    expect(v0).toEqual({ throttleTimeMs: 0, errorCode: 0, ...rest });
  });
});

describe('DescribeProducers', () => {
  it('lists the active producers of each partition; unknown partitions are UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const entry = new ProducerStateEntry(7, 2, 5, 1234, 100, [
      { lastSeq: 9, lastOffset: 120, offsetDelta: 4, timestamp: 1234 },
    ]);
    const producerStateManager = stub<ProducerStateManager>('producerStateManager', {
      activeProducers: () => [entry],
    });
    const partition = fakePartition('t', 0, {
      log: fakeLog({ logEndOffset: 121 }, { producerStateManager }),
    });
    const topics = [fakeTopic('t', { partitions: [partition] })];
    const ctx = fakeContext({ replicas: fakeReplicas(topics) });
    const res = await call(describeProducersHandler, ctx, {
      topics: [
        { name: 't', partitionIndexes: [0, 3] },
        { name: 'nope', partitionIndexes: [0] },
      ],
    });
    expect(res.topics).toEqual([
      {
        name: 't',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            activeProducers: [
              {
                producerId: 7,
                producerEpoch: 2,
                lastSequence: 9,
                lastTimestamp: 1234,
                coordinatorEpoch: 5,
                currentTxnStartOffset: 100,
              },
            ],
          },
          {
            partitionIndex: 3,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
            activeProducers: [],
          },
        ],
      },
      {
        name: 'nope',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
            activeProducers: [],
          },
        ],
      },
    ]);
  });
});
