/**
 * A raw pipelining client for the benchmarks: sends pre-encoded frames with up to `window`
 * in flight and records each request's round-trip time.
 */
import { connect, type Socket } from 'node:net';

export class PipelineClient {
  /** Received bytes not yet cut into frames: chunks joined only once a whole frame is in. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly pending: { sentAt: number; resolve: (frame: Buffer) => void }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      // A large reply (a 1 MiB fetch) arrives in many reads: joining them at each read copied it
      // over and over (quadratic in its size), a cost of the client, not of the server measured.
      while (this.buffered >= 4) {
        if (this.chunks[0]!.length < 4) this.join();
        const size = this.chunks[0]!.readInt32BE(0);
        if (this.buffered < 4 + size) break;
        if (this.chunks[0]!.length < 4 + size) this.join();
        const head = this.chunks[0]!;
        const frame = head.subarray(4, 4 + size);
        if (head.length === 4 + size) this.chunks.shift();
        else this.chunks[0] = head.subarray(4 + size);
        this.buffered -= 4 + size;
        this.pending.shift()!.resolve(frame);
      }
    });
  }

  private join(): void {
    this.chunks = [Buffer.concat(this.chunks)];
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
