/**
 * The last minutes of the broker's counters, for the console's live charts: every `intervalMs`
 * the all-topics totals that /metrics exports (kafka_server_brokertopicmetrics_messagesin_total,
 * _bytesin_total, _bytesout_total, kbroker_server_brokertopicmetrics_messagesout_total), the
 * bytes on disk (sum of kafka_log_log_size) and the open connections are copied into a ring. The page turns consecutive samples into rates, so a chart
 * has history as soon as it opens.
 */
import type { Broker } from '../server/broker.js';

export interface Sample {
  /** Wall-clock time of the sample (ms since the epoch). */
  t: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  bytesOnDisk: number;
  connections: number;
}

export class Sampler {
  private readonly ring: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly intervalMs = 2000,
    /** Samples kept: 5 minutes at the default interval. */
    readonly capacity = 150,
  ) {}

  /** The counters now. */
  current(broker: Broker): Sample {
    const m = broker.metrics;
    let bytesOnDisk = 0;
    for (const p of broker.replicaManager.allPartitions()) bytesOnDisk += p.log.size;
    return {
      t: Date.now(),
      messagesIn: m.totals.messagesIn,
      messagesOut: m.totals.messagesOut,
      bytesIn: m.totals.bytesIn,
      bytesOut: m.totals.bytesOut,
      bytesOnDisk,
      connections: m.connections,
    };
  }

  start(broker: Broker): void {
    this.stop();
    this.record(broker);
    this.timer = setInterval(() => this.record(broker), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  samples(): Sample[] {
    return [...this.ring];
  }

  private record(broker: Broker): void {
    if (!broker.listening) return;
    this.ring.push(this.current(broker));
    if (this.ring.length > this.capacity) this.ring.shift();
  }
}
