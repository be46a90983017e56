/**
 * Share sessions (KIP-932, Kafka's ShareSessionCache): what one member of a share group fetches
 * from this broker, kept between ShareFetch requests so each request names only what changed.
 *
 * - epoch 0 opens a session (replacing the member's previous one, whose acquired records are
 *   released); a full cache refuses with SHARE_SESSION_LIMIT_REACHED
 *   (`group.share.max.share.sessions`);
 * - epoch N > 0 must be the session's next epoch (INVALID_SHARE_SESSION_EPOCH), a session that is
 *   not there is SHARE_SESSION_NOT_FOUND; each such request adds its partitions and removes the
 *   forgotten ones;
 * - epoch -1 closes it (after its last acknowledgements).
 * A session also ends when the connection that opened it closes (as Kafka's cache drops the
 * sessions of a disconnected client), so the cache holds no session without a live connection.
 */
import { KafkaError } from '../protocol/kafka-error.js';

export const INITIAL_SHARE_SESSION_EPOCH = 0;
export const FINAL_SHARE_SESSION_EPOCH = -1;

export interface ShareSessionPartition {
  readonly topicId: string;
  readonly partition: number;
}

export class ShareSession {
  /** The epoch the next request must carry. */
  epoch = 1;
  readonly partitions = new Map<string, ShareSessionPartition>();
  private rotation = 0;

  /** Where the next fetch starts among the session's partitions (fairness across fetches). */
  nextRotation(): number {
    this.rotation = (this.rotation + 1) % 1_000_000;
    return this.rotation;
  }

  /** Undoes the connection-close listener. */
  detach: () => void = () => {};

  constructor(
    readonly groupId: string,
    readonly memberId: string,
    readonly connection: AbortSignal,
  ) {}

  add(topicId: string, partition: number): void {
    this.partitions.set(`${topicId}:${partition}`, { topicId, partition });
  }

  forget(topicId: string, partition: number): void {
    this.partitions.delete(`${topicId}:${partition}`);
  }
}

export class ShareSessionCache {
  private readonly sessions = new Map<string, ShareSession>();

  constructor(
    private readonly maxSessions: number,
    /** Called when a session ends for any reason (its member's acquired records are released). */
    private readonly onClosed: (s: ShareSession) => void,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  private key(groupId: string, memberId: string): string {
    return `${groupId}\0${memberId}`;
  }

  get(groupId: string, memberId: string): ShareSession | undefined {
    return this.sessions.get(this.key(groupId, memberId));
  }

  /** Epoch 0: a new session for the member on `connection`. */
  open(groupId: string, memberId: string, connection: AbortSignal): ShareSession {
    const k = this.key(groupId, memberId);
    const old = this.sessions.get(k);
    if (old) this.close(old);
    else if (this.sessions.size >= this.maxSessions) {
      throw new KafkaError('SHARE_SESSION_LIMIT_REACHED', 'The limit of share sessions has been reached.');
    }
    const s = new ShareSession(groupId, memberId, connection);
    const onAbort = () => this.close(s);
    connection.addEventListener('abort', onAbort, { once: true });
    s.detach = () => connection.removeEventListener('abort', onAbort);
    this.sessions.set(k, s);
    return s;
  }

  /** Epoch N > 0: the session, its epoch checked and moved on. */
  next(groupId: string, memberId: string, epoch: number): ShareSession {
    const s = this.sessions.get(this.key(groupId, memberId));
    if (!s) throw new KafkaError('SHARE_SESSION_NOT_FOUND', 'The share session was not found.');
    if (s.epoch !== epoch)
      throw new KafkaError('INVALID_SHARE_SESSION_EPOCH', 'The share session epoch is invalid.');
    s.epoch = s.epoch === 2147483647 ? 1 : s.epoch + 1;
    return s;
  }

  /** Epoch -1 (or the session must check an existing one): the session, unchanged. */
  existing(groupId: string, memberId: string): ShareSession {
    const s = this.sessions.get(this.key(groupId, memberId));
    if (!s) throw new KafkaError('SHARE_SESSION_NOT_FOUND', 'The share session was not found.');
    return s;
  }

  close(s: ShareSession): void {
    const k = this.key(s.groupId, s.memberId);
    if (this.sessions.get(k) !== s) return;
    this.sessions.delete(k);
    s.detach();
    this.onClosed(s);
  }

  /** Ends every session of `groupId`'s member (it left or was fenced from the group). */
  closeMember(groupId: string, memberId: string): void {
    const s = this.sessions.get(this.key(groupId, memberId));
    if (s) this.close(s);
  }

  clear(): void {
    for (const s of [...this.sessions.values()]) this.close(s);
  }
}
