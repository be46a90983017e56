/**
 * What the two server-side-assigned group kinds share (KIP-848 consumer groups, consumer-groups.ts;
 * KIP-932 share groups, share/share-groups.ts): a heartbeat is validated, checked against the
 * group coordinator's state, then run as one write operation of the coordinator runtime whose
 * refusals (HeartbeatError) answer with no records; assignments compare as sets; the subscribed
 * topics' metadata is hashed into the group epoch record.
 */
import type { Time, Timer } from '../../common/time.js';
import type { ErrorName } from '../../protocol/generated/errors.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import type { CoordinatorRecord } from '../runtime/coordinator-log.js';
import { coordinatorErrorOf } from '../runtime/coordinator-runtime.js';
import type { GroupContext } from './context.js';

/** A refusal of a heartbeat: its error and Kafka's message. */
export class HeartbeatError extends Error {
  constructor(
    readonly error: ErrorName,
    message: string,
  ) {
    super(message);
  }
}

export function fail(error: ErrorName, message: string): never {
  throw new HeartbeatError(error, message);
}

/** A heartbeat answer carrying only an error (ConsumerGroupHeartbeat and ShareGroupHeartbeat alike). */
export interface RefusedHeartbeat {
  error: ErrorName;
  errorMessage: string | null;
  memberId: null;
  memberEpoch: 0;
  heartbeatIntervalMs: 0;
  assignment: null;
}

export const refusedHeartbeat = (error: ErrorName, errorMessage: string | null): RefusedHeartbeat => ({
  error,
  errorMessage,
  memberId: null,
  memberEpoch: 0,
  heartbeatIntervalMs: 0,
  assignment: null,
});

/**
 * Runs one heartbeat: `validate` (request checks) and the group status first, then `operation` as a
 * write of the group's `__consumer_offsets` partition; a HeartbeatError from either answers refused,
 * a failed append answers the coordinator's error for it.
 */
export function runHeartbeat<R>(
  ctx: GroupContext,
  groupId: string,
  validate: () => void,
  operation: () => { records: CoordinatorRecord[]; response: R },
): Promise<R | RefusedHeartbeat> {
  try {
    validate();
  } catch (err) {
    if (err instanceof HeartbeatError) return Promise.resolve(refusedHeartbeat(err.error, err.message));
    throw err;
  }
  const status = ctx.validateGroupStatus(groupId, true);
  if (status !== 'NONE') return Promise.resolve(refusedHeartbeat(status, null));
  const failed = (err: unknown) => refusedHeartbeat(coordinatorErrorOf(err), null);
  return ctx.runtime
    .scheduleWriteOperation<R | RefusedHeartbeat>(ctx.partitionFor(groupId), () => {
      try {
        const { records, response } = operation();
        return { records, response, onAppendError: failed };
      } catch (err) {
        if (err instanceof HeartbeatError)
          return { records: [], response: refusedHeartbeat(err.error, err.message) };
        throw err;
      }
    })
    .catch((err: unknown) => {
      if (err instanceof KafkaError) return failed(err);
      throw err;
    });
}

/** Whether two assignments (topic id → partitions) hold the same partitions. */
export function sameAssignment(a: Map<string, Set<number>>, b: Map<string, Set<number>>): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ps] of a) {
    const o = b.get(t);
    if (!o || o.size !== ps.size) return false;
    for (const p of ps) if (!o.has(p)) return false;
  }
  return true;
}

/** FNV-1a over the text, folded into a safe integer: the hash of the subscribed topics' metadata. */
export function metadataHash(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return (h1 & 0x1fffff) * 0x100000000 + h2;
}

/**
 * One timer per group member (a session or a rebalance timeout): scheduling replaces the member's
 * running one, and a timer forgets itself when it fires. `time` is read when a timer is set, so the
 * owner's clock may be wired after construction.
 */
export class MemberTimers {
  private readonly timers = new Map<string, Timer>();

  constructor(private readonly time: () => Time) {}

  schedule(groupId: string, memberId: string, delayMs: number, onExpire: () => void): void {
    this.cancel(groupId, memberId);
    const k = `${groupId}\0${memberId}`;
    this.timers.set(
      k,
      this.time().setTimeout(() => {
        this.timers.delete(k);
        onExpire();
      }, delayMs),
    );
  }

  has(groupId: string, memberId: string): boolean {
    return this.timers.has(`${groupId}\0${memberId}`);
  }

  cancel(groupId: string, memberId: string): void {
    const k = `${groupId}\0${memberId}`;
    this.timers.get(k)?.cancel();
    this.timers.delete(k);
  }
}
