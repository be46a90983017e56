/**
 * A Produce to a topic the broker does not know is answered UNKNOWN_TOPIC_OR_PARTITION and creates
 * nothing, even with `auto.create.topics.enable=true` (Kafka's handleProduceRequest checks its metadata
 * cache and never creates): auto-creation is the Metadata request's, when the request allows it —
 * which is what a producer sends first (and again after that error), so clients still get the topic.
 * With acks=0 there is no answer to carry the error: the connection closes instead, as in Kafka.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/generated/errors.js';
import { buildRecordBatch } from '../protocol/record-batch-builder.js';
import { startTestBroker, type TestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { ZERO_UUID } from './topic-admin.js';

interface ProduceBody {
  responses: { name: string; partitionResponses: { index: number; errorCode: number }[] }[];
}
interface MetadataBody {
  topics: { name: string; errorCode: number; partitions: unknown[] }[];
}

describe('Produce to an unknown topic', () => {
  let tb: TestBroker;
  let c: TestClient;

  beforeAll(async () => {
    tb = await startTestBroker({ 'auto.create.topics.enable': 'true', 'num.partitions': '2' });
    c = await TestClient.connect(tb.port);
  });
  afterAll(async () => {
    c?.socket.destroy();
    await tb?.close();
  });

  const produce = async (topic: string, acks = 1) =>
    (
      await c.request<ProduceBody>(0, 9, {
        transactionalId: null,
        acks,
        timeoutMs: 5000,
        topicData: [
          {
            name: topic,
            partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ value: 'v' }] }) }],
          },
        ],
      })
    ).responses[0]!.partitionResponses[0]!.errorCode;
  const metadata = async (topic: string, allowAutoTopicCreation: boolean) =>
    (
      await c.request<MetadataBody>(3, 12, {
        topics: [{ topicId: ZERO_UUID, name: topic }],
        allowAutoTopicCreation,
        includeTopicAuthorizedOperations: false,
      })
    ).topics[0]!;

  it('is refused and creates nothing, with auto-creation on', async () => {
    expect(await produce('fresh')).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(await produce('fresh', -1)).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await metadata('fresh', false)).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('with acks=0, closes the connection (the only way the client learns), and only on an error', async () => {
    const acksZero = (topic: string, records: Buffer) =>
      c.frame(0, 9, {
        transactionalId: null,
        acks: 0,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      });
    const good = buildRecordBatch({ records: [{ value: 'v' }] });
    await metadata('zero', true);
    // A good acks=0 produce answers nothing; the ApiVersions after it is answered on the same connection.
    const apiVersions = c.frame(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    await c.sendRaw(Buffer.concat([acksZero('zero', good), apiVersions]));
    expect(tb.broker.replicaManager.getPartition('zero', 0)!.logEndOffset).toBe(1);
    // To a topic that does not exist: nothing is appended or created, and the connection goes.
    c.socket.write(acksZero('nowhere', good));
    await c.waitClosed();
    expect(tb.broker.metadata.topic('nowhere')).toBeUndefined();
    // So does a batch the broker refuses (a wrong CRC), on a new connection.
    c = await TestClient.connect(tb.port);
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    c.socket.write(acksZero('zero', bad));
    await c.waitClosed();
    expect(tb.broker.replicaManager.getPartition('zero', 0)!.logEndOffset).toBe(1);
    c = await TestClient.connect(tb.port);
  });

  it('succeeds once a Metadata request that allows it has created the topic', async () => {
    const created = await metadata('fresh', true);
    expect(created.errorCode).toBe(0);
    expect(created.partitions).toHaveLength(2);
    expect(await produce('fresh')).toBe(0);
  });
});
