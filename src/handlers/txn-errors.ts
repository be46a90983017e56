/**
 * Version-dependent error codes shared by the transaction APIs: clients older than the version
 * that introduced PRODUCER_FENCED (90) get INVALID_PRODUCER_EPOCH (47), as Kafka's KafkaApis does
 * (InitProducerId before v4; AddPartitionsToTxn, AddOffsetsToTxn, EndTxn before v2).
 */
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';

export function txnErrorCode(
  error: ErrorName,
  apiVersion: number,
  producerFencedFromVersion: number,
): number {
  if (error === 'PRODUCER_FENCED' && apiVersion < producerFencedFromVersion)
    return ErrorCode.INVALID_PRODUCER_EPOCH;
  return ErrorCode[error];
}
