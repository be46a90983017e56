/**
 * The server side of one SASL exchange (javax.security.sasl.SaslServer as Kafka uses it), and the
 * two ways it fails: a SaslAuthenticationError's message goes to the client as it is; any other
 * SaslError is answered with Kafka's generic "Authentication failed during authentication due to
 * invalid credentials with SASL mechanism X", so a client cannot learn whether a user exists.
 */
import type { KafkaPrincipal } from '../authorizer.js';

export interface SaslServer {
  readonly mechanism: string;
  /** Takes the client's token; returns the challenge or final message (null: none). Throws on failure. */
  evaluateResponse(token: Buffer): Buffer | null;
  isComplete(): boolean;
  /** The authenticated user name (after completion). */
  authorizationId(): string;
  /** When the credential expires (OAUTHBEARER's `exp`), in ms since the epoch; null if it does not. */
  credentialExpirationMs(): number | null;
  /** The principal, when it is not `User:<authorizationId>` (a delegation token's owner). */
  principal?(): KafkaPrincipal;
}

/** A failure whose message is safe to send to the client (Kafka's SaslAuthenticationException). */
export class SaslAuthenticationError extends Error {
  override name = 'SaslAuthenticationError';
}

/** A failure answered with the generic message (Kafka's SaslException). */
export class SaslError extends Error {
  override name = 'SaslError';
}

/** A listener whose SASL settings cannot work (the broker does not start). */
export class SaslConfigError extends Error {
  override name = 'SaslConfigError';
}

export const SASL_MECHANISMS = ['GSSAPI', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export function isSupportedMechanism(m: string): m is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(m);
}
