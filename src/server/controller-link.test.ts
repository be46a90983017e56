import { describe, expect, it } from 'vitest';
import { type MetadataDelta, MetadataImage } from '../metadata/image.js';
import type { AlterPartitionResult } from '../replication/alter-partition-manager.js';
import { ControllerLink } from './controller-link.js';

const broker = (brokerId: number, fenced: boolean) => ({
  type: 'RegisterBrokerRecord' as const,
  brokerId,
  brokerEpoch: brokerId,
  rack: null,
  endpoints: [],
  fenced,
});

describe('ControllerLink', () => {
  it('while cut, holds the latest image only; restored, applies the delta from the one it had', () => {
    const applied: [MetadataDelta, MetadataImage][] = [];
    const link = new ControllerLink((d, i) => applied.push([d, i]));
    const s1 = MetadataImage.EMPTY.apply([broker(1, false)]);
    link.listener(s1.delta, s1.image);
    expect(applied).toHaveLength(1);
    link.cut();
    const s2 = s1.image.apply([broker(2, false)]);
    const s3 = s2.image.apply([
      { type: 'BrokerRegistrationChangeRecord', brokerId: 1, brokerEpoch: 1, fenced: true },
    ]);
    link.listener(s2.delta, s2.image);
    link.listener(s3.delta, s3.image);
    expect(applied).toHaveLength(1);
    link.restore();
    expect(applied).toHaveLength(2);
    expect(applied[1]![1]).toBe(s3.image);
    expect([...applied[1]![0].changedBrokers].sort()).toEqual([1, 2]);
    // Restoring again, or a cut with no change meanwhile, applies nothing.
    link.restore();
    link.cut();
    link.restore();
    expect(applied).toHaveLength(2);
  });

  it('holds ISR proposals until the link is back', async () => {
    const link = new ControllerLink(() => {});
    const sent: number[] = [];
    const manager = link.alterPartitionManager({
      submit: async (_tp, proposed): Promise<AlterPartitionResult> => {
        sent.push(proposed.partitionEpoch);
        return { error: 'NONE', leaderAndIsr: proposed };
      },
    });
    const tp = { topicId: 'x', topic: 't', partition: 0 };
    await manager.submit(tp, { leader: 1, leaderEpoch: 0, isr: [1], partitionEpoch: 1 });
    link.cut();
    const held = manager.submit(tp, { leader: 1, leaderEpoch: 0, isr: [1], partitionEpoch: 2 });
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([1]);
    link.restore();
    await expect(held).resolves.toMatchObject({ error: 'NONE' });
    expect(sent).toEqual([1, 2]);
  });
});
