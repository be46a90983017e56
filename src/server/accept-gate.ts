/**
 * `max.connection.creation.rate` on one listener, the way Kafka's acceptor meets it (KIP-612): a new
 * connection is recorded against the rates (the broker's and the listener's, ConnectionQuotas); when
 * that takes one over, the acceptor waits the throttle time before taking this connection and the ones
 * behind it, which wait in the listen backlog meanwhile. Node has already accepted them here, so the
 * gate holds them, paused and unread, in arrival order, and lets each through when Kafka's acceptor
 * would have taken it. Bounded as a backlog is: past `backlog` waiting, a new one is closed (the kernel
 * refuses a connection to a full backlog).
 */
import type { Socket } from 'node:net';
import type { Time, Timer } from '../common/time.js';

/** Kafka's `socket.listen.backlog.size` default: connections that may wait for the acceptor. */
export const LISTEN_BACKLOG = 50;

export class AcceptGate {
  private readonly waiting: Waiting[] = [];
  /** The connection the acceptor is waiting to take, and the wait. */
  private current: Waiting | null = null;
  private blocked: Timer | null = null;
  private closed = false;

  constructor(
    private readonly time: Time,
    /** Records a connection being taken; the ms to wait before taking it (0: at once). */
    private readonly throttleMs: () => number,
    private readonly backlog = LISTEN_BACKLOG,
  ) {}

  /** A connection the listener accepted, and what taking it does (serve it, or the other quotas). */
  offer(socket: Socket, take: () => void): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const w = { socket, take };
    if (this.blocked === null && this.waiting.length === 0) {
      this.next(w, false);
      return;
    }
    if (this.waiting.length >= this.backlog) {
      socket.destroy();
      return;
    }
    holdUnread(socket);
    this.waiting.push(w);
  }

  /** Connections held now (tests). */
  get held(): number {
    return this.waiting.length + (this.current ? 1 : 0);
  }

  /** Closes every held connection; later offers are closed at once. */
  close(): void {
    this.closed = true;
    this.blocked?.cancel();
    this.blocked = null;
    this.current?.socket.destroy();
    this.current = null;
    for (const w of this.waiting.splice(0)) w.socket.destroy();
  }

  /** The connection at the acceptor: recorded once, taken at once or after its wait. */
  private next(w: Waiting, paused: boolean): void {
    const wait = this.throttleMs();
    if (wait <= 0) {
      pass(w, paused);
      return;
    }
    if (!paused) holdUnread(w.socket);
    this.current = w;
    this.blocked = this.time.setTimeout(() => {
      this.blocked = null;
      const c = this.current;
      this.current = null;
      if (c && !c.socket.destroyed) pass(c, true);
      this.drain();
    }, wait);
  }

  private drain(): void {
    while (this.blocked === null && this.waiting.length > 0 && !this.closed) {
      const w = this.waiting.shift()!;
      if (!w.socket.destroyed) this.next(w, true);
    }
  }
}

interface Waiting {
  readonly socket: Socket;
  readonly take: () => void;
}

function pass(w: Waiting, paused: boolean): void {
  // Its data events come asynchronously: `take` attaches its listener before any is emitted.
  if (paused) w.socket.resume();
  w.take();
}

/** Paused and unread until taken or closed; an error (the peer gone) only ends it. */
export function holdUnread(socket: Socket): void {
  socket.pause();
  socket.on('error', () => {});
}
