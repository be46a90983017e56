/**
 * Request frames the benchmarks send themselves, pre-encoded with the project's codec: one header
 * writer (v1, or v2 with its empty tagged fields for flexible versions) and the Produce v7 and
 * Fetch v11 bodies every raw-frame benchmark uses (non-flexible versions Kafka 4.x still serves).
 */
import { codecFor, Writer } from '../src/protocol/codec.js';
import { MetadataRequest } from '../src/protocol/generated/messages.js';
import { requestHeaderVersion } from '../src/protocol/headers.js';
import type { MessageSpec } from '../src/protocol/spec.js';

/** A size-prefixed request frame of `spec` at `version` (client id "bench"). */
export function requestFrame(spec: MessageSpec, version: number, body: unknown, correlationId = 0): Buffer {
  const apiKey = spec.apiKey!;
  const w = new Writer(64 * 1024);
  w.int32(0);
  w.int16(apiKey);
  w.int16(version);
  w.int32(correlationId);
  w.string('bench');
  if (requestHeaderVersion(apiKey, version) >= 2) w.uvarint(0);
  codecFor(spec, version).write(w, body);
  const buf = w.toBuffer();
  buf.writeInt32BE(buf.length - 4, 0);
  return buf;
}

/**
 * A Metadata v4 frame for `topic` that allows auto-creation: what a producer asks before its first
 * Produce (a Produce itself creates no topic, in Kafka as here), so the broker's defaults make it.
 */
export function metadataAutoCreateFrame(topic: string): Buffer {
  return requestFrame(MetadataRequest, 4, { topics: [{ name: topic }], allowAutoTopicCreation: true });
}

/** A Produce v7 body: one batch (`records`) for one partition. */
export function produceV7Body(topic: string, partition: number, records: Buffer, acks: number): unknown {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

/**
 * A sessionless Fetch v11 body reading each of `partitions` of `topic` from its offset
 * (read-uncommitted; `partitionMaxBytes` each, 1 MiB unless said; no wait unless `maxWaitMs`).
 */
export function fetchV11Body(
  topic: string,
  partitions: readonly { partition: number; offset: number }[],
  opts: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; partitionMaxBytes?: number } = {},
): unknown {
  return {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 0,
    maxBytes: opts.maxBytes ?? 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: partitions.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: p.offset,
          logStartOffset: -1,
          partitionMaxBytes: opts.partitionMaxBytes ?? 1 << 20,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}
