/**
 * Share groups over TCP with our codec: ShareGroupHeartbeat/ShareGroupDescribe, ShareFetch with
 * share sessions (epochs, errors), acquired records with delivery counts, acknowledgements on
 * ShareFetch and ShareAcknowledge (INVALID_RECORD_STATE for records not held), ListGroups type
 * share, DescribeShareGroupOffsets, and a restart on the same data keeping the share state
 * (acknowledged stays, acquired comes back with delivery count 2).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';

// biome-ignore lint/suspicious/noExplicitAny: decoded bodies of many message types, checked field by field
type Body = Record<string, any>;

const dir = mkdtempSync(join(tmpdir(), 'kbroker-share-'));
let tb: TestBroker;
let c: TestClient;
let topicId: string;

beforeAll(async () => {
  tb = await startTestBroker({}, dir);
  tb.broker.controller.createTopic('q', 1);
  topicId = tb.broker.metadata.topic('q')!.topicId;
  c = await TestClient.connect(tb.port);
});
afterAll(async () => {
  c.close();
  await tb.close();
  rmSync(dir, { recursive: true, force: true });
});

const produce = (n: number) =>
  tb.broker.replicaManager
    .getPartition('q', 0)!
    .appendRecordsToLeader(
      buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ value: `r${i}` })) }),
    );

const heartbeat = (client: TestClient, over: Body) =>
  client.request<Body>(76, 1, {
    groupId: 'sq',
    memberId: 'm1',
    memberEpoch: 0,
    rackId: null,
    subscribedTopicNames: ['q'],
    ...over,
  });

const shareFetch = (client: TestClient, epoch: number, acks: Body[] = [], over: Body = {}) =>
  client.request<Body>(78, 1, {
    groupId: 'sq',
    memberId: 'm1',
    shareSessionEpoch: epoch,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    maxRecords: 500,
    batchSize: 500,
    topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }],
    forgottenTopicsData: [],
    ...over,
  });

const acknowledge = (client: TestClient, epoch: number, acks: Body[]) =>
  client.request<Body>(79, 1, {
    groupId: 'sq',
    memberId: 'm1',
    shareSessionEpoch: epoch,
    topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }],
  });

const describeOffsets = (client: TestClient) =>
  client.request<Body>(90, 1, { groups: [{ groupId: 'sq', topics: null }] });

describe('share groups over TCP', () => {
  it('a member joins, is assigned the partition, and is described', async () => {
    const r = await heartbeat(c, {});
    expect(r).toMatchObject({ errorCode: 0, memberId: 'm1', memberEpoch: 1 });
    expect(r.assignment.topicPartitions).toEqual([{ topicId, partitions: [0] }]);
    const d = await c.request<Body>(77, 1, { groupIds: ['sq'], includeAuthorizedOperations: false });
    expect(d.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', assignorName: 'simple' });
    expect(d.groups[0].members[0].assignment.topicPartitions[0].topicName).toBe('q');
    const l = await c.request<Body>(16, 5, { statesFilter: [], typesFilter: ['share'] });
    expect(l.groups.map((g: Body) => g.groupId)).toEqual(['sq']);
    const dg = await c.request<Body>(15, 5, { groups: ['sq'], includeAuthorizedOperations: false });
    expect(dg.groups[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('share sessions: epochs checked, acquired records with delivery counts, acknowledgements', async () => {
    // Acknowledgements on the opening fetch are refused; a session must exist for epoch N.
    expect(
      (await shareFetch(c, 0, [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }])).errorCode,
    ).toBe(ErrorCode.INVALID_REQUEST);
    expect((await shareFetch(c, 3)).errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
    // Epoch 0 opens the session and initializes the share-partition at the latest offset (0).
    const opened = await shareFetch(c, 0);
    expect(opened).toMatchObject({ errorCode: 0, acquisitionLockTimeoutMs: 30_000 });
    produce(6);
    const f = await shareFetch(c, 1);
    const p = f.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    expect(p.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 5, deliveryCount: 1 }]);
    expect(p.records.length).toBeGreaterThan(0);
    expect((await shareFetch(c, 1)).errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    // Accept 0-2 and release 3 on ShareAcknowledge; 4-5 stay held.
    const a = await acknowledge(c, 2, [
      { firstOffset: 0, lastOffset: 2, acknowledgeTypes: [1] },
      { firstOffset: 3, lastOffset: 3, acknowledgeTypes: [2] },
    ]);
    expect(a.responses[0].partitions[0].errorCode).toBe(0);
    // Accepting offset 1 again: not acquired any more.
    const again = await acknowledge(c, 3, [{ firstOffset: 1, lastOffset: 1, acknowledgeTypes: [1] }]);
    expect(again.responses[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    // The released record comes back on the next fetch, delivered a second time.
    const f2 = await shareFetch(c, 4);
    expect(f2.responses[0].partitions[0].acquiredRecords).toEqual([
      { firstOffset: 3, lastOffset: 3, deliveryCount: 2 },
    ]);
    // Accept it piggybacked on a fetch.
    const f3 = await shareFetch(c, 5, [{ firstOffset: 3, lastOffset: 3, acknowledgeTypes: [1] }]);
    expect(f3.responses[0].partitions[0].acknowledgeErrorCode).toBe(0);
    const o = await describeOffsets(c);
    expect(o.groups[0].topics[0]).toMatchObject({ topicName: 'q', topicId });
    expect(o.groups[0].topics[0].partitions[0]).toMatchObject({
      partitionIndex: 0,
      startOffset: 4,
      errorCode: 0,
      lag: 2,
    });
  });

  it('group configs: share.auto.offset.reset=earliest starts a new group at the log start', async () => {
    const alter = await c.request<Body>(44, 1, {
      resources: [
        {
          resourceType: 32,
          resourceName: 'early',
          configs: [{ name: 'share.auto.offset.reset', configOperation: 0, value: 'earliest' }],
        },
      ],
      validateOnly: false,
    });
    expect(alter.responses[0].errorCode).toBe(0);
    const d = await c.request<Body>(32, 4, {
      resources: [
        { resourceType: 32, resourceName: 'early', configurationKeys: ['share.auto.offset.reset'] },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(d.results[0].configs).toMatchObject([
      { name: 'share.auto.offset.reset', value: 'earliest', configSource: 8 },
    ]);
    expect((await heartbeat(c, { groupId: 'early', memberId: 'e1' })).errorCode).toBe(0);
    const f = await shareFetch(c, 0, [], { groupId: 'early', memberId: 'e1' });
    expect(f.responses[0].partitions[0].acquiredRecords).toEqual([
      { firstOffset: 0, lastOffset: 5, deliveryCount: 1 },
    ]);
    await shareFetch(c, -1, [{ firstOffset: 0, lastOffset: 5, acknowledgeTypes: [2] }], {
      groupId: 'early',
      memberId: 'e1',
    });
  });

  it('a restart on the same data keeps the share state: acquired records come back', async () => {
    c.close();
    await tb.broker.close();
    tb = await startTestBroker({}, dir);
    c = await TestClient.connect(tb.port);
    const o = await describeOffsets(c);
    expect(o.groups[0].topics[0].partitions[0]).toMatchObject({ startOffset: 4 });
    const r = await heartbeat(c, { memberId: 'm2' });
    expect(r.errorCode).toBe(0);
    const f = await shareFetch(c, 0, [], { memberId: 'm2' });
    // 4-5 were held by m1 when the broker stopped: available again, second delivery.
    expect(f.responses[0].partitions[0].acquiredRecords).toEqual([
      { firstOffset: 4, lastOffset: 5, deliveryCount: 2 },
    ]);
  });
});
