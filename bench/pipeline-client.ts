/**
 * A raw pipelining client for the benchmarks: sends pre-encoded frames with up to `window`
 * in flight and records each request's round-trip time.
 */
import { connect, type Socket } from 'node:net';

export class PipelineClient {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly pending: { sentAt: number; resolve: (frame: Buffer) => void }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.pending.shift()!.resolve(frame);
      }
    });
  }

  static connect(port: number): Promise<PipelineClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => resolve(new PipelineClient(s)));
      s.once('error', reject);
    });
  }

  send(frame: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.pending.push({ sentAt: performance.now(), resolve });
      this.socket.write(frame);
    });
  }

  /** Sends `count` frames made by `make(i)` keeping `window` in flight; returns RTTs in ms. */
  async run(
    count: number,
    window: number,
    make: (i: number) => Buffer,
    onReply?: (f: Buffer) => void,
  ): Promise<number[]> {
    const rtts: number[] = new Array(count);
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        const reply = await this.send(make(i));
        rtts[i] = performance.now() - t0;
        onReply?.(reply);
      }
    };
    await Promise.all(Array.from({ length: window }, lane));
    return rtts;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
