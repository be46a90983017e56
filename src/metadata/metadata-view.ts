/**
 * The read side of the cluster metadata, as handlers and the admin API see it (Kafka's
 * MetadataCache): the cluster id, the brokers with the address each advertises on a listener, the
 * controller, and the topics with their partitions' leadership. Everything that answers Metadata,
 * DescribeCluster, DescribeTopicPartitions or the admin HTTP API reads it here.
 *
 * It reads the metadata image (image.ts) the broker last applied: topics, partitions and their
 * leadership as the controller decided them; every broker of a cluster reads the same.
 */
import type { ClientQuotasImage } from './client-quota-image.js';
import type { DelegationTokenImage } from './delegation-token-image.js';
import type { TopicImage } from './image.js';

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
  /** The registered brokers' ids, fenced or not. */
  registeredBrokerIds(): readonly number[];
  topics(): readonly TopicImage[];
  topic(name: string): TopicImage | undefined;
  topicById(topicId: string): TopicImage | undefined;
  /** A group's dynamic configs (GROUP config resources: share.auto.offset.reset, ...). */
  groupConfigs?(groupId: string): Readonly<Record<string, string>>;
  /** The client quotas of the image (DescribeClientQuotas, the quota managers). */
  clientQuotas?(): ClientQuotasImage;
  /** The delegation tokens of the image (DescribeDelegationToken). */
  delegationTokens?(): DelegationTokenImage;
}
