/**
 * Delegation tokens in the metadata image (Kafka's DelegationTokenImage, KIP-48): each token's
 * owner, requester, renewers and timestamps, built by DelegationTokenRecord (a token created,
 * renewed or given a new expiry) and RemoveDelegationTokenRecord (expired or swept). The token's
 * HMAC is not stored: it is the HMAC-SHA512 of its id under `delegation.token.secret.key`, which
 * every broker computes for itself, as Kafka's do.
 */
import { createHmac } from 'node:crypto';
import type { DelegationTokenRecord, RemoveDelegationTokenRecord } from './records.js';

/** A token as the image holds it: the record without its type (principals as `Type:name`). */
export type TokenInformation = Omit<DelegationTokenRecord, 'type'>;

export type DelegationTokenRecordChange = DelegationTokenRecord | RemoveDelegationTokenRecord;

/** Kafka's DelegationTokenManager.createHmac: HMAC-SHA512 of the token id under the secret key. */
export function tokenHmac(tokenId: string, secretKey: string): Buffer {
  return createHmac('sha512', Buffer.from(secretKey, 'utf8')).update(tokenId, 'utf8').digest();
}

/** Kafka's TokenInformation.ownerOrRenewer. */
export function ownerOrRenewer(token: TokenInformation, principal: string): boolean {
  return token.owner === principal || token.renewers.includes(principal);
}

export class DelegationTokenImage {
  static readonly EMPTY = new DelegationTokenImage(new Map());

  private constructor(private readonly byId: ReadonlyMap<string, TokenInformation>) {}

  token(tokenId: string): TokenInformation | undefined {
    return this.byId.get(tokenId);
  }

  tokens(): TokenInformation[] {
    return [...this.byId.values()];
  }

  /** The token whose HMAC under `secretKey` is `hmac` (what Renew and Expire name a token by). */
  tokenForHmac(hmac: Buffer, secretKey: string): TokenInformation | undefined {
    for (const t of this.byId.values()) if (tokenHmac(t.tokenId, secretKey).equals(hmac)) return t;
    return undefined;
  }

  toRecords(): DelegationTokenRecord[] {
    return [...this.byId.values()].map((t) => ({ type: 'DelegationTokenRecord', ...t }));
  }

  /** The next image; `fail` builds the error thrown on a record that does not fit. */
  apply(
    records: readonly DelegationTokenRecordChange[],
    fail: (message: string) => Error,
  ): DelegationTokenImage {
    if (records.length === 0) return this;
    const byId = new Map(this.byId);
    for (const r of records) {
      if (r.type === 'DelegationTokenRecord') {
        const { type: _type, ...token } = r;
        byId.set(r.tokenId, Object.freeze(token));
      } else if (!byId.delete(r.tokenId)) {
        throw fail(`RemoveDelegationTokenRecord: no delegation token ${r.tokenId}`);
      }
    }
    return new DelegationTokenImage(byId);
  }
}
