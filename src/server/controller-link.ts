/**
 * A broker's link to the controller of its in-process cluster, which a test can cut
 * (`Cluster.isolate`) and restore (`Cluster.heal`) as a network partition would:
 *
 * - metadata: while cut, the broker keeps acting on the last image it had (stale leaderships
 *   included); the latest image is remembered, and on restore the broker moves to it through the
 *   delta between the two (Kafka's broker catching up on the metadata log) — one image held, not
 *   every change missed;
 * - AlterPartition: a leader's ISR proposal waits until the link is back, then reaches the
 *   controller, which judges it on the state then (Kafka's AlterPartitionManager keeps resending
 *   an unanswered request); a partition has at most one proposal pending, so this waits on at
 *   most one entry per partition led.
 *
 * Heartbeats are the cluster's business: it fences a cut-off broker when its session expires.
 */
import type { MetadataListener } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/image.js';
import { imageDelta } from '../metadata/image-diff.js';
import type { AlterPartitionManager } from '../replication/alter-partition-manager.js';

export class ControllerLink {
  /** The image the broker last acted on. */
  private applied: MetadataImage | undefined;
  /** While cut: the controller's latest image (undefined when nothing changed since the cut). */
  private held: MetadataImage | undefined;
  private cutOff = false;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly apply: MetadataListener) {}

  get isCut(): boolean {
    return this.cutOff;
  }

  /** What the broker subscribes to the controller with. */
  readonly listener: MetadataListener = (delta, image) => {
    if (this.cutOff) {
      this.held = image;
      return;
    }
    this.applied = image;
    this.apply(delta, image);
  };

  cut(): void {
    this.cutOff = true;
  }

  /** The link is back: the broker catches up with the controller's image, waiting proposals go. */
  restore(): void {
    if (!this.cutOff) return;
    this.cutOff = false;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined && this.applied !== undefined && held !== this.applied) {
      const from = this.applied;
      this.applied = held;
      this.apply(imageDelta(from, held), held);
    }
    for (const release of [...this.waiting]) release();
    this.waiting.clear();
  }

  /** `inner`'s proposals, held while the link is cut. */
  alterPartitionManager(inner: AlterPartitionManager): AlterPartitionManager {
    return {
      submit: async (tp, proposed) => {
        if (this.cutOff) await new Promise<void>((resolve) => this.waiting.add(resolve));
        return inner.submit(tp, proposed);
      },
    };
  }
}
