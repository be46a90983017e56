/**
 * The coordinator runtime (Kafka's `CoordinatorRuntime`, much smaller): what the group coordinator
 * and the transaction coordinator — and KIP-848 groups later — run on.
 *
 * - One shard per partition of the coordinator's internal topic (Kafka's `CoordinatorShard`),
 *   holding the state of the keys that hash there. A shard changes through one `replay` function,
 *   the same when the partition is loaded and after each write.
 * - A write operation returns a `CoordinatorResult`: the records to write and the response. The
 *   runtime appends the records as one batch; only then are they replayed, so an append that fails
 *   leaves the shard as it was (and the operation's `onAppendError` picks the response). The
 *   response is released when the write is committed: the partition's high watermark passes the
 *   batch. That wait is a delayed operation in a purgatory checked whenever the high watermark
 *   moves, so replication only has to move the high watermark; on one broker it passes at once.
 *   A write not committed within `writeTimeoutMs` fails with REQUEST_TIMED_OUT.
 * - `load(partition)` builds a shard by replaying the partition's committed batches, control
 *   batches included; `unload(partition)` drops it and fails its waiting writes with
 *   NOT_COORDINATOR. Leadership changes of the internal topic call these.
 * - One injectable `Time` for the shards' timers and the write timeout.
 *
 * Operations whose in-memory change is made by the operation itself (classic group membership,
 * as in Kafka) set `replayRecords: false`: the records are written for the next load only.
 */
import type { Logger } from '../../common/logger.js';
import type { Time } from '../../common/time.js';
import type { ErrorName } from '../../protocol/generated/errors.js';
import { errorOf, KafkaError } from '../../protocol/kafka-error.js';
import { DelayedOperation, DelayedOperationPurgatory } from '../../replication/purgatory.js';
import type {
  CoordinatorBatch,
  CoordinatorLog,
  CoordinatorRecord,
  TransactionalProducer,
} from './coordinator-log.js';

/** A failure of the runtime itself: the partition is not loaded here, a write was not committed in time. */
export class CoordinatorError extends KafkaError {
  override name = 'CoordinatorError';
}

/**
 * The error a failed coordinator write answers a client with (Kafka's coordinators'
 * `normalizeException`): a KafkaError's own, translated where the client must see a coordinator
 * error — a write not committed in time or without enough replicas is COORDINATOR_NOT_AVAILABLE,
 * a partition not led here NOT_COORDINATOR, a batch too large UNKNOWN_SERVER_ERROR; anything else
 * `fallback`.
 */
export function coordinatorErrorOf(
  err: unknown,
  fallback: ErrorName = 'COORDINATOR_NOT_AVAILABLE',
): ErrorName {
  const { error } = errorOf(err, fallback);
  switch (error) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
    case 'NOT_ENOUGH_REPLICAS':
    case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND':
    case 'REQUEST_TIMED_OUT':
      return 'COORDINATOR_NOT_AVAILABLE';
    case 'NOT_LEADER_OR_FOLLOWER':
    case 'KAFKA_STORAGE_ERROR':
      return 'NOT_COORDINATOR';
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
    case 'INVALID_FETCH_SIZE':
      return 'UNKNOWN_SERVER_ERROR';
    default:
      return error;
  }
}

/**
 * The error a failed offset commit (plain or transactional) answers: a batch too large is
 * INVALID_COMMIT_OFFSET_SIZE (Kafka's storeOffsets), anything else as `coordinatorErrorOf`.
 */
export function offsetCommitErrorOf(err: unknown): ErrorName {
  const { error } = errorOf(err);
  if (error === 'MESSAGE_TOO_LARGE' || error === 'RECORD_LIST_TOO_LARGE' || error === 'INVALID_FETCH_SIZE')
    return 'INVALID_COMMIT_OFFSET_SIZE';
  return coordinatorErrorOf(err);
}

export interface CoordinatorResult<T> {
  /** Written as one batch (nothing written when empty). */
  records: CoordinatorRecord[];
  /** Released once the records are committed. */
  response: T;
  /** Replay the records into the shard after the append (default true). */
  replayRecords?: boolean;
  /** Write the records as a transactional batch of this producer (TxnOffsetCommit). */
  producer?: TransactionalProducer;
  /** The response when the append or its commit fails (default: the promise rejects). */
  onAppendError?: (err: unknown) => T;
}

/** Where a replayed record comes from. */
export interface ReplayContext {
  /** Offset of the batch's last record. */
  offset: number;
  producerId: number;
  producerEpoch: number;
  isTransactional: boolean;
}

export interface CoordinatorShard {
  /** Applies one record (null value: a tombstone) to the shard's state. */
  replay(record: CoordinatorRecord, ctx: ReplayContext): void;
  /** A transaction of `producerId` ended here (its offsets become visible or are dropped). */
  replayEndTransactionMarker(producerId: number, result: 'COMMIT' | 'ABORT'): void;
  /** The partition is loaded: start what runs on the shard's timers. */
  onLoaded?(): void;
  /** The partition is unloaded (leadership moved, shutdown): stop timers, answer waiters. */
  onUnloaded?(): void;
}

export interface CoordinatorRuntimeOptions<S extends CoordinatorShard> {
  /** Names the runtime in logs and its purgatory ("GroupCoordinator"). */
  name: string;
  log: CoordinatorLog;
  time: Time;
  logger: Logger;
  /** Builds the empty shard of `partition`. */
  newShard: (partition: number) => S;
  /** How long a write may wait for its commit. */
  writeTimeoutMs: number;
}

class DelayedCoordinatorWrite extends DelayedOperation {
  private expired = false;
  private unloaded = false;

  constructor(
    delayMs: number,
    private readonly committed: () => boolean,
    private readonly done: (error: CoordinatorError | null) => void,
  ) {
    super(delayMs);
  }

  tryComplete(): boolean {
    return this.committed() ? this.forceComplete() : false;
  }

  /** The partition was unloaded before the write was committed. */
  abandon(): void {
    this.unloaded = true;
    this.forceComplete();
  }

  protected override onExpiration(): void {
    this.expired = true;
  }

  protected onComplete(): void {
    if (this.unloaded) this.done(new CoordinatorError('NOT_COORDINATOR', 'the partition was unloaded'));
    else if (this.expired)
      this.done(new CoordinatorError('REQUEST_TIMED_OUT', 'the write was not committed in time'));
    else this.done(null);
  }
}

interface Context<S> {
  shard: S;
  /** Stops listening to the partition's high watermark; null until the partition exists. */
  unsubscribe: (() => void) | null;
  waiting: Set<DelayedCoordinatorWrite>;
}

export class CoordinatorRuntime<S extends CoordinatorShard> {
  private readonly contexts = new Map<number, Context<S>>();
  private readonly purgatory: DelayedOperationPurgatory<number, DelayedCoordinatorWrite>;

  constructor(private readonly options: CoordinatorRuntimeOptions<S>) {
    this.purgatory = new DelayedOperationPurgatory(`${options.name}Write`, options.time);
  }

  get log(): CoordinatorLog {
    return this.options.log;
  }

  /** Replays `partition`'s committed batches into a new shard, which then serves it. */
  load(partition: number): S {
    this.unload(partition);
    const { log, logger, name } = this.options;
    const shard = this.options.newShard(partition);
    let skipped = 0;
    for (const batch of log.read(partition)) skipped += this.replayBatch(shard, batch, partition);
    if (skipped > 0) logger.warn(`${log.topic}-${partition}: skipped ${skipped} unreadable record(s)`);
    const unsubscribe = log.onHighWatermarkChange(partition, () =>
      this.purgatory.checkAndComplete(partition),
    );
    this.contexts.set(partition, { shard, unsubscribe, waiting: new Set() });
    shard.onLoaded?.();
    logger.debug(`${name}: loaded ${log.topic}-${partition}`);
    return shard;
  }

  /** Drops `partition`'s shard; its writes still waiting for their commit fail with NOT_COORDINATOR. */
  unload(partition: number): void {
    const ctx = this.contexts.get(partition);
    if (!ctx) return;
    this.contexts.delete(partition);
    ctx.unsubscribe?.();
    for (const op of [...ctx.waiting]) op.abandon();
    ctx.shard.onUnloaded?.();
  }

  /** Unloads every partition. */
  close(): void {
    for (const p of [...this.contexts.keys()]) this.unload(p);
  }

  isLoaded(partition: number): boolean {
    return this.contexts.has(partition);
  }

  loadedPartitions(): number[] {
    return [...this.contexts.keys()];
  }

  shard(partition: number): S | undefined {
    return this.contexts.get(partition)?.shard;
  }

  private context(partition: number): Context<S> {
    const ctx = this.contexts.get(partition);
    if (!ctx)
      throw new CoordinatorError(
        'NOT_COORDINATOR',
        `${this.options.log.topic}-${partition} is not loaded here`,
      );
    return ctx;
  }

  /**
   * Runs `op` on `partition`'s shard, appends its records, replays them and resolves with its
   * response once they are committed. Rejects with a CoordinatorError (NOT_COORDINATOR when the
   * partition is not loaded) or the append's error, unless the result maps errors to a response.
   */
  scheduleWriteOperation<T>(partition: number, op: (shard: S) => CoordinatorResult<T>): Promise<T> {
    let ctx: Context<S>;
    let result: CoordinatorResult<T>;
    try {
      ctx = this.context(partition);
      result = op(ctx.shard);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      const fail = (err: unknown) => {
        if (result.onAppendError) resolve(result.onAppendError(err));
        else reject(err);
      };
      if (result.records.length === 0) return resolve(result.response);
      let end: number;
      try {
        end = this.append(ctx, partition, result.records, result.producer, result.replayRecords ?? true);
      } catch (err) {
        return fail(err);
      }
      this.awaitCommit(ctx, partition, end, (error) => (error ? fail(error) : resolve(result.response)));
    });
  }

  /**
   * Ends `producer`'s transaction on `partition` (Kafka's `scheduleTransactionCompletion`): writes
   * the marker, replays it, and resolves once it is committed.
   */
  scheduleTransactionCompletion(
    partition: number,
    producer: TransactionalProducer,
    result: 'COMMIT' | 'ABORT',
    coordinatorEpoch: number,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let ctx: Context<S>;
      let end: number;
      try {
        ctx = this.context(partition);
        end = this.options.log.appendEndTxnMarker(partition, result, producer, coordinatorEpoch);
      } catch (err) {
        return reject(err);
      }
      ctx.shard.replayEndTransactionMarker(producer.producerId, result);
      this.awaitCommit(ctx, partition, end, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Runs a read on `partition`'s shard (NOT_COORDINATOR when it is not loaded). */
  scheduleReadOperation<T>(partition: number, op: (shard: S) => T): T {
    return op(this.context(partition).shard);
  }

  /**
   * Appends and replays at once, for callers not yet waiting on the commit (the membership flows
   * of classic groups and the transaction coordinator's state writes). Throws when the append fails.
   */
  appendNow(
    partition: number,
    records: readonly CoordinatorRecord[],
    replayRecords: boolean,
    producer?: TransactionalProducer,
  ): void {
    if (records.length === 0) return;
    this.append(this.context(partition), partition, records, producer, replayRecords);
  }

  private append(
    ctx: Context<S>,
    partition: number,
    records: readonly CoordinatorRecord[],
    producer: TransactionalProducer | undefined,
    replay: boolean,
  ): number {
    const end = this.options.log.append(partition, records, producer);
    if (replay) {
      this.replayBatch(
        ctx.shard,
        {
          lastOffset: end - 1,
          producerId: producer?.producerId ?? -1,
          producerEpoch: producer?.producerEpoch ?? -1,
          isTransactional: producer !== undefined,
          control: null,
          records: [...records],
        },
        partition,
      );
    }
    return end;
  }

  /** Listens to the partition's high watermark once it exists (it may be created by the first write). */
  private watchHighWatermark(ctx: Context<S>, partition: number): void {
    ctx.unsubscribe ??= this.options.log.onHighWatermarkChange(partition, () =>
      this.purgatory.checkAndComplete(partition),
    );
  }

  private awaitCommit(
    ctx: Context<S>,
    partition: number,
    end: number,
    done: (error: CoordinatorError | null) => void,
  ): void {
    this.watchHighWatermark(ctx, partition);
    const op = new DelayedCoordinatorWrite(
      this.options.writeTimeoutMs,
      () => this.options.log.highWatermark(partition) >= end,
      (error) => {
        ctx.waiting.delete(op);
        done(error);
      },
    );
    ctx.waiting.add(op);
    this.purgatory.tryCompleteElseWatch(op, [partition]);
  }

  /** Replays one batch; returns how many records could not be replayed (logged). */
  private replayBatch(shard: S, batch: CoordinatorBatch, partition: number): number {
    if (batch.control !== null) {
      shard.replayEndTransactionMarker(batch.producerId, batch.control);
      return 0;
    }
    const ctx: ReplayContext = {
      offset: batch.lastOffset,
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      isTransactional: batch.isTransactional,
    };
    let skipped = 0;
    for (const record of batch.records) {
      try {
        shard.replay(record, ctx);
      } catch (err) {
        skipped++;
        this.options.logger.warn(
          `${this.options.log.topic}-${partition}: skipping a record that does not replay: ${(err as Error).message}`,
        );
      }
    }
    return skipped;
  }
}
