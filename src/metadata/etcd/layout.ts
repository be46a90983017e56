/**
 * Where the cluster's metadata lives in etcd, under one root (several clusters can share an etcd):
 *
 * | key | value |
 * |---|---|
 * | `<root>metadata/log/<base offset, 20 digits>` | a batch: `{baseOffset, controllerEpoch, writer, records}` |
 * | `<root>metadata/end` | the log's end offset (absent: 0) |
 * | `<root>metadata/snapshot` | the latest snapshot: `{offset, chunks, controllerEpoch}` (absent: none) |
 * | `<root>metadata/snapshot-data/<offset, 20 digits>/<chunk, 6 digits>` | a part of its records |
 * | `<root>controller/leader` | the active controller `{nodeId, epoch}`, bound to its lease |
 * | `<root>controller/epoch` | the last controller epoch |
 * | `<root>brokers/<broker id, 10 digits>` | a broker's registration, bound to its lease |
 * | `<root>cluster/id` | the cluster id, set by the first broker to start |
 *
 * Offsets and ids are zero-padded so that etcd's key order is their numeric order.
 */
import { prefixEnd } from './client.js';

const pad = (n: number, width: number): string => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not an offset or id: ${n}`);
  return String(n).padStart(width, '0');
};

export class EtcdLayout {
  readonly root: string;

  /** `root`: ASCII, ends with '/', e.g. `/kbroker/<cluster id>/`. */
  constructor(root = '/kbroker/') {
    if (!/^[\x20-\x7e]+$/.test(root))
      throw new Error(`etcd root must be printable ASCII: ${JSON.stringify(root)}`);
    this.root = root.endsWith('/') ? root : `${root}/`;
  }

  get logPrefix(): string {
    return `${this.root}metadata/log/`;
  }

  get logPrefixEnd(): string {
    return prefixEnd(this.logPrefix);
  }

  logKey(baseOffset: number): string {
    return this.logPrefix + pad(baseOffset, 20);
  }

  offsetOfLogKey(key: string): number {
    return Number(key.slice(this.logPrefix.length));
  }

  get endKey(): string {
    return `${this.root}metadata/end`;
  }

  get snapshotKey(): string {
    return `${this.root}metadata/snapshot`;
  }

  get snapshotDataPrefix(): string {
    return `${this.root}metadata/snapshot-data/`;
  }

  snapshotChunkPrefix(offset: number): string {
    return `${this.snapshotDataPrefix + pad(offset, 20)}/`;
  }

  snapshotChunkKey(offset: number, chunk: number): string {
    return this.snapshotChunkPrefix(offset) + pad(chunk, 6);
  }

  get leaderKey(): string {
    return `${this.root}controller/leader`;
  }

  get epochKey(): string {
    return `${this.root}controller/epoch`;
  }

  get controllerPrefix(): string {
    return `${this.root}controller/`;
  }

  get clusterIdKey(): string {
    return `${this.root}cluster/id`;
  }

  get brokersPrefix(): string {
    return `${this.root}brokers/`;
  }

  brokerKey(brokerId: number): string {
    return this.brokersPrefix + pad(brokerId, 10);
  }

  brokerIdOfKey(key: string): number {
    return Number(key.slice(this.brokersPrefix.length));
  }
}
