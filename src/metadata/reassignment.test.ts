/**
 * Partition reassignment on the controller (Kafka's ReplicationControlManager): a move adds the
 * target replicas beside the current ones, ends once the ISR holds every kept replica (moving the
 * leader off a removed broker, bumping the leader epoch), and can be cancelled; refusals carry
 * Kafka's codes and messages. The data path (followers catching up, removed logs deleted) is
 * tested over a real cluster in src/server/reassignment.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { tmpDir } from '../storage/test-helpers.js';
import { type LocalController, openLocalController } from './controller.js';
import { maybeCompleteReassignment } from './partition-change.js';
import { reassignmentReplicas } from './reassignment.js';

const endpoint = (port: number) => [{ name: 'PLAINTEXT', host: 'h', port, securityProtocol: 'PLAINTEXT' }];

function cluster(dir = tmpDir()) {
  const c = openLocalController({ dataDir: dir, nodeId: 1, config: new BrokerConfig({}), random: () => 0 });
  const epochs = new Map([1, 2, 3, 4].map((id) => [id, c.registerBroker(id, endpoint(9090 + id), null)]));
  c.createTopics(
    [
      {
        name: 't',
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [
          { partitionIndex: 0, brokerIds: [1, 2, 3] },
          { partitionIndex: 1, brokerIds: [2, 3, 1] },
        ],
        configs: [],
      },
    ],
    false,
  );
  return { c, dir, epochs };
}

const part = (c: LocalController, p: number) => c.image.topic('t')!.partitions[p]!;

const reassign = async (
  c: LocalController,
  partitionIndex: number,
  replicas: number[] | null,
  allowRf = true,
) =>
  (
    await c.alterPartitionReassignments([{ name: 't', partitions: [{ partitionIndex, replicas }] }], allowRf)
  )[0]!.partitions[0]!;

async function alterIsr(c: LocalController, brokerId: number, partitionIndex: number, isr: number[]) {
  const p = part(c, partitionIndex);
  const res = await c.alterPartition(
    {
      brokerId,
      brokerEpoch: -1,
      topics: [
        {
          topicId: c.image.topic('t')!.topicId,
          partitions: [
            {
              partitionIndex,
              leaderEpoch: p.leaderEpoch,
              partitionEpoch: p.partitionEpoch,
              newIsrWithEpochs: isr.map((id) => ({ brokerId: id, brokerEpoch: -1 })),
              leaderRecoveryState: 0,
            },
          ],
        },
      ],
    },
    3,
  );
  return res.topics[0]!.partitions[0]!;
}

describe('partition reassignment (controller)', () => {
  it('a move adds the target replicas, then ends when they are in the ISR: leader moves, epoch bumps', async () => {
    const { c } = cluster();
    expect(await reassign(c, 0, [2, 3, 4])).toEqual({ partitionIndex: 0, errorCode: 0, errorMessage: null });
    expect(part(c, 0)).toMatchObject({
      replicas: [2, 3, 4, 1],
      addingReplicas: [4],
      removingReplicas: [1],
      isr: [1, 2, 3],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 1,
    });
    expect(await c.listPartitionReassignments(null)).toEqual([
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1] },
        ],
      },
    ]);
    // Named partitions: only those reassigning; unknown topics and partitions are left out.
    expect(
      await c.listPartitionReassignments([
        { name: 't', partitionIndexes: [1, 7] },
        { name: 'nope', partitionIndexes: [0] },
      ]),
    ).toEqual([]);
    // The leader proposes the caught-up broker 4 into the ISR: that ends the reassignment, and
    // leader 1 (removed) hands over to the first kept replica in the ISR.
    expect((await alterIsr(c, 1, 0, [1, 2, 3, 4])).errorCode).toBe(ErrorCode.NEW_LEADER_ELECTED);
    expect(part(c, 0)).toMatchObject({
      replicas: [2, 3, 4],
      addingReplicas: [],
      removingReplicas: [],
      isr: [2, 3, 4],
      leader: 2,
      leaderEpoch: 1,
      partitionEpoch: 2,
    });
    expect(await c.listPartitionReassignments(null)).toEqual([]);
  });

  it('removing replicas of the ISR or reordering ends at once; a removal bumps the leader epoch', async () => {
    const { c } = cluster();
    await reassign(c, 0, [1, 2]);
    expect(part(c, 0)).toMatchObject({
      replicas: [1, 2],
      isr: [1, 2],
      addingReplicas: [],
      removingReplicas: [],
      leader: 1,
      leaderEpoch: 1,
    });
    await reassign(c, 1, [1, 3, 2]);
    expect(part(c, 1)).toMatchObject({ replicas: [1, 3, 2], isr: [2, 3, 1], leader: 2, leaderEpoch: 0 });
    // The same assignment again: nothing to change, accepted.
    expect(await reassign(c, 1, [1, 3, 2])).toMatchObject({ errorCode: 0 });
    expect(part(c, 1).partitionEpoch).toBe(1);
  });

  it('null replicas cancel: the added replicas go, the removed ones stay', async () => {
    const { c } = cluster();
    await reassign(c, 0, [1, 2, 4]);
    expect(part(c, 0)).toMatchObject({ replicas: [1, 2, 4, 3], addingReplicas: [4], removingReplicas: [3] });
    expect(await reassign(c, 0, null)).toMatchObject({ errorCode: 0 });
    expect(part(c, 0)).toMatchObject({
      replicas: [1, 2, 3],
      addingReplicas: [],
      removingReplicas: [],
      isr: [1, 2, 3],
      leader: 1,
    });
    expect(await reassign(c, 0, null)).toEqual({
      partitionIndex: 0,
      errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
      errorMessage: 'No partition reassignment is in progress.',
    });
  });

  it("refusals carry Kafka's codes and messages; the other partitions of the request go through", async () => {
    const { c } = cluster();
    const results = await c.alterPartitionReassignments(
      [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, replicas: [1, 9] },
            { partitionIndex: 1, replicas: [2, 2] },
            { partitionIndex: 5, replicas: [1] },
            { partitionIndex: 0, replicas: [] },
          ],
        },
        { name: 'nope', partitions: [{ partitionIndex: 0, replicas: [1] }] },
      ],
      true,
    );
    expect(results).toEqual([
      {
        name: 't',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            errorMessage:
              'The manual partition assignment includes broker 9, but no such broker is registered.',
          },
          {
            partitionIndex: 1,
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            errorMessage: 'The manual partition assignment includes the broker 2 more than once.',
          },
          {
            partitionIndex: 5,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'Unable to find partition t:5.',
          },
          {
            partitionIndex: 0,
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            errorMessage: 'The manual partition assignment includes an empty replica list.',
          },
        ],
      },
      {
        name: 'nope',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'Unable to find a topic named nope.',
          },
        ],
      },
    ]);
    // KIP-860: a changed replica count is refused when the request does not allow it.
    expect(await reassign(c, 0, [1, 2], false)).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
    });
    expect(await reassign(c, 0, [2, 1, 4], false)).toMatchObject({ errorCode: 0 });
    expect(part(c, 0).addingReplicas).toEqual([4]);
  });

  it('an ongoing reassignment is in the metadata log: a reopened controller has it', async () => {
    const { c, dir } = cluster();
    await reassign(c, 0, [2, 3, 4]);
    const again = openLocalController({ dataDir: dir, nodeId: 1, config: new BrokerConfig({}) });
    expect(part(again, 0)).toMatchObject({
      replicas: [2, 3, 4, 1],
      addingReplicas: [4],
      removingReplicas: [1],
    });
    // A snapshot keeps it too.
    again.close();
    const third = openLocalController({ dataDir: dir, nodeId: 1, config: new BrokerConfig({}) });
    expect(part(third, 0)).toMatchObject({ addingReplicas: [4], removingReplicas: [1] });
    third.close();
  });

  it('a fenced added replica holds the reassignment; back and caught up, it ends it', async () => {
    const { c } = cluster();
    // [1,2,3] -> [1,2,4]: waits for 4. Then 4 is fenced: it cannot join, nothing ends.
    await reassign(c, 0, [1, 2, 4]);
    await c.fenceBroker(4);
    expect(part(c, 0).addingReplicas).toEqual([4]);
    c.unfenceBroker(4);
    await alterIsr(c, 1, 0, [1, 2, 3, 4]);
    expect(part(c, 0)).toMatchObject({ replicas: [1, 2, 4], isr: [1, 2, 4], leader: 1, leaderEpoch: 1 });
  });
});

describe('reassignment arithmetic (Kafka PartitionReassignmentReplicas)', () => {
  it('the union keeps the target first; adding and removing are sorted', () => {
    expect(reassignmentReplicas([3, 1, 2], [4, 2, 5])).toEqual({
      replicas: [4, 2, 5, 1, 3],
      adding: [4, 5],
      removing: [1, 3],
    });
    expect(reassignmentReplicas([1, 2], [2, 1])).toEqual({ replicas: [2, 1], adding: [], removing: [] });
  });

  it('completes only when every kept replica is in the ISR without the removed ones', () => {
    expect(maybeCompleteReassignment([4, 2, 1], [4], [1], [1, 2])).toBeNull();
    expect(maybeCompleteReassignment([4, 2, 1], [4], [1], [1, 2, 4])).toEqual({
      replicas: [4, 2],
      isr: [2, 4],
    });
    // Only removed replicas in the ISR: cannot end.
    expect(maybeCompleteReassignment([2, 1], [], [1], [1])).toBeNull();
    expect(maybeCompleteReassignment([1, 2], [], [], [1, 2])).toBeNull();
  });
});
