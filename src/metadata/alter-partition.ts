/**
 * A broker's AlterPartitionManager on the controller of its process: a leader's ISR proposal becomes
 * the controller's AlterPartition (version 3, members with unknown broker epochs), validated and
 * committed there with a new partition epoch; the committed registration reaches every broker of
 * the cluster through the metadata delta (ReplicaManager.applyDelta), the proposer included, and
 * the proposer gets the answer as Kafka's AlterPartition response would give it.
 */
import { errorName } from '../protocol/generated/errors.js';
import type {
  AlterPartitionManager,
  AlterPartitionResult,
  LeaderAndIsr,
  TopicIdPartition,
} from '../replication/alter-partition-manager.js';
import type { Controller } from './controller.js';

const ALTER_PARTITION_VERSION = 3;

export class ControllerAlterPartitionManager implements AlterPartitionManager {
  constructor(
    private readonly controller: Pick<Controller, 'alterPartition'>,
    private readonly brokerId: number,
    /** This broker's registration epoch, checked by the controller (STALE_BROKER_EPOCH); -1: not checked. */
    private readonly brokerEpoch: () => number = () => -1,
  ) {}

  async submit(tp: TopicIdPartition, proposed: LeaderAndIsr): Promise<AlterPartitionResult> {
    // As a request would: the proposer has recorded its pending change before the answer comes.
    await Promise.resolve();
    const response = await this.controller.alterPartition(
      {
        brokerId: this.brokerId,
        brokerEpoch: this.brokerEpoch(),
        topics: [
          {
            topicId: tp.topicId,
            partitions: [
              {
                partitionIndex: tp.partition,
                leaderEpoch: proposed.leaderEpoch,
                newIsrWithEpochs:
                  proposed.isrWithEpochs?.map((m) => ({ ...m })) ??
                  proposed.isr.map((brokerId) => ({ brokerId, brokerEpoch: -1 })),
                leaderRecoveryState: 0,
                partitionEpoch: proposed.partitionEpoch,
              },
            ],
          },
        ],
      },
      ALTER_PARTITION_VERSION,
    );
    const top = errorName(response.errorCode) ?? 'UNKNOWN_SERVER_ERROR';
    if (top !== 'NONE') return { error: top };
    const p = response.topics[0]?.partitions[0];
    if (!p) return { error: 'UNKNOWN_SERVER_ERROR', message: 'empty AlterPartition response' };
    const error = errorName(p.errorCode) ?? 'UNKNOWN_SERVER_ERROR';
    if (error !== 'NONE') return { error };
    return {
      error: 'NONE',
      leaderAndIsr: {
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        isr: p.isr,
        partitionEpoch: p.partitionEpoch,
      },
    };
  }
}
