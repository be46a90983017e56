/**
 * The broker's metrics in Prometheus' text format, named and labelled as Kafka's JMX metrics read
 * through the Prometheus JMX exporter (and, for consumer lag, as kafka_exporter names them), so
 * existing dashboards and alerts apply:
 *
 * | Kafka MBean (or exporter)                                             | series here |
 * |-----------------------------------------------------------------------|-------------|
 * | kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec[,topic=T]     | kafka_server_brokertopicmetrics_bytesin_total{topic} |
 * | kafka.server:type=BrokerTopicMetrics,name=BytesOutPerSec[,topic=T]    | kafka_server_brokertopicmetrics_bytesout_total{topic} |
 * | kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec[,topic=T]  | kafka_server_brokertopicmetrics_messagesin_total{topic} |
 * | (none: kbroker's own; Kafka has no messages-out meter)               | kbroker_server_brokertopicmetrics_messagesout_total{topic} |
 * | kafka.network:type=RequestMetrics,name=RequestsPerSec,request,version | kafka_network_requestmetrics_requests_total{request,version} |
 * | kafka.network:type=RequestMetrics,name=TotalTimeMs,request            | kafka_network_requestmetrics_totaltimems{request} (histogram, ms) |
 * | kafka.network:type=RequestMetrics,name=ErrorsPerSec,request,error     | kafka_network_requestmetrics_errors_total{request,error} |
 * | kafka.server:type=socket-server-metrics,listener,name=connection-count | kafka_server_socket_server_metrics_connection_count{listener} |
 * | kafka.server:type=socket-server-metrics,name=failed-authentication-total | kafka_server_socket_server_metrics_failed_authentication_total |
 * | kafka.server:type=socket-server-metrics,name=successful-authentication-total | kafka_server_socket_server_metrics_successful_authentication_total |
 * | kafka.server:type=socket-server-metrics,name=successful-authentication-no-reauth-total | kafka_server_socket_server_metrics_successful_authentication_no_reauth_total |
 * | kafka.server:type=socket-server-metrics,name=successful-/failed-reauthentication-total | kafka_server_socket_server_metrics_successful_reauthentication_total, …_failed_reauthentication_total |
 * | kafka.log:type=Log,name=Size / LogEndOffset / LogStartOffset / NumLogSegments | kafka_log_log_size{topic,partition}, …_logendoffset, …_logstartoffset, …_numlogsegments |
 * | kafka.cluster:type=Partition,name=UnderReplicated,topic,partition     | kafka_cluster_partition_underreplicated{topic,partition} |
 * | kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions / PartitionCount / LeaderCount | kafka_server_replicamanager_underreplicatedpartitions, …_partitioncount, …_leadercount |
 * | kafka.controller:type=KafkaController,name=ActiveControllerCount / OfflinePartitionsCount | kafka_controller_kafkacontroller_activecontrollercount, …_offlinepartitionscount |
 * | kafka.server:type=FetchSessionCache,name=NumIncrementalFetchSessions / NumIncrementalFetchPartitionsCached / IncrementalFetchSessionEvictionsPerSec | kafka_server_fetchsessioncache_numincrementalfetchsessions, …_numincrementalfetchpartitionscached, …_incrementalfetchsessionevictions_total |
 * | (none: kbroker's own)                                                 | kbroker_server_fetchsessioncache_incrementalfetches_total |
 * | kafka_exporter: kafka_consumergroup_lag / _current_offset / _members  | same names, {consumergroup,topic,partition} |
 * | kafka.server:type=Produce / Fetch,user,client-id byte-rate / throttle-time (client quotas) | kafka_server_produce_byte_rate{user,client_id}, …_throttle_time; kafka_server_fetch_… |
 * | kafka.server:type=Request,user,client-id request-time / throttle-time; type=Request exempt-request-time | kafka_server_request_request_time{user,client_id}, …_throttle_time; kafka_server_request_exempt_request_time |
 * | kafka.server:type=ControllerMutation,user,client-id tokens / mutation-rate / throttle-time | kafka_server_controllermutation_tokens{user,client_id}, …_mutation_rate, …_throttle_time |
 * | kafka.server:type=socket-server-metrics,listener connection-accept-throttle-time / ip-connection-accept-throttle-time / connection-accept-rate; broker-connection-accept-rate; ip connection-creation-rate | kafka_server_socket_server_metrics_connection_accept_throttle_time{listener}, …_ip_connection_accept_throttle_time{listener}, …_connection_accept_rate{listener}, …_broker_connection_accept_rate, …_connection_creation_rate{ip} |
 * | kafka.log:type=LogCleaner,name=max-buffer-utilization-percent / cleaner-recopy-percent / max-clean-time-secs / max-compaction-delay-secs / DeadThreadCount | kafka_log_logcleaner_max_buffer_utilization_percent, …_cleaner_recopy_percent, …_max_clean_time_secs, …_max_compaction_delay_secs, …_deadthreadcount |
 * | kafka.log:type=LogCleanerManager,name=max-dirty-percent / time-since-last-run-ms | kafka_log_logcleanermanager_max_dirty_percent, …_time_since_last_run_ms |
 * | (none: kbroker's own; Kafka logs them per round)                      | kbroker_log_logcleaner_bytes_read_total, …_bytes_written_total |
 * | (none: kbroker's own) where the segment writes run                    | kbroker_log_segment_writes_on_thread, kbroker_log_segment_write_mode_switches_total |
 * | Node.js process (prom-client defaults; under --threads on broker 1 only) | process_* |
 * | Node.js thread (prom-client defaults: this thread's heap, GC, event loop) | nodejs_* |
 * | (none: kbroker's own) this broker thread's CPU time                   | kbroker_thread_cpu_seconds_total |
 *
 * Series without a `topic` label are Kafka's all-topics totals. Every value is read when scraped,
 * from `broker.metrics` (counters kept on the hot path without prom-client) and broker state.
 */
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricType,
  type MetricValueWithName,
  Registry,
} from 'prom-client';
import { statCpuSeconds } from '../common/proc-stat.js';
import { NO_LEADER } from '../metadata/partition-change.js';
import type { MutationQuotaMetric } from '../quota/controller-mutation-quota.js';
import type { Broker } from '../server/broker.js';
import type { ConnectionRateMetrics } from '../server/connection-quotas.js';
import { LATENCY_BUCKETS_MS, type Metrics } from '../server/metrics.js';
import { groupsWithLag } from './groups.js';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * Which Node runtime metrics a scrape carries besides the broker's own: 'all' — prom-client's
 * defaults, process_* (the whole process: CPU, RSS, file descriptors) and nodejs_* (this thread's
 * heap, GC and event loop), plus this thread's CPU time; 'thread' — the same without process_*, for
 * every broker thread of `kbroker start --threads N` but the first, so that summing the brokers'
 * series does not count the one process N times; 'none'.
 */
export type RuntimeMetrics = 'all' | 'thread' | 'none';

/** Per thread (each worker has its own copy of this module), built on first use. */
const runtimeRegistries = new Map<'all' | 'thread', Registry>();

function runtimeMetrics(which: 'all' | 'thread'): Registry {
  let registry = runtimeRegistries.get(which);
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
    if (which === 'thread') {
      for (const m of registry.getMetricsAsArray()) {
        if (m.name.startsWith('process_')) registry.removeSingleMetric(m.name);
      }
    }
    const cpu = threadCpuSeconds();
    if (cpu !== undefined) {
      mirroredCounter(
        registry,
        'kbroker_thread_cpu_seconds_total',
        "CPU time (user + system) of this broker's thread: its event loop, where connections, request handling and the storage work done on the loop run (Linux: /proc/thread-self/stat). Under --threads one per broker thread; process_cpu_seconds_total is the whole process.",
        [],
        function* () {
          yield [{}, threadCpuSeconds() ?? 0];
        },
      );
    }
    runtimeRegistries.set(which, registry);
  }
  return registry;
}

/** The calling thread's user + system CPU seconds, undefined where /proc/thread-self is missing (not Linux). */
export function threadCpuSeconds(): number | undefined {
  try {
    return statCpuSeconds('/proc/thread-self/stat');
  } catch {
    return undefined;
  }
}

type RequestLabel = 'request' | 'le';

/** prom-client declares MetricType as an enum but exports no runtime value for it. */
const HISTOGRAM = 'histogram' as unknown as MetricType;

const TOTAL_TIME_HELP =
  'Time from a request being read to its response being ready, in milliseconds (TotalTimeMs).';

/**
 * TotalTimeMs as a Prometheus histogram built from the bucket counts `Metrics` keeps, so that
 * nothing is observed twice. prom-client formats a histogram from `getForPromString()`.
 */
class RequestTimeHistogram extends Histogram<RequestLabel> {
  constructor(
    private readonly metrics: Metrics,
    registers: Registry[],
  ) {
    super({
      name: 'kafka_network_requestmetrics_totaltimems',
      help: TOTAL_TIME_HELP,
      labelNames: ['request'],
      buckets: [...LATENCY_BUCKETS_MS],
      registers,
    });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<RequestLabel>>> {
    return this.getForPromString();
  }

  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<RequestLabel>>> {
    const name = 'kafka_network_requestmetrics_totaltimems';
    const values: MetricValueWithName<RequestLabel>[] = [];
    for (const [request, s] of this.metrics.requests) {
      let cumulative = 0;
      LATENCY_BUCKETS_MS.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { request, le }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { request, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${name}_sum`, labels: { request }, value: s.totalMs });
      values.push({ metricName: `${name}_count`, labels: { request }, value: s.count });
    }
    return {
      name,
      help: TOTAL_TIME_HELP,
      type: HISTOGRAM,
      aggregator: 'sum',
      values,
      collect: () => {},
    };
  }
}

/** A counter whose values are copied from `read()` at each scrape. */
function mirroredCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string | number>>, number]>,
): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) {
        if (value > 0) this.inc(labels, value);
      }
    },
  });
}

function mirroredGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string | number>>, number]>,
): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

function* perTopic(map: Map<string, number>, total: number): Iterable<[{ topic?: string }, number]> {
  yield [{}, total];
  for (const [topic, v] of map) yield [{ topic }, v];
}

function buildRegistry(broker: Broker): Registry {
  const registry = new Registry();
  const m = broker.metrics;
  mirroredCounter(
    registry,
    'kafka_server_brokertopicmetrics_bytesin_total',
    'Bytes of record batches appended from clients (BytesInPerSec); without topic: all topics.',
    ['topic'],
    () => perTopic(m.bytesIn, m.totals.bytesIn),
  );
  mirroredCounter(
    registry,
    'kafka_server_brokertopicmetrics_bytesout_total',
    'Bytes of record batches sent to consumers (BytesOutPerSec); without topic: all topics.',
    ['topic'],
    () => perTopic(m.bytesOut, m.totals.bytesOut),
  );
  mirroredCounter(
    registry,
    'kafka_server_brokertopicmetrics_messagesin_total',
    'Records appended from clients (MessagesInPerSec); without topic: all topics.',
    ['topic'],
    () => perTopic(m.messagesIn, m.totals.messagesIn),
  );
  mirroredCounter(
    registry,
    'kbroker_server_brokertopicmetrics_messagesout_total',
    "Records sent to consumers, counted from the headers of the batches fetches return (kbroker's own: Kafka has no messages-out meter); without topic: all topics.",
    ['topic'],
    () => perTopic(m.messagesOut, m.totals.messagesOut),
  );
  mirroredCounter(
    registry,
    'kafka_network_requestmetrics_requests_total',
    'Requests served, by API and version (RequestsPerSec).',
    ['request', 'version'],
    function* () {
      for (const [request, s] of m.requests) {
        for (const [version, n] of s.versions) yield [{ request, version }, n];
      }
    },
  );
  mirroredCounter(
    registry,
    'kafka_network_requestmetrics_errors_total',
    'Error codes in responses by API and error name, NONE included (ErrorsPerSec).',
    ['request', 'error'],
    function* () {
      for (const [request, byError] of m.errors) {
        for (const [error, n] of byError) yield [{ request, error }, n];
      }
    },
  );
  new RequestTimeHistogram(m, [registry]);
  const listener = broker.config.listeners[0]?.name ?? 'PLAINTEXT';
  mirroredGauge(
    registry,
    'kafka_server_socket_server_metrics_connection_count',
    'Open client connections (connection-count).',
    ['listener'],
    () => [[{ listener }, m.connections]],
  );
  // Kafka's socket-server-metrics authentication counters (Selector's sensors), one series each.
  const authentication: [string, string, () => number][] = [
    [
      'failed_authentication_total',
      'Failed TLS handshakes and SASL authentications (failed-authentication-total).',
      () => m.failedAuthentications,
    ],
    [
      'successful_authentication_total',
      'Completed TLS handshakes (SSL listeners) and SASL authentications (successful-authentication-total).',
      () => m.successfulAuthentications,
    ],
    [
      'successful_authentication_no_reauth_total',
      'Of those, the ones by clients that cannot re-authenticate: TLS, and SASL without SaslAuthenticate v1+ (successful-authentication-no-reauth-total).',
      () => m.successfulAuthenticationsNoReauth,
    ],
    [
      'successful_reauthentication_total',
      'KIP-368 SASL re-authentications that succeeded (successful-reauthentication-total).',
      () => m.successfulReauthentications,
    ],
    [
      'failed_reauthentication_total',
      'KIP-368 SASL re-authentications that failed (failed-reauthentication-total).',
      () => m.failedReauthentications,
    ],
  ];
  for (const [name, help, read] of authentication)
    mirroredCounter(registry, `kafka_server_socket_server_metrics_${name}`, help, [], () => [[{}, read()]]);

  const partitions = () => broker.replicaManager.allPartitions().map((p) => ({ topic: p.topic, p }));
  const perPartition = (
    name: string,
    help: string,
    read: (p: ReturnType<typeof partitions>[number]['p']) => number,
  ) =>
    mirroredGauge(registry, name, help, ['topic', 'partition'], function* () {
      for (const { topic, p } of partitions()) yield [{ topic, partition: p.partition }, read(p)];
    });
  perPartition('kafka_log_log_size', 'Bytes of the partition log on disk (Log Size).', (p) => p.log.size);
  perPartition('kafka_log_log_logendoffset', 'Log end offset of the partition.', (p) => p.logEndOffset);
  perPartition('kafka_log_log_logstartoffset', 'Log start offset of the partition.', (p) => p.logStartOffset);
  perPartition(
    'kafka_log_log_numlogsegments',
    'Segments of the partition log.',
    (p) => p.log.numberOfSegments,
  );
  perPartition(
    'kafka_cluster_partition_underreplicated',
    '1 when the partition has fewer in-sync replicas than replicas.',
    (p) => (p.isr.length < p.replicas.length ? 1 : 0),
  );
  const nodeId = broker.nodeId;
  const brokerGauge = (name: string, help: string, read: () => number) =>
    mirroredGauge(registry, name, help, [], () => [[{}, read()]]);
  brokerGauge(
    'kafka_server_replicamanager_underreplicatedpartitions',
    'Partitions led here with fewer in-sync replicas than replicas (0 on a single node).',
    () => partitions().filter(({ p }) => p.isr.length < p.replicas.length).length,
  );
  brokerGauge(
    'kafka_server_replicamanager_partitioncount',
    'Partitions on this broker.',
    () => partitions().length,
  );
  brokerGauge(
    'kafka_server_replicamanager_leadercount',
    'Partitions this broker leads.',
    () => partitions().filter(({ p }) => p.leaderId === nodeId).length,
  );
  const isController = () => broker.metadata.controllerId === nodeId;
  brokerGauge(
    'kafka_controller_kafkacontroller_activecontrollercount',
    '1 on the active controller, 0 on the other brokers.',
    () => (isController() ? 1 : 0),
  );
  brokerGauge(
    'kafka_controller_kafkacontroller_offlinepartitionscount',
    'Partitions without a leader (reported by the active controller, 0 elsewhere, as Kafka).',
    () =>
      isController()
        ? broker.metadata
            .topics()
            .reduce((n, t) => n + t.partitions.filter((p) => p.leader === NO_LEADER).length, 0)
        : 0,
  );

  // Incremental fetch sessions (KIP-227): Kafka's kafka.server:type=FetchSessionCache gauges.
  const sessions = broker.services.fetchSessions;
  brokerGauge(
    'kafka_server_fetchsessioncache_numincrementalfetchsessions',
    'Incremental fetch sessions in the cache (NumIncrementalFetchSessions).',
    () => sessions.size,
  );
  brokerGauge(
    'kafka_server_fetchsessioncache_numincrementalfetchpartitionscached',
    'Partitions held by the cached fetch sessions (NumIncrementalFetchPartitionsCached).',
    () => sessions.totalPartitions,
  );
  mirroredCounter(
    registry,
    'kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total',
    'Sessions evicted to make room for new ones (IncrementalFetchSessionEvictionsPerSec).',
    [],
    () => [[{}, sessions.evictions]],
  );
  mirroredCounter(
    registry,
    'kbroker_server_fetchsessioncache_incrementalfetches_total',
    'Fetch requests answered as incremental fetches of a cached session (kbroker own: Kafka has no such meter).',
    [],
    () => [[{}, sessions.incrementalFetches]],
  );

  // Client quotas: Kafka's per-client quota sensors (kafka.server:type=Produce / Fetch / Request /
  // ControllerMutation, user, client-id); sensors idle for an hour are gone, as in Kafka.
  const perClient = <M extends { user: string; clientId: string }>(
    name: string,
    help: string,
    metrics: () => M[],
    read: (m: M) => number,
  ) =>
    mirroredGauge(registry, name, help, ['user', 'client_id'], () =>
      metrics().map((m) => [{ user: m.user, client_id: m.clientId }, read(m)]),
    );
  for (const [type, manager] of [
    ['produce', broker.quotas.produce],
    ['fetch', broker.quotas.fetch],
  ] as const) {
    const Type = type === 'produce' ? 'Produce' : 'Fetch';
    const metrics = () => manager.metrics();
    perClient(
      `kafka_server_${type}_byte_rate`,
      `Bytes per second of a client under a ${type} quota (kafka.server:type=${Type} byte-rate).`,
      metrics,
      (m) => m.rate,
    );
    perClient(
      `kafka_server_${type}_throttle_time`,
      `Average throttle time in ms of a client's throttled ${type} requests (kafka.server:type=${Type} throttle-time).`,
      metrics,
      (m) => m.throttleTimeAvgMs,
    );
  }

  // request_percentage: Kafka's kafka.server:type=Request sensors, in percent of a thread.
  const requests = () => broker.quotas.request.metrics();
  perClient(
    'kafka_server_request_request_time',
    "Percent of a thread a client's requests take on the broker, under a request quota (kafka.server:type=Request request-time).",
    requests,
    (m) => m.rate,
  );
  perClient(
    'kafka_server_request_throttle_time',
    "Average throttle time in ms of a client's requests throttled by a request quota (kafka.server:type=Request throttle-time).",
    requests,
    (m) => m.throttleTimeAvgMs,
  );
  brokerGauge(
    'kafka_server_request_exempt_request_time',
    'Percent of a thread taken by requests no request quota applies to, while request quotas are set (kafka.server:type=Request exempt-request-time).',
    () => broker.quotas.exemptRequestTime(),
  );

  // controller_mutation_rate (KIP-599): Kafka's kafka.server:type=ControllerMutation sensors.
  const mutationQuotas = broker.services.controllerMutationQuotas;
  const mutations = (): MutationQuotaMetric[] => mutationQuotas?.metrics() ?? [];
  perClient(
    'kafka_server_controllermutation_tokens',
    "Tokens left in a client's bucket of partition mutations, below zero while it is throttled (tokens).",
    mutations,
    (m) => m.tokens,
  );
  perClient(
    'kafka_server_controllermutation_mutation_rate',
    'Partitions a client created or deleted per second (mutation-rate).',
    mutations,
    (m) => m.mutationRate,
  );
  perClient(
    'kafka_server_controllermutation_throttle_time',
    "Average throttle time in ms of a client's requests throttled by its mutation quota (throttle-time).",
    mutations,
    (m) => m.throttleTimeAvgMs,
  );

  // Connection creation rates (KIP-612): Kafka's socket-server-metrics of the acceptors.
  const connectionRates = () => broker.connectionQuotas.metrics();
  const perListener = (name: string, help: string, read: (c: ConnectionRateMetrics) => [string, number][]) =>
    mirroredGauge(registry, name, help, ['listener'], () =>
      read(connectionRates()).map(([l, v]) => [{ listener: l }, v]),
    );
  perListener(
    'kafka_server_socket_server_metrics_connection_accept_throttle_time',
    'Average time in ms new connections waited for max.connection.creation.rate, of those that waited (connection-accept-throttle-time).',
    (c) => c.acceptThrottleMs,
  );
  perListener(
    'kafka_server_socket_server_metrics_ip_connection_accept_throttle_time',
    "Average time in ms connections over their address's connection_creation_rate were held before being closed (ip-connection-accept-throttle-time).",
    (c) => c.ipAcceptThrottleMs,
  );
  perListener(
    'kafka_server_socket_server_metrics_connection_accept_rate',
    'Connections a second taken by a listener that has a max.connection.creation.rate (connection-accept-rate).',
    (c) => c.listenerAcceptRate,
  );
  mirroredGauge(
    registry,
    'kafka_server_socket_server_metrics_broker_connection_accept_rate',
    'Connections a second taken by the broker when it has a max.connection.creation.rate (broker-connection-accept-rate).',
    [],
    () => {
      const rate = connectionRates().brokerAcceptRate;
      return rate === null ? [] : [[{}, rate]];
    },
  );
  mirroredGauge(
    registry,
    'kafka_server_socket_server_metrics_connection_creation_rate',
    'Connections a second opened by an address under a connection_creation_rate quota (connection-creation-rate).',
    ['ip'],
    () => connectionRates().ipCreationRate.map(([ip, v]) => [{ ip }, v]),
  );

  // Compaction: Kafka's kafka.log:type=LogCleaner and type=LogCleanerManager gauges.
  const cleaner = broker.logCleaner;
  brokerGauge(
    'kafka_log_logcleaner_max_buffer_utilization_percent',
    'Highest share of its dedupe buffer a cleaner thread used in its last round (max-buffer-utilization-percent).',
    () => cleaner.maxBufferUtilizationPercent,
  );
  brokerGauge(
    'kafka_log_logcleaner_cleaner_recopy_percent',
    'Bytes written over bytes read by the last rounds, in percent (cleaner-recopy-percent).',
    () => cleaner.cleanerRecopyPercent,
  );
  brokerGauge(
    'kafka_log_logcleaner_max_clean_time_secs',
    'Longest last round of a cleaner thread, in seconds (max-clean-time-secs).',
    () => cleaner.maxCleanTimeSecs,
  );
  brokerGauge(
    'kafka_log_logcleaner_max_compaction_delay_secs',
    'How far past max.compaction.lag.ms the most overdue log is, in seconds (max-compaction-delay-secs).',
    () => Math.trunc(cleaner.maxCompactionDelayMs / 1000),
  );
  brokerGauge(
    'kafka_log_logcleaner_deadthreadcount',
    'Cleaner threads that died (DeadThreadCount).',
    () => cleaner.deadThreadCount,
  );
  brokerGauge(
    'kafka_log_logcleanermanager_max_dirty_percent',
    'Dirty share of the dirtiest compacted log, in percent (max-dirty-percent).',
    () => Math.trunc(cleaner.dirtiestLogCleanableRatio * 100),
  );
  brokerGauge(
    'kafka_log_logcleanermanager_time_since_last_run_ms',
    'Time since a cleaner thread last looked for a log to clean (time-since-last-run-ms).',
    () => (cleaner.timeOfLastRun === 0 ? 0 : Math.max(0, broker.time.now() - cleaner.timeOfLastRun)),
  );
  brokerGauge(
    'kbroker_log_logcleaner_bytes_read_total',
    'Bytes the cleaner read in finished rounds since start (kbroker; Kafka logs these per round).',
    () => cleaner.bytesCleaned,
  );
  brokerGauge(
    'kbroker_log_logcleaner_bytes_written_total',
    'Bytes the cleaner wrote in finished rounds since start (kbroker).',
    () => cleaner.bytesWritten,
  );

  // Log directories: Kafka's kafka.log:type=LogManager gauges, and which directory is full (kbroker's own).
  const logDirs = () => broker.replicaManager.logDirStates();
  brokerGauge(
    'kafka_log_logmanager_offlinelogdirectorycount',
    'Log directories taken offline by a failed disk (OfflineLogDirectoryCount).',
    () => logDirs().filter((d) => d.offline).length,
  );
  mirroredGauge(
    registry,
    'kafka_log_logmanager_logdirectoryoffline',
    '1 when the log directory is offline (LogDirectoryOffline).',
    ['logdirectory'],
    () => logDirs().map((d) => [{ logdirectory: d.dir }, d.offline ? 1 : 0]),
  );
  mirroredGauge(
    registry,
    'kbroker_log_logmanager_logdirectoryfull',
    '1 while writes to the log directory fail for lack of space (ENOSPC), until one succeeds (kbroker).',
    ['logdirectory'],
    () => logDirs().map((d) => [{ logdirectory: d.dir }, d.full ? 1 : 0]),
  );
  // Where the segment writes run (log.segment.write.thread.enable / .auto.enable; kbroker's own).
  const writer = broker.segmentWriter;
  brokerGauge(
    'kbroker_log_segment_writes_on_thread',
    '1 while appends reach their segment files from the writer thread, 0 while the event loop writes them (kbroker).',
    () => (writer?.writingOnThread ? 1 : 0),
  );
  brokerGauge(
    'kbroker_log_segment_write_mode_switches_total',
    'Times auto mode moved the segment writes between the event loop and the writer thread (kbroker).',
    () => writer?.modeSwitches ?? 0,
  );
  brokerGauge(
    'kafka_server_replicamanager_offlinereplicacount',
    'Partitions hosted here whose log directory is offline (OfflineReplicaCount).',
    () => partitions().filter(({ p }) => p.log.dirState?.offline).length,
  );

  // kafka_exporter's consumer group series.
  const lagged = () => groupsWithLag(broker);
  mirroredGauge(
    registry,
    'kafka_consumergroup_lag',
    'High watermark minus the committed offset, per group and partition.',
    ['consumergroup', 'topic', 'partition'],
    function* () {
      for (const g of lagged()) {
        for (const l of g.lag)
          yield [{ consumergroup: g.groupId, topic: l.topic, partition: l.partition }, l.lag];
      }
    },
  );
  mirroredGauge(
    registry,
    'kafka_consumergroup_current_offset',
    'Committed offset per group and partition.',
    ['consumergroup', 'topic', 'partition'],
    function* () {
      for (const g of lagged()) {
        for (const l of g.lag) {
          yield [{ consumergroup: g.groupId, topic: l.topic, partition: l.partition }, l.committedOffset];
        }
      }
    },
  );
  mirroredGauge(
    registry,
    'kafka_consumergroup_members',
    'Members of each consumer group.',
    ['consumergroup'],
    function* () {
      for (const g of lagged()) yield [{ consumergroup: g.groupId }, g.members.length];
    },
  );
  return registry;
}

const registries = new WeakMap<Broker, Registry>();

/** The broker's own registry (built on first use); process metrics are not in it. */
export function brokerRegistry(broker: Broker): Registry {
  let r = registries.get(broker);
  if (!r) {
    r = buildRegistry(broker);
    registries.set(broker, r);
  }
  return r;
}

/** The broker's metrics plus (unless `runtime` is 'none') the Node runtime metrics, in Prometheus text format. */
export async function scrape(broker: Broker, options: { runtime?: RuntimeMetrics } = {}): Promise<string> {
  const own = await brokerRegistry(broker).metrics();
  const runtime = options.runtime ?? 'all';
  if (runtime === 'none') return own;
  return `${own}\n${await runtimeMetrics(runtime).metrics()}`;
}
