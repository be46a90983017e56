/**
 * Faults on demand for users' own tests: make the next N requests of an API (optionally only for
 * one topic, partition or client id) fail with a Kafka error, wait T ms first, or lose their
 * connection before or after the broker acts. Set from the embedding API (`broker.faults`,
 * `startBroker(...).faults`) or the admin HTTP API (`/api/faults`); listed and cleared the same way.
 *
 * - `error`: the request is not acted on. Produce, Fetch and ListOffsets answer the error for
 *   the matching partitions and serve the others as usual; other APIs answer it in their
 *   top-level error code (APIs without one refuse an `error` fault when it is added).
 * - `delayMs`: the request waits that long (real time, whatever clock the broker runs on: it is
 *   the client's latency being shaped), then is served.
 * - `drop: 'before'`: the connection closes without the request being acted on;
 *   `drop: 'after'`: the request is acted on, then the connection closes instead of the answer.
 */
import { ErrorCode, type ErrorName } from '../../protocol/generated/errors.js';
import type { MessageSpec } from '../../protocol/spec.js';
import { ProtocolError } from '../../protocol/wire.js';

export interface FaultSpec {
  /** Kafka's API name (`Produce`, `Metadata`, `JoinGroup`…) or its key. */
  api: string | number;
  /** Only requests naming this topic (Produce, Fetch, ListOffsets). */
  topic?: string;
  /** Only this partition of `topic`. */
  partition?: number;
  /** Only requests from this client id. */
  clientId?: string;
  /** How many matching requests (default 1); `Infinity` (or null over HTTP) until cleared. */
  count?: number | null;
  /** Kafka's error name, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  error?: ErrorName;
  delayMs?: number;
  drop?: 'before' | 'after';
}

export interface InjectedFault {
  readonly id: number;
  readonly api: string;
  readonly apiKey: number;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly clientId: string | undefined;
  readonly error: ErrorName | undefined;
  readonly delayMs: number | undefined;
  readonly drop: 'before' | 'after' | undefined;
  /** Matching requests still to be affected (Infinity: until cleared). */
  remaining: number;
  /** Requests affected so far. */
  hits: number;
}

/** The connection closes because a fault said so (logged as a warning, like a protocol violation). */
export class InjectedDisconnect extends ProtocolError {
  override name = 'InjectedDisconnect';
}

export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

interface ApiInfo {
  apiKey: number;
  name: string;
  response: MessageSpec;
}

/** APIs whose error can be put on single partitions: request and response layout. */
const PARTITIONED: Record<string, { topics: string; topic: string; partitions: string; index: string }> = {
  Produce: { topics: 'topicData', topic: 'name', partitions: 'partitionData', index: 'index' },
  Fetch: { topics: 'topics', topic: 'topic', partitions: 'partitions', index: 'partition' },
  ListOffsets: { topics: 'topics', topic: 'name', partitions: 'partitions', index: 'partitionIndex' },
};

type Obj = Record<string, unknown>;

export class FaultInjector {
  private readonly faults: InjectedFault[] = [];
  private nextId = 1;

  constructor(
    private readonly apis: () => readonly ApiInfo[],
    /** A topic's id, so that a topic filter also matches Fetch v13+ (which names topics by id). */
    private readonly topicIdOf: (name: string) => string | undefined = () => undefined,
  ) {}

  /** Adds a fault; throws FaultSpecError when the spec cannot be honoured. */
  inject(spec: FaultSpec): InjectedFault {
    const info = this.apis().find((a) =>
      typeof spec.api === 'number' ? a.apiKey === spec.api : a.name === spec.api,
    );
    if (!info) throw new FaultSpecError(`unknown or unserved API ${spec.api}`);
    const actions = [spec.error !== undefined, spec.delayMs !== undefined, spec.drop !== undefined];
    if (actions.filter(Boolean).length !== 1) {
      throw new FaultSpecError('a fault needs exactly one of error, delayMs, drop');
    }
    if (spec.error !== undefined && !(spec.error in ErrorCode)) {
      throw new FaultSpecError(`unknown Kafka error ${spec.error}`);
    }
    if (spec.error !== undefined && !PARTITIONED[info.name]) {
      if (!info.response.fields.some((f) => f.name === 'errorCode')) {
        throw new FaultSpecError(
          `${info.name} has no top-level error code; inject a delay or a drop instead`,
        );
      }
    }
    if ((spec.topic !== undefined || spec.partition !== undefined) && !PARTITIONED[info.name]) {
      throw new FaultSpecError(`topic and partition filters apply to Produce, Fetch and ListOffsets only`);
    }
    if (spec.partition !== undefined && spec.topic === undefined) {
      throw new FaultSpecError('a partition filter needs a topic');
    }
    if (spec.delayMs !== undefined && !(spec.delayMs >= 0)) throw new FaultSpecError('delayMs must be >= 0');
    if (spec.drop !== undefined && spec.drop !== 'before' && spec.drop !== 'after') {
      throw new FaultSpecError("drop is 'before' or 'after'");
    }
    const count = spec.count === null ? Number.POSITIVE_INFINITY : (spec.count ?? 1);
    if (!(count >= 1)) throw new FaultSpecError('count must be >= 1');
    const fault: InjectedFault = {
      id: this.nextId++,
      api: info.name,
      apiKey: info.apiKey,
      topic: spec.topic,
      partition: spec.partition,
      clientId: spec.clientId,
      error: spec.error,
      delayMs: spec.delayMs,
      drop: spec.drop,
      remaining: count,
      hits: 0,
    };
    this.faults.push(fault);
    return fault;
  }

  /** The faults still active (remaining > 0), oldest first. */
  list(): InjectedFault[] {
    return [...this.faults];
  }

  /** Removes one fault, or every fault; returns how many were removed. */
  clear(id?: number): number {
    if (id === undefined) return this.faults.splice(0).length;
    const i = this.faults.findIndex((f) => f.id === id);
    if (i < 0) return 0;
    this.faults.splice(i, 1);
    return 1;
  }

  /** True when some fault could apply to this API (cheap check on the request path). */
  has(apiKey: number): boolean {
    return this.faults.length > 0 && this.faults.some((f) => f.apiKey === apiKey);
  }

  /** The first fault matching this request, counted as used; undefined when none. */
  take(apiKey: number, clientId: string | null, request: unknown): InjectedFault | undefined {
    const i = this.faults.findIndex(
      (f) => f.apiKey === apiKey && matches(f, clientId, request, this.topicIdOf),
    );
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    f.hits++;
    f.remaining--;
    if (f.remaining <= 0) this.faults.splice(i, 1);
    return f;
  }

  /**
   * Runs one request under a fault: `serve` is the real handling (given the request to act on).
   * Returns the response to send; throws InjectedDisconnect to close the connection.
   */
  async apply(
    fault: InjectedFault,
    request: unknown,
    serve: (request: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    if (fault.delayMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      return serve(request);
    }
    if (fault.drop === 'before')
      throw new InjectedDisconnect(`injected fault ${fault.id}: dropped before ${fault.api}`);
    if (fault.drop === 'after') {
      await serve(request);
      throw new InjectedDisconnect(`injected fault ${fault.id}: dropped after ${fault.api}`);
    }
    const code = ErrorCode[fault.error!];
    const layout = PARTITIONED[fault.api];
    if (!layout) return { errorCode: code };
    return failPartitions(fault, layout, code, request as Obj, serve, this.topicIdOf);
  }
}

/** A request's topic entry is the fault's topic, by name or (Fetch v13+) by id. */
function isTopic(
  f: InjectedFault,
  t: Obj,
  name: string,
  topicIdOf: (name: string) => string | undefined,
): boolean {
  if (f.topic === undefined) return true;
  if (t[name] === f.topic) return true;
  const id = typeof t.topicId === 'string' ? t.topicId : undefined;
  return id !== undefined && id !== 'AAAAAAAAAAAAAAAAAAAAAA' && id === topicIdOf(f.topic);
}

function matches(
  f: InjectedFault,
  clientId: string | null,
  request: unknown,
  topicIdOf: (name: string) => string | undefined,
): boolean {
  if (f.clientId !== undefined && f.clientId !== clientId) return false;
  if (f.topic === undefined) return true;
  const layout = PARTITIONED[f.api]!;
  const topics = ((request as Obj)[layout.topics] as Obj[] | undefined) ?? [];
  return topics.some(
    (t) =>
      isTopic(f, t, layout.topic, topicIdOf) &&
      (f.partition === undefined ||
        ((t[layout.partitions] as Obj[] | undefined) ?? []).some((p) => p[layout.index] === f.partition)),
  );
}

/**
 * Serves the partitions the fault does not cover, and answers the covered ones with its error,
 * in the request's order (Produce and Fetch pair results with partitions by order).
 */
async function failPartitions(
  f: InjectedFault,
  layout: (typeof PARTITIONED)[string],
  code: number,
  request: Obj,
  serve: (request: unknown) => Promise<unknown>,
  topicIdOf: (name: string) => string | undefined,
): Promise<unknown> {
  const covered = (t: Obj, p: Obj) =>
    isTopic(f, t, layout.topic, topicIdOf) && (f.partition === undefined || p[layout.index] === f.partition);
  const topics = (request[layout.topics] as Obj[] | undefined) ?? [];
  const rest = topics
    .map((t) => ({
      ...t,
      [layout.partitions]: ((t[layout.partitions] as Obj[]) ?? []).filter((p) => !covered(t, p)),
    }))
    .filter((t) => (t[layout.partitions] as Obj[]).length > 0);
  const served = (rest.length > 0 ? await serve({ ...request, [layout.topics]: rest }) : null) as Obj | null;
  const errorPartition = (index: unknown): Obj => {
    switch (f.api) {
      case 'Produce':
        return {
          index,
          errorCode: code,
          baseOffset: -1,
          logAppendTimeMs: -1,
          logStartOffset: -1,
          recordErrors: [],
        };
      case 'Fetch':
        return {
          partitionIndex: index,
          errorCode: code,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: null,
        };
      default:
        return { partitionIndex: index, errorCode: code, timestamp: -1, offset: -1, leaderEpoch: -1 };
    }
  };
  // Merge: the served answer's entries, with the failed partitions added to their topics.
  const respTopicsKey = f.api === 'Produce' ? 'responses' : f.api === 'Fetch' ? 'responses' : 'topics';
  const respTopicName = f.api === 'Fetch' ? 'topic' : 'name';
  const respPartitions = f.api === 'Produce' ? 'partitionResponses' : 'partitions';
  const respIndex = f.api === 'Produce' ? 'index' : 'partitionIndex';
  const servedTopics = ((served?.[respTopicsKey] as Obj[] | undefined) ?? []).map((t) => ({
    ...t,
    [respPartitions]: [...((t[respPartitions] as Obj[]) ?? [])],
  }));
  const out: Obj[] = [];
  for (const t of topics) {
    const name = t[layout.topic];
    let entry = servedTopics.find((s) => s[respTopicName] === name || (s.topicId && s.topicId === t.topicId));
    if (!entry) {
      entry = {
        [respTopicName]: name,
        ...(t.topicId !== undefined ? { topicId: t.topicId } : {}),
        [respPartitions]: [],
      };
    }
    if (!out.includes(entry)) out.push(entry);
    const parts = entry[respPartitions] as Obj[];
    for (const p of (t[layout.partitions] as Obj[]) ?? []) {
      if (covered(t, p)) parts.push(errorPartition(p[layout.index]));
    }
    // Keep the request's partition order.
    const order = ((t[layout.partitions] as Obj[]) ?? []).map((p) => p[layout.index]);
    parts.sort((a, b) => order.indexOf(a[respIndex]) - order.indexOf(b[respIndex]));
  }
  return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, ...(served ?? {}), [respTopicsKey]: out };
}
