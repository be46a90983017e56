/**
 * The persisters of share-partition state (Kafka's Persister, KIP-932): how a share-partition
 * leader reads and writes its state kept by the share coordinator of its key
 * "groupId:topicId:partition" (the leader of that key's `__share_group_state` partition).
 *
 * - `LocalSharePersister`: direct calls on this broker's `ShareCoordinator` (the coordinator is in
 *   this process and owns the key).
 * - `NetworkSharePersister` (Kafka's DefaultStatePersister / PersisterStateManager): finds the
 *   coordinator from the metadata (the leader of the key's `__share_group_state` partition), or with
 *   FindCoordinator key type SHARE (2) while that topic does not exist yet (which creates it); calls
 *   the local coordinator when that is this broker, else sends InitializeShareGroupState (83),
 *   ReadShareGroupState (84), WriteShareGroupState (85), DeleteShareGroupState (86) or
 *   ReadShareGroupStateSummary (87) over the inter-broker channels. NOT_COORDINATOR,
 *   COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_TOPIC_OR_PARTITION and a lost
 *   connection are retried after finding the coordinator again, with Kafka's backoff (1 s doubling
 *   up to 30 s, at most 5 attempts); other errors (FENCED_LEADER_EPOCH, FENCED_STATE_EPOCH, ...)
 *   reject at once with Kafka's error.
 *
 * AlterShareGroupOffsets is ReadShareGroupStateSummary (the stored state epoch) then
 * InitializeShareGroupState at that epoch + 1, as Kafka's group coordinator does.
 */
import type { Logger } from '../../common/logger.js';
import type { Time } from '../../common/time.js';
import { ErrorCode, type ErrorName } from '../../protocol/generated/errors.js';
import type {
  DeleteShareGroupStateResponseData,
  FindCoordinatorResponseData,
  InitializeShareGroupStateResponseData,
  ReadShareGroupStateResponseData,
  ReadShareGroupStateSummaryResponseData,
  WriteShareGroupStateResponseData,
} from '../../protocol/generated/messages.js';
import { errorOf, KafkaError } from '../../protocol/kafka-error.js';
import { BrokerConnectionError } from '../../replication/broker-client.js';
import type { PersistedStateBatch } from '../../replication/share-partition.js';
import type { ShareStatePersister, StoredShareState } from '../../replication/share-partition-manager.js';
import {
  type ShareCoordinator,
  type ShareStateRead,
  type ShareStateSummary,
  shareCoordinatorKey,
  sharePartitionFor,
  UnknownSharePartitionError,
} from './share-coordinator.js';

/** The five share-state operations of one key, wherever the coordinator is. */
interface StateOps {
  initialize(g: string, t: string, p: number, stateEpoch: number, startOffset: number): Promise<void>;
  read(g: string, t: string, p: number, leaderEpoch: number): Promise<ShareStateRead>;
  write(
    g: string,
    t: string,
    p: number,
    stateEpoch: number,
    leaderEpoch: number,
    startOffset: number,
    batches: readonly PersistedStateBatch[],
  ): Promise<void>;
  delete(g: string, t: string, p: number): Promise<void>;
  summary(g: string, t: string, p: number, leaderEpoch: number): Promise<ShareStateSummary>;
}

/** The persister calls shared by both implementations, on top of the five operations. */
abstract class BasePersister implements ShareStatePersister {
  protected abstract run<T>(g: string, t: string, p: number, op: (ops: StateOps) => Promise<T>): Promise<T>;

  async read(g: string, t: string, p: number, leaderEpoch = -1): Promise<StoredShareState | undefined> {
    const s = await this.run(g, t, p, (ops) => ops.read(g, t, p, leaderEpoch));
    // Start offset -1: never initialized (the share-partition starts from its reset policy).
    if (s.startOffset < 0) return undefined;
    return {
      startOffset: s.startOffset,
      stateEpoch: s.stateEpoch,
      leaderEpoch: s.leaderEpoch,
      stateBatches: s.stateBatches,
    };
  }

  write(
    g: string,
    t: string,
    p: number,
    leaderEpoch: number,
    startOffset: number,
    batches: PersistedStateBatch[],
    stateEpoch = -1,
  ): Promise<void> {
    return this.run(g, t, p, (ops) => ops.write(g, t, p, stateEpoch, leaderEpoch, startOffset, batches));
  }

  async alter(g: string, t: string, p: number, startOffset: number): Promise<void> {
    const { stateEpoch } = await this.run(g, t, p, (ops) => ops.summary(g, t, p, -1));
    await this.run(g, t, p, (ops) => ops.initialize(g, t, p, stateEpoch + 1, startOffset));
  }

  delete(g: string, t: string, p: number): Promise<void> {
    return this.run(g, t, p, (ops) => ops.delete(g, t, p));
  }

  /** ReadShareGroupStateSummary of one share-partition. */
  summary(g: string, t: string, p: number, leaderEpoch = -1): Promise<ShareStateSummary> {
    return this.run(g, t, p, (ops) => ops.summary(g, t, p, leaderEpoch));
  }

  abstract close(): void;
}

/** The operations on this broker's share coordinator: direct calls. */
export function localStateOps(coordinator: ShareCoordinator): StateOps {
  return {
    initialize: (g, t, p, stateEpoch, startOffset) =>
      coordinator.initializeState(g, t, p, stateEpoch, startOffset),
    read: (g, t, p, leaderEpoch) => coordinator.readState(g, t, p, leaderEpoch),
    write: (g, t, p, stateEpoch, leaderEpoch, startOffset, batches) =>
      coordinator.writeState(g, t, p, stateEpoch, leaderEpoch, startOffset, batches),
    delete: (g, t, p) => coordinator.deleteState(g, t, p),
    summary: (g, t, p, leaderEpoch) => {
      try {
        return Promise.resolve(coordinator.readStateSummary(g, t, p, leaderEpoch));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

/** Direct calls on the share coordinator of this process (one broker: it owns every key). */
export class LocalSharePersister extends BasePersister {
  private readonly ops: StateOps;
  constructor(private readonly coordinator: ShareCoordinator) {
    super();
    this.ops = localStateOps(coordinator);
  }
  protected run<T>(_g: string, _t: string, _p: number, op: (ops: StateOps) => Promise<T>): Promise<T> {
    return op(this.ops);
  }
  close(): void {
    this.coordinator.close();
  }
}

/** What the network persister needs of its broker. */
export interface PersisterNetwork {
  readonly nodeId: number;
  /** `__share_group_state` in the metadata: its partition count and each partition's leader (-1: none). */
  stateTopic(): { partitions: number; leaderOf(partition: number): number } | undefined;
  /** Live brokers, to send FindCoordinator to one of them. */
  liveBrokers(): number[];
  /** One request to a broker over the inter-broker channels; rejects with BrokerConnectionError. */
  send<T>(brokerId: number, apiKey: number, version: number, body: unknown): Promise<T>;
}

export interface NetworkPersisterOptions {
  /** Kafka's PersisterStateManager.REQUEST_BACKOFF_MS. */
  backoffMs?: number;
  /** Kafka's REQUEST_BACKOFF_MAX_MS. */
  backoffMaxMs?: number;
  /** Kafka's MAX_FIND_COORD_ATTEMPTS: attempts of one operation before its error is returned. */
  maxAttempts?: number;
}

/** Errors after which the coordinator is found again and the operation retried (Kafka's). */
const RETRIABLE: ReadonlySet<ErrorName> = new Set([
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
]);

const errorName = (code: number): ErrorName =>
  ((Object.entries(ErrorCode) as [ErrorName, number][]).find(([, c]) => c === code)?.[0] ??
    'UNKNOWN_SERVER_ERROR') as ErrorName;

/** One partition's result of a share-state response: its error (thrown) or itself. */
function partitionResult<P extends { partition: number; errorCode: number; errorMessage: string | null }>(
  results: { topicId: string; partitions: P[] }[],
  topicId: string,
  partition: number,
): P {
  const r = results.find((x) => x.topicId === topicId)?.partitions.find((x) => x.partition === partition);
  if (!r) throw new KafkaError('UNKNOWN_SERVER_ERROR', 'The response has no result for the share-partition.');
  if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(errorName(r.errorCode), r.errorMessage ?? '');
  return r;
}

/** The operations sent to share coordinator `node` over the network. */
function remoteStateOps(net: PersisterNetwork, node: number): StateOps {
  return {
    async initialize(groupId, topicId, partition, stateEpoch, startOffset) {
      const r = await net.send<InitializeShareGroupStateResponseData>(node, 83, 0, {
        groupId,
        topics: [{ topicId, partitions: [{ partition, stateEpoch, startOffset }] }],
      });
      partitionResult(r.results, topicId, partition);
    },
    async read(groupId, topicId, partition, leaderEpoch) {
      const r = await net.send<ReadShareGroupStateResponseData>(node, 84, 0, {
        groupId,
        topics: [{ topicId, partitions: [{ partition, leaderEpoch }] }],
      });
      const p = partitionResult(r.results, topicId, partition);
      return {
        stateEpoch: p.stateEpoch,
        leaderEpoch,
        startOffset: p.startOffset,
        stateBatches: p.stateBatches.map((b) => ({ ...b })),
      };
    },
    async write(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset, batches) {
      const r = await net.send<WriteShareGroupStateResponseData>(node, 85, 0, {
        groupId,
        topics: [
          {
            topicId,
            partitions: [{ partition, stateEpoch, leaderEpoch, startOffset, stateBatches: batches }],
          },
        ],
      });
      partitionResult(r.results, topicId, partition);
    },
    async delete(groupId, topicId, partition) {
      const r = await net.send<DeleteShareGroupStateResponseData>(node, 86, 0, {
        groupId,
        topics: [{ topicId, partitions: [{ partition }] }],
      });
      partitionResult(r.results, topicId, partition);
    },
    async summary(groupId, topicId, partition, leaderEpoch) {
      const r = await net.send<ReadShareGroupStateSummaryResponseData>(node, 87, 1, {
        groupId,
        topics: [{ topicId, partitions: [{ partition, leaderEpoch }] }],
      });
      const p = partitionResult(r.results, topicId, partition);
      return {
        stateEpoch: p.stateEpoch,
        leaderEpoch: p.leaderEpoch,
        startOffset: p.startOffset,
        deliveryCompleteCount: p.deliveryCompleteCount ?? -1,
      };
    },
  };
}

/**
 * Finds the share coordinator of each operation's key and runs the operation there, locally or
 * over the network, retrying while the coordinator moves.
 */
export class NetworkSharePersister extends BasePersister {
  private readonly local: StateOps;
  private readonly backoffMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxAttempts: number;
  private closed = false;
  /** Backoff timers running now, cancelled on close. */
  private readonly sleeping = new Set<() => void>();

  constructor(
    private readonly coordinator: ShareCoordinator,
    private readonly net: PersisterNetwork,
    private readonly time: Time,
    private readonly logger: Logger,
    options: NetworkPersisterOptions = {},
  ) {
    super();
    this.local = localStateOps(coordinator);
    this.backoffMs = options.backoffMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  /** The coordinator of `key`: the leader of its `__share_group_state` partition, or FindCoordinator's answer. */
  async coordinatorOf(key: string): Promise<number> {
    const topic = this.net.stateTopic();
    if (topic && topic.partitions > 0) {
      const leader = topic.leaderOf(sharePartitionFor(key, topic.partitions));
      if (leader < 0)
        throw new KafkaError('COORDINATOR_NOT_AVAILABLE', 'The share coordinator has no leader.');
      return leader;
    }
    // Not in the metadata yet: FindCoordinator (key type SHARE) to a live broker creates the topic.
    const live = this.net.liveBrokers();
    if (live.length === 0) throw new KafkaError('COORDINATOR_NOT_AVAILABLE', 'No live broker.');
    const to = live[Math.floor(Math.random() * live.length)]!;
    const r = await this.net.send<FindCoordinatorResponseData>(to, 10, 6, {
      keyType: 2,
      coordinatorKeys: [key],
    });
    const c = r.coordinators?.[0];
    if (!c) throw new KafkaError('COORDINATOR_NOT_AVAILABLE', 'FindCoordinator answered no coordinator.');
    if (c.errorCode !== ErrorCode.NONE) throw new KafkaError(errorName(c.errorCode), c.errorMessage ?? '');
    return c.nodeId;
  }

  protected async run<T>(g: string, t: string, p: number, op: (ops: StateOps) => Promise<T>): Promise<T> {
    const key = shareCoordinatorKey(g, t, p);
    let backoff = this.backoffMs;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new KafkaError('COORDINATOR_NOT_AVAILABLE', 'The persister is closed.');
      try {
        const node = await this.coordinatorOf(key);
        return await op(node === this.net.nodeId ? this.local : remoteStateOps(this.net, node));
      } catch (err) {
        // The share-partition itself does not exist (this broker's coordinator checked): final.
        if (err instanceof UnknownSharePartitionError) throw err;
        const error: ErrorName =
          err instanceof BrokerConnectionError ? 'NETWORK_EXCEPTION' : errorOf(err).error;
        if (!RETRIABLE.has(error) || attempt >= this.maxAttempts) throw err;
        this.logger.debug(
          `share state of ${key}: ${error}, attempt ${attempt}; finding the coordinator again`,
        );
      }
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.backoffMaxMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        timer.cancel();
        this.sleeping.delete(done);
        resolve();
      };
      const timer = this.time.setTimeout(done, ms);
      this.sleeping.add(done);
    });
  }

  close(): void {
    this.closed = true;
    for (const wake of [...this.sleeping]) wake();
    this.coordinator.close();
  }
}
