/**
 * An etcd lease kept alive by this process: the session behind a controller's leadership and a
 * broker's registration. Keys written with it vanish when it expires, which is how the others
 * learn that this process died or lost etcd.
 *
 * Renewed every third of its TTL. It counts as lost (and `lost` resolves) when etcd says it has
 * expired, when it was revoked, or when no renewal has succeeded for a whole TTL: by then etcd may
 * have expired it, so the holder must stop acting on it even before hearing so (its writes are
 * fenced in etcd anyway).
 */
import { systemTime, type Time, type Timer } from '../../common/time.js';
import type { EtcdClient } from './client.js';

export class EtcdLease {
  private timer: Timer | undefined;
  private alive = true;
  private renewing = false;
  private lastRenewedAt: number;
  private resolveLost!: () => void;
  /** Resolves once the lease is gone or counted as lost. */
  readonly lost: Promise<void>;
  /** Why it was lost, once it is. */
  lostReason: string | undefined;

  private constructor(
    private readonly client: EtcdClient,
    readonly id: string,
    readonly ttlMs: number,
    private readonly time: Time,
  ) {
    this.lastRenewedAt = time.now();
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
    this.timer = time.setInterval(() => void this.renew(), Math.max(100, Math.floor(ttlMs / 3)));
  }

  /** Grants a lease of `ttlMs` (rounded up to whole seconds, as etcd counts) and keeps it alive. */
  static async grant(client: EtcdClient, ttlMs: number, time: Time = systemTime): Promise<EtcdLease> {
    const started = time.now();
    const { id, ttlSeconds } = await client.leaseGrant(Math.max(1, Math.ceil(ttlMs / 1000)));
    const lease = new EtcdLease(client, id, ttlSeconds * 1000, time);
    lease.lastRenewedAt = started;
    return lease;
  }

  isAlive(): boolean {
    return this.alive;
  }

  /** Revokes the lease (its keys are deleted now, not at expiry). */
  async revoke(): Promise<void> {
    const wasAlive = this.alive;
    this.markLost('revoked');
    if (wasAlive) await this.client.leaseRevoke(this.id);
  }

  /** Stops renewing without revoking: the lease expires after its TTL, as if this process died. */
  abandon(): void {
    this.markLost('abandoned');
  }

  private async renew(): Promise<void> {
    if (!this.alive) return;
    if (this.time.now() - this.lastRenewedAt >= this.ttlMs) {
      this.markLost(`not renewed for ${this.ttlMs} ms`);
      return;
    }
    if (this.renewing) return;
    this.renewing = true;
    const sentAt = this.time.now();
    try {
      const ttlSeconds = await this.client.leaseKeepAlive(this.id);
      if (ttlSeconds <= 0) this.markLost('expired in etcd');
      else this.lastRenewedAt = sentAt;
    } catch {
      // Retried at the next tick until a whole TTL has passed without a renewal.
    } finally {
      this.renewing = false;
    }
  }

  private markLost(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.lostReason = reason;
    this.timer?.cancel();
    this.timer = undefined;
    this.resolveLost();
  }
}
