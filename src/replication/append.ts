/**
 * The append half of Kafka's ReplicaManager.appendRecords for one partition: validate the
 * produced batch (header, CRC, size against the topic's `max.message.bytes`), append it as leader
 * (offsets and leader epoch patched in place, producer state checked, `min.insync.replicas` for
 * acks=-1) and answer what Produce returns for the partition. The batch stays bytes throughout.
 */
import path from 'node:path';
import type { ErrorName } from '../protocol/generated/errors.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { validateProducedBatches } from '../protocol/record-batch.js';
import { type RecordError, RecordValidationError } from '../storage/record-validation.js';
import { NotEnoughReplicasError, type Partition } from './partition.js';
import { partitionErrorOf } from './partition-error.js';

export interface PartitionAppendResult {
  readonly error: ErrorName;
  readonly errorMessage: string | null;
  readonly baseOffset: number;
  /** Last offset of the appended batch (-1 on failure): acks=-1 waits for the high watermark past it. */
  readonly lastOffset: number;
  readonly logAppendTime: number;
  readonly logStartOffset: number;
  /** Records appended (0 for a producer's retried batch, answered with its original offsets). */
  readonly recordsAppended: number;
  /** The records refused, for INVALID_RECORD (Kafka's record_errors). */
  readonly recordErrors?: readonly RecordError[];
}

/** One partition's produced data, with the checks of its request to run once the batch is valid. */
export interface AppendEntry {
  readonly partition: Partition;
  readonly records: Buffer;
  /** The topic's effective configs (max.message.bytes, min.insync.replicas). */
  readonly topicConfig: Readonly<Record<string, string>>;
  readonly verify?: () => ErrorName | null;
}

export interface AppendLog {
  error(message: string, err?: unknown): void;
}

export function appendFailure(error: ErrorName, errorMessage: string | null = null): PartitionAppendResult {
  return {
    error,
    errorMessage,
    baseOffset: -1,
    lastOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
    recordsAppended: 0,
  };
}

export function appendToPartition(
  partition: Partition,
  records: Buffer,
  requiredAcks: number,
  topicConfig: Readonly<Record<string, string>>,
  log: AppendLog,
  verify?: () => ErrorName | null,
): PartitionAppendResult {
  const where = `${partition.topic}-${partition.partition}`;
  // Kafka's Partition.appendRecordsToLeader: a follower refuses before looking at the records.
  if (!partition.isLeader) return appendFailure('NOT_LEADER_OR_FOLLOWER');
  try {
    const maxMessageBytes = Number(topicConfig['max.message.bytes']);
    const validated = validateProducedBatches(records, maxMessageBytes);
    if ('error' in validated) {
      const message =
        validated.error === 'MESSAGE_TOO_LARGE'
          ? `The record batch of ${records.length} bytes is larger than max.message.bytes ${maxMessageBytes}`
          : (validated.message ?? null);
      return appendFailure(validated.error, message);
    }
    // The request's own checks of a valid batch (a transactional batch's membership in its
    // producer's ongoing transaction, Kafka 3.6+ verification).
    const refused = verify?.();
    if (refused) return appendFailure(refused);
    const info = partition.appendRecordsToLeader(
      records,
      'client',
      requiredAcks,
      Number(topicConfig['min.insync.replicas']),
    );
    return {
      error: 'NONE',
      errorMessage: null,
      baseOffset: info.baseOffset,
      lastOffset: info.lastOffset,
      logAppendTime: info.logAppendTime,
      logStartOffset: info.logStartOffset,
      recordsAppended: info.duplicate ? 0 : validated.batch.recordsCount,
    };
  } catch (err) {
    // Kafka's RecordValidationException: INVALID_RECORD with the refused records (record_errors).
    if (err instanceof RecordValidationError)
      return { ...appendFailure(err.error, err.errorMessage), recordErrors: err.recordErrors };
    if (err instanceof NotEnoughReplicasError) {
      // Kafka logs the reason and answers the bare code (no custom error message).
      log.error(`Error processing append operation on partition ${where}: ${err.message}`);
      return appendFailure(err.error);
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
      // Which directory is full: the partition's log dir holds the path (issue 19).
      log.error(
        `Error processing append operation on partition ${where}: log directory ${path.dirname(partition.log.dir)} is full (ENOSPC)`,
        err,
      );
    } else if (!(err instanceof KafkaError)) {
      // A KafkaError (ProducerStateError: sequence, epoch, transaction checks) is an expected answer.
      log.error(`Error processing append operation on partition ${where}`, err);
    }
    const { error, message } = partitionErrorOf(err);
    return appendFailure(error, message);
  }
}
