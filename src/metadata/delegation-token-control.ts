/**
 * Delegation tokens at the controller (Kafka's DelegationTokenControlManager, KIP-48): Create,
 * Renew and Expire checked against the image and answered with the records they write, and the
 * periodic sweep of expired tokens. Pure: the caller commits the records (one batch) and answers.
 *
 * - Create: disabled without `delegation.token.secret.key` (DELEGATION_TOKEN_AUTH_DISABLED); the
 *   owner is the request's (v3) or the requester; the lifetime is the request's max lifetime within
 *   `delegation.token.max.lifetime.ms`, the first expiry `delegation.token.expiry.time.ms` later
 *   (never past the max); the id a random Uuid, the HMAC-SHA512 of it the token's secret.
 * - Renew: the token named by its HMAC (DELEGATION_TOKEN_NOT_FOUND), not expired
 *   (DELEGATION_TOKEN_EXPIRED), by its owner or a renewer (DELEGATION_TOKEN_OWNER_MISMATCH); the new
 *   expiry is now + the renew period (at most the expiry time), never past the max.
 * - Expire: the same checks but expiry; a negative period removes the token at once, else the new
 *   expiry is now + the period, never past the max.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import { newTopicId as newUuid } from '../storage/partition-metadata.js';
import {
  type DelegationTokenImage,
  ownerOrRenewer,
  type TokenInformation,
  tokenHmac,
} from './delegation-token-image.js';
import type { DelegationTokenRecord, RemoveDelegationTokenRecord } from './records.js';

/** The delegation token configs of a broker (Kafka's DelegationTokenManagerConfigs). */
export function delegationTokenConfig(config: BrokerConfig): DelegationTokenConfig {
  const secret = config.get('delegation.token.secret.key');
  return {
    secretKey: secret === null || secret === '' ? null : secret,
    maxLifetimeMs: config.int('delegation.token.max.lifetime.ms'),
    expiryTimeMs: config.int('delegation.token.expiry.time.ms'),
  };
}

export interface DelegationTokenConfig {
  /** delegation.token.secret.key; null: tokens are disabled. */
  readonly secretKey: string | null;
  readonly maxLifetimeMs: number;
  readonly expiryTimeMs: number;
}

export type TokenError =
  | 'NONE'
  | 'DELEGATION_TOKEN_AUTH_DISABLED'
  | 'DELEGATION_TOKEN_NOT_FOUND'
  | 'DELEGATION_TOKEN_EXPIRED'
  | 'DELEGATION_TOKEN_OWNER_MISMATCH';

export interface TokenChange<T> {
  readonly records: (DelegationTokenRecord | RemoveDelegationTokenRecord)[];
  readonly result: T;
}

export interface CreateTokenRequest {
  /** `Type:name`. */
  readonly owner: string;
  readonly requester: string;
  readonly renewers: readonly string[];
  /** ≤ 0: the configured max lifetime. */
  readonly maxLifetimeMs: number;
}

export interface CreatedToken {
  readonly error: TokenError;
  readonly token?: TokenInformation;
  readonly hmac?: Buffer;
}

/** Adds a duration to a time without going past the largest long (Kafka's sum). */
function plus(now: number, ms: number): number {
  return now > Number.MAX_SAFE_INTEGER - ms ? Number.MAX_SAFE_INTEGER : now + ms;
}

export function createDelegationToken(
  config: DelegationTokenConfig,
  req: CreateTokenRequest,
  now: number,
): TokenChange<CreatedToken> {
  if (config.secretKey === null) return { records: [], result: { error: 'DELEGATION_TOKEN_AUTH_DISABLED' } };
  const lifetime =
    req.maxLifetimeMs > 0 ? Math.min(config.maxLifetimeMs, req.maxLifetimeMs) : config.maxLifetimeMs;
  const maxTimestamp = plus(now, lifetime);
  const token: TokenInformation = {
    tokenId: newUuid(),
    owner: req.owner,
    requester: req.requester,
    renewers: [...req.renewers],
    issueTimestamp: now,
    maxTimestamp,
    expirationTimestamp: Math.min(maxTimestamp, plus(now, config.expiryTimeMs)),
  };
  return {
    records: [{ type: 'DelegationTokenRecord', ...token }],
    result: { error: 'NONE', token, hmac: tokenHmac(token.tokenId, config.secretKey) },
  };
}

/** The token a Renew or Expire names by its HMAC, or the error that answers it. */
function findToken(
  image: DelegationTokenImage,
  config: DelegationTokenConfig,
  hmac: Buffer,
): TokenInformation | Exclude<TokenError, 'NONE'> {
  if (config.secretKey === null) return 'DELEGATION_TOKEN_AUTH_DISABLED';
  return image.tokenForHmac(hmac, config.secretKey) ?? 'DELEGATION_TOKEN_NOT_FOUND';
}

const expired = (t: TokenInformation, now: number) => t.maxTimestamp < now || t.expirationTimestamp < now;

/** Kafka's DelegationTokenManager.ErrorTimestamp: the expiry answered with an error. */
export const ERROR_TIMESTAMP = -1;

export type ExpiryChange = TokenChange<{ error: TokenError; expiryTimestamp: number }>;

/** A Renew or Expire refused: nothing written. */
const refused = (error: Exclude<TokenError, 'NONE'>): ExpiryChange => ({
  records: [],
  result: { error, expiryTimestamp: ERROR_TIMESTAMP },
});

/** The token with a new expiry, never past its max lifetime. */
function newExpiry(token: TokenInformation, expiryTimestamp: number): ExpiryChange {
  const expiry = Math.min(token.maxTimestamp, expiryTimestamp);
  return {
    records: [{ type: 'DelegationTokenRecord', ...token, expirationTimestamp: expiry }],
    result: { error: 'NONE', expiryTimestamp: expiry },
  };
}

export function renewDelegationToken(
  image: DelegationTokenImage,
  config: DelegationTokenConfig,
  hmac: Buffer,
  renewPeriodMs: number,
  principal: string,
  now: number,
): ExpiryChange {
  const token = findToken(image, config, hmac);
  if (typeof token === 'string') return refused(token);
  if (expired(token, now)) return refused('DELEGATION_TOKEN_EXPIRED');
  if (!ownerOrRenewer(token, principal)) return refused('DELEGATION_TOKEN_OWNER_MISMATCH');
  const period = renewPeriodMs > 0 ? Math.min(config.expiryTimeMs, renewPeriodMs) : config.expiryTimeMs;
  return newExpiry(token, plus(now, period));
}

export function expireDelegationToken(
  image: DelegationTokenImage,
  config: DelegationTokenConfig,
  hmac: Buffer,
  expiryTimePeriodMs: number,
  principal: string,
  now: number,
): ExpiryChange {
  const token = findToken(image, config, hmac);
  if (typeof token === 'string') return refused(token);
  if (!ownerOrRenewer(token, principal)) return refused('DELEGATION_TOKEN_OWNER_MISMATCH');
  if (expiryTimePeriodMs < 0) {
    return {
      records: [{ type: 'RemoveDelegationTokenRecord', tokenId: token.tokenId }],
      result: { error: 'NONE', expiryTimestamp: now },
    };
  }
  if (expired(token, now)) return refused('DELEGATION_TOKEN_EXPIRED');
  return newExpiry(token, plus(now, expiryTimePeriodMs));
}

/** The tokens past their expiry or max lifetime, removed (Kafka's sweepExpiredDelegationTokens). */
export function sweepExpiredDelegationTokens(
  image: DelegationTokenImage,
  now: number,
): RemoveDelegationTokenRecord[] {
  return image
    .tokens()
    .filter((t) => expired(t, now))
    .map((t) => ({ type: 'RemoveDelegationTokenRecord', tokenId: t.tokenId }));
}
