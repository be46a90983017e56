/**
 * Sends a connection's responses whose records are ranges of segment files (FileRegion) with
 * sendfile(2), as Kafka's FileRecords.writeTo does: the bytes go from the page cache to the socket
 * without being read into the process, and the send (with, on loopback, the delivery to the reader)
 * runs on one of libuv's pool threads instead of the event loop (native/zero-copy.c).
 *
 * Order: once a response with a file range is queued, every later response of the connection goes
 * through this queue too; before a native send, what the socket already holds is flushed (its
 * write queue empty), and nothing else writes to the socket until the send is done.
 *
 * Bounds: a native send waits for room in the socket at most STALL_MS without progress and MAX_MS
 * in all (a client that stops reading cannot hold a pool thread); the rest of that response is
 * then read into buffers and written through the event loop as usual, with the socket's own
 * backpressure. A file that ends before its range does (the segment was truncated meanwhile)
 * closes the connection, as Kafka does; so does any send error (the peer went away).
 *
 * Descriptors: the sender sends on a dup of the socket's descriptor, closed when the connection
 * closes and no send is in flight (libuv may close its own as the peer goes away; the dup keeps
 * the number from being reused under a pool thread). Every region is released once sent or dropped.
 */
import fs from 'node:fs';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { type FilePart, isDescriptorShortage, type ZeroCopy } from '../common/native.js';
import type { Chunk } from '../protocol/wire.js';
import { readFully } from '../storage/file-batch-scanner.js';
import { FileRegion, releaseRegion } from '../storage/file-region.js';
import { readBuffers, releaseReadBuffer } from '../storage/read-buffer-pool.js';

/** Longest wait for room in the socket without progress on a pool thread. */
export const STALL_MS = 50;
/** Longest native send; the rest goes through the event loop. */
export const MAX_MS = 250;
/** Parts the native helper takes in one send (native/zero-copy.c MAX_PARTS). */
const MAX_PARTS = 65536;
/** Queued responses past which the connection stops processing requests until one is sent. */
const MAX_QUEUED = 64;
const EMPTY = Buffer.alloc(0);

const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

export function hasFileRegion(chunks: readonly Chunk[]): boolean {
  for (const c of chunks) if (c instanceof FileRegion) return true;
  return false;
}

/** Gives back what a sent or dropped chunk holds: a pooled read buffer, or a region's descriptor. */
export function releaseChunk(c: Chunk): void {
  if (c instanceof FileRegion) c.release();
  else releaseReadBuffer(c as Buffer);
}

/** What the sender needs of its connection. */
export interface SenderHost {
  /** Hands responses corked this tick to the socket (so that they leave before a native send). */
  uncork(): void;
  /** Closes the connection: the response could not be sent whole. */
  fail(why: string, quiet: boolean): void;
}

export class ZeroCopySender {
  private readonly queue: { chunks: Chunk[]; done: () => void }[] = [];
  private running = false;
  private inFlight = false;
  /** Resolves when the native send in flight (if any) is done and its ranges released. */
  private inFlightDone: Promise<void> = Promise.resolve();
  private closed = false;
  /** A dup of the socket's descriptor, taken at the first native send. */
  private sendFd = -1;

  constructor(
    private readonly socket: Socket,
    private readonly native: ZeroCopy,
    private readonly host: SenderHost,
  ) {}

  /** Resolves once no native send runs (at most MAX_MS after close): its descriptors are closed then. */
  get settled(): Promise<void> {
    return this.inFlightDone;
  }

  /** Whether a response must go through the queue now to keep the connection's order. */
  get busy(): boolean {
    return this.running;
  }

  /** Queues a response; resolves at once unless the queue is long (then once this one is sent). */
  send(chunks: Chunk[]): Promise<void> {
    if (this.closed) {
      for (const c of chunks) releaseChunk(c);
      return Promise.resolve();
    }
    const sent = new Promise<void>((done) => this.queue.push({ chunks, done }));
    if (!this.running) void this.run();
    return this.queue.length >= MAX_QUEUED ? sent : Promise.resolve();
  }

  /** The connection closed: queued responses are dropped; the descriptor goes once no send uses it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) {
      for (const c of q.chunks) releaseChunk(c);
      q.done();
    }
    if (!this.inFlight) this.closeSendFd();
  }

  private closeSendFd(): void {
    if (this.sendFd < 0) return;
    const fd = this.sendFd;
    this.sendFd = -1;
    // The socket's own descriptor may be closed already; closing ours ends the connection for good.
    fs.close(fd, () => {});
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.closed) {
      const { chunks, done } = this.queue.shift()!;
      try {
        if (hasFileRegion(chunks)) {
          await this.flushed();
          if (this.closed) for (const c of chunks) releaseChunk(c);
          else await this.sendNative(chunks);
        } else {
          this.writeFrom(chunks, 0, 0);
        }
      } catch (err) {
        this.abandon(chunks, err); // never an unhandled rejection
      }
      done();
    }
    this.running = false;
  }

  /** Resolves once every byte written to the socket so far is in the kernel. */
  private flushed(): Promise<void> {
    this.host.uncork();
    const socket = this.socket;
    if (socket.writableLength === 0 || socket.destroyed) return Promise.resolve();
    // Writes complete in order: this empty one's callback runs after all before it are done.
    return new Promise((resolve) => socket.write(EMPTY, () => resolve()));
  }

  private sendNative(chunks: Chunk[]): Promise<void> {
    if (this.sendFd < 0) {
      const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (typeof fd !== 'number' || fd < 0) {
        this.writeFrom(chunks, 0, 0); // no descriptor to send on (a closing socket): as before
        return Promise.resolve();
      }
      try {
        this.sendFd = this.native.dup(fd);
      } catch (err) {
        if (!isDescriptorShortage(err)) throw err;
        this.writeFrom(chunks, 0, 0); // no descriptor to spare: as before, and again next time
        return Promise.resolve();
      }
    }
    const parts = chunks as (Buffer | FilePart)[];
    if (parts.length > MAX_PARTS) {
      this.writeFrom(chunks, 0, 0); // more partitions with data than the helper takes: as before
      return Promise.resolve();
    }
    this.inFlight = true;
    let thrown: unknown = null;
    this.inFlightDone = new Promise((resolve) => {
      const done = (errno: number, index: number, offset: number, truncated: boolean) => {
        this.inFlight = false;
        try {
          if (this.closed) {
            this.closeSendFd();
            for (const c of chunks) releaseChunk(c);
          } else if (truncated || errno !== 0) {
            for (const c of chunks) releaseChunk(c);
            if (truncated) this.failTruncated();
            else this.host.fail(`send failed: ${errnoNames.get(errno) ?? errno}`, true);
          } else {
            for (let i = 0; i < index; i++) releaseChunk(chunks[i]!);
            this.writeFrom(chunks, index, offset);
          }
        } catch (err) {
          this.abandon(chunks, err); // called from native code: an exception here would end the process
        } finally {
          resolve();
        }
      };
      try {
        this.native.sendParts(this.sendFd, parts, STALL_MS, MAX_MS, done);
      } catch (err) {
        // Refused before it started (bad input): nothing in flight.
        this.inFlight = false;
        thrown = err;
        resolve();
      }
    });
    if (thrown !== null) throw thrown;
    return this.inFlightDone;
  }

  /**
   * A response that cannot be sent whole: its ranges are released (its buffers may be in the socket
   * already, so they are left to the collector) and the connection goes.
   */
  private abandon(chunks: Chunk[], err: unknown): void {
    for (const c of chunks) releaseRegion(c);
    this.host.fail(`sending a response failed: ${(err as Error).message}`, false);
  }

  /** A file ended before its range did (the segment was truncated meanwhile): Kafka closes too. */
  private failTruncated(): void {
    this.host.fail('a segment was truncated while its records were being sent', false);
  }

  /**
   * Writes chunks[index] from `offset` on, and the chunks after it, through the event loop (a file
   * range is read into a buffer first); each is released once the socket has taken it.
   */
  private writeFrom(chunks: Chunk[], index: number, offset: number): void {
    const socket = this.socket;
    for (let i = index; i < chunks.length; i++) {
      const c = chunks[i]!;
      const skip = i === index ? offset : 0;
      if (c instanceof FileRegion) {
        const length = c.length - skip;
        const buf = readBuffers.take(length);
        const n = readFully(c.fd, buf, length, c.position + skip);
        c.release();
        if (n < length) {
          for (let j = i + 1; j < chunks.length; j++) releaseChunk(chunks[j]!);
          this.failTruncated();
          return;
        }
        socket.write(buf, (err) => err || releaseReadBuffer(buf));
      } else {
        const b = c as Buffer;
        socket.write(skip > 0 ? b.subarray(skip) : b, (err) => err || releaseReadBuffer(b));
      }
    }
  }
}
