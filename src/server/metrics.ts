/**
 * In-process counters the broker keeps about itself (requests per API with latency, bytes in/out,
 * messages in). The admin HTTP listener exposes them; tests and benchmarks read them directly.
 */
export interface ApiStats {
  count: number;
  totalMs: number;
  maxMs: number;
}

export class Metrics {
  readonly requests = new Map<string, ApiStats>();
  readonly bytesIn = new Map<string, number>();
  readonly bytesOut = new Map<string, number>();
  readonly messagesIn = new Map<string, number>();
  connections = 0;

  requestCompleted(api: string, ms: number): void {
    let s = this.requests.get(api);
    if (!s) {
      s = { count: 0, totalMs: 0, maxMs: 0 };
      this.requests.set(api, s);
    }
    s.count++;
    s.totalMs += ms;
    if (ms > s.maxMs) s.maxMs = ms;
  }

  produced(topic: string, bytes: number, messages: number): void {
    this.bytesIn.set(topic, (this.bytesIn.get(topic) ?? 0) + bytes);
    this.messagesIn.set(topic, (this.messagesIn.get(topic) ?? 0) + messages);
  }

  fetched(topic: string, bytes: number): void {
    this.bytesOut.set(topic, (this.bytesOut.get(topic) ?? 0) + bytes);
  }
}
