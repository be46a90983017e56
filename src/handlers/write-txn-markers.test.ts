/**
 * The broker-to-broker transaction APIs with fake services: WriteTxnMarkers hands each marker's
 * partitions to the coordinator's leader-side writer and answers per partition (CLUSTER_ACTION
 * required); AddPartitionsToTxn v4+ verifies (VerifyOnly) or adds for several transactions, with a
 * top-level CLUSTER_AUTHORIZATION_FAILED without CLUSTER_ACTION and TRANSACTION_ABORTABLE only from v5.
 */
import { describe, expect, it } from 'vitest';
import type { TopicPartitionRef, TxnMarker } from '../coordinator/transaction/txn-marker-channel.js';
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import type { AclOperation, ResourceType } from '../security/authorizer.js';
import { call, fakeContext, fakeMetadata, fakeTopic } from '../test-support/fake-services.js';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.js';
import { writeTxnMarkersHandler } from './write-txn-markers.js';

function authorizerAllowing(...allowed: string[]) {
  const set = new Set(allowed);
  return {
    authorize: (_r: unknown, op: AclOperation, type: ResourceType, name: string) =>
      set.has(`${op} ${type} ${name}`),
    authorizeByResourceType: () => false,
  };
}

describe('WriteTxnMarkers', () => {
  const request = {
    markers: [
      {
        producerId: 9,
        producerEpoch: 4,
        transactionResult: false,
        coordinatorEpoch: 2,
        transactionVersion: 0,
        topics: [
          { name: 't', partitionIndexes: [0, 1] },
          { name: 'u', partitionIndexes: [3] },
        ],
      },
    ],
  };

  it('writes each marker through the coordinator and answers every partition', async () => {
    const calls: [TxnMarker, TopicPartitionRef[]][] = [];
    const ctx = fakeContext({
      apiVersion: 1,
      transactions: {
        writeTxnMarkersAsLeader: (m: TxnMarker, tps: readonly TopicPartitionRef[]) => {
          calls.push([m, [...tps]]);
          return Promise.resolve<ErrorName[]>([
            'NONE',
            'NOT_LEADER_OR_FOLLOWER',
            'TRANSACTION_COORDINATOR_FENCED',
          ]);
        },
      },
    });
    const res = await call(writeTxnMarkersHandler, ctx, request);
    expect(calls).toEqual([
      [
        { producerId: 9, producerEpoch: 4, result: 'ABORT', coordinatorEpoch: 2, transactionVersion: 0 },
        [
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
          { topic: 'u', partition: 3 },
        ],
      ],
    ]);
    expect(res.markers).toEqual([
      {
        producerId: 9,
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, errorCode: ErrorCode.NONE },
              { partitionIndex: 1, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER },
            ],
          },
          {
            name: 'u',
            partitions: [{ partitionIndex: 3, errorCode: ErrorCode.TRANSACTION_COORDINATOR_FENCED }],
          },
        ],
      },
    ]);
  });

  it('needs CLUSTER_ACTION: every partition CLUSTER_AUTHORIZATION_FAILED, nothing written', async () => {
    const ctx = fakeContext({ apiVersion: 1, authorizer: authorizerAllowing(), transactions: {} });
    const res = await call(writeTxnMarkersHandler, ctx, request);
    const codes = res.markers[0]!.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
    expect(codes).toEqual([
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    ]);
  });
});

describe('AddPartitionsToTxn v4+ (broker to broker)', () => {
  const topics = [fakeTopic('t', { partitions: 2 })];
  const request = (verifyOnly: boolean) => ({
    transactions: [
      {
        transactionalId: 'tx',
        producerId: 7,
        producerEpoch: 1,
        verifyOnly,
        topics: [{ name: 't', partitions: [0, 1] }],
      },
    ],
  });

  it('VerifyOnly asks whether each partition is in the transaction; v4 gets INVALID_TXN_STATE for TRANSACTION_ABORTABLE', async () => {
    for (const [v, code] of [
      [4, ErrorCode.INVALID_TXN_STATE],
      [5, ErrorCode.TRANSACTION_ABORTABLE],
    ] as const) {
      const calls: unknown[][] = [];
      const ctx = fakeContext({
        apiVersion: v,
        metadata: fakeMetadata(topics),
        transactions: {
          handleVerifyPartitionsInTransaction: (...args: unknown[]) => {
            calls.push(args);
            return ['NONE', 'TRANSACTION_ABORTABLE'];
          },
        },
      });
      const res = await call(addPartitionsToTxnHandler, ctx, request(true));
      expect(calls).toEqual([
        [
          'tx',
          7,
          1,
          [
            { topic: 't', partition: 0 },
            { topic: 't', partition: 1 },
          ],
        ],
      ]);
      expect(res.errorCode).toBe(ErrorCode.NONE);
      expect(res.resultsByTransaction).toEqual([
        {
          transactionalId: 'tx',
          topicResults: [
            {
              name: 't',
              resultsByPartition: [
                { partitionIndex: 0, partitionErrorCode: ErrorCode.NONE },
                { partitionIndex: 1, partitionErrorCode: code },
              ],
            },
          ],
        },
      ]);
    }
  });

  it('without VerifyOnly adds the partitions (a transactions V2 producer)', async () => {
    const calls: unknown[][] = [];
    const ctx = fakeContext({
      apiVersion: 5,
      metadata: fakeMetadata(topics),
      transactions: {
        handleAddPartitionsToTransaction: (...args: unknown[]) => {
          calls.push(args);
          return Promise.resolve('NONE');
        },
      },
    });
    const res = await call(addPartitionsToTxnHandler, ctx, request(false));
    expect(calls).toEqual([['tx', 7, 1, new Map([['t', new Set([0, 1])]]), 2]]);
    expect(
      res.resultsByTransaction![0]!.topicResults[0]!.resultsByPartition.map((p) => p.partitionErrorCode),
    ).toEqual([0, 0]);
  });

  it('needs CLUSTER_ACTION: the top-level CLUSTER_AUTHORIZATION_FAILED', async () => {
    const ctx = fakeContext({ apiVersion: 4, authorizer: authorizerAllowing('WRITE TRANSACTIONAL_ID tx') });
    const res = await call(addPartitionsToTxnHandler, ctx, request(true));
    expect(res.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(res.resultsByTransaction).toEqual([]);
  });
});
