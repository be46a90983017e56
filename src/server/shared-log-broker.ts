/**
 * One broker process of a multi-process cluster (`kbroker start --node-id N --etcd URL,...`): its
 * controller is an EtcdController (the cluster metadata in etcd, shared with the other processes),
 * its producer ids come from its own stripe of the id space, and the cluster id is etcd's (set by
 * the first broker to start). Everything else is the same Broker as in one process.
 *
 * `stop()` is a controlled shutdown: the broker is fenced first (its leaderships move to other ISR
 * members), then closes, then gives up its etcd registration and any controller leadership. A
 * process killed with -9 is fenced by the elected controller once its etcd lease expires
 * (`broker.session.timeout.ms`).
 */
import type { Logger } from '../common/logger.js';
import { BrokerConfig, ConfigError, type RawConfig } from '../config/broker-config.js';
import { ProducerIdManager } from '../coordinator/transaction/producer-id-manager.js';
import { EtcdController } from '../metadata/etcd/etcd-controller.js';
import { newTopicId } from '../storage/partition-metadata.js';
import { Broker } from './broker.js';

export interface EtcdBrokerOptions {
  readonly logger?: Logger;
  /** Following the metadata log failed for good (the process should exit and be restarted). */
  readonly onFatal?: (err: Error) => void;
}

export class EtcdBroker {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly broker: Broker,
    readonly controller: EtcdController,
  ) {}

  static async start(raw: RawConfig, options: EtcdBrokerOptions = {}): Promise<EtcdBroker> {
    const first = new BrokerConfig(raw);
    const connect = first.string('etcd.connect').trim();
    if (connect === '') throw new ConfigError('etcd.connect is empty: not a multi-process broker');
    const controller = await EtcdController.open({
      nodeId: first.nodeId,
      config: first,
      connect,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    });
    try {
      const clusterId = await sharedClusterId(controller, first.get('cluster.id'));
      const config = new BrokerConfig({ ...raw, 'cluster.id': clusterId });
      const broker = await Broker.start(config, {
        controller,
        producerIds: ProducerIdManager.striped(config.logDir, config.nodeId),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      return new EtcdBroker(broker, controller);
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

/** The cluster id in etcd: set by the first broker (its configured one, or a new one). */
async function sharedClusterId(controller: EtcdController, configured: string | null): Promise<string> {
  const { client, layout } = controller.etcd;
  const proposed = configured ?? newTopicId();
  const result = await client.txn(
    [{ key: layout.clusterIdKey, target: 'CREATE', createRevision: 0 }],
    [{ put: { key: layout.clusterIdKey, value: proposed } }],
    [{ range: { key: layout.clusterIdKey } }],
  );
  const id = result.succeeded ? proposed : result.responses[0]![0]!.value.toString('utf8');
  if (configured !== null && configured !== id) {
    throw new ConfigError(`cluster.id ${configured} is not the cluster's in etcd (${id})`);
  }
  return id;
}
