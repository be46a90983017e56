/**
 * Produce (key 0), advertised 0–11 (librdkafka only compresses when v0 is in range, KAFKA-18659),
 * served for v3–11: v0–2 carry message formats v0/v1, which kbroker does not store, and are
 * answered UNSUPPORTED_VERSION per partition, as a Kafka 4 broker does.
 * v3 adds transactional id and requires magic-2 batches; v5 log start offset; v7 zstd allowed;
 * v8 record errors; v9 flexible; v10 current leader (tagged, omitted on a single node).
 * The batch stays bytes: validate the header and CRC, patch offset and leader epoch in place,
 * append. acks=0 sends no response; acks=1 and -1 answer after the local append (the ISR is this
 * broker alone); `flush.messages` decides whether that append was fsynced first. acks=-1 with the
 * ISR below the topic's effective `min.insync.replicas` (Partition.effectiveMinIsr) is answered
 * NOT_ENOUGH_REPLICAS (no error message; the reason is logged) and appends nothing, as Kafka.
 *
 * Idempotence and transactions: a batch with a producer id (-1 means none, whatever kafkajs puts in
 * epoch and sequence) is checked against the partition's producer state: a retried batch is answered
 * with its original offsets and not appended; a sequence gap gives OUT_OF_ORDER_SEQUENCE_NUMBER, an
 * old epoch INVALID_PRODUCER_EPOCH. A transactional batch needs the request's transactional id
 * (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka) and a partition the coordinator has in
 * that producer's ongoing transaction (Kafka 3.6+ verification; else INVALID_TXN_STATE), so no
 * transaction is ever left open where no marker will come.
 * An unexpected failure appending to one partition answers it UNKNOWN_SERVER_ERROR, or
 * KAFKA_STORAGE_ERROR for an I/O error (as Kafka's Errors.forException); the others are appended.
 */
import { ErrorCode, type ErrorName } from '../protocol/generated/errors.js';
import {
  ProduceRequest,
  type ProduceRequestData,
  ProduceResponse,
  type ProduceResponseData,
  type ProduceResponsePartitionProduceResponse,
} from '../protocol/generated/messages.js';
import {
  compression,
  isTransactional,
  readProducerEpoch,
  readProducerId,
  validateProducedBatches,
} from '../protocol/record-batch.js';
import { NotEnoughReplicasError } from '../replication/partition.js';
import type { Broker } from '../server/broker.js';
import { defineHandler } from '../server/handler.js';
import { ProducerStateError } from '../storage/producer-state-manager.js';
import { unexpectedPartitionError } from './partition-error.js';

const MIN_SUPPORTED_VERSION = 3;
const ZSTD_MIN_VERSION = 7;

function failed(
  index: number,
  error: ErrorName,
  message: string | null = null,
): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode: ErrorCode[error],
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage: message,
  };
}

function appendPartition(
  broker: Broker,
  topicName: string,
  index: number,
  records: Buffer | null,
  apiVersion: number,
  transactionalId: string | null,
  acks: number,
): ProduceResponsePartitionProduceResponse {
  const topic = broker.replicaManager.getOrAutoCreate(topicName);
  const partition = topic?.partitions[index];
  if (!topic || !partition) return failed(index, 'UNKNOWN_TOPIC_OR_PARTITION');
  if (topic.isInternal)
    return failed(index, 'INVALID_TOPIC_EXCEPTION', `Cannot produce to internal topic ${topicName}`);
  if (!records || records.length === 0)
    return failed(index, 'INVALID_RECORD', 'Produce request with no record batch');
  const maxMessageBytes = Number(topic.effectiveConfig['max.message.bytes']);
  const result = validateProducedBatches(records, maxMessageBytes);
  if ('error' in result) {
    const message =
      result.error === 'MESSAGE_TOO_LARGE'
        ? `The record batch of ${records.length} bytes is larger than max.message.bytes ${maxMessageBytes}`
        : null;
    return failed(index, result.error, message);
  }
  if (compression(records, 0) === 'zstd' && apiVersion < ZSTD_MIN_VERSION) {
    return failed(index, 'UNSUPPORTED_COMPRESSION_TYPE');
  }
  if (isTransactional(records, 0)) {
    if (transactionalId === null) return failed(index, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    const error = broker.transactionCoordinator.verifyTransactionalProduce(
      transactionalId,
      readProducerId(records, 0),
      readProducerEpoch(records, 0),
      topicName,
      index,
    );
    if (error) return failed(index, error);
  }
  let info: ReturnType<typeof partition.appendRecordsToLeader>;
  try {
    info = partition.appendRecordsToLeader(
      records,
      'client',
      acks,
      Number(topic.effectiveConfig['min.insync.replicas']),
    );
  } catch (err) {
    if (err instanceof ProducerStateError) return failed(index, err.error, err.message);
    if (err instanceof NotEnoughReplicasError) {
      // Kafka logs the reason and answers the bare code (no custom error message).
      broker.log.error(
        `Error processing append operation on partition ${topicName}-${index}: ${err.message}`,
      );
      return failed(index, err.error);
    }
    throw err;
  }
  if (!info.duplicate) broker.metrics.produced(topicName, records.length, result.batch.recordsCount);
  return {
    index,
    errorCode: ErrorCode.NONE,
    baseOffset: info.baseOffset,
    logAppendTimeMs: info.logAppendTime,
    logStartOffset: info.logStartOffset,
    recordErrors: [],
    errorMessage: null,
  };
}

export const produceHandler = defineHandler<ProduceRequestData, ProduceResponseData>({
  apiKey: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 11,
  request: ProduceRequest,
  response: ProduceResponse,
  handle(ctx, req) {
    const { broker, apiVersion } = ctx;
    const responses = req.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) => {
        if (apiVersion < MIN_SUPPORTED_VERSION) return failed(p.index, 'UNSUPPORTED_VERSION');
        if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1)
          return failed(p.index, 'INVALID_REQUIRED_ACKS');
        try {
          return appendPartition(
            broker,
            t.name,
            p.index,
            p.records as Buffer | null,
            apiVersion,
            req.transactionalId ?? null,
            req.acks,
          );
        } catch (err) {
          broker.log.error(`Error processing append operation on partition ${t.name}-${p.index}`, err);
          return failed(p.index, unexpectedPartitionError(err));
        }
      }),
    }));
    if (req.acks === 0) return null;
    return { responses, throttleTimeMs: 0 };
  },
});
