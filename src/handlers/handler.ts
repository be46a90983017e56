/**
 * The contract of an API handler: one file per Kafka API under src/handlers, each declaring the
 * versions it implements. The registry (src/handlers/index.ts) refuses duplicates and is the only
 * source of what ApiVersions advertises, so advertising and implementing cannot disagree.
 */

import type { Logger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { GroupCoordinator } from '../coordinator/group-coordinator.js';
import type { ShareCoordinator } from '../coordinator/share/share-coordinator.js';
import type { TransactionCoordinator } from '../coordinator/transaction/transaction-coordinator.js';
import type { Controller } from '../metadata/controller.js';
import type { MetadataView } from '../metadata/metadata-view.js';
import type { MessageSpec } from '../protocol/spec.js';
import type { ControllerMutationQuotaManager } from '../quota/controller-mutation-quota.js';
import type { FetchSessionCache } from '../replication/fetch-session.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { SharePartitionManager } from '../replication/share-partition-manager.js';
import type { Authorizer, KafkaPrincipal } from '../security/authorizer.js';
import type { SecurityStore } from '../security/security-store.js';

/**
 * The narrow services a handler works with, built and wired once by `Broker`. Handlers reach
 * nothing else: no broker object, no storage.
 */
export interface BrokerServices {
  /** Read side of the cluster metadata: brokers, topics, leadership. */
  readonly metadata: MetadataView;
  /** Write side: topic, partition and config changes. */
  readonly controller: Controller;
  /** controller_mutation_rate (KIP-599) of CreateTopics, CreatePartitions and DeleteTopics. */
  readonly controllerMutationQuotas?: ControllerMutationQuotaManager;
  /** The data path: partitions this broker hosts, appends, reads, waiting fetches. */
  readonly replicas: ReplicaManager;
  /** Incremental fetch sessions (KIP-227) of Fetch requests. */
  readonly fetchSessions: FetchSessionCache;
  /** Share-partitions (KIP-932) this broker leads and their share sessions: ShareFetch, ShareAcknowledge. */
  readonly shares: SharePartitionManager;
  /** The share coordinator on `__share_group_state` (KIP-932): the share-state RPCs between brokers. */
  readonly shareCoordinator: ShareCoordinator;
  readonly groups: GroupCoordinator;
  readonly transactions: TransactionCoordinator;
  /** The broker's configuration (static and dynamic). */
  readonly configs: BrokerConfig;
  readonly authorizer: Authorizer;
  /** SCRAM credentials and ACLs as records (Describe/AlterUserScramCredentials). */
  readonly securityStore: SecurityStore;
  readonly time: Time;
  readonly log: Logger;
  /** What ApiVersions advertises: the handler registry's table. */
  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[];
}

export interface RequestContext extends BrokerServices {
  /** The authenticated principal of the connection (User:ANONYMOUS on PLAINTEXT). */
  readonly principal: KafkaPrincipal;
  /** The listener the request came in on (Metadata answers with addresses on it). */
  readonly listenerName: string;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Address of the peer, for logs. */
  readonly remote: string;
  /**
   * Aborted when the connection closes: long polls stop waiting then. A wait adds its listener
   * for the duration of the wait and removes it when done, so nothing accumulates per request.
   */
  readonly signal: AbortSignal;
  /**
   * Set when the connection sends file ranges itself (sendfile): a fetch then answers with ranges of
   * the segment files (FileRegion) holding descriptors from this dup, not bytes read into buffers.
   */
  readonly dup?: ((fd: number) => number) | undefined;
  /**
   * Set where the connection may go on to its next request before this one is answered: called once
   * the request's effects that later requests must see are done (a produce's appends), when all it
   * still does is wait (an fsync, the replicas). Its answer still leaves in request order.
   */
  readonly releaseOrder?: (() => void) | undefined;
  /**
   * Mutes the connection for `ms` once this request is answered (Kafka's throttled channel), for a
   * quota the handler enforces itself (controller mutations); the longest asked for wins.
   */
  readonly throttle?: ((ms: number) => void) | undefined;
  /**
   * Set on a consumer's fetch under client quotas (consumer_byte_rate, request_percentage): records
   * the size of the response the fetch would send, and the request's time, and returns the throttle
   * time. Above 0 the fetch answers as Kafka's getThrottledResponse — no data, and its fetch session
   * neither created nor updated — and the connection is muted that long.
   */
  readonly fetchThrottle?: ((responseBytes: number) => number) | undefined;
}

export interface ApiHandler<Req = never, Res = unknown> {
  readonly apiKey: number;
  readonly name: string;
  /** Advertised range. */
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly request: MessageSpec;
  readonly response: MessageSpec;
  /**
   * Returns the response body, or `null` when Kafka sends no response (Produce with acks=0).
   * Expected outcomes are error codes inside the response; a thrown error becomes
   * UNKNOWN_SERVER_ERROR for the connection's request (logged) — see server/connection.ts.
   */
  handle(ctx: RequestContext, request: Req): Res | null | Promise<Res | null>;
}

export function defineHandler<Req, Res>(h: ApiHandler<Req, Res>): ApiHandler<Req, Res> {
  return h;
}

export type AnyHandler = ApiHandler<never, unknown>;

export class HandlerRegistry {
  private readonly byKey = new Map<number, AnyHandler>();

  constructor(handlers: readonly AnyHandler[]) {
    for (const h of handlers) {
      if (this.byKey.has(h.apiKey)) throw new Error(`duplicate handler for API key ${h.apiKey} (${h.name})`);
      const valid = h.request.validVersions;
      if (!valid || h.maxVersion > valid[1] || h.minVersion < valid[0]) {
        throw new Error(`${h.name} advertises v${h.minVersion}–${h.maxVersion}, beyond Kafka's definitions`);
      }
      this.byKey.set(h.apiKey, h);
    }
  }

  get(apiKey: number): AnyHandler | undefined {
    return this.byKey.get(apiKey);
  }

  /** The ApiVersions table, derived from the registered handlers, sorted by key. */
  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.byKey.values()]
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
