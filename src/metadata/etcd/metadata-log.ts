/**
 * The cluster's metadata log in etcd (keys in layout.ts): what `__cluster_metadata` is to KRaft,
 * with etcd as the quorum that orders and replicates it.
 *
 * - Append: one transaction puts the batch at `log/<base offset>` and moves `end`, compared on
 *   the controller's leadership (its leader key's create revision) and on `end` being the
 *   required base offset. A deposed controller's compare fails (NOT_CONTROLLER); so does a
 *   controller whose idea of the end is stale (UnexpectedBaseOffsetError). When the connection
 *   breaks after the request was sent, the batch's writer id tells whether it was applied.
 * - Follow: a broker reads the batches after its offset (at one etcd revision R), then watches
 *   `log/` from R + 1; after a lost connection it does the same again from the offset it has, so
 *   it sees every batch once, in order. Behind the log's start, it loads the snapshot first.
 * - Snapshot: the controller writes the records that rebuild the image at an offset (in chunks
 *   below etcd's request limit), then in one transaction makes it the latest and deletes the
 *   batches and older snapshots it replaces; with `compactHistory`, etcd's history up to it is
 *   compacted too, so etcd does not grow without bound.
 */
import { randomUUID } from 'node:crypto';
import { systemTime, type Time } from '../../common/time.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import type { MetadataRecord } from '../records.js';
import {
  type Compare,
  type EtcdClient,
  EtcdUnavailableError,
  type KeyValue,
  type WatchEvent,
} from './client.js';
import { EtcdControllerLeadership } from './election.js';
import {
  ExtraCompareFailedError,
  notController,
  SnapshotRequiredError,
  UnexpectedBaseOffsetError,
} from './errors.js';
import type {
  ControllerLeadership,
  MetadataBatch,
  MetadataLog,
  MetadataLogListener,
  MetadataSnapshot,
  Subscription,
} from './interfaces.js';
import type { EtcdLayout } from './layout.js';
import { resumableWatch, StopFollowing } from './resumable-watch.js';

export interface EtcdMetadataLogOptions {
  time?: Time;
  /** Pause before a follower retries after etcd failed. */
  retryBackoffMs?: number;
  /**
   * Largest batch one append writes, in JSON bytes: below etcd's request limit
   * (`--max-request-bytes`, 1.5 MiB by default).
   */
  maxBatchBytes?: number;
  /** Size of the parts a snapshot is written in (each one etcd request). */
  snapshotChunkBytes?: number;
  /** Batches read per etcd request while following or reading. */
  readPageBatches?: number;
  /** Attempts of one append while etcd is unavailable, `retryBackoffMs` apart. */
  appendAttempts?: number;
  /**
   * After a snapshot, compact etcd's history up to it. For an etcd that runs without its own
   * `--auto-compaction-*` (as the tests' does); it compacts the history of every key in that etcd.
   */
  compactHistory?: boolean;
}

interface StoredBatch {
  baseOffset: number;
  controllerEpoch: number;
  /** Unique per append: tells a writer whether its batch landed when the answer was lost. */
  writer: string;
  records: MetadataRecord[];
}

interface SnapshotPointer {
  offset: number;
  chunks: number;
  controllerEpoch: number;
}

function parseJson<T>(kv: KeyValue, what: string): T {
  try {
    return JSON.parse(kv.value.toString('utf8')) as T;
  } catch (err) {
    throw new Error(`etcd key ${kv.key} does not hold a ${what}: ${String(err)}`);
  }
}

function parseBatch(kv: KeyValue): StoredBatch {
  const b = parseJson<StoredBatch>(kv, 'metadata batch');
  if (!Number.isSafeInteger(b.baseOffset) || !Array.isArray(b.records) || b.records.length === 0) {
    throw new Error(`etcd key ${kv.key} does not hold a metadata batch`);
  }
  return b;
}

function parsePointer(kv: KeyValue): SnapshotPointer {
  const p = parseJson<SnapshotPointer>(kv, 'snapshot pointer');
  if (!Number.isSafeInteger(p.offset) || !Number.isSafeInteger(p.chunks)) {
    throw new Error(`etcd key ${kv.key} does not hold a snapshot pointer`);
  }
  return p;
}

const toBatch = (b: StoredBatch): MetadataBatch => ({
  baseOffset: b.baseOffset,
  records: b.records,
  controllerEpoch: b.controllerEpoch,
});

/** The part of `b` from `offset` on (all of it when it starts there). */
function from(b: MetadataBatch, offset: number): MetadataBatch {
  if (offset <= b.baseOffset) return b;
  return { ...b, baseOffset: offset, records: b.records.slice(offset - b.baseOffset) };
}

export class EtcdMetadataLog implements MetadataLog {
  private readonly time: Time;
  private readonly retryBackoffMs: number;
  private readonly maxBatchBytes: number;
  private readonly snapshotChunkBytes: number;
  private readonly readPageBatches: number;
  private readonly appendAttempts: number;
  private readonly compactHistory: boolean;

  constructor(
    private readonly client: EtcdClient,
    private readonly layout: EtcdLayout,
    options: EtcdMetadataLogOptions = {},
  ) {
    this.time = options.time ?? systemTime;
    this.retryBackoffMs = options.retryBackoffMs ?? 500;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    this.snapshotChunkBytes = options.snapshotChunkBytes ?? 512 * 1024;
    this.readPageBatches = options.readPageBatches ?? 256;
    this.appendAttempts = options.appendAttempts ?? 10;
    this.compactHistory = options.compactHistory ?? false;
  }

  async endOffset(): Promise<number> {
    const kv = await this.client.get(this.layout.endKey);
    return kv ? Number(kv.value.toString('utf8')) : 0;
  }

  async startOffset(): Promise<number> {
    const kv = await this.client.get(this.layout.snapshotKey);
    return kv ? parsePointer(kv).offset : 0;
  }

  async append(
    leadership: ControllerLeadership,
    requiredBaseOffset: number,
    records: readonly MetadataRecord[],
    extraCompares: readonly Compare[] = [],
  ): Promise<{ baseOffset: number; endOffset: number }> {
    return this.appendAs(etcdLeadership(leadership), requiredBaseOffset, records, extraCompares);
  }

  /** `append` also compared on `brokerId`'s registration key being absent (SharedMetadataLog). */
  appendUnlessRegistered(
    leadership: ControllerLeadership,
    requiredBaseOffset: number,
    records: readonly MetadataRecord[],
    brokerId: number,
  ): Promise<{ baseOffset: number; endOffset: number }> {
    return this.append(leadership, requiredBaseOffset, records, [
      { key: this.layout.brokerKey(brokerId), target: 'CREATE', createRevision: 0 },
    ]);
  }

  /**
   * Appends as a broker, not as the controller (EtcdController: each broker writes the changes it
   * was asked for, validated against its image at `requiredBaseOffset`): compared on the log's end
   * only, so a batch lands exactly where its writer's image ended, or fails with
   * UnexpectedBaseOffsetError and the writer checks again against the newer image.
   */
  appendAsBroker(
    requiredBaseOffset: number,
    records: readonly MetadataRecord[],
  ): Promise<{ baseOffset: number; endOffset: number }> {
    return this.appendAs(null, requiredBaseOffset, records, []);
  }

  private async appendAs(
    lead: EtcdControllerLeadership | null,
    requiredBaseOffset: number,
    records: readonly MetadataRecord[],
    extraCompares: readonly Compare[],
  ): Promise<{ baseOffset: number; endOffset: number }> {
    if (lead && !lead.isActive())
      throw notController(`controller ${lead.nodeId} epoch ${lead.epoch} is no longer active`);
    if (records.length === 0) throw new RangeError('a metadata batch holds at least one record');
    if (!Number.isSafeInteger(requiredBaseOffset) || requiredBaseOffset < 0) {
      throw new RangeError(`bad base offset ${requiredBaseOffset}`);
    }
    const writer = `${lead?.createRevision ?? 'broker'}:${randomUUID()}`;
    const stored: StoredBatch = {
      baseOffset: requiredBaseOffset,
      controllerEpoch: lead?.epoch ?? -1,
      writer,
      records: [...records],
    };
    const value = JSON.stringify(stored);
    const bytes = Buffer.byteLength(value);
    if (bytes > this.maxBatchBytes) {
      throw new KafkaError(
        'MESSAGE_TOO_LARGE',
        `metadata batch of ${records.length} records is ${bytes} bytes, above ${this.maxBatchBytes}`,
      );
    }
    const endOffset = requiredBaseOffset + records.length;
    const batchKey = this.layout.logKey(requiredBaseOffset);
    const landed = async (): Promise<boolean> => {
      const kv = await this.client.get(batchKey);
      return kv !== undefined && parseBatch(kv).writer === writer;
    };
    const compares: Compare[] = [
      ...(lead?.fence() ?? []),
      ...extraCompares,
      requiredBaseOffset === 0
        ? { key: this.layout.endKey, target: 'VERSION', version: 0 }
        : { key: this.layout.endKey, target: 'VALUE', value: String(requiredBaseOffset) },
    ];
    // Retried while etcd is unavailable (a member down, an etcd leader election) and this
    // leadership lasts. An attempt whose answer was lost may have landed: then the batch's writer
    // id says so, and otherwise the compares make the next attempt land it at most once.
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      let result: Awaited<ReturnType<EtcdClient['txn']>>;
      try {
        if (uncertain && (await landed())) return { baseOffset: requiredBaseOffset, endOffset };
        result = await this.client.txn(
          compares,
          [{ put: { key: batchKey, value } }, { put: { key: this.layout.endKey, value: String(endOffset) } }],
          [{ range: { key: this.layout.leaderKey } }, { range: { key: this.layout.endKey } }],
        );
      } catch (err) {
        if (
          err instanceof EtcdUnavailableError &&
          attempt < this.appendAttempts &&
          (lead?.isActive() ?? true)
        ) {
          uncertain ||= err.maybeApplied;
          await this.time.sleep(this.retryBackoffMs);
          continue;
        }
        // Still unavailable: `maybeApplied` tells the controller it must read the log again.
        if (err instanceof EtcdUnavailableError && uncertain && !err.maybeApplied) {
          throw new EtcdUnavailableError(err.message, true);
        }
        throw err;
      }
      if (result.succeeded) return { baseOffset: requiredBaseOffset, endOffset };
      const leader = result.responses[0]![0];
      if (lead && (!leader || leader.createRevision !== lead.createRevision)) {
        throw notController(`controller ${lead.nodeId} epoch ${lead.epoch} was deposed`);
      }
      if (uncertain && (await landed())) return { baseOffset: requiredBaseOffset, endOffset };
      const end = result.responses[1]![0];
      const endValue = end ? Number(end.value.toString('utf8')) : 0;
      if (endValue === requiredBaseOffset && extraCompares.length > 0) {
        throw new ExtraCompareFailedError('a condition of the metadata change no longer holds');
      }
      throw new UnexpectedBaseOffsetError(requiredBaseOffset, endValue);
    }
  }

  async read(fromOffset: number, maxBatches = this.readPageBatches): Promise<MetadataBatch[]> {
    const pointer = await this.client.range(this.layout.snapshotKey);
    const start = pointer.kvs[0] ? parsePointer(pointer.kvs[0]).offset : 0;
    if (fromOffset < start) throw new SnapshotRequiredError(fromOffset, start);
    return this.readAt(fromOffset, maxBatches, pointer.revision);
  }

  /** Batches from `offset` at etcd revision `revision`, checked to follow on one another. */
  private async readAt(offset: number, maxBatches: number, revision: number): Promise<MetadataBatch[]> {
    const out: MetadataBatch[] = [];
    let next = offset;
    // The batch `offset` falls inside, when it is not where one starts.
    const before = await this.client.range(this.layout.logPrefix, {
      rangeEnd: this.layout.logKey(offset),
      revision,
      sortOrder: 'DESCEND',
      sortTarget: 'KEY',
      limit: 1,
    });
    if (before.kvs[0]) {
      const b = parseBatch(before.kvs[0]);
      if (b.baseOffset + b.records.length > offset) {
        out.push(from(toBatch(b), offset));
        next = b.baseOffset + b.records.length;
      }
    }
    if (out.length >= maxBatches) return out;
    const rest = await this.client.range(this.layout.logKey(next), {
      rangeEnd: this.layout.logPrefixEnd,
      revision,
      limit: maxBatches - out.length,
    });
    for (const kv of rest.kvs) {
      const b = parseBatch(kv);
      if (b.baseOffset !== next) {
        throw new Error(`metadata log in etcd has a gap: batch at ${b.baseOffset}, expected ${next}`);
      }
      out.push(toBatch(b));
      next = b.baseOffset + b.records.length;
    }
    return out;
  }

  async latestSnapshot(): Promise<MetadataSnapshot | undefined> {
    const pointer = await this.client.range(this.layout.snapshotKey);
    const kv = pointer.kvs[0];
    return kv ? this.readSnapshotAt(parsePointer(kv), pointer.revision) : undefined;
  }

  private async readSnapshotAt(pointer: SnapshotPointer, revision: number): Promise<MetadataSnapshot> {
    const records: MetadataRecord[] = [];
    const prefix = this.layout.snapshotChunkPrefix(pointer.offset);
    for (let chunk = 0; chunk < pointer.chunks; ) {
      const page = await this.client.range(this.layout.snapshotChunkKey(pointer.offset, chunk), {
        rangeEnd: this.layout.snapshotChunkPrefix(pointer.offset + 1),
        revision,
        limit: 4,
      });
      if (page.kvs.length === 0) throw new Error(`snapshot at ${pointer.offset}: chunk ${chunk} is missing`);
      for (const kv of page.kvs) {
        if (!kv.key.startsWith(prefix) || Number(kv.key.slice(prefix.length)) !== chunk) {
          throw new Error(`snapshot at ${pointer.offset}: chunk ${chunk} is missing`);
        }
        records.push(...parseJson<MetadataRecord[]>(kv, 'snapshot chunk'));
        chunk++;
        if (chunk === pointer.chunks) break;
      }
    }
    return { offset: pointer.offset, records };
  }

  async writeSnapshot(leadership: ControllerLeadership, snapshot: MetadataSnapshot): Promise<void> {
    const lead = etcdLeadership(leadership);
    if (!lead.isActive())
      throw notController(`controller ${lead.nodeId} epoch ${lead.epoch} is no longer active`);
    const { offset } = snapshot;
    if (offset <= (await this.startOffset())) return; // this one or a later one is in place
    const chunks = chunk(snapshot.records, this.snapshotChunkBytes);
    for (let i = 0; i < chunks.length; i++) {
      const r = await this.client.txn(lead.fence(), [
        { put: { key: this.layout.snapshotChunkKey(offset, i), value: chunks[i]! } },
      ]);
      if (!r.succeeded) throw notController(`controller ${lead.nodeId} epoch ${lead.epoch} was deposed`);
    }
    const pointer: SnapshotPointer = { offset, chunks: chunks.length, controllerEpoch: lead.epoch };
    // The offset must be where a batch starts, or the log's end: then the batches below it are
    // exactly the records the snapshot replaces.
    const end = await this.endOffset();
    if (offset > end) throw new RangeError(`snapshot offset ${offset} is past the log's end ${end}`);
    const boundary: Compare =
      offset === end
        ? { key: this.layout.endKey, target: 'VALUE', value: String(end) }
        : { key: this.layout.logKey(offset), target: 'CREATE', result: 'GREATER', createRevision: 0 };
    const result = await this.client.txn(
      [...lead.fence(), boundary],
      [
        { put: { key: this.layout.snapshotKey, value: JSON.stringify(pointer) } },
        { deleteRange: { key: this.layout.logPrefix, rangeEnd: this.layout.logKey(offset) } },
        {
          deleteRange: {
            key: this.layout.snapshotDataPrefix,
            rangeEnd: this.layout.snapshotChunkPrefix(offset),
          },
        },
      ],
      [{ range: { key: this.layout.leaderKey } }],
    );
    if (!result.succeeded) {
      await this.client
        .deleteRange(this.layout.snapshotChunkPrefix(offset), this.layout.snapshotChunkPrefix(offset + 1))
        .catch(() => {});
      const leader = result.responses[0]![0];
      if (!leader || leader.createRevision !== lead.createRevision) {
        throw notController(`controller ${lead.nodeId} epoch ${lead.epoch} was deposed`);
      }
      throw new RangeError(`snapshot offset ${offset} is not where a batch of the log starts or ends`);
    }
    if (this.compactHistory) await this.client.compact(result.revision);
  }

  follow(fromOffset: number, listener: MetadataLogListener): Subscription {
    let next = fromOffset;
    const deliver = (b: MetadataBatch): void => {
      try {
        listener.handleCommit(b);
      } catch (err) {
        throw new StopFollowing('metadata listener failed', { cause: err });
      }
      next = b.baseOffset + b.records.length;
    };
    return resumableWatch(
      this.client,
      this.time,
      {
        key: this.layout.logPrefix,
        prefix: true,
        sync: async () => {
          const pointer = await this.client.range(this.layout.snapshotKey);
          const revision = pointer.revision;
          const p = pointer.kvs[0] ? parsePointer(pointer.kvs[0]) : undefined;
          if (p && next < p.offset) {
            const snapshot = await this.readSnapshotAt(p, revision);
            try {
              listener.handleLoadSnapshot(snapshot);
            } catch (err) {
              throw new StopFollowing('metadata listener failed', { cause: err });
            }
            next = snapshot.offset;
          }
          for (;;) {
            const batches = await this.readAt(next, this.readPageBatches, revision);
            for (const b of batches) deliver(b);
            if (batches.length < this.readPageBatches) return revision;
          }
        },
        onEvents: (events: WatchEvent[]) => {
          for (const e of events) {
            if (e.type !== 'PUT') continue; // deletes are batches folded into a snapshot
            const b = toBatch(parseBatch(e.kv));
            if (b.baseOffset + b.records.length <= next) continue;
            if (b.baseOffset > next) return 'resync';
            deliver(from(b, next));
          }
          return undefined;
        },
        onError: (err) => listener.handleError?.(err),
        onFatal: (err) => listener.handleError?.(err),
      },
      this.retryBackoffMs,
    );
  }
}

function etcdLeadership(leadership: ControllerLeadership): EtcdControllerLeadership {
  if (!(leadership instanceof EtcdControllerLeadership)) {
    throw new TypeError(
      'the etcd metadata log is written under a leadership of the etcd controller election',
    );
  }
  return leadership;
}

/** `records` as JSON arrays of at most about `maxBytes` each (one record per part at least); one part when empty. */
function chunk(records: readonly MetadataRecord[], maxBytes: number): string[] {
  const parts: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const r of records) {
    const json = JSON.stringify(r);
    if (current.length > 0 && size + json.length + 1 > maxBytes) {
      parts.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(json);
    size += json.length + 1;
  }
  parts.push(`[${current.join(',')}]`);
  return parts;
}
