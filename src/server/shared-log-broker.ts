/**
 * A broker whose cluster metadata is shared with other brokers (SharedLogController): one process
 * of a multi-process cluster (`kbroker start --node-id N --etcd URL,...`, the metadata in etcd) or
 * one thread of `kbroker start --threads N` (the metadata held by the main thread). Its producer ids
 * come from its own stripe of the id space, and the cluster id is the shared one (set by the first
 * broker to start). Everything else is the same Broker as in one process.
 *
 * `stop()` is a controlled shutdown: the broker is fenced first (its leaderships move to other ISR
 * members), then closes, then gives up its registration and any controller leadership. A process
 * killed with -9 is fenced by the elected controller once its session ends (its etcd lease expires
 * after `broker.session.timeout.ms`; a thread's, when the thread is gone).
 */
import type { Logger } from '../common/logger.js';
import { BrokerConfig, ConfigError, type RawConfig } from '../config/broker-config.js';
import { ProducerIdManager } from '../coordinator/transaction/producer-id-manager.js';
import type { SharedClusterMetadata } from '../metadata/etcd/interfaces.js';
import { SharedLogController } from '../metadata/shared-log-controller.js';
import { newTopicId } from '../storage/partition-metadata.js';
import { Broker } from './broker.js';

export interface SharedLogBrokerOptions {
  /** Where the cluster metadata is: etcd, or the main thread. */
  readonly metadata: (sessionTimeoutMs: number) => SharedClusterMetadata;
  readonly logger?: Logger;
  /** Following the metadata log failed for good (the process should exit and be restarted). */
  readonly onFatal?: (err: Error) => void;
}

export class SharedLogBroker {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly broker: Broker,
    readonly controller: SharedLogController,
  ) {}

  static async start(raw: RawConfig, options: SharedLogBrokerOptions): Promise<SharedLogBroker> {
    const first = new BrokerConfig(raw);
    const controller = await SharedLogController.open({
      nodeId: first.nodeId,
      config: first,
      metadata: options.metadata,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    });
    try {
      const configured = first.get('cluster.id');
      const clusterId = await controller.shared.clusterId(configured ?? newTopicId());
      if (configured !== null && configured !== clusterId) {
        throw new ConfigError(`cluster.id ${configured} is not the cluster's (${clusterId})`);
      }
      const config = new BrokerConfig({ ...raw, 'cluster.id': clusterId });
      const broker = await Broker.start(config, {
        controller,
        producerIds: ProducerIdManager.striped(config.logDir, config.nodeId),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      return new SharedLogBroker(broker, controller);
    } catch (err) {
      await controller.closeAndWait();
      throw err;
    }
  }

  /** Controlled shutdown: fenced (leaderships move), closed, registration and leadership given up. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.controller.fenceBroker(this.broker.nodeId);
      } catch (err) {
        this.broker.log.warn(
          `controlled shutdown: fencing broker ${this.broker.nodeId} failed: ${String(err)}`,
        );
      }
      await this.broker.close();
      await this.controller.closeAndWait();
    })();
    return this.stopping;
  }
}
