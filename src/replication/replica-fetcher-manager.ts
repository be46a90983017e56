/**
 * The replica fetchers of one broker (Kafka's ReplicaFetcherManager / AbstractFetcherManager with
 * `num.replica.fetchers` = 1): one ReplicaFetcherThread per source broker, created when a partition
 * starts following a leader there and shut down when it has nothing left to fetch. A partition is
 * fetched by at most one fetcher: moving it to another leader removes it from the old one first.
 */
import type { BrokerEndpoint } from './broker-client.js';
import { type InitialFetchState, type ReplicaFetcherDeps, ReplicaFetcherThread } from './replica-fetcher.js';

export interface LeaderFetchStates {
  readonly leaderId: number;
  readonly endpoint: BrokerEndpoint;
  readonly partitions: readonly InitialFetchState[];
}

export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcherThread>();
  private stopped = false;

  constructor(private readonly deps: ReplicaFetcherDeps) {}

  /** The fetcher pulling from `sourceBrokerId`, if any (tests, metrics). */
  fetcher(sourceBrokerId: number): ReplicaFetcherThread | undefined {
    return this.fetchers.get(sourceBrokerId);
  }

  get fetcherCount(): number {
    return this.fetchers.size;
  }

  /** Starts fetching each partition from its leader (Kafka's addFetcherForPartitions). */
  addFetcherForPartitions(byLeader: readonly LeaderFetchStates[]): void {
    if (this.stopped) return;
    for (const { leaderId, endpoint, partitions } of byLeader) {
      let fetcher = this.fetchers.get(leaderId);
      if (fetcher && (fetcher.endpoint.host !== endpoint.host || fetcher.endpoint.port !== endpoint.port)) {
        // The leader moved to another address: a new connection, and its partitions start over.
        void fetcher.shutdown();
        this.fetchers.delete(leaderId);
        fetcher = undefined;
      }
      if (!fetcher) {
        fetcher = new ReplicaFetcherThread(leaderId, endpoint, this.deps);
        this.fetchers.set(leaderId, fetcher);
        fetcher.start();
      }
      fetcher.addPartitions(partitions);
    }
  }

  /** Stops fetching these partitions, from whichever leader (Kafka's removeFetcherForPartitions). */
  removeFetcherForPartitions(partitions: readonly { topic: string; partition: number }[]): void {
    for (const f of this.fetchers.values()) f.removePartitions(partitions);
  }

  /** Shuts down the fetchers left without partitions. */
  async shutdownIdleFetcherThreads(): Promise<void> {
    const idle = [...this.fetchers].filter(([, f]) => f.partitionCount === 0);
    for (const [id] of idle) this.fetchers.delete(id);
    await Promise.all(idle.map(([, f]) => f.shutdown()));
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    await Promise.all(all.map((f) => f.shutdown()));
  }
}
