/**
 * What a partition of Produce, Fetch or ListOffsets answers when serving it threw (Kafka's
 * `Errors.forException` in ReplicaManager): a KafkaError's own error, KAFKA_STORAGE_ERROR for an I/O
 * error — Kafka's log wraps every IOException into a KafkaStorageException
 * (UnifiedLog.maybeHandleIOException) — and UNKNOWN_SERVER_ERROR for anything else. The other
 * partitions of the request are still served and the connection stays open.
 */
import { type ErrorOutcome, errorOf } from '../protocol/kafka-error.js';

/** A Node.js system error (errno-style `code` such as EIO or ENOSPC) from a file operation. */
export function isIoError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code, syscall } = err as NodeJS.ErrnoException;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof syscall === 'string';
}

export function partitionErrorOf(err: unknown): ErrorOutcome {
  return errorOf(err, isIoError(err) ? 'KAFKA_STORAGE_ERROR' : 'UNKNOWN_SERVER_ERROR');
}
