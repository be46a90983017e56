/**
 * Transaction markers on their way to the partition leaders (Kafka's TransactionMarkerChannelManager
 * with TransactionMarkerRequestCompletionHandler): the partitions of a transaction are grouped by
 * their current leader in the metadata image; this broker's own are written in place, the others get
 * a WriteTxnMarkers request over the inter-broker channel. A partition whose leader is unknown, or
 * that answers a retriable error (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, a timeout, a lost
 * connection...), is tried again after a backoff with the leader looked up afresh; a partition whose
 * topic is gone is dropped, as Kafka drops markers of deleted topics. Sending stops without
 * completing when the coordinator no longer owns the transaction (its partition moved or its
 * coordinator epoch changed: the new coordinator sends them again after loading) or when a leader
 * answers that this coordinator or producer epoch is fenced.
 */
import type { Logger } from '../../common/logger.js';
import type { Time } from '../../common/time.js';
import { type ErrorName, errorName } from '../../protocol/generated/errors.js';
import type {
  WriteTxnMarkersRequestData,
  WriteTxnMarkersResponseData,
} from '../../protocol/generated/messages.js';

/** What the coordinator needs of the cluster: leaders from the metadata image and requests to brokers. */
export interface InterBrokerView {
  readonly nodeId: number;
  /** The leader of a partition in the image: undefined when the topic or partition does not exist, -1 none. */
  leaderOf(topic: string, partition: number): number | undefined;
  /** One request to another broker; rejects when it cannot be sent or answered. */
  send<T>(brokerId: number, apiKey: number, version: number, body: unknown): Promise<T>;
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface TxnMarker {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: 'COMMIT' | 'ABORT';
  readonly coordinatorEpoch: number;
  /** The transaction version of the client (0/1: V1, 2: V2), as WriteTxnMarkers v2 carries it. */
  readonly transactionVersion: number;
}

const WRITE_TXN_MARKERS = 27;
/** WriteTxnMarkers v1 (flexible) is what Kafka 4 brokers speak to each other; v2 adds TransactionVersion. */
const WRITE_TXN_MARKERS_VERSION = 2;

/** Errors after which the marker is sent again (Kafka's completion handler's retriable set). */
const RETRIABLE: ReadonlySet<ErrorName> = new Set<ErrorName>([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'KAFKA_STORAGE_ERROR',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'UNKNOWN_SERVER_ERROR',
]);

/** Errors that mean this coordinator (or the producer epoch of the marker) is stale: stop sending. */
const FENCED: ReadonlySet<ErrorName> = new Set<ErrorName>([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTION_COORDINATOR_FENCED',
]);

export interface TxnMarkerChannelDeps {
  readonly view: InterBrokerView | undefined;
  readonly nodeId: number;
  /** Writes the marker to partitions this broker leads (the WriteTxnMarkers handler's work). */
  readonly writeLocal: (marker: TxnMarker, targets: readonly TopicPartitionRef[]) => Promise<ErrorName[]>;
  /** Whether a topic still exists (a marker for a deleted topic is dropped). */
  readonly topicExists: (topic: string) => boolean;
  readonly time: Time;
  readonly log: Logger;
  readonly retryBackoffMs: number;
}

export type MarkerOutcome = 'written' | 'stopped' | 'fenced';

export class TxnMarkerChannel {
  constructor(private readonly deps: TxnMarkerChannelDeps) {}

  /**
   * Writes `marker` to every target; resolves 'written' once each has it (or its topic is gone),
   * 'stopped' when `stillOwned` turned false, 'fenced' when a leader refused the coordinator epoch.
   */
  async send(
    marker: TxnMarker,
    targets: readonly TopicPartitionRef[],
    stillOwned: () => boolean,
    what: string,
  ): Promise<MarkerOutcome> {
    let pending = [...targets];
    let attempt = 0;
    while (pending.length > 0) {
      if (!stillOwned()) return 'stopped';
      if (attempt++ > 0) await this.sleep(this.deps.retryBackoffMs);
      if (!stillOwned()) return 'stopped';
      const byLeader = new Map<number, TopicPartitionRef[]>();
      const retry: TopicPartitionRef[] = [];
      for (const tp of pending) {
        const leader = this.leaderOf(tp);
        if (leader === undefined) {
          this.deps.log.warn(
            `not writing the ${marker.result} marker of ${what} to ${tp.topic}-${tp.partition}: the partition no longer exists`,
          );
          continue;
        }
        if (leader < 0 && this.deps.view) {
          retry.push(tp);
          continue;
        }
        let group = byLeader.get(leader);
        if (!group) {
          group = [];
          byLeader.set(leader, group);
        }
        group.push(tp);
      }
      let fenced = false;
      await Promise.all(
        [...byLeader].map(async ([leader, tps]) => {
          const errors = await this.writeTo(leader, marker, tps);
          tps.forEach((tp, i) => {
            const error = errors[i]!;
            if (error === 'NONE') return;
            if (FENCED.has(error)) {
              this.deps.log.warn(
                `the ${marker.result} marker of ${what} was refused by ${tp.topic}-${tp.partition} with ${error}: stop sending`,
              );
              fenced = true;
              return;
            }
            if (error === 'UNKNOWN_TOPIC_OR_PARTITION' && !this.deps.topicExists(tp.topic)) return;
            if (!RETRIABLE.has(error))
              this.deps.log.error(
                `writing the ${marker.result} marker of ${what} to ${tp.topic}-${tp.partition} failed with ${error}; retrying`,
              );
            retry.push(tp);
          });
        }),
      );
      if (fenced) return 'fenced';
      pending = retry;
    }
    return 'written';
  }

  private leaderOf(tp: TopicPartitionRef): number | undefined {
    const view = this.deps.view;
    // A broker on its own leads every partition it has.
    if (!view) return this.deps.topicExists(tp.topic) ? this.deps.nodeId : undefined;
    return view.leaderOf(tp.topic, tp.partition);
  }

  /** One WriteTxnMarkers to `leader` (in place when it is this broker); an error per target. */
  private async writeTo(
    leader: number,
    marker: TxnMarker,
    tps: readonly TopicPartitionRef[],
  ): Promise<ErrorName[]> {
    const view = this.deps.view;
    if (leader === this.deps.nodeId || !view) return this.deps.writeLocal(marker, tps);
    const topics = new Map<string, number[]>();
    for (const tp of tps) {
      const ps = topics.get(tp.topic);
      if (ps) ps.push(tp.partition);
      else topics.set(tp.topic, [tp.partition]);
    }
    const request: WriteTxnMarkersRequestData = {
      markers: [
        {
          producerId: marker.producerId,
          producerEpoch: marker.producerEpoch,
          transactionResult: marker.result === 'COMMIT',
          topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
          coordinatorEpoch: marker.coordinatorEpoch,
          transactionVersion: marker.transactionVersion,
        },
      ],
    };
    let response: WriteTxnMarkersResponseData;
    try {
      response = await view.send<WriteTxnMarkersResponseData>(
        leader,
        WRITE_TXN_MARKERS,
        WRITE_TXN_MARKERS_VERSION,
        request,
      );
    } catch (err) {
      this.deps.log.debug(`WriteTxnMarkers to broker ${leader} failed: ${err}`);
      return tps.map(() => 'NETWORK_EXCEPTION');
    }
    const codes = new Map<string, number>();
    for (const m of response.markers)
      for (const t of m.topics)
        for (const p of t.partitions) codes.set(`${t.name}\u0000${p.partitionIndex}`, p.errorCode);
    return tps.map((tp) => {
      const code = codes.get(`${tp.topic}\u0000${tp.partition}`);
      // A partition the leader did not answer for is sent again.
      return code === undefined ? 'UNKNOWN_SERVER_ERROR' : (errorName(code) ?? 'UNKNOWN_SERVER_ERROR');
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.time.setTimeout(resolve, ms));
  }
}
