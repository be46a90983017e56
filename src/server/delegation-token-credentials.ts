/**
 * Delegation tokens as SCRAM authenticates them (Kafka's DelegationTokenCache credentials, KIP-48):
 * the client's SCRAM user name is the token id and its password the token's HMAC in base64, so the
 * broker derives a SCRAM credential of that password for each mechanism, as Kafka's
 * DelegationTokenManager.prepareScramCredentials does, once per token (cached while the token is in
 * the image). The authenticated principal is the token's owner.
 */
import { tokenHmac } from '../metadata/delegation-token-image.js';
import type { MetadataImage } from '../metadata/image.js';
import { parsePrincipal } from '../security/authorizer.js';
import {
  credentialFromPassword,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanismName,
  type TokenCredential,
} from '../security/sasl/scram.js';

/** Most cached credentials (two mechanisms per token); cleared rather than grown past it. */
const MAX_CACHED = 10_000;

export class DelegationTokenCredentials {
  private readonly cache = new Map<string, ScramCredential>();

  constructor(
    /** delegation.token.secret.key; null: no token authenticates. */
    private readonly secretKey: string | null,
    private readonly image: () => MetadataImage | undefined,
  ) {}

  lookup(tokenId: string, mechanism: ScramMechanismName): TokenCredential | undefined {
    if (this.secretKey === null) return undefined;
    const key = `${mechanism}:${tokenId}`;
    const token = this.image()?.delegationTokens.token(tokenId);
    if (!token) {
      this.cache.delete(key);
      return undefined;
    }
    let credential = this.cache.get(key);
    if (!credential) {
      const password = tokenHmac(tokenId, this.secretKey).toString('base64');
      credential = credentialFromPassword(mechanism, password, SCRAM_MECHANISMS[mechanism].minIterations);
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(key, credential);
    }
    return {
      credential,
      owner: parsePrincipal(token.owner),
      expiryTimestamp: Math.min(token.expirationTimestamp, token.maxTimestamp),
    };
  }
}
