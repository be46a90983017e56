/**
 * The cluster metadata of `kbroker start --threads N`, held by the process's main thread for the
 * broker threads (each a SharedLogController over client.ts): what etcd is to separate processes,
 * without a network or a quorum — the threads share one process, so they live and die together
 * with it, and the main thread alone orders their writes.
 *
 * - The metadata log: batches appended at the end they expect (a broker's change checked against
 *   its image at that offset), durable before they are acknowledged — written and fsynced to
 *   `<dir>/__cluster_metadata/` by the same MetadataLog a single broker uses (snapshot + batches,
 *   snapshotted past `metadata.log.max.record.bytes.between.snapshots`), and reloaded from there
 *   on the next start. Followers get the snapshot when behind it, then every batch in order.
 * - The controller election: the first campaigning thread leads; the next one in line once it
 *   resigns or its thread is gone. Epochs grow by one per election.
 * - The broker registry: one registration per broker id, held until unregistered, its thread's
 *   port closes (the thread exited or died), or its thread has sent nothing (heartbeats every third
 *   of it) for its session timeout (`broker.session.timeout.ms`: a thread whose event loop is stuck,
 *   as an etcd lease expires) — then the elected controller hears it and fences it; a thread that
 *   comes back is told its session was lost and registers again.
 * - The cluster id: the first broker's proposal, kept in `<dir>/cluster.id`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { systemTime, type Time, type Timer } from '../../common/time.js';
import { KafkaError } from '../../protocol/kafka-error.js';
import { ExtraCompareFailedError, notController, UnexpectedBaseOffsetError } from '../etcd/errors.js';
import type { LeaderAndEpoch, MetadataBatch, RegisteredBroker } from '../etcd/interfaces.js';
import { MetadataImage } from '../image.js';
import { MetadataLog } from '../metadata-log.js';
import type { MetadataRecord } from '../records.js';
import { type HostRequest, type ToHost, type ToThread, toWireError } from './protocol.js';

/** One broker thread's port and what it holds open. */
interface Conn {
  readonly port: MessagePort;
  /** Subscriptions that follow the log (each gets every batch appended from now on). */
  readonly follows: Set<number>;
  readonly registryWatches: Set<number>;
  readonly leaderWatches: Set<number>;
  closed: boolean;
  /** When the thread last sent anything (its clock: the host's `time`). */
  lastHeard: number;
}

interface Campaign {
  readonly id: number;
  readonly conn: Conn;
  readonly nodeId: number;
}

export class ThreadMetadataHost {
  private readonly conns = new Set<Conn>();
  /** The image at the log's end, and the one of its latest snapshot (what a new follower loads). */
  private image: MetadataImage;
  private snapshotImage: MetadataImage;
  /** Batches after the snapshot, in order. */
  private batches: MetadataBatch[] = [];
  private leader: { nodeId: number; epoch: number; conn: Conn } | null = null;
  private epoch = 0;
  private readonly campaigns: Campaign[] = [];
  private readonly brokers = new Map<
    number,
    { broker: RegisteredBroker; conn: Conn; sessionTimeoutMs: number }
  >();
  private readonly expiry: Timer;
  private lastCheck: number;
  /** Broker epochs grow across restarts of the process too (they start at the clock). */
  private nextBrokerEpoch = Date.now();
  private clusterIdValue: string | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly log: MetadataLog,
    image: MetadataImage,
    private readonly time: Time,
  ) {
    this.image = image;
    this.lastCheck = time.now();
    this.expiry = time.setInterval(() => this.expireSessions(), EXPIRY_CHECK_MS);
    this.snapshotImage = image;
    const idFile = path.join(dir, 'cluster.id');
    if (fs.existsSync(idFile)) this.clusterIdValue = fs.readFileSync(idFile, 'utf8').trim() || undefined;
  }

  /** Opens (creating when absent) the metadata of `dir` and loads it. */
  static open(dir: string, maxBytesBetweenSnapshots: number, time: Time = systemTime): ThreadMetadataHost {
    const { log, loaded } = MetadataLog.open(dir, maxBytesBetweenSnapshots);
    const image = MetadataImage.EMPTY.apply(loaded.records, loaded.offset).image;
    return new ThreadMetadataHost(dir, log, image, time);
  }

  /** Serves one broker thread's port until it closes (the thread exited) or `detach`. */
  attach(port: MessagePort): void {
    const conn: Conn = {
      port,
      follows: new Set(),
      registryWatches: new Set(),
      leaderWatches: new Set(),
      closed: false,
      lastHeard: this.time.now(),
    };
    this.conns.add(conn);
    port.on('message', (m: ToHost) => {
      if (conn.closed || m?.t !== 'req') return;
      conn.lastHeard = this.time.now();
      try {
        const value = this.handle(conn, m.id, m.req);
        if (value !== PENDING) this.send(conn, { t: 'res', id: m.id, value });
      } catch (err) {
        this.send(conn, { t: 'err', id: m.id, error: toWireError(err) });
      }
    });
    port.once('close', () => this.detach(port));
  }

  /**
   * The thread behind `port` is gone (or is to be treated as gone): its registrations end (the
   * controller fences those brokers), its leadership passes to the next candidate.
   */
  detach(port: MessagePort): void {
    for (const conn of this.conns) {
      if (conn.port !== port || conn.closed) continue;
      conn.closed = true;
      this.conns.delete(conn);
      for (let i = this.campaigns.length - 1; i >= 0; i--) {
        if (this.campaigns[i]!.conn === conn) this.campaigns.splice(i, 1);
      }
      for (const [brokerId, r] of [...this.brokers]) {
        if (r.conn === conn) this.unregister(brokerId, r.broker.brokerEpoch);
      }
      if (this.leader?.conn === conn) this.endLeadership();
      port.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.expiry.cancel();
    for (const conn of [...this.conns]) this.detach(conn.port);
    this.log.close();
  }

  private send(conn: Conn, m: ToThread): void {
    if (!conn.closed) conn.port.postMessage(m);
  }

  private handle(conn: Conn, id: number, req: HostRequest): unknown {
    if (this.closed) throw new KafkaError('NOT_CONTROLLER', 'the cluster metadata is closed');
    switch (req.op) {
      case 'endOffset':
        return this.image.offset;
      case 'follow':
        conn.follows.add(req.sub);
        this.catchUp(conn, req.sub, req.fromOffset);
        return null;
      case 'appendAsBroker':
        return this.append(req.baseOffset, req.records, -1);
      case 'appendUnlessRegistered': {
        this.checkLeader(conn, req.epoch);
        if (this.brokers.has(req.brokerId)) {
          throw new ExtraCompareFailedError(`broker ${req.brokerId} is registered`);
        }
        return this.append(req.baseOffset, req.records, req.epoch);
      }
      case 'writeSnapshot':
        this.checkLeader(conn, req.epoch);
        // The image here is at or past `req.offset`: a snapshot of it serves the same purpose.
        if (this.image.offset > this.snapshotImage.offset) {
          this.log.snapshot(this.image);
          this.snapshotTaken(this.image);
        }
        return null;
      case 'register': {
        const existing = this.brokers.get(req.info.brokerId);
        if (existing) {
          throw new KafkaError(
            'DUPLICATE_BROKER_REGISTRATION',
            `broker ${req.info.brokerId} is registered already (epoch ${existing.broker.brokerEpoch})`,
          );
        }
        const broker: RegisteredBroker = { ...req.info, brokerEpoch: ++this.nextBrokerEpoch };
        this.brokers.set(broker.brokerId, { broker, conn, sessionTimeoutMs: req.sessionTimeoutMs });
        this.broadcast('registryWatches', (sub) => ({ t: 'registered', sub, broker }));
        return broker;
      }
      case 'unregister':
        this.unregister(req.brokerId, req.brokerEpoch);
        return null;
      case 'heartbeat':
        return null;
      case 'registeredBrokers':
        return [...this.brokers.values()].map((r) => r.broker);
      case 'watchRegistry':
        conn.registryWatches.add(req.sub);
        for (const r of this.brokers.values())
          this.send(conn, { t: 'registered', sub: req.sub, broker: r.broker });
        return null;
      case 'campaign':
        this.campaigns.push({ id, conn, nodeId: req.nodeId });
        this.grantNext();
        return PENDING;
      case 'cancelCampaign': {
        const i = this.campaigns.findIndex((c) => c.conn === conn && c.id === req.campaign);
        if (i >= 0) {
          this.campaigns.splice(i, 1);
          this.send(conn, {
            t: 'err',
            id: req.campaign,
            error: { kind: 'other', message: 'campaign aborted' },
          });
        }
        return null;
      }
      case 'resign':
        if (this.leader?.conn === conn && this.leader.epoch === req.epoch) this.endLeadership();
        return null;
      case 'currentLeader':
        return this.leaderAndEpoch();
      case 'watchLeader':
        conn.leaderWatches.add(req.sub);
        this.send(conn, { t: 'leader', sub: req.sub, leader: this.leaderAndEpoch() });
        return null;
      case 'unsubscribe':
        conn.follows.delete(req.sub);
        conn.registryWatches.delete(req.sub);
        conn.leaderWatches.delete(req.sub);
        return null;
      case 'clusterId':
        if (this.clusterIdValue === undefined) {
          writeFileAtomic(path.join(this.dir, 'cluster.id'), `${req.proposed}\n`);
          this.clusterIdValue = req.proposed;
        }
        return this.clusterIdValue;
    }
  }

  /** A follower from `fromOffset`: the snapshot when behind it, then every batch after. */
  private catchUp(conn: Conn, sub: number, fromOffset: number): void {
    let from = fromOffset;
    if (from < this.snapshotImage.offset) {
      const snapshot = { offset: this.snapshotImage.offset, records: this.snapshotImage.toRecords() };
      this.send(conn, { t: 'snapshot', sub, snapshot });
      from = snapshot.offset;
    }
    for (const batch of this.batches) {
      if (batch.baseOffset >= from) this.send(conn, { t: 'batch', sub, batch });
    }
  }

  private checkLeader(conn: Conn, epoch: number): void {
    const l = this.leader;
    if (!l || l.conn !== conn || l.epoch !== epoch) {
      throw notController(`controller epoch ${epoch} is no longer active`);
    }
  }

  /** Appends one batch at `baseOffset` (the log's end), durably, and hands it to every follower. */
  private append(
    baseOffset: number,
    records: readonly MetadataRecord[],
    controllerEpoch: number,
  ): { baseOffset: number; endOffset: number } {
    if (!Array.isArray(records) || records.length === 0) {
      throw new RangeError('a metadata batch holds at least one record');
    }
    if (baseOffset !== this.image.offset) throw new UnexpectedBaseOffsetError(baseOffset, this.image.offset);
    const next = this.image.apply(records).image;
    // Written and fsynced before anyone hears of it; may snapshot `next` and empty the file.
    this.log.append(baseOffset, records, () => next);
    this.image = next;
    const batch: MetadataBatch = { baseOffset, records: [...records], controllerEpoch };
    // The log snapshots `next` itself once its file has grown past the interval (and starts empty).
    if (this.log.bytesSinceSnapshot === 0) this.snapshotTaken(next);
    else this.batches.push(batch);
    this.broadcast('follows', (sub) => ({ t: 'batch', sub, batch }));
    return { baseOffset, endOffset: next.offset };
  }

  private unregister(brokerId: number, brokerEpoch: number): void {
    const r = this.brokers.get(brokerId);
    if (!r || r.broker.brokerEpoch !== brokerEpoch) return;
    this.brokers.delete(brokerId);
    this.send(r.conn, { t: 'sessionLost', brokerId, brokerEpoch });
    this.broadcast('registryWatches', (sub) => ({ t: 'unregistered', sub, brokerId, brokerEpoch }));
  }

  /** The snapshot a new follower loads is `image` now; the batches it covers are dropped. */
  private snapshotTaken(image: MetadataImage): void {
    this.snapshotImage = image;
    this.batches = [];
  }

  /** Every subscription of the kind `watches` on every thread gets its copy of the message. */
  private broadcast(
    watches: 'follows' | 'registryWatches' | 'leaderWatches',
    message: (sub: number) => ToThread,
  ): void {
    for (const c of this.conns) for (const sub of c[watches]) this.send(c, message(sub));
  }

  /**
   * Registrations whose thread has been silent for their session timeout end (the controller fences
   * them), and so does a leadership that thread holds.
   */
  private expireSessions(): void {
    const now = this.time.now();
    const late = now - this.lastCheck > EXPIRY_CHECK_MS + 1_000;
    this.lastCheck = now;
    if (late) {
      // This thread was held up itself (its messages wait behind this timer): the threads' silence
      // is not theirs. Everyone starts a new timeout.
      for (const c of this.conns) c.lastHeard = now;
      return;
    }
    for (const [brokerId, r] of [...this.brokers]) {
      if (now - r.conn.lastHeard <= r.sessionTimeoutMs) continue;
      this.unregister(brokerId, r.broker.brokerEpoch);
      if (this.leader?.conn === r.conn) this.endLeadership();
    }
  }

  private endLeadership(): void {
    const l = this.leader;
    if (!l) return;
    this.leader = null;
    this.send(l.conn, { t: 'leadershipLost', epoch: l.epoch });
    this.announceLeader();
    this.grantNext();
  }

  /** The first campaign in line leads, when no one does. */
  private grantNext(): void {
    if (this.leader !== null) return;
    const next = this.campaigns.shift();
    if (!next) return;
    const epoch = ++this.epoch;
    this.leader = { nodeId: next.nodeId, epoch, conn: next.conn };
    this.send(next.conn, { t: 'res', id: next.id, value: epoch });
    this.announceLeader();
  }

  private leaderAndEpoch(): LeaderAndEpoch {
    return { leaderId: this.leader?.nodeId ?? null, epoch: this.epoch };
  }

  private announceLeader(): void {
    const leader = this.leaderAndEpoch();
    this.broadcast('leaderWatches', (sub) => ({ t: 'leader', sub, leader }));
  }
}

/** How often registrations are checked for silence. */
const EXPIRY_CHECK_MS = 250;

/** A request answered later (a campaign answered when it wins). */
const PENDING = Symbol('pending');
