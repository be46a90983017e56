// Record-level checks of a produced batch that need its records (Kafka's LogValidator.validateRecord):
// only a compacted topic pays for them, as only it refuses records without a key.
import { KafkaError } from '../protocol/kafka-error.js';
import { CONTROL_FLAG_MASK, readAttributes } from '../protocol/record-batch.js';
import { readCleanerBatch, readCleanerRecords } from './cleaner/batch-rewrite.js';

/** One refused record: its index in the batch and why (Kafka's ProduceResponse.RecordError). */
export interface RecordError {
  batchIndex: number;
  message: string | null;
}

/** Kafka's RecordValidationException around an InvalidRecordException: answered INVALID_RECORD with the record errors. */
export class RecordValidationError extends KafkaError {
  override name = 'RecordValidationException';

  constructor(readonly recordErrors: RecordError[]) {
    super(
      'INVALID_RECORD',
      `One or more records have been rejected due to ${recordErrors.length} record errors in total, and only showing the first three errors at most: [${recordErrors
        .slice(0, 3)
        .map(
          (e) =>
            `RecordError(batchIndex=${e.batchIndex}, message=${e.message === null ? 'null' : `'${e.message}'`})`,
        )
        .join(', ')}]`,
    );
  }
}

/** Throws RecordValidationError when a record of the (one, magic-2) batch has no key, for a compacted topic. */
export function validateKeysForCompactedTopic(batch: Buffer, topicPartition: string): void {
  const attributes = readAttributes(batch, 0);
  if ((attributes & CONTROL_FLAG_MASK) !== 0) return;
  const header = readCleanerBatch(batch, 0);
  const errors: RecordError[] = [];
  readCleanerRecords(batch, 0, batch.length, header).forEach((r, i) => {
    if (r.key === null)
      errors.push({
        batchIndex: i,
        message: `Compacted topic cannot accept message without key in topic partition ${topicPartition}`,
      });
  });
  if (errors.length > 0) throw new RecordValidationError(errors);
}
