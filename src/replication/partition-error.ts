/**
 * What a partition of Produce, Fetch or ListOffsets answers when serving it threw unexpectedly
 * (Kafka's `Errors.forException` in ReplicaManager): KAFKA_STORAGE_ERROR for an I/O error — Kafka's
 * log wraps every IOException into a KafkaStorageException (UnifiedLog.maybeHandleIOException) — and
 * UNKNOWN_SERVER_ERROR for anything else. The other partitions of the request are still served and
 * the connection stays open.
 */
import type { ErrorName } from '../protocol/generated/errors.js';

/** A Node.js system error (errno-style `code` such as EIO or ENOSPC) from a file operation. */
export function isIoError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code, syscall } = err as NodeJS.ErrnoException;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof syscall === 'string';
}

export function unexpectedPartitionError(err: unknown): ErrorName {
  return isIoError(err) ? 'KAFKA_STORAGE_ERROR' : 'UNKNOWN_SERVER_ERROR';
}
