import { describe, expect, it } from 'vitest';
import { FetchResponse, MetadataResponse, ProduceResponse } from '../protocol/generated/messages.js';
import type { MessageSpec } from '../protocol/spec.js';
import { Metrics } from './metrics.js';

const errorsOf = (response: unknown, spec?: MessageSpec) => {
  const m = new Metrics();
  m.requestCompleted('X', 1, { version: 1, response, ...(spec ? { spec } : {}) });
  return Object.fromEntries(m.errors.get('X') ?? []);
};

describe('Metrics error counting', () => {
  const produce = {
    responses: [
      {
        name: 'a',
        partitionResponses: [
          { index: 0, errorCode: 0, baseOffset: 1, recordErrors: [], errorMessage: null },
          { index: 1, errorCode: 6, baseOffset: -1, recordErrors: [], errorMessage: null },
        ],
      },
      { name: 'b', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 7, recordErrors: [] }] },
    ],
    throttleTimeMs: 0,
  };
  const fetch = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 't',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 1,
            highWatermark: 0,
            records: Buffer.from([1, 2]),
            abortedTransactions: null,
          },
        ],
      },
    ],
  };
  const metadata = {
    brokers: [],
    topics: [
      { errorCode: 3, name: 'x', partitions: [{ errorCode: 9, partitionIndex: 0 }, { errorCode: 0 }] },
    ],
  };

  it('counts every errorCode, top level and nested, as Kafka counts ErrorsPerSec', () => {
    expect(errorsOf(produce, ProduceResponse)).toEqual({ NONE: 2, NOT_LEADER_OR_FOLLOWER: 1 });
    expect(errorsOf(fetch, FetchResponse)).toEqual({ NONE: 1, OFFSET_OUT_OF_RANGE: 1 });
    expect(errorsOf(metadata, MetadataResponse)).toEqual({
      NONE: 1,
      UNKNOWN_TOPIC_OR_PARTITION: 1,
      REPLICA_NOT_AVAILABLE: 1,
    });
  });

  it('counts the same with the spec-compiled walker as by visiting every property', () => {
    // (Only fields of the spec are looked at: what the encoded response carries.)
    for (const [response, spec] of [
      [produce, ProduceResponse],
      [fetch, FetchResponse],
      [metadata, MetadataResponse],
      [{ errorCode: 35, responses: [] }, FetchResponse],
    ] as const) {
      expect(errorsOf(response, spec)).toEqual(errorsOf(response));
    }
  });
});
