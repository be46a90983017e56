// log.cleaner.io.max.bytes.per.second (Kafka's Throttler): after every read or write the cleaner reports
// its bytes; once the rate over the current period is above the limit it sleeps long enough to bring it
// back down. Sleeping is the caller's (a worker thread blocks; the event loop never does).
export class Throttler {
  private periodStart: number;
  private observed = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => void,
    private readonly checkIntervalMs = 300,
  ) {
    this.periodStart = now();
  }

  maybeThrottle(bytes: number): void {
    if (!(this.bytesPerSecond > 0) || !Number.isFinite(this.bytesPerSecond)) return;
    this.observed += bytes;
    const elapsed = this.now() - this.periodStart;
    if (elapsed < this.checkIntervalMs && this.observed < this.bytesPerSecond) return;
    const rate = (this.observed * 1000) / Math.max(elapsed, 1);
    if (rate > this.bytesPerSecond) {
      const desiredMs = (this.observed * 1000) / this.bytesPerSecond;
      const sleepMs = Math.round(desiredMs - elapsed);
      if (sleepMs > 0) this.sleep(sleepMs);
    }
    this.periodStart = this.now();
    this.observed = 0;
  }
}
