/**
 * The console's writes go through the broker's own Kafka API handlers, in process: the request is
 * built as a client would send it, encoded and decoded with the wire codec at the handler's
 * newest version (so the handler sees exactly what a real client's request decodes to, defaults
 * included), handled, and the response's Kafka error code and message turned into an HTTP answer.
 * Validation, error codes and messages are therefore Kafka's — the same code kafka-topics,
 * kafka-configs and kafka-consumer-groups reach over TCP — and never a second copy of them.
 *
 * Requests made this way are not counted in the per-API request metrics (they are not Kafka
 * requests); what they do to topics (records appended, bytes in) is counted as usual.
 */

import type { ApiHandler, RequestContext } from '../handlers/handler.js';
import { decode, encode } from '../protocol/codec.js';
import { ErrorCode, errorName } from '../protocol/generated/errors.js';
import { ANONYMOUS } from '../security/authorizer.js';
import type { Broker } from '../server/broker.js';

/** The console's calls are not tied to a connection: nothing aborts them. */
const NEVER_ABORTED = new AbortController().signal;

/** Calls `handler` in process as a client at its newest version would. */
export async function callKafka<Req, Res>(
  broker: Broker,
  handler: ApiHandler<Req, Res>,
  request: Req,
  version = handler.maxVersion,
): Promise<Res> {
  const wireRequest = decode<Req>(handler.request, version, encode(handler.request, version, request));
  const ctx: RequestContext = {
    ...broker.services,
    principal: ANONYMOUS,
    listenerName: broker.config.listeners[0]!.name,
    apiVersion: version,
    correlationId: 0,
    clientId: 'kbroker-console',
    remote: 'admin-http',
    signal: NEVER_ABORTED,
  };
  const res = await broker.batchUpdates(() => handler.handle(ctx, wireRequest as never));
  if (res === null) throw new Error(`${handler.name} sent no response`);
  return res;
}

/** Errors.java's default messages, for responses that carry only a code. */
const DEFAULT_MESSAGES: Partial<Record<string, string>> = {
  UNKNOWN_SERVER_ERROR: 'The server experienced an unexpected error when processing the request.',
  UNKNOWN_TOPIC_OR_PARTITION: 'This server does not host this topic-partition.',
  UNKNOWN_TOPIC_ID: 'This server does not host this topic ID.',
  INVALID_TOPIC_EXCEPTION: 'The request attempted to perform an operation on an invalid topic.',
  TOPIC_ALREADY_EXISTS: 'Topic with this name already exists.',
  INVALID_PARTITIONS: 'Number of partitions is below 1.',
  INVALID_REPLICATION_FACTOR: 'Replication factor is below 1 or larger than the number of available brokers.',
  INVALID_CONFIG: 'Configuration is invalid.',
  INVALID_REQUEST:
    'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.',
  GROUP_ID_NOT_FOUND: 'The group id does not exist.',
  NON_EMPTY_GROUP: 'The group is not empty.',
  UNKNOWN_MEMBER_ID: 'The coordinator is not aware of this member.',
  ILLEGAL_GENERATION: 'Specified group generation id is not valid.',
  REBALANCE_IN_PROGRESS: 'The group is rebalancing, so a rejoin is needed.',
  COORDINATOR_NOT_AVAILABLE: 'The coordinator is not available.',
  COORDINATOR_LOAD_IN_PROGRESS: "The coordinator is loading and hence can't process requests.",
  NOT_COORDINATOR: 'This is not the correct coordinator.',
  INVALID_GROUP_ID: 'The configured groupId is invalid.',
  OFFSET_METADATA_TOO_LARGE: 'The metadata field of the offset request was too large.',
  MESSAGE_TOO_LARGE:
    'The request included a message larger than the max message size the server will accept.',
  RECORD_LIST_TOO_LARGE:
    'The request included message batch larger than the configured segment size on the server.',
  INVALID_RECORD: 'This record has failed the validation on broker and hence will be rejected.',
  CORRUPT_MESSAGE:
    'This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.',
  NOT_ENOUGH_REPLICAS: 'Messages are rejected since there are fewer in-sync replicas than required.',
  TOPIC_DELETION_DISABLED: 'Topic deletion is disabled.',
  POLICY_VIOLATION: 'Request parameters do not satisfy the configured policy.',
  TRANSACTIONAL_ID_NOT_FOUND: 'The transactionalId could not be found.',
  OFFSET_OUT_OF_RANGE: 'The requested offset is not within the range of offsets maintained by the server.',
};

/** An error a Kafka API answered, as the admin API reports it. */
export class KafkaApiError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }

  get errorName(): string {
    return errorName(this.errorCode) ?? `UNKNOWN_${this.errorCode}`;
  }

  /** HTTP status for the code: not found, conflict, unavailable, server error, else bad request. */
  get status(): number {
    switch (this.errorName) {
      case 'UNKNOWN_TOPIC_OR_PARTITION':
      case 'UNKNOWN_TOPIC_ID':
      case 'GROUP_ID_NOT_FOUND':
      case 'TRANSACTIONAL_ID_NOT_FOUND':
        return 404;
      case 'TOPIC_ALREADY_EXISTS':
      case 'NON_EMPTY_GROUP':
      case 'UNKNOWN_MEMBER_ID':
      case 'ILLEGAL_GENERATION':
      case 'REBALANCE_IN_PROGRESS':
      case 'CONCURRENT_TRANSACTIONS':
        return 409;
      case 'MESSAGE_TOO_LARGE':
      case 'RECORD_LIST_TOO_LARGE':
        return 413;
      case 'NOT_ENOUGH_REPLICAS':
      case 'COORDINATOR_NOT_AVAILABLE':
      case 'COORDINATOR_LOAD_IN_PROGRESS':
      case 'NOT_COORDINATOR':
      case 'LEADER_NOT_AVAILABLE':
      case 'REQUEST_TIMED_OUT':
        return 503;
      case 'UNKNOWN_SERVER_ERROR':
        return 500;
      default:
        return 400;
    }
  }
}

/** Throws KafkaApiError unless `errorCode` is NONE; the message is the response's, else Kafka's default. */
export function check(errorCode: number, errorMessage?: string | null): void {
  if (errorCode === ErrorCode.NONE) return;
  const name = errorName(errorCode) ?? `UNKNOWN_${errorCode}`;
  throw new KafkaApiError(errorCode, errorMessage || DEFAULT_MESSAGES[name] || name);
}
