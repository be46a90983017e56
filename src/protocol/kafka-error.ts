/**
 * The one error type of the broker: an outcome Kafka names in its `Errors` enum, thrown where it
 * is found (storage, replication, coordinators, handlers) and turned into the response's error
 * code and message in one place, `errorOf`. Inside the broker errors are names (`ErrorName`);
 * numbers appear only at the wire. Anything thrown that is not a KafkaError is unexpected: the
 * caller logs it and answers UNKNOWN_SERVER_ERROR (or the fallback its API uses, as Kafka's
 * coordinators answer COORDINATOR_NOT_AVAILABLE).
 */
import { ErrorCode, type ErrorName } from './generated/errors.js';

export class KafkaError extends Error {
  override name = 'KafkaError';
  /** Kafka's numeric error code for `error`, as it goes on the wire. */
  readonly code: number;
  /**
   * What the response's error_message carries: the message given, or null when none was — Kafka's
   * clients then show the error's default description.
   */
  readonly errorMessage: string | null;

  constructor(
    readonly error: ErrorName,
    message?: string | null,
    options?: ErrorOptions,
  ) {
    super(message ?? error, options);
    this.code = ErrorCode[error];
    this.errorMessage = message ?? null;
  }
}

/** A thrown value as the response sees it. */
export interface ErrorOutcome {
  error: ErrorName;
  code: number;
  message: string | null;
}

/**
 * The error name, code and message a response carries for `err`: a KafkaError's own, anything
 * else `fallback` (UNKNOWN_SERVER_ERROR unless the API says otherwise) with no message.
 */
export function errorOf(err: unknown, fallback: ErrorName = 'UNKNOWN_SERVER_ERROR'): ErrorOutcome {
  if (err instanceof KafkaError) return { error: err.error, code: err.code, message: err.errorMessage };
  return { error: fallback, code: ErrorCode[fallback], message: null };
}
