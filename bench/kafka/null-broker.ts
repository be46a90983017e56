/**
 * The ceiling of `npm run bench:kafka`'s kcat rows: a Kafka-protocol server that does none of a
 * broker's work. It answers ApiVersions, Metadata, CreateTopics and ListOffsets, acknowledges
 * every Produce without validating or storing its batches (it only counts their records, so the
 * benchmark's end-offset check still holds), and answers a Fetch with the first batch produced to
 * the partition, repeated with its base offset moved along (the CRC does not cover the base
 * offset), until the produced count. What a client reaches against it is what the client and the
 * kernel's loopback manage on this machine with no broker in the way: no broker can do better
 * with that client here, so it bounds the ratio to Kafka a broker can show.
 *
 *   tsx bench/kafka/null-broker.ts [--port N]     prints "listening on 127.0.0.1:<port>"
 *
 * Not a broker: nothing is kept, nothing checked, one node, no groups. Only for the benchmark.
 */
import { createServer, type Socket } from 'node:net';
import { codecFor } from '../../src/protocol/codec.js';
import {
  ApiVersionsResponse,
  CreateTopicsResponse,
  FetchResponse,
  ListOffsetsResponse,
  MetadataResponse,
  ProduceResponse,
  requestSpecs,
} from '../../src/protocol/generated/messages.js';
import { encodeResponseFrame, readRequestHeader } from '../../src/protocol/headers.js';
import type { MessageSpec } from '../../src/protocol/spec.js';

/** The versions served (apiKey → [min, max]): what librdkafka 2.x and the bench's own requests use. */
const SERVED = new Map<number, { spec: MessageSpec; versions: [number, number] }>([
  [0, { spec: ProduceResponse, versions: [3, 9] }],
  [1, { spec: FetchResponse, versions: [4, 12] }],
  [2, { spec: ListOffsetsResponse, versions: [1, 7] }],
  [3, { spec: MetadataResponse, versions: [1, 12] }],
  [18, { spec: ApiVersionsResponse, versions: [0, 3] }],
  [19, { spec: CreateTopicsResponse, versions: [2, 7] }],
]);
const NODE_ID = 1;
const EMPTY = Buffer.alloc(0);
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const UNSUPPORTED_VERSION = 35;

interface PartitionState {
  /** records acknowledged so far: the partition's log end offset */
  count: number;
  /** the largest batch produced (copied), served back by Fetch in place of every batch */
  template: Buffer | null;
}

const topics = new Map<string, PartitionState[]>();

function partitionsOf(topic: string, create = 0): PartitionState[] | undefined {
  let ps = topics.get(topic);
  if (!ps && create > 0) {
    ps = Array.from({ length: create }, () => ({ count: 0, template: null }));
    topics.set(topic, ps);
  }
  return ps;
}

/**
 * Adds the record counts of the batches in `records` to the partition's (their headers only:
 * lengths at 8, counts at 57) and keeps a copy of the largest batch yet, so that Fetch serves
 * batches the size the client produced.
 */
function countRecords(state: PartitionState, records: Buffer): void {
  let pos = 0;
  while (pos + 61 <= records.length) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (size < 61 || pos + size > records.length) break;
    state.count += records.readInt32BE(pos + 57);
    if (size > (state.template?.length ?? 0)) state.template = Buffer.from(records.subarray(pos, pos + size));
    pos += size;
  }
}

type Body = Record<string, unknown>;
type Handler = (req: Body, version: number, port: number) => Body;

const handlers = new Map<number, Handler>([
  [
    18,
    () => ({
      errorCode: 0,
      apiKeys: [...SERVED].map(([apiKey, s]) => ({
        apiKey,
        minVersion: s.versions[0],
        maxVersion: s.versions[1],
      })),
    }),
  ],
  [
    3,
    (req, _v, port) => {
      const asked = (req.topics as { name: string | null }[] | null)?.map((t) => t.name ?? '') ?? [
        ...topics.keys(),
      ];
      return {
        brokers: [{ nodeId: NODE_ID, host: '127.0.0.1', port }],
        clusterId: 'null-broker',
        controllerId: NODE_ID,
        topics: asked.map((name) => {
          const ps = partitionsOf(name);
          return {
            errorCode: ps ? 0 : UNKNOWN_TOPIC_OR_PARTITION,
            name,
            partitions: (ps ?? []).map((_, i) => ({
              errorCode: 0,
              partitionIndex: i,
              leaderId: NODE_ID,
              leaderEpoch: 0,
              replicaNodes: [NODE_ID],
              isrNodes: [NODE_ID],
            })),
          };
        }),
      };
    },
  ],
  [
    19,
    (req) => ({
      topics: (req.topics as { name: string; numPartitions: number }[]).map((t) => {
        partitionsOf(t.name, Math.max(1, t.numPartitions));
        return { name: t.name, errorCode: 0, errorMessage: null };
      }),
    }),
  ],
  [
    0,
    (req) => ({
      responses: (
        req.topicData as { name: string; partitionData: { index: number; records: Buffer | null }[] }[]
      ).map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p) => {
          const state = partitionsOf(t.name)?.[p.index];
          if (!state) return { index: p.index, errorCode: UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1 };
          const baseOffset = state.count;
          countRecords(state, p.records ?? EMPTY);
          return { index: p.index, errorCode: 0, baseOffset, logStartOffset: 0 };
        }),
      })),
    }),
  ],
  [
    2,
    (req) => ({
      topics: (
        req.topics as { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[]
      ).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const state = partitionsOf(t.name)?.[p.partitionIndex];
          if (!state) return { partitionIndex: p.partitionIndex, errorCode: UNKNOWN_TOPIC_OR_PARTITION };
          // -2: the earliest offset; anything else here: the latest (the bench asks -1).
          const offset = p.timestamp === -2 ? 0 : state.count;
          return { partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1, offset, leaderEpoch: 0 };
        }),
      })),
    }),
  ],
  [
    1,
    (req) => {
      let budget = Math.max(1, Number(req.maxBytes));
      return {
        errorCode: 0,
        sessionId: 0,
        responses: (
          req.topics as {
            topic: string;
            partitions: { partition: number; fetchOffset: number; partitionMaxBytes: number }[];
          }[]
        ).map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            const state = partitionsOf(t.topic)?.[p.partition];
            if (!state)
              return {
                partitionIndex: p.partition,
                errorCode: UNKNOWN_TOPIC_OR_PARTITION,
                highWatermark: -1,
              };
            const chunks: Buffer[] = [];
            const template = state.template;
            let base = p.fetchOffset;
            if (template) {
              const perBatch = template.readInt32BE(57);
              let room = Math.min(budget, p.partitionMaxBytes);
              while (base < state.count && (chunks.length === 0 || room >= template.length)) {
                const head = Buffer.allocUnsafe(8);
                head.writeInt32BE(Math.floor(base / 2 ** 32), 0);
                head.writeUInt32BE(base >>> 0, 4);
                chunks.push(head, template.subarray(8));
                room -= template.length;
                budget -= template.length;
                base += perBatch;
              }
            }
            return {
              partitionIndex: p.partition,
              errorCode: 0,
              highWatermark: state.count,
              lastStableOffset: state.count,
              logStartOffset: 0,
              abortedTransactions: null,
              records: chunks.length > 0 ? chunks : EMPTY,
            };
          }),
        })),
      };
    },
  ],
]);

function answer(socket: Socket, frame: Buffer, port: number): void {
  const { header, body } = readRequestHeader(frame);
  const { requestApiKey: apiKey, requestApiVersion: version, correlationId } = header;
  const served = SERVED.get(apiKey);
  if (!served || version < served.versions[0] || version > served.versions[1]) {
    if (apiKey !== 18) throw new Error(`unsupported request: api ${apiKey} v${version}`);
    // An ApiVersions newer than served: answered at v0 with UNSUPPORTED_VERSION and the list (KIP-511).
    const list = handlers.get(18)!({}, 0, port);
    for (const c of encodeResponseFrame(18, 0, correlationId, (w) =>
      codecFor(ApiVersionsResponse, 0).write(w, { ...list, errorCode: UNSUPPORTED_VERSION }),
    ))
      socket.write(c as Buffer); // no external records here: every chunk is bytes
    return;
  }
  const req = codecFor<Body>(requestSpecs.get(apiKey)!, version).read(body);
  if (apiKey === 0 && Number(req.acks) === 0) return;
  const res = handlers.get(apiKey)!(req, version, port);
  for (const c of encodeResponseFrame(apiKey, version, correlationId, (w) =>
    codecFor(served.spec, version).write(w, res),
  ))
    socket.write(c as Buffer);
}

/** Cuts size-prefixed frames out of a socket's chunks, copying only frames split across chunks. */
function serve(socket: Socket, port: number): void {
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let buffered = 0;
  const take = (n: number): Buffer => {
    const first = chunks[0]!;
    if (first.length >= n) {
      chunks[0] = first.subarray(n);
      if (chunks[0].length === 0) chunks.shift();
      buffered -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const c = chunks[0]!;
      const len = Math.min(c.length, n - got);
      c.copy(out, got, 0, len);
      got += len;
      if (len === c.length) chunks.shift();
      else chunks[0] = c.subarray(len);
    }
    buffered -= n;
    return out;
  };
  const peekSize = (): number => {
    const first = chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const prefix = Buffer.allocUnsafe(4);
    let got = 0;
    for (const c of chunks) {
      got += c.copy(prefix, got, 0, Math.min(c.length, 4 - got));
      if (got === 4) break;
    }
    return prefix.readInt32BE(0);
  };
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    socket.cork();
    try {
      while (buffered >= 4) {
        const size = peekSize();
        if (size < 0) throw new Error(`bad frame size ${size}`);
        if (buffered < 4 + size) break;
        take(4);
        answer(socket, take(size), port);
      }
    } catch (err) {
      process.stderr.write(`null-broker: ${err instanceof Error ? err.message : String(err)}\n`);
      socket.destroy();
    } finally {
      process.nextTick(() => socket.uncork());
    }
  });
  socket.on('error', () => {});
}

const portArg = process.argv.indexOf('--port');
const server = createServer((s) => serve(s, (server.address() as { port: number }).port));
server.listen(portArg > 0 ? Number(process.argv[portArg + 1]) : 0, '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${(server.address() as { port: number }).port}\n`);
});
