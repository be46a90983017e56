/**
 * The one registry of the configs kbroker supports, under Kafka's names, types and defaults.
 * Used by the config file, `--override`, the environment, and (later) Describe/AlterConfigs.
 * Topic-level configs name the broker config that supplies their default (`serverDefault`).
 */

export type ConfigType = 'boolean' | 'int' | 'long' | 'double' | 'string' | 'list' | 'password';

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  /** The default as Kafka writes it (string form); `null` means no default. */
  readonly default: string | null;
  readonly doc: string;
  /** Allowed values for enumerations. */
  readonly validValues?: readonly string[];
  /** Inclusive numeric bounds. */
  readonly min?: number;
  readonly max?: number;
}

export interface TopicConfigDef extends ConfigDef {
  /** The broker config whose value is this topic config's default. */
  readonly serverDefault?: string;
}

const LONG_MAX = '9223372036854775807';

export const brokerConfigDefs: readonly ConfigDef[] = [
  { name: 'node.id', type: 'int', default: '1', min: 0, doc: 'The node id of this broker.' },
  { name: 'broker.id', type: 'int', default: '-1', doc: 'Alias of node.id kept for ZooKeeper-era configs.' },
  {
    name: 'listeners',
    type: 'list',
    default: 'PLAINTEXT://:9092',
    doc: 'Comma-separated listener URIs the broker binds to, e.g. PLAINTEXT://0.0.0.0:9092.',
  },
  {
    name: 'advertised.listeners',
    type: 'list',
    default: null,
    doc: 'Listener URIs given to clients in Metadata; defaults to listeners (with the host filled in).',
  },
  { name: 'log.dirs', type: 'list', default: null, doc: 'Directories where partition data is stored.' },
  { name: 'log.dir', type: 'string', default: 'kbroker-data', doc: 'Used when log.dirs is not set.' },
  {
    name: 'num.partitions',
    type: 'int',
    default: '1',
    min: 1,
    doc: 'Default partition count of new topics.',
  },
  {
    name: 'default.replication.factor',
    type: 'int',
    default: '1',
    min: 1,
    doc: 'Default replication factor of automatically created topics.',
  },
  {
    name: 'auto.create.topics.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Create a topic when a client asks Metadata or Produces to one that does not exist.',
  },
  {
    name: 'cluster.id',
    type: 'string',
    default: null,
    doc: 'Cluster id; generated and stored on first start.',
  },
  {
    name: 'log.segment.bytes',
    type: 'int',
    default: '1073741824',
    min: 14,
    doc: 'Maximum size of a single log segment file.',
  },
  { name: 'log.roll.ms', type: 'long', default: null, doc: 'Time after which a new segment is rolled.' },
  { name: 'log.roll.hours', type: 'int', default: '168', min: 1, doc: 'log.roll.ms in hours.' },
  {
    name: 'log.roll.jitter.ms',
    type: 'long',
    default: '0',
    min: 0,
    doc: 'Maximum random jitter subtracted from the roll time.',
  },
  {
    name: 'log.index.interval.bytes',
    type: 'int',
    default: '4096',
    min: 0,
    doc: 'Bytes between offset index entries.',
  },
  {
    name: 'log.flush.interval.messages',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'Messages appended to a partition before it is fsynced; 1 fsyncs each append before the ack.',
  },
  { name: 'log.flush.interval.ms', type: 'long', default: null, doc: 'Maximum time data stays unflushed.' },
  { name: 'log.retention.ms', type: 'long', default: null, doc: 'Retention time; -1 keeps data forever.' },
  { name: 'log.retention.minutes', type: 'int', default: null, doc: 'log.retention.ms in minutes.' },
  { name: 'log.retention.hours', type: 'int', default: '168', doc: 'log.retention.ms in hours.' },
  {
    name: 'log.retention.bytes',
    type: 'long',
    default: '-1',
    doc: 'Maximum partition size before old segments go.',
  },
  {
    name: 'log.retention.check.interval.ms',
    type: 'long',
    default: '300000',
    min: 1,
    doc: 'How often retention is checked.',
  },
  {
    name: 'replica.high.watermark.checkpoint.interval.ms',
    type: 'long',
    default: '5000',
    min: 1,
    doc: 'How often high watermarks are saved to replication-offset-checkpoint.',
  },
  {
    name: 'log.flush.scheduler.interval.ms',
    type: 'long',
    default: '3000',
    min: 1,
    doc: 'How often logs are checked against flush.ms (Kafka defaults to Long.MAX; kbroker checks every 3 s).',
  },
  {
    name: 'log.segment.delete.delay.ms',
    type: 'long',
    default: '60000',
    min: 0,
    doc: 'Delay before a deleted segment file is removed.',
  },
  {
    name: 'log.message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validValues: ['CreateTime', 'LogAppendTime'],
    doc: 'Whether batch timestamps are the producer time or the append time.',
  },
  { name: 'log.cleanup.policy', type: 'list', default: 'delete', doc: 'delete and/or compact.' },
  {
    name: 'message.max.bytes',
    type: 'int',
    default: '1048588',
    min: 0,
    doc: 'Largest record batch size allowed (after compression).',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: '104857600',
    min: 1,
    doc: 'Largest request frame; a larger one closes the connection.',
  },
  { name: 'min.insync.replicas', type: 'int', default: '1', min: 1, doc: 'Minimum ISR size for acks=all.' },
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: '3000',
    min: 0,
    doc: 'Delay of the first rebalance of an empty group (0 in dev mode).',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: '6000',
    min: 0,
    doc: 'Smallest session.timeout.ms a consumer may ask for (JoinGroup → INVALID_SESSION_TIMEOUT).',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: '1800000',
    min: 0,
    doc: 'Largest session.timeout.ms a consumer may ask for (JoinGroup → INVALID_SESSION_TIMEOUT).',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: '1000',
    min: 1,
    doc: 'Most members (and members awaiting a member id) of one classic group; beyond it JoinGroup answers GROUP_MAX_SIZE_REACHED. Kafka defaults to Integer.MAX_VALUE; kbroker bounds memory instead.',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: '50',
    min: 1,
    doc: 'Partitions of __consumer_offsets (fixed once the topic exists).',
  },
  {
    name: 'offsets.topic.replication.factor',
    type: 'int',
    default: '3',
    min: 1,
    doc: 'Replication factor of __consumer_offsets, capped at the number of live brokers.',
  },
  {
    name: 'offsets.topic.segment.bytes',
    type: 'int',
    default: '104857600',
    min: 14,
    doc: 'Segment size of __consumer_offsets.',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: '10080',
    min: 1,
    doc: 'Committed offsets of a group that has been empty this long (or of a standalone consumer, since the commit) are deleted.',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: '600000',
    min: 1,
    doc: 'How often expired offsets are looked for.',
  },
  {
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: '4096',
    min: 0,
    doc: 'Largest metadata string of a committed offset (OffsetCommit → OFFSET_METADATA_TOO_LARGE).',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: '6000',
    min: 0,
    doc: 'Smallest session.timeout.ms a consumer may ask for (JoinGroup → INVALID_SESSION_TIMEOUT).',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: '1800000',
    min: 0,
    doc: 'Largest session.timeout.ms a consumer may ask for (JoinGroup → INVALID_SESSION_TIMEOUT).',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: '1000',
    min: 1,
    doc: 'Most members (and members awaiting a member id) of one classic group; beyond it JoinGroup answers GROUP_MAX_SIZE_REACHED. Kafka defaults to Integer.MAX_VALUE; kbroker bounds memory instead.',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: '50',
    min: 1,
    doc: 'Partitions of __consumer_offsets (fixed once the topic exists).',
  },
  {
    name: 'offsets.topic.replication.factor',
    type: 'int',
    default: '3',
    min: 1,
    doc: 'Replication factor of __consumer_offsets, capped at the number of live brokers.',
  },
  {
    name: 'offsets.topic.segment.bytes',
    type: 'int',
    default: '104857600',
    min: 14,
    doc: 'Segment size of __consumer_offsets.',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: '10080',
    min: 1,
    doc: 'Committed offsets of a group that has been empty this long (or of a standalone consumer, since the commit) are deleted.',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: '600000',
    min: 1,
    doc: 'How often expired offsets are looked for.',
  },
  {
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: '4096',
    min: 0,
    doc: 'Largest metadata string of a committed offset (OffsetCommit → OFFSET_METADATA_TOO_LARGE).',
  },
];

export const topicConfigDefs: readonly TopicConfigDef[] = [
  {
    name: 'segment.bytes',
    type: 'int',
    default: '1073741824',
    min: 14,
    serverDefault: 'log.segment.bytes',
    doc: 'Segment file size.',
  },
  {
    name: 'segment.ms',
    type: 'long',
    default: '604800000',
    min: 1,
    serverDefault: 'log.roll.ms',
    doc: 'Segment roll time.',
  },
  {
    name: 'segment.jitter.ms',
    type: 'long',
    default: '0',
    min: 0,
    serverDefault: 'log.roll.jitter.ms',
    doc: 'Roll jitter.',
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    default: '4096',
    min: 0,
    serverDefault: 'log.index.interval.bytes',
    doc: 'Index interval.',
  },
  {
    name: 'flush.messages',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    serverDefault: 'log.flush.interval.messages',
    doc: 'fsync every N messages.',
  },
  {
    name: 'flush.ms',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    serverDefault: 'log.flush.interval.ms',
    doc: 'fsync every N ms.',
  },
  {
    name: 'retention.ms',
    type: 'long',
    default: '604800000',
    min: -1,
    serverDefault: 'log.retention.ms',
    doc: 'Retention time.',
  },
  {
    name: 'retention.bytes',
    type: 'long',
    default: '-1',
    serverDefault: 'log.retention.bytes',
    doc: 'Retention size.',
  },
  {
    name: 'file.delete.delay.ms',
    type: 'long',
    default: '60000',
    min: 0,
    serverDefault: 'log.segment.delete.delay.ms',
    doc: 'Delete delay.',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validValues: ['CreateTime', 'LogAppendTime'],
    serverDefault: 'log.message.timestamp.type',
    doc: 'Timestamp type.',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    default: '1048588',
    min: 0,
    serverDefault: 'message.max.bytes',
    doc: 'Largest batch.',
  },
  {
    name: 'cleanup.policy',
    type: 'list',
    default: 'delete',
    serverDefault: 'log.cleanup.policy',
    doc: 'delete and/or compact.',
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    default: '1',
    min: 1,
    serverDefault: 'min.insync.replicas',
    doc: 'Min ISR.',
  },
];

export const brokerConfigByName: ReadonlyMap<string, ConfigDef> = new Map(
  brokerConfigDefs.map((d) => [d.name, d]),
);
export const topicConfigByName: ReadonlyMap<string, TopicConfigDef> = new Map(
  topicConfigDefs.map((d) => [d.name, d]),
);
