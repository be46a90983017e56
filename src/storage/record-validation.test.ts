import { describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../protocol/records.js';
import { Log } from './log.js';
import { RecordValidationError } from './record-validation.js';
import { ManualClock, testConfig, tmpDir } from './test-helpers.js';

describe('records without a key in a compacted topic', () => {
  it.each(['none', 'gzip', 'lz4'] as const)('are refused as Kafka refuses them (%s)', (compression) => {
    const clock = new ManualClock();
    const log = Log.open(
      tmpDir(),
      'compacted',
      3,
      testConfig({ cleanupPolicy: ['compact', 'delete'] }),
      clock,
    );
    const b = encodeRecordBatch({
      compression,
      records: [
        { key: 'k', value: 'a' },
        { key: null, value: 'b' },
      ],
    });
    let err: unknown;
    try {
      log.appendAsLeader(b, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordValidationError);
    const rve = err as RecordValidationError;
    expect(rve.recordErrors).toEqual([
      {
        batchIndex: 1,
        message: 'Compacted topic cannot accept message without key in topic partition compacted-3',
      },
    ]);
    expect(rve.message).toBe(
      "One or more records have been rejected due to 1 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='Compacted topic cannot accept message without key in topic partition compacted-3')]",
    );
    expect(log.logEndOffset).toBe(0);
    // Keyed records (tombstones included) are taken; a delete-only topic takes keyless ones.
    log.appendAsLeader(encodeRecordBatch({ compression, records: [{ key: 'k', value: null }] }), 0);
    expect(log.logEndOffset).toBe(1);
    const plain = Log.open(tmpDir(), 'plain', 0, testConfig(), clock);
    plain.appendAsLeader(encodeRecordBatch({ compression, records: [{ key: null, value: 'b' }] }), 0);
    expect(plain.logEndOffset).toBe(1);
    log.close();
    plain.close();
  });
});
