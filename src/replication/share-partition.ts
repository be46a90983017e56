/**
 * One share-partition (KIP-932, Kafka's SharePartition): the state a share group keeps for one
 * topic partition on the partition's leader.
 *
 * - SPSO (`startOffset`): the first offset not yet done with; every offset below it is
 *   acknowledged or archived. SPEO (`endOffset`): one past the last offset ever acquired — the
 *   offsets between are "in flight", each with a state and a delivery count.
 * - States (Kafka's RecordState): AVAILABLE (may be acquired), ACQUIRED (delivered to one member,
 *   locked for `group.share.record.lock.duration.ms` by the broker's clock), ACKNOWLEDGED
 *   (accepted), ARCHIVED (rejected, a gap, past the delivery count limit, or below the log start).
 * - Acquiring takes the AVAILABLE in-flight offsets first, then new offsets from SPEO, up to
 *   `maxRecords` and the in-flight limit (`group.share.partition.max.record.locks`); each delivery
 *   counts, and an offset whose count reached `group.share.delivery.count.limit` is archived
 *   instead of made available again (released, or its lock expired).
 * - Acknowledging (accept / release / reject, gap for offsets with no record, renew to extend the
 *   lock) needs the offsets ACQUIRED by the acknowledging member, else INVALID_RECORD_STATE; then
 *   SPSO moves over the offsets done with and their state is forgotten.
 *
 * State kept per offset (a Map) holds offsets of SPSO..SPEO only, at most the in-flight limit of
 * them: an offset in that range with no state is a gap in the log (compacted away), archived
 * without an entry, so a large gap costs nothing. Every change is reported to `onChange`
 * (persistence writes a ShareUpdate) and offsets that become acquirable to `onAvailable`
 * (waiting ShareFetches try again).
 */
import type { Time, Timer } from '../common/time.js';
import { KafkaError } from '../protocol/kafka-error.js';

/** Kafka's RecordState ids (also the DeliveryState stored in ShareSnapshot/ShareUpdate). */
export const RecordState = {
  AVAILABLE: 0,
  ACQUIRED: 1,
  ACKNOWLEDGED: 2,
  ARCHIVED: 4,
} as const;
export type RecordStateId = (typeof RecordState)[keyof typeof RecordState];

/** Kafka's AcknowledgeType ids (ShareFetch/ShareAcknowledge AcknowledgeTypes). */
export const AcknowledgeType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;

export interface SharePartitionConfig {
  lockDurationMs: number;
  deliveryCountLimit: number;
  maxInFlightRecords: number;
}

export interface AcquiredRange {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

/** A batch as found in the log: its first and last offsets (records are never decoded). */
export interface LogBatchRange {
  baseOffset: number;
  lastOffset: number;
  /** A control batch (transaction marker): archived, never delivered. */
  control?: boolean;
}

export interface AcknowledgementBatch {
  firstOffset: number;
  lastOffset: number;
  /** One type for the whole range, or one per offset. */
  acknowledgeTypes: readonly number[];
}

/** A persisted state batch (ShareSnapshot/ShareUpdate StateBatch). */
export interface PersistedStateBatch {
  firstOffset: number;
  lastOffset: number;
  deliveryState: number;
  deliveryCount: number;
}

interface InFlight {
  state: RecordStateId;
  deliveryCount: number;
  memberId: string | null;
  /** The acquisition holding the lock (its timer), for ACQUIRED. */
  lock: Lock | null;
}

interface Lock {
  timer: Timer;
  offsets: Set<number>;
}

export class SharePartition {
  private readonly inFlight = new Map<number, InFlight>();
  private start: number;
  private end: number;
  /** Called with the offsets whose state changed (persistence). */
  onChange: (batches: PersistedStateBatch[]) => void = () => {};
  /** Called when offsets become acquirable (released, lock expired). */
  onAvailable: () => void = () => {};

  constructor(
    readonly groupId: string,
    readonly topicId: string,
    readonly partition: number,
    private readonly time: Time,
    private readonly config: SharePartitionConfig,
    startOffset: number,
    persisted: readonly PersistedStateBatch[] = [],
  ) {
    this.start = startOffset;
    this.end = startOffset;
    // A restart: acknowledged and archived stay so; acquired records (persisted as available) are available again.
    for (const b of persisted) {
      for (let o = Math.max(b.firstOffset, startOffset); o <= b.lastOffset; o++) {
        const state = b.deliveryState === RecordState.ACQUIRED ? RecordState.AVAILABLE : b.deliveryState;
        this.inFlight.set(o, {
          state: state as RecordStateId,
          deliveryCount: b.deliveryCount,
          memberId: null,
          lock: null,
        });
        if (o + 1 > this.end) this.end = o + 1;
      }
    }
    this.advanceStart();
  }

  /** SPSO. */
  get startOffset(): number {
    return this.start;
  }

  /** SPEO: the next offset never acquired. */
  get endOffset(): number {
    return this.end;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  stateOf(
    offset: number,
  ): { state: RecordStateId; deliveryCount: number; memberId: string | null } | undefined {
    if (offset < this.start) return { state: RecordState.ARCHIVED, deliveryCount: 0, memberId: null };
    const r = this.inFlight.get(offset);
    if (r) return { state: r.state, deliveryCount: r.deliveryCount, memberId: r.memberId };
    // A gap in the log below SPEO.
    return offset < this.end ? { state: RecordState.ARCHIVED, deliveryCount: 0, memberId: null } : undefined;
  }

  /** Offsets counted as delivered-complete below SPEO (acknowledged, archived, gaps), for DescribeShareGroupOffsets lag. */
  get deliveryCompleteCount(): number {
    let pending = 0;
    for (const r of this.inFlight.values())
      if (r.state === RecordState.AVAILABLE || r.state === RecordState.ACQUIRED) pending++;
    return this.end - this.start - pending;
  }

  /**
   * Where a fetch should read from: the first AVAILABLE in-flight offset, else SPEO while the
   * in-flight limit allows more; undefined when nothing can be acquired now.
   */
  nextFetchOffset(): number | undefined {
    let first: number | undefined;
    for (const [o, r] of this.inFlight)
      if (r.state === RecordState.AVAILABLE && (first === undefined || o < first)) first = o;
    if (first !== undefined) return first;
    return this.inFlight.size < this.config.maxInFlightRecords ? this.end : undefined;
  }

  /** The log start moved past SPSO: what lies below is archived (Kafka's updateCacheAndOffsets). */
  updateLogStartOffset(logStartOffset: number): void {
    if (logStartOffset <= this.start) return;
    const changed: PersistedStateBatch[] = [];
    for (const [o, r] of this.inFlight) {
      if (o >= logStartOffset) continue;
      r.lock?.offsets.delete(o);
      this.inFlight.delete(o);
    }
    this.start = logStartOffset;
    if (this.end < this.start) this.end = this.start;
    this.onChange(changed);
  }

  /**
   * Acquires, for `memberId`, records of the fetched `batches` (in offset order): available
   * in-flight offsets and new ones from SPEO, at most `maxRecords` (whole log batches beyond it
   * are left). Returns the acquired ranges, each with one delivery count. `readFrom`, the offset
   * the batches were read from: available offsets the walk passed that no batch holds are gaps
   * in the log (compacted away since they were stored), archived.
   */
  acquire(
    memberId: string,
    batches: readonly LogBatchRange[],
    maxRecords: number,
    readFrom?: number,
  ): AcquiredRange[] {
    const acquired: number[] = [];
    const limit = Math.max(1, maxRecords);
    const archived: number[] = [];
    // The in-flight limit stops the whole walk, not just the batch at hand: a later batch must not
    // start past SPEO (its offsets would be taken as a gap in the log and archived, unacquired).
    let full = false;
    /** Where the walk stopped: every offset below it (from `readFrom`) was looked at. */
    let reached = readFrom ?? 0;
    const walked: LogBatchRange[] = [];
    for (const b of batches) {
      if (acquired.length >= limit || full) break;
      walked.push(b);
      reached = b.lastOffset + 1;
      if (b.control) {
        for (let o = Math.max(b.baseOffset, this.start); o <= b.lastOffset; o++) {
          const r = this.inFlight.get(o);
          if (o < this.end && r?.state !== RecordState.AVAILABLE) continue;
          if (o >= this.end && this.inFlight.size >= this.config.maxInFlightRecords) {
            full = true;
            reached = o;
            break;
          }
          this.skipGap(o);
          if (r) r.state = RecordState.ARCHIVED;
          else
            this.inFlight.set(o, {
              state: RecordState.ARCHIVED,
              deliveryCount: 0,
              memberId: null,
              lock: null,
            });
          if (o >= this.end) this.end = o + 1;
          archived.push(o);
        }
        continue;
      }
      for (let o = Math.max(b.baseOffset, this.start); o <= b.lastOffset; o++) {
        if (acquired.length >= limit) {
          reached = o;
          break;
        }
        if (o < this.end) {
          const r = this.inFlight.get(o);
          if (r?.state !== RecordState.AVAILABLE) continue;
          r.state = RecordState.ACQUIRED;
          r.deliveryCount += 1;
          r.memberId = memberId;
          acquired.push(o);
        } else {
          if (this.inFlight.size >= this.config.maxInFlightRecords) {
            full = true;
            reached = o;
            break;
          }
          this.skipGap(o);
          this.inFlight.set(o, { state: RecordState.ACQUIRED, deliveryCount: 1, memberId, lock: null });
          this.end = o + 1;
          acquired.push(o);
        }
      }
    }
    if (readFrom !== undefined) this.archiveGaps(readFrom, reached, walked, archived);
    if (acquired.length === 0) {
      const changed = this.persisted(archived);
      this.advanceStart();
      if (changed.length > 0) this.onChange(changed);
      return [];
    }
    const lock: Lock = { offsets: new Set(acquired), timer: { cancel() {} } };
    lock.timer = this.time.setTimeout(() => this.expire(lock), this.config.lockDurationMs);
    for (const o of acquired) this.inFlight.get(o)!.lock = lock;
    const result = ranges(acquired, (o) => this.inFlight.get(o)!.deliveryCount);
    const changed = [...archived, ...acquired].sort((a, b) => a - b);
    const batchesChanged = this.persisted(changed);
    this.advanceStart();
    this.onChange(batchesChanged);
    return result;
  }

  /**
   * Applies `memberId`'s acknowledgements. Every batch is checked first: its offsets must be
   * acquired by the member (a GAP may name any in-flight offset of the member's acquisitions),
   * else INVALID_RECORD_STATE and nothing changes; a malformed batch is INVALID_REQUEST.
   */
  acknowledge(memberId: string, batches: readonly AcknowledgementBatch[]): void {
    const plan: { offset: number; type: number }[] = [];
    for (const b of batches) {
      const n = b.lastOffset - b.firstOffset + 1;
      if (b.firstOffset < 0 || n <= 0 || b.acknowledgeTypes.length === 0) {
        throw new KafkaError('INVALID_REQUEST', 'Invalid acknowledgement batch.');
      }
      if (b.acknowledgeTypes.length !== 1 && b.acknowledgeTypes.length !== n) {
        throw new KafkaError('INVALID_REQUEST', 'Acknowledge types do not match the batch offsets.');
      }
      if (n > this.config.maxInFlightRecords) {
        throw new KafkaError(
          'INVALID_RECORD_STATE',
          'The record state is invalid. The acknowledgement of delivery could not be completed.',
        );
      }
      for (let i = 0; i < n; i++) {
        const type = b.acknowledgeTypes.length === 1 ? b.acknowledgeTypes[0]! : b.acknowledgeTypes[i]!;
        if (type < AcknowledgeType.GAP || type > AcknowledgeType.RENEW) {
          throw new KafkaError('INVALID_REQUEST', `Invalid acknowledge type ${type}.`);
        }
        const offset = b.firstOffset + i;
        const r = this.inFlight.get(offset);
        if (!r || r.state !== RecordState.ACQUIRED || r.memberId !== memberId) {
          throw new KafkaError(
            'INVALID_RECORD_STATE',
            'The record state is invalid. The acknowledgement of delivery could not be completed.',
          );
        }
        plan.push({ offset, type });
      }
    }
    let released = false;
    const wasFull = this.inFlight.size >= this.config.maxInFlightRecords;
    const changed: number[] = [];
    for (const { offset, type } of plan) {
      const r = this.inFlight.get(offset)!;
      if (type === AcknowledgeType.RENEW) {
        this.renew(offset, r);
        continue;
      }
      r.lock?.offsets.delete(offset);
      if (r.lock && r.lock.offsets.size === 0) r.lock.timer.cancel();
      r.lock = null;
      r.memberId = null;
      if (type === AcknowledgeType.ACCEPT) r.state = RecordState.ACKNOWLEDGED;
      else if (type === AcknowledgeType.RELEASE) {
        r.state = this.afterDelivery(r);
        if (r.state === RecordState.AVAILABLE) released = true;
      } else r.state = RecordState.ARCHIVED;
      changed.push(offset);
    }
    const batchesChanged = this.persisted(changed);
    this.advanceStart();
    if (changed.length > 0) this.onChange(batchesChanged);
    // Records released, or SPSO moved off the in-flight limit so new records may be acquired
    // again: waiting fetches try again (Kafka completes delayed share fetches on acknowledgement).
    if (released || (wasFull && this.inFlight.size < this.config.maxInFlightRecords)) this.onAvailable();
  }

  /** Available offsets in [from, to) that no walked batch holds: gone from the log, archived. */
  private archiveGaps(from: number, to: number, walked: readonly LogBatchRange[], archived: number[]): void {
    const candidates: number[] = [];
    for (const [o, r] of this.inFlight)
      if (o >= from && o < to && r.state === RecordState.AVAILABLE) candidates.push(o);
    if (candidates.length === 0) return;
    candidates.sort((a, b) => a - b);
    let i = 0;
    for (const o of candidates) {
      while (i < walked.length && walked[i]!.lastOffset < o) i++;
      if (i < walked.length && walked[i]!.baseOffset <= o) continue;
      this.inFlight.get(o)!.state = RecordState.ARCHIVED;
      archived.push(o);
    }
  }

  /**
   * Offsets between SPEO and `offset` are missing from the log (compacted away): nothing to
   * deliver, so SPEO moves up to `offset` and they stay without state, which is archived. The
   * stored state has the same hole (the offset after it is stored), read back as archived too.
   */
  private skipGap(offset: number): void {
    if (offset > this.end) this.end = offset;
  }

  /** Releases every record `memberId` holds (its share session closed, or it left the group). */
  releaseMember(memberId: string): number {
    const changed: number[] = [];
    for (const [o, r] of this.inFlight) {
      if (r.state !== RecordState.ACQUIRED || r.memberId !== memberId) continue;
      this.releaseOne(o, r);
      changed.push(o);
    }
    if (changed.length === 0) return 0;
    this.advanceStart();
    this.onChange(this.persisted(changed));
    this.onAvailable();
    return changed.length;
  }

  /** The in-flight state as persisted batches (ShareSnapshot): ACQUIRED is stored as AVAILABLE. */
  snapshot(): PersistedStateBatch[] {
    return this.persisted([...this.inFlight.keys()].sort((a, b) => a - b));
  }

  /** Cancels every lock (the partition is unloaded or the group's state deleted). */
  close(): void {
    for (const r of this.inFlight.values()) r.lock?.timer.cancel();
  }

  private renew(offset: number, r: InFlight): void {
    // KIP-1222's renew: the record stays acquired by the member with a fresh lock of its own.
    r.lock?.offsets.delete(offset);
    if (r.lock && r.lock.offsets.size === 0) r.lock.timer.cancel();
    const lock: Lock = { offsets: new Set([offset]), timer: { cancel() {} } };
    lock.timer = this.time.setTimeout(() => this.expire(lock), this.config.lockDurationMs);
    r.lock = lock;
  }

  private afterDelivery(r: InFlight): RecordStateId {
    return r.deliveryCount >= this.config.deliveryCountLimit ? RecordState.ARCHIVED : RecordState.AVAILABLE;
  }

  private releaseOne(offset: number, r: InFlight): void {
    r.lock?.offsets.delete(offset);
    if (r.lock && r.lock.offsets.size === 0) r.lock.timer.cancel();
    r.lock = null;
    r.memberId = null;
    r.state = this.afterDelivery(r);
  }

  /** An acquisition lock expired: its records still acquired go back (or are archived at the limit). */
  private expire(lock: Lock): void {
    const changed: number[] = [];
    for (const o of lock.offsets) {
      const r = this.inFlight.get(o);
      if (!r || r.lock !== lock || r.state !== RecordState.ACQUIRED) continue;
      r.lock = null;
      r.memberId = null;
      r.state = this.afterDelivery(r);
      changed.push(o);
    }
    lock.offsets.clear();
    if (changed.length === 0) return;
    this.advanceStart();
    this.onChange(this.persisted(changed));
    this.onAvailable();
  }

  /** Moves SPSO over the offsets done with, forgetting them. */
  private advanceStart(): void {
    while (this.start < this.end) {
      const r = this.inFlight.get(this.start);
      if (!r) {
        this.start = this.afterGap(this.start);
        continue;
      }
      if (r.state !== RecordState.ACKNOWLEDGED && r.state !== RecordState.ARCHIVED) break;
      this.inFlight.delete(this.start);
      this.start += 1;
    }
  }

  /** The first offset after `gap` (itself without state) that has state, else SPEO. */
  private afterGap(gap: number): number {
    // A short gap is stepped over; a long one costs one pass over the states (at most the limit).
    for (let o = gap + 1, i = 0; o < this.end && i < 64; o++, i++) if (this.inFlight.has(o)) return o;
    let next = this.end;
    for (const o of this.inFlight.keys()) if (o > gap && o < next) next = o;
    return next;
  }

  private persisted(offsets: readonly number[]): PersistedStateBatch[] {
    const out: PersistedStateBatch[] = [];
    for (const o of offsets) {
      const r = this.inFlight.get(o);
      if (!r) continue;
      const deliveryState = r.state === RecordState.ACQUIRED ? RecordState.AVAILABLE : r.state;
      const last = out[out.length - 1];
      if (
        last &&
        last.lastOffset === o - 1 &&
        last.deliveryState === deliveryState &&
        last.deliveryCount === r.deliveryCount
      ) {
        last.lastOffset = o;
      } else out.push({ firstOffset: o, lastOffset: o, deliveryState, deliveryCount: r.deliveryCount });
    }
    return out;
  }
}

/** Consecutive offsets with the same delivery count as ranges. */
function ranges(offsets: readonly number[], count: (o: number) => number): AcquiredRange[] {
  const out: AcquiredRange[] = [];
  for (const o of offsets) {
    const c = count(o);
    const last = out[out.length - 1];
    if (last && last.lastOffset === o - 1 && last.deliveryCount === c) last.lastOffset = o;
    else out.push({ firstOffset: o, lastOffset: o, deliveryCount: c });
  }
  return out;
}
