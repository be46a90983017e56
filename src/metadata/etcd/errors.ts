/**
 * Errors of the cluster metadata interfaces (interfaces.ts). A deposed controller gets Kafka's
 * NOT_CONTROLLER (a KafkaError, so a request handler that calls the controller answers it as
 * such and the client looks for the new controller).
 */
import { KafkaError } from '../../protocol/kafka-error.js';

/** A controller whose leadership has ended tried to write. */
export function notController(message: string): KafkaError {
  return new KafkaError('NOT_CONTROLLER', message);
}

/** An append's own condition (besides leadership and the log's end) failed: nothing was written. */
export class ExtraCompareFailedError extends Error {
  override name = 'ExtraCompareFailedError';
}

/**
 * The log does not end where the append expected (Kafka's UnexpectedBaseOffsetException): the
 * controller's view of the log is stale. `endOffset` is where it ends.
 */
export class UnexpectedBaseOffsetError extends Error {
  override name = 'UnexpectedBaseOffsetError';
  constructor(
    readonly requiredBaseOffset: number,
    readonly endOffset: number,
  ) {
    super(`metadata log ends at ${endOffset}, not at the required base offset ${requiredBaseOffset}`);
  }
}

/**
 * A read below the log's start: those records are only in the snapshot at `snapshotOffset`
 * (Kafka's follower then fetches the snapshot). OFFSET_OUT_OF_RANGE on the wire.
 */
export class SnapshotRequiredError extends KafkaError {
  override name = 'SnapshotRequiredError';
  constructor(
    readonly fromOffset: number,
    readonly snapshotOffset: number,
  ) {
    super(
      'OFFSET_OUT_OF_RANGE',
      `metadata offset ${fromOffset} is below the log start ${snapshotOffset}: load the snapshot`,
    );
  }
}
