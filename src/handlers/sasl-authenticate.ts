/**
 * SaslAuthenticate (key 36), v0–2: v1 sessionLifetimeMs (KIP-368), v2 flexible. The exchange
 * itself is the connection's (src/server/sasl-authenticator.ts); one that reaches this handler
 * came outside an exchange, and Kafka's KafkaApis answers it ILLEGAL_SASL_STATE.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  SaslAuthenticateRequest,
  type SaslAuthenticateRequestData,
  SaslAuthenticateResponse,
  type SaslAuthenticateResponseData,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';

export const saslAuthenticateHandler = defineHandler<
  SaslAuthenticateRequestData,
  SaslAuthenticateResponseData
>({
  apiKey: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  request: SaslAuthenticateRequest,
  response: SaslAuthenticateResponse,
  handle() {
    return {
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      errorMessage: 'SaslAuthenticate request received after successful authentication',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0,
    };
  },
});
