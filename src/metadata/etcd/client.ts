/**
 * A small client for etcd's v3 API through its gRPC/JSON gateway (`POST /v3/kv/range`,
 * `/v3/kv/txn`, `/v3/lease/*`, `/v3/watch`), served by every etcd ≥ 3.4 on its client URLs. Keys
 * and values travel base64, 64-bit numbers as decimal strings; fields at their default value are
 * left out of the answers (a failed txn has no `succeeded`, a PUT event no `type`).
 *
 * Only what the cluster metadata needs: ranges (at a revision, sorted, limited), transactions with
 * compares, leases (grant, one keep-alive, revoke), history compaction, and watches that stream
 * events and report when their start revision was compacted. Requests go to the first endpoint
 * that answers; a connection error moves to the next. Requests that change nothing are retried
 * there; a transaction is not (its outcome is unknown when the connection broke: callers check
 * what it wrote, see `EtcdUnavailableError`).
 */
import http from 'node:http';
import { systemTime, type Time, type Timer } from '../../common/time.js';

/** etcd answered with an error (gRPC status `code`, etcd's message). */
export class EtcdError extends Error {
  override name = 'EtcdError';
  constructor(
    message: string,
    readonly grpcCode: number,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/**
 * No endpoint could be reached, or the connection broke before an answer. `maybeApplied`: the
 * request had been sent, so etcd may have carried it out.
 */
export class EtcdUnavailableError extends Error {
  override name = 'EtcdUnavailableError';
  constructor(
    message: string,
    readonly maybeApplied = false,
  ) {
    super(message);
  }
}

/** gRPC status codes etcd uses for the conditions callers act on. */
export const GRPC_NOT_FOUND = 5;
export const GRPC_OUT_OF_RANGE = 11;

export interface KeyValue {
  readonly key: string;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** Lease id, "0" when none. */
  readonly lease: string;
}

export interface RangeOptions {
  /** End of the range (exclusive); `prefix: true` sets it to every key starting with `key`. */
  rangeEnd?: string;
  prefix?: boolean;
  /** Read the store as of this revision (0 = now). */
  revision?: number;
  limit?: number;
  sortOrder?: 'ASCEND' | 'DESCEND';
  sortTarget?: 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';
  countOnly?: boolean;
  keysOnly?: boolean;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  readonly count: number;
  readonly more: boolean;
  /** The store's revision the range was read at. */
  readonly revision: number;
}

export type Compare =
  | { key: string; target: 'CREATE'; result?: CompareResult; createRevision: number }
  | { key: string; target: 'MOD'; result?: CompareResult; modRevision: number }
  | { key: string; target: 'VERSION'; result?: CompareResult; version: number }
  | { key: string; target: 'VALUE'; result?: CompareResult; value: string | Buffer }
  | { key: string; target: 'LEASE'; result?: CompareResult; lease: string };
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export type TxnOp =
  | { put: { key: string; value: string | Buffer; lease?: string } }
  | { deleteRange: { key: string; rangeEnd?: string } }
  | { range: { key: string; rangeEnd?: string } };

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  /** For each op of the branch that ran: the kvs of a range op, empty for the others. */
  readonly responses: KeyValue[][];
}

export interface WatchEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly kv: KeyValue;
}

export interface WatchHandlers {
  /** Events of one revision or more, in revision order. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** The start revision is older than etcd's compacted history: the watch has ended. */
  onCompacted(compactRevision: number): void;
  /** The stream broke or could not start: the watch has ended. */
  onError(err: Error): void;
}

export interface Watch {
  cancel(): void;
}

export interface EtcdClientOptions {
  /** Client URLs, `http://host:port`. */
  endpoints: readonly string[];
  /** Limit of one unary request (not of a watch). */
  requestTimeoutMs?: number;
  /**
   * How often a watch asks etcd for a progress report; a watch that hears nothing for two of
   * these ends with an error (its connection is dead without having been closed).
   */
  watchProgressIntervalMs?: number;
  time?: Time;
}

const b64 = (s: string | Buffer): string =>
  (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
const num = (v: unknown): number => (v === undefined || v === null ? 0 : Number(v));

/**
 * The key just after every key that starts with `prefix` (etcd's `range_end` for a prefix). Keys
 * here are ASCII (the layout checks its root), so the last character below 0x7f is incremented.
 */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c > 0x7f) throw new Error(`etcd key prefix must be ASCII: ${JSON.stringify(prefix)}`);
    if (c < 0x7f) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return '\0';
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

function kvOf(raw: RawKv): KeyValue {
  return {
    key: Buffer.from(raw.key ?? '', 'base64').toString('utf8'),
    value: Buffer.from(raw.value ?? '', 'base64'),
    createRevision: num(raw.create_revision),
    modRevision: num(raw.mod_revision),
    version: num(raw.version),
    lease: raw.lease ?? '0',
  };
}

function compareJson(c: Compare): Record<string, unknown> {
  const out: Record<string, unknown> = { key: b64(c.key), target: c.target, result: c.result ?? 'EQUAL' };
  switch (c.target) {
    case 'CREATE':
      out.create_revision = String(c.createRevision);
      break;
    case 'MOD':
      out.mod_revision = String(c.modRevision);
      break;
    case 'VERSION':
      out.version = String(c.version);
      break;
    case 'VALUE':
      out.value = b64(c.value);
      break;
    case 'LEASE':
      out.lease = c.lease;
      break;
  }
  return out;
}

function opJson(op: TxnOp): Record<string, unknown> {
  if ('put' in op) {
    return {
      request_put: {
        key: b64(op.put.key),
        value: b64(op.put.value),
        ...(op.put.lease ? { lease: op.put.lease } : {}),
      },
    };
  }
  if ('deleteRange' in op) {
    return {
      request_delete_range: {
        key: b64(op.deleteRange.key),
        ...(op.deleteRange.rangeEnd !== undefined ? { range_end: b64(op.deleteRange.rangeEnd) } : {}),
      },
    };
  }
  return {
    request_range: {
      key: b64(op.range.key),
      ...(op.range.rangeEnd !== undefined ? { range_end: b64(op.range.rangeEnd) } : {}),
    },
  };
}

/** Longest answer body accepted from etcd (its own request limit is 1.5 MiB; ranges are limited by callers). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
/** Longest single watch message (one revision's events) kept while waiting for its newline. */
const MAX_WATCH_LINE_BYTES = 64 * 1024 * 1024;

export class EtcdClient {
  private readonly endpoints: URL[];
  private preferred = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly requestTimeoutMs: number;
  private readonly watchProgressIntervalMs: number;
  private readonly time: Time;
  private closed = false;
  private readonly watches = new Set<Watch>();

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd: no endpoints');
    this.endpoints = options.endpoints.map((e) => new URL(e.includes('://') ? e : `http://${e}`));
    for (const e of this.endpoints) {
      if (e.protocol !== 'http:') throw new Error(`etcd endpoint ${e.href}: only http:// is supported`);
    }
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.watchProgressIntervalMs = options.watchProgressIntervalMs ?? 5_000;
    this.time = options.time ?? systemTime;
  }

  async range(key: string, options: RangeOptions = {}): Promise<RangeResult> {
    const rangeEnd = options.prefix ? prefixEnd(key) : options.rangeEnd;
    const body: Record<string, unknown> = { key: b64(key) };
    if (rangeEnd !== undefined) body.range_end = b64(rangeEnd);
    if (options.revision) body.revision = String(options.revision);
    if (options.limit) body.limit = String(options.limit);
    if (options.sortOrder) body.sort_order = options.sortOrder;
    if (options.sortTarget) body.sort_target = options.sortTarget;
    if (options.countOnly) body.count_only = true;
    if (options.keysOnly) body.keys_only = true;
    const res = (await this.call('/v3/kv/range', body, true)) as {
      header?: { revision?: string };
      kvs?: RawKv[];
      count?: string;
      more?: boolean;
    };
    return {
      kvs: (res.kvs ?? []).map(kvOf),
      count: num(res.count),
      more: res.more === true,
      revision: num(res.header?.revision),
    };
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return (await this.range(key)).kvs[0];
  }

  /** A transaction: if every compare holds, the `success` ops run, else the `failure` ops; atomically. */
  async txn(
    compare: readonly Compare[],
    success: readonly TxnOp[],
    failure: readonly TxnOp[] = [],
  ): Promise<TxnResult> {
    const res = (await this.call(
      '/v3/kv/txn',
      { compare: compare.map(compareJson), success: success.map(opJson), failure: failure.map(opJson) },
      false,
    )) as {
      header?: { revision?: string };
      succeeded?: boolean;
      responses?: { response_range?: { kvs?: RawKv[] } }[];
    };
    return {
      succeeded: res.succeeded === true,
      revision: num(res.header?.revision),
      responses: (res.responses ?? []).map((r) => (r.response_range?.kvs ?? []).map(kvOf)),
    };
  }

  async put(key: string, value: string | Buffer, lease?: string): Promise<number> {
    return (await this.txn([], [{ put: { key, value, ...(lease ? { lease } : {}) } }])).revision;
  }

  async deleteRange(key: string, rangeEnd?: string): Promise<number> {
    return (await this.txn([], [{ deleteRange: { key, ...(rangeEnd !== undefined ? { rangeEnd } : {}) } }]))
      .revision;
  }

  /** A new lease of `ttlSeconds` (etcd may raise it to its minimum); its id. */
  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    const res = (await this.call('/v3/lease/grant', { TTL: String(Math.ceil(ttlSeconds)) }, false)) as {
      ID?: string;
      TTL?: string;
    };
    if (!res.ID) throw new EtcdError('etcd: lease grant answered without an id', 0, 200);
    return { id: res.ID, ttlSeconds: num(res.TTL) };
  }

  /** Renews a lease; its TTL in seconds, 0 when it has expired (or was revoked). */
  async leaseKeepAlive(id: string): Promise<number> {
    const res = (await this.call('/v3/lease/keepalive', { ID: id }, true)) as { result?: { TTL?: string } };
    return num(res.result?.TTL);
  }

  /** Revokes a lease, deleting its keys; an unknown (expired) lease is not an error. */
  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.call('/v3/lease/revoke', { ID: id }, true);
    } catch (err) {
      if (err instanceof EtcdError && err.grpcCode === GRPC_NOT_FOUND) return;
      throw err;
    }
  }

  /** Discards etcd's history before `revision` (keys' current values stay). */
  async compact(revision: number, physical = false): Promise<void> {
    await this.call('/v3/kv/compaction', { revision: String(revision), physical }, true);
  }

  /**
   * Streams the changes of `key` (or of `[key, rangeEnd)`, or of a prefix) from `startRevision`
   * (inclusive; 0 = from now). One stream per watch; it ends by `cancel`, by a compacted start
   * revision (`onCompacted`) or by an error (`onError`), after which the caller starts another
   * from the revision after the last it saw.
   */
  watch(
    key: string,
    options: { rangeEnd?: string; prefix?: boolean; startRevision?: number },
    handlers: WatchHandlers,
  ): Watch {
    const rangeEnd = options.prefix ? prefixEnd(key) : options.rangeEnd;
    const create: Record<string, unknown> = { key: b64(key) };
    if (rangeEnd !== undefined) create.range_end = b64(rangeEnd);
    if (options.startRevision) create.start_revision = String(options.startRevision);
    const createLine = `${JSON.stringify({ create_request: create })}\n`;
    const progressLine = `${JSON.stringify({ progress_request: {} })}\n`;
    let ended = false;
    let req: http.ClientRequest | undefined;
    let probe: Timer | undefined;
    const watch: Watch = {
      cancel: () => {
        if (ended) return;
        ended = true;
        probe?.cancel();
        this.watches.delete(watch);
        req?.destroy();
      },
    };
    const end = (notify: () => void): void => {
      if (ended) return;
      ended = true;
      probe?.cancel();
      this.watches.delete(watch);
      req?.destroy();
      notify();
    };
    if (this.closed) {
      queueMicrotask(() => end(() => handlers.onError(new EtcdUnavailableError('etcd client is closed'))));
      return watch;
    }
    this.watches.add(watch);
    const endpoint = this.endpoints[this.preferred]!;
    // The request body stays open: it is the stream of watch requests (the create, then progress
    // requests). etcd's gateway reads it as a stream only for a request that says
    // `Expect: 100-continue` (without it, the watch never starts); the body need not wait for
    // the 100 Continue.
    let heard = true;
    let probing = false;
    req = http.request(
      {
        host: endpoint.hostname,
        port: endpoint.port,
        path: '/v3/watch',
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          expect: '100-continue',
          // gRPC metadata `hasleader` (etcd's WithRequireLeader): a member cut off from the
          // others' majority cancels the watch instead of keeping it quietly stale.
          'grpc-metadata-hasleader': 'true',
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          collect(res, MAX_BODY_BYTES)
            .then((body) => end(() => handlers.onError(errorOf(res.statusCode ?? 0, body))))
            .catch((err: Error) => end(() => handlers.onError(err)));
          return;
        }
        let pending: Buffer = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          if (ended) return;
          heard = true;
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          for (;;) {
            const nl = pending.indexOf(0x0a);
            if (nl < 0) break;
            const line = pending.subarray(0, nl);
            pending = pending.subarray(nl + 1);
            if (line.length === 0) continue;
            let msg: {
              result?: {
                header?: { revision?: string };
                events?: { type?: string; kv?: RawKv }[];
                canceled?: boolean;
                compact_revision?: string;
                cancel_reason?: string;
              };
              error?: { message?: string; grpc_code?: number; http_code?: number };
            };
            try {
              msg = JSON.parse(line.toString('utf8'));
            } catch (err) {
              end(() => handlers.onError(new EtcdError(`etcd watch: bad message: ${String(err)}`, 0, 200)));
              return;
            }
            if (msg.error) {
              const e = msg.error;
              end(() =>
                handlers.onError(
                  new EtcdError(`etcd watch: ${e.message}`, e.grpc_code ?? 0, e.http_code ?? 0),
                ),
              );
              return;
            }
            const r = msg.result ?? {};
            if (r.compact_revision && num(r.compact_revision) > 0) {
              end(() => handlers.onCompacted(num(r.compact_revision)));
              return;
            }
            if (r.canceled) {
              end(() =>
                handlers.onError(new EtcdError(`etcd watch canceled: ${r.cancel_reason ?? ''}`, 0, 200)),
              );
              return;
            }
            if (r.events && r.events.length > 0) {
              const events = r.events.map((e) => ({
                type: e.type === 'DELETE' ? ('DELETE' as const) : ('PUT' as const),
                kv: kvOf(e.kv ?? {}),
              }));
              handlers.onEvents(events, num(r.header?.revision));
              if (ended) return;
            }
          }
          if (pending.length > MAX_WATCH_LINE_BYTES) {
            end(() => handlers.onError(new EtcdError('etcd watch: message too long', 0, 200)));
          }
        });
        res.on('end', () => end(() => handlers.onError(new EtcdUnavailableError('etcd watch stream ended'))));
        res.on('error', (err) => end(() => handlers.onError(new EtcdUnavailableError(err.message))));
      },
    );
    req.on('error', (err) => {
      this.preferred = (this.preferred + 1) % this.endpoints.length;
      end(() => handlers.onError(new EtcdUnavailableError(`etcd watch: ${err.message}`)));
    });
    req.write(createLine);
    probe = this.time.setInterval(() => {
      if (ended) return;
      if (!heard && probing) {
        end(() =>
          handlers.onError(
            new EtcdUnavailableError(
              `etcd watch: no answer from ${endpoint.host} in ${2 * this.watchProgressIntervalMs} ms`,
            ),
          ),
        );
        return;
      }
      heard = false;
      probing = true;
      req!.write(progressLine);
    }, this.watchProgressIntervalMs);
    return watch;
  }

  /** Whether `close()` was called: requests fail for good. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends every watch and the connections; later requests fail. */
  close(): void {
    this.closed = true;
    for (const w of [...this.watches]) w.cancel();
    this.agent.destroy();
  }

  private async call(path: string, body: unknown, retryable: boolean): Promise<unknown> {
    if (this.closed) throw new EtcdUnavailableError('etcd client is closed');
    const payload = JSON.stringify(body);
    let lastError: Error | undefined;
    const first = this.preferred;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (first + i) % this.endpoints.length;
      try {
        const out = await this.post(this.endpoints[index]!, path, payload);
        this.preferred = index;
        return out;
      } catch (err) {
        if (!(err instanceof EtcdUnavailableError)) throw err;
        lastError = err;
        this.preferred = (index + 1) % this.endpoints.length;
        if (!retryable && err.maybeApplied) throw err;
      }
    }
    throw lastError ?? new EtcdUnavailableError('etcd: no endpoint answered');
  }

  private post(endpoint: URL, path: string, payload: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let sent = false;
      const req = http.request(
        {
          host: endpoint.hostname,
          port: endpoint.port,
          path,
          method: 'POST',
          agent: this.agent,
          timeout: this.requestTimeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          collect(res, MAX_BODY_BYTES).then((text) => {
            if (res.statusCode !== 200) {
              reject(errorOf(res.statusCode ?? 0, text));
              return;
            }
            try {
              const parsed = JSON.parse(text) as { error?: unknown };
              // A streaming method (keep-alive) answers 200 with {"error": {...}} on failure.
              if (parsed.error && typeof parsed.error === 'object') {
                const e = parsed.error as { message?: string; grpc_code?: number; http_code?: number };
                reject(new EtcdError(e.message ?? 'etcd error', e.grpc_code ?? 0, e.http_code ?? 0));
                return;
              }
              resolve(parsed);
            } catch (err) {
              reject(new EtcdError(`etcd ${path}: bad answer: ${String(err)}`, 0, res.statusCode ?? 0));
            }
          }, reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new EtcdUnavailableError(
            `etcd ${endpoint.host}${path}: no answer in ${this.requestTimeoutMs} ms`,
            sent,
          ),
        ),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // Refused or unreachable: no connection, so nothing reached etcd.
        const notConnected = err.code !== undefined && NOT_CONNECTED.has(err.code);
        reject(
          err instanceof EtcdUnavailableError
            ? err
            : new EtcdUnavailableError(`etcd ${endpoint.host}${path}: ${err.message}`, sent && !notConnected),
        );
      });
      req.on('finish', () => {
        sent = true;
      });
      req.end(payload);
    });
  }
}

function collect(res: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy();
        reject(new EtcdError(`etcd answer longer than ${limit} bytes`, 0, res.statusCode ?? 0));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (err) => reject(new EtcdUnavailableError(err.message, true)));
  });
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** gRPC codes with which a member says it cannot serve now (no leader, request timed out, stopping). */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * The error of an answer that is not 200. A member that cannot serve now (a minority member
 * without a leader, a timed-out proposal) is unavailable: another member may; the request may
 * have been applied all the same (a proposal that timed out can still commit).
 */
function errorOf(status: number, body: string): EtcdError | EtcdUnavailableError {
  let message: string;
  let code = 0;
  try {
    const parsed = JSON.parse(body) as { message?: string; error?: string; code?: number };
    message = parsed.message ?? parsed.error ?? body;
    code = parsed.code ?? 0;
  } catch {
    message = `etcd HTTP ${status}: ${body.slice(0, 200)}`;
  }
  if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED || status === 503) {
    return new EtcdUnavailableError(message, true);
  }
  return new EtcdError(message, code, status);
}
