import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DelegationTokenImage, ownerOrRenewer, tokenHmac } from './delegation-token-image.js';
import { MetadataImage } from './image.js';
import type { DelegationTokenRecord } from './records.js';

const token = (tokenId: string, expirationTimestamp = 2000): DelegationTokenRecord => ({
  type: 'DelegationTokenRecord',
  tokenId,
  owner: 'User:alice',
  requester: 'User:alice',
  renewers: ['User:bob'],
  issueTimestamp: 1000,
  maxTimestamp: 5000,
  expirationTimestamp,
});

describe('DelegationTokenImage', () => {
  it('adds, replaces and removes tokens; finds one by its HMAC; rebuilds from its records', () => {
    const fail = (m: string) => new Error(m);
    const image = DelegationTokenImage.EMPTY.apply([token('a'), token('b'), token('a', 3000)], fail);
    expect(image.tokens().map((t) => [t.tokenId, t.expirationTimestamp])).toEqual([
      ['a', 3000],
      ['b', 2000],
    ]);
    expect(tokenHmac('b', 's')).toEqual(createHmac('sha512', 's').update('b').digest());
    expect(image.tokenForHmac(tokenHmac('b', 's'), 's')?.tokenId).toBe('b');
    expect(image.tokenForHmac(tokenHmac('b', 'other secret'), 's')).toBeUndefined();
    expect(ownerOrRenewer(image.token('a')!, 'User:bob')).toBe(true);
    expect(ownerOrRenewer(image.token('a')!, 'User:carol')).toBe(false);
    const removed = image.apply([{ type: 'RemoveDelegationTokenRecord', tokenId: 'a' }], fail);
    expect(removed.tokens().map((t) => t.tokenId)).toEqual(['b']);
    expect(() => removed.apply([{ type: 'RemoveDelegationTokenRecord', tokenId: 'a' }], fail)).toThrow(
      'no delegation token a',
    );
    // In the metadata image: its snapshot records rebuild it.
    const meta = MetadataImage.EMPTY.apply([token('a'), token('b')]).image;
    const rebuilt = MetadataImage.EMPTY.apply(meta.toRecords()).image;
    expect(rebuilt.delegationTokens.tokens()).toEqual(meta.delegationTokens.tokens());
  });
});
