/**
 * One broker-to-broker connection speaking the Kafka protocol with our own codec (the part of Kafka's
 * NetworkClient / BlockingSend a replica fetcher uses): requests go one at a time in order, each
 * answered or failed by `replica.socket.timeout.ms`. The response frame's size is checked against a
 * bound before anything is buffered beyond it, so a peer cannot make the follower hold more than
 * `maxResponseBytes`; a violation, a timeout or a mismatched correlation id closes the connection and
 * fails every waiting request (the fetcher then backs off and reconnects).
 */
import { connect, type Socket } from 'node:net';
import type { Time, Timer } from '../common/time.js';
import { codecFor, Reader, Writer } from '../protocol/codec.js';
import { requestSpecs, responseSpecs } from '../protocol/generated/messages.js';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/headers.js';

export interface BrokerEndpoint {
  readonly host: string;
  readonly port: number;
}

export class BrokerConnectionError extends Error {
  override name = 'BrokerConnectionError';
}

interface Waiter {
  readonly correlationId: number;
  readonly apiKey: number;
  readonly version: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: Timer;
}

export interface BrokerClientOptions {
  readonly clientId: string;
  readonly time: Time;
  /** Largest response frame accepted (bytes after the size prefix). */
  readonly maxResponseBytes: number;
  /** How long a request may wait for its response (`replica.socket.timeout.ms`). */
  readonly requestTimeoutMs: number;
}

export class BrokerClient {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly waiters: Waiter[] = [];
  private nextCorrelationId = 1;
  private failure: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: BrokerClientOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new BrokerConnectionError(err.message)));
    socket.on('close', () => this.fail(new BrokerConnectionError('connection closed')));
  }

  static connect(endpoint: BrokerEndpoint, opts: BrokerClientOptions): Promise<BrokerClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: endpoint.host, port: endpoint.port });
      const timer = opts.time.setTimeout(() => {
        socket.destroy();
        reject(new BrokerConnectionError(`connecting to ${endpoint.host}:${endpoint.port} timed out`));
      }, opts.requestTimeoutMs);
      socket.once('connect', () => {
        timer.cancel();
        socket.removeAllListeners('error');
        resolve(new BrokerClient(socket, opts));
      });
      socket.once('error', (err) => {
        timer.cancel();
        reject(new BrokerConnectionError(err.message));
      });
    });
  }

  get isOpen(): boolean {
    return this.failure === null;
  }

  /** Sends one request and resolves with its decoded response body. */
  send<T>(apiKey: number, version: number, body: unknown): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    const w = new Writer();
    w.int32(0);
    w.int16(apiKey);
    w.int16(version);
    w.int32(correlationId);
    w.string(this.opts.clientId);
    if (requestHeaderVersion(apiKey, version) >= 2) w.uvarint(0);
    codecFor(requestSpecs.get(apiKey)!, version).write(w, body);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    return new Promise<T>((resolve, reject) => {
      const timer = this.opts.time.setTimeout(
        () => this.fail(new BrokerConnectionError(`request ${apiKey} v${version} timed out`)),
        this.opts.requestTimeoutMs,
      );
      this.waiters.push({
        correlationId,
        apiKey,
        version,
        resolve: resolve as (body: unknown) => void,
        reject,
        timer,
      });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.fail(new BrokerConnectionError('connection closed by the fetcher'));
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== null) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.take(4, false);
      const size = head.readInt32BE(0);
      if (size < 4 || size > this.opts.maxResponseBytes) {
        this.fail(
          new BrokerConnectionError(`response of ${size} bytes (bound ${this.opts.maxResponseBytes})`),
        );
        return;
      }
      if (this.buffered < 4 + size) return;
      this.take(4, true);
      const frame = this.take(size, true);
      try {
        this.onFrame(frame);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
  }

  /** The first `n` buffered bytes as one buffer (a slice when they sit in one chunk); consumed when `consume`. */
  private take(n: number, consume: boolean): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) out = first.subarray(0, n);
    else {
      out = Buffer.allocUnsafe(n);
      let copied = 0;
      for (const c of this.chunks) {
        const k = Math.min(c.length, n - copied);
        c.copy(out, copied, 0, k);
        copied += k;
        if (copied === n) break;
      }
    }
    if (!consume) return out;
    let left = n;
    while (left > 0) {
      const c = this.chunks[0]!;
      if (c.length <= left) {
        this.chunks.shift();
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return out;
  }

  private onFrame(frame: Buffer): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) throw new BrokerConnectionError('a response nobody asked for');
    waiter.timer.cancel();
    const r = new Reader(frame);
    const correlationId = r.int32();
    if (correlationId !== waiter.correlationId) {
      this.waiters.unshift(waiter);
      throw new BrokerConnectionError(`correlation id ${correlationId}, expected ${waiter.correlationId}`);
    }
    if (responseHeaderVersion(waiter.apiKey, waiter.version) >= 1) {
      const tagged = r.uvarint();
      for (let i = 0; i < tagged; i++) {
        r.uvarint();
        r.sub(r.uvarint());
      }
    }
    waiter.resolve(codecFor(responseSpecs.get(waiter.apiKey)!, waiter.version).read(r));
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.chunks.length = 0;
    this.buffered = 0;
    for (const w of this.waiters.splice(0)) {
      w.timer.cancel();
      w.reject(err);
    }
    this.socket.destroy();
  }
}
