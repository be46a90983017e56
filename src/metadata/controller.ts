/**
 * The write side of the cluster metadata (Kafka's Controller / QuorumController): every change
 * of topics, partitions and configs goes through it, and brokers then apply the resulting
 * metadata (leadership, deleted logs) through their replica manager. Handlers validate the
 * request's shape and ask the controller; they never change topic state themselves.
 *
 * `LocalController` is the single-process implementation; the etcd-backed one of the
 * replication issue implements the same interface, so the data path does not know which is
 * behind it.
 */
import type { DynamicScope } from '../config/broker-config.js';
import type { ReplicaManager, TopicInfo } from '../replication/replica-manager.js';

export interface Controller {
  /** Creates a topic (name, partition count and configs already validated). */
  createTopic(name: string, numPartitions: number, configs: Record<string, string>): TopicInfo;
  /**
   * The topic, auto-created with the broker's `num.partitions` when `auto.create.topics.enable`
   * and `allowAutoCreate` allow it and the name is valid; undefined otherwise.
   */
  maybeAutoCreateTopic(name: string, allowAutoCreate: boolean): TopicInfo | undefined;
  /** Deletes a topic: its logs go, and the coordinators forget what they held of it. */
  deleteTopic(name: string): void;
  /** Grows a topic to `count` partitions. */
  createPartitions(name: string, count: number): TopicInfo;
  /** Replaces a topic's config overrides (validated). */
  alterTopicConfigs(name: string, configs: Record<string, string>): TopicInfo;
  /** Replaces the dynamic broker configs of a scope (validated). */
  alterBrokerConfigs(scope: DynamicScope, configs: Record<string, string>): void;
}

/** One broker is the whole cluster: the controller's decisions are applied to its own replicas. */
export class LocalController implements Controller {
  constructor(private readonly replicas: ReplicaManager) {}

  createTopic(name: string, numPartitions: number, configs: Record<string, string>): TopicInfo {
    return this.replicas.createTopic(name, numPartitions, configs);
  }

  maybeAutoCreateTopic(name: string, allowAutoCreate: boolean): TopicInfo | undefined {
    return this.replicas.getOrAutoCreate(name, allowAutoCreate);
  }

  deleteTopic(name: string): void {
    this.replicas.deleteTopic(name);
  }

  createPartitions(name: string, count: number): TopicInfo {
    return this.replicas.createPartitions(name, count);
  }

  alterTopicConfigs(name: string, configs: Record<string, string>): TopicInfo {
    return this.replicas.setTopicConfigs(name, configs);
  }

  alterBrokerConfigs(scope: DynamicScope, configs: Record<string, string>): void {
    this.replicas.setDynamicBrokerConfigs(scope, configs);
  }
}
