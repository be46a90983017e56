/**
 * The broker: configuration, storage, partitions, the handler registry and the TCP listener.
 * `Broker.start()` recovers storage, then listens; `close()` stops accepting, lets in-flight
 * requests finish, flushes and closes every log (writing the clean-shutdown marker).
 */

import type { Socket } from 'node:net';
import { createLogger, type Logger } from '../common/logger.js';
import { type ZeroCopy, zeroCopy } from '../common/native.js';
import { Scheduler } from '../common/scheduler.js';
import { systemTime, type Time, type Timer } from '../common/time.js';
import { INTERNAL_TOPICS } from '../common/topic-name.js';
import { type BrokerConfig, ConfigError, type ListenerEndpoint } from '../config/broker-config.js';
import { createGroupCoordinator, type GroupCoordinator, type TopicsView } from '../coordinator/index.js';
import {
  createTransactionCoordinator,
  type TransactionCoordinator,
} from '../coordinator/transaction/index.js';
import type { ProducerIdManager } from '../coordinator/transaction/producer-id-manager.js';
import type { InterBrokerView } from '../coordinator/transaction/txn-marker-channel.js';
import { type BrokerServices, HandlerRegistry } from '../handlers/handler.js';
import { allHandlers } from '../handlers/index.js';
import { ControllerAlterPartitionManager } from '../metadata/alter-partition.js';
import { type LocalController, openLocalController } from '../metadata/controller.js';
import { delegationTokenConfig, sweepExpiredDelegationTokens } from '../metadata/delegation-token-control.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataView } from '../metadata/metadata-view.js';
import { ClientQuotaManagers } from '../quota/client-quota-manager.js';
import { ControllerMutationQuotaManager } from '../quota/controller-mutation-quota.js';
import { BrokerChannels } from '../replication/broker-channels.js';
import { FetchSessionCache } from '../replication/fetch-session.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import { type Authorizer, allowAll } from '../security/authorizer.js';
import type { SecurityStore } from '../security/security-store.js';
import { STANDARD_AUTHORIZER_CLASS, StandardAuthorizer } from '../security/standard-authorizer.js';
import { LogCleaner } from '../storage/cleaner/log-cleaner.js';
import { defaultLogConfig, logConfigFromProps } from '../storage/log-config.js';
import { LogManager } from '../storage/log-manager.js';
import type { SegmentWriter } from '../storage/segment-writer.js';
import { AcceptGate, holdUnread } from './accept-gate.js';
import { Connection, type ConnectionSecurity } from './connection.js';
import { ConnectionQuotas } from './connection-quotas.js';
import { ControllerLink } from './controller-link.js';
import { DelegationTokenCredentials } from './delegation-token-credentials.js';
import { FaultInjector } from './faults/fault-injector.js';
import { advertisedAddress, createListenerServer, type ListenerServer } from './listeners.js';
import { MetadataSecurityStore } from './metadata-security-store.js';
import { Metrics } from './metrics.js';
import { createSharePartitionManager } from './share-wiring.js';

export interface BrokerOptions {
  logger?: Logger;
  /** The clock and timers of everything in the broker; default the system's. */
  time?: Time;
  /**
   * The timer of waiting requests (long-poll fetches). Real time by default even when `time` is a
   * MockTime: clients time their requests by their own clocks, so a poll held until a test moves
   * the mock clock would run into the client's request timeout. Tests of the waiting itself pass
   * a MockTime here.
   */
  purgatoryTime?: Time;
  /**
   * The controller of a cluster in this process (`startCluster`), shared by its brokers: the broker
   * then neither opens nor closes one, registers fenced and is unfenced once it listens, and its
   * partition leaders propose ISR changes to it. Without one the broker opens its own over
   * `<data dir>/__cluster_metadata/` and is a cluster of one. A broker of an etcd cluster or of
   * `--threads` passes its SharedLogController (src/server/shared-log-broker.ts), the same interface.
   */
  controller?: LocalController;
  /** The cluster's producer id blocks, shared by its brokers (with `controller`). */
  producerIds?: ProducerIdManager;
}

/**
 * Clears one component's state on `Broker.reset()` (the group coordinator drops every group and
 * its committed offsets; the transaction coordinator every transactional id).
 */
export type ResetHook = () => void | Promise<void>;

export class Broker {
  readonly handlers = new HandlerRegistry(allHandlers);
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly time: Time;
  /** Periodic background work: retention, flushes, checkpoints, expiry. */
  readonly scheduler: Scheduler;
  readonly logManager: LogManager;
  readonly logCleaner: LogCleaner;
  readonly replicaManager: ReplicaManager;
  /** The cluster metadata's write side, over `<data dir>/__cluster_metadata/`. */
  readonly controller: LocalController;
  readonly groupCoordinator: GroupCoordinator;
  readonly transactionCoordinator: TransactionCoordinator;
  /** Requests to the other brokers that are not replica fetches: transaction markers, verification. */
  private readonly brokerChannels: BrokerChannels;
  /** Partition leaders (this broker's image) and requests to other brokers, for the transaction coordinator. */
  readonly interBroker: InterBrokerView;
  /** What handlers get in their request context; the one place it is wired. */
  readonly services: BrokerServices;
  /** SCRAM credentials and ACLs: the metadata image's, written through the controller. */
  readonly securityStore: SecurityStore;
  /** Delegation tokens' SCRAM credentials (KIP-48), derived from the image's tokens. */
  private readonly tokenCredentials: DelegationTokenCredentials;
  /** One server per entry of `listeners`, in order. */
  private readonly listenerServers: ListenerServer[];
  /** Listener name → bound port. */
  private readonly boundPorts = new Map<string, number>();
  /** The clock of connections.max.idle.ms (ConnectionHost.connectionTime): the purgatory's. */
  readonly connectionTime: Time;
  /** Faults injected by users' tests: the next N requests of an API fail, wait or lose their connection. */
  readonly faults = new FaultInjector(
    () => this.handlers.apiVersions().map((v) => ({ ...this.handlers.get(v.apiKey)!, apiKey: v.apiKey })),
    (name) => this.image.topic(name)?.topicId,
  );
  private readonly connections = new Set<Connection>();
  /** max.connections, max.connections.per.ip (+ overrides). */
  /** max.connections(.per.ip), connection creation rates (read by /metrics). */
  readonly connectionQuotas: ConnectionQuotas;
  /** Each listener's max.connection.creation.rate, made on its first connection. */
  private readonly acceptGates = new Map<string, AcceptGate>();
  /** Connections over their address's connection_creation_rate, each closed when its hold ends. */
  private readonly throttledSockets = new Set<{ socket: Socket; timer: Timer }>();
  /** Produce and Fetch byte-rate quotas (ConnectionHost.quotas). */
  readonly quotas: ClientQuotaManagers;
  /** ConnectionHost.segmentWriter: the log manager's (log.segment.write.coalesce.enable / .thread.enable). */
  get segmentWriter(): SegmentWriter | undefined {
    return this.logManager.segmentWriter ?? undefined;
  }
  /** ConnectionHost.zeroCopy: sendfile of fetch records (socket.sendfile.enable, when the helper is built). */
  get zeroCopy(): ZeroCopy | null {
    return this.config.bool('socket.sendfile.enable') ? zeroCopy() : null;
  }
  private closing: Promise<void> | undefined;
  private readonly resetHooks = new Set<ResetHook>();
  /** The coordinators' internal topics: their partition count in the image, created by the controller. */
  readonly internalTopics = {
    partitionCount: (topic: string) => this.image.topic(topic)?.partitions.length,
    createTopic: (name: string, numPartitions: number, configs: Record<string, string>) =>
      this.createInternalTopic(name, numPartitions, configs),
  };
  /**
   * What KIP-848 consumer groups subscribe to: every topic of the image, internal ones too (Kafka
   * matches a regular expression against every topic; franz-go's Test848RegexBrokerResolves
   * subscribes to __consumer_offsets so).
   */
  readonly topics: TopicsView = {
    topic: (name) => {
      const t = this.image.topic(name);
      return t ? { topicId: t.topicId, numPartitions: t.partitions.length } : undefined;
    },
    topicName: (topicId) => this.image.topicById(topicId)?.name,
    topicNames: () => this.image.topics().map((t) => t.name),
  };
  /** The metadata image this broker last applied: what MetadataView reads. */
  private image!: MetadataImage;
  /** Producer ids shared with the other brokers of an in-process cluster; undefined: this broker's own. */
  readonly producerIds: ProducerIdManager | undefined;
  /** Whether the controller is this broker's own (closed with it) or its cluster's. */
  private readonly ownsController: boolean;
  private readonly stopMetadata: () => void;
  /** Metadata changes and ISR proposals pass here; `Cluster.isolate` cuts it. */
  readonly controllerLink: ControllerLink;
  private stopIdleSweep: () => void = () => {};

  private constructor(
    readonly config: BrokerConfig,
    options: BrokerOptions,
  ) {
    this.log = options.logger ?? createLogger();
    this.time = options.time ?? systemTime;
    this.scheduler = new Scheduler(this.time, this.log);
    this.connectionTime = options.purgatoryTime ?? systemTime;
    if (config.notUsed.length > 0) {
      this.log.info(
        `configuration keys not used by kbroker (accepted, ignored): ${config.notUsed.join(', ')}`,
      );
    }
    this.logManager = LogManager.open({
      logDirs: config.logDirs,
      nodeId: config.nodeId,
      clusterId: config.get('cluster.id') ?? undefined,
      defaultConfig: logConfigFromProps(defaultLogConfig, config.topicConfig()),
      clock: this.time,
      producerIdExpirationMs: config.int('producer.id.expiration.ms'),
      segmentWrites: config.bool('log.segment.write.thread.enable')
        ? 'thread'
        : !config.bool('log.segment.write.coalesce.enable')
          ? 'direct'
          : config.bool('log.segment.write.thread.auto.enable')
            ? 'auto'
            : 'tick',
      log: this.log,
    });
    // Compaction (Kafka's LogCleaner, created by its LogManager): started with the listener.
    const cleanerThreads = config.int('log.cleaner.threads');
    this.logCleaner = new LogCleaner({
      dataDir: this.logManager.dataDir,
      logs: () => this.logManager.allLogs(),
      time: this.time,
      enable: config.bool('log.cleaner.enable') && cleanerThreads > 0,
      threads: Math.max(1, cleanerThreads),
      dedupeBufferSize: Math.min(config.int('log.cleaner.dedupe.buffer.size'), 2 ** 31 - 1),
      ioMaxBytesPerSecond: config.int('log.cleaner.io.max.bytes.per.second'),
      backoffMs: config.int('log.cleaner.backoff.ms'),
      log: this.log,
    });
    this.replicaManager = new ReplicaManager({
      nodeId: config.nodeId,
      config,
      logManager: this.logManager,
      log: this.log,
      metrics: this.metrics,
      time: this.time,
      purgatoryTime: options.purgatoryTime ?? systemTime,
    });
    this.ownsController = options.controller === undefined;
    this.producerIds = options.producerIds;
    this.controller =
      options.controller ??
      openLocalController({
        dataDir: this.logManager.dataDir,
        nodeId: config.nodeId,
        config,
        logger: this.log,
      });
    // The broker acts on every metadata change, starting with the whole loaded image: logs are
    // opened, created and deleted, leadership taken or followed (Kafka's BrokerMetadataPublisher).
    this.controllerLink = new ControllerLink((delta, image) => {
      this.image = image;
      this.replicaManager.applyDelta(delta, image);
    });
    // Leaders propose ISR changes to the controller (AlterPartition); every broker hears the result.
    this.replicaManager.setAlterPartitionManager(
      this.controllerLink.alterPartitionManager(
        new ControllerAlterPartitionManager(
          this.controller,
          config.nodeId,
          () => this.replicaManager.brokerEpoch,
        ),
      ),
    );
    this.stopMetadata = this.controller.onChange(this.controllerLink.listener);
    for (const dir of this.logManager.startupComplete()) this.log.info(`deleted stray log ${dir}`);
    this.groupCoordinator = createGroupCoordinator(this);
    this.onReset(() => this.groupCoordinator.reset());
    this.brokerChannels = new BrokerChannels(
      (id) => {
        const registration = this.image.brokers.get(id);
        const name = config.listeners[0]?.name;
        const e = registration?.endpoints.find((x) => x.name === name) ?? registration?.endpoints[0];
        return e ? { host: e.host, port: e.port } : undefined;
      },
      {
        clientId: `broker-${config.nodeId}-txn`,
        time: this.time,
        maxResponseBytes: config.int('message.max.bytes') + 64 * 1024,
        requestTimeoutMs: config.int('request.timeout.ms'),
      },
    );
    this.interBroker = {
      nodeId: config.nodeId,
      leaderOf: (topic, partition) => {
        const t = this.image.topic(topic);
        const p = t?.partitions[partition];
        return p === undefined ? undefined : p.leader;
      },
      send: (brokerId, apiKey, version, body) => this.brokerChannels.send(brokerId, apiKey, version, body),
    };
    this.transactionCoordinator = createTransactionCoordinator(this);
    this.onReset(() => this.transactionCoordinator.reset());
    // The coordinators follow the leadership of their internal topics' partitions.
    this.replicaManager.onLeadershipChange((topic, partition, isLeader) =>
      this.coordinatorLeadership(topic, partition, isLeader),
    );
    // A deleted topic's offsets, committed or staged by open transactions, go with it.
    this.replicaManager.onPartitionsDeleted((partitions) =>
      this.groupCoordinator.onPartitionsDeleted(partitions),
    );
    // SCRAM credentials and ACLs: read from the metadata image, written through the controller.
    this.securityStore = new MetadataSecurityStore(this.controller);
    this.tokenCredentials = new DelegationTokenCredentials(
      delegationTokenConfig(config).secretKey,
      () => this.image,
    );
    // Share groups (KIP-932, issue 17): share-partitions on their leaders, released when members go.
    const { shares, shareCoordinator } = createSharePartitionManager(this, config);
    this.services = {
      metadata: this.metadataView(),
      controller: this.controller,
      controllerMutationQuotas: new ControllerMutationQuotaManager(
        {
          samples: config.int('controller.quota.window.num'),
          windowMs: config.int('controller.quota.window.size.seconds') * 1000,
        },
        this.time,
        () => this.image.clientQuotas,
      ),
      replicas: this.replicaManager,
      fetchSessions: new FetchSessionCache(config.int('max.incremental.fetch.session.cache.slots')),
      shares,
      shareCoordinator,
      groups: this.groupCoordinator,
      transactions: this.transactionCoordinator,
      configs: config,
      authorizer: this.createAuthorizer(),
      securityStore: this.securityStore,
      time: this.time,
      log: this.log,
      apiVersions: () => this.handlers.apiVersions(),
    };
    this.connectionQuotas = new ConnectionQuotas(config, this.connectionTime, () => this.image.clientQuotas);
    // Client quotas (KIP-546): byte rates per user / client id, from the image's ClientQuotaRecords.
    this.quotas = new ClientQuotaManagers(
      { samples: config.int('quota.window.num'), windowMs: config.int('quota.window.size.seconds') * 1000 },
      this.time,
      () => this.image.clientQuotas,
    );
    this.listenerServers = config.endpoints.map((endpoint) =>
      createListenerServer(
        endpoint,
        {
          config,
          log: this.log,
          time: this.time,
          store: this.securityStore,
          tokens: (tokenId, mechanism) => this.tokenCredentials.lookup(tokenId, mechanism),
          onAuthenticationFailure: (listener, remote, why, reauthentication) => {
            if (reauthentication) this.metrics.failedReauthentications++;
            else this.metrics.failedAuthentications++;
            this.log.info(`failed authentication on listener ${listener} from ${remote}: ${why}`);
          },
          onAuthenticationSuccess: (_listener, reauthentication, clientSupportsReauth) => {
            if (reauthentication) this.metrics.successfulReauthentications++;
            else {
              this.metrics.successfulAuthentications++;
              if (!clientSupportsReauth) this.metrics.successfulAuthenticationsNoReauth++;
            }
          },
        },
        {
          accept: (socket, ep, start) => this.accept(socket, ep, start),
          serve: (socket, ep, security) => this.serve(socket, ep, security),
        },
      ),
    );
  }

  /** authorizer.class.name: empty allows everything; Kafka's StandardAuthorizer keeps ACLs. */
  private createAuthorizer(): Authorizer {
    const className = this.config.string('authorizer.class.name').trim();
    if (className === '') return allowAll;
    if (className !== STANDARD_AUTHORIZER_CLASS) {
      throw new ConfigError(
        `Invalid value ${className} for configuration authorizer.class.name: kbroker provides ${STANDARD_AUTHORIZER_CLASS} only`,
      );
    }
    return new StandardAuthorizer(this.securityStore, {
      superUsers: this.config.get('super.users'),
      allowEveryoneIfNoAclFound: this.config.bool('allow.everyone.if.no.acl.found'),
    });
  }

  /**
   * An internal topic, created by a coordinator on first use, with its replication factor
   * (`offsets.topic.replication.factor`, `transaction.state.log.replication.factor`) capped at the
   * live brokers (Kafka refuses instead; one broker keeps working with Kafka's default of 3).
   */
  private createInternalTopic(name: string, numPartitions: number, configs: Record<string, string>) {
    const rfConfig =
      name === '__transaction_state'
        ? 'transaction.state.log.replication.factor'
        : 'offsets.topic.replication.factor';
    // Created once: until the controller's write is applied, the coordinators answer
    // COORDINATOR_NOT_AVAILABLE (a controller in this process applies it before returning).
    let creating = this.creatingInternalTopics.get(name);
    if (!creating) {
      creating = this.controller
        .createTopic(name, numPartitions, configs, this.config.int(rfConfig))
        .then(
          () => undefined,
          (err) => {
            if (!this.image.topic(name)) this.log.warn(`creating internal topic ${name} failed`, err);
          },
        )
        .finally(() => this.creatingInternalTopics.delete(name));
      this.creatingInternalTopics.set(name, creating);
    }
    return creating;
  }
  private readonly creatingInternalTopics = new Map<string, Promise<void>>();

  /**
   * A coordinator serves the partitions of its internal topic this broker leads (Kafka's
   * onElection / onResignation): loaded by replay when leadership arrives, unloaded when it goes
   * (its waiting requests answer NOT_COORDINATOR; clients find the new coordinator).
   */
  private coordinatorLeadership(topic: string, partition: number, isLeader: boolean): void {
    const c =
      topic === '__consumer_offsets'
        ? this.groupCoordinator
        : topic === '__transaction_state'
          ? this.transactionCoordinator
          : undefined;
    if (!c?.isActive) return;
    if (isLeader && !c.isPartitionLoaded(partition)) {
      this.log.info(`coordinator of ${topic}-${partition} loaded here (leader)`);
      c.loadPartition(partition);
    } else if (!isLeader && c.isPartitionLoaded(partition)) {
      this.log.info(`coordinator of ${topic}-${partition} unloaded (leadership moved)`);
      c.unloadPartition(partition);
    }
  }

  /** After the coordinators' start (which loads every partition): those led elsewhere are dropped. */
  private resignCoordinatorsNotLed(): void {
    for (const name of INTERNAL_TOPICS) {
      const topic = this.image.topic(name);
      if (!topic) continue;
      for (const p of topic.partitions)
        this.coordinatorLeadership(name, p.partitionId, p.leader === this.nodeId);
    }
  }

  /** The metadata as this broker last applied it: brokers, topics and leadership from the image. */
  private metadataView(): MetadataView {
    const broker = this;
    return {
      get clusterId() {
        return broker.clusterId;
      },
      nodeId: this.nodeId,
      controllerId: this.nodeId,
      brokers: (listenerName) =>
        broker.image.liveBrokers().flatMap((b) => {
          const e = b.endpoints.find((x) => x.name === listenerName);
          return e ? [{ nodeId: b.brokerId, host: e.host, port: e.port, rack: b.rack }] : [];
        }),
      registeredBrokerIds: () => [...broker.image.brokers.keys()],
      topics: () => broker.image.topics(),
      topic: (name) => broker.image.topic(name),
      topicById: (id) => broker.image.topicById(id),
      groupConfigs: (groupId) => broker.image.groupConfigs.get(groupId) ?? {},
      clientQuotas: () => broker.image.clientQuotas,
      delegationTokens: () => broker.image.delegationTokens,
    };
  }

  /** The metadata view handlers read (the same as in every request's context). */
  get metadata(): MetadataView {
    return this.services.metadata;
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get clusterId(): string {
    return this.logManager.clusterId;
  }

  /** The port actually bound by the first listener (differs from the configured one when that was 0). */
  get port(): number {
    return this.boundPorts.get(this.config.listeners[0]!.name) ?? 0;
  }

  /** The port a listener bound, by its name. */
  listenerPort(listenerName: string): number | undefined {
    return this.boundPorts.get(listenerName);
  }

  /** Host and port given to clients of the first listener in Metadata. */
  get advertised(): { host: string; port: number } {
    const first = this.config.advertisedListeners[0]!.name;
    return advertisedAddress(this.config, first, this.boundPorts.get(first) ?? 0)!;
  }

  /** Where clients of a listener reach this broker (Metadata answers each listener with its own). */
  advertisedFor(listenerName: string): { host: string; port: number } | undefined {
    return advertisedAddress(this.config, listenerName, this.boundPorts.get(listenerName) ?? 0);
  }

  static async start(config: BrokerConfig, options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(config, options);
    broker.groupCoordinator.startup();
    broker.transactionCoordinator.startup();
    broker.resignCoordinatorsNotLed();
    await broker.listen();
    // Joins the cluster with the address clients reach it at (known once the port is bound).
    // Every advertised listener, so Metadata answers each client with the addresses of its own.
    const protocols = new Map(broker.config.endpoints.map((e) => [e.name, e.securityProtocol]));
    const endpoints = broker.config.advertisedListeners.flatMap((l) => {
      const address = broker.advertisedFor(l.name);
      return address ? [{ name: l.name, ...address, securityProtocol: protocols.get(l.name) ?? l.name }] : [];
    });
    const rack = broker.config.string('broker.rack') || null;
    if (broker.ownsController) {
      broker.replicaManager.brokerEpoch = await broker.controller.registerBroker(
        broker.nodeId,
        endpoints,
        rack,
      );
    } else {
      // Kafka's broker lifecycle: registered fenced, unfenced once it can serve; unfencing gives
      // leaderless partitions it holds a replica of a leader again.
      broker.replicaManager.brokerEpoch = await broker.controller.registerBroker(
        broker.nodeId,
        endpoints,
        rack,
        true,
      );
      await broker.controller.unfenceBroker(broker.nodeId);
    }
    return broker;
  }

  private async listen(): Promise<void> {
    for (const { endpoint: l, server } of this.listenerServers) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // The kernel's listen(2) queue keeps Node's default (511): the event loop, not a dedicated
        // acceptor thread, accepts, so bursts must wait there while it is busy (with Kafka's 50 the
        // kernel dropped SYNs of a 100-connection burst under load: seconds of retransmissions).
        // socket.listen.backlog.size bounds the line the acceptor holds (AcceptGate) instead.
        server.listen({ port: l.port, host: l.host === '' ? undefined : l.host }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : l.port;
      this.boundPorts.set(l.name, port);
      this.log.info(`listener ${l.name} bound to ${l.host || '0.0.0.0'}:${port}`, {
        listener: l.name,
        securityProtocol: l.securityProtocol,
        host: l.host,
        port,
      });
    }
    this.logCleaner.startup();
    this.schedule('log.retention.check.interval.ms', () => {
      this.replicaManager
        .applyRetention()
        .catch((err) => this.log.error('retention pass (log.retention.check.interval.ms) failed', err));
    });
    // The scheduled checkpoints are written off the event loop (their fsyncs stalled produce latency).
    this.schedule('replica.high.watermark.checkpoint.interval.ms', () => {
      void this.logManager.checkpointHighWatermarksInBackground();
    });
    this.schedule('log.flush.scheduler.interval.ms', () => this.logManager.flushDirtyLogs());
    this.schedule('producer.id.expiration.check.interval.ms', () => this.logManager.removeExpiredProducers());
    // Kafka's delegation token expiry sweep: tokens past their expiry or max lifetime removed.
    if (delegationTokenConfig(this.config).secretKey !== null) {
      this.schedule('delegation.token.expiry.check.interval.ms', () => {
        const now = this.time.now();
        this.controller
          .changeDelegationTokens((tokens) => ({
            records: sweepExpiredDelegationTokens(tokens, now),
            result: undefined,
          }))
          .catch((err) => this.log.error('delegation token expiry sweep failed', err));
      });
    }
    // Kafka's LogManager: each checkpoint file written once per pass for every partition.
    this.schedule('log.flush.offset.checkpoint.interval.ms', () => {
      void this.logManager.checkpointRecoveryPointsInBackground();
    });
    this.schedule('log.flush.start.offset.checkpoint.interval.ms', () => {
      void this.logManager.checkpointLogStartOffsetsInBackground();
    });
    // Kafka's isr-expiration task: leaders drop followers lagging replica.lag.time.max.ms, checked every half of it.
    this.scheduler.schedule(
      'isr-expiration',
      Math.max(1, Math.floor(this.config.int('replica.lag.time.max.ms') / 2)),
      () => this.replicaManager.maybeShrinkIsr(),
    );
    // connections.max.idle.ms, checked a few times per idle period (at most every 10 s).
    const maxIdle = this.config.int('connections.max.idle.ms');
    if (maxIdle > 0) {
      const sweep = this.connectionTime.setInterval(
        () => this.closeIdleConnections(),
        Math.max(10, Math.min(10_000, maxIdle / 4)),
      );
      this.stopIdleSweep = () => sweep.cancel();
    }
  }

  /**
   * Runs `task` every `<intervalConfig>` ms on the broker's scheduler; a failure is logged, never
   * thrown. An interval of 0 (allowed for the checkpoint intervals) schedules nothing: those files
   * are then written at clean shutdown.
   */
  private schedule(intervalConfig: string, task: () => void): void {
    if (this.config.int(intervalConfig) <= 0) return;
    this.scheduler.schedule(intervalConfig, this.config.int(intervalConfig), task);
  }

  /**
   * A TCP connection accepted on `endpoint`, before any TLS handshake: Kafka's acceptor's checks,
   * then `start` (the handshake, or serving a plaintext connection).
   */
  private accept(socket: Socket, endpoint: ListenerEndpoint, start: () => void): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // max.connection.creation.rate (KIP-612): the connection waits its turn as at Kafka's acceptor.
    let gate = this.acceptGates.get(endpoint.name);
    if (!gate) {
      gate = new AcceptGate(
        this.connectionTime,
        () => this.connectionQuotas.acceptThrottleMs(endpoint.name),
        () => this.connectionQuotas.slotAvailable(endpoint.name),
        this.config.int('socket.listen.backlog.size'),
      );
      this.acceptGates.set(endpoint.name, gate);
    }
    gate.offer(socket, () => this.takeConnection(socket, endpoint, start));
  }

  /** A connection the acceptor takes: the per-address rate and counts, then started. */
  private takeConnection(socket: Socket, endpoint: ListenerEndpoint, start: () => void): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress;
    // connection_creation_rate of the address (KIP-612): held unserved, then closed.
    const holdMs = this.connectionQuotas.throttleNewConnectionMs(address, endpoint.name);
    if (holdMs > 0) {
      this.connectionQuotas.unrecordAccept(endpoint.name);
      this.metrics.connectionsRefused++;
      this.log.debug(
        `throttling a connection from ${address} on ${endpoint.name}: closing it in ${holdMs} ms`,
      );
      holdUnread(socket);
      const timer = this.connectionTime.setTimeout(() => {
        this.throttledSockets.delete(held);
        socket.destroy();
      }, holdMs);
      const held = { socket, timer };
      this.throttledSockets.add(held);
      socket.once('close', () => {
        timer.cancel();
        this.throttledSockets.delete(held);
      });
      return;
    }
    const refused = this.connectionQuotas.tryAcquire(address, endpoint.name);
    if (refused) {
      this.metrics.connectionsRefused++;
      this.log.warn(`refusing a connection from ${address} on ${endpoint.name}: over ${refused}`);
      socket.destroy();
      return;
    }
    socket.once('close', () => {
      this.connectionQuotas.release(address, endpoint.name);
      // A slot may be free: acceptors waiting for one look again (Kafka's counts.notifyAll).
      for (const g of this.acceptGates.values()) g.slotFreed();
    });
    if (this.connectionQuotas.isProtected(endpoint.name)) this.closeExcessConnections();
    start();
  }

  /**
   * The inter-broker listener took the broker past max.connections: the least recently active
   * connections of the other listeners are closed to make up for it (Kafka's closeExcessConnections).
   */
  private closeExcessConnections(): void {
    const excess = this.connectionQuotas.excessConnections();
    if (excess === 0) return;
    const others = [...this.connections]
      .filter((c) => !this.connectionQuotas.isProtected(c.listenerName))
      .sort((a, b) => a.lastActiveMs - b.lastActiveMs)
      .slice(0, excess);
    for (const c of others) {
      this.log.info(
        `closing ${c.remote} on ${c.listenerName}: max.connections reached by the inter-broker listener`,
      );
      c.close();
    }
  }

  /** A connection ready for requests (a TLS one once its handshake is done). */
  private serve(socket: Socket, endpoint: ListenerEndpoint, security: ConnectionSecurity): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, this, endpoint.name, security);
    this.connections.add(conn);
    this.metrics.connections = this.connections.size;
  }

  /** Closes connections idle for longer than `connections.max.idle.ms` (Kafka's Selector does it each poll). */
  private closeIdleConnections(): void {
    const maxIdle = this.config.int('connections.max.idle.ms');
    const now = this.connectionTime.now();
    for (const c of [...this.connections]) {
      if (c.idleNow && now - c.lastActiveMs > maxIdle) {
        this.log.debug(`closing ${c.remote}: idle for more than connections.max.idle.ms ${maxIdle}`);
        c.close();
      }
    }
  }

  /** One request's work, with the topic registry and checkpoint writes it causes done once at its end. */
  batchUpdates<T>(work: () => T): T {
    return this.logManager.batchUpdates(work);
  }

  /** Closes the connections held by the connection-rate quotas (waiting at an accept gate or to be closed). */
  private closeHeldSockets(): void {
    for (const gate of this.acceptGates.values()) gate.close();
    for (const { socket, timer } of this.throttledSockets) {
      timer.cancel();
      socket.destroy();
    }
    this.throttledSockets.clear();
  }

  /** Called by a connection when it closes. */
  connectionClosed(conn: Connection): void {
    this.connections.delete(conn);
    this.metrics.connections = this.connections.size;
  }

  /** Accepting connections: true from start until close begins. */
  get listening(): boolean {
    return this.listenerServers.every((l) => l.server.listening) && !this.closing;
  }

  /**
   * Registers what `reset()` must clear besides topics; returns a function that unregisters it.
   * Components with state of their own (groups, transactions) register here.
   */
  onReset(hook: ResetHook): () => void {
    this.resetHooks.add(hook);
    return () => this.resetHooks.delete(hook);
  }

  /**
   * Drops every group and transaction (through the reset hooks), then every non-internal topic,
   * so that test files can share one broker. Connections stay open; clients see the topics gone
   * (and auto-create them again if allowed). Returns the deleted topic names.
   */
  async reset(): Promise<string[]> {
    for (const hook of [...this.resetHooks]) await hook();
    const doomed = this.image
      .topics()
      .map((t) => t.name)
      .filter((name) => !INTERNAL_TOPICS.has(name));
    await this.batchUpdates(() => this.controller.deleteTopics(doomed));
    return doomed;
  }

  /** Graceful: stop accepting, finish in-flight requests (bounded), flush and close storage. */
  close(timeoutMs = 5000): Promise<void> {
    this.closing ??= this.doClose(timeoutMs);
    return this.closing;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.scheduler.shutdown();
    this.stopIdleSweep();
    const serverClosed = Promise.all(
      this.listenerServers.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))),
    );
    this.services.shares.shutdown();
    this.replicaManager.shutdown();
    this.groupCoordinator.shutdown();
    this.transactionCoordinator.shutdown();
    this.brokerChannels.close();
    const inFlight = Promise.all([...this.connections].map((c) => c.idle));
    // A real-time bound (not the broker's clock, which a test may hold still): shutdown must end.
    await Promise.race([inFlight, new Promise((r) => systemTime.setTimeout(() => r(undefined), timeoutMs))]);
    const open = [...this.connections];
    for (const c of open) c.close();
    this.closeHeldSockets();
    await serverClosed;
    // A fetch's sendfile on a pool thread holds segment descriptors until it stops (at most 250 ms).
    await Promise.all(open.map((c) => c.sendsSettled));
    await this.transactionCoordinator.backgroundSettled();
    this.stopMetadata();
    await this.logCleaner.shutdown();
    if (this.ownsController) this.controller.close();
    this.logManager.close();
    await this.logManager.backgroundSettled();
  }

  /**
   * A crash (`Cluster.killBroker`): connections cut, nothing waited for, no flush, checkpoint or
   * clean-shutdown marker; the next start from the data directory recovers. The controller is not
   * told: whoever runs the cluster fences the broker, as its session would expire.
   */
  async kill(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.scheduler.shutdown();
      this.stopIdleSweep();
      this.stopMetadata();
      const serverClosed = Promise.all(
        this.listenerServers.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))),
      );
      for (const c of [...this.connections]) c.close();
      this.closeHeldSockets();
      this.services.shares.shutdown();
      this.replicaManager.shutdown();
      this.groupCoordinator.shutdown();
      this.transactionCoordinator.shutdown();
      this.brokerChannels.close();
      await serverClosed;
      await this.transactionCoordinator.backgroundSettled();
      await this.logCleaner.shutdown();
      if (this.ownsController) this.controller.close();
      this.logManager.abandon();
      await this.logManager.backgroundSettled();
    })();
    return this.closing;
  }
}
