/**
 * Automatic preferred-leader balancing (`auto.leader.rebalance.enable`), as Kafka's controller
 * documents and its classic controller did it (checkAndTriggerAutoLeaderRebalance): every
 * `leader.imbalance.check.interval.seconds`, for each broker, the partitions whose preferred
 * replica (the first of the replica list) it is are counted, and those led by another broker; when
 * that share is above `leader.imbalance.per.broker.percentage`, each of those partitions whose
 * preferred replica is alive and in the ISR gets a preferred-leader election (the same election as
 * ElectLeaders PREFERRED). Partitions being reassigned are left alone. A broker that comes back
 * after a failure thus gets its leaderships back without anyone running kafka-leader-election.
 */
import type { Logger } from '../common/logger.js';
import type { Time, Timer } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { MetadataImage, PartitionState, TopicImage } from './image.js';
import { isReassigning } from './reassignment.js';

/**
 * The partitions a balancing pass elects: by preferred broker, those led by another broker when the
 * broker's share of such partitions is above `percentage` and it may lead them (alive, in the ISR).
 */
export function partitionsToRebalance(
  image: MetadataImage,
  percentage: number,
  isAcceptableLeader: (brokerId: number) => boolean,
): { topic: TopicImage; partition: PartitionState }[] {
  const total = new Map<number, number>();
  const notLed = new Map<number, { topic: TopicImage; partition: PartitionState }[]>();
  for (const topic of image.topics()) {
    for (const partition of topic.partitions) {
      const preferred = partition.replicas[0];
      if (preferred === undefined || isReassigning(partition)) continue;
      total.set(preferred, (total.get(preferred) ?? 0) + 1);
      if (partition.leader === preferred) continue;
      let list = notLed.get(preferred);
      if (!list) {
        list = [];
        notLed.set(preferred, list);
      }
      list.push({ topic, partition });
    }
  }
  const out: { topic: TopicImage; partition: PartitionState }[] = [];
  for (const [broker, list] of notLed) {
    const ratio = list.length / total.get(broker)!;
    if (ratio <= percentage / 100) continue;
    if (!isAcceptableLeader(broker)) continue;
    for (const c of list) if (c.partition.isr.includes(broker)) out.push(c);
  }
  return out;
}

/** What the balancer needs of the controller. */
export interface LeaderBalancingController {
  /** One balancing pass: the preferred-leader elections it made. */
  maybeBalancePartitionLeaders(): Promise<number>;
}

/** Runs a balancing pass every `leader.imbalance.check.interval.seconds` on the broker clock while enabled. */
export class AutoLeaderBalancer {
  private timer: Timer | undefined;
  private stopped = false;

  constructor(
    private readonly controller: LeaderBalancingController,
    private readonly config: BrokerConfig,
    private readonly time: Time,
    private readonly log?: Logger,
  ) {}

  start(): void {
    if (this.stopped || this.timer || !this.config.bool('auto.leader.rebalance.enable')) return;
    this.schedule();
  }

  private schedule(): void {
    const intervalMs = this.config.int('leader.imbalance.check.interval.seconds') * 1000;
    this.timer = this.time.setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, intervalMs);
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      const elected = await this.controller.maybeBalancePartitionLeaders();
      if (elected > 0) this.log?.info(`leader balancing: ${elected} preferred leader(s) elected`);
    } catch (err) {
      this.log?.error('leader balancing failed', err);
    }
    if (!this.stopped) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }
}
