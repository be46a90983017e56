/**
 * Kafka's ConnectionQuotas, for accepting: `max.connections.per.ip` with
 * `max.connections.per.ip.overrides` (`ip:count,...`; kbroker compares the text of the address and
 * does not resolve host names) and `max.connections`. A connection over a limit is closed as soon
 * as it is accepted (Kafka closes per-IP excess the same way; for the broker-wide limit Kafka's
 * acceptor instead waits for a slot, leaving the new connection in the listen backlog).
 */
import type { BrokerConfig } from '../config/broker-config.js';

export class ConnectionQuotas {
  private readonly perIp = new Map<string, number>();
  private total = 0;
  private readonly maxTotal: number;
  private readonly maxPerIp: number;
  private readonly overrides = new Map<string, number>();

  constructor(config: BrokerConfig) {
    this.maxTotal = config.int('max.connections');
    this.maxPerIp = config.int('max.connections.per.ip');
    for (const entry of config.string('max.connections.per.ip.overrides').split(',')) {
      const e = entry.trim();
      if (e === '') continue;
      const colon = e.lastIndexOf(':');
      const count = Number(e.slice(colon + 1));
      if (colon <= 0 || !Number.isInteger(count) || count < 0) {
        throw new Error(
          `Invalid value ${e} for configuration max.connections.per.ip.overrides: not ip:count`,
        );
      }
      this.overrides.set(normalize(e.slice(0, colon)), count);
    }
  }

  /** Takes a slot for a new connection from `address`; null if taken, else the limit it broke. */
  tryAcquire(address: string | undefined): string | null {
    const ip = normalize(address ?? '');
    if (this.total >= this.maxTotal) return `max.connections ${this.maxTotal}`;
    const limit = this.overrides.get(ip) ?? this.maxPerIp;
    const n = this.perIp.get(ip) ?? 0;
    if (n >= limit) return `max.connections.per.ip ${limit} for ${ip}`;
    this.perIp.set(ip, n + 1);
    this.total++;
    return null;
  }

  release(address: string | undefined): void {
    const ip = normalize(address ?? '');
    const n = this.perIp.get(ip) ?? 0;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
    if (this.total > 0) this.total--;
  }
}

function normalize(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip;
}
