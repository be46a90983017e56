/**
 * The cluster metadata of separate broker processes in etcd, put together: one client and key
 * layout for a connect string, and from them the metadata log, the broker registry and the
 * controller election (see interfaces.ts for what each does, layout.ts for the keys).
 *
 * The connect string has the form of Kafka's `zookeeper.connect`:
 * `host:port[,host:port...][/root]`, e.g. `etcd1:2379,etcd2:2379,etcd3:2379/kbroker/prod`; the
 * root (default `/kbroker/`) lets several clusters share one etcd.
 */
import { systemTime, type Time } from '../../common/time.js';
import { EtcdBrokerRegistry } from './broker-registry.js';
import { EtcdClient } from './client.js';
import { EtcdControllerElection } from './election.js';
import type { SharedClusterMetadata } from './interfaces.js';
import { EtcdLayout } from './layout.js';
import { EtcdMetadataLog } from './metadata-log.js';

export { EtcdBrokerRegistry } from './broker-registry.js';
export { EtcdClient, EtcdError, EtcdUnavailableError } from './client.js';
export { EtcdControllerElection, EtcdControllerLeadership } from './election.js';
export { ExtraCompareFailedError, SnapshotRequiredError, UnexpectedBaseOffsetError } from './errors.js';
export type * from './interfaces.js';
export { EtcdLayout } from './layout.js';
export { EtcdMetadataLog } from './metadata-log.js';

/** Endpoints and root of a connect string; throws a RangeError on a malformed one. */
export function parseEtcdConnect(connect: string): { endpoints: string[]; root: string } {
  const trimmed = connect.trim();
  // A scheme's "//" is not the start of the root.
  const schemeless = trimmed.replace(/https?:\/\//g, '');
  const slash = schemeless.indexOf('/');
  const hostsPart = slash < 0 ? schemeless : schemeless.slice(0, slash);
  const root = slash < 0 ? '/kbroker/' : schemeless.slice(slash);
  if (/https:\/\//.test(trimmed)) {
    throw new RangeError(`etcd connect ${JSON.stringify(connect)}: only http:// is supported`);
  }
  const endpoints = hostsPart
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0)
    .map((h) => {
      const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(h);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
        throw new RangeError(
          `etcd connect ${JSON.stringify(connect)}: ${JSON.stringify(h)} is not host:port`,
        );
      }
      return `http://${h}`;
    });
  if (endpoints.length === 0) throw new RangeError(`etcd connect ${JSON.stringify(connect)}: no host:port`);
  if (root === '/') throw new RangeError(`etcd connect ${JSON.stringify(connect)}: the root cannot be "/"`);
  return { endpoints, root: new EtcdLayout(root).root };
}

export interface EtcdClusterMetadataOptions {
  /** `host:port[,host:port...][/root]`. */
  connect: string;
  /**
   * How long after a broker or controller process stops renewing its session (it died, or lost
   * etcd) the others see it gone. Whole seconds, at least 1 (etcd's lease granularity).
   */
  sessionTimeoutMs: number;
  requestTimeoutMs?: number;
  /** Compact etcd's history at each metadata snapshot (for an etcd without auto-compaction). */
  compactHistory?: boolean;
  time?: Time;
}

export class EtcdClusterMetadata implements SharedClusterMetadata {
  readonly client: EtcdClient;
  readonly layout: EtcdLayout;
  readonly log: EtcdMetadataLog;
  readonly registry: EtcdBrokerRegistry;
  private readonly time: Time;

  constructor(private readonly options: EtcdClusterMetadataOptions) {
    const { endpoints, root } = parseEtcdConnect(options.connect);
    this.time = options.time ?? systemTime;
    this.client = new EtcdClient({
      endpoints,
      time: this.time,
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    this.layout = new EtcdLayout(root);
    this.log = new EtcdMetadataLog(this.client, this.layout, {
      time: this.time,
      compactHistory: options.compactHistory ?? false,
    });
    this.registry = new EtcdBrokerRegistry(this.client, this.layout, {
      sessionTimeoutMs: options.sessionTimeoutMs,
      time: this.time,
    });
  }

  /** What a SharedLogController opens with (it gives the session timeout). */
  static factory(connect: string): (sessionTimeoutMs: number) => EtcdClusterMetadata {
    return (sessionTimeoutMs) => new EtcdClusterMetadata({ connect, sessionTimeoutMs });
  }

  /** The election this node campaigns in as a controller candidate. */
  election(nodeId: number): EtcdControllerElection {
    return new EtcdControllerElection(this.client, this.layout, {
      nodeId,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      time: this.time,
    });
  }

  /** The cluster id in etcd: set by the first broker to ask (its proposal), read by the others. */
  async clusterId(proposed: string): Promise<string> {
    const key = this.layout.clusterIdKey;
    const result = await this.client.txn(
      [{ key, target: 'CREATE', createRevision: 0 }],
      [{ put: { key, value: proposed } }],
      [{ range: { key } }],
    );
    return result.succeeded ? proposed : result.responses[0]![0]!.value.toString('utf8');
  }

  /** Ends every watch and connection (sessions are left to expire; close them first to leave at once). */
  close(): void {
    this.client.close();
  }
}
