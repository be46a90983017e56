/**
 * Delegation tokens (KIP-48, KIP-373): CreateDelegationToken (key 38, v1–3), RenewDelegationToken
 * (39, v1–2), ExpireDelegationToken (40, v1–2) and DescribeDelegationToken (41, v1–3), as Kafka's
 * KafkaApis and DelegationTokenControlManager answer them (`kafka-delegation-tokens`,
 * Admin.createDelegationToken, ...). Refused with DELEGATION_TOKEN_REQUEST_NOT_ALLOWED on a
 * PLAINTEXT listener, to a one-way-TLS client (SSL, ANONYMOUS) and to a client that authenticated
 * with a token itself (Kafka's allowTokenRequests). A token for another owner (v3) needs
 * CREATE_TOKENS on that USER; renewers must be `User` principals. A token is renewed and expired by
 * its owner or a renewer; described to them, to whom has DESCRIBE on the DELEGATION_TOKEN, and to
 * whom has DESCRIBE_TOKENS on the owner's USER. Without `delegation.token.secret.key`:
 * DELEGATION_TOKEN_AUTH_DISABLED. Clients then authenticate with SCRAM, user name the token id,
 * password the HMAC, and `tokenauth=true` (security/sasl/scram.ts).
 */
import {
  type CreatedToken,
  createDelegationToken,
  type DelegationTokenConfig,
  delegationTokenConfig,
  ERROR_TIMESTAMP,
  type ExpiryChange,
  expireDelegationToken,
  renewDelegationToken,
} from '../metadata/delegation-token-control.js';
import {
  type DelegationTokenImage,
  ownerOrRenewer,
  type TokenInformation,
  tokenHmac,
} from '../metadata/delegation-token-image.js';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  CreateDelegationTokenRequest,
  type CreateDelegationTokenRequestData,
  CreateDelegationTokenResponse,
  type CreateDelegationTokenResponseData,
  DescribeDelegationTokenRequest,
  type DescribeDelegationTokenRequestData,
  DescribeDelegationTokenResponse,
  type DescribeDelegationTokenResponseData,
  ExpireDelegationTokenRequest,
  type ExpireDelegationTokenRequestData,
  ExpireDelegationTokenResponse,
  type ExpireDelegationTokenResponseData,
  RenewDelegationTokenRequest,
  type RenewDelegationTokenRequestData,
  RenewDelegationTokenResponse,
  type RenewDelegationTokenResponseData,
} from '../protocol/generated/messages.js';
import { formatPrincipal, type KafkaPrincipal, parsePrincipal } from '../security/authorizer.js';
import { authorize } from './authz.js';
import { defineHandler, type RequestContext } from './handler.js';

/** A principal of a request (`principalType`, `principalName`) as `Type:name`. */
const requestPrincipal = (p: { principalType: string; principalName: string }) =>
  formatPrincipal({ principalType: p.principalType, name: p.principalName });

/** Kafka's KafkaApis.allowTokenRequests. */
function allowTokenRequests(ctx: RequestContext): boolean {
  if (ctx.principal.tokenAuthenticated) return false;
  const protocol = ctx.configs.endpoints.find((e) => e.name === ctx.listenerName)?.securityProtocol;
  if (protocol === 'PLAINTEXT') return false;
  return !(
    protocol === 'SSL' &&
    ctx.principal.principalType === 'User' &&
    ctx.principal.name === 'ANONYMOUS'
  );
}

export const createDelegationTokenHandler = defineHandler<
  CreateDelegationTokenRequestData,
  CreateDelegationTokenResponseData
>({
  apiKey: 38,
  name: 'CreateDelegationToken',
  minVersion: 1,
  maxVersion: 3,
  request: CreateDelegationTokenRequest,
  response: CreateDelegationTokenResponse,
  async handle(ctx, req) {
    const requester = ctx.principal;
    const owner: KafkaPrincipal =
      req.ownerPrincipalName != null && req.ownerPrincipalName !== ''
        ? { principalType: req.ownerPrincipalType ?? 'User', name: req.ownerPrincipalName }
        : requester;
    const answer = (created: CreatedToken): CreateDelegationTokenResponseData => ({
      errorCode: ErrorCode[created.error],
      principalType: owner.principalType,
      principalName: owner.name,
      tokenRequesterPrincipalType: requester.principalType,
      tokenRequesterPrincipalName: requester.name,
      issueTimestampMs: created.token?.issueTimestamp ?? ERROR_TIMESTAMP,
      expiryTimestampMs: created.token?.expirationTimestamp ?? ERROR_TIMESTAMP,
      maxTimestampMs: created.token?.maxTimestamp ?? ERROR_TIMESTAMP,
      tokenId: created.token?.tokenId ?? '',
      hmac: created.hmac ?? Buffer.alloc(0),
      throttleTimeMs: 0,
    });
    const refused = (errorCode: number) => ({ ...answer({ error: 'NONE' }), errorCode });
    if (!allowTokenRequests(ctx)) return refused(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    const ownerName = formatPrincipal(owner);
    if (ownerName !== formatPrincipal(requester) && !authorize(ctx, 'CREATE_TOKENS', 'USER', ownerName))
      return refused(ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED);
    if (req.renewers.some((r) => r.principalType !== 'User'))
      return refused(ErrorCode.INVALID_PRINCIPAL_TYPE);
    const config = delegationTokenConfig(ctx.configs);
    const now = ctx.time.now();
    const created = await ctx.controller.changeDelegationTokens(() =>
      createDelegationToken(
        config,
        {
          owner: ownerName,
          requester: formatPrincipal(requester),
          renewers: req.renewers.map(requestPrincipal),
          maxLifetimeMs: req.maxLifetimeMs,
        },
        now,
      ),
    );
    return answer(created);
  },
});

type ExpiryAnswer = { errorCode: number; expiryTimestampMs: number; throttleTimeMs: number };

/** Renew and Expire: refused as every token request, else the controller's change of the expiry. */
async function changeExpiry(
  ctx: RequestContext,
  change: (
    tokens: DelegationTokenImage,
    config: DelegationTokenConfig,
    principal: string,
    now: number,
  ) => ExpiryChange,
): Promise<ExpiryAnswer> {
  if (!allowTokenRequests(ctx)) {
    return {
      errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED,
      expiryTimestampMs: ERROR_TIMESTAMP,
      throttleTimeMs: 0,
    };
  }
  const config = delegationTokenConfig(ctx.configs);
  const principal = formatPrincipal(ctx.principal);
  const now = ctx.time.now();
  const r = await ctx.controller.changeDelegationTokens((tokens) => change(tokens, config, principal, now));
  return { errorCode: ErrorCode[r.error], expiryTimestampMs: r.expiryTimestamp, throttleTimeMs: 0 };
}

export const renewDelegationTokenHandler = defineHandler<
  RenewDelegationTokenRequestData,
  RenewDelegationTokenResponseData
>({
  apiKey: 39,
  name: 'RenewDelegationToken',
  minVersion: 1,
  maxVersion: 2,
  request: RenewDelegationTokenRequest,
  response: RenewDelegationTokenResponse,
  handle: (ctx, req) =>
    changeExpiry(ctx, (tokens, config, principal, now) =>
      renewDelegationToken(tokens, config, req.hmac, req.renewPeriodMs, principal, now),
    ),
});

export const expireDelegationTokenHandler = defineHandler<
  ExpireDelegationTokenRequestData,
  ExpireDelegationTokenResponseData
>({
  apiKey: 40,
  name: 'ExpireDelegationToken',
  minVersion: 1,
  maxVersion: 2,
  request: ExpireDelegationTokenRequest,
  response: ExpireDelegationTokenResponse,
  handle: (ctx, req) =>
    changeExpiry(ctx, (tokens, config, principal, now) =>
      expireDelegationToken(tokens, config, req.hmac, req.expiryTimePeriodMs, principal, now),
    ),
});

export const describeDelegationTokenHandler = defineHandler<
  DescribeDelegationTokenRequestData,
  DescribeDelegationTokenResponseData
>({
  apiKey: 41,
  name: 'DescribeDelegationToken',
  minVersion: 1,
  maxVersion: 3,
  request: DescribeDelegationTokenRequest,
  response: DescribeDelegationTokenResponse,
  handle(ctx, req) {
    const fail = (errorCode: number): DescribeDelegationTokenResponseData => ({
      errorCode,
      tokens: [],
      throttleTimeMs: 0,
    });
    if (!allowTokenRequests(ctx)) return fail(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    const { secretKey } = delegationTokenConfig(ctx.configs);
    if (secretKey === null) return fail(ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED);
    // An empty owner list asks for nothing; null for every token the requester may see.
    if (req.owners !== null && req.owners.length === 0) return fail(ErrorCode.NONE);
    const owners = req.owners?.map(requestPrincipal) ?? null;
    const requester = formatPrincipal(ctx.principal);
    // Kafka's DelegationTokenManager.filterToken.
    const eligible = (t: TokenInformation) =>
      (owners === null || owners.some((o) => ownerOrRenewer(t, o))) &&
      (ownerOrRenewer(t, requester) ||
        authorize(ctx, 'DESCRIBE', 'DELEGATION_TOKEN', t.tokenId) ||
        authorize(ctx, 'DESCRIBE_TOKENS', 'USER', t.owner));
    const tokens = (ctx.metadata.delegationTokens?.().tokens() ?? []).filter(eligible).map((t) => {
      const owner = parsePrincipal(t.owner);
      const tokenRequester = parsePrincipal(t.requester);
      return {
        principalType: owner.principalType,
        principalName: owner.name,
        tokenRequesterPrincipalType: tokenRequester.principalType,
        tokenRequesterPrincipalName: tokenRequester.name,
        issueTimestamp: t.issueTimestamp,
        expiryTimestamp: t.expirationTimestamp,
        maxTimestamp: t.maxTimestamp,
        tokenId: t.tokenId,
        hmac: tokenHmac(t.tokenId, secretKey),
        renewers: t.renewers.map((r) => {
          const p = parsePrincipal(r);
          return { principalType: p.principalType, principalName: p.name };
        }),
      };
    });
    return { errorCode: ErrorCode.NONE, tokens, throttleTimeMs: 0 };
  },
});
