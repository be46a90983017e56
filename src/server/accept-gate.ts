/**
 * A listener's acceptor, the way Kafka's meets its limits: a new connection is recorded against
 * `max.connection.creation.rate` (KIP-612: the broker's and the listener's, ConnectionQuotas); when
 * that takes one over, the acceptor waits the throttle time before taking this connection and the ones
 * behind it, which wait in the listen backlog meanwhile. And it takes none while the listener has no
 * connection slot (`max.connections` of the broker and `listener.name.<l>.max.connections`, KIP-402):
 * it waits until a connection closes. Node has already accepted them here, so the gate holds them,
 * paused and unread, in arrival order, and lets each through when Kafka's acceptor would have taken
 * it. Bounded as a backlog is: past `backlog` waiting, a new one is closed (the kernel refuses a
 * connection to a full backlog).
 */
import type { Socket } from 'node:net';
import type { Time, Timer } from '../common/time.js';

/** Kafka's `socket.listen.backlog.size` default: connections that may wait for the acceptor. */
export const LISTEN_BACKLOG = 50;

export class AcceptGate {
  private readonly waiting: Waiting[] = [];
  /** The connection the acceptor is waiting to take (for its throttle time or a slot). */
  private current: Waiting | null = null;
  private blocked: Timer | null = null;
  private closed = false;

  constructor(
    private readonly time: Time,
    /** Records a connection being taken; the ms to wait before taking it (0: at once). */
    private readonly throttleMs: () => number,
    /** Whether a connection may be taken now (max.connections); else the gate waits for slotFreed. */
    private readonly slotAvailable: () => boolean = () => true,
    private readonly backlog = LISTEN_BACKLOG,
  ) {}

  /** A connection the listener accepted, and what taking it does (serve it, or the other quotas). */
  offer(socket: Socket, take: () => void): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const w: Waiting = { socket, take, paused: false };
    if (this.current === null && this.waiting.length === 0) {
      this.next(w);
      return;
    }
    if (this.waiting.length >= this.backlog) {
      socket.destroy();
      return;
    }
    hold(w);
    this.waiting.push(w);
  }

  /** A connection closed: the acceptor waiting for a slot looks again. */
  slotFreed(): void {
    if (this.current !== null && this.blocked === null) this.tryTake();
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
  private next(w: Waiting): void {
    this.current = w;
    const wait = this.throttleMs();
    if (wait <= 0) {
      this.tryTake();
      return;
    }
    hold(w);
    this.blocked = this.time.setTimeout(() => {
      this.blocked = null;
      this.tryTake();
    }, wait);
  }

  /** Takes the current connection if a slot is free (else it waits for slotFreed), then the next. */
  private tryTake(): void {
    const c = this.current;
    if (c === null) return;
    if (!c.socket.destroyed) {
      if (!this.slotAvailable()) {
        hold(c);
        return;
      }
      // Its data events come asynchronously: `take` attaches its listener before any is emitted.
      if (c.paused) c.socket.resume();
      this.current = null;
      c.take();
    } else {
      this.current = null;
    }
    while (this.current === null && this.waiting.length > 0 && !this.closed) {
      const w = this.waiting.shift()!;
      if (!w.socket.destroyed) this.next(w);
    }
  }
}

interface Waiting {
  readonly socket: Socket;
  readonly take: () => void;
  paused: boolean;
}

function hold(w: Waiting): void {
  if (w.paused) return;
  w.paused = true;
  holdUnread(w.socket);
}

/** Paused and unread until taken or closed; an error (the peer gone) only ends it. */
export function holdUnread(socket: Socket): void {
  socket.pause();
  socket.on('error', () => {});
}
