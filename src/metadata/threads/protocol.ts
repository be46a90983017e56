/**
 * The messages between the broker threads of `kbroker start --threads N` and the main thread that
 * holds their cluster metadata (host.ts), over one MessagePort per broker thread (structured
 * clone: metadata records are plain JSON-able objects, as they are in the metadata log's file).
 *
 * A thread sends requests (`req`, answered by one `res` with the same id) and the host pushes
 * events: the batches of a followed log, registrations seen by a registry watch, leader changes,
 * and the end of a session or leadership the thread holds. Messages on a port arrive in order, so
 * a follower sees every batch once and in log order.
 */
import { KafkaError } from '../../protocol/kafka-error.js';
import { ExtraCompareFailedError, UnexpectedBaseOffsetError } from '../etcd/errors.js';
import type {
  BrokerRegistrationInfo,
  LeaderAndEpoch,
  MetadataBatch,
  MetadataSnapshot,
  RegisteredBroker,
} from '../etcd/interfaces.js';
import type { MetadataRecord } from '../records.js';

export type HostRequest =
  | { op: 'endOffset' }
  | { op: 'follow'; sub: number; fromOffset: number }
  | { op: 'appendAsBroker'; baseOffset: number; records: readonly MetadataRecord[] }
  | {
      op: 'appendUnlessRegistered';
      epoch: number;
      baseOffset: number;
      records: readonly MetadataRecord[];
      brokerId: number;
    }
  | { op: 'writeSnapshot'; epoch: number; offset: number }
  | { op: 'register'; info: BrokerRegistrationInfo; sessionTimeoutMs: number }
  | { op: 'heartbeat' }
  | { op: 'unregister'; brokerId: number; brokerEpoch: number }
  | { op: 'registeredBrokers' }
  | { op: 'watchRegistry'; sub: number }
  | { op: 'campaign'; nodeId: number }
  | { op: 'cancelCampaign'; campaign: number }
  | { op: 'resign'; epoch: number }
  | { op: 'currentLeader' }
  | { op: 'watchLeader'; sub: number }
  | { op: 'unsubscribe'; sub: number }
  | { op: 'clusterId'; proposed: string };

/** Thread → host. */
export type ToHost = { t: 'req'; id: number; req: HostRequest };

/** Host → thread. */
export type ToThread =
  | { t: 'res'; id: number; value: unknown }
  | { t: 'err'; id: number; error: WireError }
  | { t: 'snapshot'; sub: number; snapshot: MetadataSnapshot }
  | { t: 'batch'; sub: number; batch: MetadataBatch }
  | { t: 'registered'; sub: number; broker: RegisteredBroker }
  | { t: 'unregistered'; sub: number; brokerId: number; brokerEpoch: number }
  | { t: 'leader'; sub: number; leader: LeaderAndEpoch }
  | { t: 'sessionLost'; brokerId: number; brokerEpoch: number }
  | { t: 'leadershipLost'; epoch: number };

/** An error as it crosses the port: the kinds the callers tell apart keep their class. */
export type WireError =
  | { kind: 'kafka'; error: KafkaError['error']; message: string }
  | { kind: 'unexpectedBaseOffset'; requiredBaseOffset: number; endOffset: number }
  | { kind: 'extraCompareFailed'; message: string }
  | { kind: 'other'; message: string };

export function toWireError(err: unknown): WireError {
  if (err instanceof UnexpectedBaseOffsetError) {
    return {
      kind: 'unexpectedBaseOffset',
      requiredBaseOffset: err.requiredBaseOffset,
      endOffset: err.endOffset,
    };
  }
  if (err instanceof ExtraCompareFailedError) return { kind: 'extraCompareFailed', message: err.message };
  if (err instanceof KafkaError) return { kind: 'kafka', error: err.error, message: err.message };
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}

export function fromWireError(e: WireError): Error {
  switch (e.kind) {
    case 'unexpectedBaseOffset':
      return new UnexpectedBaseOffsetError(e.requiredBaseOffset, e.endOffset);
    case 'extraCompareFailed':
      return new ExtraCompareFailedError(e.message);
    case 'kafka':
      return new KafkaError(e.error, e.message);
    default:
      return new Error(e.message);
  }
}
