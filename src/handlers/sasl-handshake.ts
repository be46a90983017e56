/**
 * SaslHandshake (key 17), v0–1. On SASL listeners the connection's authenticator answers it
 * (src/server/sasl-authenticator.ts: mechanism negotiation, and re-authentication for clients
 * that speak SaslAuthenticate v1+); a SaslHandshake that reaches this handler came on a listener
 * without SASL or after authentication from a client that cannot re-authenticate, and Kafka's
 * KafkaApis answers it ILLEGAL_SASL_STATE.
 */
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  SaslHandshakeRequest,
  type SaslHandshakeRequestData,
  SaslHandshakeResponse,
  type SaslHandshakeResponseData,
} from '../protocol/generated/messages.js';
import { defineHandler } from './handler.js';

export const saslHandshakeHandler = defineHandler<SaslHandshakeRequestData, SaslHandshakeResponseData>({
  apiKey: 17,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  request: SaslHandshakeRequest,
  response: SaslHandshakeResponse,
  handle() {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  },
});
