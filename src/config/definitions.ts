/**
 * The one registry of the configs kbroker supports, under Kafka's names, types and defaults.
 * Used by the config file, `--override`, the environment, DescribeConfigs and
 * (Incremental)AlterConfigs alike. Topic-level configs name the broker config that supplies
 * their default (`serverDefault`); `BROKER_CONFIG_SYNONYMS` lists the broker configs that set
 * one value (log.retention.ms ← log.retention.minutes ← log.retention.hours), and
 * `DYNAMIC_BROKER_CONFIGS` those a running broker accepts through AlterConfigs. Keys of a real
 * Kafka `server.properties` that kbroker has no use for (`KAFKA_CONFIGS_NOT_USED`) are accepted
 * and logged at start rather than refused, so an existing file works unchanged.
 */

import type { ConfigDef, TopicConfigDef } from './config-def.js';
import { kafka4ConfigDefs } from './kafka4-config-defs.js';
import { securityConfigDefs } from './security-config-defs.js';
import { shareConfigDefs } from './share-config-defs.js';
import { streamsConfigDefs } from './streams-config-defs.js';
import { transactionConfigDefs } from './transaction-config-defs.js';

export type { ConfigDef, ConfigType, TopicConfigDef } from './config-def.js';

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
    doc: 'Create a topic when a Metadata request that allows it names one that does not exist (a Produce to it is refused, as in Kafka).',
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
    name: 'log.flush.offset.checkpoint.interval.ms',
    type: 'int',
    default: '60000',
    min: 0,
    doc: "How often every partition's recovery point is written to recovery-point-offset-checkpoint (one file write per pass; also at clean shutdown). Recovery after a crash re-reads the log from there.",
  },
  {
    name: 'log.flush.start.offset.checkpoint.interval.ms',
    type: 'int',
    default: '60000',
    min: 0,
    doc: "How often every partition's log start offset is written to log-start-offset-checkpoint (one file write per pass; also at clean shutdown, and before a DeleteRecords is answered).",
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
  {
    name: 'log.cleanup.policy',
    type: 'list',
    default: 'delete',
    validValues: ['delete', 'compact'],
    doc: 'Default cleanup.policy of topics: delete and/or compact.',
  },
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
  {
    name: 'socket.listen.backlog.size',
    type: 'int',
    default: '50',
    min: 1,
    doc: "Connections that may wait for the acceptor while max.connections or a connection creation rate holds it; past it a new connection is closed. (The kernel's listen(2) queue keeps Node's default: the event loop accepts at once and holds them.)",
  },
  // Connection limits (issue 19), Kafka's SocketServer/ConnectionQuotas names and defaults.
  {
    name: 'max.connections',
    type: 'int',
    default: '2147483647',
    min: 0,
    doc: 'Most client connections the broker keeps open; one more is closed at once (Kafka blocks the acceptor).',
  },
  {
    name: 'max.connection.creation.rate',
    type: 'int',
    default: '2147483647',
    min: 0,
    doc: 'The most new connections a second the broker accepts (KIP-612), over quota.window.num windows of quota.window.size.seconds; past it the listener takes no new connection for the throttle time. Not on the inter-broker listener when there are several. Per listener: listener.name.<listener>.max.connection.creation.rate.',
  },
  {
    name: 'max.connections.per.ip',
    type: 'int',
    default: '2147483647',
    min: 0,
    doc: 'Most connections from one IP address; one more is closed at once.',
  },
  {
    name: 'max.connections.per.ip.overrides',
    type: 'string',
    default: '',
    doc: 'Per-IP limits overriding max.connections.per.ip: ip:count,ip:count.',
  },
  {
    name: 'connections.max.idle.ms',
    type: 'long',
    default: '600000',
    min: -1,
    doc: 'A connection with no request in flight and no bytes read for this long is closed, as are TLS handshakes and SASL exchanges that never finish.',
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
    name: 'transaction.state.log.replication.factor',
    type: 'int',
    default: '3',
    min: 1,
    doc: 'Replication factor of __transaction_state, capped at the number of live brokers.',
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
    name: 'offsets.commit.timeout.ms',
    type: 'int',
    default: '5000',
    min: 1,
    doc: 'How long a write to __consumer_offsets (an offset commit) waits for the high watermark to pass it before the request fails with COORDINATOR_NOT_AVAILABLE.',
  },
  {
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: '4096',
    min: 0,
    doc: 'Largest metadata string of a committed offset (OffsetCommit → OFFSET_METADATA_TOO_LARGE).',
  },
  {
    name: 'log.roll.jitter.hours',
    type: 'int',
    default: '0',
    min: 0,
    doc: 'log.roll.jitter.ms in hours (used when log.roll.jitter.ms is not set).',
  },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validValues: ['producer'],
    doc: "Default compression.type of topics; kbroker keeps the producer's compression, so only producer is accepted.",
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: 'false',
    doc: 'Default unclean.leader.election.enable of topics.',
  },
  {
    name: 'delete.topic.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Whether DeleteTopics may delete topics; when false it answers TOPIC_DELETION_DISABLED.',
  },
  {
    name: 'log.cleaner.delete.retention.ms',
    type: 'long',
    default: '86400000',
    min: 0,
    doc: 'Default delete.retention.ms of topics.',
  },
  {
    name: 'log.cleaner.min.compaction.lag.ms',
    type: 'long',
    default: '0',
    min: 0,
    doc: 'Default min.compaction.lag.ms of topics.',
  },
  {
    name: 'log.cleaner.max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'Default max.compaction.lag.ms of topics.',
  },
  {
    name: 'log.segment.write.thread.enable',
    type: 'boolean',
    default: 'false',
    doc: 'kbroker only: appends are written into their segment files by a worker thread instead of the event loop (src/storage/segment-writer.ts); responses wait until the writes before them are done. Off by default: on a 2-core machine it pays only under a sustained load that saturates the event loop (README "Using more than one core"); log.segment.write.thread.auto.enable moves the writes there while they hold the loop.',
  },
  {
    name: 'log.segment.write.thread.auto.enable',
    type: 'boolean',
    default: 'true',
    doc: 'kbroker only, with log.segment.write.coalesce.enable and without log.segment.write.thread.enable: the event loop writes its segment files itself while that is cheap, and hands the writes to the writer thread while they hold it — over a quarter of a second, half of its time or more at 1.5 ns a byte or more, as when the page cache grows into memory the hypervisor has to back first or writeback throttles the writer — and takes them back once the thread spends under a fifth of its time on them or writes at under 0.75 ns a byte. Only where the process may use two cores or more; each move is logged at INFO (README "Segment writes that move to a thread when they hold the loop").',
  },
  {
    name: 'socket.sendfile.enable',
    type: 'boolean',
    default: 'false',
    doc: 'kbroker only: on PLAINTEXT and SASL_PLAINTEXT listeners, the records of a fetch response go from the segment file to the socket with sendfile(2) on a libuv pool thread (src/server/zero-copy-sender.ts), as Kafka sends them, instead of being read into a buffer and written by the event loop. It takes most of a consume load off the event loop (for a machine with cores to spare and producers on the same broker) at the cost of a hand-over to a thread per fetch; off by default, as on two cores it does not pay for one consumer (README "The read path, third step"). Needs the native helper `npm ci` builds (native/zero-copy.c, Linux with a C compiler); without it fetches are served from buffers. TLS listeners always use buffers.',
  },
  {
    name: 'log.segment.write.coalesce.enable',
    type: 'boolean',
    default: 'true',
    doc: 'kbroker only: the batches appended in one turn of the event loop are written into their segment files at its end, one writev per segment, instead of one write(2) per batch as each is appended (src/storage/segment-writer.ts); responses wait for the writes before them, so an acknowledged batch is in the page cache as before. log.segment.write.thread.enable takes precedence.',
  },
  // The log cleaner (issue 14): compaction of cleanup.policy=compact topics.
  {
    name: 'log.cleaner.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Whether the log cleaner compacts topics whose cleanup.policy includes compact (__consumer_offsets and __transaction_state among them).',
  },
  {
    name: 'log.cleaner.threads',
    type: 'int',
    default: '1',
    min: 0,
    doc: 'Cleaner threads (worker threads), each cleaning one log at a time.',
  },
  {
    name: 'log.cleaner.dedupe.buffer.size',
    type: 'long',
    default: '134217728',
    doc: 'Memory of the key → offset maps of all cleaner threads together (24 bytes per key); a round maps at most 90% of it.',
  },
  {
    name: 'log.cleaner.io.max.bytes.per.second',
    type: 'double',
    default: '1.7976931348623157E308',
    doc: 'The cleaner threads read and write at most this many bytes per second, together.',
  },
  {
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: '15000',
    min: 0,
    doc: 'How long a cleaner thread sleeps when no log needs cleaning.',
  },
  {
    name: 'log.cleaner.min.cleanable.ratio',
    type: 'double',
    default: '0.5',
    min: 0,
    max: 1,
    doc: 'Default min.cleanable.dirty.ratio of topics.',
  },
  {
    name: 'metadata.log.max.record.bytes.between.snapshots',
    type: 'long',
    default: '20971520',
    min: 1,
    doc: 'Bytes the metadata log (__cluster_metadata/) may hold before the image is written as a snapshot and the log starts empty.',
  },
  ...transactionConfigDefs,
  // ---- multi-process clusters (issue 13): the cluster metadata in etcd ----
  {
    name: 'etcd.connect',
    type: 'string',
    default: '',
    doc: 'etcd endpoints holding the cluster metadata of separate broker processes, as host:port or http://host:port, comma-separated, optionally followed by a root path (as zookeeper.connect: etcd1:2379,etcd2:2379,etcd3:2379/kbroker/prod; default root /kbroker/). Empty: the metadata is in this process (one broker, or --brokers N). Set: the broker registers in etcd (its liveness is an etcd lease of broker.session.timeout.ms), follows the metadata log there, and one broker at a time is the elected controller.',
  },
  // ---- replication (issue 13): the leader's ISR and the followers' replica fetchers ----
  {
    name: 'broker.session.timeout.ms',
    type: 'int',
    default: '9000',
    min: 1,
    doc: 'A broker of an in-process cluster that died without a controlled shutdown is fenced this long after (its session expires); its leaderships then move.',
  },
  {
    name: 'auto.leader.rebalance.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Every leader.imbalance.check.interval.seconds the controller moves leadership back to preferred replicas (the first of each replica list) on brokers whose share of partitions led by another broker is above leader.imbalance.per.broker.percentage.',
  },
  {
    name: 'leader.imbalance.check.interval.seconds',
    type: 'long',
    default: '300',
    min: 1,
    doc: 'How often the controller checks whether partition leaders are balanced (auto.leader.rebalance.enable).',
  },
  {
    name: 'leader.imbalance.per.broker.percentage',
    type: 'int',
    default: '10',
    min: 0,
    doc: 'The share of its preferred partitions a broker may have led by others (percent) before the controller elects it back as their leader.',
  },
  {
    name: 'replica.lag.time.max.ms',
    type: 'long',
    default: '30000',
    min: 1,
    doc: 'A follower that has not caught up with the leader for this long leaves the ISR.',
  },
  {
    name: 'replica.fetch.max.bytes',
    type: 'int',
    default: '1048576',
    min: 0,
    doc: 'Bytes a follower fetch asks per partition (one batch may exceed it).',
  },
  {
    name: 'replica.fetch.response.max.bytes',
    type: 'int',
    default: '10485760',
    min: 0,
    doc: 'Bytes a follower fetch asks in all (one batch may exceed it).',
  },
  {
    name: 'replica.fetch.wait.max.ms',
    type: 'int',
    default: '500',
    min: 0,
    doc: 'How long the leader may hold a follower fetch waiting for data.',
  },
  {
    name: 'replica.fetch.min.bytes',
    type: 'int',
    default: '1',
    min: 1,
    doc: 'Bytes a follower fetch waits for before it is answered.',
  },
  {
    name: 'replica.fetch.backoff.ms',
    type: 'int',
    default: '1000',
    min: 0,
    doc: 'How long a follower waits after a fetch error before fetching that partition again.',
  },
  {
    name: 'replica.socket.timeout.ms',
    type: 'int',
    default: '30000',
    min: 1,
    doc: 'How long a replica fetcher waits for an answer before reconnecting.',
  },
  // Fetch from followers (KIP-392).
  {
    name: 'broker.rack',
    type: 'string',
    default: '',
    doc: 'Rack of the broker (registered with it, in Metadata and DescribeCluster); empty for none.',
  },
  {
    name: 'replica.selector.class',
    type: 'string',
    default: '',
    validValues: ['', 'org.apache.kafka.common.replica.RackAwareReplicaSelector'],
    doc: 'The replica a consumer should read from (KIP-392): RackAwareReplicaSelector points a consumer with client.rack at a caught-up in-sync replica in its rack; empty: the leader.',
  },
  // Transactions across brokers (issue 13).
  {
    name: 'request.timeout.ms',
    type: 'int',
    default: '30000',
    min: 0,
    doc: 'How long a request to another broker (transaction markers, transaction verification) and the replication of a transaction marker may take.',
  },
  // Client quotas (KIP-546): the windows of Kafka's ClientQuotaManager rates.
  {
    name: 'quota.window.num',
    type: 'int',
    default: '11',
    min: 1,
    doc: 'The number of samples to retain in memory for client quotas.',
  },
  {
    name: 'quota.window.size.seconds',
    type: 'int',
    default: '1',
    min: 1,
    doc: 'The time span of each sample for client quotas.',
  },
  {
    name: 'controller.quota.window.num',
    type: 'int',
    default: '11',
    min: 1,
    doc: 'The number of samples to retain in memory for alter topics and partitions mutation quotas (controller_mutation_rate): with controller.quota.window.size.seconds, the burst of the token bucket.',
  },
  {
    name: 'controller.quota.window.size.seconds',
    type: 'int',
    default: '1',
    min: 1,
    doc: 'The time span of each sample for alter topics and partitions mutation quotas (controller_mutation_rate).',
  },
  ...kafka4ConfigDefs,
  ...shareConfigDefs,
  ...streamsConfigDefs,
  ...securityConfigDefs,
];

export const topicConfigDefs: readonly TopicConfigDef[] = [
  {
    name: 'segment.bytes',
    type: 'int',
    default: '1073741824',
    min: 14,
    serverDefault: 'log.segment.bytes',
    doc: 'Size of one segment file: a segment that would grow past it is closed and a new one started. Retention deletes whole segments, so smaller segments let it act sooner.',
  },
  {
    name: 'segment.ms',
    type: 'long',
    default: '604800000',
    min: 1,
    serverDefault: 'log.roll.ms',
    doc: 'Time after which the active segment is rolled even if not full, so that retention can delete or compact old data.',
  },
  {
    name: 'segment.jitter.ms',
    type: 'long',
    default: '0',
    min: 0,
    serverDefault: 'log.roll.jitter.ms',
    doc: 'Largest random amount subtracted from segment.ms so that many partitions do not roll at once.',
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    default: '4096',
    min: 0,
    serverDefault: 'log.index.interval.bytes',
    doc: 'Bytes appended between two offset-index entries: a denser index finds fetch positions faster but is larger.',
  },
  {
    name: 'flush.messages',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    serverDefault: 'log.flush.interval.messages',
    doc: 'Messages appended before the log is fsynced; 1 fsyncs every append before it is acknowledged. The default leaves durability to replication and the OS.',
  },
  {
    name: 'flush.ms',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    serverDefault: 'log.flush.interval.ms',
    doc: 'Longest time appended data stays unfsynced.',
  },
  {
    name: 'retention.ms',
    type: 'long',
    default: '604800000',
    min: -1,
    serverDefault: 'log.retention.ms',
    doc: 'How long a segment is kept after its newest record, when cleanup.policy includes delete; -1 keeps data forever. Whole segments are deleted and the log start offset moves past them.',
  },
  {
    name: 'retention.bytes',
    type: 'long',
    default: '-1',
    serverDefault: 'log.retention.bytes',
    doc: 'Largest size of a partition before its oldest segments are deleted (per partition); -1 means no limit.',
  },
  {
    name: 'file.delete.delay.ms',
    type: 'long',
    default: '60000',
    min: 0,
    serverDefault: 'log.segment.delete.delay.ms',
    doc: 'Time a segment removed by retention stays on disk (renamed .deleted) before its files are deleted.',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validValues: ['CreateTime', 'LogAppendTime'],
    serverDefault: 'log.message.timestamp.type',
    doc: 'CreateTime keeps the timestamps producers set; LogAppendTime makes the broker stamp each batch with its append time.',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    default: '1048588',
    min: 0,
    serverDefault: 'message.max.bytes',
    doc: 'Largest record batch (after compression) the topic accepts; larger ones are refused with MESSAGE_TOO_LARGE.',
  },
  {
    name: 'cleanup.policy',
    type: 'list',
    default: 'delete',
    validValues: ['delete', 'compact'],
    serverDefault: 'log.cleanup.policy',
    doc: 'delete removes old segments by retention.ms/retention.bytes; compact keeps the latest record per key. kbroker does not compact yet: a compact-only topic keeps every segment (retention.ms and retention.bytes apply only with delete); DeleteRecords still moves its log start offset.',
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    default: '1',
    min: 1,
    serverDefault: 'min.insync.replicas',
    doc: 'Fewest in-sync replicas an acks=all produce needs to succeed.',
  },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validValues: ['producer'],
    serverDefault: 'compression.type',
    doc: 'producer keeps batches compressed as the producer sent them. kbroker never recompresses, so it accepts only producer.',
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: 'false',
    serverDefault: 'unclean.leader.election.enable',
    doc: 'Whether a replica outside the ISR may become leader. A single kbroker is always the only replica, so this has no effect yet.',
  },
  {
    name: 'delete.retention.ms',
    type: 'long',
    default: '86400000',
    min: 0,
    serverDefault: 'log.cleaner.delete.retention.ms',
    doc: 'How long the log cleaner keeps a tombstone (and the marker of an emptied transaction) after the round that first kept it.',
  },
  {
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: '0',
    min: 0,
    serverDefault: 'log.cleaner.min.compaction.lag.ms',
    doc: 'Segments holding a record newer than this are not compacted yet.',
  },
  {
    name: 'max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    serverDefault: 'log.cleaner.max.compaction.lag.ms',
    doc: 'A dirty segment older than this is compacted whatever the dirty ratio.',
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: '0.5',
    min: 0,
    max: 1,
    serverDefault: 'log.cleaner.min.cleanable.ratio',
    doc: 'Dirty share of a log (bytes not yet compacted) above which the log cleaner compacts it.',
  },
];

export const brokerConfigByName: ReadonlyMap<string, ConfigDef> = new Map(
  brokerConfigDefs.map((d) => [d.name, d]),
);
export const topicConfigByName: ReadonlyMap<string, TopicConfigDef> = new Map(
  topicConfigDefs.map((d) => [d.name, d]),
);

/**
 * Broker configs that set the same value, highest precedence first (Kafka's
 * DynamicBrokerConfig.brokerConfigSynonyms): log.retention.ms, else minutes, else hours.
 */
export const BROKER_CONFIG_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  'log.retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  'log.roll.ms': ['log.roll.ms', 'log.roll.hours'],
  'log.roll.jitter.ms': ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
};

/**
 * Broker configs AlterConfigs may change on a running broker, per broker or as the cluster
 * default (Kafka's DynamicLogConfig: the broker names of topic configs). Any other key on a BROKER
 * resource is refused as Kafka does: "Cannot update these configs dynamically: Set(...)".
 */
export const DYNAMIC_BROKER_CONFIGS: ReadonlySet<string> = new Set([
  ...topicConfigDefs.map((d) => d.serverDefault).filter((n): n is string => n !== undefined),
]);

/**
 * Keys of a real Kafka server.properties that kbroker accepts but does not use (threads, socket
 * buffers, KRaft/ZooKeeper quorum settings, replication of internal topics on a single node...).
 * They are logged once at start ("not used by kbroker") instead of failing the start.
 */
export const KAFKA_CONFIGS_NOT_USED: ReadonlySet<string> = new Set([
  'process.roles',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'controller.listener.names',
  'security.inter.broker.protocol',
  'zookeeper.connect',
  'zookeeper.connection.timeout.ms',
  'zookeeper.session.timeout.ms',
  'num.network.threads',
  'num.io.threads',
  'num.replica.fetchers',
  'num.recovery.threads.per.data.dir',
  'background.threads',
  'queued.max.requests',
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
  'transaction.state.log.min.isr',
  'log.preallocate',
  'metadata.log.dir',
  'metadata.log.segment.bytes',
  'metadata.log.retention.bytes',
  'metadata.max.retention.bytes',
  'controlled.shutdown.enable',
  'share.coordinator.state.topic.replication.factor',
  'share.coordinator.state.topic.min.isr',
  'confluent.support.metrics.enable',
  'confluent.license.topic.replication.factor',
]);

/** Prefixes of Kafka broker keys kbroker accepts but does not use (per-listener overrides, JMX, metrics reporters). */
export const KAFKA_CONFIG_PREFIXES_NOT_USED: readonly string[] = [
  'listener.name.',
  'metric.reporters',
  'metrics.',
];

export function isKafkaConfigNotUsed(name: string): boolean {
  return KAFKA_CONFIGS_NOT_USED.has(name) || KAFKA_CONFIG_PREFIXES_NOT_USED.some((p) => name.startsWith(p));
}
