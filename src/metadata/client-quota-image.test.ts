/**
 * Client quotas in the metadata image: ClientQuotaRecords set and remove keys of an entity (its
 * types in any order name the same entity), an entity without keys leaves, images stay values,
 * and toRecords rebuilds the same quotas (a metadata snapshot keeps them).
 */
import { describe, expect, it } from 'vitest';
import { clientQuotaEntityKey } from './client-quota-image.js';
import { MetadataImage } from './image.js';
import type { ClientQuotaRecord } from './records.js';

const rec = (
  entity: Record<string, string | null>,
  key: string,
  value: number | null,
): ClientQuotaRecord => ({
  type: 'ClientQuotaRecord',
  entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
  key,
  value: value ?? 0,
  remove: value === null,
});

describe('ClientQuotasImage', () => {
  it('records set and remove keys; the image is a value; toRecords rebuilds it', () => {
    const { image: one } = MetadataImage.EMPTY.apply([
      rec({ user: 'alice' }, 'producer_byte_rate', 1000),
      rec({ user: 'alice', 'client-id': 'app' }, 'consumer_byte_rate', 5),
      rec({ 'client-id': 'app', user: 'alice' }, 'producer_byte_rate', 7),
      rec({ user: null }, 'producer_byte_rate', 10),
      rec({ ip: '10.0.0.1' }, 'connection_creation_rate', 3),
    ]);
    expect(one.clientQuotas.quotas({ 'client-id': 'app', user: 'alice' })).toEqual(
      new Map([
        ['consumer_byte_rate', 5],
        ['producer_byte_rate', 7],
      ]),
    );
    expect(one.clientQuotas.quotas({ user: null })?.get('producer_byte_rate')).toBe(10);
    // The default user and a user named "null" are different entities.
    expect(clientQuotaEntityKey({ user: null })).not.toBe(clientQuotaEntityKey({ user: 'null' }));
    const { image: two } = one.apply([
      rec({ user: 'alice' }, 'producer_byte_rate', null),
      rec({ ip: '10.0.0.1' }, 'connection_creation_rate', 4),
    ]);
    expect(two.clientQuotas.quotas({ user: 'alice' })).toBeUndefined();
    expect(two.clientQuotas.quotas({ ip: '10.0.0.1' })?.get('connection_creation_rate')).toBe(4);
    expect(one.clientQuotas.quotas({ user: 'alice' })?.get('producer_byte_rate')).toBe(1000);
    expect(two.clientQuotas.entries()).toHaveLength(3);

    const rebuilt = MetadataImage.EMPTY.apply(two.toRecords()).image;
    const byKey = (img: MetadataImage) =>
      Object.fromEntries(
        img.clientQuotas.entries().map((e) => [clientQuotaEntityKey(e.entity), Object.fromEntries(e.quotas)]),
      );
    expect(byKey(rebuilt)).toEqual(byKey(two));
  });
});
