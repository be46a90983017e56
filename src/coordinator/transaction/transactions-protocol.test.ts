/**
 * Idempotence and transactions over raw TCP requests: a retried batch (its response "dropped") is
 * not duplicated; bad input gets Kafka's error codes (out-of-order sequences, unknown producer ids,
 * EndTxn without a transaction, unknown partitions, transactional writes outside a transaction);
 * read_committed Fetch returns up to the LSO with the aborted transactions; the transaction timeout
 * aborts a hung transaction and fences its producer; the describe/list APIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTime } from '../../common/time.js';
import { ErrorCode } from '../../protocol/generated/errors.js';
import { type DecodedRecordBatch, decodeRecordBatches, encodeRecordBatch } from '../../protocol/records.js';
import { startTestBroker, type TestBroker } from '../../test-support/broker.js';
import { TestClient } from '../../test-support/client.js';
import { until } from '../../test-support/until.js';

type Body = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: decoded response bodies are checked field by field
type Any = any;

describe('transactions over the wire', () => {
  let tb: TestBroker;
  let c: TestClient;
  // The broker's clock: transaction timeouts pass when a test moves it.
  const time = new MockTime(Date.now());

  beforeAll(async () => {
    tb = await startTestBroker(
      {
        'transaction.state.log.num.partitions': '3',
        'offsets.topic.num.partitions': '3',
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': '100',
      },
      undefined,
      { time },
    );
    c = await TestClient.connect(tb.port);
  });
  afterAll(async () => {
    c.close();
    await tb.close();
  });

  const req = (apiKey: number, version: number, body: Body): Promise<Any> => c.request(apiKey, version, body);

  function batch(
    producerId: number,
    producerEpoch: number,
    baseSequence: number,
    values: string[],
    txn = false,
  ) {
    return encodeRecordBatch({
      producerId,
      producerEpoch,
      baseSequence,
      isTransactional: txn,
      records: values.map((value) => ({ value })),
    });
  }

  async function produce(topic: string, records: Buffer, transactionalId: string | null = null) {
    const r = await req(0, 9, {
      transactionalId,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    return r.responses[0].partitionResponses[0];
  }

  async function fetch(topic: string, isolationLevel: number, fetchOffset = 0) {
    const r = await req(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          partitions: [
            {
              partition: 0,
              fetchOffset,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              logStartOffset: -1,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = r.responses[0].partitions[0];
    const batches: DecodedRecordBatch[] = decodeRecordBatches(p.records ?? Buffer.alloc(0));
    return {
      lastStableOffset: p.lastStableOffset as number,
      highWatermark: p.highWatermark as number,
      abortedTransactions: p.abortedTransactions as { producerId: number; firstOffset: number }[] | null,
      batches,
    };
  }

  async function initProducerId(transactionalId: string | null, timeoutMs = 60_000, version = 4) {
    let r: Any;
    for (let i = 0; i < 20; i++) {
      r = await req(22, version, {
        transactionalId,
        transactionTimeoutMs: timeoutMs,
        producerId: -1,
        producerEpoch: -1,
      });
      if (r.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS) break;
    }
    return r;
  }

  const addPartitions = (
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topics: { name: string; partitions: number[] }[],
    version = 3,
  ) =>
    req(24, version, {
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: topics,
    });

  const endTxn = async (
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    committed: boolean,
    version = 3,
  ) =>
    (await req(26, version, { transactionalId, producerId, producerEpoch, committed })).errorCode as number;

  function createTopic(name: string) {
    // A LocalController applies the change before the call returns.
    void tb.broker.controller.createTopic(name, 1);
  }

  it('answers a retried idempotent batch with the original offset (dropped response) and refuses gaps', async () => {
    createTopic('idem');
    const { producerId, producerEpoch, errorCode } = await initProducerId(null);
    expect(errorCode).toBe(0);
    expect(producerEpoch).toBe(0);
    const first = await produce('idem', batch(producerId, 0, 0, ['a', 'b']));
    expect(first).toMatchObject({ errorCode: 0, baseOffset: 0 });
    // The client never saw the response and sends the very same batch again.
    const retry = await produce('idem', batch(producerId, 0, 0, ['a', 'b']));
    expect(retry).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce('idem', batch(producerId, 0, 2, ['c']))).toMatchObject({
      errorCode: 0,
      baseOffset: 2,
    });
    const gap = await produce('idem', batch(producerId, 0, 7, ['x']));
    expect(gap.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const f = await fetch('idem', 0);
    expect(f.batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual(['a', 'b', 'c']);
    // Producer state survives into DescribeProducers.
    const d = await req(61, 0, { topics: [{ name: 'idem', partitionIndexes: [0, 9] }] });
    expect(d.topics[0].partitions[0].activeProducers).toEqual([
      expect.objectContaining({ producerId, producerEpoch: 0, lastSequence: 2, currentTxnStartOffset: -1 }),
    ]);
    expect(d.topics[0].partitions[1].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it("gives Kafka's codes to bad transactional input and keeps the LSO moving", async () => {
    createTopic('bad');
    // EndTxn / AddPartitions for a transactional id the coordinator does not know.
    expect(await endTxn('nobody', 1234, 0, true)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const unknownId = await addPartitions('nobody', 1234, 0, [{ name: 'bad', partitions: [0] }]);
    expect(unknownId.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    const init = await initProducerId('bad-txn');
    const { producerId: pid, producerEpoch: epoch } = init;
    // EndTxn without a transaction.
    expect(await endTxn('bad-txn', pid, epoch, true)).toBe(ErrorCode.INVALID_TXN_STATE);
    // Wrong producer id for the transactional id; wrong epoch (v3: PRODUCER_FENCED, v1: INVALID_PRODUCER_EPOCH).
    expect(await endTxn('bad-txn', pid + 1, epoch, true)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await endTxn('bad-txn', pid, epoch + 5, true)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await endTxn('bad-txn', pid, epoch + 5, true, 1)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // Unknown partitions: UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED, nothing added.
    const mixed = await addPartitions('bad-txn', pid, epoch, [
      { name: 'bad', partitions: [0, 3] },
      { name: 'no-such-topic', partitions: [0] },
    ]);
    expect(
      mixed.resultsByTopicV3AndBelow.map((t: Any) =>
        t.resultsByPartition.map((p: Any) => p.partitionErrorCode),
      ),
    ).toEqual([
      [ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(tb.broker.transactionCoordinator.describeTransaction('bad-txn').transactionState).toBe('Empty');
    // A transactional batch to a partition not in the transaction, or without a transactional id.
    const outside = await produce('bad', batch(pid, epoch, 0, ['t'], true), 'bad-txn');
    expect(outside.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const noId = await produce('bad', batch(pid, epoch, 0, ['t'], true), null);
    expect(noId.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // Nothing refused left a transaction open.
    const p = tb.broker.replicaManager.getPartition('bad', 0)!;
    expect(p.lastStableOffset).toBe(p.highWatermark);
    // A marker for a partition whose topic was deleted meanwhile is skipped, not stuck.
    createTopic('doomed');
    expect(
      (
        await addPartitions('bad-txn', pid, epoch, [
          { name: 'doomed', partitions: [0] },
          { name: 'bad', partitions: [0] },
        ])
      ).resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode,
    ).toBe(0);
    expect((await produce('bad', batch(pid, epoch, 0, ['in-txn'], true), 'bad-txn')).errorCode).toBe(0);
    await tb.broker.controller.deleteTopics(['doomed']);
    expect(await endTxn('bad-txn', pid, epoch, true)).toBe(0);
    expect(p.lastStableOffset).toBe(p.highWatermark);
    expect(tb.broker.transactionCoordinator.describeTransaction('bad-txn').transactionState).toBe(
      'CompleteCommit',
    );
  });

  it('read_committed Fetch stops at the LSO and lists aborted transactions', async () => {
    createTopic('rc');
    const { producerId: pid, producerEpoch: epoch } = await initProducerId('rc-txn');
    expect((await produce('rc', batch(-1, -1, -1, ['plain']))).errorCode).toBe(0);
    await addPartitions('rc-txn', pid, epoch, [{ name: 'rc', partitions: [0] }]);
    expect(
      (await produce('rc', batch(pid, epoch, 0, ['aborted-1', 'aborted-2'], true), 'rc-txn')).errorCode,
    ).toBe(0);
    let f = await fetch('rc', 1);
    expect(f.lastStableOffset).toBe(1);
    expect(f.highWatermark).toBe(3);
    expect(f.batches.map((b) => b.baseOffset)).toEqual([0]);
    expect(await endTxn('rc-txn', pid, epoch, false)).toBe(0);
    f = await fetch('rc', 1);
    expect(f.lastStableOffset).toBe(4);
    expect(f.abortedTransactions).toEqual([{ producerId: pid, firstOffset: 1 }]);
    expect(f.batches.at(-1)!.isControl).toBe(true);
    expect(f.batches.at(-1)!.controlRecord!.typeName).toBe('ABORT');
    const uncommitted = await fetch('rc', 0);
    expect(uncommitted.abortedTransactions).toBeNull();
    // ListOffsets latest: read_committed → LSO, read_uncommitted → HW.
    const lo = async (isolationLevel: number) =>
      (
        await req(2, 5, {
          replicaId: -1,
          isolationLevel,
          topics: [
            { name: 'rc', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] },
          ],
        })
      ).topics[0].partitions[0].offset;
    expect(await lo(1)).toBe(4);
    await addPartitions('rc-txn', pid, epoch, [{ name: 'rc', partitions: [0] }]);
    await produce('rc', batch(pid, epoch, 2, ['open'], true), 'rc-txn');
    expect(await lo(1)).toBe(4);
    expect(await lo(0)).toBe(5);
    await endTxn('rc-txn', pid, epoch, true);
  });

  it('aborts a hung transaction after transaction.timeout.ms and fences its producer', async () => {
    createTopic('hung');
    const { producerId: pid, producerEpoch: epoch } = await initProducerId('hung-txn', 300);
    await addPartitions('hung-txn', pid, epoch, [{ name: 'hung', partitions: [0] }]);
    expect((await produce('hung', batch(pid, epoch, 0, ['never'], true), 'hung-txn')).errorCode).toBe(0);
    const p = tb.broker.replicaManager.getPartition('hung', 0)!;
    expect(p.lastStableOffset).toBe(0);
    await time.advanceAsync(200, 100); // within transaction.timeout.ms: still open
    expect(p.lastStableOffset).toBe(0);
    await time.advanceAsync(300, 100);
    await until(() => p.lastStableOffset > 0, 5000, 'the abort markers');
    expect(p.lastStableOffset).toBe(p.highWatermark);
    const d = await req(65, 0, { transactionalIds: ['hung-txn', 'unknown-id'] });
    expect(d.transactionStates[0]).toMatchObject({
      transactionState: 'CompleteAbort',
      producerEpoch: epoch + 1,
    });
    expect(d.transactionStates[1].errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    // The zombie keeps its old epoch: fenced everywhere.
    expect(await endTxn('hung-txn', pid, epoch, true)).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await produce('hung', batch(pid, epoch, 1, ['late'], true), 'hung-txn')).errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    const f = await fetch('hung', 1);
    expect(f.abortedTransactions).toEqual([{ producerId: pid, firstOffset: 0 }]);
    const list = await req(66, 1, {
      stateFilters: ['CompleteAbort', 'Bogus'],
      producerIdFilters: [],
      durationFilter: -1,
    });
    expect(list.unknownStateFilters).toEqual(['Bogus']);
    expect(list.transactionStates).toContainEqual({
      transactionalId: 'hung-txn',
      producerId: pid,
      transactionState: 'CompleteAbort',
    });
  });

  it('fences an ongoing transaction on InitProducerId (CONCURRENT_TRANSACTIONS, then a bumped epoch)', async () => {
    createTopic('fence');
    const first = await initProducerId('fence-txn');
    await addPartitions('fence-txn', first.producerId, first.producerEpoch, [
      { name: 'fence', partitions: [0] },
    ]);
    await produce('fence', batch(first.producerId, first.producerEpoch, 0, ['zombie'], true), 'fence-txn');
    const r = await req(22, 4, {
      transactionalId: 'fence-txn',
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    });
    expect(r.errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    const second = await initProducerId('fence-txn');
    expect(second).toMatchObject({
      errorCode: 0,
      producerId: first.producerId,
      producerEpoch: first.producerEpoch + 2,
    });
    const p = tb.broker.replicaManager.getPartition('fence', 0)!;
    expect(p.lastStableOffset).toBe(p.highWatermark);
    // KIP-360: the old producer asking with its stale epoch is fenced; v3 gets INVALID_PRODUCER_EPOCH.
    const stale = {
      transactionalId: 'fence-txn',
      transactionTimeoutMs: 60_000,
      producerId: 999_999,
      producerEpoch: 0,
    };
    expect((await req(22, 4, stale)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await req(22, 3, stale)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await req(22, 4, { ...stale, transactionTimeoutMs: 10_000_000 })).errorCode).toBe(
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
    );
  });
});
