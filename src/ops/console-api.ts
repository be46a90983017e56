/**
 * The admin API the web console (src/console, served under /ui) talks to — and the only way it
 * talks to the broker. Reads come from broker state; every change goes through the broker's own
 * Kafka API handler (ops/kafka-call.ts), so validation, error codes and messages are Kafka's:
 *
 *   GET    /api/overview                               cluster, totals and the last minutes of samples
 *   POST   /api/topics                                 CreateTopics {name, partitions?, replicationFactor?, configs?}
 *   DELETE /api/topics/:topic                          DeleteTopics
 *   POST   /api/topics/:topic/partitions               CreatePartitions {count}
 *   GET    /api/topics/:topic/configs                  DescribeConfigs (with documentation)
 *   PATCH  /api/topics/:topic/configs                  IncrementalAlterConfigs {set?: {k: v}, delete?: [k]}
 *   GET    /api/topics/:topic/partitions/:p/records    a page of records (ops/records-view.ts)
 *          ?from=start|end|offset|before|timestamp &offset= &timestamp= &limit= &key= &control=true
 *          (before: the `limit` records just below `offset`, counted exactly across gaps)
 *   GET    /api/topics/:topic/records                  a page of all partitions merged by timestamp
 *          ?from=start|end|timestamp|after|before &cursor=p:offset,… &timestamp= &limit= &key= &control=true
 *   POST   /api/topics/:topic/records                  Produce {partition?, key?, value?, headers?}
 *   POST   /api/groups/:group/reset-offsets            ListOffsets + OffsetCommit {to, timestamp?, offset?, topic?}
 *   DELETE /api/groups/:group                          DeleteGroups
 *   GET    /api/transactions                           ListTransactions + DescribeTransactions + DescribeProducers
 *
 * Bad input is a 4xx with a message naming what was wrong; an error a Kafka API answered is
 * `{error, errorCode}` with Kafka's name and message (404 unknown topic or group, 409 conflict
 * such as NON_EMPTY_GROUP, 400 invalid).
 */
import type { FastifyInstance } from 'fastify';
import { INTERNAL_TOPICS } from '../common/topic-name.js';
import { createPartitionsHandler } from '../handlers/create-partitions.js';
import { createTopicsHandler } from '../handlers/create-topics.js';
import { deleteGroupsHandler } from '../handlers/delete-groups.js';
import { deleteTopicsHandler } from '../handlers/delete-topics.js';
import { describeConfigsHandler } from '../handlers/describe-configs.js';
import { describeProducersHandler } from '../handlers/describe-producers.js';
import { describeTransactionsHandler } from '../handlers/describe-transactions.js';
import { incrementalAlterConfigsHandler } from '../handlers/incremental-alter-configs.js';
import { listOffsetsHandler } from '../handlers/list-offsets.js';
import { listTransactionsHandler } from '../handlers/list-transactions.js';
import { offsetCommitHandler } from '../handlers/offset-commit.js';
import { produceHandler } from '../handlers/produce.js';
import { ZERO_UUID } from '../handlers/topic-admin.js';
import { encodeRecordBatch } from '../protocol/records.js';
import type { Broker } from '../server/broker.js';
import { groupsWithLag } from './groups.js';
import { callKafka, check, KafkaApiError } from './kafka-call.js';
import { partitionForKey } from './murmur2.js';
import {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  type Positions,
  readMergedPage,
  readRecordsPage,
  readRecordsPageBefore,
} from './records-view.js';
import type { Sampler } from './sampler.js';

/** A 4xx the admin API answers with `{error}`. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const RESOURCE_TOPIC = 2;
const CONFIG_SOURCES = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
];
const CONFIG_TYPES = [
  'UNKNOWN',
  'BOOLEAN',
  'STRING',
  'INT',
  'SHORT',
  'LONG',
  'DOUBLE',
  'LIST',
  'CLASS',
  'PASSWORD',
];
/** Largest value or key the console produces (the broker's own limit, max.message.bytes, applies too). */
export const MAX_PRODUCE_BYTES = 1024 * 1024;
const MAX_HEADERS = 64;

// ---- input checks -----------------------------------------------------------------------------

function obj(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest('the request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** An integer from a query string or JSON number, within [min, max]. */
export function intParam(value: unknown, what: string, min: number, max: number): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^-?\d{1,16}$/.test(value.trim())) n = Number(value.trim());
  else throw new BadRequest(`${what} must be an integer, got ${JSON.stringify(value)}`);
  if (!Number.isSafeInteger(n))
    throw new BadRequest(`${what} must be an integer, got ${JSON.stringify(value)}`);
  if (n < min || n > max) throw new BadRequest(`${what} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function optString(value: unknown, what: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new BadRequest(`${what} must be a string or null`);
  return value;
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadRequest(`${what} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new BadRequest(`${what}.${k} must be a string, number or boolean`);
    }
    out[k] = String(v);
  }
  return out;
}

/** Timestamp in ms since the epoch, or an ISO-8601 date. */
function timestampParam(value: unknown, what: string): number {
  if (typeof value === 'string' && !/^-?\d+$/.test(value.trim())) {
    const t = Date.parse(value);
    if (Number.isNaN(t))
      throw new BadRequest(`${what} must be milliseconds since the epoch or an ISO-8601 date`);
    return t;
  }
  return intParam(value, what, 0, 8.64e15);
}

/** The records to keep: `key=` (exact, UTF-8) and `control=true`. */
function recordFilter(q: Record<string, string | undefined>): { includeControl: boolean; key?: Buffer } {
  if (q.control !== undefined && q.control !== 'true' && q.control !== 'false') {
    throw new BadRequest(`control must be true or false, got ${JSON.stringify(q.control)}`);
  }
  if (q.key === undefined) return { includeControl: q.control === 'true' };
  if (q.key.length > 4096) throw new BadRequest('key must be at most 4096 characters');
  return { includeControl: q.control === 'true', key: Buffer.from(q.key, 'utf8') };
}

/** A cursor across partitions, `partition:offset,…` as pages answer it (offsets are clamped to each partition's range). */
function cursorParam(value: string | undefined, partitions: number): Positions {
  if (value === undefined || value === '') {
    throw new BadRequest(
      "cursor is required with from=after or from=before (a page's startCursor or endCursor)",
    );
  }
  if (value.length > 20 * 1024 || !/^\d{1,7}:\d{1,16}(,\d{1,7}:\d{1,16})*$/.test(value)) {
    throw new BadRequest(
      `cursor must be partition:offset pairs separated by commas, got ${JSON.stringify(value.slice(0, 80))}`,
    );
  }
  const out: Positions = new Map();
  for (const pair of value.split(',')) {
    const [p, o] = pair.split(':').map(Number) as [number, number];
    if (p >= partitions) {
      throw new BadRequest(`cursor names partition ${p}, but the topic has ${partitions} partition(s)`);
    }
    if (!Number.isSafeInteger(o)) throw new BadRequest(`cursor offset ${o} is not a safe integer`);
    if (out.has(p)) throw new BadRequest(`cursor names partition ${p} twice`);
    out.set(p, o);
  }
  return out;
}

/** A topic of the metadata with this broker's replicas of its partitions. */
function hostedTopic(broker: Broker, topic: string) {
  const t = broker.metadata.topic(topic);
  if (!t) return undefined;
  const partitions = t.partitions.flatMap((s) => {
    const p = broker.replicaManager.getPartition(t.name, s.partitionId);
    return p ? [p] : [];
  });
  return { name: t.name, partitions };
}

function partitionOf(broker: Broker, topic: string, partition: number) {
  const t = hostedTopic(broker, topic);
  if (!t) throw new KafkaApiError(3, `Topic '${topic}' does not exist.`);
  const p = t.partitions[partition];
  if (!p) {
    throw new KafkaApiError(
      3,
      `Topic '${topic}' has ${t.partitions.length} partition(s); there is no partition ${partition}.`,
    );
  }
  return { t, p };
}

// ---- Kafka API calls --------------------------------------------------------------------------

async function listOffsets(
  broker: Broker,
  topic: string,
  partitions: number[],
  timestamp: number,
): Promise<Map<number, number>> {
  const res = await callKafka(broker, listOffsetsHandler, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      {
        name: topic,
        partitions: partitions.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp })),
      },
    ],
    timeoutMs: 30_000,
  });
  const out = new Map<number, number>();
  for (const p of res.topics[0]?.partitions ?? []) {
    check(p.errorCode);
    out.set(p.partitionIndex, p.offset ?? -1);
  }
  return out;
}

async function describeTopicConfigs(broker: Broker, topic: string) {
  const res = await callKafka(broker, describeConfigsHandler, {
    resources: [{ resourceType: RESOURCE_TOPIC, resourceName: topic, configurationKeys: null }],
    includeSynonyms: false,
    includeDocumentation: true,
  });
  const r = res.results[0]!;
  check(r.errorCode, r.errorMessage);
  return r.configs.map((c) => ({
    name: c.name,
    value: c.value,
    source: CONFIG_SOURCES[c.configSource ?? 0] ?? 'UNKNOWN',
    readOnly: c.readOnly,
    isSensitive: c.isSensitive,
    type: CONFIG_TYPES[c.configType ?? 0] ?? 'UNKNOWN',
    documentation: c.documentation ?? null,
  }));
}

async function resetOffsets(broker: Broker, groupId: string, body: Record<string, unknown>) {
  const to = body.to;
  if (to !== 'earliest' && to !== 'latest' && to !== 'timestamp' && to !== 'offset') {
    throw new BadRequest(`to must be earliest, latest, timestamp or offset, got ${JSON.stringify(to)}`);
  }
  const group = groupsWithLag(broker).find((g) => g.groupId === groupId);
  // kafka-consumer-groups --reset-offsets refuses groups with members (ConsumerGroupCommand).
  if (group && group.state !== 'Empty' && group.state !== 'Dead') {
    throw new BadRequest(
      `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${group.state}.`,
      409,
    );
  }
  const onlyTopic = optString(body.topic, 'topic');
  const byTopic = new Map<string, number[]>();
  if (onlyTopic !== null) {
    const t = broker.metadata.topic(onlyTopic);
    if (!t) throw new KafkaApiError(3, `Topic '${onlyTopic}' does not exist.`);
    byTopic.set(
      onlyTopic,
      t.partitions.map((p) => p.partitionId),
    );
  } else {
    for (const o of group?.offsets ?? []) {
      if (!broker.replicaManager.getPartition(o.topic, o.partition)) continue;
      byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o.partition]);
    }
    if (byTopic.size === 0) {
      throw new BadRequest(`Group '${groupId}' has no committed offsets to reset; name a topic.`);
    }
  }
  const target =
    to === 'timestamp'
      ? timestampParam(body.timestamp, 'timestamp')
      : to === 'offset'
        ? intParam(body.offset, 'offset', 0, Number.MAX_SAFE_INTEGER)
        : 0;
  const topics: { name: string; partitions: { partitionIndex: number; committedOffset: number }[] }[] = [];
  for (const [topic, partitions] of [...byTopic].sort(([a], [b]) => a.localeCompare(b))) {
    partitions.sort((a, b) => a - b);
    const earliest = await listOffsets(broker, topic, partitions, -2);
    const latest = await listOffsets(broker, topic, partitions, -1);
    const at = to === 'timestamp' ? await listOffsets(broker, topic, partitions, target) : undefined;
    topics.push({
      name: topic,
      partitions: partitions.map((p) => {
        const lo = earliest.get(p)!;
        const hi = latest.get(p)!;
        let offset: number;
        if (to === 'earliest') offset = lo;
        else if (to === 'latest') offset = hi;
        else if (to === 'timestamp') offset = at!.get(p)! < 0 ? hi : at!.get(p)!;
        else offset = Math.min(Math.max(target, lo), hi); // as the tool: out of range → the nearest end
        return { partitionIndex: p, committedOffset: offset };
      }),
    });
  }
  const res = await callKafka(broker, offsetCommitHandler, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    // Named by id as well, as a Kafka 4 client at OffsetCommit v10 does.
    topics: topics.map((t) => ({
      name: t.name,
      topicId: broker.metadata.topic(t.name)?.topicId ?? ZERO_UUID,
      partitions: t.partitions.map((p) => ({ ...p, committedLeaderEpoch: -1, committedMetadata: '' })),
    })),
  });
  for (const t of res.topics) for (const p of t.partitions) check(p.errorCode);
  return {
    groupId,
    offsets: topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset })),
    ),
  };
}

async function transactions(broker: Broker) {
  const list = await callKafka(broker, listTransactionsHandler, {
    stateFilters: [],
    producerIdFilters: [],
    durationFilter: -1,
  });
  check(list.errorCode);
  const ids = list.transactionStates.map((t) => t.transactionalId);
  const described = ids.length
    ? (await callKafka(broker, describeTransactionsHandler, { transactionalIds: ids })).transactionStates
    : [];
  const now = broker.time.now();
  const txns = described
    .filter((d) => d.errorCode === 0)
    .map((d) => ({
      transactionalId: d.transactionalId,
      state: d.transactionState,
      producerId: d.producerId,
      producerEpoch: d.producerEpoch,
      timeoutMs: d.transactionTimeoutMs,
      startTimeMs: d.transactionStartTimeMs,
      ageMs: d.transactionStartTimeMs > 0 ? Math.max(0, now - d.transactionStartTimeMs) : null,
      partitions: d.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p }))),
    }))
    .sort((a, b) => a.transactionalId.localeCompare(b.transactionalId));
  const topics = broker.metadata.topics().filter((t) => !INTERNAL_TOPICS.has(t.name));
  const producers = topics.length
    ? await callKafka(broker, describeProducersHandler, {
        topics: topics.map((t) => ({
          name: t.name,
          partitionIndexes: t.partitions.map((p) => p.partitionId),
        })),
      })
    : { topics: [] };
  return {
    transactions: txns,
    producers: producers.topics.flatMap((t) =>
      t.partitions.flatMap((p) =>
        p.activeProducers.map((a) => ({
          topic: t.name,
          partition: p.partitionIndex,
          producerId: a.producerId,
          producerEpoch: a.producerEpoch,
          lastSequence: a.lastSequence,
          lastTimestamp: a.lastTimestamp,
          currentTxnStartOffset: a.currentTxnStartOffset,
        })),
      ),
    ),
  };
}

// ---- routes -----------------------------------------------------------------------------------

export function consoleRoutes(
  app: FastifyInstance,
  broker: () => Broker | undefined,
  sampler: Sampler,
): void {
  const need = (): Broker => {
    const b = broker();
    if (!b) throw new BadRequest('broker is starting', 503);
    return b;
  };
  let roundRobin = 0;

  app.get('/api/overview', async () => {
    const b = need();
    const md = b.metadata;
    const topics = md.topics();
    return {
      clusterId: md.clusterId,
      controllerId: md.controllerId,
      brokers: md.brokers(b.config.listeners[0]!.name),
      topics: topics.filter((t) => !INTERNAL_TOPICS.has(t.name)).length,
      internalTopics: topics.filter((t) => INTERNAL_TOPICS.has(t.name)).length,
      partitions: topics.reduce((n, t) => n + t.partitions.length, 0),
      underReplicatedPartitions: topics.reduce(
        (n, t) => n + t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
        0,
      ),
      now: sampler.current(b),
      sampleIntervalMs: sampler.intervalMs,
      samples: sampler.samples(),
    };
  });

  app.post('/api/topics', async (req, reply) => {
    const b = need();
    const body = obj(req.body);
    if (typeof body.name !== 'string') throw new BadRequest('name must be a string');
    const partitions =
      body.partitions === undefined ? -1 : intParam(body.partitions, 'partitions', -1, 100_000);
    const replicationFactor =
      body.replicationFactor === undefined
        ? -1
        : intParam(body.replicationFactor, 'replicationFactor', -1, 32_767);
    const configs = stringMap(body.configs, 'configs');
    const res = await callKafka(b, createTopicsHandler, {
      topics: [
        {
          name: body.name,
          numPartitions: partitions,
          replicationFactor,
          assignments: [],
          configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
      timeoutMs: 30_000,
      validateOnly: body.validateOnly === true,
    });
    const t = res.topics[0]!;
    check(t.errorCode, t.errorMessage);
    return reply.code(body.validateOnly === true ? 200 : 201).send({
      name: t.name,
      topicId: t.topicId,
      partitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
    });
  });

  app.delete<{ Params: { topic: string } }>('/api/topics/:topic', async (req) => {
    const b = need();
    const res = await callKafka(b, deleteTopicsHandler, {
      topics: [{ name: req.params.topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      timeoutMs: 30_000,
    });
    const r = res.responses[0]!;
    check(r.errorCode, r.errorMessage);
    return { deleted: req.params.topic };
  });

  app.post<{ Params: { topic: string } }>('/api/topics/:topic/partitions', async (req) => {
    const b = need();
    const count = intParam(obj(req.body).count, 'count', 1, 100_000);
    const res = await callKafka(b, createPartitionsHandler, {
      topics: [{ name: req.params.topic, count, assignments: null }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const r = res.results[0]!;
    check(r.errorCode, r.errorMessage);
    return { topic: req.params.topic, partitions: count };
  });

  app.get<{ Params: { topic: string } }>('/api/topics/:topic/configs', async (req) => ({
    topic: req.params.topic,
    configs: await describeTopicConfigs(need(), req.params.topic),
  }));

  app.patch<{ Params: { topic: string } }>('/api/topics/:topic/configs', async (req) => {
    const b = need();
    const body = obj(req.body);
    const set = stringMap(body.set, 'set');
    const del = body.delete ?? [];
    if (!Array.isArray(del) || del.some((k) => typeof k !== 'string')) {
      throw new BadRequest('delete must be an array of config names');
    }
    const configs = [
      ...Object.entries(set).map(([name, value]) => ({ name, configOperation: 0, value })),
      ...(del as string[]).map((name) => ({ name, configOperation: 1, value: null })),
    ];
    if (configs.length === 0) throw new BadRequest('nothing to change: give set and/or delete');
    const res = await callKafka(b, incrementalAlterConfigsHandler, {
      resources: [{ resourceType: RESOURCE_TOPIC, resourceName: req.params.topic, configs }],
      validateOnly: false,
    });
    const r = res.responses[0]!;
    check(r.errorCode, r.errorMessage);
    return { topic: req.params.topic, configs: await describeTopicConfigs(b, req.params.topic) };
  });

  app.get<{ Params: { topic: string; partition: string }; Querystring: Record<string, string | undefined> }>(
    '/api/topics/:topic/partitions/:partition/records',
    async (req) => {
      const b = need();
      const q = req.query;
      const partition = intParam(req.params.partition, 'partition', 0, 1_000_000);
      const limit = q.limit === undefined ? DEFAULT_LIMIT : intParam(q.limit, 'limit', 1, MAX_LIMIT);
      const { p } = partitionOf(b, req.params.topic, partition);
      const lo = p.logStartOffset;
      const hw = p.highWatermark;
      const from = q.from ?? 'start';
      const filter = recordFilter(q);
      const page = { topic: req.params.topic, partition: p, limit, ...filter };
      if (from === 'end') return readRecordsPageBefore({ ...page, before: hw });
      let start: number;
      if (from === 'start') start = lo;
      else if (from === 'offset' || from === 'before') {
        start = intParam(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
        if (start < lo || start > hw) {
          throw new BadRequest(
            `offset ${start} is out of range: partition ${partition} of '${req.params.topic}' holds offsets ${lo} to ${hw - 1} (high watermark ${hw})`,
            416,
          );
        }
        if (from === 'before') return readRecordsPageBefore({ ...page, before: start });
      } else if (from === 'timestamp') {
        const ts = timestampParam(q.timestamp, 'timestamp');
        const found = (await listOffsets(b, req.params.topic, [partition], ts)).get(partition)!;
        start = found < 0 ? hw : Math.max(found, lo);
      } else {
        throw new BadRequest(
          `from must be start, end, offset, before or timestamp, got ${JSON.stringify(from)}`,
        );
      }
      return readRecordsPage({ ...page, startOffset: start });
    },
  );

  app.get<{ Params: { topic: string }; Querystring: Record<string, string | undefined> }>(
    '/api/topics/:topic/records',
    async (req) => {
      const b = need();
      const q = req.query;
      const t = hostedTopic(b, req.params.topic);
      if (!t) throw new KafkaApiError(3, `Topic '${req.params.topic}' does not exist.`);
      const limit = q.limit === undefined ? DEFAULT_LIMIT : intParam(q.limit, 'limit', 1, MAX_LIMIT);
      const from = q.from ?? 'end';
      const page = { topic: t.name, partitions: t.partitions, limit, ...recordFilter(q) };
      if (from === 'start' || from === 'end') {
        return readMergedPage({
          ...page,
          positions: new Map(),
          direction: from === 'start' ? 'forward' : 'backward',
        });
      }
      if (from === 'timestamp') {
        const ts = timestampParam(q.timestamp, 'timestamp');
        const ids = t.partitions.map((p) => p.partition);
        const found = await listOffsets(b, t.name, ids, ts);
        const positions: Positions = new Map();
        for (const p of t.partitions) {
          const o = found.get(p.partition) ?? -1;
          positions.set(p.partition, o < 0 ? p.highWatermark : o);
        }
        return readMergedPage({ ...page, positions, direction: 'forward' });
      }
      if (from === 'after' || from === 'before') {
        const positions = cursorParam(q.cursor, t.partitions.length);
        return readMergedPage({ ...page, positions, direction: from === 'after' ? 'forward' : 'backward' });
      }
      throw new BadRequest(
        from === 'offset'
          ? 'from=offset needs one partition (offsets are per partition): use /api/topics/:topic/partitions/:p/records, or from=after with a cursor'
          : `from must be start, end, timestamp, after or before, got ${JSON.stringify(from)}`,
      );
    },
  );

  app.post<{ Params: { topic: string } }>('/api/topics/:topic/records', async (req, reply) => {
    const b = need();
    const body = obj(req.body);
    const topic = b.metadata.topic(req.params.topic);
    if (!topic) throw new KafkaApiError(3, `Topic '${req.params.topic}' does not exist.`);
    const key = optString(body.key, 'key');
    const value = optString(body.value, 'value');
    const rawHeaders = body.headers ?? [];
    if (!Array.isArray(rawHeaders) || rawHeaders.length > MAX_HEADERS) {
      throw new BadRequest(`headers must be an array of at most ${MAX_HEADERS} {key, value}`);
    }
    const headers = rawHeaders.map((h, i) => {
      const o = obj(h);
      if (typeof o.key !== 'string' || o.key === '')
        throw new BadRequest(`headers[${i}].key must be a non-empty string`);
      return { key: o.key, value: optString(o.value, `headers[${i}].value`) };
    });
    const keyBytes = key === null ? null : Buffer.from(key, 'utf8');
    const valueBytes = value === null ? null : Buffer.from(value, 'utf8');
    if ((keyBytes?.length ?? 0) + (valueBytes?.length ?? 0) > MAX_PRODUCE_BYTES) {
      throw new BadRequest(`key and value must be at most ${MAX_PRODUCE_BYTES} bytes together`, 413);
    }
    const n = topic.partitions.length;
    const partition =
      body.partition !== undefined && body.partition !== null
        ? intParam(body.partition, 'partition', 0, n - 1)
        : keyBytes !== null
          ? partitionForKey(keyBytes, n)
          : roundRobin++ % n;
    const batch = encodeRecordBatch({
      records: [{ key: keyBytes, value: valueBytes, headers, timestamp: b.time.now() }],
    });
    const res = await callKafka(b, produceHandler, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic.name, partitionData: [{ index: partition, records: batch }] }],
    });
    const r = res.responses[0]!.partitionResponses[0]!;
    check(r.errorCode, r.errorMessage ?? r.recordErrors?.[0]?.batchIndexErrorMessage);
    return reply.code(201).send({ topic: topic.name, partition, offset: r.baseOffset });
  });

  app.post<{ Params: { group: string } }>('/api/groups/:group/reset-offsets', async (req) =>
    resetOffsets(need(), req.params.group, obj(req.body)),
  );

  app.delete<{ Params: { group: string } }>('/api/groups/:group', async (req) => {
    const res = await callKafka(need(), deleteGroupsHandler, { groupsNames: [req.params.group] });
    check(res.results[0]!.errorCode);
    return { deleted: req.params.group };
  });

  app.get('/api/transactions', async () => transactions(need()));
}
