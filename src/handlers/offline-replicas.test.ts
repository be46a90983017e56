/**
 * Metadata (v5+) and DescribeTopicPartitions list the replicas on brokers that are not alive
 * (fenced or gone) as offline_replicas, as Kafka's KRaftMetadataCache does: three brokers in one
 * process, one stopped (controlled shutdown fences it), then started again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../test-support/client.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { until } from '../test-support/until.js';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster(3, { 'replica.fetch.wait.max.ms': '100' });
  c.createTopic('t', [[1, 2, 3]]);
});

afterAll(async () => {
  await c?.close();
});

type Part = { partitionIndex: number; replicaNodes: number[]; isrNodes: number[]; offlineReplicas: number[] };

async function describeBoth(): Promise<{ metadata: Part; describe: Part }> {
  const client = await TestClient.connect(c.cluster.broker(1)!.port);
  try {
    const md = await client.request<{ topics: { partitions: Part[] }[] }>(3, 12, {
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 't' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const dtp = await client.request<{ topics: { partitions: Part[] }[] }>(75, 0, {
      topics: [{ name: 't' }],
      responsePartitionLimit: 100,
      cursor: null,
    });
    return { metadata: md.topics[0]!.partitions[0]!, describe: dtp.topics[0]!.partitions[0]! };
  } finally {
    client.close();
  }
}

describe('offline replicas', () => {
  it('a stopped broker is an offline replica until it is back', async () => {
    let r = await describeBoth();
    expect(r.metadata.offlineReplicas).toEqual([]);
    expect(r.describe.offlineReplicas).toEqual([]);
    await c.cluster.stopBroker(3);
    r = await describeBoth();
    expect(r.metadata).toMatchObject({ replicaNodes: [1, 2, 3], isrNodes: [1, 2], offlineReplicas: [3] });
    expect(r.describe).toMatchObject({ replicaNodes: [1, 2, 3], isrNodes: [1, 2], offlineReplicas: [3] });
    await c.cluster.startBroker(3);
    await until(
      async () => (await describeBoth()).metadata.offlineReplicas.length === 0,
      10_000,
      'broker 3 back',
    );
    r = await describeBoth();
    expect(r.describe.offlineReplicas).toEqual([]);
  });
});
