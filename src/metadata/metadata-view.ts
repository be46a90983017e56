/**
 * The read side of the cluster metadata, as handlers and the admin API see it (Kafka's
 * MetadataCache): the cluster id, the brokers with the address each advertises on a listener, the
 * controller, and the topics with their partitions' leadership. Everything that answers Metadata,
 * DescribeCluster, DescribeTopicPartitions or the admin HTTP API reads it here.
 *
 * Today one broker holds the whole cluster and the topics come from its replica manager; the
 * multi-broker controller (etcd, or several brokers in one process) will feed the same view.
 */
import type { TopicInfo } from '../replication/replica-manager.js';

/** One broker as clients reach it (Metadata's brokers, DescribeCluster's brokers). */
export interface BrokerEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface MetadataView {
  readonly clusterId: string;
  /** The broker answering this request. */
  readonly nodeId: number;
  /** The active controller's id (Metadata's controllerId, DescribeCluster's controllerId). */
  readonly controllerId: number;
  /** The live brokers, addressed on the listener the client came in on. */
  brokers(listenerName: string): readonly BrokerEndpoint[];
  /** The brokers partitions may be placed on (for replica assignment checks). */
  registeredBrokerIds(): readonly number[];
  topics(): readonly TopicInfo[];
  topic(name: string): TopicInfo | undefined;
  topicById(topicId: string): TopicInfo | undefined;
}
