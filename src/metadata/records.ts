/**
 * The changes a controller makes to the cluster metadata, named after Kafka's KRaft metadata
 * records (`metadata/src/main/resources/common/metadata/*.json`): a broker registers, a topic and
 * its partitions are created, a partition's leader or ISR changes, a config is set, a topic is
 * removed, a SCRAM credential or an ACL is added or removed, a client quota is set. The metadata image (image.ts) is what replaying them in order gives; the controller
 * persists them (a local log in one process, etcd across processes) and every broker applies
 * them.
 */

/** One listener of a broker, as clients reach it. */
export interface BrokerEndpointRecord {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

export interface RegisterBrokerRecord {
  readonly type: 'RegisterBrokerRecord';
  readonly brokerId: number;
  /** Grows with every registration of the same broker id (a restart), so stale requests can be told apart. */
  readonly brokerEpoch: number;
  readonly rack: string | null;
  readonly endpoints: readonly BrokerEndpointRecord[];
  /** A registered broker is fenced until it has caught up with the metadata. */
  readonly fenced: boolean;
}

export interface UnregisterBrokerRecord {
  readonly type: 'UnregisterBrokerRecord';
  readonly brokerId: number;
  readonly brokerEpoch: number;
}

export interface BrokerRegistrationChangeRecord {
  readonly type: 'BrokerRegistrationChangeRecord';
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly fenced: boolean;
}

export interface TopicRecord {
  readonly type: 'TopicRecord';
  readonly name: string;
  readonly topicId: string;
}

export interface PartitionRecord {
  readonly type: 'PartitionRecord';
  readonly topicId: string;
  readonly partitionId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** -1 when no replica can lead. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /** Replicas a reassignment is adding / removing (Kafka's AddingReplicas / RemovingReplicas); absent: none. */
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

/**
 * A change of one partition; absent fields keep their value. Every change bumps the partition
 * epoch; a change of leader also bumps the leader epoch (as Kafka's PartitionChangeBuilder).
 */
export interface PartitionChangeRecord {
  readonly type: 'PartitionChangeRecord';
  readonly topicId: string;
  readonly partitionId: number;
  readonly leader?: number;
  readonly isr?: readonly number[];
  readonly replicas?: readonly number[];
  /** A reassignment's adding / removing replicas (set when it starts, emptied when it ends or is cancelled). */
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

/** GROUP: a group's dynamic configs (Kafka's GroupConfig, e.g. share.auto.offset.reset). */
export type ConfigResourceType = 'TOPIC' | 'BROKER' | 'GROUP';

/** Sets (or with `value: null` removes) one config of a topic or a broker ("" = the cluster default). */
export interface ConfigRecord {
  readonly type: 'ConfigRecord';
  readonly resourceType: ConfigResourceType;
  readonly resourceName: string;
  readonly name: string;
  readonly value: string | null;
}

export interface RemoveTopicRecord {
  readonly type: 'RemoveTopicRecord';
  readonly topicId: string;
}

/**
 * A user's SCRAM credential for one mechanism, as Kafka keeps it: salt, iterations, StoredKey and
 * ServerKey — never the password. Bytes are base64 (the metadata log is JSON).
 */
export interface UserScramCredentialRecord {
  readonly type: 'UserScramCredentialRecord';
  readonly name: string;
  /** 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512 (Kafka's ScramMechanism type). */
  readonly mechanism: number;
  readonly salt: string;
  readonly storedKey: string;
  readonly serverKey: string;
  readonly iterations: number;
}

export interface RemoveUserScramCredentialRecord {
  readonly type: 'RemoveUserScramCredentialRecord';
  readonly name: string;
  readonly mechanism: number;
}

/** One ACL (Kafka's AclBinding with codes as on the wire) and its id, a Kafka Uuid in base64url. */
export interface AccessControlEntryRecord {
  readonly type: 'AccessControlEntryRecord';
  readonly id: string;
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

export interface RemoveAccessControlEntryRecord {
  readonly type: 'RemoveAccessControlEntryRecord';
  readonly id: string;
}

/**
 * Sets (or with `remove`, removes) one client quota of an entity (KIP-546, Kafka's
 * ClientQuotaRecord): the entity is one or two of user / client-id (or ip alone), a null name
 * being that type's default entity.
 */
export interface ClientQuotaRecord {
  readonly type: 'ClientQuotaRecord';
  readonly entity: readonly { entityType: string; entityName: string | null }[];
  readonly key: string;
  /** Ignored when `remove`. */
  readonly value: number;
  readonly remove: boolean;
}

/**
 * A delegation token created, renewed or given a new expiry (Kafka's DelegationTokenRecord, KIP-48);
 * principals as Kafka prints them, `User:alice`.
 */
export interface DelegationTokenRecord {
  readonly type: 'DelegationTokenRecord';
  readonly tokenId: string;
  readonly owner: string;
  readonly requester: string;
  readonly renewers: readonly string[];
  readonly issueTimestamp: number;
  readonly maxTimestamp: number;
  readonly expirationTimestamp: number;
}

export interface RemoveDelegationTokenRecord {
  readonly type: 'RemoveDelegationTokenRecord';
  readonly tokenId: string;
}

export type MetadataRecord =
  | DelegationTokenRecord
  | RemoveDelegationTokenRecord
  | ClientQuotaRecord
  | UserScramCredentialRecord
  | RemoveUserScramCredentialRecord
  | AccessControlEntryRecord
  | RemoveAccessControlEntryRecord
  | RegisterBrokerRecord
  | UnregisterBrokerRecord
  | BrokerRegistrationChangeRecord
  | TopicRecord
  | PartitionRecord
  | PartitionChangeRecord
  | ConfigRecord
  | RemoveTopicRecord;
