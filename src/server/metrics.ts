/**
 * What the broker counts about itself as it serves: requests per API (count, latency histogram,
 * versions, error codes), bytes in/out and messages in per topic, active connections.
 *
 * Plain numbers, cheap on the hot path and readable in-process by tests and benches; nothing
 * here imports prom-client, so a broker that is never scraped never loads it. ops/prometheus.ts
 * exports these under Kafka's names (kafka_server_brokertopicmetrics_bytesin_total{topic}, …)
 * and adds gauges read from broker state at scrape time. Like Kafka's RequestMetrics
 * ErrorsPerSec, every `errorCode` in a response is counted (top level and per partition), NONE
 * included.
 */
import { errorName } from '../protocol/generated/errors.js';
import { dataRecordsCount, iterateBatches } from '../protocol/record-batch.js';
import type { FieldSpec, MessageSpec } from '../protocol/spec.js';
import { FileRegion, type Records } from '../storage/file-region.js';

/** Latency bucket upper bounds in milliseconds (Kafka reports request times in ms). */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
];

export interface ApiStats {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Requests per bucket of LATENCY_BUCKETS_MS (not cumulative); the last slot is +Inf. */
  buckets: number[];
  /** Requests per API version. */
  versions: Map<number, number>;
}

export interface RequestDetail {
  /** The request's API version. */
  version?: number;
  /** The decoded response body; its `errorCode` fields are counted. */
  response?: unknown;
  /**
   * The response's message spec: its `errorCode` fields are then found by a walker compiled once
   * per spec, instead of visiting every property of the response (per request, on the hot path).
   */
  spec?: MessageSpec;
}

export class Metrics {
  readonly requests = new Map<string, ApiStats>();
  readonly bytesIn = new Map<string, number>();
  readonly bytesOut = new Map<string, number>();
  readonly messagesIn = new Map<string, number>();
  /**
   * Records sent to consumers (kbroker's own: Kafka has MessagesInPerSec but no messages-out
   * meter). Counted from the headers of the batches a fetch returns, as bytes out counts their
   * bytes: whole batches, so a fetch from the middle of a batch counts the batch's records before
   * the fetch offset too; control batches (transaction markers) are not counted.
   */
  readonly messagesOut = new Map<string, number>();
  /** Sums over all topics, deleted ones included (Kafka's all-topics BrokerTopicMetrics). */
  readonly totals = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };
  /** API name → error name → count. */
  readonly errors = new Map<string, Map<string, number>>();
  /** Scratch of countErrors: error code → count in one response. */
  private readonly found = new Map<number, number>();
  /** Open client connections (set by the broker as they come and go). */
  connections = 0;
  /** Failed TLS handshakes and SASL authentications (Kafka's failed-authentication-total). */
  failedAuthentications = 0;
  /** Completed TLS handshakes (SSL listeners) and SASL authentications (Kafka's successful-authentication-total). */
  successfulAuthentications = 0;
  /** Of those, by clients that cannot re-authenticate: TLS, SASL without SaslAuthenticate v1+ (successful-authentication-no-reauth-total). */
  successfulAuthenticationsNoReauth = 0;
  /** KIP-368 re-authentications that succeeded / failed (successful- and failed-reauthentication-total). */
  successfulReauthentications = 0;
  failedReauthentications = 0;
  /** Connections closed at once by max.connections / max.connections.per.ip. */
  connectionsRefused = 0;

  requestCompleted(api: string, ms: number, detail: RequestDetail = {}): void {
    let s = this.requests.get(api);
    if (!s) {
      s = {
        count: 0,
        totalMs: 0,
        maxMs: 0,
        buckets: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
        versions: new Map(),
      };
      this.requests.set(api, s);
    }
    s.count++;
    s.totalMs += ms;
    if (ms > s.maxMs) s.maxMs = ms;
    let b = 0;
    while (b < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[b]!) b++;
    s.buckets[b]!++;
    const version = detail.version ?? -1;
    s.versions.set(version, (s.versions.get(version) ?? 0) + 1);
    if (detail.response !== undefined && detail.response !== null)
      this.countErrors(api, detail.response, detail.spec);
  }

  produced(topic: string, bytes: number, messages: number): void {
    this.bytesIn.set(topic, (this.bytesIn.get(topic) ?? 0) + bytes);
    this.messagesIn.set(topic, (this.messagesIn.get(topic) ?? 0) + messages);
    this.totals.bytesIn += bytes;
    this.totals.messagesIn += messages;
  }

  /** A fetch returned `records` of `topic`: counts their bytes and, from the batch headers, their records. */
  fetched(topic: string, records: Records): void {
    const bytes = records.length;
    this.bytesOut.set(topic, (this.bytesOut.get(topic) ?? 0) + bytes);
    this.totals.bytesOut += bytes;
    // A file range counted its records when its headers were walked (LogSegment.readRegion).
    const messages = records instanceof FileRegion ? records.recordCount : countRecords(records);
    if (messages > 0) {
      this.messagesOut.set(topic, (this.messagesOut.get(topic) ?? 0) + messages);
      this.totals.messagesOut += messages;
    }
  }

  /** Forgets a deleted topic's series, as Kafka removes its BrokerTopicMetrics. */
  topicDeleted(topic: string): void {
    this.bytesIn.delete(topic);
    this.bytesOut.delete(topic);
    this.messagesIn.delete(topic);
    this.messagesOut.delete(topic);
  }

  private countErrors(api: string, response: unknown, spec: MessageSpec | undefined): void {
    const found = this.found;
    found.clear();
    if (spec === undefined) collectErrorCodes(response, found, 0);
    else errorCodeWalker(spec)?.(response as Obj, found);
    if (found.size === 0) return;
    let byName = this.errors.get(api);
    if (!byName) {
      byName = new Map();
      this.errors.set(api, byName);
    }
    for (const [code, n] of found) {
      const error = errorName(code) ?? `UNKNOWN_${code}`;
      byName.set(error, (byName.get(error) ?? 0) + n);
    }
  }
}

/**
 * Records in the whole batches of a fetch's records, from each batch's header (recordsCount, no
 * decoding); control batches are skipped, and so is a partial batch at the end (a fetch may cut
 * the last one at its byte limit).
 */
export function countRecords(records: Buffer): number {
  let n = 0;
  for (const b of iterateBatches(records)) n += dataRecordsCount(b);
  return n;
}

/** Counts every numeric `errorCode` field in a decoded message, skipping record bytes. */
function collectErrorCodes(value: unknown, out: Map<number, number>, depth: number): void {
  if (depth > 8 || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    for (const v of value) collectErrorCodes(v, out, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'errorCode' && typeof v === 'number') out.set(v, (out.get(v) ?? 0) + 1);
    else if (typeof v === 'object') collectErrorCodes(v, out, depth + 1);
  }
}

type Obj = Record<string, unknown>;
type Walker = (value: Obj, out: Map<number, number>) => void;
const walkers = new WeakMap<MessageSpec, Walker | null>();

/**
 * What collectErrorCodes counts in a response of this spec, visiting only the spec's `errorCode`
 * fields and the structs and arrays of structs that lead to one; null when the spec has none.
 */
function errorCodeWalker(spec: MessageSpec): Walker | null {
  let w = walkers.get(spec);
  if (w === undefined) {
    w = compileWalker(spec.fields);
    walkers.set(spec, w);
  }
  return w;
}

function compileWalker(fields: readonly FieldSpec[]): Walker | null {
  const hasCode = fields.some((f) => f.name === 'errorCode' && f.fields === undefined);
  const nested: { name: string; walk: Walker }[] = [];
  for (const f of fields) {
    const walk = f.fields ? compileWalker(f.fields) : null;
    if (walk) nested.push({ name: f.name, walk });
  }
  if (!hasCode && nested.length === 0) return null;
  return (value, out) => {
    if (hasCode) {
      const code = value.errorCode;
      if (typeof code === 'number') out.set(code, (out.get(code) ?? 0) + 1);
    }
    for (const { name, walk } of nested) {
      const v = value[name];
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        for (const e of v) if (e !== null && typeof e === 'object') walk(e as Obj, out);
      } else walk(v as Obj, out);
    }
  };
}
