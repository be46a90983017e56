/**
 * The consumer's embedded protocol (Kafka's clients ConsumerProtocol): what a classic consumer
 * puts in its JoinGroup protocols' metadata (ConsumerProtocolSubscription) and gets back from
 * SyncGroup (ConsumerProtocolAssignment), each an int16 version and that version's struct. The
 * coordinator reads them when classic members live in a KIP-848 consumer group and when a group
 * changes between the two protocols.
 */
import { decode, encode } from '../../protocol/codec.js';
import {
  ConsumerProtocolAssignment,
  type ConsumerProtocolAssignmentData,
  ConsumerProtocolSubscription,
  type ConsumerProtocolSubscriptionData,
} from '../../protocol/generated/messages.js';
import type { Assignment } from './group-records.js';

/** The version a buffer opens with, clamped to what the schemas know (a newer one reads as the newest). */
export function protocolVersion(buf: Buffer): number {
  if (buf.length < 2) throw new Error('consumer protocol bytes shorter than their version');
  return Math.min(Math.max(buf.readInt16BE(0), 0), ConsumerProtocolSubscription.validVersions![1]);
}

/** A subscription, as its own version reads it; throws when it does not parse. */
export function decodeSubscription(buf: Buffer): ConsumerProtocolSubscriptionData {
  return decode<ConsumerProtocolSubscriptionData>(
    ConsumerProtocolSubscription,
    protocolVersion(buf),
    buf.subarray(2),
  );
}

/** An assignment; an empty buffer (a member never given one) is no partitions. */
export function decodeAssignment(buf: Buffer): ConsumerProtocolAssignmentData {
  if (buf.length === 0) return { assignedPartitions: [], userData: null };
  return decode<ConsumerProtocolAssignmentData>(
    ConsumerProtocolAssignment,
    protocolVersion(buf),
    buf.subarray(2),
  );
}

function withVersion(version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, 2);
  return out;
}

export function encodeSubscription(version: number, s: ConsumerProtocolSubscriptionData): Buffer {
  return withVersion(version, encode(ConsumerProtocolSubscription, version, s));
}

export function encodeAssignment(version: number, a: ConsumerProtocolAssignmentData): Buffer {
  return withVersion(version, encode(ConsumerProtocolAssignment, version, a));
}

/** Topic-id partitions by topic name, sorted (a topic the metadata no longer knows is left out). */
export function byTopicName(
  a: Assignment,
  topicName: (topicId: string) => string | undefined,
): { topic: string; partitions: number[] }[] {
  const out: { topic: string; partitions: number[] }[] = [];
  for (const [topicId, ps] of a) {
    const topic = topicName(topicId);
    if (topic !== undefined) out.push({ topic, partitions: [...ps].sort((x, y) => x - y) });
  }
  return out;
}

/** Topic-name partitions by topic id (unknown topics left out). */
export function byTopicId(
  tps: readonly { topic: string; partitions: readonly number[] }[],
  topicId: (name: string) => string | undefined,
): Assignment {
  const out: Assignment = new Map();
  for (const tp of tps) {
    const id = topicId(tp.topic);
    if (id === undefined) continue;
    const s = out.get(id) ?? new Set<number>();
    for (const p of tp.partitions) s.add(p);
    out.set(id, s);
  }
  return out;
}
