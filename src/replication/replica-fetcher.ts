/**
 * A follower's replica fetcher for one source broker (Kafka's ReplicaFetcherThread over
 * AbstractFetcherThread, as an async loop instead of a thread). For the partitions this broker
 * follows on that leader, it repeats two steps over one Kafka-protocol connection:
 *
 * 1. **Truncate** the partitions that are new to it (a leader change): OffsetForLeaderEpoch (v4, with
 *    this broker's replica id) asks the leader where the follower's latest epoch ends there, and the
 *    follower's log is truncated to the smaller of that and where the follower's own copy of that epoch
 *    ends (Kafka's getOffsetTruncationState: an epoch the follower does not have means truncating to the
 *    end of its largest earlier epoch and asking again). A log without epochs truncates to its high
 *    watermark.
 * 2. **Fetch** the others (Fetch with the replica id: v15 ReplicaState with topic ids when every
 *    partition has one, else v12 with names), from the follower's log end offset, with its current
 *    leader epoch and log start offset; the leader answers up to its log end and with its high
 *    watermark. Records are appended as they are (Log.appendAsFollower), then the follower's high
 *    watermark and log start offset follow the leader's.
 *
 * Errors are per partition: one that is fenced (FENCED_LEADER_EPOCH: this follower's leader epoch is
 * old) leaves the fetcher until the controller's next leadership change re-adds it; an offset out of
 * the leader's range resets the follower from the leader's offsets (ListOffsets latest/earliest); any
 * other (UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, corrupt data) delays the partition by
 * `replica.fetch.backoff.ms`. A connection error delays every partition by it and reconnects.
 * Buffers are bounded: the response frame by `replica.fetch.response.max.bytes` (plus one batch of
 * `message.max.bytes`, which KIP-74 lets the leader return beyond it), nothing is queued but the one
 * request in flight.
 */
import type { Logger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import type { ErrorName } from '../protocol/generated/errors.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import type {
  FetchRequestData,
  FetchResponseData,
  ListOffsetsRequestData,
  ListOffsetsResponseData,
  OffsetForLeaderEpochRequestData,
  OffsetForLeaderEpochResponseData,
} from '../protocol/generated/messages.js';
import { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from '../storage/leader-epoch-cache.js';
import { BrokerClient, type BrokerEndpoint } from './broker-client.js';
import type { Partition } from './partition.js';

const FETCH = 1;
const LIST_OFFSETS = 2;
const OFFSET_FOR_LEADER_EPOCH = 23;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const NAME_BY_CODE = new Map<number, ErrorName>(
  Object.entries(ErrorCode).map(([name, code]) => [code as number, name as ErrorName]),
);
const errorName = (code: number): ErrorName => NAME_BY_CODE.get(code) ?? 'UNKNOWN_SERVER_ERROR';

/** The replica.* settings a fetcher uses (Kafka's names; read from the broker config by the manager). */
export interface ReplicaFetcherConfig {
  /** replica.fetch.backoff.ms */
  readonly fetchBackoffMs: number;
  /** replica.fetch.max.bytes: per partition. */
  readonly fetchMaxBytes: number;
  /** replica.fetch.response.max.bytes: per response. */
  readonly fetchResponseMaxBytes: number;
  /** replica.fetch.wait.max.ms */
  readonly fetchWaitMaxMs: number;
  /** replica.fetch.min.bytes */
  readonly fetchMinBytes: number;
  /** replica.socket.timeout.ms */
  readonly socketTimeoutMs: number;
  /** message.max.bytes: the one batch a response may carry beyond its limits. */
  readonly messageMaxBytes: number;
}

export interface ReplicaFetcherDeps {
  readonly localBrokerId: number;
  /** This broker's current broker epoch (sent as ReplicaState.replica_epoch, KIP-903); -1 when unknown. */
  readonly localBrokerEpoch?: () => number;
  /** Backoffs and socket timeouts (the broker's purgatory time: real even when the broker's clock is mocked). */
  readonly time: Time;
  readonly log: Logger;
  readonly config: ReplicaFetcherConfig;
  /** The hosted partition, looked up at every use (it may be deleted, or lead meanwhile). */
  partition(topic: string, partition: number): Partition | undefined;
  /**
   * Puts every append so far into its segment file (a SegmentWriter holds them until the end of the
   * loop's turn, or writes them on its thread): a fetch tells the leader the follower's log end, and
   * the leader counts it toward acks=all, so that must be in the follower's page cache already.
   */
  settleWrites?(): void;
}

/** Where a follower starts fetching a partition from a leader (Kafka's InitialFetchState). */
export interface InitialFetchState {
  readonly topic: string;
  readonly partition: number;
  readonly topicId?: string | undefined;
  readonly leaderEpoch: number;
  readonly fetchOffset: number;
}

/** Kafka's PartitionFetchState. */
export interface PartitionFetchState {
  readonly topic: string;
  readonly partition: number;
  readonly topicId: string | undefined;
  readonly currentLeaderEpoch: number;
  fetchOffset: number;
  state: 'Truncating' | 'Fetching';
  /** Not asked for before this time (purgatory-time ms); 0 = ready. */
  delayedUntil: number;
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ReplicaFetcherThread {
  private readonly states = new Map<string, PartitionFetchState>();
  private client: BrokerClient | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Requests sent (Fetch and OffsetForLeaderEpoch), for tests and metrics. */
  requests = 0;

  constructor(
    readonly sourceBrokerId: number,
    readonly endpoint: BrokerEndpoint,
    private readonly deps: ReplicaFetcherDeps,
  ) {}

  get partitionCount(): number {
    return this.states.size;
  }

  fetchState(topic: string, partition: number): Readonly<PartitionFetchState> | undefined {
    return this.states.get(keyOf(topic, partition));
  }

  /** Starts (or restarts from) truncation for each partition, unless it is already fetched at that leader epoch. */
  addPartitions(initial: readonly InitialFetchState[]): void {
    for (const s of initial) {
      const key = keyOf(s.topic, s.partition);
      const existing = this.states.get(key);
      if (existing && existing.currentLeaderEpoch === s.leaderEpoch) continue;
      this.states.set(key, {
        topic: s.topic,
        partition: s.partition,
        topicId: s.topicId && s.topicId !== ZERO_UUID ? s.topicId : undefined,
        currentLeaderEpoch: s.leaderEpoch,
        fetchOffset: s.fetchOffset,
        state: 'Truncating',
        delayedUntil: 0,
      });
    }
    this.wakeUp();
  }

  removePartitions(partitions: readonly { topic: string; partition: number }[]): void {
    for (const p of partitions) this.states.delete(keyOf(p.topic, p.partition));
  }

  start(): void {
    if (this.running === null) this.running = this.run();
  }

  /** Stops the loop and closes the connection; resolves once the loop has returned. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.client?.close();
    this.wakeUp();
    await this.running;
  }

  /**
   * Drops the connection (a network cut, `Cluster.isolate`): the request in flight fails and its
   * answer is never read; the fetcher backs off and connects again.
   */
  closeConnection(): void {
    this.client?.close();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Waits `ms`, or until woken (a partition added, shutdown). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.deps.time.setTimeout(done, Math.max(1, ms));
      const self = this;
      this.wake = done;
      function done() {
        timer.cancel();
        if (self.wake === done) self.wake = null;
        resolve();
      }
    });
  }

  private async run(): Promise<void> {
    const { time, config, log } = this.deps;
    while (!this.stopped) {
      const now = time.now();
      const ready = [...this.states.values()].filter((s) => s.delayedUntil <= now);
      if (ready.length === 0) {
        const next = Math.min(...[...this.states.values()].map((s) => s.delayedUntil));
        await this.pause(Number.isFinite(next) ? next - now : config.fetchBackoffMs);
        continue;
      }
      try {
        const client = await this.connection();
        const truncating = ready.filter((s) => s.state === 'Truncating');
        if (truncating.length > 0) await this.truncate(client, truncating);
        const fetching = ready.filter(
          (s) => s.state === 'Fetching' && this.states.get(keyOf(s.topic, s.partition)) === s,
        );
        if (fetching.length > 0) await this.fetch(client, fetching);
      } catch (err) {
        if (this.stopped) break;
        log.warn(`replica fetcher to broker ${this.sourceBrokerId} failed: ${(err as Error).message}`);
        this.client?.close();
        this.client = null;
        const until = time.now() + config.fetchBackoffMs;
        for (const s of this.states.values()) s.delayedUntil = Math.max(s.delayedUntil, until);
      }
    }
    this.client?.close();
  }

  private async connection(): Promise<BrokerClient> {
    if (this.client?.isOpen) return this.client;
    const { config, time, localBrokerId } = this.deps;
    this.client = await BrokerClient.connect(this.endpoint, {
      clientId: `broker-${localBrokerId}-fetcher-${this.sourceBrokerId}`,
      time,
      maxResponseBytes: config.fetchResponseMaxBytes + config.messageMaxBytes + 64 * 1024,
      requestTimeoutMs: config.socketTimeoutMs,
    });
    return this.client;
  }

  /**
   * The partition, if this broker still follows it at the fetch state's leader epoch; otherwise the
   * state leaves the fetcher (its topic was deleted, or a newer leadership re-adds it).
   */
  private follower(s: PartitionFetchState): Partition | undefined {
    const key = keyOf(s.topic, s.partition);
    if (this.states.get(key) !== s) return undefined;
    const p = this.deps.partition(s.topic, s.partition);
    if (p === undefined || p.isLeader || p.leaderEpoch !== s.currentLeaderEpoch) {
      this.states.delete(key);
      return undefined;
    }
    return p;
  }

  private delay(s: PartitionFetchState): void {
    s.delayedUntil = this.deps.time.now() + this.deps.config.fetchBackoffMs;
  }

  /** A fenced partition leaves the fetcher until a new leadership re-adds it (Kafka's onPartitionFenced). */
  private fenced(s: PartitionFetchState, error: ErrorName): void {
    this.deps.log.warn(
      `partition ${s.topic}-${s.partition} fenced by broker ${this.sourceBrokerId} at leader epoch ${s.currentLeaderEpoch} (${error}): waiting for a new leadership`,
    );
    if (this.states.get(keyOf(s.topic, s.partition)) === s) this.states.delete(keyOf(s.topic, s.partition));
  }

  // ---- truncation ----------------------------------------------------------------------------------

  private async truncate(client: BrokerClient, partitions: readonly PartitionFetchState[]): Promise<void> {
    const asks: { s: PartitionFetchState; latestEpoch: number }[] = [];
    for (const s of partitions) {
      const p = this.follower(s);
      if (p === undefined) continue;
      const latestEpoch = p.log.leaderEpochCache.latestEpoch();
      if (latestEpoch === UNDEFINED_EPOCH) {
        // No epochs to compare (an empty or pre-epoch log): the high watermark is what is known safe.
        this.truncateTo(p, s, p.log.highWatermark, true);
        continue;
      }
      asks.push({ s, latestEpoch });
    }
    if (asks.length === 0) return;
    const byTopic = new Map<string, OffsetForLeaderEpochRequestData['topics'][number]>();
    for (const { s, latestEpoch } of asks) {
      let t = byTopic.get(s.topic);
      if (!t) {
        t = { topic: s.topic, partitions: [] };
        byTopic.set(s.topic, t);
      }
      t.partitions.push({
        partition: s.partition,
        currentLeaderEpoch: s.currentLeaderEpoch,
        leaderEpoch: latestEpoch,
      });
    }
    this.requests++;
    const response = await client.send<OffsetForLeaderEpochResponseData>(OFFSET_FOR_LEADER_EPOCH, 4, {
      replicaId: this.deps.localBrokerId,
      topics: [...byTopic.values()],
    } satisfies OffsetForLeaderEpochRequestData);
    const answers = new Map<
      string,
      OffsetForLeaderEpochResponseData['topics'][number]['partitions'][number]
    >();
    for (const t of response.topics)
      for (const r of t.partitions) answers.set(keyOf(t.topic, r.partition), r);
    for (const { s } of asks) {
      const p = this.follower(s);
      if (p === undefined) continue;
      const answer = answers.get(keyOf(s.topic, s.partition));
      const error = answer ? errorName(answer.errorCode) : 'UNKNOWN_SERVER_ERROR';
      if (error === 'FENCED_LEADER_EPOCH') {
        this.fenced(s, error);
        continue;
      }
      if (answer === undefined || error !== 'NONE') {
        this.deps.log.debug(`OffsetForLeaderEpoch of ${s.topic}-${s.partition}: ${error}; retrying`);
        this.delay(s);
        continue;
      }
      const { offset, completed } = offsetTruncationState(
        p,
        answer.leaderEpoch ?? UNDEFINED_EPOCH,
        answer.endOffset,
      );
      this.truncateTo(p, s, offset, completed);
    }
  }

  private truncateTo(p: Partition, s: PartitionFetchState, offset: number, completed: boolean): void {
    if (p.log.truncateTo(offset)) {
      this.deps.log.info(
        `truncated ${s.topic}-${s.partition} to ${p.log.logEndOffset} for leader ${this.sourceBrokerId} at epoch ${s.currentLeaderEpoch}`,
      );
    }
    s.fetchOffset = p.log.logEndOffset;
    if (completed) s.state = 'Fetching';
  }

  // ---- fetch ---------------------------------------------------------------------------------------

  private async fetch(client: BrokerClient, partitions: readonly PartitionFetchState[]): Promise<void> {
    const { config, localBrokerId } = this.deps;
    this.deps.settleWrites?.();
    const sent: { s: PartitionFetchState; fetchOffset: number }[] = [];
    const byTopic = new Map<string, FetchRequestData['topics'][number]>();
    const useIds = partitions.every((s) => s.topicId !== undefined);
    for (const s of partitions) {
      const p = this.follower(s);
      if (p === undefined) continue;
      if (s.fetchOffset !== p.log.logEndOffset) s.fetchOffset = p.log.logEndOffset;
      const key = useIds ? s.topicId! : s.topic;
      let t = byTopic.get(key);
      if (!t) {
        t = useIds ? { topicId: s.topicId!, partitions: [] } : { topic: s.topic, partitions: [] };
        byTopic.set(key, t);
      }
      t.partitions.push({
        partition: s.partition,
        currentLeaderEpoch: s.currentLeaderEpoch,
        fetchOffset: s.fetchOffset,
        lastFetchedEpoch: -1,
        logStartOffset: p.log.logStartOffset,
        partitionMaxBytes: config.fetchMaxBytes,
      });
      sent.push({ s, fetchOffset: s.fetchOffset });
    }
    if (sent.length === 0) return;
    const version = useIds ? 15 : 12;
    const request: FetchRequestData = {
      replicaId: useIds ? -1 : localBrokerId,
      ...(useIds
        ? { replicaState: { replicaId: localBrokerId, replicaEpoch: this.deps.localBrokerEpoch?.() ?? -1 } }
        : {}),
      maxWaitMs: config.fetchWaitMaxMs,
      minBytes: config.fetchMinBytes,
      maxBytes: config.fetchResponseMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic.values()],
      forgottenTopicsData: [],
      rackId: '',
    };
    this.requests++;
    const response = await client.send<FetchResponseData>(FETCH, version, request);
    if ((response.errorCode ?? ErrorCode.NONE) !== ErrorCode.NONE) {
      this.deps.log.warn(`Fetch from broker ${this.sourceBrokerId}: ${errorName(response.errorCode ?? 0)}`);
      for (const { s } of sent) this.delay(s);
      return;
    }
    const answers = new Map<string, FetchResponseData['responses'][number]['partitions'][number]>();
    for (const t of response.responses) {
      const topic = useIds ? partitions.find((s) => s.topicId === t.topicId)?.topic : t.topic;
      if (topic === undefined) continue;
      for (const r of t.partitions) answers.set(keyOf(topic, r.partitionIndex), r);
    }
    for (const { s, fetchOffset } of sent) {
      const p = this.follower(s);
      // Removed, re-added or truncated meanwhile: this answer is for a state that is gone.
      if (p === undefined || s.fetchOffset !== fetchOffset || s.state !== 'Fetching') continue;
      const answer = answers.get(keyOf(s.topic, s.partition));
      if (answer === undefined) {
        this.delay(s);
        continue;
      }
      const error = errorName(answer.errorCode);
      if (error === 'NONE') this.processPartitionData(p, s, answer);
      else if (error === 'OFFSET_OUT_OF_RANGE') await this.handleOutOfRange(client, p, s);
      else if (error === 'FENCED_LEADER_EPOCH') this.fenced(s, error);
      else {
        this.deps.log.debug(
          `Fetch of ${s.topic}-${s.partition} from broker ${this.sourceBrokerId}: ${error}`,
        );
        this.delay(s);
      }
    }
  }

  /** Kafka's ReplicaFetcherThread.processPartitionData: append, then follow the leader's offsets. */
  private processPartitionData(
    p: Partition,
    s: PartitionFetchState,
    answer: FetchResponseData['responses'][number]['partitions'][number],
  ): void {
    const log = p.log;
    try {
      const records = answer.records;
      // Decoded responses carry one buffer (a list or a file range is only how the broker writes them).
      const bytes =
        records === null || records === undefined
          ? null
          : Buffer.isBuffer(records)
            ? records
            : Buffer.concat(records as readonly Buffer[]);
      if (bytes !== null && bytes.length > 0) log.appendAsFollower(bytes);
      // The follower's high watermark is the leader's, as far as the follower's log goes; never back.
      const hw = Math.min(answer.highWatermark, log.logEndOffset);
      if (hw > log.highWatermark) {
        log.updateHighWatermark(hw);
        // Consumers reading this follower (KIP-392) wait on its high watermark.
        p.notifyAppend();
      }
      if (answer.logStartOffset !== undefined && answer.logStartOffset > log.logStartOffset) {
        log.maybeIncrementLogStartOffset(answer.logStartOffset, 'LeaderOffsetIncremented');
      }
      s.fetchOffset = log.logEndOffset;
    } catch (err) {
      // Corrupt or unexpected data: logged, the partition retried later; the others go on.
      this.deps.log.error(
        `replicating ${s.topic}-${s.partition} from broker ${this.sourceBrokerId} failed`,
        err,
      );
      this.delay(s);
    }
  }

  /**
   * The leader does not have the follower's fetch offset (Kafka's fetchOffsetAndTruncate): a follower
   * ahead of the leader's log end truncates to it; one behind the leader's log start starts over there.
   */
  private async handleOutOfRange(client: BrokerClient, p: Partition, s: PartitionFetchState): Promise<void> {
    const leaderEnd = await this.listOffset(client, s, -1);
    if (this.follower(s) !== p) return;
    if (leaderEnd === null) {
      this.delay(s);
      return;
    }
    const log = p.log;
    if (leaderEnd < log.logEndOffset) {
      log.truncateTo(leaderEnd);
      s.fetchOffset = log.logEndOffset;
      return;
    }
    const leaderStart = await this.listOffset(client, s, -2);
    if (this.follower(s) !== p) return;
    if (leaderStart === null) {
      this.delay(s);
      return;
    }
    if (leaderStart > log.logEndOffset) {
      this.deps.log.info(
        `${s.topic}-${s.partition}: leader's log starts at ${leaderStart}, beyond ours; starting over there`,
      );
      log.truncateFullyAndStartAt(leaderStart);
    }
    s.fetchOffset = log.logEndOffset;
  }

  /** ListOffsets as a replica (`timestamp` -1 latest: the log end offset; -2 earliest); null on an error. */
  private async listOffset(
    client: BrokerClient,
    s: PartitionFetchState,
    timestamp: number,
  ): Promise<number | null> {
    this.requests++;
    const response = await client.send<ListOffsetsResponseData>(LIST_OFFSETS, 7, {
      replicaId: this.deps.localBrokerId,
      isolationLevel: 0,
      topics: [
        {
          name: s.topic,
          partitions: [{ partitionIndex: s.partition, currentLeaderEpoch: s.currentLeaderEpoch, timestamp }],
        },
      ],
    } satisfies ListOffsetsRequestData);
    const r = response.topics[0]?.partitions[0];
    if (r === undefined || r.errorCode !== ErrorCode.NONE || r.offset === undefined) return null;
    return r.offset;
  }
}

/**
 * Where a follower truncates given the leader's answer for its latest epoch (Kafka's
 * getOffsetTruncationState), and whether that ends truncation.
 */
export function offsetTruncationState(
  p: Partition,
  leaderEpoch: number,
  leaderEndOffset: number,
): { offset: number; completed: boolean } {
  const log = p.log;
  const replicaEnd = log.logEndOffset;
  if (leaderEndOffset === UNDEFINED_EPOCH_OFFSET) {
    // The leader knows no epoch at or below ours: only the high watermark is known safe.
    return { offset: Math.min(log.highWatermark, replicaEnd), completed: true };
  }
  if (leaderEpoch === UNDEFINED_EPOCH)
    return { offset: Math.min(leaderEndOffset, replicaEnd), completed: true };
  const ours = log.leaderEpochCache.endOffsetFor(leaderEpoch, replicaEnd);
  if (ours.endOffset === UNDEFINED_EPOCH_OFFSET) {
    return { offset: Math.min(leaderEndOffset, replicaEnd), completed: true };
  }
  if (ours.epoch !== leaderEpoch) {
    // We do not have the leader's epoch: cut to the end of our largest earlier one and ask again.
    return { offset: Math.min(ours.endOffset, replicaEnd), completed: false };
  }
  return { offset: Math.min(ours.endOffset, leaderEndOffset, replicaEnd), completed: true };
}
