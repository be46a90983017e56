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
import { defaultErrorMessage, ErrorCode, errorName } from '../protocol/generated/errors.js';
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
  throw new KafkaApiError(errorCode, errorMessage || defaultErrorMessage(errorCode) || name);
}
