/**
 * Handler unit tests without TCP or disk: a RequestContext built from partial fakes of the
 * narrow services (src/handlers/handler.ts), fake topics and partitions for the metadata view, and
 * `callHandler`, which runs a handler the way server/connection.ts does — by default with the
 * request and the response round-tripped through the real codec at the requested version, so a
 * test sees exactly the fields a client of that version sends and receives.
 *
 * Anything a test did not provide throws when touched (`ctx.groups not provided in this test`,
 * `groups.joinGroup not provided in this test`), so a handler reaching for a service the test
 * did not expect fails loudly instead of reading `undefined`.
 */

import type { Logger } from '../common/logger.js';
import { BrokerConfig } from '../config/broker-config.js';
import type { ApiHandler, BrokerServices, RequestContext } from '../handlers/handler.js';
import { LocalController } from '../metadata/controller.js';
import { MetadataImage, type TopicImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import { codecFor, Reader, Writer } from '../protocol/codec.js';
import { Partition } from '../replication/partition.js';
import { ANONYMOUS, allowAll, type KafkaPrincipal } from '../security/authorizer.js';
import type { Log } from '../storage/log.js';

/** Property names that test frameworks and `await` probe on any object; never "not provided". */
const PROBED = new Set(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType', 'constructor']);

/**
 * `partial` seen as a whole `T`: members it has are used as given, any other member throws
 * "`name`.member not provided in this test". The one cast from Partial<T> to T in the fakes
 * lives here — the proxy is what makes it honest, since every member the cast claims either
 * exists or throws when read.
 */
export function stub<T extends object>(name: string, partial: Partial<T> = {}): T {
  return new Proxy(partial, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || prop in target || PROBED.has(prop)) {
        return Reflect.get(target, prop, receiver);
      }
      throw new Error(`${name}.${prop} not provided in this test`);
    },
  }) as T;
}

type ServiceName = Exclude<keyof BrokerServices, 'apiVersions'>;

/** Partial fakes of the services a test expects the handler to use. */
export type FakeServices = { [K in ServiceName]?: Partial<BrokerServices[K]> } & {
  apiVersions?: BrokerServices['apiVersions'];
};

/** The per-request part of the context; defaults as a PLAINTEXT connection from 127.0.0.1. */
export interface FakeRequest {
  apiVersion?: number;
  principal?: KafkaPrincipal;
  listenerName?: string;
  correlationId?: number;
  clientId?: string | null;
  remote?: string;
  signal?: AbortSignal;
}

export type FakeContextOptions = FakeServices & FakeRequest;

const SERVICES: readonly (keyof BrokerServices)[] = [
  'metadata',
  'controller',
  'replicas',
  'fetchSessions',
  'shares',
  'shareCoordinator',
  'groups',
  'transactions',
  'configs',
  'authorizer',
  'securityStore',
  'time',
  'log',
  'apiVersions',
];

/**
 * A RequestContext for one handler call. Services the options provide are wrapped by `stub`
 * (a missing member throws); services they do not provide throw as soon as the handler reads
 * them.
 */
export function fakeContext(options: FakeContextOptions = {}): RequestContext {
  const values: Record<string, unknown> = {
    principal: options.principal ?? ANONYMOUS,
    listenerName: options.listenerName ?? 'PLAINTEXT',
    apiVersion: options.apiVersion ?? 0,
    correlationId: options.correlationId ?? 1,
    clientId: options.clientId === undefined ? 'test-client' : options.clientId,
    remote: options.remote ?? '127.0.0.1:50000',
    signal: options.signal ?? new AbortController().signal,
    // No authorizer configured, as a broker by default: every handler passes the hook.
    authorizer: allowAll,
    // Optional members a handler reads: absent as on a broker with no quota and a plain connection.
    controllerMutationQuotas: undefined,
    throttle: undefined,
  };
  for (const name of SERVICES) {
    const given = options[name];
    if (given === undefined) continue;
    values[name] = typeof given === 'function' ? given : stub<object>(name, given);
  }
  return new Proxy(values, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || prop in target || PROBED.has(prop)) {
        return Reflect.get(target, prop, receiver);
      }
      throw new Error(`ctx.${prop} not provided in this test`);
    },
  }) as unknown as RequestContext;
}

export interface CallOptions {
  /**
   * Encode the request and decode it at the context's version before the handler sees it, and
   * the same for the response (default true). `false` hands the handler's raw objects through.
   */
  roundTrip?: boolean;
}

function roundTrip<T>(spec: ApiHandler['request'], version: number, value: T): T {
  const codec = codecFor<T>(spec, version);
  const w = new Writer(256);
  codec.write(w, value);
  const buf = w.toBuffer();
  const r = new Reader(buf);
  const out = codec.read(r);
  if (r.remaining !== 0)
    throw new Error(`${spec.name} v${version}: ${r.remaining} bytes left after decoding`);
  return out;
}

/**
 * Runs `handler` for `request` as the connection does: the version must be one the handler
 * advertises, the request is decoded at that version, and the response encoded at it. A thrown
 * error propagates (the connection would answer UNKNOWN_SERVER_ERROR), so tests can see it.
 */
export async function callHandler<Req, Res>(
  handler: ApiHandler<Req, Res>,
  ctx: RequestContext,
  request: Req,
  options: CallOptions = {},
): Promise<Res | null> {
  const v = ctx.apiVersion;
  if (v < handler.minVersion || v > handler.maxVersion) {
    throw new Error(`${handler.name} does not advertise v${v} (${handler.minVersion}–${handler.maxVersion})`);
  }
  const wire = options.roundTrip !== false;
  const req = wire ? roundTrip(handler.request, v, request) : request;
  const res = await handler.handle(ctx, req);
  if (res === null || !wire) return res;
  return roundTrip(handler.response, v, res);
}

/** `callHandler` for a handler that always answers (every API but Produce with acks=0). */
export async function call<Req, Res>(
  handler: ApiHandler<Req, Res>,
  ctx: RequestContext,
  request: Req,
  options: CallOptions = {},
): Promise<Res> {
  const res = await callHandler(handler, ctx, request, options);
  if (res === null) throw new Error(`${handler.name} sent no response`);
  return res;
}

/** The parts of a Log a fake partition carries; anything else throws when read. */
export interface FakeLogState {
  logStartOffset?: number;
  logEndOffset?: number;
  /** Defaults to the log end offset (a single-replica ISR has everything replicated). */
  highWatermark?: number;
  lastStableOffset?: number;
  /** Bytes on disk. */
  size?: number;
}

/**
 * A Log with plain offsets and no files. `extra` adds the members a test needs (e.g.
 * `leaderEpochCache`, `producerStateManager`, `deleteRecordsBefore`); they are typed as the real
 * Log's, so a fake cannot drift from the class it stands for.
 */
export function fakeLog(state: FakeLogState = {}, extra: Partial<Log> = {}): Log {
  const leo = state.logEndOffset ?? 0;
  const offsets = {
    logStartOffset: state.logStartOffset ?? 0,
    logEndOffset: leo,
    highWatermark: state.highWatermark ?? leo,
    lastStableOffset: state.lastStableOffset ?? state.highWatermark ?? leo,
  };
  const base: Partial<Log> = {
    get logStartOffset() {
      return offsets.logStartOffset;
    },
    get logEndOffset() {
      return offsets.logEndOffset;
    },
    get highWatermark() {
      return offsets.highWatermark;
    },
    get lastStableOffset() {
      return offsets.lastStableOffset;
    },
    get size() {
      return state.size ?? 0;
    },
    // Partition's constructor moves the high watermark to what the ISR has: keep the given one
    // unless it lies beyond the log end.
    updateHighWatermark(offset: number) {
      offsets.highWatermark = Math.min(offsets.highWatermark, offset);
    },
  };
  Object.defineProperties(base, Object.getOwnPropertyDescriptors(extra));
  return stub<Log>('log', base);
}

export interface FakePartitionOptions {
  leaderId?: number;
  leaderEpoch?: number;
  replicas?: number[];
  isr?: number[];
  log?: Log;
}

/** A real Partition over a fake Log (the leader defaults to node 1, the ISR to the leader). */
export function fakePartition(topic: string, partition: number, o: FakePartitionOptions = {}): Partition {
  const leaderId = o.leaderId ?? 1;
  const replicas = o.replicas ?? [leaderId];
  return new Partition(
    topic,
    partition,
    o.log ?? fakeLog(),
    leaderId,
    o.leaderEpoch ?? 0,
    replicas,
    o.isr ?? [...replicas],
  );
}

export interface FakeTopicOptions {
  topicId?: string;
  /** A count (partitions 0..n-1 with default options) or the partitions themselves. */
  partitions?: number | Partition[];
  configs?: Record<string, string>;
  /** The effective configs the replica manager reports (default: the overrides). */
  effectiveConfig?: Record<string, string>;
}

let nextTopicId = 1;

/** A 22-character base64 topic id, unique per call unless given. */
function fakeTopicId(): string {
  const buf = Buffer.alloc(16);
  buf.write('fake', 0); // never the zero UUID, and recognisable in a failure
  buf.writeUInt32BE(nextTopicId++, 12);
  return buf.toString('base64url');
}

/** What the replica manager holds of a fake topic: its Partition objects and effective configs. */
const hosted = new WeakMap<
  TopicImage,
  { partitions: Partition[]; effectiveConfig: Record<string, string> }
>();

/**
 * A topic as the metadata view returns it (its image), built from real Partitions over fake logs;
 * `fakeReplicas` over the same topics serves those Partitions.
 */
export function fakeTopic(name: string, o: FakeTopicOptions = {}): TopicImage {
  const partitions =
    typeof o.partitions === 'object'
      ? o.partitions
      : Array.from({ length: o.partitions ?? 1 }, (_, i) => fakePartition(name, i));
  const topic: TopicImage = {
    name,
    topicId: o.topicId ?? fakeTopicId(),
    partitions: partitions.map((p) => ({
      partitionId: p.partition,
      replicas: [...p.replicas],
      isr: [...p.isr],
      leader: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: 0,
      addingReplicas: [],
      removingReplicas: [],
    })),
    configs: o.configs ?? {},
  };
  hosted.set(topic, { partitions, effectiveConfig: o.effectiveConfig ?? { ...o.configs } });
  return topic;
}

/** A metadata view over fixed topics: one broker (node 1, localhost:9092) unless told. */
export function fakeMetadata(
  topics: readonly TopicImage[],
  o: Partial<BrokerServices['metadata']> = {},
): Partial<BrokerServices['metadata']> {
  return {
    clusterId: 'test-cluster-id',
    nodeId: 1,
    controllerId: 1,
    brokers: () => [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
    registeredBrokerIds: () => [1],
    topics: () => topics,
    topic: (name) => topics.find((t) => t.name === name),
    topicById: (id) => topics.find((t) => t.topicId === id),
    ...o,
  };
}

/** Replica-manager lookups over the same topics' partitions (getPartition, topicConfig). */
export function fakeReplicas(
  topics: readonly TopicImage[],
  o: Partial<BrokerServices['replicas']> = {},
): Partial<BrokerServices['replicas']> {
  const find = (name: string) => {
    const t = topics.find((x) => x.name === name);
    return t && hosted.get(t);
  };
  return {
    getPartition: (topic, partition) => find(topic)?.partitions[partition],
    topicConfig: (name) => find(name)?.effectiveConfig,
    ...o,
  };
}
export interface FakeControllerOptions {
  config?: BrokerConfig;
  /** Registered (unfenced) brokers; default [1]. */
  brokerIds?: number[];
  /** This broker's id; default 1. */
  nodeId?: number;
  /** Dynamic broker configs in the image, by resource name ("" the cluster default). */
  brokerConfigs?: Record<string, Record<string, string>>;
}

/**
 * A real LocalController (the controller's rules are what handler tests check through it) over
 * an image holding `topics` and the registered brokers, writing to memory: `batches` are the
 * changes it made, one array of records per acknowledged change.
 */
export function fakeController(
  topics: readonly TopicImage[],
  o: FakeControllerOptions = {},
): { controller: LocalController; batches: MetadataRecord[][] } {
  const records: MetadataRecord[] = (o.brokerIds ?? [1]).map((brokerId) => ({
    type: 'RegisterBrokerRecord',
    brokerId,
    brokerEpoch: 1,
    rack: null,
    endpoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 'PLAINTEXT' }],
    fenced: false,
  }));
  for (const t of topics) {
    records.push({ type: 'TopicRecord', name: t.name, topicId: t.topicId });
    for (const p of t.partitions) records.push({ type: 'PartitionRecord', topicId: t.topicId, ...p });
    for (const [name, value] of Object.entries(t.configs)) {
      records.push({ type: 'ConfigRecord', resourceType: 'TOPIC', resourceName: t.name, name, value });
    }
  }
  for (const [resourceName, configs] of Object.entries(o.brokerConfigs ?? {})) {
    for (const [name, value] of Object.entries(configs)) {
      records.push({ type: 'ConfigRecord', resourceType: 'BROKER', resourceName, name, value });
    }
  }
  const batches: MetadataRecord[][] = [];
  const controller = new LocalController({
    nodeId: o.nodeId ?? 1,
    config: o.config ?? new BrokerConfig({}),
    image: MetadataImage.EMPTY.apply(records).image,
    log: {
      append: (_offset, written) => batches.push([...written]),
      snapshot: () => {},
      bytesSinceSnapshot: 0,
      close: () => {},
    },
    random: () => 0,
  });
  return { controller, batches };
}

/** A Logger that keeps what it was told, by level. */
export function recordingLog(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (msg: string): void => {
      lines.push({ level, msg });
    };
  return stub<Logger & { lines: typeof lines }>('log', {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  });
}
