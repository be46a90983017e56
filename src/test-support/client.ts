/**
 * A minimal Kafka client for tests: sends requests encoded by our codec over a real TCP socket
 * and decodes the responses, so tests can issue any (api, version) and also raw bytes.
 */
import { connect, type Socket } from 'node:net';
import { codecFor, Reader, Writer } from '../protocol/codec.js';
import { requestSpecs, responseSpecs } from '../protocol/generated/messages.js';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/headers.js';

export class TestClient {
  private buffered = Buffer.alloc(0);
  private readonly waiters: { resolve: (frame: Buffer) => void; reject: (e: Error) => void }[] = [];
  private correlationId = 1;
  private closedError: Error | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) break;
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiters.shift()?.resolve(frame);
      }
    });
    socket.on('close', () => {
      this.closedError = new Error('connection closed');
      for (const w of this.waiters.splice(0)) w.reject(this.closedError);
    });
    socket.on('error', () => {});
  }

  /** `localAddress`: the address to connect from (127.0.0.2, ... for another client address). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () =>
        resolve(new TestClient(s)),
      );
      s.once('error', reject);
    });
  }

  /** Resolves when the broker closes the connection (rejects after `ms`). */
  waitClosed(ms = 5000): Promise<void> {
    if (this.socket.destroyed || this.closedError) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connection still open')), ms);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Encodes a request frame for (apiKey, version). */
  frame(apiKey: number, version: number, body: unknown, correlationId = this.correlationId++): Buffer {
    const w = new Writer();
    w.int32(0);
    const headerVersion = requestHeaderVersion(apiKey, version);
    w.int16(apiKey);
    w.int16(version);
    w.int32(correlationId);
    w.string('kbroker-test');
    if (headerVersion >= 2) w.uvarint(0);
    codecFor(requestSpecs.get(apiKey)!, version).write(w, body);
    const buf = w.toBuffer();
    buf.writeInt32BE(buf.length - 4, 0);
    return buf;
  }

  /**
   * Sends a raw SASL token after SaslHandshake v0 (its int32 size, then its bytes, no request header);
   * resolves with the next frame, the server's token.
   */
  sendToken(token: Buffer): Promise<Buffer> {
    return this.sendRaw(sizePrefixed(token));
  }

  /** Sends raw bytes; resolves with the next response frame (without size prefix). */
  sendRaw(bytes: Buffer): Promise<Buffer> {
    if (this.closedError) return Promise.reject(this.closedError);
    const p = new Promise<Buffer>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.socket.write(bytes);
    return p;
  }

  async request<T = Record<string, unknown>>(apiKey: number, version: number, body: unknown): Promise<T> {
    const correlationId = this.correlationId++;
    const frame = await this.sendRaw(this.frame(apiKey, version, body, correlationId));
    const r = new Reader(frame);
    const got = r.int32();
    if (got !== correlationId) throw new Error(`correlation id ${got}, expected ${correlationId}`);
    if (responseHeaderVersion(apiKey, version) >= 1) {
      const n = r.uvarint();
      for (let i = 0; i < n; i++) {
        r.uvarint();
        r.sub(r.uvarint());
      }
    }
    return codecFor<T>(responseSpecs.get(apiKey)!, version).read(r);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `bytes` behind their int32 size: how a frame, or a raw SASL token after SaslHandshake v0, goes on the wire. */
export function sizePrefixed(bytes: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(bytes.length);
  return Buffer.concat([size, bytes]);
}
