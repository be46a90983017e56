/**
 * One client connection: size-prefixed frames in, responses out strictly in request order.
 *
 * - Frames are cut from the socket stream without allocating what a size field claims: bytes are
 *   only joined once they have all arrived, and a size above `socket.request.max.bytes` (or
 *   negative) closes the connection.
 * - Requests are processed one at a time, in order (as Kafka mutes a channel while a request is
 *   in flight); frames read meanwhile queue up, and reading pauses while the queue is long or the
 *   socket's write buffer is not draining (backpressure). One exception, where Kafka would leave
 *   the channel muted for nothing: a produce whose batches are appended and that only waits for
 *   their fsync (flush.messages) or their replicas (acks=-1) lets the next request be processed
 *   (RequestContext.releaseOrder), so that a pipelining producer's batches share the fsync or
 *   the followers' fetch; the answers still leave in request order, at most MAX_QUEUED_FRAMES
 *   waiting. Not under client quotas (a throttled answer mutes the connection behind it).
 * - Errors in three tiers: expected outcomes are error codes inside responses (the handler's
 *   business); an exception thrown by a handler becomes its code (`errorOf`: a KafkaError's own,
 *   UNKNOWN_SERVER_ERROR for an unexpected one, logged) where the response has a top-level error
 *   code, else the connection closes; a protocol violation closes the connection.
 * - Security: the principal is the TLS client certificate's (SSL listeners) or ANONYMOUS; on SASL
 *   listeners a SaslAuthenticator takes every frame until authentication completes (frames then
 *   limited to `sasl.server.max.receive.size`, the exchange to `connections.max.idle.ms`), and
 *   the principal becomes the authenticated one. PLAINTEXT connections pay one null check.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from '../common/logger.js';
import type { ZeroCopy } from '../common/native.js';
import { systemTime, type Time } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { AnyHandler, BrokerServices, HandlerRegistry, RequestContext } from '../handlers/handler.js';
import { codecFor } from '../protocol/codec.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import { ApiVersionsResponse } from '../protocol/generated/messages.js';
import { API_VERSIONS_KEY, encodeResponseFrame, readRequestHeader } from '../protocol/headers.js';
import { errorOf } from '../protocol/kafka-error.js';
import { type Chunk, ProtocolError } from '../protocol/wire.js';
import { type ClientQuotaManagers, PERCENT_PER_MS } from '../quota/client-quota-manager.js';
import { ANONYMOUS, type KafkaPrincipal } from '../security/authorizer.js';
import { releaseReadBuffer, requestBuffers } from '../storage/read-buffer-pool.js';
import type { SegmentWriter } from '../storage/segment-writer.js';
import type { FaultInjector } from './faults/fault-injector.js';
import type { Metrics } from './metrics.js';
import { SaslAuthenticator, type SaslAuthenticatorOptions } from './sasl-authenticator.js';
import { hasFileRegion, releaseChunk, ZeroCopySender } from './zero-copy-sender.js';

const MAX_QUEUED_FRAMES = 64;
const PRODUCE_KEY = 0;
const FETCH_KEY = 1;
const SHARE_FETCH_KEY = 78;

/** The answer of a request that let the next ones go on before it was done (releaseOrder). */
class Later {
  constructor(readonly answer: Promise<Chunk[] | null>) {}
}
const RELEASED = Symbol('released');

/** A consumer's fetch (a follower's replica id is ≥ 0; replication is not under client quotas). */
function isConsumerFetch(request: unknown): boolean {
  const r = request as { replicaId?: number; replicaState?: { replicaId: number } | null };
  return (r.replicaState?.replicaId ?? r.replicaId ?? -1) < 0;
}

/**
 * Kafka's cluster actions (ApiKeys.clusterAction): brokers' and controllers' own requests, which no
 * client quota applies to (their time counts as exempt-request-time).
 */
const CLUSTER_ACTION_API_KEYS: ReadonlySet<number> = new Set([
  4, 5, 6, 7, 27, 52, 53, 54, 55, 56, 57, 58, 62, 63, 67, 83, 84, 85, 86, 87,
]);

/**
 * Whether request_percentage applies to a request (Kafka's maybeRecordAndGetThrottleTimeMs) or its
 * time is exempt (maybeRecordExempt): cluster actions, a follower's fetch, a produce with acks=0.
 */
function underRequestQuota(apiKey: number, request: unknown): boolean {
  if (CLUSTER_ACTION_API_KEYS.has(apiKey)) return false;
  if (apiKey === FETCH_KEY) return isConsumerFetch(request);
  if (apiKey === PRODUCE_KEY) return (request as { acks: number }).acks !== 0;
  return true;
}

/** Kafka's fetch bound: at most what the client's quota window takes (getMaxValueInQuotaWindow). */
function boundFetch(quotas: ClientQuotaManagers, ctx: RequestContext, request: unknown): void {
  const r = request as { maxBytes?: number };
  const max = Math.floor(quotas.fetch.maxValueInQuotaWindow(ctx.principal.name, ctx.clientId ?? ''));
  if (r.maxBytes === undefined || r.maxBytes > max) r.maxBytes = max;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A consumer fetch's throttle time once its handler asked for it (-1: not asked). */
interface FetchQuotaDecision {
  ms: number;
}

/** What every request of one connection shares. */
type ConnectionContext = Omit<RequestContext, 'apiVersion' | 'correlationId' | 'clientId'>;

/** What a connection needs of the broker that accepted it. */
export interface ConnectionHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly handlers: HandlerRegistry;
  /** Handed to every request's handler with the connection's own context. */
  readonly services: BrokerServices;
  /** Runs one request's work so that the metadata and checkpoint writes it causes happen once. */
  batchUpdates<T>(work: () => T): T;
  connectionClosed(conn: Connection): void;
  /** Faults injected by a user's test (server/faults); none when absent. */
  readonly faults?: FaultInjector;
  /**
   * The clock of connections.max.idle.ms: real time unless a test drives it, like waiting
   * requests (a test that moves the broker's MockTime by days must not idle out live clients).
   */
  readonly connectionTime?: Time;
  /** Client quotas (src/quota): Produce and Fetch byte rates; none when absent. */
  readonly quotas?: ClientQuotaManagers;
  /**
   * Where the logs' appends are written, gathered (at the end of the loop's turn or on a thread): a response leaves only once every write
   * submitted before it was ready is in the page cache (what it acknowledges survives a kill -9).
   */
  readonly segmentWriter?: SegmentWriter;
  /** The native sendfile helper; none (or null): fetch records are read into buffers. */
  readonly zeroCopy?: ZeroCopy | null;
}

/** How a connection of a TLS or SASL listener authenticates. */
export interface ConnectionSecurity {
  /** The principal before (or without) SASL: the TLS client certificate's, else ANONYMOUS. */
  principal?: KafkaPrincipal;
  /** SASL listeners: the exchange every connection must complete first. */
  sasl?: SaslAuthenticatorOptions;
  /** Largest frame before authentication (sasl.server.max.receive.size). */
  maxReceiveBeforeAuth?: number;
  /** Close a connection that has not authenticated within this long (connections.max.idle.ms). */
  authTimeoutMs?: number;
}

export class Connection {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly frames: Buffer[] = [];
  private processing = false;
  /** Responses waiting for segment writes (respond), oldest first, with the write each waits for. */
  private readonly held: { chunks: Chunk[]; seq: number; after: number }[] = [];
  /**
   * Set while frame processing waits for room among the held responses (at most MAX_QUEUED_FRAMES: a
   * writer that makes no progress must not let a pipelining client pile up answers it cannot have).
   */
  private heldRoom: (() => void) | null = null;
  /** True while the socket is corked until the next tick, gathering this tick's responses. */
  private corked = false;
  private drainWait: Promise<void> | null = null;
  private closedFlag = false;
  /** Aborted on close; requests see its signal (RequestContext.signal). */
  private readonly abortOnClose = new AbortController();
  /** Resolves when the request being processed (if any) is done; used by graceful shutdown. */
  idle: Promise<void> = Promise.resolve();
  /**
   * The answers queued behind a request answered later (Later), written in request order by this
   * chain (it never rejects: a failure closes the connection); null when nothing waits in it.
   */
  private answers: Promise<void> | null = null;
  /** How many answers are in that chain (bounded by MAX_QUEUED_FRAMES). */
  private answersQueued = 0;
  readonly remote: string;
  /** The prototype of every request context of this connection. */
  private readonly connectionContext: Mutable<ConnectionContext>;
  /** SASL listeners only: null on PLAINTEXT and SSL. */
  private readonly sasl: SaslAuthenticator | null;
  private authTimer: { cancel(): void } | null = null;
  /** When bytes last came in or a response went out (connections.max.idle.ms), by `clock`. */
  lastActiveMs: number;
  private readonly clock: Time;
  /** A client quota's throttle time of the request just answered: reads stop this long after it. */
  private muteMs = 0;
  private muteTimer: { cancel(): void } | null = null;
  /** Sends fetch records from their segment files (sendfile); null on TLS or without the native helper. */
  private readonly sender: ZeroCopySender | null;

  constructor(
    private readonly socket: Socket,
    private readonly broker: ConnectionHost,
    /** The listener this connection came in on. */
    readonly listenerName: string,
    private readonly security: ConnectionSecurity = {},
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.clock = broker.connectionTime ?? systemTime;
    this.lastActiveMs = this.clock.now();
    this.connectionContext = {
      ...broker.services,
      principal: security.principal ?? ANONYMOUS,
      listenerName,
      remote: this.remote,
      signal: this.abortOnClose.signal,
      throttle: (ms: number) => {
        if (ms > this.muteMs) this.muteMs = ms;
      },
    };
    this.sasl = security.sasl ? new SaslAuthenticator(security.sasl) : null;
    const native = broker.zeroCopy ?? null;
    this.sender =
      native !== null && !(socket instanceof TLSSocket)
        ? new ZeroCopySender(socket, native, {
            uncork: () => this.uncork(),
            fail: (why, quiet) => {
              if (quiet) broker.log.debug(`closing ${this.remote}: ${why}`);
              else broker.log.warn(`closing ${this.remote}: ${why}`);
              this.close();
            },
          })
        : null;
    if (native !== null && this.sender !== null) this.connectionContext.dup = native.dup;
    if (this.sasl && security.authTimeoutMs !== undefined && security.authTimeoutMs > 0) {
      this.authTimer = broker.services.time.setTimeout(() => {
        if (this.sasl?.principal === null) {
          broker.log.warn(`closing ${this.remote}: no SASL authentication within connections.max.idle.ms`);
          this.close();
        }
      }, security.authTimeoutMs);
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      // A defect in reading one connection's frames closes that connection, never the broker.
      try {
        this.onData(chunk);
      } catch (err) {
        this.broker.log.error(`closing ${this.remote}: reading its bytes failed`, err);
        this.close();
      }
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Resolves once no sendfile of this connection runs any more (bounded: zero-copy-sender's MAX_MS). */
  get sendsSettled(): Promise<void> {
    return this.sender?.settled ?? Promise.resolve();
  }

  /** No request being processed or queued: the connection may be closed as idle. */
  get idleNow(): boolean {
    return !this.processing && this.frames.length === 0 && this.buffered === 0 && this.answers === null;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.authTimer?.cancel();
    this.muteTimer?.cancel();
    this.frames.length = 0;
    this.chunks.length = 0;
    // Responses written this tick (an answered long poll at shutdown) go out before the close.
    this.uncork();
    for (const h of this.held.splice(0)) for (const c of h.chunks) releaseChunk(c);
    this.sender?.close();
    this.releaseHeldRoom(); // drainFrames sees the close and ends
    this.socket.destroy();
    this.abortOnClose.abort();
    this.broker.connectionClosed(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closedFlag) return;
    this.lastActiveMs = this.clock.now();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const beforeAuth = this.sasl !== null && !this.sasl.authenticated;
    const maxBytes = beforeAuth
      ? (this.security.maxReceiveBeforeAuth ?? 524288)
      : this.broker.config.int('socket.request.max.bytes');
    while (this.buffered >= 4) {
      const size = this.peekInt32();
      if (size < 0 || size > maxBytes) {
        this.broker.log.warn(
          `closing ${this.remote}: request size ${size} exceeds ${beforeAuth ? 'sasl.server.max.receive.size' : 'socket.request.max.bytes'} ${maxBytes}`,
        );
        this.close();
        return;
      }
      if (this.buffered < 4 + size) break;
      this.take(4);
      this.frames.push(this.take(size, false, this.nextIsPooledProduce()));
    }
    if (this.frames.length >= MAX_QUEUED_FRAMES) this.socket.pause();
    this.pump();
  }

  private peekInt32(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return this.take(4, true).readInt32BE(0);
  }

  /**
   * Whether the frame whose bytes come next is a Produce request on an authenticated connection:
   * only those are joined into a pooled buffer (requestBuffers), because the produce path keeps
   * nothing of its frame once handled — other requests may (a JoinGroup's member metadata is a view
   * of its frame), and a SASL token frame has no request header.
   */
  private nextIsPooledProduce(): boolean {
    const first = this.chunks[0];
    return (
      first !== undefined &&
      (this.sasl === null || this.sasl.authenticated) &&
      first.length >= 2 &&
      first.readInt16BE(0) === 0
    );
  }

  /**
   * Removes (or with `peek`, copies) the next n buffered bytes; zero-copy when in one chunk. Joined
   * into a buffer of requestBuffers with `pooled` (which lends only for large sizes; given back by
   * drainFrames once handled).
   */
  private take(n: number, peek = false, pooled = false): Buffer {
    // An empty frame (a SASL token of no bytes) may come when nothing more is buffered.
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (!peek) this.consume(n);
      return out;
    }
    const out = pooled ? requestBuffers.take(n) : Buffer.allocUnsafe(n);
    let copied = 0;
    for (const c of this.chunks) {
      const len = Math.min(c.length, n - copied);
      c.copy(out, copied, 0, len);
      copied += len;
      if (copied === n) break;
    }
    if (!peek) this.consume(n);
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        n -= first.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }

  private pump(): void {
    if (this.processing || this.closedFlag || this.muteTimer) return;
    this.processing = true;
    const drained = this.drainFrames().finally(() => {
      this.processing = false;
      // A frame that came in between the loop's last look and now (a resumed socket delivers on
      // the next tick, before this runs) is processed rather than left waiting.
      if (this.frames.length > 0) this.pump();
    });
    // Shutdown waits for the answers still queued too (their fsync or replicas).
    this.idle = drained.then(() => this.answers ?? undefined);
  }

  /**
   * Queues an answer behind the Later ones (in request order); `frame` (a Later's request, whose
   * batches the produce path may still hold) goes back to the pool once it is answered. Resolves
   * at once, or when the chain has room again.
   */
  private queueAnswer(answer: Promise<Chunk[] | null> | Chunk[] | null, frame?: Buffer): Promise<void> {
    this.answersQueued++;
    const next = (this.answers ?? Promise.resolve())
      .then(() => answer)
      .then(
        (out) => {
          if (frame) requestBuffers.release(frame);
          if (out && !this.closedFlag) return this.respond(out);
          if (out) for (const c of out) releaseChunk(c);
        },
        (err: unknown) => this.requestFailed(err),
      )
      .finally(() => {
        this.answersQueued--;
        this.lastActiveMs = this.clock.now();
        if (this.answers === next) this.answers = null;
      });
    this.answers = next;
    return this.answersQueued >= MAX_QUEUED_FRAMES ? next : Promise.resolve();
  }

  /** A request that failed outside its handler's error codes (a protocol violation above all): the connection closes. */
  private requestFailed(err: unknown): void {
    if (!(err instanceof ProtocolError)) this.broker.log.error(`request from ${this.remote} failed`, err);
    else this.broker.log.warn(`closing ${this.remote}: ${err.message}`);
    this.close();
  }

  private async drainFrames(): Promise<void> {
    while (!this.closedFlag && this.frames.length > 0) {
      const frame = this.frames.shift()!;
      if (this.frames.length < MAX_QUEUED_FRAMES / 2 && this.socket.isPaused()) this.socket.resume();
      try {
        const sasl = this.sasl;
        if (sasl?.intercepts(frame) && !SaslAuthenticator.isApiVersions(frame)) {
          if (this.answers) await this.answers; // its answer goes out behind theirs
          await this.authenticate(sasl, frame);
          continue;
        }
        const out = await this.handleFrame(frame);
        if (out instanceof Later) {
          await this.queueAnswer(out.answer, frame);
          this.lastActiveMs = this.clock.now();
          continue;
        }
        // Handled: the produce path holds nothing of its frame now. (Not after a throw: a part of
        // the handler might still be running; that buffer is left to the collector.)
        requestBuffers.release(frame);
        if (this.answers) await this.queueAnswer(out);
        else if (out && !this.closedFlag) await this.respond(out);
        else if (out) for (const c of out) releaseChunk(c);
        this.lastActiveMs = this.clock.now();
        if (this.muteMs > 0) {
          this.mute();
          return;
        }
      } catch (err) {
        this.requestFailed(err);
      }
    }
  }

  /**
   * Kafka's ThrottledChannel (KIP-219): the response went out with its throttle time; the channel
   * stays muted — nothing read or processed — for that long, then reads resume. No request is in
   * flight meanwhile (`idle` resolves: shutdown does not wait for the mute); a close ends it.
   */
  private mute(): void {
    const ms = this.muteMs;
    this.muteMs = 0;
    this.socket.pause();
    this.muteTimer = this.broker.services.time.setTimeout(() => {
      this.muteTimer = null;
      if (this.closedFlag) return;
      if (this.frames.length < MAX_QUEUED_FRAMES) this.socket.resume();
      this.pump();
    }, ms);
  }

  /** One frame of the SASL exchange: answer it, take the principal when done, close on failure. */
  private async authenticate(sasl: SaslAuthenticator, frame: Buffer): Promise<void> {
    const wasAuthenticated = sasl.principal !== null;
    const step = sasl.handle(frame);
    if (step.delayMs > 0) await this.broker.services.time.sleep(step.delayMs);
    if (step.response && !this.closedFlag) await this.respond(step.response);
    if (step.close) {
      // Let the answer reach the client before the close.
      this.socket.end();
      this.close();
      return;
    }
    if (sasl.authenticated) {
      // KIP-368: a completed re-authentication (the SaslAuthenticate that ends it).
      if (wasAuthenticated && SaslAuthenticator.isAuthenticate(frame)) {
        this.broker.log.debug(
          `${this.remote} re-authenticated as ${sasl.principal!.principalType}:${sasl.principal!.name}`,
        );
      }
      this.connectionContext.principal = sasl.principal!;
      this.authTimer?.cancel();
      this.authTimer = null;
    }
  }

  /** Hands the corked responses to the socket (one writev); a no-op when none are corked. */
  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /**
   * Sends a response once the segment writes submitted before it are done (a produce's own append,
   * or the appends whose offsets a fetch or a ListOffsets shows). Until then it waits here, in order
   * behind the connection's earlier responses, while the next requests are processed.
   */
  private respond(chunks: Chunk[]): Promise<void> {
    const writer = this.broker.segmentWriter;
    if (writer === undefined) return this.write(chunks);
    const seq = writer.lastSubmitted;
    if (this.held.length === 0 && writer.isWritten(seq)) return this.write(chunks);
    this.held.push({ chunks, seq, after: writer.completedCount });
    if (this.held.length === 1) this.awaitHeld(writer);
    if (this.held.length >= MAX_QUEUED_FRAMES) return new Promise((resolve) => (this.heldRoom = resolve));
    return this.socket.writableNeedDrain ? this.drained() : Promise.resolve();
  }

  private awaitHeld(writer: SegmentWriter): void {
    writer.whenWritten(this.held[0]!.seq, (err) => {
      if (this.closedFlag) return;
      // The writer closed first, or a held response may acknowledge bytes that never reached the file (a
      // write failed after it was built, taking the directory offline): the client hears nothing, retries.
      const fail = (why: string) => {
        this.broker.log.warn(`closing ${this.remote}: ${why}`);
        this.close();
      };
      if (err) return fail(err.message);
      while (this.held.length > 0 && writer.isWritten(this.held[0]!.seq)) {
        const h = this.held.shift()!;
        if (writer.failedBetween(h.after, h.seq)) {
          for (const c of h.chunks) releaseChunk(c);
          return fail('a log segment write failed');
        }
        void this.write(h.chunks);
      }
      if (this.held.length < MAX_QUEUED_FRAMES / 2) this.releaseHeldRoom();
      if (this.held.length > 0) this.awaitHeld(writer);
    });
  }

  /** Lets frame processing go on (room among the held responses, or the connection closed). */
  private releaseHeldRoom(): void {
    const resume = this.heldRoom;
    this.heldRoom = null;
    resume?.();
  }

  /**
   * Resolves when the socket drains or closes. Every response written while the peer is not
   * reading (the processing loop's, and each delayed fetch answered meanwhile) waits on the same
   * promise: one pair of listeners per connection, not one per waiting response.
   */
  private drained(): Promise<void> {
    if (this.drainWait !== null) return this.drainWait;
    const socket = this.socket;
    this.drainWait = new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        this.drainWait = null;
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
    return this.drainWait;
  }

  private write(chunks: Chunk[]): Promise<void> {
    const sender = this.sender;
    if (sender !== null && (sender.busy || hasFileRegion(chunks))) return sender.send(chunks);
    const socket = this.socket;
    // Responses of the frames served in this run of microtasks (a pipelined client's requests
    // that came in one read) leave in one writev at the next tick instead of one write(2) each:
    // each is a system call that wakes the client (under a pipelined produce load, 15 % of the
    // event loop's CPU plus rescheduling, 4.6 % with one writev a tick; README "Using more than
    // one core"). A response that waits (purgatory, disk) is written at the tick after it
    // resolves, so no response is held back behind a slower one.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => this.uncork());
    }
    let ok = true;
    // A chunk of segment bytes read into a pooled buffer goes back to the pool once the socket
    // has taken it (the callback); the response's other chunks are ignored by the pool.
    for (const c of chunks as Buffer[]) ok = socket.write(c, (err) => err || releaseReadBuffer(c));
    // Backpressure: the peer is not reading; stop processing until the buffer drains.
    return ok ? Promise.resolve() : this.drained();
  }

  /**
   * Returns the response frame, null when no response is due, or a Later when the handler released
   * the connection's order before it was done. Throws ProtocolError to close.
   */
  private async handleFrame(frame: Buffer): Promise<Chunk[] | null | Later> {
    if (frame.length < 8) throw new ProtocolError(`frame of ${frame.length} bytes is too short for a header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const handler = this.broker.handlers.get(apiKey);
    if (!handler) throw new ProtocolError(`unknown API key ${apiKey}`);
    // The request's time on the loop starts here (Kafka's requestDequeueTimeNanos).
    const started = performance.now();
    const { header, body } = readRequestHeader(frame);
    const { correlationId } = header;
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey !== API_VERSIONS_KEY) {
        throw new ProtocolError(`unsupported version ${apiVersion} of API ${handler.name}`);
      }
      // KIP-511: a v0 body with UNSUPPORTED_VERSION and our ApiVersions range, so the client retries.
      return encodeResponseFrame(apiKey, 0, correlationId, (w) =>
        codecFor(ApiVersionsResponse, 0).write(w, {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: [{ apiKey, minVersion: handler.minVersion, maxVersion: handler.maxVersion }],
        }),
      );
    }
    const request = codecFor<never>(handler.request, apiVersion).read(body);
    // The request's own fields over the connection's context (services, principal, listener):
    // a prototype link, not a copy of a dozen fields per request.
    const ctx = Object.create(this.connectionContext) as Mutable<RequestContext>;
    ctx.apiVersion = apiVersion;
    ctx.correlationId = correlationId;
    ctx.clientId = header.clientId;
    const quotas = this.broker.quotas;
    let loopMs = -1;
    let fetchQuota: FetchQuotaDecision | null = null;
    if (
      quotas !== undefined &&
      ((apiKey === FETCH_KEY && isConsumerFetch(request)) || apiKey === SHARE_FETCH_KEY)
    ) {
      if (quotas.fetch.enabled) boundFetch(quotas, ctx, request);
      if (quotas.fetch.enabled || quotas.request.enabled) {
        const decision: FetchQuotaDecision = { ms: -1 };
        fetchQuota = decision;
        // Kafka's fetch callback: the request's time (its handler's, as far as it went) and the
        // response's size recorded; over either quota, the fetch answers empty.
        ctx.fetchThrottle = (responseBytes) => {
          const user = ctx.principal.name;
          const clientId = ctx.clientId ?? '';
          const ms = loopMs >= 0 ? loopMs : performance.now() - started;
          let t = quotas.request.enabled
            ? quotas.request.recordAndGetThrottleTimeMs(user, clientId, ms * PERCENT_PER_MS)
            : 0;
          if (quotas.fetch.enabled) {
            t = Math.max(t, quotas.fetch.recordAndGetThrottleTimeMs(user, clientId, responseBytes));
            if (t > 0) quotas.fetch.unrecord(user, clientId, responseBytes);
          }
          decision.ms = t;
          return t;
        };
      }
    }
    // A produce may let the next request go on once its batches are appended (see the top).
    let released: Promise<typeof RELEASED> | undefined;
    if (apiKey === PRODUCE_KEY && !quotas?.produce.enabled && !quotas?.request.enabled) {
      released = new Promise((resolve) => {
        ctx.releaseOrder = () => resolve(RELEASED);
      });
    }
    let response: unknown;
    try {
      // One write of the topic registry and checkpoints for the whole request (LogManager.batchUpdates).
      const serve = (req: unknown) =>
        Promise.resolve(this.broker.batchUpdates(() => handler.handle(ctx, req as never)));
      const faults = this.broker.faults;
      const fault = faults?.has(apiKey) ? faults.take(apiKey, header.clientId, request) : undefined;
      const work = fault ? faults!.apply(fault, request, serve) : serve(request);
      // What the handler did before it first waited: its time on the loop, as Kafka's
      // requestThreadTimeNanos is the handler thread's (a wait in purgatory or for a disk is not).
      loopMs = performance.now() - started;
      response = released ? await Promise.race([work, released]) : await work;
      if (response === RELEASED) {
        const answer = work.then(
          (res) => this.finishFrame(frame, handler, ctx, request, fetchQuota, started, loopMs, res),
          (err) =>
            this.finishFrame(
              frame,
              handler,
              ctx,
              request,
              fetchQuota,
              started,
              loopMs,
              this.errorResponse(handler, err),
            ),
        );
        answer.catch(() => {}); // handled by queueAnswer, which may attach only later
        return new Later(answer);
      }
    } catch (err) {
      if (loopMs < 0) loopMs = performance.now() - started;
      response = this.errorResponse(handler, err);
    }
    return this.finishFrame(frame, handler, ctx, request, fetchQuota, started, loopMs, response);
  }

  /**
   * The response frame of a handled request: its metrics, client quotas and encoding. Of the quotas
   * that apply, the longest throttle time is the response's and mutes the connection (Kafka's
   * KafkaApis: max of the bandwidth and request throttle times).
   */
  private finishFrame(
    frame: Buffer,
    handler: AnyHandler,
    ctx: RequestContext,
    request: unknown,
    /** A consumer's fetch under client quotas (the handler may have decided its throttle). */
    fetchQuota: FetchQuotaDecision | null,
    started: number,
    /** The request's time on the loop before its handler first waited. */
    loopMs: number,
    response: unknown,
  ): Chunk[] | null {
    const { apiVersion, correlationId } = ctx;
    const apiKey = handler.apiKey;
    const quotas = this.broker.quotas;
    this.broker.metrics.requestCompleted(handler.name, performance.now() - started, {
      version: apiVersion,
      response,
      spec: handler.response,
    });
    const user = ctx.principal.name;
    const clientId = ctx.clientId ?? '';
    const requestQuota = quotas?.request.enabled === true;
    const counted = requestQuota && underRequestQuota(apiKey, request);
    // A fetch whose handler asked (fetchThrottle) has its quotas recorded and its answer shaped.
    const decided = fetchQuota !== null && fetchQuota.ms >= 0;
    let throttleMs = 0;
    if (requestQuota && !decided) {
      if (counted) {
        throttleMs = quotas!.request.recordAndGetThrottleTimeMs(user, clientId, loopMs * PERCENT_PER_MS);
      } else {
        quotas!.recordExempt(loopMs * PERCENT_PER_MS);
      }
    }
    // Kafka's produce quota counts the request's size; acks=0 (no response) is muted as well.
    if (quotas && apiKey === PRODUCE_KEY)
      throttleMs = Math.max(
        throttleMs,
        quotas.produce.recordAndGetThrottleTimeMs(user, clientId, frame.length),
      );
    if (response === null) {
      if (throttleMs > this.muteMs) this.muteMs = throttleMs;
      return null;
    }
    const encodeStarted = requestQuota ? performance.now() : 0;
    const encode = (body: unknown) =>
      encodeResponseFrame(apiKey, apiVersion, correlationId, (w) =>
        codecFor(handler.response, apiVersion).write(w, body),
      );
    let out: Chunk[];
    if (!fetchQuota || !quotas) {
      if (throttleMs > 0) {
        // A handler's own throttle time (the controller mutation quota) stands when it is longer.
        const r = response as { throttleTimeMs?: number };
        if ((r.throttleTimeMs ?? 0) < throttleMs) r.throttleTimeMs = throttleMs;
        if (throttleMs > this.muteMs) this.muteMs = throttleMs;
      }
      out = encode(response);
    } else if (decided) {
      throttleMs = fetchQuota.ms;
      if (throttleMs > this.muteMs) this.muteMs = throttleMs;
      out = encode(response);
    } else {
      out = encode(response);
      // A fetch answered before it read (an error): its response's size counted as Kafka's fetch
      // quota does; a throttled fetch (by either quota) answers with no data (and the size is taken
      // back), then the connection is muted.
      let size = 0;
      if (quotas.fetch.enabled) {
        for (const c of out) size += c.length;
        throttleMs = Math.max(throttleMs, quotas.fetch.recordAndGetThrottleTimeMs(user, clientId, size));
      }
      if (throttleMs > 0) {
        if (size > 0) quotas.fetch.unrecord(user, clientId, size);
        for (const c of out) releaseChunk(c);
        this.muteMs = throttleMs;
        const r = response as { errorCode?: number; sessionId?: number };
        out = encode(
          // A ShareFetch that fetched nothing (an error, or acknowledgements only) keeps its answer.
          apiKey === SHARE_FETCH_KEY
            ? { ...(response as object), throttleTimeMs: throttleMs }
            : {
                throttleTimeMs: throttleMs,
                errorCode: r.errorCode ?? 0,
                sessionId: r.sessionId ?? 0,
                responses: [],
              },
        );
      }
    }
    // Kafka records the network thread's time of the response without a throttle of its own.
    if (counted) quotas!.request.record(user, clientId, (performance.now() - encodeStarted) * PERCENT_PER_MS);
    return out;
  }

  private errorResponse(handler: AnyHandler, err: unknown): unknown {
    // A protocol violation found by the handler closes the connection (logged there as a warning).
    if (err instanceof ProtocolError) throw err;
    this.broker.log.error(`${handler.name} from ${this.remote} failed`, err);
    if (handler.response.fields.some((f) => f.name === 'errorCode')) {
      return { errorCode: errorOf(err).code };
    }
    throw new ProtocolError(`${handler.name} failed: ${(err as Error).message}`);
  }
}
