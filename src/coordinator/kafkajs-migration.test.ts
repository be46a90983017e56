/**
 * A classic client and a KIP-848 client in one group (Kafka's online migration), over TCP: kafkajs
 * 2.2.4 speaks only the classic protocol (JoinGroup/SyncGroup/Heartbeat); the other member is a
 * ConsumerGroupHeartbeat client written here (kafkajs has no KIP-848). A kafkajs group is upgraded
 * when the KIP-848 member joins, kafkajs rejoins the consumer group and keeps half the partitions,
 * and when the KIP-848 member leaves the group is a classic one again and kafkajs takes them all.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestBroker } from '../test-support/broker.js';
import { TestClient } from '../test-support/client.js';
import { until as waitUntil } from '../test-support/until.js';

const until = (what: string, check: () => boolean, ms = 30_000) => waitUntil(check, ms, what);

interface HeartbeatResponse {
  errorCode: number;
  memberEpoch: number;
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

/** A KIP-848 member: ConsumerGroupHeartbeat v1 every 200 ms, owning what it was last given. */
class Kip848Member {
  readonly memberId = randomUUID();
  epoch = 0;
  owned: { topicId: string; partitions: number[] }[] = [];
  errors: number[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly client: TestClient,
    private readonly groupId: string,
    private readonly topic: string,
  ) {}

  get partitions(): number[] {
    return this.owned.flatMap((t) => t.partitions).sort();
  }

  private async beat(memberEpoch: number): Promise<void> {
    const joining = memberEpoch === 0;
    const r = await this.client.request<HeartbeatResponse>(68, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: joining ? 10_000 : -1,
      subscribedTopicNames: joining ? [this.topic] : null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: memberEpoch < 0 ? null : joining ? [] : this.owned,
    });
    if (r.errorCode !== 0) {
      this.errors.push(r.errorCode);
      return;
    }
    this.epoch = r.memberEpoch;
    // It gives up revoked partitions at once: what it reports next is its new assignment.
    if (r.assignment) this.owned = r.assignment.topicPartitions;
  }

  async start(): Promise<void> {
    await this.beat(0);
    const tick = () => {
      this.timer = setTimeout(() => {
        this.beat(this.epoch).then(tick, () => {});
      }, 200);
    };
    tick();
  }

  async leave(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.beat(-1);
  }
}

describe('kafkajs with a KIP-848 member in one group', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('upgrades the kafkajs group, shares its partitions, and downgrades it when the KIP-848 member leaves', async () => {
    const tb = await startTestBroker({
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '1000',
    });
    cleanups.push(() => tb.close());
    const topic = 'mixed';
    await tb.broker.controller.createTopic(topic, 4);
    const kafka = new Kafka({ brokers: [tb.bootstrap], clientId: 'kafkajs', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const send = (from: number, n: number) =>
      producer.send({
        topic,
        messages: Array.from({ length: n }, (_, i) => ({ partition: (from + i) % 4, value: `m${from + i}` })),
      });
    await send(0, 200);

    // kafkajs alone: a classic group, all four partitions.
    const seen = new Set<string>();
    let assigned: number[] = [];
    const consumer = kafka.consumer({
      groupId: 'mixed-g',
      sessionTimeout: 6000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 200,
      maxWaitTimeInMs: 300,
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort();
    });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect().catch(() => {}));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.add(message.value!.toString());
      },
    });
    await until('kafkajs owns all four partitions', () => assigned.length === 4);
    await until('200 messages', () => seen.size === 200);
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    expect((await admin.describeGroups(['mixed-g'])).groups[0]).toMatchObject({
      state: 'Stable',
      protocolType: 'consumer',
    });

    // The KIP-848 member joins: the group becomes a consumer group; kafkajs rejoins it.
    const client = await TestClient.connect(tb.port);
    cleanups.push(() => client.close());
    const kip848 = new Kip848Member(client, 'mixed-g', topic);
    await kip848.start();
    cleanups.push(() => kip848.leave().catch(() => {}));
    await until(
      'two partitions each',
      () =>
        assigned.length === 2 &&
        kip848.partitions.length === 2 &&
        new Set([...assigned, ...kip848.partitions]).size === 4,
    );
    expect(kip848.errors).toEqual([]);
    const group = tb.broker.groupCoordinator.consumerGroup('mixed-g')!;
    expect(group.state).toBe('Stable');
    expect([...group.members.values()].map((m) => m.classicMemberMetadata !== null).sort()).toEqual([
      false,
      true,
    ]);
    // kafkajs reads its two partitions of new messages through the consumer group.
    await send(200, 200);
    const mine = (i: number) => assigned.includes(i % 4);
    await until('kafkajs reads its partitions’ new messages', () =>
      Array.from({ length: 200 }, (_, i) => 200 + i)
        .filter(mine)
        .every((i) => seen.has(`m${i}`)),
    );

    // The KIP-848 member leaves: a classic group again, kafkajs takes every partition and reads
    // what the other member never did.
    await kip848.leave();
    await until('kafkajs owns all four partitions again', () => assigned.length === 4);
    expect(tb.broker.groupCoordinator.consumerGroup('mixed-g')).toBeUndefined();
    await until('all 400 messages', () => seen.size === 400);
    expect((await admin.describeGroups(['mixed-g'])).groups[0]).toMatchObject({
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'RoundRobinAssigner',
    });
  });
});
